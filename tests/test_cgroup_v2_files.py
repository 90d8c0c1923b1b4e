"""The cgroup v2 reading (monitoring.containers.cgroups) on files in the kernel's own formats: this project's
machines run cgroup v1, where the real engines' tests read v1 files, so the unified hierarchy's files are laid out
here as a v2 kernel writes them (cgroup-v2.rst: cpu.stat, memory.current, memory.max, memory.stat, pids.current,
io.stat)."""

from __future__ import annotations

from pathlib import Path

from monitoring.containers.cgroups import CgroupDirs, read_usage

MIB = 2**20
FILES = {
    "cpu.stat": "usage_usec 2500000\nuser_usec 2000000\nsystem_usec 500000\nnr_periods 0\nnr_throttled 0\n"
    "throttled_usec 0\n",
    "memory.current": f"{60 * MIB}\n",
    "memory.stat": f"anon {40 * MIB}\nfile {20 * MIB}\nkernel 1048576\nactive_file {8 * MIB}\n"
    f"inactive_file {12 * MIB}\nshmem 0\n",
    "pids.current": "4\n",
    "io.stat": "8:0 rbytes=1048576 wbytes=4096 rios=20 wios=1 dbytes=0 dios=0\n"
    "253:0 rbytes=2048 wbytes=8192 rios=1 wios=2 dbytes=0 dios=0\n",
}


def _cgroup(tmp_path: Path, memory_max: str, **overrides: str | None) -> CgroupDirs:
    for name, text in {**FILES, "memory.max": memory_max, **overrides}.items():
        if text is not None:
            (tmp_path / name).write_text(text)
    return CgroupDirs(str(tmp_path), {})


def test_a_limited_container_as_docker_stats_shows_it(tmp_path: Path) -> None:
    usage = read_usage(_cgroup(tmp_path, f"{64 * MIB}\n"))
    assert usage.cpu_ns == 2_500_000_000
    used = usage.memory_usage_bytes - usage.memory_inactive_file_bytes
    assert used == 48 * MIB and usage.memory_limit_bytes == 64 * MIB
    assert usage.pids == 4
    assert (usage.block_read_bytes, usage.block_write_bytes) == (1048576 + 2048, 4096 + 8192)  # summed over devices


def test_no_limit_and_files_a_kernel_may_lack(tmp_path: Path) -> None:
    usage = read_usage(_cgroup(tmp_path, "max\n", **{"io.stat": None, "pids.current": None}))
    assert usage.memory_limit_bytes is None
    assert (usage.pids, usage.block_read_bytes, usage.block_write_bytes) == (None, None, None)
