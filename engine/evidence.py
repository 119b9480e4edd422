"""佐证材料 storage: the upload rules (type, size), the files themselves in a content-addressed store."""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from .errors import InvalidInput
from .filestore import ContentStore


@dataclass(frozen=True)
class Upload:
    """A file as the user gave it: its name and its bytes."""

    name: str
    content: bytes


@dataclass(frozen=True)
class StoredFile:
    sha256: str
    name: str
    size: int

    def as_data(self) -> dict:
        return {"sha256": self.sha256, "name": self.name, "size": self.size}


class EvidenceStore:
    def __init__(self, root: Path, max_bytes: int, extensions: frozenset[str]):
        self.files = ContentStore(root)
        self.max_bytes = max_bytes
        self.extensions = extensions

    def path_of(self, sha256: str) -> Path:
        return self.files.path_of(sha256)

    def check(self, upload: Upload) -> None:
        name = upload.name.strip()
        ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
        if not name or ext not in self.extensions:
            allowed = "、".join(sorted(self.extensions))
            raise InvalidInput("文件类型不允许", {"evidence": f"「{name or '（无名文件）'}」的类型不允许，只接受：{allowed}"})
        if len(upload.content) == 0:
            raise InvalidInput("文件为空", {"evidence": f"「{name}」是空文件"})
        if len(upload.content) > self.max_bytes:
            limit = self.max_bytes // (1024 * 1024)
            raise InvalidInput("文件过大", {"evidence": f"「{name}」超过 {limit} MB 的上限"})

    def describe(self, upload: Upload) -> StoredFile:
        """What will identify the file once stored, without writing it."""
        self.check(upload)
        return StoredFile(hashlib.sha256(upload.content).hexdigest(), os.path.basename(upload.name.strip()),
                          len(upload.content))

    def store(self, upload: Upload) -> StoredFile:
        """Write the file (atomically, once per content) and return what identifies it."""
        described = self.describe(upload)
        self.files.put(upload.content)
        return described

    def read(self, sha256: str) -> bytes:
        return self.files.read(sha256)
