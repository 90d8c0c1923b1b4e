"""Byte multiples, and how sizes and rates are written for people, the same in the report and in alert messages."""

from __future__ import annotations

MIB = 2**20
GIB = 2**30


def used_of_total(used_bytes: float, total_bytes: float) -> str:
    """`7.70GB / 8.00GB`, GiB as the seed platform prints them."""
    return f"{used_bytes / GIB:.2f}GB / {total_bytes / GIB:.2f}GB"


def byte_rate(bytes_per_second: float) -> str:
    for unit, size in (("GB/s", GIB), ("MB/s", MIB), ("KB/s", 1024)):
        if bytes_per_second >= size:
            return f"{bytes_per_second / size:.2f} {unit}"
    return f"{bytes_per_second:.0f} B/s"
