"""The job runner: exit codes, output capture and caps, timeouts that end grandchildren too."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import psutil
import pytest

from scheduler.runner import OUTPUT_CAP_BYTES, cap_output, run_process
from storage.enums import ExecutionStatus

ENV = {**os.environ, "PYTHONUNBUFFERED": "1"}


def python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def test_success_and_output(tmp_path: Path) -> None:
    outcome = run_process(
        python("import sys, os; print('hello', os.getcwd()); print('oops', file=sys.stderr)"),
        cwd=str(tmp_path),
        env=ENV,
        timeout_seconds=30,
    )
    assert outcome.status is ExecutionStatus.SUCCESS and outcome.exit_code == 0 and outcome.error_message is None
    assert outcome.stdout == f"hello {tmp_path}\n" and outcome.stderr == "oops\n"
    assert 0 < outcome.duration_seconds < 30


def test_failure_keeps_the_exit_code(tmp_path: Path) -> None:
    outcome = run_process(python("raise SystemExit(3)"), cwd=str(tmp_path), env=ENV, timeout_seconds=30)
    assert outcome.status is ExecutionStatus.FAILED and outcome.exit_code == 3
    assert outcome.error_message == "exited with code 3"


def test_a_missing_program_is_a_failed_run_not_a_crash(tmp_path: Path) -> None:
    outcome = run_process([str(tmp_path / "no-such-program")], cwd=str(tmp_path), env=ENV, timeout_seconds=5)
    assert outcome.status is ExecutionStatus.FAILED and outcome.exit_code is None
    assert "could not start" in (outcome.error_message or "")


def test_output_is_capped_at_both_ends(tmp_path: Path) -> None:
    size = 5 * OUTPUT_CAP_BYTES
    middle = size - 2 * OUTPUT_CAP_BYTES
    code = f"import sys; sys.stdout.write('a' * {OUTPUT_CAP_BYTES} + 'b' * {middle} + 'z' * {OUTPUT_CAP_BYTES})"
    outcome = run_process(python(code), cwd=str(tmp_path), env=ENV, timeout_seconds=30)
    assert outcome.stdout.startswith("a" * OUTPUT_CAP_BYTES + "\n[... ")
    assert outcome.stdout.endswith(" bytes omitted ...]\n" + "z" * OUTPUT_CAP_BYTES)
    assert f"[... {size - 2 * OUTPUT_CAP_BYTES} bytes omitted ...]" in outcome.stdout
    assert cap_output(b"short") == "short"


@pytest.mark.slow
def test_a_timeout_ends_the_whole_process_group(tmp_path: Path) -> None:
    """The job starts a grandchild that ignores nothing and sleeps: both must be gone after the timeout."""
    pid_file = tmp_path / "grandchild.pid"
    code = (
        "import subprocess, sys, time; "
        f"child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)']); "
        f"open({str(pid_file)!r}, 'w').write(str(child.pid)); time.sleep(120)"
    )
    started = time.monotonic()
    outcome = run_process(python(code), cwd=str(tmp_path), env=ENV, timeout_seconds=4, grace_seconds=1)
    assert outcome.status is ExecutionStatus.TIMEOUT and outcome.error_message == "timed out after 4 s"
    assert time.monotonic() - started < 30
    grandchild = int(pid_file.read_text())
    assert not psutil.pid_exists(grandchild) or psutil.Process(grandchild).status() == psutil.STATUS_ZOMBIE


@pytest.mark.slow
def test_a_job_that_ignores_sigterm_is_killed_after_the_grace_period(tmp_path: Path) -> None:
    code = (
        "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('ready', flush=True); "
        "time.sleep(120)"
    )
    outcome = run_process(python(code), cwd=str(tmp_path), env=ENV, timeout_seconds=3, grace_seconds=0.5)
    assert outcome.status is ExecutionStatus.TIMEOUT and outcome.exit_code == -9
    assert outcome.stdout == "ready\n"


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="parent-death signal is Linux only")
@pytest.mark.parametrize("path", [os.defpath, ""], ids=["through setpriv", "through a preexec_fn (no setpriv)"])
def test_the_job_gets_sigterm_when_its_parent_dies(tmp_path: Path, path: str) -> None:
    """A scheduler killed with SIGKILL must not leave its job running forever; util-linux's setpriv sets the
    signal where it is found on PATH, a preexec_fn where not."""
    pid_file = tmp_path / "job.pid"
    job = f"import os, time; open({str(pid_file)!r}, 'w').write(str(os.getpid())); time.sleep(120)"
    parent = tmp_path / "parent.py"
    parent.write_text(
        "import os, sys\n"
        f"os.environ['PATH'] = {path!r}\n"
        f"sys.path.insert(0, {str(Path(__file__).resolve().parents[1])!r})\n"
        "from scheduler.runner import run_process\n"
        f"run_process([sys.executable, '-c', {job!r}], cwd={str(tmp_path)!r}, env=dict(os.environ), "
        "timeout_seconds=120)\n"
    )
    scheduler = psutil.Popen([sys.executable, str(parent)])
    deadline = time.monotonic() + 20
    while not pid_file.exists() or not pid_file.read_text():
        assert time.monotonic() < deadline, "the job never started"
        time.sleep(0.05)
    job = psutil.Process(int(pid_file.read_text()))
    scheduler.kill()
    scheduler.wait()
    gone, _ = psutil.wait_procs([job], timeout=10)
    assert gone, "the job outlived its scheduler"
