"""The machine's fingerprint: which machine a host key was first used on, so the hub can refuse a cloned machine
that pushes with the same key. An identifier, not a secret: the key is what authenticates.

sha256 of the operating system's machine id (systemd's /etc/machine-id, D-Bus's copy, Windows' MachineGuid,
macOS's IOPlatformUUID), hex; without one, of the host name and the hardware's MAC address, which survive a
reboot too.
"""

from __future__ import annotations

import hashlib
import socket
import subprocess
import sys
import uuid
from pathlib import Path

MACHINE_ID_FILES = (Path("/etc/machine-id"), Path("/var/lib/dbus/machine-id"))


def machine_fingerprint() -> str:
    """64 hex digits naming this machine."""
    machine_id = _machine_id()
    source = f"machine-id:{machine_id}" if machine_id else f"host:{socket.gethostname()}:{uuid.getnode():012x}"
    return hashlib.sha256(source.encode()).hexdigest()


def _machine_id() -> str | None:
    for path in MACHINE_ID_FILES:
        try:
            text = path.read_text(encoding="ascii").strip()
        except (OSError, UnicodeDecodeError):
            continue
        if text:
            return text
    if sys.platform == "win32":
        return _windows_machine_guid()
    if sys.platform == "darwin":
        return _mac_platform_uuid()
    return None


def _windows_machine_guid() -> str | None:
    import winreg  # type: ignore[import-not-found,unused-ignore]

    try:
        with winreg.OpenKey(  # type: ignore[attr-defined,unused-ignore]
            winreg.HKEY_LOCAL_MACHINE,  # type: ignore[attr-defined,unused-ignore]
            r"SOFTWARE\Microsoft\Cryptography",
            0,
            winreg.KEY_READ | winreg.KEY_WOW64_64KEY,  # type: ignore[attr-defined,unused-ignore]
        ) as key:
            value, _ = winreg.QueryValueEx(key, "MachineGuid")  # type: ignore[attr-defined,unused-ignore]
    except OSError:
        return None
    return str(value) or None


def _mac_platform_uuid() -> str | None:
    try:
        output = subprocess.run(
            ["ioreg", "-rd1", "-c", "IOPlatformExpertDevice"], capture_output=True, text=True, timeout=5
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    for line in output.splitlines():
        if "IOPlatformUUID" in line:
            return line.split("=", 1)[-1].strip().strip('"') or None
    return None
