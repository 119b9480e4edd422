"""The `rectify` CLI drives an item from demo data to 已销号, as the issue's acceptance walk does."""
import json
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import timedelta
from pathlib import Path

import click
from click.testing import CliRunner
from helpers import TODAY

from engine.cli import main
from engine.demo import DEMO_PASSWORD


def task_of(cli, user, item_id):
    return next(t["id"] for t in cli.json("tasks", "list", "--user", user) if t["item_id"] == item_id)


def test_demo_item_driven_to_closed_through_the_cli(cli, tmp_path):
    out = cli("demo").output
    assert "张伟" in out and DEMO_PASSWORD in out
    assert "未重复建立" in cli("demo").output  # idempotent

    item = next(i for i in cli.json("items", "list") if i["category"] == "立行立改" and i["person"] == "张伟")
    tid = task_of(cli, "张伟", item["id"])
    shown = cli.json("tasks", "show", tid)
    assert shown["signoff"] is False and "measures" in shown["form"]["properties"]
    evidence = tmp_path / "回单.pdf"
    evidence.write_bytes(b"%PDF-1.4 receipt")
    fix = json.dumps({"measures": "追回津贴", "result": "已追回", "completed_on": "2026-11-20"}, ensure_ascii=False)
    cli("tasks", "complete", tid, "--as", "张伟", "--data", fix, "--file", evidence)

    gate = task_of(cli, "李娜", item["id"])
    assert cli.json("tasks", "show", gate)["signoff"] is True
    refused = cli("tasks", "complete", gate, "--as", "李娜", "--data", '{"decision": "approve"}', "--password", "wrong", ok=False)
    assert refused.exit_code == 1 and "密码不正确" in refused.output
    cli("tasks", "complete", gate, "--as", "李娜", "--data", '{"decision": "reject", "opinion": "请补充银行回单"}',
        "--password", DEMO_PASSWORD)
    again = task_of(cli, "张伟", item["id"])
    assert cli.json("tasks", "show", again)["data"]["opinion"] == "请补充银行回单"
    cli("tasks", "complete", again, "--as", "张伟", "--data", fix, "--file", evidence)
    gate = task_of(cli, "李娜", item["id"])
    cli("tasks", "complete", gate, "--as", "李娜", "--data", '{"decision": "approve", "opinion": "同意"}', "--password", DEMO_PASSWORD)
    final = task_of(cli, "陈刚", item["id"])
    result = cli.json("tasks", "complete", final, "--as", "陈刚", "--data", '{"decision": "approve", "opinion": "同意销号"}',
                      "--password", DEMO_PASSWORD)
    assert result["item_status"] == "已销号"

    shown = cli.json("items", "show", item["id"])
    assert shown["status"] == "已销号" and shown["open_tasks"] == []
    assert [(s["signer"], s["decision"], s["opinion"]) for s in shown["signatures"]] == [
        ("李娜", "reject", "请补充银行回单"), ("李娜", "approve", "同意"), ("陈刚", "approve", "同意销号")]
    assert all(len(s["digest"]) == 64 for s in shown["signatures"]) and shown["signature_chain_ok"]
    assert "已销号" in cli("items", "show", item["id"]).output
    assert cli.json("audit", "verify")["ok"] is True


def test_submitter_cannot_sign_their_own_review(cli, tmp_path):
    cli("init-db")
    cli("rounds", "add", "第一轮", "--group", "市委第一巡察组", "--body", "某局", "--feedback-date", "2026-10-01")
    cli("users", "add", "钱进", "--unit", "档案室", "--role", "责任人", "--role", "责任单位负责人", "--password", "qianjin-2026")
    cli("users", "add", "孙丽", "--unit", "局领导", "--role", "分管领导", "--password", "sunli-2026")
    deadline = (TODAY + timedelta(days=30)).isoformat()
    item = cli.json("items", "add", "--round", "第一轮", "--number", "1", "--title", "档案缺失", "--category", "立行立改",
                    "--unit", "档案室", "--person", "钱进", "--leader", "孙丽", "--deadline", deadline)
    tid = task_of(cli, "钱进", item["id"])
    forged = '{"measures": "补齐", "result": "已补齐", "completed_on": "2026-11-20", "evidence": [{"sha256": "' + "a" * 64 + '", "name": "x.pdf", "size": 1}]}'
    refused = cli("tasks", "complete", tid, "--as", "钱进", "--data", forged, ok=False)
    assert refused.exit_code == 1 and "不属于本事项" in refused.output  # evidence must be real files
    (tmp_path / "x.pdf").write_bytes(b"%PDF-1.4 x")
    fix = '{"measures": "补齐", "result": "已补齐", "completed_on": "2026-11-20"}'
    cli("tasks", "complete", tid, "--as", "钱进", "--data", fix, "--file", tmp_path / "x.pdf")
    gate = task_of(cli, "钱进", item["id"])
    refused = cli("tasks", "complete", gate, "--as", "钱进", "--data", '{"decision": "approve"}', "--password", "qianjin-2026", ok=False)
    assert refused.exit_code == 1
    assert refused.output.strip().count("\n") == 0 and "不能自己审签" in refused.output
    assert cli.json("items", "show", item["id"])["signatures"] == []


