"""/incidents over a real server: incidents the real monitor raised, acknowledged and silenced through the API
with the `alerts` commands' own checks, and seen by the CLI afterwards."""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest

from tests.api_server import TOKEN, Server, environ, main_py, serving, utc

LEVELS = {"MEMORY_THRESHOLD": "0.5", "MEMORY_CRITICAL_THRESHOLD": "1"}  # every run breaches


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("incidents")
    url = f"sqlite:///{tmp / 'automation.db'}"
    env = environ(tmp, url, API_TOKEN=TOKEN, **LEVELS)
    main_py(env, "db", "init")
    main_py(env, "monitor", "--quiet")
    with serving(tmp, url, API_TOKEN=TOKEN, **LEVELS) as running:
        yield running


def memory_incident(server: Server) -> dict:
    [incident] = [row for row in server.ok("/incidents")["items"] if row["metric"] == "memory_percent"]
    return incident


def test_active_incidents_and_acknowledging_one(server: Server) -> None:
    incident = memory_incident(server)
    assert incident["status"] == "critical" and incident["acknowledged_at"] is None
    assert server.ok(f"/incidents/{incident['id']}") == incident
    assert incident["id"] not in [row["id"] for row in server.ok("/incidents?status=resolved")["items"]]
    reply = server.request("POST", f"/incidents/{incident['id']}/ack", body={"by": "oncall"}, token=TOKEN)
    assert reply.status == 200, reply.text
    acked = server.ok(f"/incidents/{incident['id']}")
    assert acked["acknowledged_by"] == "oncall"
    assert utc(acked["acknowledged_at"]) > datetime.now(timezone.utc) - timedelta(minutes=1)
    listing = main_py(server.env, "alerts", "list").stdout
    assert "memory_percent" in listing and "acked" in listing
    assert server.request("POST", "/incidents/999/ack", token=TOKEN).status == 404
    assert server.get("/incidents/999").status == 404
    too_large = server.get(f"/incidents/{2**63}")  # past what an id column holds: named, not a database error
    assert too_large.status == 422 and too_large.json()["detail"].startswith("incident_id="), too_large.text
    assert server.request("POST", f"/incidents/{2**63}/ack", token=TOKEN).status == 422
    assert server.get("/incidents?status=open").status == 422


def test_silences_are_checked_listed_and_ended(server: Server) -> None:
    created = server.request(
        "POST",
        "/incidents/silences",
        body={"pattern": "memory_percent", "until": "2h", "reason": "upgrade"},
        token=TOKEN,
    )
    assert created.status == 201, created.text
    silence = created.json()
    ends = utc(silence["until"]) - datetime.now(timezone.utc)
    assert timedelta(minutes=119) < ends <= timedelta(hours=2)
    assert [row["pattern"] for row in server.ok("/incidents/silences")["items"]] == ["memory_percent"]
    assert "silence 1: memory_percent" in main_py(server.env, "alerts", "list").stdout
    for body, field in (
        ({"pattern": "cpu_percent", "until": "soon"}, "until='soon' is invalid"),
        ({"pattern": "cpu_percent", "until": "2020-01-01T00:00:00Z"}, "until='2020-01-01T00:00:00Z' is in the past"),
        ({"pattern": "cpu_percent", "until": "9999-12-31T23:00:00-05:00"}, "until='9999-12-31T"),
        ({"pattern": "", "until": "1h"}, "pattern='' is invalid"),
        ({"pattern": "cpu\x00", "until": "1h"}, "pattern='cpu\\x00' is invalid"),
    ):
        reply = server.request("POST", "/incidents/silences", body=body, token=TOKEN)
        assert reply.status == 422 and field in reply.json()["detail"], reply.text
    assert server.request("DELETE", f"/incidents/silences/{silence['id']}", token=TOKEN).json() == {"ended": 1}
    assert server.ok("/incidents/silences")["items"] == []
    assert server.request("DELETE", f"/incidents/silences/{silence['id']}", token=TOKEN).status == 404
    for target in (str(2**63), "%C2%B2"):  # an id no column holds; "²", a digit to str.isdigit but not to int()
        assert server.request("DELETE", f"/incidents/silences/{target}", token=TOKEN).status == 404, target
    assert server.request("DELETE", "/incidents/silences/cpu%00", token=TOKEN).status == 422


@pytest.mark.parametrize("encode_slash", [False, True], ids=["slash", "%2F"])
def test_a_silence_whose_pattern_holds_a_slash_is_ended_by_its_pattern(server: Server, encode_slash: bool) -> None:
    pattern = "disk_*:/var/lib/*"
    created = server.request("POST", "/incidents/silences", body={"pattern": pattern, "until": "1h"}, token=TOKEN)
    assert created.status == 201, created.text
    path = urllib.parse.quote(pattern, safe="" if encode_slash else "/")
    ended = server.request("DELETE", f"/incidents/silences/{path}", token=TOKEN)
    assert ended.status == 200 and ended.json() == {"ended": 1}, ended.text
    assert pattern not in [row["pattern"] for row in server.ok("/incidents/silences")["items"]]
    assert server.request("DELETE", f"/incidents/silences/{path}", token=TOKEN).status == 404  # ended already
