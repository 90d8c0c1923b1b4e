"""HTTPS: with API_TLS_CERT_FILE and API_TLS_KEY_FILE the hub serves TLS that a client trusting the certificate
accepts and one that does not refuses; a missing or mismatched file stops the start with one line."""

from __future__ import annotations

import ssl
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.api_server import TOKEN, environ, serving
from tests.conftest import MAIN

pytestmark = pytest.mark.slow


def self_signed(folder: Path, name: str) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, made with the openssl command line as an operator would."""
    cert, key = folder / f"{name}.crt", folder / f"{name}.key"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2"),
            *("-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"),
            *("-keyout", str(key), "-out", str(cert)),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


def test_the_hub_serves_https_that_only_a_trusting_client_accepts(tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path, "hub")
    trusting = ssl.create_default_context(cafile=str(cert))
    url = f"sqlite:///{tmp_path / 'hub.db'}"
    with serving(
        tmp_path, url, tls=trusting, API_TOKEN=TOKEN, API_TLS_CERT_FILE=str(cert), API_TLS_KEY_FILE=str(key)
    ) as hub:
        assert hub.base_url.startswith("https://")
        assert hub.ok("/monitoring/thresholds"), "answered over HTTPS"
        with pytest.raises(urllib.error.URLError) as refused:
            urllib.request.urlopen(hub.base_url + "/openapi.json", timeout=10, context=ssl.create_default_context())
        assert isinstance(refused.value.reason, ssl.SSLCertVerificationError)
        plain = hub.base_url.replace("https://", "http://")
        with pytest.raises((urllib.error.URLError, ConnectionError)):
            urllib.request.urlopen(plain + "/openapi.json", timeout=10)


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ({"API_TLS_CERT_FILE": "CERT"}, "API_TLS_KEY_FILE='' is invalid; expected the path of a PEM file"),
        ({"API_TLS_CERT_FILE": "CERT", "API_TLS_KEY_FILE": "/nonexistent.key"}, "API_TLS_KEY_FILE='/nonexistent.key'"),
        ({"API_TLS_CERT_FILE": "CERT", "API_TLS_KEY_FILE": "OTHER_KEY"}, "whose private key is in API_TLS_KEY_FILE"),
    ],
)
def test_a_wrong_tls_setting_stops_the_start_with_one_line(
    tmp_path: Path, settings: dict[str, str], expected: str
) -> None:
    cert, _ = self_signed(tmp_path, "hub")
    _, other_key = self_signed(tmp_path, "other")
    values = {
        key: value.replace("OTHER_KEY", str(other_key)).replace("CERT", str(cert)) for key, value in settings.items()
    }
    env = environ(tmp_path, f"sqlite:///{tmp_path / 'hub.db'}", **values)
    result = subprocess.run([sys.executable, str(MAIN), "serve"], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2, result.stderr
    assert expected in result.stderr and "Traceback" not in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
