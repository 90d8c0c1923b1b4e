"""No host key reaches a log: a HiCloud agent sends its key in the URL, so any line that shows a request's URL,
ours or the web server's access log, could carry one. The filter every handler has masks the key's shape."""

from __future__ import annotations

import logging

from config.logging_setup import SecretsFilter
from fleet.host_keys import new_key


def test_a_host_key_in_a_message_its_arguments_and_an_exception_is_masked() -> None:
    key, other = new_key(), new_key()
    try:
        raise ValueError(f"refused {other}")
    except ValueError as error:
        record = logging.LogRecord(
            "automation", logging.WARNING, __file__, 1, "POST /monitor_info?key=%s", (key,), (type(error), error, None)
        )
    assert SecretsFilter([]).filter(record) is True
    text = logging.Formatter().format(record)
    assert record.getMessage() == "POST /monitor_info?key=ahk_***"
    assert "ValueError: refused ahk_***" in text and key not in text and other not in text


def test_the_web_servers_access_line_is_masked_beside_the_configured_secrets() -> None:
    key = new_key()
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:50000", "POST", f"/monitor_info?key={key}&tz=Asia/Seoul&token=hunter22secret", "1.1", 200),
        None,
    )
    SecretsFilter(["hunter22secret"]).filter(record)
    assert (
        record.getMessage() == '127.0.0.1:50000 - "POST /monitor_info?key=ahk_***&tz=Asia/Seoul&token=*** HTTP/1.1" 200'
    )


def test_a_line_with_the_prefix_alone_is_left_as_it_is() -> None:
    record = logging.LogRecord("automation", logging.INFO, __file__, 1, "keys start with ahk_", None, None)
    assert SecretsFilter([]).filter(record) and record.getMessage() == "keys start with ahk_"
