"""Benchmark 8: what a personal signature adds to a sign-off — unwrapping the signer's key (Argon2id
with the production parameters, engine/people/keys.py KEY_KDF, then AES-256-GCM) and signing the
record's digest (ECDSA P-256, and RSA 2048 for comparison). Target: ≤ 150 ms."""
from __future__ import annotations

import os
import time

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from engine.people.keys import KEY_KDF, _unwrap, _wrap

from .harness import summary


def run(samples: int = 15) -> dict:
    profile = KEY_KDF
    digest = os.urandom(32).hex().encode("ascii")
    results = {"argon2id": {"time_cost": profile.time_cost, "memory_kib": profile.memory_cost,
                            "parallelism": profile.parallelism}}
    for name, key, sign in (
            ("ecdsa-p256-sha256", ec.generate_private_key(ec.SECP256R1()),
             lambda k: k.sign(digest, ec.ECDSA(hashes.SHA256()))),
            ("rsa-pkcs1v15-sha256", rsa.generate_private_key(65537, 2048),
             lambda k: k.sign(digest, padding.PKCS1v15(), hashes.SHA256()))):
        wrapped = _wrap(key, "correct horse 2026", b"bench", profile)
        times = []
        for _ in range(samples):
            start = time.perf_counter()
            sign(_unwrap(wrapped, "correct horse 2026", b"bench"))
            times.append(time.perf_counter() - start)
        results[name] = summary(times)
    return results
