"""The NVML GPU collector against a fake of `pynvml` that mirrors the real binding, and against the real binding
where this machine has no NVIDIA library; then through run_collectors, monitor_once, SQLite, grading and the
printed report."""

from __future__ import annotations

import ctypes
import inspect
import logging
import os
import sqlite3
import sys
import time
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import TYPE_CHECKING

import psutil
import pynvml
import pytest

from config.settings import Settings
from monitoring.collectors import gpu
from monitoring.collectors.gpu import GpuProcess, GpusReading
from monitoring.collectors.registry import COLLECTORS, run_collectors
from monitoring.units import GIB, MIB
from pipeline.monitor import MonitorResult, monitor_once
from pipeline.report import render_report
from tests.fakes import fake_pynvml, install_fake_pynvml
from tests.fakes.fake_pynvml import FakeDevice, FakeNvml, FakeProcess

if TYPE_CHECKING:
    from tests.conftest import Workspace

HARDWARE_FUNCTIONS = {
    "nvmlInit",
    "nvmlShutdown",
    "nvmlDeviceGetCount",
    "nvmlDeviceGetHandleByIndex",
    "nvmlDeviceGetName",
    "nvmlDeviceGetUUID",
    "nvmlDeviceGetUtilizationRates",
    "nvmlDeviceGetMemoryInfo",
    "nvmlDeviceGetTemperature",
    "nvmlDeviceGetPowerUsage",
    "nvmlDeviceGetEnforcedPowerLimit",
    "nvmlDeviceGetFanSpeed",
    "nvmlDeviceGetComputeRunningProcesses",
    "nvmlDeviceGetGraphicsRunningProcesses",
}
# Linux PIDs stay below pid_max, which is at most 2**22: no process can have this one.
MISSING_PID = 2**22
A100_UUID = "GPU-5e8f2a1c-3b4d-4e6f-8a9b-0c1d2e3f4a5b"
RTX_UUID = "GPU-9a8b7c6d-5e4f-4a3b-2c1d-0e9f8a7b6c5d"


@pytest.fixture(autouse=True)
def fresh_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts as a new process would: no "no GPUs" line said yet."""
    monkeypatch.setattr(gpu, "_reported", set())


@pytest.fixture
def fake_nvml(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> FakeNvml:
    """The fake NVML as `pynvml`, no GPUs until the test adds some."""
    return install_fake_pynvml(monkeypatch, tmp_path)


@pytest.fixture
def settings(settings_for: Callable[..., Settings]) -> Settings:
    """Defaults plus the workspace's own database, so monitor_once never touches a real one."""
    return settings_for()


def two_gpus() -> list[FakeDevice]:
    """A busy datacenter card with one live and one vanished process, and an idle desktop card."""
    return [
        FakeDevice(
            name="NVIDIA A100-SXM4-80GB",
            uuid=A100_UUID,
            utilization_gpu=87,
            utilization_memory=41,
            memory_total=80 * GIB,
            memory_used=20 * GIB + 512 * MIB,
            temperature=71,
            power_usage=312_500,
            enforced_power_limit=400_000,
            fan_speed=55,
            compute_processes=[FakeProcess(os.getpid(), 1536 * MIB), FakeProcess(MISSING_PID, 256 * MIB)],
        ),
        FakeDevice(
            name="NVIDIA GeForce RTX 4090",
            uuid=RTX_UUID,
            utilization_gpu=3,
            utilization_memory=1,
            memory_total=24 * GIB,
            memory_used=1 * GIB,
            temperature=45,
            power_usage=28_750,
            enforced_power_limit=450_000,
            fan_speed=0,
        ),
    ]


def gpu_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    """Only the collector's own log lines: the database and other collectors log too."""
    return [record for record in caplog.records if record.name == gpu.log.name]


# --- the fake mirrors the real binding ---------------------------------------------------------------------


def test_fake_defines_the_hardware_functions_with_the_real_signatures() -> None:
    defined = {
        name: function
        for name, function in inspect.getmembers(fake_pynvml, inspect.isfunction)
        if function.__module__ == fake_pynvml.__name__ and not name.startswith("_")
    }
    assert set(defined) == HARDWARE_FUNCTIONS
    for name, function in defined.items():
        real = getattr(pynvml, name)
        real_parameters = [(p.name, p.kind, p.default) for p in inspect.signature(real).parameters.values()]
        fake_parameters = [(p.name, p.kind, p.default) for p in inspect.signature(function).parameters.values()]
        assert fake_parameters == real_parameters, name


