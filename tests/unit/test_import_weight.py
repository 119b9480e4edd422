"""Libraries only some processes need stay out of the others: `import engine` (every web worker, report
job, timer sweep and CLI command) loads neither cryptography (~10 MB, for signatures: engine/crypto.py)
nor openpyxl (~8 MB, for workbooks) until something signs, verifies, or reads or writes a workbook."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("cryptography", "openpyxl", "docx")


def _loaded_after(code: str) -> list[str]:
    probe = f"import sys\n{code}\nprint(sorted({{m.split('.')[0] for m in sys.modules}} & {set(HEAVY)!r}))"
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, check=True, capture_output=True, text=True)
    return eval(done.stdout.strip().splitlines()[-1])  # noqa: S307 — our own probe's list of names


def test_importing_the_engine_loads_none_of_them():
    assert _loaded_after("import engine\nfrom engine import Engine, Settings") == []


def test_the_first_use_loads_what_it_needs():
    assert _loaded_after("from engine import crypto\ncrypto.hashes.SHA256()") == ["cryptography"]
    assert _loaded_after("from engine.ledger.xlsx.sheet import parse_deadline\nparse_deadline(45000)") == ["openpyxl"]


def test_an_unknown_name_is_an_attribute_error():
    from engine import crypto

    with pytest.raises(AttributeError):
        crypto.not_a_part_of_cryptography  # noqa: B018
