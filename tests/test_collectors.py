"""Collectors against this real machine: plausible values, real filesystems only, failures isolated."""

from __future__ import annotations

import os
from collections import namedtuple
from pathlib import Path

import psutil
import pytest

from config.settings import load_settings
from monitoring.collectors import cpu, disk, memory, network, processes, sensors
from monitoring.collectors.patterns import matches_any
from monitoring.collectors.registry import COLLECTORS, run_collectors

SETTINGS = load_settings({})


def test_cpu_counts_load_and_cumulative_times() -> None:
    reading = cpu.collect(SETTINGS)
    assert reading.logical_count == psutil.cpu_count() >= 1
    assert len(reading.core_times) == reading.logical_count
    assert 0 < reading.times.busy_seconds < reading.times.total_seconds
    total_of_cores = sum(core.total_seconds for core in reading.core_times)
    assert total_of_cores == pytest.approx(reading.times.total_seconds, rel=0.05)
    assert reading.load_1m is not None and reading.load_1m >= 0  # Linux has a load average
    assert reading.percent is None  # computed from counters later, never by sleeping here


def test_cpu_times_leave_out_guest_time_counted_in_user() -> None:
    Times = namedtuple("Times", "user nice system idle iowait irq softirq steal guest guest_nice")
    times = cpu.to_cpu_times(Times(100, 0, 50, 800, 50, 0, 0, 0, 30, 0))
    assert times.total_seconds == 1000 and times.busy_seconds == 150


def test_memory_and_swap() -> None:
    reading = memory.collect(SETTINGS)
    assert reading.total_bytes == psutil.virtual_memory().total
    assert 0 < reading.used_bytes < reading.total_bytes
    assert 0 < reading.available_bytes <= reading.total_bytes
    assert 0 <= reading.percent <= 100 and 0 <= reading.swap_percent <= 100


def test_disks_are_real_filesystems_with_io_counters() -> None:
    reading = disk.collect(SETTINGS)
    mounts = {entry.mountpoint: entry for entry in reading.mounts}
    assert "/" in mounts
    root = mounts["/"]
    assert root.total_bytes > 0 and 0 <= root.percent <= 100 and root.used_bytes + root.free_bytes <= root.total_bytes
    assert all(entry.fstype not in SETTINGS.disk_ignore_fstypes for entry in reading.mounts)
    assert not any(entry.mountpoint.startswith(("/proc", "/sys", "/dev")) for entry in reading.mounts)
    assert reading.io_total is not None and reading.io_total.read_bytes > 0
    assert root.io is not None and root.io_device  # counters of the device behind /
    assert reading.problems == []


def test_a_vanished_mount_is_a_problem_not_a_failure(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    real = psutil.disk_partitions(all=False)
    ghost = type(real[0])("/dev/ghost1", str(tmp_path / "gone"), "ext4", "rw")
    monkeypatch.setattr(psutil, "disk_partitions", lambda all=False: [*real, ghost])
    monkeypatch.setattr(os.path, "isdir", lambda path: True)
    reading = disk.collect(SETTINGS)
    assert any(entry.mountpoint == "/" for entry in reading.mounts)
    assert len(reading.problems) == 1 and str(tmp_path / "gone") in reading.problems[0]


def test_mount_patterns() -> None:
    assert matches_any("/dev", ["/dev/*"]) and matches_any("/dev/shm", ["/dev/*"])
    assert not matches_any("/device", ["/dev/*"])
    assert matches_any("/boot/efi", ["/boot/efi"]) and not matches_any("/boot", ["/boot/efi"])


def test_network_counts_real_interfaces_and_skips_loopback() -> None:
    reading = network.collect(SETTINGS)
    names = [nic.name for nic in reading.interfaces]
    assert "lo" not in names and names
    assert all(nic.counters.bytes_recv >= 0 and nic.rates is None for nic in reading.interfaces)
    assert reading.recv_mb == pytest.approx(sum(nic.counters.bytes_recv for nic in reading.interfaces) / 2**20)
    with_loopback = network.collect(load_settings({"NETWORK_IGNORE_INTERFACES": "none-at-all"}))
    assert "lo" in [nic.name for nic in with_loopback.interfaces]


def test_processes_include_this_one() -> None:
    table = processes.collect(SETTINGS).table
    me = next(row for row in table if row.pid == os.getpid())
    assert me.rss_bytes and me.rss_bytes > 10 * 2**20
    assert me.memory_percent == pytest.approx(100 * me.rss_bytes / psutil.virtual_memory().total)
    assert me.cpu_seconds > 0 and me.create_time <= psutil.Process().create_time() + 1
    assert len(table) > 5


def test_top_processes_get_names_and_owners() -> None:
    from monitoring.collectors.processes import ProcessInfo

    infos = [ProcessInfo(os.getpid(), None, None, 5.0, 1.0, 100), ProcessInfo(2**22 + 7, None, None, 1.0, 1.0, 1)]
    known: dict[int, tuple[str | None, str | None]] = {}
    named = processes.with_names(infos, known)
    assert named[0].name == psutil.Process().name() and named[0].username == psutil.Process().username()
    assert (named[1].name, named[1].username) == (None, None)  # gone (or never existed): no crash
    assert named[0].cpu_percent == 5.0 and set(known) == {os.getpid(), 2**22 + 7}


def test_sensors_is_a_list_even_without_sensors() -> None:
    readings = sensors.collect(SETTINGS)
    assert isinstance(readings, list)
    assert all(reading.chip for reading in readings)


def test_every_collector_runs_and_records_its_duration() -> None:
    readings, outcomes = run_collectors(SETTINGS)
    assert [outcome.name for outcome in outcomes] == list(COLLECTORS)
    assert all(outcome.success and 0 <= outcome.duration_seconds < 5 for outcome in outcomes)
    assert set(readings) == set(COLLECTORS)


def test_a_failing_collector_does_not_stop_the_others() -> None:
    def denied(settings: object) -> None:
        raise psutil.AccessDenied(pid=1, name="init")

    collectors = {**COLLECTORS, "processes": denied}
    readings, outcomes = run_collectors(SETTINGS, collectors)
    by_name = {outcome.name: outcome for outcome in outcomes}
    assert not by_name["processes"].success and "AccessDenied" in (by_name["processes"].error or "")
    assert "processes" not in readings and {"cpu", "memory", "disk", "network"} <= set(readings)
    assert all(by_name[name].success for name in ("cpu", "memory", "disk", "network"))


def test_disabled_collectors_do_not_run() -> None:
    readings, outcomes = run_collectors(load_settings({"MONITOR_DISABLED_COLLECTORS": "gpu,processes"}))
    assert {outcome.name for outcome in outcomes} == set(COLLECTORS) - {"gpu", "processes"}
    assert "processes" not in readings