def test_fake_reuses_the_real_exception_classes_and_constants() -> None:
    real_names = [name for name in vars(pynvml) if name.startswith("NVML")]
    assert [name for name in real_names if getattr(fake_pynvml, name) is not getattr(pynvml, name)] == []
    assert fake_pynvml.NVMLError is pynvml.NVMLError
    assert fake_pynvml.NVMLError_NotSupported is pynvml.NVMLError_NotSupported
    assert fake_pynvml.NVMLError_GpuIsLost is pynvml.NVMLError_GpuIsLost
    assert type(fake_pynvml.NVMLError(fake_pynvml.NVML_ERROR_NOT_SUPPORTED)) is pynvml.NVMLError_NotSupported
    assert fake_pynvml.NVML_TEMPERATURE_GPU == 0


def test_fake_returns_what_the_real_binding_returns(fake_nvml: FakeNvml) -> None:
    fake_nvml.devices = [
        FakeDevice(
            memory_total=8 * GIB,
            memory_used=GIB,
            memory_reserved=256 * MIB,
            graphics_processes=[FakeProcess(1234, None)],
        )
    ]
    with pytest.raises(pynvml.NVMLError_Uninitialized):
        fake_pynvml.nvmlDeviceGetCount()
    fake_pynvml.nvmlInit()
    handle = fake_pynvml.nvmlDeviceGetHandleByIndex(0)

    assert isinstance(fake_pynvml.nvmlDeviceGetName(handle), str)
    assert fake_pynvml.nvmlDeviceGetUUID(handle).startswith("GPU-")
    assert isinstance(fake_pynvml.nvmlDeviceGetUtilizationRates(handle), pynvml.c_nvmlUtilization_t)
    memory = fake_pynvml.nvmlDeviceGetMemoryInfo(handle)
    assert isinstance(memory, pynvml.c_nvmlMemory_t)
    assert (memory.total, memory.used, memory.free) == (8 * GIB, GIB + 256 * MIB, 7 * GIB - 256 * MIB)
    memory_v2 = fake_pynvml.nvmlDeviceGetMemoryInfo(handle, version=pynvml.nvmlMemory_v2)
    assert isinstance(memory_v2, pynvml.c_nvmlMemory_v2_t) and memory_v2.version == pynvml.nvmlMemory_v2
    assert (memory_v2.total, memory_v2.reserved, memory_v2.used, memory_v2.free) == (
        8 * GIB,
        256 * MIB,
        GIB,
        7 * GIB - 256 * MIB,
    )
    with pytest.raises(pynvml.NVMLError_InvalidArgument):
        fake_pynvml.nvmlDeviceGetTemperature(handle, pynvml.NVML_TEMPERATURE_COUNT)
    [process] = fake_pynvml.nvmlDeviceGetGraphicsRunningProcesses(handle)
    assert isinstance(process, pynvml.nvmlFriendlyObject)
    assert (process.pid, process.usedGpuMemory) == (1234, None)
    with pytest.raises(pynvml.NVMLError_InvalidArgument):
        fake_pynvml.nvmlDeviceGetHandleByIndex(1)
    fake_pynvml.nvmlShutdown()
    assert fake_nvml.init_count == 0


# --- reading GPUs ------------------------------------------------------------------------------------------


