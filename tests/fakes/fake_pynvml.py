"""A stand-in for the `pynvml` module (nvidia-ml-py) at the hardware boundary, for machines without a GPU.

Only the functions that reach the driver are rewritten, with the real names, parameters and units (bytes,
milliwatts, percent, Celsius); everything else is the real module's: the NVMLError hierarchy and every NVML
constant are the very objects `pynvml` defines, and results are built from its own ctypes structures, so an
`except pynvml.NVMLError_NotSupported` written against the real library catches what this fake raises.

Tests configure it through `state` (a FakeNvml), which tests.fakes.install_fake_pynvml replaces per test.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pynvml as _real
from pynvml import (
    NVML_ERROR_INVALID_ARGUMENT,
    NVML_ERROR_UNINITIALIZED,
    NVML_TEMPERATURE_GPU,
    NVML_VALUE_NOT_AVAILABLE_ulonglong,
    NVMLError,
    c_nvmlMemory_t,
    c_nvmlMemory_v2_t,
    c_nvmlProcessInfo_v2_t,
    c_nvmlUtilization_t,
    nvmlStructToFriendlyObject,
)
from pynvml import nvmlMemory_v2 as nvmlMemory_v2  # the version callers pass to nvmlDeviceGetMemoryInfo, re-exported

# The real exception classes (NVMLError, NVMLError_NotSupported, ..., NVMLLibraryMismatchError) and constants.
globals().update({name: value for name, value in vars(_real).items() if name.startswith("NVML")})


@dataclass
class FakeProcess:
    """A process NVML lists on a GPU; used_gpu_memory is None where the driver cannot tell (Windows WDDM)."""

    pid: int
    used_gpu_memory: int | None  # bytes


@dataclass
class FakeDevice:
    """One GPU, every reading in NVML's own units. `errors` maps a function name (e.g. "nvmlDeviceGetFanSpeed")
    to the exception that function raises for this device."""

    name: str = "NVIDIA A100-SXM4-40GB"
    uuid: str = "GPU-00000000-0000-0000-0000-000000000000"
    utilization_gpu: int = 0  # percent
    utilization_memory: int = 0  # percent
    memory_total: int = 40 * 2**30  # bytes
    memory_used: int = 0  # bytes, as nvidia-smi shows them: without the driver's reserve
    memory_reserved: int = 0  # bytes the driver keeps for itself; the v1 call counts them as used
    temperature: int = 40  # Celsius
    power_usage: int = 50_000  # milliwatts
    enforced_power_limit: int = 400_000  # milliwatts
    fan_speed: int = 30  # percent
    compute_processes: list[FakeProcess] = field(default_factory=list)
    graphics_processes: list[FakeProcess] = field(default_factory=list)
    errors: dict[str, Exception] = field(default_factory=dict)


@dataclass
class FakeNvml:
    """What the driver would report, the failures to inject, and a log of the calls made."""

    devices: list[FakeDevice] = field(default_factory=list)
    init_error: Exception | None = None
    count_error: Exception | None = None
    init_count: int = 0  # NVML is reference counted: each nvmlInit needs its nvmlShutdown
    calls: list[str] = field(default_factory=list)


@dataclass(frozen=True, eq=False)
class FakeHandle:
    """Opaque like the real c_nvmlDevice_t: callers only pass it back."""

    device: FakeDevice


state = FakeNvml()


def _enter(function: str) -> None:
    state.calls.append(function)
    if state.init_count == 0:
        raise NVMLError(NVML_ERROR_UNINITIALIZED)


def _device(function: str, handle: FakeHandle) -> FakeDevice:
    _enter(function)
    error = handle.device.errors.get(function)
    if error is not None:
        raise error
    return handle.device


def _process_objects(processes: list[FakeProcess]) -> list[Any]:
    """The real wrapper's result: friendly objects from c_nvmlProcessInfo_v2_t, unknown memory as None."""
    not_available = NVML_VALUE_NOT_AVAILABLE_ulonglong.value
    objects = []
    for process in processes:
        memory = not_available if process.used_gpu_memory is None else process.used_gpu_memory
        entry = nvmlStructToFriendlyObject(c_nvmlProcessInfo_v2_t(pid=process.pid, usedGpuMemory=memory))
        if entry.usedGpuMemory == not_available:
            entry.usedGpuMemory = None
        objects.append(entry)
    return objects


