"""The fleet view's API and /metrics series against a real `main.py serve`: every host (registered, or with
samples only) with its status, worst active incident and newest figures, on SQLite, PostgreSQL and MariaDB; host
keys added, rotated and revoked through the API with the CLI's rules; and the status rule itself."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import quote

import pytest
from prometheus_client.parser import text_string_to_metric_families

from config.fleet_settings import parse_fleet_settings
from fleet.host_status import host_status
from tests.api_server import TOKEN, Server, environ, main_py, serving, utc
from tests.db_servers import SERVERS, fetch, sqlite_url
from tests.fleet_seed import EXPECTED, HTML_NAME, seed_fleet

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=timezone.utc)


def test_status_rule_silent_after_its_intervals_maintenance_first() -> None:
    fleet = parse_fleet_settings({"HOST_SILENT_AFTER": "3", "HOST_DEFAULT_INTERVAL_SECONDS": "30"})

    def status(seen_seconds_ago: float | None, interval: float | None = None, maintenance: bool = False) -> str:
        seen = None if seen_seconds_ago is None else NOW - timedelta(seconds=seen_seconds_ago)
        return host_status(fleet, NOW, seen, interval, NOW if maintenance else None)

    assert status(90) == "up" and status(90.5) == "silent"  # 3 default intervals of 30 s
    assert status(299, interval=100) == "up" and status(301, interval=100) == "silent"
    assert status(None) == "never seen"
    assert status(10_000, maintenance=True) == status(None, maintenance=True) == "maintenance"


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server over SQLite holding the seeded fleet, for the tests that only read."""
    tmp = tmp_path_factory.mktemp("fleet_view")
    url = sqlite_url(tmp / "automation.db")
    main_py(environ(tmp, url), "db", "init")
    seed_fleet(url, datetime.now(timezone.utc))
    with serving(tmp, url) as server:
        yield server


def assert_fleet_listed(server: Server) -> None:
    listed = server.ok("/api/v1/hosts")
    hosts = {host["name"]: host for host in listed["items"]}
    assert [host["name"] for host in listed["items"]] == sorted(hosts)
    assert set(hosts) == {*EXPECTED, HTML_NAME}
    for name, expected in EXPECTED.items():
        assert {field: hosts[name][field] for field in expected} == expected, name
    # The newest sample by time, though a backfilled one came later; the one before it gives the sampling pace.
    one = server.ok("/api/v1/hosts/web-silent")
    assert one == hosts["web-silent"] and one["cpu_percent"] == 3.0
    assert utc(one["sample_at"]) == utc(one["last_seen_at"])
    assert one["silent_after_seconds"] == 90.0
    assert hosts["hub-itself"]["silent_after_seconds"] == 900.0  # 3 of its 300 s intervals
    assert hosts["hub-itself"]["last_seen_at"] == hosts["hub-itself"]["sample_at"]
    assert hosts["web-up"]["has_key"] is True and hosts["db-maintenance"]["has_key"] is False
    assert hosts["hub-itself"]["has_key"] is None and hosts["hub-itself"]["agent_version"] is None
    unknown = server.get("/api/v1/hosts/nope")
    assert unknown.status == 404 and unknown.json() == {"detail": "no host named 'nope'"}
    markup = server.get("/api/v1/hosts/" + quote(HTML_NAME, safe=""))
    assert markup.status == 200 and markup.json()["name"] == HTML_NAME


def test_every_host_with_its_status_level_and_newest_figures(seeded: Server) -> None:
    assert_fleet_listed(seeded)


@pytest.mark.slow
@pytest.mark.parametrize(
    "backend",
    [
        pytest.param("postgresql", id="postgresql", marks=[pytest.mark.postgresql, pytest.mark.slow]),
        pytest.param("mysql", id="mysql", marks=[pytest.mark.mysql, pytest.mark.slow]),
    ],
)
def test_the_same_on_postgresql_and_mariadb(tmp_path: Path, backend: str) -> None:
    with SERVERS[backend].fresh_database() as url:
        main_py(environ(tmp_path, url), "db", "init")
        seed_fleet(url, datetime.now(timezone.utc))
        with serving(tmp_path, url) as server:
            assert_fleet_listed(server)


