"""Fakes at the hardware boundary, so code that needs a device can be tested on machines without one."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.fakes import fake_pynvml
from tests.fakes.fake_pynvml import FakeNvml


def install_fake_pynvml(monkeypatch: pytest.MonkeyPatch, directory: Path) -> FakeNvml:
    """Make `import pynvml` give the fake with a fresh state (no GPUs until the test adds some) and point the
    GPU collector at an existing control device, since it skips NVML on Linux when /dev/nvidiactl is missing.
    Everything is undone when the test ends."""
    control_device = directory / "nvidiactl"
    control_device.touch()
    monkeypatch.setattr("monitoring.collectors.gpu.NVIDIA_CONTROL_DEVICE", str(control_device))
    state = FakeNvml()
    monkeypatch.setattr(fake_pynvml, "state", state)
    monkeypatch.setitem(sys.modules, "pynvml", fake_pynvml)
    return state
