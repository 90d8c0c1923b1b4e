"""Windows Task Scheduler XML for a job: triggers from its cron expression, ExecutionTimeLimit from its
timeout, MultipleInstancesPolicy IgnoreNew (no overlapping runs), StartWhenAvailable (a missed start runs when
the machine is back). The action runs `main.py jobs run NAME --trigger os-cron`, so the run is recorded.

Task Scheduler repeats at a fixed interval from a start time and has no minute lists, so an expression becomes:
- a repetition when the minutes are every N minutes (N divides 60) over a run of consecutive hours, or the
  hours every K hours (K divides 24) at one minute;
- otherwise one trigger per time of day, at most MAX_TRIGGERS;
- days: every day, days of the week, days of the month (and months), or both (cron's OR: two triggers).
An expression beyond that (`*/7 * * * *` restarts at each full hour) is refused with the reason.
"""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from collections.abc import Callable, Sequence
from itertools import pairwise, product

from croniter import croniter

NAMESPACE = "http://schemas.microsoft.com/windows/2004/02/mit/task"
MAX_TRIGGERS = 48
START_DATE = "2026-01-01"
_DAY_NAMES = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")
_MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
# Adds the schedule element (by day, by week, by month) to a trigger.
DayRule = Callable[[ElementTree.Element], None]


class NotExpressible(ValueError):
    """str() says why Task Scheduler cannot run this expression."""


def task_xml(
    expression: str, description: str, command: str, arguments: str, working_directory: str, timeout_seconds: int | None
) -> ElementTree.ElementTree:
    """The task definition; raises NotExpressible for schedules Task Scheduler has no triggers for."""
    ElementTree.register_namespace("", NAMESPACE)
    task = _element(None, "Task", version="1.2")
    _element(_element(task, "RegistrationInfo"), "Description", text=description)
    triggers = _element(task, "Triggers")
    for start, repetition, day_rule in _triggers(expression):
        trigger = _element(triggers, "CalendarTrigger")
        _element(trigger, "StartBoundary", text=f"{START_DATE}T{start}:00")
        if repetition is not None:
            interval, duration = repetition
            repeat = _element(trigger, "Repetition")
            _element(repeat, "Interval", text=interval)
            _element(repeat, "Duration", text=duration)
            _element(repeat, "StopAtDurationEnd", text="false")
        day_rule(trigger)
    settings = _element(task, "Settings")
    _element(settings, "MultipleInstancesPolicy", text="IgnoreNew")
    _element(settings, "StartWhenAvailable", text="true")
    _element(settings, "ExecutionTimeLimit", text=f"PT{timeout_seconds}S" if timeout_seconds else "PT0S")
    _element(settings, "Enabled", text="true")
    action = _element(_element(task, "Actions", Context="Author"), "Exec")
    _element(action, "Command", text=command)
    _element(action, "Arguments", text=arguments)
    _element(action, "WorkingDirectory", text=working_directory)
    return ElementTree.ElementTree(task)


def _element(
    parent: ElementTree.Element | None, tag: str, text: str | None = None, **attributes: str
) -> ElementTree.Element:
    name = f"{{{NAMESPACE}}}{tag}"
    element = (
        ElementTree.Element(name, attributes) if parent is None else ElementTree.SubElement(parent, name, attributes)
    )
    element.text = text
    return element


def _triggers(expression: str) -> list[tuple[str, tuple[str, str] | None, DayRule]]:
    minutes, hours, days, months, weekdays = croniter(expression).expanded
    times = _times_of_day(minutes, hours)
    rules = _day_rules(days, months, weekdays)
    if len(times) * len(rules) > MAX_TRIGGERS:
        raise NotExpressible(
            f"{expression!r} would need {len(times) * len(rules)} Task Scheduler triggers "
            f"(at most {MAX_TRIGGERS}): use fewer times of day or an every-N-minutes step"
        )
    return [(start, repetition, rule) for (start, repetition), rule in product(times, rules)]


