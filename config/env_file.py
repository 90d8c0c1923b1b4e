""".env files read with python-dotenv's parser, strictly: a line it cannot parse, a key without `=`, or bytes that
are not UTF-8 stop the program with one line naming the file and the line, instead of dotenv's logged warning and
a setting silently left at its default. A UTF-8 byte-order mark (Notepad's "UTF-8 with BOM") is accepted."""

from __future__ import annotations

import codecs
import io
import logging
import re
from pathlib import Path

from dotenv.main import resolve_variables
from dotenv.parser import parse_stream

from config.fields import ConfigError

log = logging.getLogger("automation.config")
_UTF16_MARKS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


class EnvFileError(ConfigError):
    """A .env file that cannot be read as KEY=VALUE lines; str() is `FILE, line N: problem` (`FILE: problem` when
    the file cannot be read at all)."""

    def __init__(self, path: Path, line: int | None, problem: str) -> None:
        self.path, self.line = path, line
        self.key, self.value, self.allowed = str(path), line, problem
        ValueError.__init__(self, f"{path}{'' if line is None else f', line {line}'}: {problem}")


def read_env_file(path: Path) -> dict[str, str]:
    """Every KEY=VALUE of the file, `${VAR}` expanded as python-dotenv does; raises EnvFileError."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise EnvFileError(path, None, f"cannot be read ({error.strerror or error})") from None
    text = _decoded(path, data)
    values: dict[str, str | None] = {}
    lines: dict[str, int] = {}
    for binding in parse_stream(io.StringIO(text)):
        line = _first_line(binding.original.string, binding.original.line)
        if binding.error:
            start = re.match(r"\s*([^\s=]{0,60})", binding.original.string)
            raise EnvFileError(
                path,
                line,
                f"cannot parse the line starting {start.group(1) if start else ''!r}; expected KEY=VALUE with "
                f"matching quotes around a value",  # the value itself is not shown: it may be a secret
            )
        if binding.key is None:
            continue  # a blank line or a comment
        if binding.value is None:
            raise EnvFileError(path, line, f"{binding.key!r} has no '='; expected KEY=VALUE (KEY= for the default)")
        if binding.key in lines:
            log.warning(
                "%s: %s is set on lines %d and %d; line %d wins", path, binding.key, lines[binding.key], line, line
            )
        values[binding.key], lines[binding.key] = binding.value, line
    return {key: value for key, value in resolve_variables(values.items(), override=True).items() if value is not None}


def _decoded(path: Path, data: bytes) -> str:
    if data.startswith(_UTF16_MARKS):
        raise EnvFileError(path, 1, "the file is UTF-16; save it as UTF-8")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        byte = data[error.start : error.start + 1].hex()
        raise EnvFileError(path, line, f"byte 0x{byte} is not UTF-8; save the file as UTF-8") from None


def _first_line(original: str, line: int) -> int:
    """dotenv's statement starts with the blank lines before it: the line of its first character."""
    leading = original[: len(original) - len(original.lstrip())]
    return line + leading.count("\n") + leading.count("\r") - leading.count("\r\n")
