"""`jobs cron-line`: a crontab line OS cron runs as the scheduler would, or one line saying why there is none."""

from __future__ import annotations

import shlex
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from scheduler.cron import fire_times, parse_cron
from scheduler.crontab_line import NotCronable, crontab_line
from tests.conftest import MAIN, Workspace

UTC = ZoneInfo("UTC")

TRANSLATED = [
    ("*/5 * * * *", "*/5 * * * *"),
    ("@daily", "@daily"),
    ("0 9 * * MON-FRI", "0 9 * * 1-5"),  # names in ranges: not every cron reads them
    ("0 0 1 jul *", "0 0 1 7 *"),
    ("0 0 ? * *", "0 0 * * *"),
    ("5/15 * * * *", "5,20,35,50 * * * *"),  # `N/S`: N-59/S to croniter, N alone to some crons
    ("55-5 * * * *", "0-5,55-59 * * * *"),  # a range that wraps
    ("0 22-2 * * *", "0 0-2,22-23 * * *"),
    ("0/1 * * * *", "0-59 * * * *"),  # every minute, yet a fixed-time job: no leading `*`
    ("0 0 */10 * 1", "0 0 1,11,21,31 * 1"),  # both day fields restricted: cron ORs them only without a `*`
    ("0 0 1-31 * 1", "0 0 1-31 * 1"),
]


@pytest.mark.parametrize(("expression", "line"), TRANSLATED, ids=[expression for expression, _ in TRANSLATED])
def test_a_schedule_is_written_in_the_syntax_every_cron_reads_and_fires_at_the_same_times(
    expression: str, line: str
) -> None:
    written = crontab_line(parse_cron(expression, UTC), "true")
    assert written == f"{line} true"
    start = datetime(2024, 1, 1, tzinfo=timezone.utc)
    assert fire_times(parse_cron(line, UTC), start, 400) == fire_times(parse_cron(expression, UTC), start, 400)


REFUSED = [
    ("0 0 L * *", "the day-of-month field 'L' uses 'L' (the last day of the month), which OS cron lacks"),
    ("0 0 1,L * *", "the day-of-month field '1,L' uses 'L'"),
    ("0 0 15W * *", "the day-of-month field '15W' uses 'W' (the weekday nearest a day)"),
    ("0 9 * * 5#3", "the day-of-week field '5#3' uses '#' (the nth weekday of the month)"),
    ("0 9 * * L5", "the day-of-week field 'L5' uses 'L' (the last weekday of the month)"),
    ("*/90 * * * *", "the minute field '*/90' has no form every cron reads the same"),
]


@pytest.mark.parametrize(("expression", "message"), REFUSED, ids=[expression for expression, _ in REFUSED])
def test_what_cron_lacks_is_refused(expression: str, message: str) -> None:
    with pytest.raises(NotCronable) as raised:
        crontab_line(parse_cron(expression, UTC), "true")
    assert str(raised.value).startswith(message)


def test_percent_signs_are_escaped_and_line_breaks_refused() -> None:
    schedule = parse_cron("@hourly", UTC)
    assert crontab_line(schedule, "date +%H:%M 'at 50%'") == r"@hourly date +\%H:\%M 'at 50\%'"
    with pytest.raises(NotCronable, match="holds a line break"):
        crontab_line(schedule, "true\n* * * * * rm -rf /")


@pytest.mark.slow
def test_cron_line_of_a_job_escapes_its_name_and_refuses_what_cron_lacks(workspace: Workspace) -> None:
    workspace.write_env(SCHEDULER_TIMEZONE="UTC")
    for name, cron in (("50%-check", "0 9 * * mon-fri"), ("third-friday", "0 9 * * 5#3")):
        added = workspace.run(
            "jobs", "add", name, "--cron", cron, "--type", "monitoring", "--tz", "Asia/Tokyo", script=MAIN
        )
        assert added.returncode == 0, added.stderr
    printed = workspace.run("jobs", "cron-line", "50%-check", script=MAIN)
    assert printed.returncode == 0, printed.stderr
    zone_line, line = printed.stdout.splitlines()
    assert zone_line == "CRON_TZ=Asia/Tokyo"  # the job's own zone, not SCHEDULER_TIMEZONE
    assert line.startswith("0 9 * * 1-5 cd ")
    assert line.endswith(r"main.py jobs run 50\%-check --trigger os-cron")
    assert shlex.split(line.replace("\\%", "%"))[-3:] == ["50%-check", "--trigger", "os-cron"]  # as cron hands it on
    refused = workspace.run("jobs", "cron-line", "third-friday", script=MAIN)
    assert refused.returncode == 2 and refused.stdout == ""
    assert refused.stderr == (
        "error: cron_expression='0 9 * * 5#3' is invalid; expected a schedule OS cron can run: the day-of-week "
        "field '5#3' uses '#' (the nth weekday of the month), which OS cron lacks\n"
    )