def _times_of_day(minutes: Sequence, hours: Sequence) -> list[tuple[str, tuple[str, str] | None]]:
    all_hours = list(range(24)) if hours == ["*"] else list(hours)
    all_minutes = list(range(60)) if minutes == ["*"] else list(minutes)
    step = _even_step(all_minutes, 60)
    runs = _consecutive_runs(all_hours)
    if step is not None and len(all_minutes) > 1:  # every `step` minutes through runs of consecutive hours
        return [
            (f"{first:02d}:{all_minutes[0]:02d}", (f"PT{step}M", _through(count * 60, step))) for first, count in runs
        ]
    if len(all_minutes) > 1 and step is None and len(all_minutes) * len(all_hours) > MAX_TRIGGERS:
        raise NotExpressible(
            f"minutes {all_minutes} are not every N minutes with N dividing 60, which is all Task Scheduler can repeat"
        )
    hour_step = _even_step(all_hours, 24)
    if len(all_minutes) == 1 and hour_step is not None and len(all_hours) > 1:
        return [(f"{all_hours[0]:02d}:{all_minutes[0]:02d}", (f"PT{hour_step}H", _through(24 * 60, hour_step * 60)))]
    return [(f"{hour:02d}:{minute:02d}", None) for hour, minute in product(all_hours, all_minutes)]


def _through(span_minutes: int, step_minutes: int) -> str:
    """A repetition duration that includes the last start of the span and not the next span's first."""
    return f"PT{span_minutes - step_minutes + 1}M"


def _even_step(values: list[int], cycle: int) -> int | None:
    """N when `values` are 0 (or a start), N, 2N... around the whole cycle with N dividing it."""
    if len(values) < 2:
        return None
    step = values[1] - values[0]
    if cycle % step or len(values) != cycle // step:
        return None
    return step if all(b - a == step for a, b in pairwise(values)) else None


def _consecutive_runs(hours: list[int]) -> list[tuple[int, int]]:
    """[(first hour, number of hours)] of consecutive hours: 8-17 is one run of 10."""
    runs: list[tuple[int, int]] = []
    for hour in hours:
        if runs and runs[-1][0] + runs[-1][1] == hour:
            runs[-1] = (runs[-1][0], runs[-1][1] + 1)
        else:
            runs.append((hour, 1))
    return runs


def _day_rules(days: Sequence, months: Sequence, weekdays: Sequence) -> list[DayRule]:
    """Callables that add the schedule element of a trigger; cron's day-of-month OR day-of-week gives two."""
    month_list = list(range(1, 13)) if months == ["*"] else list(months)
    rules: list[DayRule] = []
    if days == ["*"] and weekdays == ["*"]:
        if months == ["*"]:
            return [lambda trigger: _set_text(_element(_element(trigger, "ScheduleByDay"), "DaysInterval"), "1")]
        return [lambda trigger: _by_month(trigger, list(range(1, 32)), month_list)]
    if days != ["*"]:
        rules.append(lambda trigger: _by_month(trigger, list(days), month_list))
    if weekdays != ["*"]:
        week_days = sorted({day % 7 for day in weekdays})
        rules.append(lambda trigger: _by_weekday(trigger, week_days, month_list))
    return rules


def _set_text(element: ElementTree.Element, text: str) -> None:
    element.text = text


def _by_month(trigger: ElementTree.Element, days: list[int], months: list[int]) -> None:
    schedule = _element(trigger, "ScheduleByMonth")
    day_list = _element(schedule, "DaysOfMonth")
    for day in days:
        _element(day_list, "Day", text=str(day))
    _months(schedule, months)


def _by_weekday(trigger: ElementTree.Element, weekdays: list[int], months: list[int]) -> None:
    if len(months) == 12:
        schedule = _element(trigger, "ScheduleByWeek")
        _element(schedule, "WeeksInterval", text="1")
    else:
        schedule = _element(trigger, "ScheduleByMonthDayOfWeek")
        weeks = _element(schedule, "Weeks")
        for week in ("1", "2", "3", "4", "Last"):
            _element(weeks, "Week", text=week)
    day_list = _element(schedule, "DaysOfWeek")
    for day in weekdays:
        _element(day_list, _DAY_NAMES[day])
    if len(months) < 12:
        _months(schedule, months)


def _months(schedule: ElementTree.Element, months: list[int]) -> None:
    month_list = _element(schedule, "Months")
    for month in months:
        _element(month_list, _MONTH_NAMES[month - 1])