def test_two_gpus_are_read_in_the_collector_units(fake_nvml: FakeNvml, settings: Settings) -> None:
    fake_nvml.devices = two_gpus()
    assert not psutil.pid_exists(MISSING_PID)

    reading = gpu.collect(settings)

    assert reading.problems == []
    a100, rtx = reading.devices
    assert (a100.index, a100.name, a100.uuid) == (0, "NVIDIA A100-SXM4-80GB", A100_UUID)
    assert (a100.utilization_percent, a100.memory_utilization_percent) == (87.0, 41.0)
    assert (a100.memory_total_mib, a100.memory_used_mib) == (81920.0, 20992.0)
    assert a100.memory_percent == pytest.approx(25.625)
    assert a100.temperature_celsius == 71.0
    assert (a100.power_draw_watts, a100.power_limit_watts) == (312.5, 400.0)
    assert a100.fan_percent == 55.0
    assert a100.processes == [
        GpuProcess(os.getpid(), psutil.Process().name(), 1536.0),
        GpuProcess(MISSING_PID, None, 256.0),
    ]
    assert a100.problems == []
    assert (rtx.index, rtx.name, rtx.uuid) == (1, "NVIDIA GeForce RTX 4090", RTX_UUID)
    assert (rtx.utilization_percent, rtx.memory_total_mib, rtx.memory_used_mib) == (3.0, 24576.0, 1024.0)
    assert (rtx.temperature_celsius, rtx.power_draw_watts, rtx.power_limit_watts) == (45.0, 28.75, 450.0)
    assert rtx.fan_percent == 0.0
    assert rtx.processes == [] and rtx.problems == []
    assert fake_nvml.init_count == 0, "every nvmlInit needs its nvmlShutdown"


def test_fan_speed_not_supported_is_none_and_no_problem(fake_nvml: FakeNvml, settings: Settings) -> None:
    """Passively cooled datacenter cards have no fan: NVML answers NOT_SUPPORTED, which is not a fault."""
    not_supported = pynvml.NVMLError(pynvml.NVML_ERROR_NOT_SUPPORTED)
    fake_nvml.devices = [FakeDevice(errors={"nvmlDeviceGetFanSpeed": not_supported})]

    reading = gpu.collect(settings)

    [device] = reading.devices
    assert device.fan_percent is None
    assert device.temperature_celsius == 40.0
    assert device.problems == [] and reading.problems == []


def test_another_nvml_error_on_one_field_is_none_and_recorded(
    fake_nvml: FakeNvml, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=gpu.log.name)
    fake_nvml.devices = two_gpus()
    fake_nvml.devices[1].errors["nvmlDeviceGetPowerUsage"] = pynvml.NVMLError(pynvml.NVML_ERROR_UNKNOWN)

    reading = gpu.collect(settings)

    a100, rtx = reading.devices
    assert rtx.power_draw_watts is None
    assert rtx.power_limit_watts == 450.0 and rtx.temperature_celsius == 45.0
    assert rtx.problems == ["nvmlDeviceGetPowerUsage: Unknown Error"]
    assert a100.power_draw_watts == 312.5 and a100.problems == []
    assert [record.getMessage() for record in gpu_records(caplog)] == ["GPU 1: nvmlDeviceGetPowerUsage: Unknown Error"]


# --- no GPU, no driver, broken driver ----------------------------------------------------------------------


def test_library_not_found_is_empty_quiet_and_fast(
    fake_nvml: FakeNvml, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger=gpu.log.name)
    fake_nvml.init_error = pynvml.NVMLError(pynvml.NVML_ERROR_LIBRARY_NOT_FOUND)

    started = time.perf_counter()
    reading = gpu.collect(settings)
    elapsed = time.perf_counter() - started

    assert isinstance(fake_nvml.init_error, pynvml.NVMLError_LibraryNotFound)
    assert reading.devices == [] and reading.problems == []
    [record] = gpu_records(caplog)
    assert record.levelno == logging.INFO
    assert "NVML Shared Library Not Found" in record.getMessage()
    assert elapsed < 0.050
    assert fake_nvml.calls == ["nvmlInit"], "nothing else may be called when NVML did not start"


