"""Telling a misspelt .env key (`CPU_TRESHOLD`) from one meant for another program, by its closeness to a key the
platform reads."""

from __future__ import annotations

from collections.abc import Collection

# difflib's ratio: CPU_TRESHOLD/CPU_THRESHOLD is 0.96, DISK_THRESHOLD/DISK_THRESHOLDS 0.97; unrelated keys
# sharing a prefix (API_PORT/API_HOST 0.75) stay below.
CLOSENESS = 0.85


def likely_key(key: str, known: Collection[str]) -> str | None:
    """The known key `key` was probably meant to be, or None when it is known or close to none."""
    if key in known:
        return None
    folded = key.upper()
    if folded in known:
        return folded
    import difflib  # only here: a file of known keys, the usual case, never pays for it

    matches = difflib.get_close_matches(folded, known, n=1, cutoff=CLOSENESS)
    return matches[0] if matches else None
