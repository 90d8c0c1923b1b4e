"""The fleet agent without a hub: its backoff, its settings' errors (one line, exit 2), its schedule, its
fingerprint, and start/stop/status with the PID file, as real processes that may not import the hub's stack."""

from __future__ import annotations

import os
import random
import re
import signal
import stat
from pathlib import Path
from xml.etree import ElementTree

import pytest

from agent.backoff import Backoff
from agent.fingerprint import machine_fingerprint
from agent.runner import first_slot
from config.agent_settings import HostKey, load_agent_config
from config.fields import ConfigError
from tests.agent_process import agent_command, agent_environ, outbox_counts, start_agent, state, stop_agent, wait_for
from tests.api_server import free_port
from tests.conftest import ROOT

KEY = "ahk_0123456789abcdef0123456789abcdef"


def unreachable_hub() -> str:
    return f"http://127.0.0.1:{free_port()}"  # nothing listens there: every push is a connection error


def test_backoff_grows_with_full_jitter_up_to_the_cap_and_resets() -> None:
    backoff = Backoff(base_seconds=1, cap_seconds=300, rng=random.Random(7))
    ceilings = [min(300, 2**n) for n in range(12)]
    delays = [backoff.next_delay() for _ in ceilings]
    assert all(0 <= delay <= ceiling for delay, ceiling in zip(delays, ceilings, strict=True))
    assert max(delays[-3:]) > 16  # it did grow: full jitter over [0, 300]
    assert len(set(delays)) == len(delays)  # jittered, not a fixed ladder
    backoff.reset()
    assert backoff.next_delay() <= 1


def test_backoff_honours_retry_after_within_the_cap() -> None:
    backoff = Backoff(base_seconds=1, cap_seconds=300, rng=random.Random(1))
    assert backoff.next_delay(retry_after_seconds=42) >= 42
    assert backoff.next_delay(retry_after_seconds=10_000) == 300
    assert backoff.capped_delay() == 300  # a refusal that will not clear by itself: tried again at the cap


def test_the_first_sample_comes_on_the_interval_grid_at_least_half_an_interval_after_start() -> None:
    assert first_slot(1000.0, 30) == 1020.0
    assert first_slot(1019.0, 30) == 1050.0  # 1020 is too close to the baseline read at start
    assert first_slot(1020.0, 30) == 1050.0


def test_the_fingerprint_is_stable_hex_of_the_machine_id() -> None:
    assert machine_fingerprint() == machine_fingerprint()
    assert len(machine_fingerprint()) == 64 and int(machine_fingerprint(), 16) >= 0


def test_defaults_and_a_masked_key() -> None:
    config = load_agent_config({"AGENT_HUB_URL": "https://hub.example:8000/", "AGENT_HOST_KEY": KEY})
    agent = config.agent
    assert agent.hub_url == "https://hub.example:8000"
    assert (agent.interval_seconds, agent.batch_size, agent.outbox_max_age_seconds) == (30, 500, 86400)
    assert agent.outbox_path.name == "agent-outbox.db" and agent.outbox_path.parent.name == "data"
    assert agent.pid_file.name == "agent.pid" and agent.state_file.parent == agent.outbox_path.parent
    assert agent.host_key is not None and agent.host_key.reveal() == KEY
    assert KEY not in repr(config) and KEY not in str(agent.host_key) and "***" in repr(config)
    assert config.collectors.top_processes == 5  # the monitor's own settings, read the same way
    example = load_agent_config({"AUTOMATION_ENV_FILE": str(ROOT / ".env.example")})  # its values are valid
    assert example.agent.hub_url is None and example.agent.interval_seconds == 30


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("AGENT_HUB_URL", "ftp://hub.example", "http(s)://HOST[:PORT]"),
        ("AGENT_HUB_URL", "https://hub.example:99999", "http(s)://HOST[:PORT]"),
        ("AGENT_HUB_URL", "https://user:pw@hub.example", "without a user or password"),
        ("AGENT_INTERVAL", "0", "a number from 1 to 86400"),
        ("AGENT_INTERVAL", "30s", "a number from 1 to 86400"),
        ("AGENT_BATCH_SIZE", "6000", "a whole number from 1 to 5000"),
        ("AGENT_RETRY_MAX_SECONDS", "0", "a number from 1 to 3600"),
        ("AGENT_OUTBOX_MAX_BYTES", "10", "a whole number from 1048576"),
        ("AGENT_CA_FILE", "/no/such/ca.pem", "the path of a PEM file"),
    ],
)
def test_a_bad_value_is_one_line_naming_it(key: str, value: str, expected: str) -> None:
    with pytest.raises(ConfigError) as raised:
        load_agent_config({"AGENT_HUB_URL": "http://127.0.0.1:8000", "AGENT_HOST_KEY": KEY, key: value})
    assert str(raised.value).startswith(f"{key}=") and expected in str(raised.value)
    assert "pw" not in str(raised.value).replace("password", "")


