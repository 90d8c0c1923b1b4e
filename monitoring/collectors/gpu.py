"""NVIDIA GPUs through NVML (the nvidia-ml-py distribution, module `pynvml`).

No driver, no library or an NVML failure at start gives an empty GPU section, quickly and never a crash, and
one INFO line per process (later collections, every page refresh of the dashboard among them, say it at DEBUG).
A field a card does not support (fan speed on passively cooled cards) is None.
"""

from __future__ import annotations

import logging
import os
import sys
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import psutil

from monitoring.catalogue import ResourceKind
from monitoring.collectors import CollectorSettings, SampleView
from monitoring.figures import Figures, ResourceFigures
from monitoring.units import MIB

PRODUCES = (
    "gpu_count",
    "gpu_utilization_percent",
    "gpu_memory_utilization_percent",
    "gpu_memory_total_mib",
    "gpu_memory_used_mib",
    "gpu_memory_percent",
    "gpu_temperature_celsius",
    "gpu_power_draw_watts",
    "gpu_power_limit_watts",
    "gpu_fan_percent",
)

# On Linux NVML cannot work without this device node; checking it first spares importing pynvml (~40 ms).
NVIDIA_CONTROL_DEVICE = "/dev/nvidiactl"
# Errors that mean "this machine has no usable NVIDIA driver", not a fault worth recording.
_NO_GPU_ERRORS = ("NVMLError_LibraryNotFound", "NVMLError_DriverNotLoaded")

log = logging.getLogger(__name__)
_reported: set[str] = set()  # the "no GPUs to report" lines this process has logged at INFO


class GpuProcess(NamedTuple):
    pid: int
    name: str | None
    used_memory_mib: float | None


@dataclass(eq=False)
class GpuReading:
    JSON_PROPERTIES = ("memory_percent",)  # derived, graded: --json shows it beside the fields

    index: int
    name: str | None = None
    uuid: str | None = None
    utilization_percent: float | None = None
    memory_utilization_percent: float | None = None
    memory_total_mib: float | None = None
    memory_used_mib: float | None = None
    temperature_celsius: float | None = None
    power_draw_watts: float | None = None
    power_limit_watts: float | None = None
    fan_percent: float | None = None
    processes: list[GpuProcess] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def memory_percent(self) -> float | None:
        if self.memory_total_mib and self.memory_used_mib is not None:
            return 100.0 * self.memory_used_mib / self.memory_total_mib
        return None


@dataclass(eq=False)
class GpusReading:
    """Every NVIDIA GPU NVML sees; empty without a driver. `problems` holds NVML errors worth recording."""

    devices: list[GpuReading] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def collect(settings: CollectorSettings) -> GpusReading:
    if sys.platform.startswith("linux") and not os.path.exists(NVIDIA_CONTROL_DEVICE):
        _no_gpus(f"no NVIDIA driver ({NVIDIA_CONTROL_DEVICE} missing)")
        return GpusReading()
    try:
        import pynvml
    except ImportError:
        _no_gpus("the nvidia-ml-py package is not installed")
        return GpusReading()
    try:
        pynvml.nvmlInit()
    except pynvml.NVMLError as error:
        _no_gpus(f"NVML unavailable ({error})")
        expected = type(error).__name__ in _NO_GPU_ERRORS
        return GpusReading(problems=[] if expected else [f"NVML init: {error}"])
    try:
        count = pynvml.nvmlDeviceGetCount()
    except pynvml.NVMLError as error:
        _no_gpus(f"NVML error ({error})")
        _shutdown(pynvml)
        return GpusReading(problems=[f"NVML: {error}"])
    try:
        devices = [_read_device(pynvml, index) for index in range(count)]
    finally:
        _shutdown(pynvml)
    return GpusReading(
        devices=devices,
        problems=[f"GPU {device.index}: {problem}" for device in devices for problem in device.problems],
    )


def _no_gpus(reason: str) -> None:
    """Why there are no GPUs: at INFO the first time this process meets the reason, at DEBUG after that."""
    level = logging.DEBUG if reason in _reported else logging.INFO
    _reported.add(reason)
    log.log(level, "GPU: %s; no GPUs to report", reason)


def _shutdown(nvml: Any) -> None:
    try:
        nvml.nvmlShutdown()
    except nvml.NVMLError:
        pass


