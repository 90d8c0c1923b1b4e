"""Names and other text given on the command line or to the API: both accept exactly the same, on PostgreSQL too,
and refuse the rest with one line naming the field (never a database error), whatever the bytes."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import String

from config.user_text import (
    ACKNOWLEDGED_BY,
    CRON_EXPRESSION,
    HOST_NAME,
    JOB_NAME,
    SCRIPT_PATH,
    SILENCE_PATTERN,
    TextRule,
)
from storage import tables
from tests.api_server import TOKEN, Server, environ, main_py, serving
from tests.conftest import MAIN
from tests.db_servers import SERVERS

COLUMNS = [
    (JOB_NAME, tables.jobs.c.name),
    (JOB_NAME, tables.job_executions.c.job_name),
    (CRON_EXPRESSION, tables.jobs.c.cron_expression),
    (SCRIPT_PATH, tables.jobs.c.script_path),
    (SILENCE_PATTERN, tables.alert_silences.c.pattern),
    (ACKNOWLEDGED_BY, tables.alert_incidents.c.acknowledged_by),
    (HOST_NAME, tables.hosts.c.name),
]


@pytest.mark.parametrize(("rule", "column"), COLUMNS, ids=[str(column) for _, column in COLUMNS])
def test_each_rule_fits_its_column(rule: TextRule, column: Any) -> None:
    assert isinstance(column.type, String) and rule.max_length <= column.type.length


def test_the_rules() -> None:
    assert JOB_NAME.admits("nightly backup") and JOB_NAME.admits("é" * 128)
    for name in ("", " x", "x ", "x" * 129, "a\x1bb", "a\tb", "a\u2028b", "caf\udce9", "a\x85b"):
        assert not JOB_NAME.admits(name), repr(name)
    assert JOB_NAME.allowed == (
        "a name of 1 to 128 characters on one line, without control characters or white space at either end"
    )


@pytest.fixture(scope="module")
def postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("user-text")
    with SERVERS["postgresql"].fresh_database() as url:
        main_py(environ(tmp, url, API_TOKEN=TOKEN), "db", "init")
        with serving(tmp, url, API_TOKEN=TOKEN) as server:
            yield server


def cli(server: Server, *args: str | bytes) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(MAIN), *args], env=server.env, capture_output=True, text=True, timeout=120
    )


def one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2 and result.stdout == "", result.stderr
    [line] = result.stderr.splitlines()
    return line


EVERY_MINUTE = ",".join(map(str, range(60))) + " * * * *"  # valid, and 175 characters
BAD_JOBS = [
    ("name", "x" * 300, {}),
    ("name", "back\x1b[31mup", {}),
    ("name", "two\nlines", {}),
    ("name", "tab\there", {}),
    ("cron_expression", EVERY_MINUTE, {}),
    ("description", "x" * 10_001, {}),
    ("description", "bell\x07", {}),
]


@pytest.mark.postgresql
@pytest.mark.slow
@pytest.mark.parametrize(("field", "value", "_"), BAD_JOBS, ids=[f"{f}-{i}" for i, (f, _, _) in enumerate(BAD_JOBS)])
def test_a_job_the_api_refuses_the_command_line_refuses(postgres: Server, field: str, value: str, _: Any) -> None:
    job = {"name": "ok-name", "cron_expression": "@daily", "job_type": "MONITORING", field: value}
    reply = postgres.request("POST", "/jobs", body=job, token=TOKEN)
    assert reply.status == 422 and reply.json()["detail"].startswith(f"{field}={value[:20]!r}"[:-1]), reply.text
    options = ["--cron", job["cron_expression"], "--type", "monitoring", "--description", job.get("description", "")]
    line = one_error_line(cli(postgres, "jobs", "add", job["name"], *options))
    cli_field = {"cron_expression": "--cron", "description": "--description"}.get(field, field)
    assert line.startswith(f"error: {cli_field}={value!r} is invalid; expected "), line
    assert "Traceback" not in line and "psycopg" not in line


@pytest.mark.postgresql
@pytest.mark.slow
def test_the_longest_names_are_stored_by_both(postgres: Server) -> None:
    by_api, by_cli = "ü" * 128, "é" * 127 + "%"  # characters, not bytes: PostgreSQL counts characters
    job = {"name": by_api, "cron_expression": "@daily", "job_type": "MONITORING", "description": "a\nb\tc"}
    assert postgres.request("POST", "/jobs", body=job, token=TOKEN).status == 201
    added = cli(postgres, "jobs", "add", by_cli, "--cron", "@daily", "--type", "monitoring", "--description", "a\nb")
    assert added.returncode == 0, added.stderr
    assert {by_api, by_cli} <= {job["name"] for job in postgres.ok("/jobs")["items"]}


@pytest.mark.postgresql
@pytest.mark.slow
def test_bytes_that_are_not_utf8_on_the_command_line_are_one_line(postgres: Server) -> None:
    line = one_error_line(cli(postgres, "jobs", "add", b"caf\xe9", "--cron", "@daily", "--type", "monitoring"))
    assert line.startswith("error: name='caf\\udce9' is invalid; expected a name of 1 to 128 characters")
    assert one_error_line(cli(postgres, "jobs", "run", b"caf\xe9")).startswith("error: no job named 'caf\\udce9'")
    assert one_error_line(cli(postgres, "jobs", "run", "x" * 300)).startswith("error: no job named 'xxx")
    unsilence = one_error_line(cli(postgres, "alerts", "unsilence", b"disk\xff"))
    assert unsilence.startswith("error: no active silence 'disk\\udcff'")


BAD_ALERT_INPUT = [
    ("pattern", "PATTERN", "cpu\x1b", {"until": "1h"}),
    ("pattern", "PATTERN", "x" * 513, {"until": "1h"}),
    ("reason", "--reason", "x" * 1001, {"pattern": "cpu_percent", "until": "1h"}),
]


@pytest.mark.postgresql
@pytest.mark.slow
@pytest.mark.parametrize(("field", "option", "value", "body"), BAD_ALERT_INPUT, ids=["control", "long", "reason"])
def test_a_silence_the_api_refuses_the_command_line_refuses(
    postgres: Server, field: str, option: str, value: str, body: dict[str, str]
) -> None:
    reply = postgres.request("POST", "/incidents/silences", body={field: value, **body}, token=TOKEN)
    assert reply.status == 422 and reply.json()["detail"].startswith(f"{field}="), reply.text
    pattern = value if field == "pattern" else body["pattern"]
    extra = ["--reason", value] if field == "reason" else []
    line = one_error_line(cli(postgres, "alerts", "silence", pattern, "--until", "1h", *extra))
    assert line.startswith(f"error: {option}={value!r} is invalid; expected "), line


@pytest.mark.postgresql
@pytest.mark.slow
def test_an_acknowledger_the_column_cannot_hold_is_refused_by_both(postgres: Server) -> None:
    reply = postgres.request("POST", "/incidents/1/ack", body={"by": "x" * 256}, token=TOKEN)
    assert reply.status == 422 and reply.json()["detail"].startswith("by="), reply.text
    line = one_error_line(cli(postgres, "alerts", "ack", "1", "--by", "x" * 256))
    assert line.startswith("error: --by='xxx") and "a name of 1 to 255 characters" in line


HUGE = str(10**20)  # past what PostgreSQL's BIGINT holds


@pytest.mark.postgresql
@pytest.mark.slow
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["jobs", "history", "system_monitoring", "-n", HUGE], f"error: -n={HUGE} is invalid; expected a whole number"),
        (["jobs", "history", "system_monitoring", "-n", "0"], "error: -n=0 is invalid; expected a whole number"),
        (["alerts", "list", "-n", HUGE], f"error: -n={HUGE} is invalid; expected a whole number from 1 to 1000"),
        (["alerts", "ack", HUGE], f"error: no incident with id {HUGE}"),
    ],
    ids=["history", "history-zero", "alerts-list", "ack"],
)
def test_numbers_no_column_holds_are_one_line(postgres: Server, args: list[str], message: str) -> None:
    assert one_error_line(cli(postgres, *args)).startswith(message)
