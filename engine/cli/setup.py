"""init-db, demo, serve."""
from __future__ import annotations

import os

import click

from engine.cli.base import emit, handled, main
from engine.closure import signing
from engine.demo import DEMO_BODY, DEMO_PASSWORD, install_demo
from engine.integrity import key_history
from engine.process.deploy import deploy_defaults
from engine.store import schema


@main.command("init-db")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON")
@click.pass_obj
@handled
def init_db(ctx, as_json):
    """创建或升级数据库结构，并部署 workflows/ 中的默认流程（三类整改路径与回头看）。"""
    engine = ctx.engine(require_schema=False)
    revision = schema.upgrade(engine)
    key_history(engine)  # an upgraded database starts its keyed audit chain now
    versions = deploy_defaults(engine, actor="init-db")
    emit({"id": revision, "revision": revision, "processes": versions}, as_json, lambda v: "\n".join(
        [f"数据库已就绪（结构版本 {v['revision']}）：{engine.settings.database_url}"]
        + [f"  流程 {p['process_id']}：版本 {p['id']}（{p['hash'][:12]}）" for p in v["processes"]]))


@main.command()
@click.option("--json", "as_json", is_flag=True, help="输出 JSON")
@click.pass_obj
@handled
def demo(ctx, as_json):
    """建立演示数据：演示单位、用户（打印密码）、一个含三类问题的巡察轮次，以及开发用签名证书（没有时）。已有则不重复建立。"""
    engine = ctx.engine(require_schema=False)
    schema.upgrade(engine)
    key_history(engine)
    deploy_defaults(engine, actor="demo")
    result = install_demo(engine)
    if not signing.is_configured(engine):  # so that closing an item yields a signed 销号单 at once
        signing.init_dev_certificate(engine, DEMO_BODY, actor="demo")
    result["certificate"] = signing.certificate_info(engine).get("subject")
    emit(result, as_json, _demo_text)


def _demo_text(result) -> str:
    lines = ["演示数据已存在，未重复建立。" if not result["created"] else f"已建立演示轮次「{result['round']}」及 {len(result['items'])} 个问题。",
             f"演示账号（密码均为 {DEMO_PASSWORD}）："]
    lines += [f"  {u['name']:<6} {u['unit']:<16} {'、'.join(u['roles'])}" for u in result["users"]]
    lines.append(f"销号单签名证书：{result['certificate']}（rectify signing show 查看）")
    return "\n".join(lines)


def default_workers() -> int:
    """Two processes per core: a request is mostly Python (CPU, one core at a time under the GIL), and
    the second process keeps a core busy while the first waits on the database. One thread each:
    threads in one process only contend for its GIL (docs/performance.md §6 measured both)."""
    return 2 * (os.cpu_count() or 1)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="监听地址")
@click.option("--port", default=5000, show_default=True, type=int, help="端口")
@click.option("--workers", default=default_workers, show_default="每核 2 个", type=int, help="工作进程数（gunicorn）")
@click.option("--threads", default=1, show_default=True, type=int,
              help="每个进程的线程数（请求以 CPU 为主，多线程只会争用同一进程的 GIL）")
@click.pass_obj
@handled
def serve(ctx, host, port, workers, threads):
    """启动网页界面（gunicorn）。定时任务请另行用 cron 等定期运行 rectify tick。"""
    from gunicorn.app.base import BaseApplication

    from web import create_app, settle_heap

    ctx.engine()  # refuses a database that is not initialised or not up to date

    class Server(BaseApplication):
        def load_config(self):
            for key, value in {"bind": f"{host}:{port}", "workers": workers, "threads": threads,
                               "accesslog": "-", "timeout": 60,
                               "post_worker_init": lambda worker: settle_heap()}.items():
                self.cfg.set(key, value)

        def load(self):
            return create_app()

    click.echo(f"整改流程引擎：http://{host}:{port}")
    Server().run()
