"""How a notification URL is shown: Apprise's own privacy rendering (each service plugin knows which of its
parts are secrets: sendgrid's API key in the user slot, slack's tokens in the host and path), tightened where
Apprise shows parts that can still be keys (a webhook's path, header values), shortened to the parameters the
user wrote. Whatever the display does not show counts as a secret, and redact() removes it from any text.

Apprise is imported only here and only when a destination is configured.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

DISPLAY_MAX_LENGTH = 512  # notification_deliveries.destination
_SECRET_PARAMETER = r"(?i)pass|token|key|secret|auth|sig|webhook"  # a query value Apprise would show in clear
_HEADER_PREFIXES = ("+", "-", ":")  # Apprise's json/xml/form: +header, -dropped field, :payload field
SECRET_MIN_LENGTH = 4  # shorter pieces are not looked for in text: they would match ordinary words


def display_url(url: str) -> str:
    """The URL as Apprise renders it with privacy on, every path segment shortened to its first and last
    character, and only the query parameters the URL itself gives (header values hidden). A URL Apprise cannot
    load shows its scheme only."""
    rendered = _privacy_url(url)
    if rendered is None:
        scheme = url.partition("://")[0] if "://" in url else ""
        return f"{scheme}://***" if re.fullmatch(r"[A-Za-z][A-Za-z0-9+.\-]*", scheme) else "***"
    from apprise import URLBase

    def outer(part: str) -> str:
        return str(URLBase.pprint(unquote(part), privacy=True))

    scheme, netloc, path, query = split_url(rendered)
    segments = [outer(segment) for segment in path.split("/") if segment]
    given = {unquote(name).lower() for name, _ in _parameters(split_url(url)[3])}
    parameters = [
        f"{name}={outer(value) if _is_secret_parameter(unquote(name)) else value}"
        for name, value in _parameters(query)
        if unquote(name).lower() in given
    ]
    shown = f"{scheme}://{netloc}" + "".join(f"/{segment}" for segment in segments)
    return (shown + (f"?{'&'.join(parameters)}" if parameters else ""))[:DISPLAY_MAX_LENGTH]


def secret_parts(url: str) -> tuple[str, ...]:
    """The URL itself and each of its parts (user, password, host, path segment, query value; raw and
    percent-decoded) that display_url does not show, longest first."""
    _, netloc, path, query = split_url(url)
    userinfo, _, hostport = netloc.rpartition("@")
    user, _, password = userinfo.partition(":")
    parts = {user, password, hostport, *hostport.split(":"), *path.split("/")}
    parts |= {value for _, value in _parameters(query)}
    parts |= {unquote(part) for part in parts}
    shown = _shown_parts(display_url(url))
    secrets = {part for part in parts if len(part) >= SECRET_MIN_LENGTH and part not in shown} | {url}
    return tuple(sorted(secrets, key=len, reverse=True))


def redact(text: str, url: str) -> str:
    """`text` with every secret part of `url` replaced by ***."""
    for part in secret_parts(url):
        text = text.replace(part, "***")
    return text


def split_url(url: str) -> tuple[str, str, str, str]:
    """(scheme, netloc, path, query) without urllib's port validation (telegram tokens hold a colon)."""
    scheme, _, rest = url.partition("://")
    end = len(rest)
    for stop in "/?#":
        index = rest.find(stop)
        if index != -1:
            end = min(end, index)
    netloc, remainder = rest[:end], rest[end:]
    path, _, query = remainder.partition("?")
    return scheme, netloc, path, query


def _privacy_url(url: str) -> str | None:
    """Apprise's privacy rendering of the URL, or None when no plugin loads it."""
    import apprise

    try:
        plugin = apprise.Apprise.instantiate(url, asset=apprise.AppriseAsset(storage_mode="memory"))
        return str(plugin.url(privacy=True)) if plugin else None
    except Exception:  # noqa: BLE001 - a plugin that cannot render is a URL we cannot show
        return None


def _parameters(query: str) -> list[tuple[str, str]]:
    return [(name, value) for name, _, value in (item.partition("=") for item in query.split("&") if item)]


def _is_secret_parameter(name: str) -> bool:
    return name.startswith(_HEADER_PREFIXES) or re.search(_SECRET_PARAMETER, name) is not None


def _shown_parts(shown: str) -> set[str]:
    """Every piece of a displayed URL, raw and percent-decoded: what is visible needs no redaction."""
    _, netloc, path, query = split_url(shown)
    userinfo, _, hostport = netloc.rpartition("@")
    pieces = {*userinfo.split(":"), hostport, *hostport.split(":"), *path.split("/")}
    pieces |= {value for _, value in _parameters(query)}
    return pieces | {unquote(piece) for piece in pieces}