def test_the_key_file_must_be_the_owners_alone(tmp_path: Path) -> None:
    key_file = tmp_path / "host.key"
    key_file.write_text(KEY + "\n")
    key_file.chmod(0o644)
    with pytest.raises(ConfigError, match=r"AGENT_HOST_KEY_FILE=.* a file only its owner can read \(chmod 600\)"):
        load_agent_config({"AGENT_HOST_KEY_FILE": str(key_file)})
    key_file.chmod(0o600)
    host_key = load_agent_config({"AGENT_HOST_KEY_FILE": str(key_file)}).agent.host_key
    assert isinstance(host_key, HostKey) and host_key.reveal() == KEY


def test_a_bad_setting_stops_the_agent_with_exit_2_and_one_line(tmp_path: Path) -> None:
    result = agent_command(
        agent_environ(tmp_path, AGENT_HUB_URL=unreachable_hub(), AGENT_HOST_KEY=KEY, AGENT_INTERVAL="fast"), "run"
    )
    assert result.returncode == 2
    assert result.stderr == "configuration error: AGENT_INTERVAL='fast' is invalid; expected a number from 1 to 86400\n"
    assert not (tmp_path / "agent").exists()  # nothing written


def test_no_hub_or_no_key_says_which_setting_to_set(tmp_path: Path) -> None:
    no_hub = agent_command(agent_environ(tmp_path, AGENT_HOST_KEY=KEY), "run")
    assert no_hub.returncode == 2
    assert no_hub.stderr == (
        "error: AGENT_HUB_URL is not set; set it in .env to the hub's address, e.g. https://hub.example:8000\n"
    )
    no_key = agent_command(agent_environ(tmp_path, AGENT_HUB_URL=unreachable_hub()), "start")
    assert no_key.returncode == 2
    assert no_key.stderr.startswith("error: AGENT_HOST_KEY is not set; run `python main.py hosts add NAME`")
    assert no_key.stderr.count("\n") == 1
    assert not (tmp_path / "agent").exists()


@pytest.mark.slow
def test_without_a_hub_samples_wait_in_the_outbox_and_sigterm_exits_0(tmp_path: Path) -> None:
    """The agent never imports the hub's stack (tests.agent_process's guard), collects on schedule while the hub
    is unreachable, logs that once, never logs its key, and stops promptly on SIGTERM."""
    env = agent_environ(tmp_path, AGENT_HUB_URL=unreachable_hub(), AGENT_HOST_KEY=KEY, AGENT_INTERVAL="1")
    log = tmp_path / "run.log"
    process = start_agent(env, log)
    try:
        wait_for(
            lambda: outbox_counts(tmp_path)[1] >= 3 if (tmp_path / "agent" / "outbox.db").exists() else 0,
            "three samples in the outbox",
            log=log,
        )
    finally:
        stop_agent(process, log)
    text = log.read_text()
    assert "ImportError" not in text and "Traceback" not in text
    assert text.count("retrying with backoff") == 1  # one line for the outage, not one per try
    assert KEY not in text
    last_seq, waiting = outbox_counts(tmp_path)
    assert waiting == last_seq >= 3
    assert state(tmp_path)["backlog"]["samples"] == waiting
    assert "no answer" in state(tmp_path)["last_error"]
    assert stat.S_IMODE((tmp_path / "agent" / "agent-state.json").stat().st_mode) == 0o600
    assert not (tmp_path / "agent" / "agent.pid").exists()


