"""Delivery of notifications through Apprise to real receivers: a JSON webhook (http.server) and an SMTP server
(aiosmtpd) on 127.0.0.1, real SQLite files, no mocks."""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sqlalchemy import insert, select
from sqlalchemy.engine import Engine

from alerts.delivery import DeliveryReport, deliver_due, queue_deliveries, with_timeouts
from config.fields import ConfigError
from config.notify_settings import NOTIFY_KEYS, NotifySettings, destination_key, parse_notify_settings
from config.settings import SETTING_KEYS, load_settings
from config.url_privacy import display_url, redact
from storage import DeliveryStatus, init_database
from storage.tables import notification_deliveries, notifications
from tests.api_server import free_port
from tests.conftest import ROOT
from tests.db_servers import fetch

pytest_plugins = ["db_servers"]

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=timezone.utc)


class Receiver:
    """A JSON webhook on 127.0.0.1 that records every request body (by path); optionally slow."""

    def __init__(self, port: int = 0, delay: float = 0.0) -> None:
        received: list[tuple[str, dict]] = []
        self.received = received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                time.sleep(delay)
                received.append((self.path, json.loads(body)))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def url(self, path: str = "hook") -> str:
        return f"json://127.0.0.1:{self.port}/{path}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.close()


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    return init_database(f"sqlite:///{tmp_path}/t.db")


def settings_with(**values: str) -> NotifySettings:
    return parse_notify_settings(values)


def add_notification(
    engine: Engine,
    settings: NotifySettings,
    level: str = "CRITICAL",
    title: str = "CPU critical",
    message: str = "CPU usage is 97.5% (threshold: 95%)",
    sent_at: datetime = NOW,
    silenced: bool = False,
) -> int:
    """A notifications row as the monitor writes it, with its deliveries queued in the same transaction."""
    with engine.begin() as connection:
        notification_id = connection.execute(
            insert(notifications).values(
                title=title,
                message=message,
                level=level,
                channel="system_monitoring",
                sent_at=sent_at,
                host="web-1",
                metric="cpu_percent",
                value=97.5,
                threshold=95.0,
                silenced=silenced,
            )
        ).inserted_primary_key[0]
        queue_deliveries(connection, [(notification_id, level, silenced)], settings, sent_at)
    return notification_id


def deliveries_of(engine: Engine, notification_id: int) -> list:
    with engine.connect() as connection:
        return connection.execute(
            select(notification_deliveries)
            .where(notification_deliveries.c.notification_id == notification_id)
            .order_by(notification_deliveries.c.id)
        ).all()


def notification(engine: Engine, notification_id: int):
    with engine.connect() as connection:
        return connection.execute(select(notifications).where(notifications.c.id == notification_id)).one()


# --- Real deliveries -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("level", "notify_type"), [("INFO", "info"), ("WARNING", "warning"), ("CRITICAL", "failure"), ("ERROR", "failure")]
)
def test_json_webhook_gets_the_title_message_and_type(
    engine: Engine, receiver: Receiver, level: str, notify_type: str
) -> None:
    settings = settings_with(NOTIFY_URLS=receiver.url(), NOTIFY_MIN_LEVEL="INFO")
    notification_id = add_notification(engine, settings, level=level)

    report = deliver_due(engine, settings, NOW)

    assert report == DeliveryReport(delivered=1, failed=0, expired=0, left=0)
    [(path, body)] = receiver.received
    assert path == "/hook"
    assert body["title"] == "CPU critical"
    assert body["message"].startswith("CPU usage is 97.5% (threshold: 95%)\n")
    for line in ("Host: web-1", "Metric: cpu_percent", "Value: 97.5", "Threshold: 95", f"Level: {level}"):
        assert line in body["message"].splitlines()
    assert body["type"] == notify_type
    [row] = deliveries_of(engine, notification_id)
    assert (row.status, row.attempts, row.error_message, row.next_attempt_at) == ("delivered", 1, None, None)
    assert row.delivered_at is not None and row.delivered_at >= NOW
    assert row.destination == f"json://127.0.0.1:{receiver.port}/h...k"
    assert row.destination_key == destination_key(receiver.url())
    assert notification(engine, notification_id).success is True


