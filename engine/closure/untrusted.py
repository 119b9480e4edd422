"""Reading a PDF nobody vouches for — an upload to /verify that is not byte for byte a record this
system made — in a child process with bounded memory and CPU time. A crafted file (a compressed
stream that unpacks to gigabytes, an object graph that never ends) then costs a short-lived child,
never a web worker; what the child found comes back as plain JSON."""
from __future__ import annotations

import base64
import json
import os
import resource
import subprocess
import sys
from datetime import datetime

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from engine.closure.pades import SignatureCheck, check_pdf
from engine.closure.pdf import ATTACHMENT
from engine.config import REPO_ROOT

MEMORY = 400 * 1024 * 1024  # beyond what the child has once its libraries are loaded
CPU_SECONDS = 20
UNREADABLE = "文件无法在限定的资源内解析为 PDF：可能已损坏，或是特意构造的文件"


def embedded_record(check: SignatureCheck) -> dict | None:
    """The record the PDF carries as its attachment, or None if it cannot be read."""
    try:
        names = check.reader.root["/Names"]["/EmbeddedFiles"]["/Names"]
        for i in range(0, len(names), 2):
            spec = names[i + 1]
            if str(spec.get("/UF", spec.get("/F"))) == ATTACHMENT or str(names[i]) == ATTACHMENT:
                return json.loads(spec["/EF"]["/F"].data.decode("utf-8"))
    except Exception:  # noqa: BLE001 — a damaged or foreign file simply carries no readable record
        return None
    return None


def _pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode("ascii")


def check_untrusted_pdf(data: bytes, trusted: list[x509.Certificate],
                        others: list[x509.Certificate]) -> tuple[SignatureCheck, dict | None]:
    """check_pdf and the embedded record, computed in a resource-limited child process."""
    request = json.dumps({"pdf": base64.b64encode(data).decode("ascii"), "trusted": [_pem(c) for c in trusted],
                          "others": [_pem(c) for c in others]})
    try:
        done = subprocess.run([sys.executable, "-m", "engine.closure.untrusted"], input=request, text=True,
                              capture_output=True, timeout=CPU_SECONDS * 3, cwd=REPO_ROOT)
    except subprocess.TimeoutExpired:
        return SignatureCheck(problems=[UNREADABLE]), None
    if done.returncode != 0:
        return SignatureCheck(problems=[UNREADABLE]), None
    found = json.loads(done.stdout)
    check = SignatureCheck(
        parsed=found["parsed"], found=found["found"], intact=found["intact"], valid=found["valid"],
        whole_file=found["whole_file"], trusted=found["trusted"], problems=found["problems"],
        signer=x509.load_pem_x509_certificate(found["signer"].encode("ascii")) if found["signer"] else None,
        signing_time=datetime.fromisoformat(found["signing_time"]) if found["signing_time"] else None)
    return check, found["embedded"]


def _limit_this_process() -> None:
    with open("/proc/self/statm") as statm:
        loaded = int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    resource.setrlimit(resource.RLIMIT_AS, (loaded + MEMORY, loaded + MEMORY))
    resource.setrlimit(resource.RLIMIT_CPU, (CPU_SECONDS, CPU_SECONDS))


def _child() -> None:
    request = json.loads(sys.stdin.read())
    trusted = [x509.load_pem_x509_certificate(p.encode("ascii")) for p in request["trusted"]]
    others = [x509.load_pem_x509_certificate(p.encode("ascii")) for p in request["others"]]
    data = base64.b64decode(request["pdf"])
    check_pdf(b"", trusted)  # load pyHanko's modules before the limits: they are not the file's cost
    _limit_this_process()
    check = check_pdf(data, trusted, others)
    embedded = embedded_record(check) if check.parsed else None
    print(json.dumps({
        "parsed": check.parsed, "found": check.found, "intact": check.intact, "valid": check.valid,
        "whole_file": check.whole_file, "trusted": check.trusted, "problems": check.problems,
        "signer": _pem(check.signer) if check.signer is not None else None,
        "signing_time": check.signing_time.isoformat() if check.signing_time else None, "embedded": embedded,
    }, ensure_ascii=False))


if __name__ == "__main__":
    _child()