@pytest.mark.slow
def test_keys_through_the_api_follow_the_cli_rules_and_are_never_logged(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "automation.db")
    main_py(environ(tmp_path, url), "db", "init")
    with serving(tmp_path, url, API_TOKEN=TOKEN, LOG_LEVEL="DEBUG") as server:
        added = server.request("POST", "/api/v1/hosts", {"name": "web1"}, token=TOKEN)
        taken = server.request("POST", "/api/v1/hosts", {"name": "web1"}, token=TOKEN)
        bad = server.request("POST", "/api/v1/hosts", {"name": "web1 "}, token=TOKEN)
        without_token = server.request("POST", "/api/v1/hosts", {"name": "web2"})
        rotated = server.request("POST", "/api/v1/hosts/web1/rotate", token=TOKEN)
        hash_after_rotate = fetch(url, "SELECT key_hash FROM hosts WHERE name = 'web1'")[0][0]
        revoked = server.request("POST", "/api/v1/hosts/web1/revoke", token=TOKEN)
        unknown = server.request("POST", "/api/v1/hosts/nope/rotate", token=TOKEN)
        listed = server.ok("/api/v1/hosts/web1")
        log = server.log.read_text() + Path(server.env["AUTOMATION_ENV_FILE"]).with_name("automation.log").read_text()
    assert added.status == 201 and added.headers["cache-control"] == "no-store"
    key = added.json()["key"]
    assert added.json()["name"] == "web1" and key.startswith("ahk_")
    assert taken.status == 409 and taken.json()["detail"].startswith("name='web1' is taken")
    assert bad.status == 422 and bad.json()["detail"] == (
        "name='web1 ' is invalid; expected a host name of 1 to 255 characters on one line, without control "
        "characters or white space at either end"
    )
    assert without_token.status == 401
    assert rotated.status == 200 and rotated.json()["key"] not in (key, None)
    assert hash_after_rotate == hashlib.sha256(rotated.json()["key"].encode()).hexdigest()
    assert revoked.status == 200 and revoked.json() == {"name": "web1", "has_key": False}
    assert unknown.status == 404 and unknown.json() == {"detail": "no host named 'nope'"}
    assert listed["has_key"] is False and listed["status"] == "never seen"
    assert [row[0] for row in fetch(url, "SELECT name FROM hosts WHERE key_hash IS NULL")] == ["web1"]
    assert key not in log and rotated.json()["key"] not in log and "ahk_" not in log


def test_metrics_has_a_status_series_per_host(seeded: Server) -> None:
    text = seeded.get("/metrics").text
    promtool = shutil.which("promtool")
    assert promtool, "promtool is missing: apt-get install prometheus (.ci/run does)"
    linted = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, text=True, timeout=60)
    assert linted.returncode == 0, linted.stdout + linted.stderr
    series = {
        (sample.name, sample.labels.get("host")): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }
    up = {host: value for (name, host), value in series.items() if name == "automation_host_up"}
    assert up == {"web-up": 1.0, "web-silent": 0.0, "hub-itself": 1.0}  # not in maintenance, not never seen
    maintenance = {host: value for (name, host), value in series.items() if name == "automation_host_maintenance"}
    assert maintenance == {name: float(name == "db-maintenance") for name in [*EXPECTED, HTML_NAME]}
    assert series[("automation_host_clock_skew_seconds", "web-silent")] == -2.0
    assert series[("automation_host_interval_seconds", "hub-itself")] == 300.0
    seen = series[("automation_host_last_seen_timestamp_seconds", "web-up")]
    assert abs(seen - (datetime.now(timezone.utc) - timedelta(seconds=5)).timestamp()) < 120
    assert ("automation_host_last_seen_timestamp_seconds", "new-host") not in series
    # One series per host of its newest stored sample, as before.
    assert series[("automation_cpu_usage_ratio", "web-up")] == pytest.approx(0.125)


@pytest.mark.slow
def test_a_host_added_through_the_api_pushes_and_shows_up(tmp_path: Path) -> None:
    from tests.fleet_pushes import batch, collected_sample, push, sample_at

    url = sqlite_url(tmp_path / "automation.db")
    main_py(environ(tmp_path, url), "db", "init")
    with serving(tmp_path, url, API_TOKEN=TOKEN) as server:
        key = server.request("POST", "/api/v1/hosts", {"name": "pusher"}, token=TOKEN).json()["key"]
        before = server.ok("/api/v1/hosts/pusher")
        taken_at = datetime.now(timezone.utc)
        pushed = push(server, key, batch([(1, sample_at(collected_sample(), taken_at, 42.5))]))
        after = server.ok("/api/v1/hosts/pusher")
        listed = {host["name"]: host for host in server.ok("/api/v1/hosts")["items"]}
        new_key = server.request("POST", "/api/v1/hosts/pusher/rotate", token=TOKEN).json()["key"]
        with_old_key = push(server, key, batch([(2, sample_at(collected_sample(), taken_at, 1.0))]))
        with_new_key = push(server, new_key, batch([(2, sample_at(collected_sample(), taken_at, 1.0))]))
    assert before["status"] == "never seen" and before["agent_version"] is None
    assert pushed.status == 200, pushed.text
    assert after["status"] == "up" and after["cpu_percent"] == 42.5 and utc(after["sample_at"]) == taken_at
    assert after["agent_version"] == "0.1.0" and after["interval_seconds"] == 30.0 and after["source"] == "agent"
    assert after["clock_skew_seconds"] is not None and abs(after["clock_skew_seconds"]) < 60
    assert listed["pusher"] == after
    assert with_old_key.status == 401 and with_new_key.status == 200
