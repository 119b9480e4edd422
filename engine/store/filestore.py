"""Stored files (evidence, closure records, ledgers awaiting confirmation), named by their SHA-256 so
identical files are stored once and any change is detectable. One contract, three places to keep
them (`RECTIFY_FILE_STORE`): the local disk (one machine), the database (several machines on one
PostgreSQL, engine/store/blobs.py) or an S3-compatible service (engine/store/s3store.py), chosen in
engine/store/backends.py.

Every store keeps a last-used time per file: storing content again renews it, so `rectify files
prune` (engine/store/file_prune.py) never removes a file an action in progress is about to refer to."""
from __future__ import annotations

import hashlib
import os
import tempfile
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

from engine.errors import NotFound

NAMESPACES = ("evidence", "documents", "uploads")  # 佐证材料, 销号单, 待导入台账


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


def utc_now() -> datetime:
    """Last-used times are the machine's real time (like a file's mtime), not the engine's clock."""
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class Entry:
    """One stored file as a listing shows it: its name (the SHA-256, or a leftover temporary name on
    disk), its size and when it was last stored."""

    name: str
    size: int
    used_at: datetime


class FileStore(ABC):
    """The contract of every backend; subclasses give `_put`, `_fetch`, `exists`, `entries`, `_remove`."""

    kind = ""

    def __init__(self, namespace: str):
        self.namespace = namespace

    def put(self, content: bytes, digest: str | None = None) -> str:
        """Store the bytes (once per content; storing them again renews their last-used time) and return
        their SHA-256 (`digest` if the caller has it)."""
        digest = digest or hashlib.sha256(content).hexdigest()
        self._put(digest, content)
        return digest

    def read(self, sha256: str, verify: bool = False) -> bytes:
        """The stored bytes; with `verify`, refuse a file whose content no longer has its name's hash."""
        content = self._fetch(sha256)
        if content is None:
            raise NotFound(f"文件 {sha256[:12]}… 不在文件库中")
        if verify and hashlib.sha256(content).hexdigest() != sha256:
            raise NotFound(f"文件 {sha256[:12]}… 在文件库中已损坏（内容与其 SHA-256 不符）")
        return content

    def delete(self, name: str, unused_since: datetime | None = None) -> bool:
        """Remove a file — with `unused_since`, only if it was not stored again after that moment (looked
        at again just before it goes). Whether it was removed."""
        return self._remove(name, unused_since)

    @abstractmethod
    def exists(self, sha256: str) -> bool: ...

    @abstractmethod
    def entries(self) -> Iterator[Entry]: ...

    @abstractmethod
    def _put(self, digest: str, content: bytes) -> None: ...

    @abstractmethod
    def _fetch(self, sha256: str) -> bytes | None: ...

    @abstractmethod
    def _remove(self, name: str, unused_since: datetime | None) -> bool: ...


class DiskStore(FileStore):
    """`<root>/<sha[:2]>/<sha>`, written atomically; the file's mtime is its last-used time."""

    kind = "disk"

    def __init__(self, root: Path, namespace: str = ""):
        super().__init__(namespace or root.name)
        self.root = root

    def _path(self, name: str) -> Path:
        # A leftover temporary file is listed by its relative path: its name alone says no folder.
        return self.root / name if "/" in name else self.root / name[:2] / name

    def _put(self, digest: str, content: bytes) -> None:
        target = self._path(digest)
        try:
            os.utime(target)  # stored already: mark it as just used, so pruning leaves it alone
        except FileNotFoundError:
            target.parent.mkdir(parents=True, exist_ok=True)
            write_atomically(target, content)

    def _fetch(self, sha256: str) -> bytes | None:
        try:
            return self._path(sha256).read_bytes()
        except FileNotFoundError:
            return None

    def exists(self, sha256: str) -> bool:
        return self._path(sha256).is_file()

    def entries(self) -> Iterator[Entry]:
        """Every file in the store, leftover temporary files of a crashed write included."""
        if not self.root.is_dir():
            return
        for path in sorted(self.root.glob("*/*")):
            try:
                stat = path.stat()
            except FileNotFoundError:
                continue
            if path.is_file():
                name = path.name if not path.name.startswith(".") else f"{path.parent.name}/{path.name}"
                yield Entry(name, stat.st_size, datetime.fromtimestamp(stat.st_mtime, timezone.utc))

    def _remove(self, name: str, unused_since: datetime | None) -> bool:
        path = self._path(name)
        try:
            if unused_since is not None and datetime.fromtimestamp(path.stat().st_mtime, timezone.utc) > unused_since:
                return False
            path.unlink()
        except FileNotFoundError:
            return False
        return True
