"""The monitor job as a real process with one value injected at the collector boundary: the disk collector
returns one mount of the given size and usage, no other collector runs; settings, database, incidents and
output are the real ones.

    python tests/disk_driver.py MOUNT USED_BYTES TOTAL_BYTES [system_monitor.py options]
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from monitoring.collectors import registry
from monitoring.collectors.disk import DiskReading, DisksReading
from scripts.monitoring import system_monitor


def main(argv: list[str]) -> int:
    mount, used_bytes, total_bytes = argv[0], int(argv[1]), int(argv[2])
    reading = DiskReading(
        mount,
        "/dev/injected",
        "ext4",
        total_bytes,
        used_bytes,
        total_bytes - used_bytes,
        round(100.0 * used_bytes / total_bytes, 1),
    )
    registry.COLLECTORS.clear()
    registry.COLLECTORS["disk"] = lambda settings: DisksReading([reading], None)
    return system_monitor.main(argv[3:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
