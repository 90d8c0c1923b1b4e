"""Cron semantics: validation, day-of-month OR day-of-week, and daylight-saving changes as cron handles them."""

from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from scheduler.cron import CronError, fire_times, parse_cron
from tests.conftest import MAIN, Workspace

NEW_YORK = ZoneInfo("America/New_York")  # 2024: forward 03-10 02:00 -> 03:00, back 11-03 02:00 -> 01:00
BERLIN = ZoneInfo("Europe/Berlin")  # 2024: forward 03-31 02:00 -> 03:00, back 10-27 03:00 -> 02:00
UTC = ZoneInfo("UTC")


def times(expression: str, zone: ZoneInfo, start: datetime, count: int) -> list[str]:
    """Fire times as ISO strings with offsets: what a person checks."""
    return [moment.isoformat() for moment in fire_times(parse_cron(expression, zone), start, count)]


@pytest.mark.parametrize(
    ("expression", "problem"),
    [
        ("0 0 31 2 *", "can never fire"),
        ("0 0 30 2 *", "can never fire"),
        ("61 * * * *", "is invalid"),
        ("* * * * * *", "is invalid"),  # seconds/years fields are not cron
        ("* * * *", "is invalid"),
        ("@reboot", "is invalid"),
        ("every five minutes", "is invalid"),
        ("", "is invalid"),
    ],
)
def test_bad_expressions_are_refused_with_one_line(expression: str, problem: str) -> None:
    with pytest.raises(CronError) as raised:
        parse_cron(expression, UTC)
    assert problem in str(raised.value) and repr(expression) in str(raised.value)
    assert "\n" not in str(raised.value)


FIELD_ERRORS = [
    ("61 * * * *", "the minute field '61' is out of range; expected 0-59 as *, N, N-M, */S or N-M/S"),
    ("0 24 * * *", "the hour field '24' is out of range; expected 0-23"),
    ("0 0 0 * *", "the day-of-month field '0' is out of range; expected 1-31"),
    ("0 0 * 1-13 *", "the month field '1-13' is out of range; expected 1-12 or jan-dec"),
    ("0 0 * * 8", "the day-of-week field '8' is out of range; expected 0-7 or sun-sat (0 and 7 are Sunday)"),
    ("*/0 * * * *", "the minute field '*/0' is malformed; expected 0-59"),
    ("0 0 * * funday", "the day-of-week field 'funday' is malformed"),
]


@pytest.mark.parametrize(("expression", "problem"), FIELD_ERRORS, ids=[expression for expression, _ in FIELD_ERRORS])
def test_a_bad_field_is_named_with_its_range(expression: str, problem: str) -> None:
    with pytest.raises(CronError) as raised:
        parse_cron(expression, UTC)
    assert str(raised.value).startswith(f"cron expression {expression!r} is invalid: {problem}")


def test_leap_day_is_rare_but_possible() -> None:
    assert times("0 0 29 2 *", UTC, datetime(2025, 1, 1, tzinfo=timezone.utc), 2) == [
        "2028-02-29T00:00:00+00:00",
        "2032-02-29T00:00:00+00:00",
    ]


def test_aliases_and_59_slash_15() -> None:
    start = datetime(2024, 1, 1, tzinfo=timezone.utc)
    assert times("@hourly", UTC, start, 2) == ["2024-01-01T01:00:00+00:00", "2024-01-01T02:00:00+00:00"]
    assert times("@weekly", UTC, start, 1) == ["2024-01-07T00:00:00+00:00"]  # Sunday
    assert times("@yearly", UTC, start, 1) == ["2025-01-01T00:00:00+00:00"]
    assert times("59/15 * * * *", UTC, start, 2) == ["2024-01-01T00:59:00+00:00", "2024-01-01T01:59:00+00:00"]


def test_day_of_month_or_day_of_week() -> None:
    """Both restricted: either matches (the 13th, and every Friday)."""
    assert times("0 0 13 * 5", UTC, datetime(2024, 9, 1, tzinfo=timezone.utc), 4) == [
        "2024-09-06T00:00:00+00:00",
        "2024-09-13T00:00:00+00:00",
        "2024-09-20T00:00:00+00:00",
        "2024-09-27T00:00:00+00:00",
    ]


@pytest.mark.parametrize(
    ("zone", "start", "expected"),
    [
        (NEW_YORK, datetime(2024, 3, 9, 12), ["2024-03-10T03:00:00-04:00", "2024-03-11T02:30:00-04:00"]),
        (BERLIN, datetime(2024, 3, 30, 12), ["2024-03-31T03:00:00+02:00", "2024-04-01T02:30:00+02:00"]),
    ],
    ids=["new-york", "berlin"],
)
def test_a_fixed_time_in_the_skipped_hour_runs_once_right_after_the_gap(
    zone: ZoneInfo, start: datetime, expected: list[str]
) -> None:
    assert times("30 2 * * *", zone, start.replace(tzinfo=zone), 2) == expected
    assert times("0,30 2 * * *", zone, start.replace(tzinfo=zone), 1) == expected[:1]  # once, not twice


@pytest.mark.parametrize(
    ("zone", "expression", "start", "expected"),
    [
        (NEW_YORK, "30 1 * * *", datetime(2024, 11, 2, 12), ["2024-11-03T01:30:00-04:00", "2024-11-04T01:30:00-05:00"]),
        (BERLIN, "30 2 * * *", datetime(2024, 10, 26, 12), ["2024-10-27T02:30:00+02:00", "2024-10-28T02:30:00+01:00"]),
    ],
    ids=["new-york", "berlin"],
)
def test_a_fixed_time_in_the_repeated_hour_runs_once(
    zone: ZoneInfo, expression: str, start: datetime, expected: list[str]
) -> None:
    assert times(expression, zone, start.replace(tzinfo=zone), 2) == expected


