"""Password hashing with Argon2id (argon2-cffi's defaults follow RFC 9106)."""
from __future__ import annotations

import os

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError

# RECTIFY_PASSWORD_PROFILE=test makes hashing cheap for the test suite only; hashes made either way
# verify either way (the parameters live in the hash).
_hasher = (PasswordHasher.from_parameters(profiles.CHEAPEST)
           if os.environ.get("RECTIFY_PASSWORD_PROFILE") == "test" else PasswordHasher())
MIN_LENGTH = 8


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password(password_hash: str | None, password: str | None) -> bool:
    if not password_hash or not password:
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