@pytest.mark.slow
def test_start_stop_and_status_with_the_pid_file(tmp_path: Path) -> None:
    env = agent_environ(tmp_path, AGENT_HUB_URL=unreachable_hub(), AGENT_HOST_KEY=KEY, AGENT_INTERVAL="1")
    pid_file = tmp_path / "agent" / "agent.pid"
    not_running = agent_command(env, "status")
    assert (not_running.returncode, not_running.stdout) == (3, "agent: not running\n")

    started = agent_command(env, "start")
    assert started.returncode == 0, started.stderr
    pid = int(pid_file.read_text())
    try:
        assert started.stdout == f"agent started (pid {pid}); its log: {tmp_path / 'agent.log'}\n"
        assert stat.S_IMODE(pid_file.stat().st_mode) == 0o600
        status = agent_command(env, "status")
        assert status.returncode == 0
        assert status.stdout.startswith(f"agent: running (pid {pid}, since ")
        assert "last successful push: never" in status.stdout
        again = agent_command(env, "start")
        assert (again.returncode, again.stderr) == (1, f"error: the agent is already running (pid {pid})\n")
        foreground = agent_command(env, "run")
        assert foreground.returncode == 1 and "already running" in foreground.stderr
        wait_for(
            lambda: state(tmp_path).get("backlog", {}).get("samples", 0) >= 2, "two samples", log=tmp_path / "agent.log"
        )
        backlog = agent_command(env, "status").stdout
        assert "backlog: " in backlog and "last error: " in backlog and "no answer" in backlog
    finally:
        stopped = agent_command(env, "stop")
    assert (stopped.returncode, stopped.stdout) == (0, f"agent stopped (pid {pid})\n")
    assert not pid_file.exists()
    assert agent_command(env, "status").returncode == 3
    assert agent_command(env, "stop").stdout == "the agent is not running\n"


@pytest.mark.slow
def test_a_pid_file_left_by_a_killed_agent_is_stale(tmp_path: Path) -> None:
    env = agent_environ(tmp_path, AGENT_HUB_URL=unreachable_hub(), AGENT_HOST_KEY=KEY, AGENT_INTERVAL="1")
    log = tmp_path / "run.log"
    process = start_agent(env, log)
    pid_file = tmp_path / "agent" / "agent.pid"
    wait_for(lambda: pid_file.exists() and pid_file.read_text().strip() == str(process.pid), "the PID file", log=log)
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=10)
    assert pid_file.read_text().strip() == str(process.pid)  # left behind, naming a dead process
    assert agent_command(env, "status").returncode == 3
    started = agent_command(env, "start")
    assert started.returncode == 0, started.stderr
    assert agent_command(env, "stop").returncode == 0


def test_the_service_recipes_run_the_agent_in_the_foreground() -> None:
    unit = (ROOT / "deploy" / "automation-agent.service").read_text()
    assert "ExecStart=/opt/automation-platform/.venv/bin/python main.py agent run\n" in unit
    assert "RestartPreventExitStatus=2\n" in unit  # a bad setting is not restarted in a loop
    task = ElementTree.parse(ROOT / "deploy" / "windows" / "automation-agent.xml").getroot()  # UTF-16, as schtasks
    namespace = {"t": "http://schemas.microsoft.com/windows/2004/02/mit/task"}
    assert task.findtext("t:Actions/t:Exec/t:Arguments", namespaces=namespace) == "main.py agent run"
    assert task.findtext("t:Settings/t:ExecutionTimeLimit", namespaces=namespace) == "PT0S"  # no 72 h default limit
    requirements = (ROOT / "deploy" / "agent-requirements.txt").read_text().split()
    pinned = set(re.findall(r'"([\w.-]+==[^"]+)"', (ROOT / "pyproject.toml").read_text()))
    assert {line for line in requirements if "==" in line} <= pinned
