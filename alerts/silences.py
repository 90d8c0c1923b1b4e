"""Which incidents a silence covers: a glob over `metric`, `metric:resource` or `host:metric:resource`,
e.g. `disk_*` (every disk metric), `disk_*:/var*`, `web1:*`."""

from __future__ import annotations

from collections.abc import Iterable
from fnmatch import fnmatchcase


def silenced_by(patterns: Iterable[str], host: str, metric: str, resource: str) -> bool:
    names = (metric, f"{metric}:{resource}", f"{host}:{metric}:{resource}")
    return any(fnmatchcase(name, pattern) for pattern in patterns for name in names)
