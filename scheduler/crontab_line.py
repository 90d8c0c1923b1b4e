"""A crontab line that OS cron (Vixie cron, cronie) runs exactly as the platform's scheduler would.

The schedule: a field already in the syntax every cron reads (`*`, `N`, `N-M`, `*/S`, `N-M/S`, lists of them) is
kept as written, so cron's daylight-saving rules (which look at a leading `*`) treat it as the scheduler does;
any other field croniter accepts is written out as the numbers it stands for (`mon-fri` -> `1-5`, `?` -> `*`,
`5/15` -> `5,20,35,50`, `55-5` -> `0-5,55-59`). `L` (last day), `W` (nearest weekday) and `#` (nth weekday) have
no cron equivalent: such a schedule is refused.

The command: cron turns an unescaped `%` into a newline and feeds the rest to stdin, so each `%` is written `\\%`;
a command holding a line break cannot be written on one line at all and is refused.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from croniter import croniter

from scheduler.cron import ALIASES, FIELDS, CronField, CronSchedule

# Per field the features cron lacks, looked for in the field as written (day-of-month has no names, so any L or
# W there is the operator; no day name holds an l).
_UNSUPPORTED = {
    2: (("l", "'L' (the last day of the month)"), ("w", "'W' (the weekday nearest a day)")),
    4: (("#", "'#' (the nth weekday of the month)"), ("l", "'L' (the last weekday of the month)")),
}


class NotCronable(ValueError):
    """A schedule or command OS cron cannot run as the platform would; str() says what it lacks."""


def crontab_line(schedule: CronSchedule, command: str) -> str:
    """`FIELDS COMMAND`, or NotCronable."""
    if "\n" in command or "\r" in command:
        raise NotCronable(f"the command {command!r} holds a line break, which a crontab line cannot")
    escaped = command.replace("%", "\\%")
    return f"{crontab_schedule(schedule)} {escaped}"


def crontab_schedule(schedule: CronSchedule) -> str:
    text = " ".join(schedule.expression.split())
    if text.lower() in ALIASES:
        return text.lower()  # every cron knows the aliases the platform takes
    values = schedule.fields.split()
    expanded = croniter(schedule.fields).expanded
    return " ".join(_field(field, values[index], expanded[index], index) for index, field in enumerate(FIELDS))


def _field(field: CronField, written: str, numbers: Sequence[int | str], index: int) -> str:
    """The field in portable syntax, with the same values and the same "starts with `*`" as the scheduler reads
    it: cron ORs the day fields only when neither starts with `*` (croniter: neither stands for every day), and
    follows real time through daylight-saving changes when minute or hour does (as scheduler.cron)."""
    for mark, meaning in _UNSUPPORTED.get(index, ()):
        if mark in written.lower():
            raise NotCronable(f"the {field.name} field {written!r} uses {meaning}, which OS cron lacks")
    every = numbers == ["*"]
    starred = written.startswith("*") if field.name in ("minute", "hour") else every
    if _portable(written, field) and written.startswith("*") == starred:
        return written
    if starred:
        if every:
            return "*"
        raise NotCronable(f"the {field.name} field {written!r} has no form every cron reads the same")
    values = range(field.low, field.high + 1) if every else {int(number) for number in numbers}
    return ",".join(_runs(sorted(values)))


def _portable(written: str, field: CronField) -> bool:
    for item in written.split(","):
        match = re.fullmatch(r"(\*|([0-9]+)(-([0-9]+))?)(/([0-9]+))?", item)
        if match is None:
            return False
        _, low, _, high, _, step = match.groups()
        if low is not None and step is not None and high is None:
            return False  # `N/S`: some crons read N-max/S, some N alone
        if low is not None and not field.low <= int(low) <= int(high or low) <= field.high:
            return False  # `N-M` needs N <= M in every cron
        if step is not None and not 1 <= int(step) <= field.high:
            return False
    return True


def _runs(numbers: list[int]) -> list[str]:
    """[0, 1, 2, 5] -> ['0-2', '5']."""
    runs: list[list[int]] = []
    for number in numbers:
        if runs and number == runs[-1][1] + 1:
            runs[-1][1] = number
        else:
            runs.append([number, number])
    return [f"{low}-{high}" if high > low else str(low) for low, high in runs]