def nvmlInit() -> None:
    state.calls.append("nvmlInit")
    if state.init_error is not None:
        raise state.init_error
    state.init_count += 1


def nvmlShutdown() -> None:
    _enter("nvmlShutdown")
    state.init_count -= 1


def nvmlDeviceGetCount() -> int:
    _enter("nvmlDeviceGetCount")
    if state.count_error is not None:
        raise state.count_error
    return len(state.devices)


def nvmlDeviceGetHandleByIndex(index: int) -> FakeHandle:
    _enter("nvmlDeviceGetHandleByIndex")
    if not 0 <= index < len(state.devices):
        raise NVMLError(NVML_ERROR_INVALID_ARGUMENT)
    device = state.devices[index]
    error = device.errors.get("nvmlDeviceGetHandleByIndex")
    if error is not None:
        raise error
    return FakeHandle(device)


def nvmlDeviceGetName(handle: FakeHandle) -> str:
    return _device("nvmlDeviceGetName", handle).name


def nvmlDeviceGetUUID(handle: FakeHandle) -> str:
    return _device("nvmlDeviceGetUUID", handle).uuid


def nvmlDeviceGetUtilizationRates(handle: FakeHandle) -> c_nvmlUtilization_t:
    device = _device("nvmlDeviceGetUtilizationRates", handle)
    return c_nvmlUtilization_t(gpu=device.utilization_gpu, memory=device.utilization_memory)


def nvmlDeviceGetMemoryInfo(handle: FakeHandle, version: int | None = None) -> c_nvmlMemory_t | c_nvmlMemory_v2_t:
    """The real wrapper calls nvmlDeviceGetMemoryInfo_v2 when given a version: `errors` can fail each alone."""
    device = _device("nvmlDeviceGetMemoryInfo_v2" if version else "nvmlDeviceGetMemoryInfo", handle)
    free = device.memory_total - device.memory_used - device.memory_reserved
    if version:
        reserved = device.memory_reserved
        return c_nvmlMemory_v2_t(
            version=version, total=device.memory_total, reserved=reserved, free=free, used=device.memory_used
        )
    return c_nvmlMemory_t(total=device.memory_total, free=free, used=device.memory_used + device.memory_reserved)


def nvmlDeviceGetTemperature(handle: FakeHandle, sensor: int) -> int:
    device = _device("nvmlDeviceGetTemperature", handle)
    if sensor != NVML_TEMPERATURE_GPU:
        raise NVMLError(NVML_ERROR_INVALID_ARGUMENT)
    return device.temperature


def nvmlDeviceGetPowerUsage(handle: FakeHandle) -> int:
    return _device("nvmlDeviceGetPowerUsage", handle).power_usage


def nvmlDeviceGetEnforcedPowerLimit(handle: FakeHandle) -> int:
    return _device("nvmlDeviceGetEnforcedPowerLimit", handle).enforced_power_limit


def nvmlDeviceGetFanSpeed(handle: FakeHandle) -> int:
    return _device("nvmlDeviceGetFanSpeed", handle).fan_speed


def nvmlDeviceGetComputeRunningProcesses(handle: FakeHandle) -> list[Any]:
    return _process_objects(_device("nvmlDeviceGetComputeRunningProcesses", handle).compute_processes)


def nvmlDeviceGetGraphicsRunningProcesses(handle: FakeHandle) -> list[Any]:
    return _process_objects(_device("nvmlDeviceGetGraphicsRunningProcesses", handle).graphics_processes)
