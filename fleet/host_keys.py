"""Ingest keys: 256 random bits shown once, stored only as their sha256. A key is random, not a password, so a
plain hash cannot be reversed by guessing; it lets the hub find a host by one indexed lookup."""

from __future__ import annotations

import hashlib
import secrets

KEY_PREFIX = "ahk_"  # tells an automation host key apart in a config file or a leaked log


def new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()
