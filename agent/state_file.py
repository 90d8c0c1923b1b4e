"""The running agent's state for `agent status` (next to its outbox: data/agent-state.json by default): when
it started, its last successful push, the last error and the backlog. Written whole and atomically (a temporary
file renamed over it), owner-only; both of the agent's threads update it."""

from __future__ import annotations

import json
import logging
import os
import threading
from pathlib import Path
from typing import Any

from config.paths import OWNER_ONLY_FILE_MODE

log = logging.getLogger("automation.agent")


class StateFile:
    def __init__(self, path: Path, initial: dict[str, Any]) -> None:
        self.path = path
        self._values = dict(initial)
        self._lock = threading.Lock()
        self._write()

    def update(self, **values: Any) -> None:
        with self._lock:
            self._values.update(values)
            try:
                self._write()
            except OSError as error:  # `agent status` shows older figures; the agent itself goes on
                log.warning("%s not written: %s", self.path, error)

    def _write(self) -> None:
        temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, OWNER_ONLY_FILE_MODE)
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            json.dump(self._values, file, indent=1)
        os.replace(temporary, self.path)


def read_state(path: Path) -> dict[str, Any]:
    """The last state written, or {} when there is none (never started) or it cannot be read."""
    try:
        values = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return values if isinstance(values, dict) else {}
