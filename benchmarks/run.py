"""Run every benchmark on SQLite and PostgreSQL, print a table and write bench-results.json.

Sign-off password checks use Argon2's cheapest profile in this process: these figures are the
engine's, not Argon2's (the HTTP benchmark runs the server with the real profile)."""
from __future__ import annotations

import os

os.environ.setdefault("RECTIFY_PASSWORD_PROFILE", "test")

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
from datetime import datetime, timezone  # noqa: E402
from pathlib import Path  # noqa: E402

from . import bench_engine  # noqa: E402
from .harness import databases, fresh_engine  # noqa: E402

OUT = Path(__file__).resolve().parent.parent / "bench-results.json"


def machine() -> dict:
    return {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform(),
            "at": datetime.now(timezone.utc).isoformat(timespec="seconds")}


def run(selected: set[str], quick: bool) -> dict:
    results: dict = {"machine": machine(), "databases": {}}
    for db in databases():
        print(f"== {db}", file=sys.stderr)
        r: dict = {}
        if "completion" in selected:
            engine = fresh_engine(db)
            r["completion"] = bench_engine.bench_completion(engine, n=40 if quick else 150)
            r["history"] = bench_engine.bench_history(engine, window=5 if quick else 15)
            engine.close()
        if "inbox" in selected:
            engine = fresh_engine(db)
            r["inbox"] = bench_engine.bench_inbox(engine, tasks=10_000 if quick else 100_000, queries=50 if quick else 300)
            engine.close()
        if "start" in selected:
            from . import bench_import

            r["import"] = bench_import.run(lambda: fresh_engine(db), rows=200 if quick else 2_000)
        if "documents" in selected:
            from . import bench_documents

            engine = fresh_engine(db)
            r["documents"] = bench_documents.run(engine, quick)
            engine.close()
        if "notify" in selected:
            from . import bench_notify

            r["notify"] = bench_notify.run(lambda: fresh_engine(db), tasks=2_000 if quick else 20_000,
                                           users=200 if quick else 2_000)
        if "timers" in selected:
            from . import bench_timers

            r["timers"] = bench_timers.run(lambda: fresh_engine(db), rows=300 if quick else 2_000)
        results["databases"][db] = r
    if "scale" in selected:  # builds its own data set on each database (benchmarks/scale_data.py)
        from . import bench_scale

        results["scale"] = bench_scale.run(quick)
    if "keys" in selected:  # no database: the key's unwrap and the signature
        from . import bench_keys

        results["keys"] = bench_keys.run(samples=5 if quick else 15)
    if "http" in selected and "postgres" not in results["databases"]:
        print("HTTP 基准需要 PostgreSQL（127.0.0.1:5432），已跳过", file=sys.stderr)
    elif "http" in selected:
        from . import bench_http

        results["http"] = bench_http.run(quick)
    return results


