"""10. Long documents in bounded memory: the public progress report (PDF) and the 整改情况报告 (PDF and
.docx) of a round of 2,000 imported problems (200 with --quick). Target (issue 16): each ≤ 150 MB and ≤ 8 s.

Each document is made in a fresh Python process, from reading the round to the file written, so that its
peak resident memory (ru_maxrss: the whole process, the engine's imports included) is its own. For
comparison, the progress report is also laid out at once (the way every report was made before windows).
The round lives in a SQLite database of its own: reading it is a fraction of a second, the rest is layout."""
from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ROUND = "报告基准"
DOCUMENTS = ("progress.pdf", "upward.pdf", "upward.docx")


def _engine(folder: Path):
    from dataclasses import replace

    from engine import Engine, Settings

    return Engine(replace(Settings.from_env(), database_url=f"sqlite:///{folder / 'bench.db'}",
                          instance_path=folder / "instance"))


def _build(folder: Path, items: int) -> float:
    from engine.ledger.rounds import add_round
    from engine.ledger.xlsx.importing import apply_import

    from .bench_import import big_ledger
    from .harness import fresh_engine

    start = time.perf_counter()
    engine = fresh_engine("sqlite", folder)
    add_round(engine, ROUND, "市委第三巡察组", "市政工程管理处", date.today() - timedelta(days=20))
    apply_import(engine, ROUND, big_ledger(items), actor="bench")
    engine.close()
    return time.perf_counter() - start


def measure(folder: Path, document: str, out: Path) -> dict:
    """In the child process: make one document, return time, CPU time, peak memory, pages."""
    engine = _engine(folder)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu, start = usage.ru_utime + usage.ru_stime, time.perf_counter()
    pages = None
    if document == "progress.pdf" or document == "progress-whole.pdf":
        from engine.reports.progress import progress_report, write_progress_pdf

        with out.open("wb") as file:
            pages = write_progress_pdf(progress_report(engine, ROUND), file,
                                       **({"chunk": 10**9} if document == "progress-whole.pdf" else {}))
    elif document == "upward.pdf":
        from engine.reports.upward import upward_report, write_upward_pdf

        with out.open("wb") as file:
            pages = write_upward_pdf(upward_report(engine, ROUND), file)
    else:
        from engine.reports.upward import render_upward_docx, upward_report

        out.write_bytes(render_upward_docx(upward_report(engine, ROUND)))
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {"seconds": time.perf_counter() - start, "cpu_seconds": usage.ru_utime + usage.ru_stime - cpu,
            "peak_rss_mib": _peak_rss_kib(usage) / 1024, "pages": pages, "kib": out.stat().st_size // 1024}


def _peak_rss_kib(usage) -> float:
    """This process's own peak: VmHWM on Linux. ru_maxrss is kept across exec, so a child started by a
    large parent (make bench, after the scale section) would report the parent's size."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return float(line.split()[1])
    except OSError:
        pass
    return usage.ru_maxrss


def _child(folder: Path, document: str) -> dict:
    with tempfile.TemporaryDirectory() as scratch:
        done = subprocess.run([sys.executable, "-m", "benchmarks.bench_reports", str(folder), document,
                               str(Path(scratch) / document)], cwd=ROOT, check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def run(quick: bool = False) -> dict:
    items = 200 if quick else 2_000
    with tempfile.TemporaryDirectory(prefix="rectify-bench-reports-") as scratch:
        folder = Path(scratch)
        result = {"items": items, "import_seconds": _build(folder, items)}
        for document in (*DOCUMENTS, "progress-whole.pdf"):
            result[document] = _child(folder, document)
    return result


def table(result: dict) -> str:
    """Lines for benchmarks/run.py's table."""
    lines = []
    for document, label in (("progress.pdf", "进展公布 PDF"), ("upward.pdf", "整改情况报告 PDF"),
                            ("upward.docx", "整改情况报告 .docx"), ("progress-whole.pdf", "进展公布 PDF 一次排版（对照）")):
        r = result[document]
        pages = f"，{r['pages']} 页" if r["pages"] else ""
        lines.append(f"10 {label} {result['items']} 项（目标 ≤8 秒、≤150 MB）：{r['seconds']:.1f} 秒"
                     f"（CPU {r['cpu_seconds']:.1f}），峰值 {r['peak_rss_mib']:.0f} MB{pages}，{r['kib']} KiB")
    return "\n".join(lines)


if __name__ == "__main__":
    if len(sys.argv) == 4:  # the child: folder, document, output file
        print(json.dumps(measure(Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3]))))
    else:  # python -m benchmarks.bench_reports [--quick]
        results = run("--quick" in sys.argv)
        print(json.dumps(results, ensure_ascii=False, indent=2))
        print(table(results))
