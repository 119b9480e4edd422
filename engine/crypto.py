"""The parts of `cryptography` the engine uses, each imported when first used.

Its native library is ~10 MB of a process's memory, and most processes that import the engine never
sign or verify anything: a report job, the timer sweep, the CLI's reading commands. Modules that sign,
issue certificates or verify use `crypto.x509`, `crypto.hashes` … instead of importing them at the
top. Thread-safe: the first use goes through Python's import lock."""
from __future__ import annotations

from importlib import import_module

# name → (module, attribute or None for the module itself)
_WHERE = {
    "x509": ("cryptography.x509", None),
    "NameOID": ("cryptography.x509.oid", "NameOID"),
    "ExtendedKeyUsageOID": ("cryptography.x509.oid", "ExtendedKeyUsageOID"),
    "hashes": ("cryptography.hazmat.primitives.hashes", None),
    "serialization": ("cryptography.hazmat.primitives.serialization", None),
    "Encoding": ("cryptography.hazmat.primitives.serialization", "Encoding"),
    "ec": ("cryptography.hazmat.primitives.asymmetric.ec", None),
    "rsa": ("cryptography.hazmat.primitives.asymmetric.rsa", None),
    "padding": ("cryptography.hazmat.primitives.asymmetric.padding", None),
    "AESGCM": ("cryptography.hazmat.primitives.ciphers.aead", "AESGCM"),
    "InvalidTag": ("cryptography.exceptions", "InvalidTag"),
    "InvalidSignature": ("cryptography.exceptions", "InvalidSignature"),
}


def __getattr__(name: str):
    try:
        module, attribute = _WHERE[name]
    except KeyError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    value = import_module(module)
    value = getattr(value, attribute) if attribute else value
    globals()[name] = value  # later uses are plain attribute reads
    return value