def test_email_through_a_plain_smtp_server(engine: Engine) -> None:
    from aiosmtpd.controller import Controller

    class Inbox:
        def __init__(self) -> None:
            self.envelopes: list = []

        async def handle_DATA(self, server, session, envelope) -> str:
            self.envelopes.append(envelope)
            return "250 Message accepted for delivery"

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        settings = load_settings(
            {
                "EMAIL_ENABLED": "true",
                "EMAIL_SMTP_HOST": "127.0.0.1",
                "EMAIL_SMTP_PORT": str(controller.port),
                "EMAIL_USE_TLS": "false",
                "EMAIL_FROM": "monitor@example.com",
                "EMAIL_TO": "ops@example.com, oncall@example.org",
            }
        ).notify
        [destination] = settings.destinations
        assert destination.url.startswith(f"mailto://127.0.0.1:{controller.port}/?")
        notification_id = add_notification(engine, settings)

        report = deliver_due(engine, settings, NOW)
    finally:
        controller.stop()

    assert report.delivered == 1
    assert sorted(rcpt for envelope in inbox.envelopes for rcpt in envelope.rcpt_tos) == [
        "oncall@example.org",
        "ops@example.com",
    ]
    message = message_from_bytes(inbox.envelopes[0].content, policy=policy.default)
    assert message["Subject"] == "CPU critical"
    assert "monitor@example.com" in message["From"]
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert "CPU usage is 97.5% (threshold: 95%)" in text
    assert "Host: web-1" in text
    assert notification(engine, notification_id).success is True


def test_a_failed_delivery_is_retried_with_backoff_until_it_succeeds(engine: Engine) -> None:
    port = free_port()  # nothing listens there yet
    url = f"json://127.0.0.1:{port}/hook"
    settings = settings_with(NOTIFY_URLS=url)
    notification_id = add_notification(engine, settings)

    report = deliver_due(engine, settings, NOW)

    assert report == DeliveryReport(delivered=0, failed=1, expired=0, left=1)
    [row] = deliveries_of(engine, notification_id)
    assert (row.status, row.attempts) == ("retrying", 1)
    assert row.error_message and "127.0.0.1" in row.error_message
    assert row.last_attempt_at >= NOW
    assert row.next_attempt_at - row.last_attempt_at == timedelta(minutes=1)
    stored = notification(engine, notification_id)
    assert stored.success is False
    assert stored.error_message.startswith(f"json://127.0.0.1:{port}/h...k: ")

    assert deliver_due(engine, settings, NOW + timedelta(seconds=30)) == DeliveryReport(0, 0, 0, 1)  # not due yet
    assert deliveries_of(engine, notification_id)[0].attempts == 1

    deliver_due(engine, settings, row.next_attempt_at + timedelta(seconds=1))  # still down: the wait doubles
    [row] = deliveries_of(engine, notification_id)
    assert (row.status, row.attempts) == ("retrying", 2)
    assert row.next_attempt_at - row.last_attempt_at == timedelta(minutes=2)

    server = Receiver(port=port)
    try:
        report = deliver_due(engine, settings, row.next_attempt_at + timedelta(seconds=1))
    finally:
        server.close()

    assert report == DeliveryReport(delivered=1, failed=0, expired=0, left=0)
    assert len(server.received) == 1
    [row] = deliveries_of(engine, notification_id)
    assert (row.status, row.attempts, row.error_message, row.next_attempt_at) == ("delivered", 3, None, None)
    stored = notification(engine, notification_id)
    assert (stored.success, stored.error_message) == (True, None)


def test_backoff_is_capped_at_one_hour() -> None:
    from alerts.delivery import retry_delay_seconds

    assert [retry_delay_seconds(attempt) for attempt in (1, 2, 3, 7, 8, 50)] == [60, 120, 240, 3600, 3600, 3600]


def test_a_delivery_expires_after_the_max_age(engine: Engine) -> None:
    url = f"json://127.0.0.1:{free_port()}/hook"
    settings = settings_with(NOTIFY_URLS=url, ALERT_DELIVERY_MAX_AGE="1h")
    failing = add_notification(engine, settings)
    deliver_due(engine, settings, NOW)
    never_tried = add_notification(engine, settings, sent_at=NOW - timedelta(hours=2))

    report = deliver_due(engine, settings, NOW + timedelta(hours=1, minutes=1))

    assert report == DeliveryReport(delivered=0, failed=0, expired=2, left=0)
    [row] = deliveries_of(engine, failing)
    assert (row.status, row.attempts, row.next_attempt_at) == ("expired", 1, None)
    assert row.error_message.startswith("expired: not delivered within ALERT_DELIVERY_MAX_AGE (1h) after 1 attempt(s)")
    assert "last error: " in row.error_message
    [row] = deliveries_of(engine, never_tried)
    assert (row.status, row.attempts) == ("expired", 0)
    for notification_id in (failing, never_tried):
        stored = notification(engine, notification_id)
        assert stored.success is False
        assert "expired: not delivered within ALERT_DELIVERY_MAX_AGE" in stored.error_message