def test_no_gpus_is_said_at_info_once_per_process(
    fake_nvml: FakeNvml, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """A dashboard samples live on every page refresh: the reason is news the first time only."""
    caplog.set_level(logging.DEBUG, logger=gpu.log.name)
    fake_nvml.init_error = pynvml.NVMLError(pynvml.NVML_ERROR_LIBRARY_NOT_FOUND)

    for _ in range(3):
        assert gpu.collect(settings).devices == []
    fake_nvml.init_error = pynvml.NVMLError(pynvml.NVML_ERROR_DRIVER_NOT_LOADED)  # a new reason is news again
    gpu.collect(settings)

    levels = [(record.levelno, "Library Not Found" in record.getMessage()) for record in gpu_records(caplog)]
    assert levels == [(logging.INFO, True), (logging.DEBUG, True), (logging.DEBUG, True), (logging.INFO, False)]


@pytest.mark.parametrize(
    ("code", "recorded"),
    [
        (pynvml.NVML_ERROR_DRIVER_NOT_LOADED, False),
        (pynvml.NVML_ERROR_NO_PERMISSION, True),
        (pynvml.NVML_ERROR_LIB_RM_VERSION_MISMATCH, True),
    ],
    ids=["driver-not-loaded", "no-permission", "driver-library-mismatch"],
)
def test_nvml_start_failures_other_than_no_driver_are_recorded(
    fake_nvml: FakeNvml, settings: Settings, code: int, recorded: bool
) -> None:
    """No driver is a machine without GPUs; a permission problem or a half-upgraded driver hides real GPUs."""
    fake_nvml.devices = two_gpus()
    fake_nvml.init_error = pynvml.NVMLError(code)

    reading = gpu.collect(settings)

    assert reading.devices == []
    assert reading.problems == ([f"NVML init: {pynvml.NVMLError(code)}"] if recorded else [])


@pytest.mark.parametrize(
    ("code", "problem"),
    [(pynvml.NVML_ERROR_GPU_IS_LOST, "NVML: GPU is lost"), (pynvml.NVML_ERROR_UNKNOWN, "NVML: Unknown Error")],
    ids=["gpu-is-lost", "unknown"],
)
def test_device_count_failure_is_recorded_and_nvml_shut_down(
    fake_nvml: FakeNvml, settings: Settings, code: int, problem: str
) -> None:
    fake_nvml.devices = two_gpus()
    fake_nvml.count_error = pynvml.NVMLError(code)

    reading = gpu.collect(settings)

    assert reading.devices == []
    assert reading.problems == [problem]
    assert fake_nvml.calls == ["nvmlInit", "nvmlDeviceGetCount", "nvmlShutdown"]
    assert fake_nvml.init_count == 0


def test_pynvml_not_installed_gives_an_empty_reading(
    fake_nvml: FakeNvml, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """fake_nvml only gets the collector past its control-device check, up to `import pynvml`."""
    monkeypatch.setitem(sys.modules, "pynvml", None)  # makes `import pynvml` raise ImportError

    reading = gpu.collect(settings)

    assert isinstance(reading, GpusReading)
    assert reading.devices == [] and reading.problems == []


@pytest.mark.skipif(
    not sys.platform.startswith("linux") or os.path.exists("/dev/nvidiactl"),
    reason="the control-device check is Linux's, and this machine has an NVIDIA driver",
)
def test_without_a_driver_on_this_machine_nvml_is_not_even_imported(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=gpu.log.name)
    monkeypatch.delitem(sys.modules, "pynvml")

    reading = gpu.collect(settings)

    assert reading.devices == [] and reading.problems == []
    assert "pynvml" not in sys.modules, "the quick path must spare the pynvml import"
    assert [record.getMessage() for record in gpu_records(caplog)] == [
        "GPU: no NVIDIA driver (/dev/nvidiactl missing); no GPUs to report"
    ]


def _nvidia_library_loads() -> bool:
    try:
        ctypes.CDLL("libnvidia-ml.so.1")
    except OSError:
        return False
    return True


@pytest.mark.skipif(_nvidia_library_loads(), reason="this machine has libnvidia-ml")
def test_real_pynvml_without_its_library_gives_an_empty_reading(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The real binding, past the control-device check: its own LibraryNotFound must count as 'no GPU'."""
    control_device = tmp_path / "nvidiactl"
    control_device.touch()
    monkeypatch.setattr(gpu, "NVIDIA_CONTROL_DEVICE", str(control_device))
    monkeypatch.setitem(sys.modules, "pynvml", pynvml)

    reading = gpu.collect(settings)

    assert reading.devices == [] and reading.problems == []


# --- through the collector registry -------------------------------------------------------------------------


def test_gpu_problems_are_the_gpu_outcome_error_and_other_collectors_still_run(
    fake_nvml: FakeNvml, settings: Settings
) -> None:
    fake_nvml.count_error = pynvml.NVMLError(pynvml.NVML_ERROR_GPU_IS_LOST)

    readings, outcomes = run_collectors(settings)

    by_name = {outcome.name: outcome for outcome in outcomes}
    assert list(by_name) == list(COLLECTORS)
    assert not by_name["gpu"].success
    assert by_name["gpu"].error == "NVML: GPU is lost"
    assert readings["gpu"].devices == []
    assert set(readings) == set(COLLECTORS), "the collectors registered after the GPU one ran too"


def test_a_raising_gpu_collector_does_not_stop_the_others(settings: Settings) -> None:
    def broken_gpu(_settings: Settings) -> GpusReading:
        raise RuntimeError("NVML wedged")

    readings, outcomes = run_collectors(settings, {**COLLECTORS, "gpu": broken_gpu})

    by_name = {outcome.name: outcome for outcome in outcomes}
    assert by_name["gpu"].error == "RuntimeError: NVML wedged"
    assert "gpu" not in readings
    assert list(by_name) == list(COLLECTORS)
    assert set(readings) == set(COLLECTORS) - {"gpu"}


# --- end to end: monitor_once, SQLite, grading, report ------------------------------------------------------


def hot_gpus() -> list[FakeDevice]:
    """Both above the default 80 °C WARNING level, below CRITICAL, and nothing else of theirs alerting."""
    a100, rtx = two_gpus()
    a100.temperature, rtx.temperature = 84, 86
    a100.utilization_gpu = 50
    rtx.errors["nvmlDeviceGetFanSpeed"] = pynvml.NVMLError(pynvml.NVML_ERROR_NOT_SUPPORTED)
    rtx.errors["nvmlDeviceGetPowerUsage"] = pynvml.NVMLError(pynvml.NVML_ERROR_UNKNOWN)
    return [a100, rtx]


def temperature_alerts(result: MonitorResult) -> dict[str | None, str]:
    return {alert.resource: alert.level for alert in result.alerts if alert.metric == "gpu_temperature_celsius"}


def test_monitor_once_stores_grades_and_reports_gpus(
    fake_nvml: FakeNvml, settings: Settings, workspace: Workspace
) -> None:
    fake_nvml.devices = hot_gpus()

    result = monitor_once(settings)

    assert temperature_alerts(result) == {A100_UUID: "WARNING", RTX_UUID: "WARNING"}
    with closing(sqlite3.connect(workspace.database)) as connection:
        assert connection.execute("SELECT id, gpu_count FROM system_metrics").fetchall() == [(result.sample_id, 2)]
        gpus = connection.execute(
            "SELECT gpu_index, name, uuid, utilization_percent, memory_total_mib, memory_used_mib, temperature_celsius,"
            " power_draw_watts, power_limit_watts, fan_percent, error_message FROM system_metric_gpus"
            " WHERE system_metric_id = ? ORDER BY gpu_index",
            (result.sample_id,),
        ).fetchall()
        processes = connection.execute(
            "SELECT gpu_index, pid, process_name, used_memory_mib FROM system_metric_gpu_processes"
            " WHERE system_metric_id = ? ORDER BY pid",
            (result.sample_id,),
        ).fetchall()
        notifications = connection.execute(
            "SELECT resource, level FROM notifications WHERE metric = 'gpu_temperature_celsius' ORDER BY resource"
        ).fetchall()
        gpu_outcome = connection.execute(
            "SELECT success, error_message FROM system_metric_collectors WHERE collector = 'gpu'"
        ).fetchall()
    assert gpus == [
        (0, "NVIDIA A100-SXM4-80GB", A100_UUID, 50.0, 81920.0, 20992.0, 84.0, 312.5, 400.0, 55.0, None),
        (
            1,
            "NVIDIA GeForce RTX 4090",
            RTX_UUID,
            3.0,
            24576.0,
            1024.0,
            86.0,
            None,
            450.0,
            None,
            "nvmlDeviceGetPowerUsage: Unknown Error",
        ),
    ]
    assert processes == [(0, os.getpid(), psutil.Process().name(), 1536.0), (0, MISSING_PID, None, 256.0)]
    assert notifications == sorted([(A100_UUID, "WARNING"), (RTX_UUID, "WARNING")])
    assert gpu_outcome == [(0, "GPU 1: nvmlDeviceGetPowerUsage: Unknown Error")]  # a part of the GPU section failed

    report = render_report(result.sample, result.alerts, settings.thresholds).splitlines()
    for index, name in enumerate(("NVIDIA A100-SXM4-80GB", "NVIDIA GeForce RTX 4090")):
        assert [line for line in report if line.strip().startswith(f"GPU {index}:") and name in line], report


@pytest.mark.parametrize(
    ("gpu_name", "alerted"), [(A100_UUID, RTX_UUID), ("1", A100_UUID)], ids=["by-uuid", "by-index"]
)
def test_a_per_gpu_override_suppresses_the_alert_of_that_gpu_only(
    fake_nvml: FakeNvml, settings_for: Callable[..., Settings], gpu_name: str, alerted: str
) -> None:
    """WARNING 95 needs a CRITICAL override too: the settings reject a WARNING level above the default CRITICAL 90."""
    fake_nvml.devices = hot_gpus()
    settings = settings_for(
        GPU_TEMPERATURE_THRESHOLD_OVERRIDES=f"{gpu_name}=95",
        GPU_TEMPERATURE_CRITICAL_THRESHOLD_OVERRIDES=f"{gpu_name}=98",
    )

    result = monitor_once(settings)

    assert temperature_alerts(result) == {alerted: "WARNING"}


# --- partial failures of one GPU -----------------------------------------------------------------------------


def test_one_lost_gpu_does_not_hide_the_others(fake_nvml: FakeNvml, settings: Settings) -> None:
    fake_nvml.devices = two_gpus()
    fake_nvml.devices[1].errors["nvmlDeviceGetHandleByIndex"] = pynvml.NVMLError(pynvml.NVML_ERROR_GPU_IS_LOST)

    reading = gpu.collect(settings)

    assert [device.uuid for device in reading.devices] == [A100_UUID, None]  # the lost one is listed with its error
    assert reading.devices[1].problems == ["nvmlDeviceGetHandleByIndex: GPU is lost"]
    assert reading.problems == ["GPU 1: nvmlDeviceGetHandleByIndex: GPU is lost"]


def test_a_driver_without_v3_process_lists_still_gives_the_other_fields(
    fake_nvml: FakeNvml, settings: Settings
) -> None:
    fake_nvml.devices = two_gpus()
    fake_nvml.devices[0].errors["nvmlDeviceGetComputeRunningProcesses"] = pynvml.NVMLLibraryMismatchError(
        "Unversioned function called and the pyNVML version does not match the NVML lib version."
    )

    reading = gpu.collect(settings)

    assert reading.devices[0].temperature_celsius == 71.0
    assert reading.devices[0].processes == []
    assert reading.devices[0].problems


def test_used_memory_leaves_out_the_driver_reserve_as_nvidia_smi_does(fake_nvml: FakeNvml, settings: Settings) -> None:
    fake_nvml.devices = [FakeDevice(memory_total=80 * GIB, memory_used=2 * GIB, memory_reserved=512 * MIB)]

    [device] = gpu.collect(settings).devices

    assert (device.memory_total_mib, device.memory_used_mib, device.memory_percent) == (81920.0, 2048.0, 2.5)
    assert device.problems == []


def test_a_driver_without_the_v2_memory_call_gives_the_v1_figures_quietly(
    fake_nvml: FakeNvml, settings: Settings
) -> None:
    """Drivers before R510 lack nvmlDeviceGetMemoryInfo_v2: their v1 `used` (reserve included) is all there is."""
    fake_nvml.devices = [FakeDevice(memory_total=16 * GIB, memory_used=GIB, memory_reserved=256 * MIB)]
    function_not_found = pynvml.NVMLError(pynvml.NVML_ERROR_FUNCTION_NOT_FOUND)
    fake_nvml.devices[0].errors["nvmlDeviceGetMemoryInfo_v2"] = function_not_found

    [device] = gpu.collect(settings).devices

    assert (device.memory_total_mib, device.memory_used_mib) == (16384.0, 1280.0)
    assert device.problems == []


def test_a_process_both_compute_and_graphics_is_listed_once(fake_nvml: FakeNvml, settings: Settings) -> None:
    fake_nvml.devices = [
        FakeDevice(
            compute_processes=[FakeProcess(os.getpid(), 300 * MIB)],
            graphics_processes=[FakeProcess(os.getpid(), None), FakeProcess(4321, None)],
        )
    ]

    [device] = gpu.collect(settings).devices

    assert [(process.pid, process.used_memory_mib) for process in device.processes] == [
        (os.getpid(), 300.0),
        (4321, None),
    ]
