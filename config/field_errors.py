"""One error for a bad value given on the command line or to the API, named as each of them names it."""

from __future__ import annotations

from typing import ClassVar


class FieldError(ValueError):
    """str() names the value as the command line does (`CLI_NAMES`: `--cron`, `PATTERN`); `field_message` as the
    API does (the field). Both read `NAME='value' <complaint>`, the complaint saying what is allowed."""

    CLI_NAMES: ClassVar[dict[str, str]] = {}

    def __init__(self, field: str, value: object, complaint: str) -> None:
        self.field, self.value, self.complaint = field, value, complaint
        super().__init__(self._message(self.CLI_NAMES.get(field, field)))

    @property
    def field_message(self) -> str:
        return self._message(self.field)

    def _message(self, name: str) -> str:
        return f"{name}={self.value!r} {self.complaint}"