def _read_device(nvml: Any, index: int) -> GpuReading:
    """One GPU; a GPU that cannot be opened (lost, reset required) is listed with its error, the others read on."""
    gpu = GpuReading(index=index)
    try:
        handle = nvml.nvmlDeviceGetHandleByIndex(index)
    except nvml.NVMLError as error:
        gpu.problems.append(f"nvmlDeviceGetHandleByIndex: {error}")
        log.info("GPU %d: %s", index, error)
        return gpu

    def read(function: Any, *args: Any) -> Any:
        try:
            return function(handle, *args)
        except nvml.NVMLError_NotSupported:
            return None
        except (nvml.NVMLError, nvml.NVMLLibraryMismatchError) as error:  # the latter: driver older than binding
            gpu.problems.append(f"{function.__name__}: {error or type(error).__name__}")
            return None

    gpu.name = _decoded(read(nvml.nvmlDeviceGetName))
    gpu.uuid = _decoded(read(nvml.nvmlDeviceGetUUID))
    utilization = read(nvml.nvmlDeviceGetUtilizationRates)
    if utilization is not None:
        gpu.utilization_percent = float(utilization.gpu)
        gpu.memory_utilization_percent = float(utilization.memory)
    memory = _memory_without_reserved(nvml, handle) or read(nvml.nvmlDeviceGetMemoryInfo)
    if memory is not None:
        gpu.memory_total_mib = memory.total / MIB
        gpu.memory_used_mib = memory.used / MIB
    temperature = read(nvml.nvmlDeviceGetTemperature, nvml.NVML_TEMPERATURE_GPU)
    gpu.temperature_celsius = None if temperature is None else float(temperature)
    gpu.power_draw_watts = _watts(read(nvml.nvmlDeviceGetPowerUsage))
    gpu.power_limit_watts = _watts(read(nvml.nvmlDeviceGetEnforcedPowerLimit))
    fan = read(nvml.nvmlDeviceGetFanSpeed)
    gpu.fan_percent = None if fan is None else float(fan)
    processes = (read(nvml.nvmlDeviceGetComputeRunningProcesses) or []) + (
        read(nvml.nvmlDeviceGetGraphicsRunningProcesses) or []
    )
    gpu.processes = _processes(processes)
    if gpu.problems:
        log.info("GPU %d: %s", index, "; ".join(gpu.problems))
    return gpu


def _memory_without_reserved(nvml: Any, handle: Any) -> Any:
    """NVML's v2 memory figures, whose `used` leaves out what the driver reserves for itself, as nvidia-smi shows
    it (the v1 call counts the reserve as used: hundreds of MiB on an idle card). None where the driver has no v2
    call (before R510) or it fails: the caller then reads v1, which records a failure that is real."""
    try:
        return nvml.nvmlDeviceGetMemoryInfo(handle, version=nvml.nvmlMemory_v2)
    except nvml.NVMLError:
        return None


def _processes(raw: list[Any]) -> list[GpuProcess]:
    """One entry per pid (a process can be both compute and graphics), memory in MiB when NVML knows it."""
    by_pid: dict[int, GpuProcess] = {}
    for entry in raw:
        used = None if entry.usedGpuMemory is None else entry.usedGpuMemory / MIB
        if entry.pid in by_pid:
            known = by_pid[entry.pid]
            largest = max((value for value in (known.used_memory_mib, used) if value is not None), default=None)
            by_pid[entry.pid] = known._replace(used_memory_mib=largest)
            continue
        by_pid[entry.pid] = GpuProcess(pid=entry.pid, name=_process_name(entry.pid), used_memory_mib=used)
    return list(by_pid.values())


def _process_name(pid: int) -> str | None:
    try:
        return psutil.Process(pid).name()
    except (psutil.Error, OSError):  # another PID namespace (containers), or already gone
        return None


def _watts(milliwatts: int | None) -> float | None:
    return None if milliwatts is None else milliwatts / 1000.0


def _decoded(value: str | bytes | None) -> str | None:
    return value.decode(errors="replace") if isinstance(value, bytes) else value


def figures(reading: GpusReading, sample: SampleView) -> Figures:
    gpus = [
        ResourceFigures(
            ResourceKind.GPU,
            {
                "gpu_index": gpu.index,
                "name": gpu.name,
                "uuid": gpu.uuid,
                "error_message": "; ".join(gpu.problems) or None,
            },
            {
                "gpu_utilization_percent": gpu.utilization_percent,
                "gpu_memory_utilization_percent": gpu.memory_utilization_percent,
                "gpu_memory_total_mib": gpu.memory_total_mib,
                "gpu_memory_used_mib": gpu.memory_used_mib,
                "gpu_memory_percent": gpu.memory_percent,
                "gpu_temperature_celsius": gpu.temperature_celsius,
                "gpu_power_draw_watts": gpu.power_draw_watts,
                "gpu_power_limit_watts": gpu.power_limit_watts,
                "gpu_fan_percent": gpu.fan_percent,
            },
        )
        for gpu in reading.devices
    ]
    return Figures.of({"gpu_count": len(reading.devices)}, gpus, kind=ResourceKind.GPU)
