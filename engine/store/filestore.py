"""Content-addressed files on disk: each file is named by its SHA-256 (`<root>/<sha[:2]>/<sha>`), written
atomically once per content, so identical files are stored once and any change is detectable."""
from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import Iterator

from engine.errors import NotFound


def write_atomically(path: Path, data: bytes, mode: int | None = None) -> None:
    """Temp file in the same folder, fsync, rename: a crash never leaves half a file behind."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
    try:
        if mode is not None:
            os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class ContentStore:
    def __init__(self, root: Path):
        self.root = root

    def path_of(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256

    def put(self, content: bytes, digest: str | None = None) -> str:
        """Store the bytes (once per content) and return their SHA-256 (`digest` if the caller has it)."""
        digest = digest or hashlib.sha256(content).hexdigest()
        target = self.path_of(digest)
        try:
            os.utime(target)  # stored already: mark it as just used, so pruning leaves it alone
        except FileNotFoundError:
            target.parent.mkdir(parents=True, exist_ok=True)
            write_atomically(target, content)
        return digest

    def files(self) -> Iterator[Path]:
        """Every file in the store, leftover temporary files of a crashed write included."""
        if self.root.is_dir():
            yield from (path for path in sorted(self.root.glob("*/*")) if path.is_file())

    def read(self, sha256: str, verify: bool = False) -> bytes:
        """The stored bytes; with `verify`, refuse a file whose content no longer has its name's hash."""
        try:
            content = self.path_of(sha256).read_bytes()
        except FileNotFoundError:
            raise NotFound(f"文件 {sha256[:12]}… 不在文件库中") from None
        if verify and hashlib.sha256(content).hexdigest() != sha256:
            raise NotFound(f"文件 {sha256[:12]}… 在文件库中已损坏（内容与其 SHA-256 不符）")
        return content
