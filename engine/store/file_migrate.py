"""`rectify files migrate`: copy stored files from one backend to another (from the instance folder
into the database or S3 when a deployment grows to several machines, or back). Idempotent: a file
the target has already is left alone, so a run that stopped half-way is simply run again. Each file
is checked against its SHA-256 as it is read; a damaged one is counted and not copied."""
from __future__ import annotations

import re
from dataclasses import replace
from typing import TYPE_CHECKING

from engine.errors import InvalidInput, NotFound
from engine.store import audit
from engine.store.backends import make_store, store_kind
from engine.store.filestore import NAMESPACES

if TYPE_CHECKING:
    from engine.core import Engine

KINDS = ("disk", "database", "s3")
_SHA256 = re.compile(r"[0-9a-f]{64}")


def migrate_files(engine: Engine, target: str, source: str = "disk", actor: str | None = None) -> dict:
    """Copy every file of `source` into `target`; counts per namespace. The audit log keeps the run."""
    if target == source or target not in KINDS or source not in KINDS:
        raise InvalidInput("迁移的来源与目标必须是 disk、database、s3 中两个不同的存储",
                           {"to": f"来源 {source}，目标 {target}"})
    counts = {}
    for namespace in NAMESPACES:
        origin = make_store(replace(engine.settings, file_store=source), engine.db, namespace, with_legacy_disk=False)
        to = make_store(replace(engine.settings, file_store=target), engine.db, namespace, with_legacy_disk=False)
        present = {entry.name for entry in to.entries()}  # one listing instead of a look-up a file
        done = {"copied": 0, "present": 0, "damaged": 0, "bytes": 0}
        for entry in origin.entries():
            if not _SHA256.fullmatch(entry.name):
                continue  # a leftover temporary file of a crashed write
            if entry.name in present:
                done["present"] += 1
                continue
            try:
                content = origin.read(entry.name, verify=True)
            except NotFound:
                done["damaged"] += 1
                continue
            to.put(content, entry.name)
            done["copied"] += 1
            done["bytes"] += len(content)
        counts[namespace] = done
    report = {"id": "files.migrate", "from": source, "to": target, "namespaces": counts,
              "copied": sum(c["copied"] for c in counts.values()), "present": sum(c["present"] for c in counts.values()),
              "damaged": sum(c["damaged"] for c in counts.values()), "bytes": sum(c["bytes"] for c in counts.values()),
              "configured": store_kind(engine.settings)}
    if report["copied"]:
        with engine.db.transaction() as session:
            audit.append(session, "files.migrate", "files", "-", actor, source=source, target=target,
                         copied=report["copied"], bytes=report["bytes"])
    return report
