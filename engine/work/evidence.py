"""佐证材料 storage: the upload rules (type, size), the files themselves in a content-addressed store."""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass

from engine.errors import InvalidInput
from engine.store.filestore import FileStore

_ZIP = (b"PK\x03\x04", b"PK\x05\x06")  # Office Open XML, OFD and zip are zip containers
_OLE = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",)  # legacy Office and WPS documents
# What each allowed type's bytes begin with: the extension alone lets a renamed program through.
MAGIC = {
    "pdf": (b"%PDF-",), "png": (b"\x89PNG\r\n\x1a\n",), "jpg": (b"\xff\xd8\xff",), "jpeg": (b"\xff\xd8\xff",),
    "docx": _ZIP, "xlsx": _ZIP, "zip": _ZIP, "ofd": _ZIP, "doc": _OLE, "xls": _OLE, "wps": _OLE + _ZIP,
}


def content_matches(ext: str, content: bytes) -> bool:
    """Whether the bytes look like the type the name claims (types without a known signature pass;
    text must not contain NUL bytes, which no text encoding people use here produces)."""
    if ext == "txt":
        return b"\x00" not in content[:8192]
    return ext not in MAGIC or content.startswith(MAGIC[ext])


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
    def __init__(self, files: FileStore, max_bytes: int, extensions: frozenset[str]):
        self.files = files  # the configured backend (engine/store/filestore.py)
        self.max_bytes = max_bytes
        self.extensions = extensions

    def check(self, upload: Upload) -> None:
        name = upload.name.strip()
        ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
        if not name or ext not in self.extensions:
            allowed = "、".join(sorted(self.extensions))
            raise InvalidInput("文件类型不允许", {"evidence": f"「{name or '（无名文件）'}」的类型不允许，只接受：{allowed}"})
        if len(upload.content) == 0:
            raise InvalidInput("文件为空", {"evidence": f"「{name}」是空文件"})
        if len(upload.content) > self.max_bytes:
            mib = self.max_bytes // (1024 * 1024)
            limit = f"{mib} MB" if mib else f"{self.max_bytes // 1024} KB"
            raise InvalidInput("文件过大", {"evidence": f"「{name}」超过 {limit} 的上限"})
        if not content_matches(ext, upload.content):
            raise InvalidInput("文件内容与类型不符", {
                "evidence": f"「{name}」的内容不是 .{ext} 文件（可能改过扩展名），请上传原始文件"})

    def describe(self, upload: Upload) -> StoredFile:
        """What will identify the file once stored, without writing it."""
        self.check(upload)
        return StoredFile(hashlib.sha256(upload.content).hexdigest(), os.path.basename(upload.name.strip()),
                          len(upload.content))

    def write(self, upload: Upload, described: StoredFile) -> None:
        """Write a described file (once per content; in the database store, in the caller's transaction);
        its hash is not computed again."""
        self.files.put(upload.content, described.sha256)

    def read(self, sha256: str) -> bytes:
        """The file's bytes, refused if they no longer hash to its name: evidence is what the signatures
        vouched for, so a file changed in the store is never handed out as if it were the one signed."""
        return self.files.read(sha256, verify=True)
