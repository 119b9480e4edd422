"""Secrets kept outside the database, in the instance folder (or given by the environment): files
born readable by their owner only and appearing whole — written under a temporary name, then
linked into place, which fails if another process got there first, so every process reads the
same secret."""
from __future__ import annotations

import os
import secrets
from pathlib import Path

AUDIT_KEY_ENV = "RECTIFY_AUDIT_KEY"


def secret_file(path: Path, nbytes: int = 32) -> str:
    """The hex secret in `path`, created (0600, atomically) if missing."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        temporary = path.parent / f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}"
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write(secrets.token_hex(nbytes))
            file.flush()
            os.fsync(file.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass  # another process's secret is the secret
        finally:
            temporary.unlink()
    return path.read_text().strip()


def audit_key(instance_path: Path) -> bytes:
    """The key of the audit chain and the seals (engine/store/audit.py): RECTIFY_AUDIT_KEY (hex), else
    `<instance>/keys/audit.key`. Whoever can write the database but lacks this key cannot rewrite
    history so that it verifies. Back it up apart from the database."""
    value = os.environ.get(AUDIT_KEY_ENV) or secret_file(instance_path / "keys" / "audit.key")
    try:
        return bytes.fromhex(value)
    except ValueError:
        raise ValueError(f"{AUDIT_KEY_ENV} must be hex") from None
