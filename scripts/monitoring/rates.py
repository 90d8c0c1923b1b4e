"""Rates from cumulative counters: the average over the time since the previous sample of the same host.

Pure functions over plain data. A counter that went down was either wrapped or reset:
- after a reboot (boot time changed) every counter restarts from zero at boot time;
- otherwise it wrapped if it was within WRAP_MARGIN of the 32-bit or 64-bit limit and is now below that
  margin (psutil's counters are 64-bit on current systems; 32-bit ones remain on old kernels and drivers);
- any other decrease is a reset (driver reload, interface re-created), counted from zero.
"""

from __future__ import annotations

from scripts.monitoring.sample import (
    CounterSnapshot,
    CpuTimes,
    IoCounters,
    IoRates,
    NicCounters,
    NicRates,
    ProcessInfo,
    Sample,
)

REBOOT_TOLERANCE_SECONDS = 5.0
# How close to its limit a counter must have been to have wrapped (a quarter of the 32-bit range).
WRAP_MARGIN = 2**30
# psutil derives a process's create_time from the whole-second boot time, so it can be off by up to 1 s.
CREATE_TIME_TOLERANCE_SECONDS = 1.0


def counter_delta(previous: int, current: int) -> int:
    """How much a cumulative counter grew, allowing for wrap-around and resets."""
    if current >= previous:
        return current - previous
    for limit in (2**32, 2**64):
        if limit - WRAP_MARGIN <= previous < limit and current < WRAP_MARGIN:
            return current + limit - previous
    return current


def cpu_percent(previous: CpuTimes | None, current: CpuTimes) -> float | None:
    """Busy share of the CPU time that passed between two readings, 0-100."""
    if previous is None:
        return None
    total = current.total_seconds - previous.total_seconds
    busy = current.busy_seconds - previous.busy_seconds
    if total < 0 or busy < 0:  # counters restarted: average since they did
        total, busy = current.total_seconds, current.busy_seconds
    if total <= 0:
        return None
    return round(min(max(100.0 * busy / total, 0.0), 100.0), 2)


def io_rates(previous: IoCounters, current: IoCounters, elapsed_seconds: float) -> IoRates:
    return IoRates(*_per_second(previous, current, elapsed_seconds))


def nic_rates(previous: NicCounters, current: NicCounters, elapsed_seconds: float) -> NicRates:
    return NicRates(*_per_second(previous, current, elapsed_seconds))


def _per_second(previous: tuple[int, ...], current: tuple[int, ...], elapsed_seconds: float) -> list[float]:
    """Field by field growth of two readings of the same counters, per second."""
    return [counter_delta(before, after) / elapsed_seconds for before, after in zip(previous, current, strict=True)]


def sum_nic_rates(rates: list[NicRates]) -> NicRates | None:
    if not rates:
        return None
    return NicRates(*(sum(values) for values in zip(*rates, strict=True)))


def zero_snapshot(boot_time: float) -> CounterSnapshot:
    """The baseline after a reboot: every counter was zero at boot time."""
    from datetime import datetime, timezone

    return CounterSnapshot(taken_at=datetime.fromtimestamp(boot_time, timezone.utc), boot_time=boot_time,
                           zero_for_missing=True)


def rebooted(previous: CounterSnapshot, boot_time: float | None) -> bool:
    return (previous.boot_time is not None and boot_time is not None
            and abs(previous.boot_time - boot_time) > REBOOT_TOLERANCE_SECONDS)


def apply_rates(sample: Sample, previous: CounterSnapshot, top_processes: int) -> None:
    """Fill every rate of `sample` from `previous`; with no usable time span the rates stay None."""
    if rebooted(previous, sample.boot_time):
        previous = zero_snapshot(sample.boot_time)  # type: ignore[arg-type]
    elapsed = (sample.timestamp - previous.taken_at).total_seconds()
    if elapsed <= 0:
        if sample.processes is not None:
            _rank_processes(sample, {}, None, top_processes)
        return
    sample.rate_interval_seconds = elapsed
    zero_io = IoCounters(0, 0, 0, 0) if previous.zero_for_missing else None
    zero_nic = NicCounters(0, 0, 0, 0, 0, 0, 0, 0) if previous.zero_for_missing else None
    zero_cpu = CpuTimes(0.0, 0.0) if previous.zero_for_missing else None

    if sample.cpu is not None:
        sample.cpu.percent = cpu_percent(previous.cpu or zero_cpu, sample.cpu.times)
        sample.cpu.core_percents = [
            cpu_percent(previous.cores[index] if index < len(previous.cores) else zero_cpu, times)
            for index, times in enumerate(sample.cpu.core_times)
        ]
    if sample.disks is not None:
        base_total = previous.disk_total or zero_io
        if sample.disks.io_total is not None and base_total is not None:
            sample.disks.io_total_rates = io_rates(base_total, sample.disks.io_total, elapsed)
        for disk in sample.disks.mounts:
            base = previous.disks.get(disk.io_device or "", zero_io)
            if disk.io is not None and base is not None:
                disk.rates = io_rates(base, disk.io, elapsed)
    if sample.network is not None:
        for nic in sample.network.interfaces:
            base_nic = previous.nics.get(nic.name, zero_nic)
            if base_nic is not None:
                nic.rates = nic_rates(base_nic, nic.counters, elapsed)
        sample.network.total_rates = sum_nic_rates(
            [nic.rates for nic in sample.network.interfaces if nic.rates is not None])
    if sample.processes is not None:
        _rank_processes(sample, previous.processes, elapsed, top_processes)


def _rank_processes(sample: Sample, previous: dict[int, tuple[float, float]], elapsed: float | None,
                    top: int) -> None:
    """Top processes by CPU used since the previous sample (a process started since then counts all its
    CPU time) and by resident memory."""
    assert sample.processes is not None
    started_after = sample.timestamp.timestamp() - (elapsed or 0.0) - CREATE_TIME_TOLERANCE_SECONDS
    infos = []
    for proc in sample.processes.table:
        if proc.pid == 0:  # Windows' System Idle Process counts idle time as its own
            continue
        percent = None
        if elapsed:
            known = previous.get(proc.pid)
            if known is not None and abs(known[0] - proc.create_time) < CREATE_TIME_TOLERANCE_SECONDS:
                used: float | None = max(proc.cpu_seconds - known[1], 0.0)
            elif previous or proc.create_time >= started_after:  # new since the previous sample (or PID reused)
                used = proc.cpu_seconds
            else:  # no baseline and running before the previous sample: no honest figure
                used = None
            percent = None if used is None else round(100.0 * used / elapsed, 2)
        infos.append(ProcessInfo(proc.pid, None, None, percent, proc.memory_percent, proc.rss_bytes))
    sample.processes.top_cpu = sorted((info for info in infos if info.cpu_percent is not None),
                                      key=lambda info: info.cpu_percent or 0.0, reverse=True)[:top]
    sample.processes.top_memory = sorted((info for info in infos if info.rss_bytes is not None),
                                         key=lambda info: info.rss_bytes or 0, reverse=True)[:top]
