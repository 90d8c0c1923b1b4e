"""Enumerations whose members are their text: what is stored in a VARCHAR column and shown in JSON."""

from __future__ import annotations

import enum


class TextEnum(str, enum.Enum):
    """A str enum whose str() and format() are its value, as Python 3.11's StrEnum (this runs on 3.10 too).

    Database drivers that turn a parameter into text with str() (PyMySQL does) then store 'warning', not
    'IncidentStatus.WARNING'."""

    def __str__(self) -> str:
        return str(self.value)

    def __format__(self, format_spec: str) -> str:
        return format(str(self.value), format_spec)
