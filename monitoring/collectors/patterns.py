"""Name filters shared by collectors (mount points, interfaces)."""

from __future__ import annotations

from collections.abc import Iterable
from fnmatch import fnmatchcase


def matches_any(name: str, patterns: Iterable[str]) -> bool:
    """Shell-style match against any pattern; `/dev/*` also covers `/dev` itself."""
    return any(fnmatchcase(name, pattern) or (pattern.endswith("/*") and name == pattern[:-2]) for pattern in patterns)