def table(results: dict) -> str:
    lines = [f"{'benchmark':<48}" + "".join(f"{db:>22}" for db in results["databases"])]

    def row(label, getter):
        cells = []
        for r in results["databases"].values():
            try:
                cells.append(getter(r))
            except (KeyError, TypeError):
                cells.append("—")
        lines.append(f"{label:<48}" + "".join(f"{c:>22}" for c in cells))

    row("1 完成任务 端到端 median ms", lambda r: f"{r['completion']['engine']['median_ms']:.1f} (p95 {r['completion']['engine']['p95_ms']:.1f})")
    row("1 裸 SpiffWorkflow（缓存 spec）median ms", lambda r: f"{r['completion']['bare_spiff_cached_spec']['median_ms']:.1f}")
    row("1 裸 SpiffWorkflow（默认序列化）median ms", lambda r: f"{r['completion']['bare_spiff_stock_serializer']['median_ms']:.1f}")
    row("1 比值 端到端/裸（目标 SQLite ≤4，PostgreSQL ≤8）", lambda r: f"{r['completion']['ratio_vs_bare']:.2f}")
    row("1 SQL 语句/次完成（含 BEGIN，目标 ≤8）", lambda r: f"{r['completion']['statements_per_completion']:.0f}")
    row("1 任务/秒（单核，目标 ≥100）", lambda r: f"{r['completion']['tasks_per_second_one_core']:.0f}")
    for point in ("5", "50", "500"):
        row(f"2 历史 {point} 个任务后 median ms", lambda r, p=point: f"{r['history'][p]['median_ms']:.1f} (深度 {r['history'][p]['tree_depth']})")
    row("2 比值 500/5（目标 ≤1.5）", lambda r: f"{r['history']['ratio_500_5']:.2f}")
    row("3 收件箱 p50 / p95 ms（目标 p95 ≤50）", lambda r: f"{r['inbox']['median_ms']:.1f} / {r['inbox']['p95_ms']:.1f}")
    row("3 收件箱 未办任务数", lambda r: f"{r['inbox']['open_tasks']:,}")
    row("4 导入并启动事项 秒（目标 2000 个 ≤20）", lambda r: f"{r['import']['import_seconds']:.1f} ({r['import']['rows']} 行)")
    row("4 导入预览 秒 / 峰值内存 MiB", lambda r: f"{r['import']['preview_seconds']:.2f} / {r['import']['peak_mib']:.0f}")
    row("5 销号单 渲染+签名 median ms（目标 ≤500）", lambda r: f"{r['documents']['closure']['median_ms']:.0f} (峰值 {r['documents']['closure']['peak_mib']:.0f} MiB)")
    row("5 签字销号 签字人等待 median ms（销号单提交后生成）", lambda r: f"{r['documents']['closing']['deferred']['median_ms']:.0f}")
    row("5 签字销号 连同销号单 median ms（改前的做法）", lambda r: f"{r['documents']['closing']['inline']['median_ms']:.0f}")
    row("5 提交后生成销号单 median ms", lambda r: f"{r['documents']['closing']['record_after_commit']['median_ms']:.0f}")
    row("5 进展公布 25 项 ms", lambda r: f"{r['documents']['report_25']['median_ms']:.0f}")
    row("5 进展公布 500 项 ms（目标 ≤10000）", lambda r: f"{r['documents']['report_500']['median_ms']:.0f}")
    row("9 定时器 触发/秒（单进程，目标 ≥300）", lambda r: f"{r['timers']['firings_per_second']:.0f} ({r['timers']['timers_fired']} 个)")
    row("7 每日摘要 20000 项待办 秒（目标 ≤60）/ 峰值内存 MiB", lambda r: f"{r['notify']['seconds']:.1f} / {r['notify']['peak_mib']:.0f}")
    if "keys" in results:
        k = results["keys"]
        lines.append(f"8 个人签名 解开密钥+签名 median ms（目标 ≤150；Argon2id t={k['argon2id']['time_cost']}, "
                     f"{k['argon2id']['memory_kib'] // 1024} MiB, p={k['argon2id']['parallelism']}）："
                     f"ECDSA P-256 {k['ecdsa-p256-sha256']['median_ms']:.0f}，RSA 2048 {k['rsa-pkcs1v15-sha256']['median_ms']:.0f}")
    if "scale" in results:
        from .bench_scale import table as scale_table

        lines.append(scale_table(results["scale"]))
    if "http" in results:
        h = results["http"]
        lines.append(f"6 HTTP（gunicorn {h['workers']} 进程 × {h['threads']} 线程，PostgreSQL，{h['users']} 并发用户，{h['seconds']} 秒）："
                     f"{h['requests_per_second']:.0f} 请求/秒，p95 {h['p95_ms']:.0f} ms，完成任务 {h['tasks_completed']}，"
                     f"意外错误 {h['unexpected_errors']}，409 {h['conflicts']}")
    return "\n".join(lines)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description="整改流程引擎基准测试")
    parser.add_argument("--only", default="completion,inbox,start,documents,notify,timers,keys,http,scale")
    parser.add_argument("--quick", action="store_true", help="small sizes, to check the benchmarks run")
    args = parser.parse_args(argv)
    results = run(set(args.only.split(",")), args.quick)
    OUT.write_text(json.dumps(results, ensure_ascii=False, indent=2))
    print(table(results))
    print(f"\n结果已写入 {OUT}")


if __name__ == "__main__":
    main()