def test_tick_past_red_threshold_creates_one_accountability_task(cli):
    cli("init-db")
    cli("rounds", "add", "第一轮", "--group", "市委第一巡察组", "--body", "某局", "--feedback-date", "2026-10-01")
    cli("users", "add", "吴磊", "--unit", "纪检监察室", "--role", "纪检监察", "--password", "wulei-2026")
    item = cli.json("items", "add", "--round", "第一轮", "--number", "1", "--title", "账目不清", "--category", "立行立改",
                    "--unit", "财务科", "--person", "张伟", "--leader", "陈刚", "--deadline", "2030-03-31")
    assert cli.json("items", "show", item["id"])["light"] == "绿"
    for _ in range(3):
        report = cli.json("tick", "--now", "2030-05-05T09:00:00+08:00")
    assert cli.json("items", "show", item["id"])["light"] == "红"
    tasks = cli.json("tasks", "list", "--user", "吴磊")
    assert [t["step"] for t in tasks] == ["问责处理"]
    assert report["new_tasks"] == []
    bad = cli("tick", "--now", "yesterday", ok=False)
    assert bad.exit_code == 1 and "--now" in bad.output


def test_errors_are_one_line_and_json_lists_have_ids(cli):
    missing = cli("items", "show", "999", ok=False)
    assert missing.exit_code == 1 and "数据库尚未初始化" in missing.output
    cli("init-db")
    missing = cli("items", "show", "999", ok=False)
    assert missing.exit_code == 1 and missing.output.strip() == "错误：事项 999 不存在"
    bad_date = cli("rounds", "add", "x", "--group", "g", "--body", "b", "--feedback-date", "2026/13/01", ok=False)
    assert bad_date.exit_code == 1 and "反馈日期" in bad_date.output
    bad_role = cli("users", "add", "某人", "--unit", "某科", "--role", "科员", ok=False)
    assert bad_role.exit_code == 1 and "未知角色" in bad_role.output
    cli("users", "add", "某人", "--unit", "某科", "--role", "责任人")
    short = cli("users", "set-password", "某人", "--password", "short", ok=False)
    assert short.exit_code == 1 and "至少需要 8 位" in short.output
    assert "已为 某人" in cli("users", "set-password", "某人", "--unit", "某科", "--password", "long-enough-1").output
    assert next(u for u in cli.json("users", "list") if u["name"] == "某人")["can_login"] is True
    assert all("id" in u for u in cli.json("users", "list"))
    assert all("id" in r for r in cli.json("workflows", "validate") + cli.json("rounds", "list"))


def test_every_command_has_help():
    runner = CliRunner()

    def walk(group, path):
        for name, command in group.commands.items():
            yield [*path, name]
            if isinstance(command, click.Group):
                yield from walk(command, [*path, name])

    paths = list(walk(main, []))
    assert ["files", "prune"] in paths and ["tasks", "complete"] in paths and len(paths) > 30
    for path in paths:
        result = runner.invoke(main, [*path, "--help"])
        assert result.exit_code == 0 and "Usage" in result.output, path


def test_console_script_is_installed(tmp_path):
    script = Path(sys.executable).parent / "rectify"
    result = subprocess.run([str(script), "items", "list"], capture_output=True, text=True,
                            env={"RECTIFY_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}", "PATH": "/usr/bin:/bin"})
    assert result.returncode == 1 and "rectify init-db" in result.stderr and "Traceback" not in result.stderr


def test_serve_answers_under_gunicorn(cli, tmp_path):
    """`make run` ends in `rectify serve`: the real server, with its default workers, serves the login page."""
    cli("demo")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([str(Path(sys.executable).parent / "rectify"), "serve", "--port", str(port)],
                              env={**cli.env, "PATH": "/usr/bin:/bin"}, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline, page = time.monotonic() + 30, None
        while page is None and time.monotonic() < deadline and server.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=5) as response:
                    page = response.read().decode()
            except OSError:
                time.sleep(0.2)
        assert page is not None, "rectify serve did not answer"
        assert "登录" in page
    finally:
        server.terminate()
        output = server.communicate(timeout=30)[0].decode()
    assert "Traceback" not in output


def test_files_prune(cli):
    cli("demo")
    report = cli.json("files", "prune", "--dry-run")
    assert report["dry_run"] is True and report["files"] == 0 and set(report["removed"]) == {"evidence", "documents", "uploads"}
    refused = cli("files", "prune", "--grace-hours", "0.1", ok=False)
    assert refused.exit_code != 0 and "宽限期" in refused.output