def test_a_destination_removed_from_the_settings_expires_its_rows(engine: Engine, receiver: Receiver) -> None:
    gone = f"json://127.0.0.1:{free_port()}/old"
    before = settings_with(NOTIFY_URLS=f"{receiver.url()} {gone}")
    notification_id = add_notification(engine, before)
    assert len(deliveries_of(engine, notification_id)) == 2

    report = deliver_due(engine, settings_with(NOTIFY_URLS=receiver.url()), NOW)

    assert report == DeliveryReport(delivered=1, failed=0, expired=1, left=0)
    kept, removed = deliveries_of(engine, notification_id)
    assert kept.status == "delivered"
    assert (removed.status, removed.attempts) == ("expired", 0)
    assert "no longer configured" in removed.error_message
    assert notification(engine, notification_id).success is False


def test_every_status_is_stored_as_its_value_on_every_backend(database_url: str, receiver: Receiver) -> None:
    """Statuses are DeliveryStatus members bound to a VARCHAR: each driver must store the value ('pending'),
    never the member's name (PyMySQL formats a str subclass with str())."""
    assert str(DeliveryStatus.RETRYING) == f"{DeliveryStatus.RETRYING}" == "retrying"
    engine = init_database(database_url)
    settings = settings_with(
        NOTIFY_URLS=f"{receiver.url()} json://127.0.0.1:{free_port()}/down", ALERT_DELIVERY_MAX_AGE="1h"
    )
    sent = add_notification(engine, settings)  # delivered to the receiver, retrying to the port nobody serves
    too_old = add_notification(engine, settings, sent_at=NOW - timedelta(hours=2))  # expired to both
    deliver_due(engine, settings, NOW)
    queued = add_notification(engine, settings)  # pending to both

    rows = fetch(database_url, "SELECT notification_id, status FROM notification_deliveries ORDER BY id")

    assert [tuple(row) for row in rows] == [
        (sent, "delivered"),
        (sent, "retrying"),
        (too_old, "expired"),
        (too_old, "expired"),
        (queued, "pending"),
        (queued, "pending"),
    ]
    assert {status.value for status in DeliveryStatus} == {row.status for row in rows}


def test_silenced_rows_get_no_deliveries(engine: Engine, receiver: Receiver) -> None:
    settings = settings_with(NOTIFY_URLS=receiver.url())
    notification_id = add_notification(engine, settings, silenced=True)

    assert deliveries_of(engine, notification_id) == []
    assert deliver_due(engine, settings, NOW) == DeliveryReport(0, 0, 0, 0)
    assert receiver.received == []
    assert notification(engine, notification_id).success is True


def test_levels_filter_per_destination_and_globally(engine: Engine, receiver: Receiver) -> None:
    settings = settings_with(
        NOTIFY_URLS=f"critical={receiver.url('critical')} {receiver.url('warning')} INFO={receiver.url('everything')}"
    )
    levels = ("INFO", "WARNING", "CRITICAL", "ERROR")
    for level in levels:
        add_notification(engine, settings, level=level, title=level)

    assert deliver_due(engine, settings, NOW).delivered == 2 + 3 + 4

    def titles(path: str) -> list[str]:
        return sorted(body["title"] for got, body in receiver.received if got == f"/{path}")

    assert titles("critical") == ["CRITICAL", "ERROR"]
    assert titles("warning") == ["CRITICAL", "ERROR", "WARNING"]  # NOTIFY_MIN_LEVEL defaults to WARNING
    assert titles("everything") == sorted(levels)


