"""`python main.py exporter --port N` as a real process: /metrics alone, this host live and the other hosts'
stored samples, promtool-clean; its refusals (busy port, an exposed address, a bad port) one line each.

Slow, but for the bad ports: the database of two recorded monitor runs and the exporter processes take seconds."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.api_server import TOKEN, Reply, environ, free_port
from tests.conftest import MAIN
from tests.test_prometheus import (
    LEVELS,
    assert_live_here_stored_elsewhere,
    assert_one_collection_a_second,
    assert_promtool_clean,
    platform_database,
    samples,
)


def get(url: str, token: str | None = None) -> Reply:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=60) as response:
            return Reply(response.status, dict(response.headers), response.read())
    except urllib.error.HTTPError as error:
        return Reply(error.code, dict(error.headers), error.read())


def exporter(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """A run expected to stop at once (a refusal)."""
    return subprocess.run(
        [sys.executable, str(MAIN), "exporter", *args], env=env, capture_output=True, text=True, timeout=60
    )


@contextmanager
def exporting(tmp: Path, env: dict[str, str]) -> Iterator[str]:
    """`python main.py exporter --port N` until the block ends, then SIGTERM: it must exit 0. Yields its base URL."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    log = tmp / f"exporter-{port}.log"
    with log.open("w") as output:
        process = subprocess.Popen(
            [sys.executable, str(MAIN), "exporter", "--port", str(port)], env=env, stdout=output, stderr=output
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, f"the exporter exited {process.returncode}: {log.read_text()}"
            try:
                with urllib.request.urlopen(base_url + "/metrics", timeout=30):
                    break
            except urllib.error.HTTPError:
                break  # it answers (401 where reads need the token)
            except (urllib.error.URLError, ConnectionError):
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.1)
        yield base_url
    finally:
        if process.poll() is None:
            process.terminate()
        code = process.wait(timeout=60)
    assert code == 0, f"the exporter exited {code}: {log.read_text()}"


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    tmp = tmp_path_factory.mktemp("exporter")
    return tmp, platform_database(tmp)


@pytest.fixture(scope="module")
def exporter_url(database: tuple[Path, str]) -> Iterator[str]:
    tmp, url = database
    with exporting(tmp, environ(tmp, url, **LEVELS)) as base_url:
        yield base_url


@pytest.fixture(scope="module")
def exposition(exporter_url: str) -> str:
    reply = get(exporter_url + "/metrics")
    assert reply.status == 200 and reply.headers["Content-Type"].startswith("text/plain; version="), reply
    return reply.text


@pytest.mark.slow
def test_promtool_finds_nothing_to_lint(exposition: str) -> None:
    assert_promtool_clean(exposition)


@pytest.mark.slow
def test_this_host_live_the_other_stored_with_the_platforms_figures(
    database: tuple[Path, str], exposition: str
) -> None:
    found = samples(exposition)
    assert_live_here_stored_elsewhere(found, database[1])
    runs = {(labels["job"], labels["status"]): value for labels, value in found["automation_job_runs_total"]}
    assert runs == {("system_monitoring", "success"): 2}
    assert "process_cpu_seconds_total" in found  # the exporter's own cost


@pytest.mark.slow
def test_the_live_figures_are_collected_at_most_once_a_second(database: tuple[Path, str], exporter_url: str) -> None:
    here = assert_live_here_stored_elsewhere(samples(get(exporter_url + "/metrics").text), database[1])
    assert_one_collection_a_second(lambda: get(exporter_url + "/metrics").text, here)


@pytest.mark.slow
@pytest.mark.parametrize("path", ["/", "/metrics/", "/monitoring/metrics/current", "/favicon.ico"])
def test_only_metrics_is_served(exporter_url: str, path: str) -> None:
    reply = get(exporter_url + path)
    assert reply.status == 404 and b"serves /metrics only" in reply.body, (path, reply)
    assert reply.headers["Server"] == "automation-exporter"


@pytest.fixture(scope="module")
def guarded_without_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """An exporter whose reads need the token and whose database has no tables yet."""
    tmp = tmp_path_factory.mktemp("exporter-bare")
    env = environ(tmp, f"sqlite:///{tmp / 'absent.db'}", API_TOKEN=TOKEN, API_READ_AUTH="true")
    with exporting(tmp, env) as base_url:
        yield base_url


@pytest.mark.slow
def test_reads_need_the_token_under_read_auth(guarded_without_database: str) -> None:
    assert get(guarded_without_database + "/metrics").status == 401
    assert get(guarded_without_database + "/metrics", token="wrong-token-0123456789").status == 401
    assert get(guarded_without_database + "/metrics", token=TOKEN).status == 200


@pytest.mark.slow
def test_live_figures_without_a_database(guarded_without_database: str) -> None:
    exposition = get(guarded_without_database + "/metrics", token=TOKEN).text
    assert_promtool_clean(exposition)
    found = samples(exposition)
    assert found["automation_database_up"] == [({}, 0.0)]
    [(labels, _)] = found["automation_sample_timestamp_seconds"]
    assert labels["host"] == socket.gethostname()
    assert found["automation_cpu_usage_ratio"] and "automation_job_runs_total" not in found


@pytest.mark.slow
def test_the_exposition_names_no_python_version(exporter_url: str) -> None:
    assert get(exporter_url + "/metrics").headers["Server"] == "automation-exporter"


@pytest.mark.slow
def test_a_busy_port_is_one_line_and_exit_2(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = exporter(environ(tmp_path, f"sqlite:///{tmp_path / 'a.db'}"), "--port", str(port))
    assert result.returncode == 2 and not result.stdout, result
    assert (
        result.stderr == f"exporter error: cannot listen on 127.0.0.1:{port}: Address already in use (--host, --port)\n"
    )


@pytest.mark.slow
def test_an_exposed_address_without_the_token_is_refused(tmp_path: Path) -> None:
    result = exporter(environ(tmp_path, f"sqlite:///{tmp_path / 'a.db'}"), "--host", "0.0.0.0")
    assert result.returncode == 2 and not result.stdout, result
    [line] = result.stderr.splitlines()
    assert line.startswith("exporter error: --host 0.0.0.0 is reachable from other machines") and "--public" in line
    assert not (tmp_path / "a.db").exists()  # refused before anything is touched


@pytest.mark.parametrize("port", ["0", "65536", "http"])
def test_a_bad_port_names_the_option_and_the_range(tmp_path: Path, port: str) -> None:
    result = exporter(environ(tmp_path, f"sqlite:///{tmp_path / 'a.db'}"), "--port", port)
    assert result.returncode == 2, result
    assert f"argument --port: {port!r} is invalid; expected a port number from 1 to 65535" in result.stderr
    assert "Traceback" not in result.stderr
