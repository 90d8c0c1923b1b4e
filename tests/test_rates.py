"""Rates from recorded counters: the average since the previous sample, with wrap, reset and reboot."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from monitoring.collectors.cpu import CpuReading, CpuTimes, cpu_percent
from monitoring.collectors.disk import DiskReading, DisksReading, IoCounters
from monitoring.collectors.network import InterfaceReading, NetworkReading, NicCounters
from monitoring.collectors.processes import ProcessCounters, ProcessesReading
from monitoring.collectors.registry import apply_rates
from monitoring.rates import CounterSnapshot, counter_delta
from monitoring.sample import Sample
from monitoring.snapshot import snapshot_of

BOOT = 1_700_000_000.0
T0 = datetime(2026, 1, 1, 12, 0, tzinfo=timezone.utc)
FIVE_MINUTES = 300.0


@pytest.mark.parametrize(
    ("previous", "current", "delta"),
    [
        (100, 150, 50),  # ordinary growth
        (7, 7, 0),
        (2**32 - 100, 50, 150),  # 32-bit counter wrapped
        (2**32 - 2**30, 10, 2**30 + 10),  # a quarter of the range before the limit: still a wrap
        (3_000_000_000, 100, 100),  # a 64-bit counter reset after ~3 GB: not a 32-bit wrap
        (1_000, 10, 10),  # small counter went down: reset, count from zero
        (2**64 - 10, 5, 15),  # 64-bit wrap
        (2**40, 123, 123),  # large counter went down: reset
    ],
)
def test_counter_delta(previous: int, current: int, delta: int) -> None:
    assert counter_delta(previous, current) == delta


def test_cpu_percent_from_times() -> None:
    assert cpu_percent(CpuTimes(100, 1000), CpuTimes(130, 1100)) == 30.0
    assert cpu_percent(None, CpuTimes(1, 2)) is None
    assert cpu_percent(CpuTimes(5, 10), CpuTimes(5, 10)) is None  # no time passed
    assert cpu_percent(CpuTimes(500, 5000), CpuTimes(20, 100)) == 20.0  # counters restarted


def _sample(
    at: datetime,
    boot: float = BOOT,
    *,
    cpu: tuple[float, float] = (0, 0),
    disk_read: int = 0,
    nic_sent: int = 0,
    processes: list[ProcessCounters] | None = None,
) -> Sample:
    sample = Sample(timestamp=at, hostname="h", platform="linux", boot_time=boot)
    sample.cpu = CpuReading(
        logical_count=2, physical_count=1, times=CpuTimes(*cpu), core_times=[CpuTimes(cpu[0] / 2, cpu[1] / 2)] * 2
    )
    io = IoCounters(disk_read, disk_read // 2, disk_read // 4096, 0)
    sample.disks = DisksReading(
        mounts=[DiskReading("/", "/dev/sda1", "ext4", 100, 50, 50, 50.0, "sda1", io)], io_total=io
    )
    sample.network = NetworkReading([InterfaceReading("eth0", NicCounters(nic_sent, 2 * nic_sent, 10, 20, 0, 0, 1, 0))])
    sample.processes = ProcessesReading(table=processes or [])
    return sample


def _snapshot_of(sample: Sample, processes: dict[int, tuple[float, float]] | None = None) -> CounterSnapshot:
    """What the next run reads back from the database for `sample`."""
    assert sample.cpu and sample.disks and sample.network
    snapshot = snapshot_of(sample)
    snapshot.processes = processes or {}
    return snapshot


def test_rates_average_over_the_time_since_the_previous_sample() -> None:
    first = _sample(T0, cpu=(1000, 10_000), disk_read=1_000_000, nic_sent=5_000)
    second = _sample(T0 + timedelta(seconds=FIVE_MINUTES), cpu=(1150, 10_600), disk_read=31_000_000, nic_sent=35_000)
    apply_rates(second, _snapshot_of(first), top_processes=5)
    assert second.rate_interval_seconds == FIVE_MINUTES
    assert second.cpu and second.cpu.percent == 25.0 and second.cpu.core_percents == [25.0, 25.0]
    assert second.disks and second.disks.io_total_rates
    assert second.disks.io_total_rates.read_bytes_per_second == pytest.approx(100_000)
    assert second.disks.mounts[0].rates and second.disks.mounts[0].rates.read_bytes_per_second == pytest.approx(100_000)
    nic = second.network.interfaces[0] if second.network else None
    assert nic and nic.rates and nic.rates.sent_bytes_per_second == pytest.approx(100)
    assert nic.rates.recv_bytes_per_second == pytest.approx(200)
    assert second.network and second.network.total_rates == nic.rates


def test_after_a_reboot_rates_count_from_zero_at_boot() -> None:
    before = _sample(T0, cpu=(50_000, 900_000), disk_read=9_000_000_000, nic_sent=7_000_000)
    new_boot = (T0 + timedelta(hours=1)).timestamp()
    after = _sample(
        datetime.fromtimestamp(new_boot + 100, timezone.utc),
        boot=new_boot,
        cpu=(20, 200),
        disk_read=1_000_000,
        nic_sent=10_000,
    )
    apply_rates(after, _snapshot_of(before), top_processes=5)
    assert after.rate_interval_seconds == pytest.approx(100)
    assert after.cpu and after.cpu.percent == 10.0
    assert after.disks and after.disks.io_total_rates
    assert after.disks.io_total_rates.read_bytes_per_second == pytest.approx(10_000)
    assert after.network and after.network.interfaces[0].rates
    assert after.network.interfaces[0].rates.sent_bytes_per_second == pytest.approx(100)


def test_a_new_interface_has_no_rate_until_it_has_a_previous_reading() -> None:
    first = _sample(T0, nic_sent=100)
    second = _sample(T0 + timedelta(seconds=60), nic_sent=200)
    assert second.network
    second.network.interfaces.append(InterfaceReading("wg0", NicCounters(10**9, 0, 0, 0, 0, 0, 0, 0)))
    apply_rates(second, _snapshot_of(first), top_processes=5)
    assert second.network.interfaces[1].rates is None
    assert second.network.total_rates and second.network.total_rates.sent_bytes_per_second == pytest.approx(100 / 60)


def test_a_clock_that_went_back_gives_no_rates() -> None:
    first = _sample(T0, cpu=(10, 100))
    second = _sample(T0 - timedelta(seconds=5), cpu=(20, 200))
    apply_rates(second, _snapshot_of(first), top_processes=5)
    assert second.rate_interval_seconds is None
    assert second.cpu and second.cpu.percent is None


def _process(pid: int, cpu_seconds: float, created: float, rss: int = 1000) -> ProcessCounters:
    return ProcessCounters(pid, created, cpu_seconds, 1.0, rss)


def test_top_processes_rank_cpu_used_since_the_previous_sample() -> None:
    start = T0.timestamp()
    previous = {1: (start - 9999, 5000.0), 2: (start - 50, 10.0), 3: (start - 10, 3.0)}
    table = [
        _process(1, 5030.0, start - 9999, rss=10),  # long-running daemon: 30 s in 300 s = 10 %
        _process(2, 160.0, start - 50, rss=30),  # 150 s in 300 s = 50 %
        _process(3, 90.0, start + 100, rss=20),  # pid 3 reused by a new process: all its 90 s count
        _process(4, 3.0, start + 200, rss=40),  # new since the previous sample: 1 %
    ]
    sample = _sample(T0 + timedelta(seconds=FIVE_MINUTES), processes=table)
    snapshot = _snapshot_of(_sample(T0), processes=previous)
    apply_rates(sample, snapshot, top_processes=3)
    assert sample.processes
    assert [(p.pid, p.cpu_percent) for p in sample.processes.top_cpu] == [(2, 50.0), (3, 30.0), (1, 10.0)]
    assert [p.pid for p in sample.processes.top_memory] == [4, 2, 3]


def test_without_a_process_baseline_only_new_processes_get_a_cpu_figure() -> None:
    start = T0.timestamp()
    table = [_process(1, 5030.0, start - 9999), _process(2, 30.0, start + 10)]
    sample = _sample(T0 + timedelta(seconds=FIVE_MINUTES), processes=table)
    apply_rates(sample, _snapshot_of(_sample(T0)), top_processes=5)
    assert sample.processes and [(p.pid, p.cpu_percent) for p in sample.processes.top_cpu] == [(2, 10.0)]