def test_the_delivery_timeout_bounds_the_run(engine: Engine) -> None:
    slow = Receiver(delay=4)
    try:
        # rto=30 set in the URL itself: only deliver_due's own deadline can stop the wait
        settings = settings_with(
            NOTIFY_URLS=f"json://127.0.0.1:{slow.port}/slow?rto=30", ALERT_DELIVERY_TIMEOUT_SECONDS="1"
        )
        first = add_notification(engine, settings)
        second = add_notification(engine, settings, sent_at=NOW + timedelta(seconds=1))

        started = time.monotonic()
        report = deliver_due(engine, settings, NOW + timedelta(seconds=2))
        elapsed = time.monotonic() - started
    finally:
        slow.close()

    assert elapsed < 1 + 1
    assert report == DeliveryReport(delivered=0, failed=1, expired=0, left=2)
    [row] = deliveries_of(engine, first)
    assert (row.status, row.attempts) == ("retrying", 1)
    assert "timed out: no answer within ALERT_DELIVERY_TIMEOUT_SECONDS (1 s)" in row.error_message
    [row] = deliveries_of(engine, second)  # never begun: still pending, due on the next run
    assert (row.status, row.attempts, row.next_attempt_at) == ("pending", 0, None)


@pytest.mark.slow
def test_a_hung_destination_does_not_hold_back_a_healthy_one(engine: Engine, receiver: Receiver) -> None:
    """The hung one is listed first: delivered one after another, the healthy one would wait for its timeout."""
    hung = socket.create_server(("127.0.0.1", 0))  # accepts connections (the backlog), never answers
    timeout_seconds = 4.0
    try:
        settings = settings_with(
            NOTIFY_URLS=f"json://127.0.0.1:{hung.getsockname()[1]}/hung?rto=30 {receiver.url('healthy')}",
            ALERT_DELIVERY_TIMEOUT_SECONDS=f"{timeout_seconds:g}",
        )
        notification_id = add_notification(engine, settings)
        report = deliver_due(engine, settings, NOW)
    finally:
        hung.close()

    assert report == DeliveryReport(delivered=1, failed=1, expired=0, left=1)
    hung_row, healthy_row = deliveries_of(engine, notification_id)
    assert (hung_row.status, hung_row.attempts) == ("retrying", 1)
    assert hung_row.error_message.startswith("timed out: no answer within ALERT_DELIVERY_TIMEOUT_SECONDS (4 s)")
    assert healthy_row.status == "delivered"
    assert [path for path, _ in receiver.received] == ["/healthy"]
    assert (healthy_row.delivered_at - NOW).total_seconds() < timeout_seconds / 2
    assert (hung_row.last_attempt_at - NOW).total_seconds() >= timeout_seconds


def test_request_timeouts_are_passed_to_apprise_unless_the_url_sets_them() -> None:
    assert with_timeouts("json://h/x", 10) == "json://h/x?cto=10&rto=10"
    assert with_timeouts("mailto://h:25/?to=a@b.c", 2.5) == "mailto://h:25/?to=a@b.c&cto=2.5&rto=2.5"
    assert with_timeouts("json://h/x?rto=30", 1) == "json://h/x?rto=30&cto=1"


# --- Settings --------------------------------------------------------------------------------------------


def test_defaults_and_every_key_is_a_setting() -> None:
    settings = parse_notify_settings({})
    assert settings == NotifySettings(
        destinations=(), min_level="WARNING", delivery_max_age_seconds=86400, delivery_timeout_seconds=10
    )
    assert set(NOTIFY_KEYS) <= set(SETTING_KEYS)
    assert load_settings({}).notify == settings


def test_notify_urls_are_split_on_whitespace_with_level_prefixes() -> None:
    settings = settings_with(
        NOTIFY_URLS="  json://127.0.0.1:8080/a\n critical=json://127.0.0.1:8080/b\t"
        "error=json://127.0.0.1:8080/c json://127.0.0.1:8080/a",
        NOTIFY_MIN_LEVEL="error",
        ALERT_DELIVERY_MAX_AGE="30m",
        ALERT_DELIVERY_TIMEOUT_SECONDS="2.5",
    )
    assert [(d.url, d.min_level) for d in settings.destinations] == [
        ("json://127.0.0.1:8080/a", None),
        ("json://127.0.0.1:8080/b", "CRITICAL"),
        ("json://127.0.0.1:8080/c", "CRITICAL"),
    ]  # the repeated URL is one destination
    assert settings.min_level == "CRITICAL"
    assert (settings.delivery_max_age_seconds, settings.delivery_timeout_seconds) == (1800, 2.5)
    assert all(len(d.key) == 64 and d.key == destination_key(d.url) for d in settings.destinations)


