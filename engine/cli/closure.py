"""signing init/use/show/use-ca, items closure/signatures, pdf verify."""
from __future__ import annotations

from pathlib import Path

import click

from engine.cli.base import emit, fail, handled, local_time, main
from engine.cli.ledger import items
from engine.closure import authority, signing
from engine.closure.records import latest_closure_pdf, signature_chain_bytes, signature_chain_json
from engine.closure.verification import verify_pdf
from engine.errors import InvalidInput


@main.group("signing")
def signing_group():
    """本单位的签名证书（用于销号单的数字签名）。"""


@signing_group.command("init")
@click.option("--body", help="单位名称（默认取最近一个巡察轮次的被巡察单位）")
@click.option("--force", is_flag=True, help="已有证书时也替换（旧证书保留用于核验旧文件，其私钥删除）")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON")
@click.pass_obj
@handled
def signing_init(ctx, body, force, as_json):
    """生成开发用的自签名证书（EC P-256，有效期两年），存放在实例目录 signing/ 下。"""
    engine = ctx.engine()
    body = body or signing.body_name_guess(engine)
    if not body:
        raise InvalidInput("请用 --body 给出单位名称", {"body": "尚无巡察轮次，无法推断单位名称"})
    info = signing.init_dev_certificate(engine, body, actor="cli", replace=force)
    emit(info, as_json, lambda i: f"已生成开发用签名证书：{i['subject']}\n  指纹（SHA-256）：{i['fingerprint']}\n"
         f"  有效期至 {local_time(i['not_after'])}；仅供开发测试，正式使用请运行 rectify signing use 证书 私钥")


@signing_group.command("use")
@click.argument("cert", type=click.Path(dir_okay=False, exists=True))
@click.argument("key", type=click.Path(dir_okay=False, exists=True))
@click.option("--chain", "chain", multiple=True, type=click.Path(dir_okay=False, exists=True),
              help="CA 证书链文件（PEM），可多次给出")
@click.option("--passphrase", help="私钥口令（私钥加密时）")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON")
@click.pass_obj
@handled
def signing_use(ctx, cert, key, chain, passphrase, as_json):
    """安装正式签名证书及其私钥（校验二者匹配、证书在有效期内且可用于签名）。"""
    info = signing.use_certificate(ctx.engine(), Path(cert), Path(key), tuple(Path(c) for c in chain), passphrase,
                                   actor="cli")
    emit(info, as_json, lambda i: f"已启用签名证书：{i['subject']}（颁发者：{i['issuer']}）\n"
         f"  指纹（SHA-256）：{i['fingerprint']}\n  有效期至 {local_time(i['not_after'])}")


def _certificate_text(i: dict) -> str:
    if not i["configured"]:
        return f"签名证书：未配置\n  {i['message']}"
    lines = [
        f"签名证书：{i['subject']}{'（开发用自签名证书）' if i['development'] else ''}",
        f"  状态：{i['status']}（{local_time(i['not_before'])} 至 {local_time(i['not_after'])}，剩余 {i['days_left']} 天）",
        f"  颁发者：{i['issuer']}{'（自签名）' if i['self_signed'] else ''}",
        f"  指纹（SHA-256）：{i['fingerprint']}",
        f"  密钥：{i['key']}{'' if i['key_present'] else '（私钥缺失！）'}",
    ]
    lines += [f"  证书链：{c}" for c in i["chain"]]
    lines += [f"  已停用：{r['subject']}（{r['fingerprint'][:16]}…，至 {local_time(r['not_after'])}）" for r in i["retired"]]
    return "\n".join(lines)


@signing_group.command("show")
@click.option("--ca", "ca", is_flag=True, help="输出本单位签名证书颁发机构（CA）的证书（PEM），用于离线核验个人签名")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON")
@click.pass_obj
@handled
def signing_show(ctx, ca, as_json):
    """显示正在使用的签名证书及其有效期；加 --ca 输出签发个人签名证书的 CA 证书。"""
    if ca:
        info = authority.authority_info(ctx.engine())
        emit(info, as_json, lambda i: i["pem"].rstrip("\n"))
        return
    emit(signing.certificate_info(ctx.engine(require_schema=False)), as_json, _certificate_text)


