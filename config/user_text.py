"""Text that people give the platform on the command line or through the API (job names, cron expressions,
silence patterns, descriptions): one rule per kind of text, checked by the code both of them call, so the two
accept exactly the same. Each rule's length fits the column that stores the text on every backend.

Control characters are refused (a name is typed and shown on terminals, and PostgreSQL cannot store NUL), and so
are lone surrogates: what Python makes of bytes that are not UTF-8 on the command line, which no database encodes.
"""

from __future__ import annotations

import re
from typing import NamedTuple

# C0 and C1 controls, DEL, the Unicode line and paragraph separators; and lone surrogates.
_CONTROL_CHARACTERS = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029"
_CONTROLS = _CONTROL_CHARACTERS + "\ud800-\udfff"
_LINE_BREAKS_AND_TABS = "\t\n\r"


def _escaped(characters: str) -> str:
    """`characters` (a regex class body) with each one that is not printable ASCII as a \\uXXXX escape, which
    both Python and JSON Schema (ECMA-262) patterns read."""
    return "".join(char if char.isascii() and char.isprintable() else f"\\u{ord(char):04x}" for char in characters)


class TextRule(NamedTuple):
    what: str  # "a name", "text"
    max_length: int
    min_length: int = 0
    multiline: bool = False  # line breaks and tabs allowed (descriptions, reasons)
    trimmed: bool = False  # no white space at either end

    @property
    def allowed(self) -> str:
        """What the rule takes, for `... is invalid; expected <allowed>`."""
        size = f"{self.min_length} to {self.max_length}" if self.min_length else f"at most {self.max_length}"
        shape = "" if self.multiline else " on one line"
        ends = " or white space at either end" if self.trimmed else ""
        return f"{self.what} of {size} characters{shape}, without control characters{ends}"

    @property
    def pattern(self) -> str:
        """The rule but its lengths as a regular expression, for the API's published schema. A JSON Schema pattern
        matches characters, which a lone surrogate is not (nor can it be written in UTF-8): it is left out."""
        controls = _CONTROL_CHARACTERS if self.multiline else _CONTROL_CHARACTERS + _LINE_BREAKS_AND_TABS
        forbidden = _escaped(controls)
        if self.trimmed:
            return rf"^(?:[^\s{forbidden}](?:[^{forbidden}]*[^\s{forbidden}])?)?$"
        return rf"^[^{forbidden}]*$"

    def admits(self, text: str) -> bool:
        forbidden = _CONTROLS if self.multiline else _CONTROLS + _LINE_BREAKS_AND_TABS
        return (
            self.min_length <= len(text) <= self.max_length
            and re.search(f"[{forbidden}]", text) is None
            and not (self.trimmed and text != text.strip())
        )


# Each sized to its column in storage/tables.py (tests/test_user_text.py holds them to it).
JOB_NAME = TextRule("a name", 128, min_length=1, trimmed=True)  # jobs.name, job_executions.job_name
CRON_EXPRESSION = TextRule("a cron expression", 128, min_length=1)  # jobs.cron_expression
SCRIPT_PATH = TextRule("a path", 1024, min_length=1)  # jobs.script_path
DESCRIPTION = TextRule("text", 10_000, multiline=True)  # jobs.description (TEXT: the limit is ours)
SILENCE_PATTERN = TextRule("a glob", 512, min_length=1, trimmed=True)  # alert_silences.pattern
SILENCE_REASON = TextRule("text", 1000, multiline=True)  # alert_silences.reason (TEXT: the limit is ours)
ACKNOWLEDGED_BY = TextRule("a name", 255, min_length=1, trimmed=True)  # alert_incidents.acknowledged_by
HOST_NAME = TextRule("a host name", 255, min_length=1, trimmed=True)  # hosts.name
