"""Where notifications are delivered: NOTIFY_URLS (Apprise URLs) plus the seed's EMAIL_* and SLACK_* keys,
mapped onto the same Apprise mechanism. See .env.example's "Notifications delivery" section.

Apprise is imported only when a destination is configured: loading settings must stay cheap for the one-shot
monitor run that cron starts every few minutes.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import NamedTuple

from config.alert_settings import DURATION_HELP, parse_duration
from config.fields import ConfigError, parse_bool, parse_choice, parse_int, parse_list, parse_number
from config.url_privacy import display_url, redact, split_url

LEVELS = ("INFO", "WARNING", "CRITICAL")  # ascending; ERROR counts as CRITICAL
_LEVEL_RANK = {"INFO": 0, "WARNING": 1, "CRITICAL": 2, "ERROR": 2}

NOTIFY_KEYS = (
    "NOTIFY_URLS",
    "NOTIFY_MIN_LEVEL",
    "ALERT_DELIVERY_MAX_AGE",
    "ALERT_DELIVERY_TIMEOUT_SECONDS",
    "EMAIL_ENABLED",
    "EMAIL_SMTP_HOST",
    "EMAIL_SMTP_PORT",
    "EMAIL_SMTP_USER",
    "EMAIL_SMTP_PASSWORD",
    "EMAIL_FROM",
    "EMAIL_TO",
    "EMAIL_USE_TLS",
    "SLACK_ENABLED",
    "SLACK_WEBHOOK_URL",
)

NOTIFY_URLS_HELP = (
    "Apprise URLs (https://appriseit.com/services/) separated by whitespace, each optionally "
    "prefixed INFO=, WARNING= or CRITICAL=, e.g. json://127.0.0.1:8080/hook critical=mailtos://..."
)
SLACK_HELP = "a Slack incoming webhook URL https://hooks.slack.com/services/T.../B.../... when SLACK_ENABLED=true"
# Patterns as strings: re compiles (and caches) them on first use, so a run without destinations never does.
_LEVEL_PREFIX = r"(?s)^(?P<level>[A-Za-z]+)=(?P<url>[A-Za-z][A-Za-z0-9+.\-]*://.*)$"
_SLACK_SERVICES = r"^https://hooks\.slack\.com/services/([^/\s?#]+)/([^/\s?#]+)/([^/\s?#]+)/?$"
_EMAIL = r"^[^@\s,<>]+@[^@\s,<>]+\.[^@\s,<>]+$"
_HOSTNAME = r"^[A-Za-z0-9_](?:[A-Za-z0-9._-]{0,252})$"
_Getter = Callable[[str, str], str]  # a key's value, or the default when unset or blank


class Destination(NamedTuple):
    """One place notifications go: its Apprise URL, a safe form of it, and a stable key for the database."""

    url: str  # the full Apprise URL, secrets included: never log or store it
    masked: str  # display_url(url): what logs, messages, notification_deliveries.destination and the API show
    key: str  # sha256 hex of url: finds this destination's rows in notification_deliveries
    min_level: str | None  # its own level filter (INFO, WARNING or CRITICAL); None: NOTIFY_MIN_LEVEL

    def __repr__(self) -> str:  # settings get printed and logged: never show the secrets in `url`
        return f"Destination(masked={self.masked!r}, key={self.key[:12] + '...'!r}, min_level={self.min_level!r})"


class NotifySettings(NamedTuple):
    destinations: tuple[Destination, ...]
    min_level: str  # INFO, WARNING or CRITICAL
    delivery_max_age_seconds: float  # a delivery still failing this long after its notification expires
    delivery_timeout_seconds: float  # the most one run spends delivering


def level_rank(level: str) -> int:
    """INFO 0 < WARNING 1 < CRITICAL 2 (ERROR counts as CRITICAL); an unknown level ranks as WARNING."""
    return _LEVEL_RANK.get(level.strip().upper(), 1)


def admits(destination: Destination, settings: NotifySettings, level: str) -> bool:
    """Whether `destination` wants a notification of `level` (its own filter, else NOTIFY_MIN_LEVEL)."""
    return level_rank(level) >= level_rank(destination.min_level or settings.min_level)


def parse_notify_settings(values: Mapping[str, str]) -> NotifySettings:
    """Validate every delivery key; raises ConfigError (one line, secrets masked) naming the first bad one."""

    def get(key: str, default: str) -> str:
        value = values.get(key)
        return default if value is None or value.strip() == "" else value

    max_age_raw = get("ALERT_DELIVERY_MAX_AGE", "24h")
    max_age = parse_duration("ALERT_DELIVERY_MAX_AGE", max_age_raw)
    if max_age <= 0:
        raise ConfigError("ALERT_DELIVERY_MAX_AGE", max_age_raw, f"{DURATION_HELP}, above 0")
    candidates = [
        *_notify_urls(values.get("NOTIFY_URLS", "")),
        *_email_destination(values, get),
        *_slack_destination(values, get),
    ]
    destinations: dict[str, Destination] = {}
    for key, url, level in candidates:
        _check_loads(key, url)
        destination = Destination(url, display_url(url), destination_key(url), level)
        destinations.setdefault(destination.key, destination)  # the same URL twice is one destination
    return NotifySettings(
        destinations=tuple(destinations.values()),
        min_level=_level("NOTIFY_MIN_LEVEL", get("NOTIFY_MIN_LEVEL", "WARNING")),
        delivery_max_age_seconds=max_age,
        delivery_timeout_seconds=parse_number(
            "ALERT_DELIVERY_TIMEOUT_SECONDS", get("ALERT_DELIVERY_TIMEOUT_SECONDS", "10"), 0.5, 600
        ),
    )


def destination_key(url: str) -> str:
    """SHA-256 hex of the full URL: identifies a destination in the database without storing its secrets."""
    import hashlib

    return hashlib.sha256(url.encode("utf-8")).hexdigest()


def _level(key: str, raw: str) -> str:
    level = parse_choice(key, raw, (*LEVELS, "ERROR"))
    return "CRITICAL" if level == "ERROR" else level


def _notify_urls(raw: str) -> list[tuple[str, str, str | None]]:
    """(key, url, own level) for each whitespace-separated item of NOTIFY_URLS."""
    found: list[tuple[str, str, str | None]] = []
    for item in raw.split():
        match = re.match(_LEVEL_PREFIX, item)
        if match is None:
            found.append(("NOTIFY_URLS", item, None))
            continue
        level = match.group("level").upper()
        if level not in _LEVEL_RANK:
            raise ConfigError(
                "NOTIFY_URLS", display_url(item), "a level prefix INFO=, WARNING= or CRITICAL= before an Apprise URL"
            )
        found.append(("NOTIFY_URLS", match.group("url"), "CRITICAL" if level == "ERROR" else level))
    return found


def _email_destination(values: Mapping[str, str], get: _Getter) -> list[tuple[str, str, str | None]]:
    """The seed's EMAIL_* keys as one Apprise mailto:// (plain SMTP) or mailtos:// (STARTTLS, or SSL on 465) URL."""
    if not parse_bool("EMAIL_ENABLED", get("EMAIL_ENABLED", "false")):
        return []
    host = get("EMAIL_SMTP_HOST", "").strip()
    if not host:
        raise ConfigError(
            "EMAIL_SMTP_HOST",
            values.get("EMAIL_SMTP_HOST", ""),
            "the SMTP server's host name or IP address when EMAIL_ENABLED=true",
        )
    if not _is_host(host):
        raise ConfigError("EMAIL_SMTP_HOST", host, "a host name or IP address such as smtp.example.com")
    port = parse_int("EMAIL_SMTP_PORT", get("EMAIL_SMTP_PORT", "587"), 1, 65535)
    use_tls = parse_bool("EMAIL_USE_TLS", get("EMAIL_USE_TLS", "true"))
    user = get("EMAIL_SMTP_USER", "").strip()
    password = values.get("EMAIL_SMTP_PASSWORD", "") or ""
    to_raw = get("EMAIL_TO", "")
    recipients = parse_list(to_raw)
    if not recipients or not all(re.match(_EMAIL, address) for address in recipients):
        raise ConfigError(
            "EMAIL_TO",
            to_raw,
            "comma-separated e-mail addresses (ops@example.com,me@example.org) when EMAIL_ENABLED=true",
        )
    sender = get("EMAIL_FROM", "").strip() or (user if re.match(_EMAIL, user) else "")
    if not re.match(_EMAIL, sender):
        raise ConfigError(
            "EMAIL_FROM",
            values.get("EMAIL_FROM", ""),
            "the sender's e-mail address when EMAIL_ENABLED=true (or EMAIL_SMTP_USER being one)",
        )
    from urllib.parse import quote

    auth = ""
    if user:
        auth = quote(user, safe="") + (f":{quote(password, safe='')}" if password else "") + "@"
    netloc_host = f"[{host}]" if ":" in host else host
    query = {"smtp": host, "from": sender, "to": ",".join(recipients), "format": "text"}
    if use_tls:
        query["mode"] = "ssl" if port == 465 else "starttls"
    url = f"{'mailtos' if use_tls else 'mailto'}://{auth}{netloc_host}:{port}/?" + "&".join(
        f"{name}={quote(value, safe='@,.')}" for name, value in query.items()
    )
    return [("EMAIL_SMTP_HOST", url, None)]