@pytest.mark.parametrize(
    ("zone", "start", "expected"),
    [
        (NEW_YORK, datetime(2024, 3, 10, 1, 10), ["01:30-05:00", "03:00-04:00", "03:30-04:00"]),
        (
            NEW_YORK,
            datetime(2024, 11, 3, 0, 40),
            ["01:00-04:00", "01:30-04:00", "01:00-05:00", "01:30-05:00", "02:00-05:00"],
        ),
        (BERLIN, datetime(2024, 3, 31, 1, 10), ["01:30+01:00", "03:00+02:00", "03:30+02:00"]),
        (
            BERLIN,
            datetime(2024, 10, 27, 1, 40),
            ["02:00+02:00", "02:30+02:00", "02:00+01:00", "02:30+01:00", "03:00+01:00"],
        ),
    ],
    ids=["new-york-spring", "new-york-autumn", "berlin-spring", "berlin-autumn"],
)
def test_jobs_every_n_minutes_follow_real_time_through_both_changes(
    zone: ZoneInfo, start: datetime, expected: list[str]
) -> None:
    found = times("*/30 * * * *", zone, start.replace(tzinfo=zone), len(expected))
    assert [moment[11:16] + moment[19:] for moment in found] == expected
    gaps = {
        (b - a).total_seconds()
        for a, b in zip(map(datetime.fromisoformat, found), map(datetime.fromisoformat, found[1:]), strict=False)
    }
    assert gaps == {1800.0}  # every 30 real minutes, no gap and no double


def test_counting_from_inside_the_second_pass_of_the_repeated_hour() -> None:
    start = datetime(2024, 11, 3, 1, 10, tzinfo=NEW_YORK).replace(fold=1)  # 01:10 EST
    assert times("*/30 * * * *", NEW_YORK, start, 2) == ["2024-11-03T01:30:00-05:00", "2024-11-03T02:00:00-05:00"]
    assert times("30 1 * * *", NEW_YORK, start, 1) == ["2024-11-04T01:30:00-05:00"]  # already ran at 01:30 EDT


def test_cron_next_command(workspace: Workspace) -> None:
    result = workspace.run(
        "cron", "next", "30 1 * * *", "--tz", "America/New_York", "--from", "2024-11-02T12:00", "-n", "3", script=MAIN
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "Sun 2024-11-03 01:30:00-04:00 EDT",
        "Mon 2024-11-04 01:30:00-05:00 EST",
        "Tue 2024-11-05 01:30:00-05:00 EST",
    ]


def test_cron_next_reads_the_zone_from_settings_and_utc_from_z(workspace: Workspace) -> None:
    workspace.write_env(SCHEDULER_TIMEZONE="Europe/Berlin")
    result = workspace.run("cron", "next", "@daily", "--from", "2024-06-01T21:59:00Z", "-n", "1", script=MAIN)
    assert result.stdout.splitlines() == ["Sun 2024-06-02 00:00:00+02:00 CEST"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["0 0 31 2 *"], "error: cron expression '0 0 31 2 *' can never fire"),
        (["@hourly", "--tz", "Mars/Base"], "error: time zone 'Mars/Base' is unknown"),
        (["* * * * *", "--from", "yesterday"], "error: --from='yesterday' is invalid"),
        (["* * * * *", "-n", "0"], "error: -n=0 is invalid"),
    ],
)
def test_cron_next_bad_input_is_one_line_and_exit_2(workspace: Workspace, args: list[str], message: str) -> None:
    result = workspace.run("cron", "next", *args, script=MAIN)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.strip().startswith(message) and len(result.stderr.strip().splitlines()) == 1


def test_a_bad_scheduler_timezone_is_a_config_error(workspace: Workspace) -> None:
    workspace.write_env(SCHEDULER_TIMEZONE="Europe/Atlantis")
    result = workspace.run("cron", "next", "@daily", script=MAIN)
    assert result.returncode == 2
    assert result.stderr.startswith("configuration error: SCHEDULER_TIMEZONE='Europe/Atlantis' is invalid")


@pytest.mark.parametrize(
    ("zone", "expression", "start"),
    [
        ("America/New_York", "30 1 * * *", datetime(2026, 3, 1, tzinfo=timezone.utc)),  # both changes within 250 days
        ("Europe/Berlin", "*/20 * * * *", datetime(2026, 10, 24, 12, tzinfo=timezone.utc)),  # the autumn change
        ("Europe/Berlin", "30 2 * * *", datetime(2026, 3, 1, tzinfo=timezone.utc)),
    ],
)
def test_the_schedulers_fire_times_computed_ahead_match_fire_times_through_dst(
    zone: str, expression: str, start: datetime
) -> None:
    from scheduler.service import LoadedJob, Scheduler

    schedule = parse_cron(expression, ZoneInfo(zone))
    job = LoadedJob(1, "job", schedule, 1, "latest", 3600)
    scheduler = Scheduler(zone, prefork=False)
    expected = [moment.astimezone(timezone.utc) for moment in fire_times(schedule, start, 250)]
    slots, after = [], start
    for _ in range(250):  # as the loop advances: each slot's successor, across many computed batches
        after = scheduler._next_fire_time(job, after)
        slots.append(after)
    assert slots == expected
    # asked for an earlier time than the batch was computed from, or for another schedule: computed again
    assert scheduler._next_fire_time(job, start) == expected[0]
    hourly = job._replace(schedule=parse_cron("0 * * * *", ZoneInfo(zone)))
    assert scheduler._next_fire_time(hourly, start) == fire_times(hourly.schedule, start, 1)[0]
