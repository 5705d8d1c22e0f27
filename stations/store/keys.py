"""Office API keys: random secrets, stored only as hashes, checked in constant time.

A key reads ``<key_id>.<secret>``.  The key id is public (it names the key in ``stations keys
list`` and in the history); the secret is 256 random bits, shown once when the key is made.
Because the secret is random rather than a password a person chose, one SHA-256 is the right
hash: there is nothing to guess, so a slow password hash would only slow every write.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from ..errors import NotAuthenticated
from .base import OfficeKey, StationStore


def new_key_secret() -> tuple[str, str]:
    """A fresh (key id, full secret) pair."""
    key_id = "k" + secrets.token_hex(6)
    return key_id, f"{key_id}.{secrets.token_urlsafe(32)}"


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def authenticate(store: StationStore, secret: str | None) -> OfficeKey:
    """The live key this secret belongs to; raises :class:`NotAuthenticated` otherwise."""
    if not secret:
        raise NotAuthenticated("an office API key is required: Authorization: Bearer <key> "
                               "/ 需要单位密钥")
    key_id = secret.partition(".")[0]
    key = store.find_key(key_id) if key_id.isascii() and len(key_id) <= 32 else None
    if key is None or not hmac.compare_digest(key.secret_hash, hash_secret(secret)):
        raise NotAuthenticated("unknown office API key / 密钥无效")
    if key.revoked_at:
        raise NotAuthenticated(f"office API key {key.key_id} was revoked / 密钥已撤销")
    return key
