"""Task Scheduler XML: parsed back, its triggers must fire exactly when the cron expression does."""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from croniter import croniter

from scheduler.schtasks import NAMESPACE, NotExpressible, task_xml
from tests.conftest import MAIN, Workspace

NS = {"t": NAMESPACE}
DAYS = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")
MONTHS = (
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
FIRST, LAST = date(2026, 1, 1), date(2026, 3, 31)


def _minutes(duration: str) -> int:
    assert duration.startswith("PT") and duration[-1] in "MH"
    return int(duration[2:-1]) * (60 if duration.endswith("H") else 1)


def _day_matches(trigger: ElementTree.Element, day: date) -> bool:
    """The subset of Task Scheduler's day rules the generator writes."""
    if trigger.find("t:ScheduleByDay", NS) is not None:
        return True
    weekday = DAYS[(day.weekday() + 1) % 7]
    by_week = trigger.find("t:ScheduleByWeek", NS)
    if by_week is not None:
        return by_week.find(f"t:DaysOfWeek/t:{weekday}", NS) is not None
    by_month = trigger.find("t:ScheduleByMonth", NS)
    if by_month is not None:
        in_days = str(day.day) in [item.text for item in by_month.findall("t:DaysOfMonth/t:Day", NS)]
        return in_days and by_month.find(f"t:Months/t:{MONTHS[day.month - 1]}", NS) is not None
    by_month_weekday = trigger.find("t:ScheduleByMonthDayOfWeek", NS)
    assert by_month_weekday is not None
    return (
        by_month_weekday.find(f"t:DaysOfWeek/t:{weekday}", NS) is not None
        and by_month_weekday.find(f"t:Months/t:{MONTHS[day.month - 1]}", NS) is not None
    )


def task_fire_times(root: ElementTree.Element) -> set[datetime]:
    fired: set[datetime] = set()
    for trigger in root.findall("t:Triggers/t:CalendarTrigger", NS):
        start = datetime.fromisoformat(trigger.findtext("t:StartBoundary", namespaces=NS))
        repetition = trigger.find("t:Repetition", NS)
        offsets = [0]
        if repetition is not None:
            interval = _minutes(repetition.findtext("t:Interval", namespaces=NS))
            duration = _minutes(repetition.findtext("t:Duration", namespaces=NS))
            offsets = list(range(0, duration, interval))
        day = FIRST
        while day <= LAST:
            if _day_matches(trigger, day):
                base = datetime.combine(day, start.time())
                fired.update(base + timedelta(minutes=offset) for offset in offsets)
            day += timedelta(days=1)
    return fired


def cron_fire_times(expression: str) -> set[datetime]:
    matches = croniter(expression, datetime.combine(FIRST, datetime.min.time()) - timedelta(seconds=1))
    fired = set()
    while (moment := matches.get_next(datetime)).date() <= LAST:
        fired.add(moment)
    return fired


@pytest.mark.parametrize(
    "expression",
    [
        "*/5 * * * *",
        "* * * * *",
        "0 * * * *",
        "0 3 * * *",
        "0 3 * * 1-5",
        "0 0 13 * 5",
        "*/15 8-17 * * *",
        "0 */6 * * *",
        "15,45 9,18 1 jan,mar *",
        "30 8 * feb sun",
        "5-55/10 22-23 * * *",
        "0 0 1 * *",
        "@weekly",
    ],
)
@pytest.mark.slow
def test_the_triggers_fire_when_cron_would(expression: str) -> None:
    task = task_xml(expression, "d", "python.exe", "main.py jobs run x --trigger os-cron", "C:\\p", 60).getroot()
    assert task_fire_times(task) == cron_fire_times(expression)


@pytest.mark.parametrize(
    ("expression", "reason"),
    [
        ("*/7 * * * *", "not every N minutes with N dividing 60"),
        ("1,2,3,4,5,6,7 1,2,3,4,5,6,7,8 * * *", "not every N minutes with N dividing 60"),
        (
            "0,20 1,2,3,4,5,6,7,8,11,13,17,19,23 13 * 5",
            "would need 52 Task Scheduler triggers",
        ),  # 26 times x 2 day rules
    ],
)
def test_schedules_task_scheduler_cannot_express_are_refused(expression: str, reason: str) -> None:
    with pytest.raises(NotExpressible) as raised:
        task_xml(expression, "d", "python.exe", "", "C:\\p", 60)
    assert reason in str(raised.value)


def test_jobs_schtasks_writes_the_xml_and_prints_the_command(workspace: Workspace) -> None:
    assert workspace.run("db", "init", script=MAIN).returncode == 0
    output = workspace.path / "task.xml"
    result = workspace.run("jobs", "schtasks", "system_monitoring", "--output", str(output), script=MAIN)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f'schtasks /Create /XML "{output}" /TN "system_monitoring" /F'
    raw = output.read_bytes()
    assert raw.startswith(b"\xff\xfe")  # UTF-16 with its byte-order mark, as schtasks reads it
    root = ElementTree.fromstring(raw.decode("utf-16").split("?>", 1)[1])
    settings = root.find("t:Settings", NS)
    assert settings.findtext("t:MultipleInstancesPolicy", namespaces=NS) == "IgnoreNew"
    assert settings.findtext("t:ExecutionTimeLimit", namespaces=NS) == "PT60S"
    assert root.findtext("t:Actions/t:Exec/t:Arguments", namespaces=NS) == (
        "main.py jobs run system_monitoring --trigger os-cron"
    )
    assert Path(root.findtext("t:Actions/t:Exec/t:WorkingDirectory", namespaces=NS)) == MAIN.parent
    assert task_fire_times(root) == cron_fire_times("*/5 * * * *")


def test_jobs_schtasks_quotes_a_name_with_spaces_and_makes_a_file_name_of_it(workspace: Workspace) -> None:
    name = "backup /srv data"
    added = workspace.run("jobs", "add", name, "--cron", "@daily", "--type", "monitoring", script=MAIN)
    assert added.returncode == 0, added.stderr
    result = workspace.run("jobs", "schtasks", name, script=MAIN, cwd=workspace.path)
    assert result.returncode == 0, result.stderr
    output = workspace.path / "backup _srv data.xml"
    root = ElementTree.fromstring(output.read_bytes().decode("utf-16").split("?>", 1)[1])
    arguments = root.findtext("t:Actions/t:Exec/t:Arguments", namespaces=NS)
    assert arguments == 'main.py jobs run "backup /srv data" --trigger os-cron'  # one argument to Windows
    unwritable = workspace.run("jobs", "schtasks", name, "--output", str(workspace.path / "no" / "t.xml"), script=MAIN)
    assert unwritable.returncode == 2
    assert unwritable.stderr.startswith(f"error: --output='{workspace.path / 'no' / 't.xml'}' is invalid; expected a")


def test_jobs_schtasks_refuses_an_inexpressible_schedule(workspace: Workspace) -> None:
    assert workspace.run("db", "init", script=MAIN).returncode == 0
    assert workspace.run("jobs", "edit", "system_monitoring", "--cron", "*/7 * * * *", script=MAIN).returncode == 0
    result = workspace.run(
        "jobs", "schtasks", "system_monitoring", "--output", str(workspace.path / "t.xml"), script=MAIN
    )
    assert result.returncode == 2 and not (workspace.path / "t.xml").exists()
    assert result.stderr.startswith(
        "error: cron_expression='*/7 * * * *' is invalid; expected a schedule Task Scheduler can express"
    )