def test_seed_email_keys_map_to_one_mailto_url() -> None:
    base = {
        "EMAIL_ENABLED": "true",
        "EMAIL_SMTP_HOST": "smtp.example.com",
        "EMAIL_SMTP_USER": "me@example.com",
        "EMAIL_SMTP_PASSWORD": "p@ss/word",
        "EMAIL_TO": "a@example.com,b@example.org",
    }
    [tls] = settings_with(**base).destinations
    assert tls.url == (
        "mailtos://me%40example.com:p%40ss%2Fword@smtp.example.com:587/?smtp=smtp.example.com"
        "&from=me@example.com&to=a@example.com,b@example.org&format=text&mode=starttls"
    )
    assert (
        tls.masked == "mailtos://me:****@smtp.example.com/a...m/b...g?format=text&mode=starttls&from=me%40example.com"
    )
    [ssl] = settings_with(**base, EMAIL_SMTP_PORT="465").destinations
    assert ssl.url.startswith("mailtos://") and ssl.url.endswith("&mode=ssl")
    [plain] = settings_with(**base, EMAIL_USE_TLS="false", EMAIL_FROM="alerts@example.com").destinations
    assert plain.url.startswith("mailto://") and "mode=" not in plain.url and "from=alerts@example.com" in plain.url
    assert settings_with(**{**base, "EMAIL_ENABLED": "false"}).destinations == ()


def test_seed_slack_webhook_maps_to_slack_url() -> None:
    [slack] = settings_with(
        SLACK_ENABLED="yes", SLACK_WEBHOOK_URL="https://hooks.slack.com/services/T0001/B0002/XXXXsecretXXXX"
    ).destinations
    assert slack.url == "slack://T0001/B0002/XXXXsecretXXXX"
    assert slack.masked == "slack://T...1/B...2/X...X"


def test_printed_settings_do_not_show_secrets() -> None:
    settings = load_settings({"NOTIFY_URLS": "json://admin:hunter2@alerts.example.com/hook"})
    assert "hunter2" not in repr(settings)
    assert "json://admin:****@alerts.example.com/h...k" in repr(settings)


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        ("json://127.0.0.1:8080/hook", "json://127.0.0.1:8080/h...k"),
        (
            "json://admin:hunter2@alerts.example.com/hook?token=hunter2&method=POST&+Authorization=hunter2",
            "json://admin:****@alerts.example.com/h...k?method=POST&%2BAuthorization=h...2",
        ),
        ("sendgrid://hunter2:alerts@example.com", "sendgrid://h...2:alerts@example.com"),
        ("slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7/#ops", "slack://T...2/A...D/T...7/#...s"),
        ("https://hooks.slack.com/services/T1/B2/hunter2", "slack://T...1/B...2/h...2"),
        ("discord://4174216298/JHMHI8qBe7bk2ZwO5U711o3dV_js", "discord://4...8/J...s"),
        ("tgram://123456789:hunter2/12345", "tgram://1...2/1...5"),
        ("ntfy://ntfy.example.com/topic?apikey=hunter2&priority=high", "ntfy://ntfy.example.com/t...c?priority=high"),
        ("ntfy://ntfy.example.com/topic?token=hunter2", "ntfy://h...2@ntfy.example.com/t...c"),
        ("nosuchservice://admin:hunter2@example.com/x", "nosuchservice://***"),
        ("hunter2", "***"),
    ],
)
def test_display_url_hides_every_secret_part(url: str, masked: str) -> None:
    assert display_url(url) == masked
    assert "hunter2" not in masked
    expected = "***" if "hunter2" in url else "hunter2"  # a secret of the URL is gone from any text
    assert redact(f"sent to {url}: 401 for hunter2", url) == f"sent to ***: 401 for {expected}"


