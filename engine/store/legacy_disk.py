"""Files an upgraded deployment still keeps on this machine's disk, behind its shared store.

Before shared stores existed every deployment kept its files in the instance folder (`instance/evidence`,
`instance/documents`, `instance/uploads`). A PostgreSQL deployment upgraded to a version whose default is
the database store would otherwise find every older file missing: downloads fail, closure records do not
verify, `doctor` lists them all. So while the folder of a namespace still holds files, the shared store is
put in front of it: new files go to the shared store; a file the shared store lacks is read from the disk;
listings (backup, doctor, prune) show both. `rectify files migrate --to database` (or `--to s3`) copies
the disk's files over, which other machines need; `doctor` names the files still only on this disk.
"""
from __future__ import annotations

from datetime import datetime
from typing import Iterator

from engine.store.filestore import DiskStore, Entry, FileStore


class WithLegacyDisk(FileStore):
    def __init__(self, shared: FileStore, disk: DiskStore):
        super().__init__(shared.namespace)
        self.shared, self.disk = shared, disk
        self.kind = shared.kind

    def _put(self, digest: str, content: bytes) -> None:
        self.shared._put(digest, content)

    def _fetch(self, sha256: str) -> bytes | None:
        content = self.shared._fetch(sha256)
        return content if content is not None else self.disk._fetch(sha256)

    def exists(self, sha256: str) -> bool:
        return self.shared.exists(sha256) or self.disk.exists(sha256)

    def entries(self) -> Iterator[Entry]:
        seen = set()
        for entry in self.shared.entries():
            seen.add(entry.name)
            yield entry
        for entry in self.disk.entries():
            if entry.name not in seen:
                yield entry

    def _remove(self, name: str, unused_since: datetime | None) -> bool:
        removed = self.shared._remove(name, unused_since)
        return self.disk._remove(name, unused_since) or removed


def has_files(disk: DiskStore) -> bool:
    return disk.root.is_dir() and any(path.is_file() for path in disk.root.glob("*/*"))