def _slack_destination(values: Mapping[str, str], get: _Getter) -> list[tuple[str, str, str | None]]:
    """The seed's SLACK_WEBHOOK_URL (https://hooks.slack.com/services/T/B/C) as Apprise's slack://T/B/C."""
    if not parse_bool("SLACK_ENABLED", get("SLACK_ENABLED", "false")):
        return []
    raw = get("SLACK_WEBHOOK_URL", "").strip()
    if not raw:
        raise ConfigError("SLACK_WEBHOOK_URL", values.get("SLACK_WEBHOOK_URL", ""), SLACK_HELP)
    match = re.match(_SLACK_SERVICES, raw)
    if match:
        return [("SLACK_WEBHOOK_URL", "slack://{}/{}/{}".format(*match.groups()), None)]
    if raw.startswith(("https://hooks.slack", "slack://")):
        return [("SLACK_WEBHOOK_URL", raw, None)]  # gov cloud, workflows: Apprise reads those natively
    raise ConfigError("SLACK_WEBHOOK_URL", display_url(raw), SLACK_HELP)


def _is_host(host: str) -> bool:
    import ipaddress

    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        return bool(re.match(_HOSTNAME, host))


def _check_loads(key: str, url: str) -> None:
    """Apprise must be able to load the URL (known scheme, required parts present), or the key is bad."""
    import apprise  # only here: settings without destinations never pay for it

    asset = apprise.AppriseAsset(storage_mode="memory")
    try:
        loaded = apprise.Apprise.instantiate(url, asset=asset, suppress_exceptions=False)
        reason = "" if loaded is not None else "not a URL it can load (unknown scheme or missing parts)"
    except Exception as error:  # noqa: BLE001 - any plugin error means "cannot use this URL"
        reason = redact(str(error) or error.__class__.__name__, url)
    if reason:
        value = display_url(url) if key in ("NOTIFY_URLS", "SLACK_WEBHOOK_URL") else url_host(url)
        allowed = {"NOTIFY_URLS": NOTIFY_URLS_HELP, "SLACK_WEBHOOK_URL": SLACK_HELP}.get(
            key, "EMAIL_* settings that make a valid Apprise mailto:// URL"
        )
        raise ConfigError(key, value, f"{allowed}; Apprise says: {' '.join(reason.split())}")


def url_host(url: str) -> str:
    """The host of an Apprise URL (no credentials), for messages about a mapped EMAIL_* destination."""
    netloc = split_url(url)[1]
    return netloc.rpartition("@")[2]