BAD = [
    ({"NOTIFY_URLS": "json://127.0.0.1/ok foo://admin:hunter2@example.com/x"}, "NOTIFY_URLS", "Apprise URLs"),
    ({"NOTIFY_URLS": "hunter2"}, "NOTIFY_URLS", "Apprise URLs"),
    ({"NOTIFY_URLS": "urgent=json://admin:hunter2@example.com/hook"}, "NOTIFY_URLS", "INFO=, WARNING= or CRITICAL="),
    ({"NOTIFY_URLS": "mailto://admin:hunter2@127.0.0.1"}, "NOTIFY_URLS", "Apprise says: Invalid ~From~ email"),
    ({"NOTIFY_MIN_LEVEL": "DEBUG"}, "NOTIFY_MIN_LEVEL", "one of INFO, WARNING, CRITICAL"),
    ({"ALERT_DELIVERY_MAX_AGE": "forever"}, "ALERT_DELIVERY_MAX_AGE", "a duration such as"),
    ({"ALERT_DELIVERY_MAX_AGE": "0"}, "ALERT_DELIVERY_MAX_AGE", "above 0"),
    ({"ALERT_DELIVERY_TIMEOUT_SECONDS": "0"}, "ALERT_DELIVERY_TIMEOUT_SECONDS", "a number from 0.5 to 600"),
    ({"EMAIL_ENABLED": "maybe"}, "EMAIL_ENABLED", "true or false"),
    (
        {"EMAIL_ENABLED": "true", "EMAIL_TO": "a@example.com", "EMAIL_SMTP_PASSWORD": "hunter2"},
        "EMAIL_SMTP_HOST",
        "when EMAIL_ENABLED=true",
    ),
    (
        {"EMAIL_ENABLED": "true", "EMAIL_SMTP_HOST": "smtp.example.com", "EMAIL_SMTP_PASSWORD": "hunter2"},
        "EMAIL_TO",
        "comma-separated e-mail addresses",
    ),
    (
        {"EMAIL_ENABLED": "true", "EMAIL_SMTP_HOST": "smtp.example.com", "EMAIL_TO": "a@example.com"},
        "EMAIL_FROM",
        "the sender's e-mail address",
    ),
    (
        {
            "EMAIL_ENABLED": "true",
            "EMAIL_SMTP_HOST": "smtp.example.com",
            "EMAIL_TO": "a@example.com",
            "EMAIL_FROM": "me@example.com",
            "EMAIL_SMTP_PORT": "99999",
        },
        "EMAIL_SMTP_PORT",
        "a whole number from 1",
    ),
    ({"SLACK_ENABLED": "true"}, "SLACK_WEBHOOK_URL", "https://hooks.slack.com/services/"),
    (
        {"SLACK_ENABLED": "true", "SLACK_WEBHOOK_URL": "https://example.com/hooks/hunter2"},
        "SLACK_WEBHOOK_URL",
        "https://hooks.slack.com/services/",
    ),
]


@pytest.mark.parametrize(("values", "key", "expected"), BAD, ids=[f"{key}-{i}" for i, (_, key, _) in enumerate(BAD)])
def test_a_bad_delivery_setting_is_one_line_without_secrets(values: dict[str, str], key: str, expected: str) -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings(values)
    message = str(raised.value)
    assert raised.value.key == key
    assert message.startswith(f"{key}=") and " is invalid; expected " in message
    assert expected in message
    assert "\n" not in message
    assert "hunter2" not in message


def test_settings_without_destinations_do_not_import_apprise() -> None:
    code = "import sys; from config.settings import load_settings; load_settings({}); print('apprise' in sys.modules)"
    environ = {key: value for key, value in os.environ.items() if not key.startswith(("NOTIFY_", "EMAIL_", "SLACK_"))}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=environ, capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == "False"


def test_a_monitoring_run_delivers_its_incident_rows(workspace, receiver: Receiver) -> None:
    """End to end: the monitor writes the firing row, queues it for the destination in the same transaction
    and sends it after the commit; the next run's resolved row follows."""
    from config.settings import load_settings
    from monitoring.collectors.disk import DiskReading, DisksReading
    from pipeline.monitor import monitor_once

    workspace.write_env(
        DISK_THRESHOLD="80",
        DISK_CRITICAL_THRESHOLD="90",
        MONITOR_SYSTEM_DISK="/scenario",
        NOTIFY_URLS=f"info={receiver.url()}",
    )
    settings = load_settings(workspace.environ())
    for percent in (85.0, 60.0):
        disk = DisksReading(
            [DiskReading("/scenario", "/dev/x", "ext4", 100, int(percent), 100 - int(percent), percent)], None
        )
        monitor_once(settings, collectors={"disk": lambda _settings, disk=disk: disk})
    assert [body["type"] for _, body in receiver.received] == ["warning", "info"]
    assert receiver.received[0][1]["title"].startswith("[WARNING] Disk usage of /scenario 85.0%")
    assert receiver.received[1][1]["title"].startswith("[RESOLVED] Disk usage of /scenario")
    connection = sqlite3.connect(workspace.database)
    try:
        rows = connection.execute(
            "SELECT d.status, d.attempts, n.success FROM notification_deliveries d "
            "JOIN notifications n ON n.id = d.notification_id ORDER BY d.id"
        ).fetchall()
    finally:
        connection.close()
    assert rows == [("delivered", 1, 1), ("delivered", 1, 1)]