@signing_group.command("use-ca")
@click.argument("cert", type=click.Path(dir_okay=False, exists=True))
@click.argument("key", type=click.Path(dir_okay=False, exists=True))
@click.option("--chain", "chain", multiple=True, type=click.Path(dir_okay=False, exists=True),
              help="上级 CA 证书链文件（PEM），可多次给出")
@click.option("--passphrase", help="私钥口令（私钥加密时）")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON")
@click.pass_obj
@handled
def signing_use_ca(ctx, cert, key, chain, passphrase, as_json):
    """安装本单位自己的签名证书颁发机构（CA）证书及私钥；此后签发的个人证书由它签发，此前的仍可核验。"""
    info = authority.use_authority(ctx.engine(), Path(cert), Path(key), tuple(Path(c) for c in chain), passphrase,
                                   actor="cli")
    emit({k: v for k, v in info.items() if k != "pem"} if as_json else info, as_json,
         lambda i: f"已启用签名证书颁发机构：{i['subject']}\n  指纹（SHA-256）：{i['fingerprint']}\n"
                   f"  有效期至 {local_time(i['not_after'])}；已签发的个人证书在其下次签发前继续有效")


@items.command("closure")
@click.argument("item_id", type=int)
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False), help="写出的 PDF 文件")
@click.option("--regenerate", is_flag=True, help="重新生成并签署一份新的销号单（旧的保留）")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON")
@click.pass_obj
@handled
def items_closure(ctx, item_id, out, regenerate, as_json):
    """写出问题的销号单（最新一份；没有时生成）。"""
    document, pdf = latest_closure_pdf(ctx.engine(), item_id, actor="cli", regenerate=regenerate)
    Path(out).write_bytes(pdf)
    emit(document | {"out": out}, as_json, lambda d: f"已写出问题 {item_id} 的销号单：{out}\n"
         f"  核验码 {d['verification_code']}，生成于 {local_time(d['created_at'])}，SHA-256 {d['sha256']}")


@items.command("signatures")
@click.argument("item_id", type=int)
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False), help="写出的 JSON 文件")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON")
@click.pass_obj
@handled
def items_signatures(ctx, item_id, out, as_json):
    """把问题的签字链导出为 JSON（含重新计算每个摘要所需的全部内容）。"""
    engine = ctx.engine()
    Path(out).write_bytes(signature_chain_bytes(engine, item_id))
    chain = signature_chain_json(engine, item_id)
    emit({"id": item_id, "out": out, "count": chain["count"], "chain_ok": chain["chain_ok"],
          "chain_problem": chain["chain_problem"]}, as_json,
         lambda v: f"已写出问题 {item_id} 的签字链（{v['count']} 个签字，"
                   f"{'链条完整' if v['chain_ok'] else '链条异常：' + v['chain_problem']}）：{out}")


@main.group("pdf")
def pdf_group():
    """PDF 文件。"""


def _report_text(r: dict) -> str:
    lines = ["核验通过" if r["ok"] else "核验未通过"]
    if r["signer"]:
        lines.append(f"  签署者：{r['signer']}")
    if r["signing_time_local"]:
        lines.append(f"  签署时间：{r['signing_time_local']}（北京时间）")
    if r["item"]:
        i = r["item"]
        lines.append(f"  问题：{i['id']}（{i['round']} 第 {i['number']} 号）{i['title']}，当前状态 {i['status']}")
    if r["verification_code"]:
        lines.append(f"  核验码：{r['verification_code']}")
    lines += [f"  {'✓' if c['ok'] else '✗'} {c['name']}：{c['message']}" for c in r["checks"]]
    return "\n".join(lines)


@pdf_group.command("verify")
@click.argument("file", type=click.Path(dir_okay=False, exists=True))
@click.option("--json", "as_json", is_flag=True, help="输出 JSON")
@click.pass_obj
@handled
def pdf_verify(ctx, file, as_json):
    """核验销号单：签名完整、由本单位证书签署、与数据库记录一致时以 0 退出，否则以 1 退出。"""
    report = verify_pdf(ctx.engine(), Path(file).read_bytes()).as_dict()
    emit(report, as_json, _report_text)
    if not report["ok"]:
        if not as_json:
            fail(report["summary"])
        raise SystemExit(1)
