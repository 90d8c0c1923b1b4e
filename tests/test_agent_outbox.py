"""The agent's outbox on real SQLite files: order, acknowledgement, bounds recorded as gaps, sequence numbers
never reused, and nothing committed lost when the writing process is killed with -9."""

from __future__ import annotations

import signal
import sqlite3
import stat
import subprocess
import sys
import time
from pathlib import Path

from agent.outbox import Backlog, Outbox
from tests.conftest import ROOT

DAY_SECONDS = 86_400.0


def outbox(path: Path, max_age_seconds: float = DAY_SECONDS, max_bytes: int = 10_000_000) -> Outbox:
    return Outbox(path, max_age_seconds=max_age_seconds, max_bytes=max_bytes)


def test_samples_wait_oldest_first_until_acknowledged_and_survive_a_reopen(tmp_path: Path) -> None:
    box = outbox(tmp_path / "outbox.db")
    seqs = [box.append(f"sample {n}".encode(), 1000.0 + n) for n in range(5)]
    assert seqs == sorted(seqs) and len(set(seqs)) == 5
    assert [entry.body for entry in box.pending(3)] == [b"sample 0", b"sample 1", b"sample 2"]
    box.acknowledge(seqs[:2])
    identity = box.outbox_id
    box.close()

    reopened = outbox(tmp_path / "outbox.db")
    assert reopened.outbox_id == identity  # the same outbox to the hub after a restart
    assert [(entry.seq, entry.collected_at) for entry in reopened.pending(10)] == [
        (seqs[2], 1002.0),
        (seqs[3], 1003.0),
        (seqs[4], 1004.0),
    ]
    assert reopened.backlog() == Backlog(samples=3, body_bytes=24, oldest_collected_at=1002.0, gaps=0)


def test_sequence_numbers_are_never_reused_after_everything_was_acknowledged(tmp_path: Path) -> None:
    box = outbox(tmp_path / "outbox.db")
    first = [box.append(b"x", 1.0), box.append(b"y", 2.0)]
    box.acknowledge(first)
    box.close()
    reopened = outbox(tmp_path / "outbox.db")
    assert reopened.append(b"z", 3.0) > max(first)


def test_a_new_outbox_file_is_a_new_identity_and_owner_only(tmp_path: Path) -> None:
    """A deleted outbox starts its numbers again: its new id keeps the hub from taking them for replays."""
    first, second = outbox(tmp_path / "a" / "outbox.db"), outbox(tmp_path / "b" / "outbox.db")
    assert first.outbox_id != second.outbox_id
    assert stat.S_IMODE((tmp_path / "a" / "outbox.db").stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "a").stat().st_mode) == 0o700


def test_samples_past_the_age_bound_become_one_gap(tmp_path: Path) -> None:
    box = outbox(tmp_path / "outbox.db", max_age_seconds=60)
    old = [box.append(b"old", moment) for moment in (100.0, 110.0, 120.0)]
    kept = box.append(b"new", 175.0)  # 100 and 110 are now more than 60 s older than the newest
    assert [entry.seq for entry in box.pending(10)] == [old[2], kept]
    [gap] = box.gaps()
    assert (gap.first_seq, gap.last_seq, gap.samples) == (old[0], old[1], 2)
    assert (gap.first_collected_at, gap.last_collected_at) == (100.0, 110.0)
    assert gap.reason == "older than AGENT_OUTBOX_MAX_AGE (60 s)"
    box.acknowledge_gaps([gap.id])
    assert box.gaps() == [] and box.backlog().gaps == 0


def test_samples_past_the_size_bound_are_dropped_oldest_first_and_the_newest_is_kept(tmp_path: Path) -> None:
    box = outbox(tmp_path / "outbox.db", max_bytes=250)
    seqs = [box.append(bytes(100), 1000.0 + n) for n in range(4)]
    assert [entry.seq for entry in box.pending(10)] == seqs[2:]  # 200 bytes fit, 300 do not
    assert [(gap.first_seq, gap.last_seq, gap.samples) for gap in box.gaps()] == [
        (seqs[0], seqs[0], 1),
        (seqs[1], seqs[1], 1),
    ]
    huge = box.append(bytes(1000), 2000.0)  # larger than the bound on its own: still kept, the rest dropped
    assert [entry.seq for entry in box.pending(10)] == [huge]
    assert box.gaps()[-1].reason == "past AGENT_OUTBOX_MAX_BYTES (250 bytes)"


def test_the_outbox_loads_neither_the_database_layer_nor_the_web_stack() -> None:
    loaded = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, agent.outbox; print(sorted(set(sys.modules) & set(sys.argv[1:])))",
            "sqlalchemy",
            "fastapi",
            "uvicorn",
            "apprise",
            "storage",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert loaded.stdout.strip() == "[]"


WRITER = """
import sys, time
sys.path.insert(0, sys.argv[2])
from agent.outbox import Outbox
from pathlib import Path
box = Outbox(Path(sys.argv[1]), max_age_seconds=86400, max_bytes=10**9)
while True:
    seq = box.append(b"s" * 2000, time.time())
    print(seq, flush=True)
"""


def test_a_writer_killed_with_minus_9_loses_no_committed_sample(tmp_path: Path) -> None:
    """Every sequence number the writer printed (after its commit returned) is in the file after kill -9."""
    path = tmp_path / "outbox.db"
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(path), str(ROOT)], stdout=subprocess.PIPE, text=True)
    assert writer.stdout is not None
    printed: list[int] = []
    deadline = time.monotonic() + 30
    while len(printed) < 200 and time.monotonic() < deadline:
        printed.append(int(writer.stdout.readline()))
    writer.send_signal(signal.SIGKILL)
    writer.wait(timeout=10)
    printed += [int(line) for line in writer.stdout.read().split()]
    assert len(printed) >= 200, "the writer did not get going"

    box = outbox(path)
    stored = [entry.seq for entry in box.pending(100_000)]
    assert set(printed) <= set(stored)
    assert stored == list(range(stored[0], stored[-1] + 1))  # in order, no duplicate, no hole
    assert len(stored) - len(printed) <= 1  # at most the one committed while its number was being printed
    with sqlite3.connect(path) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_bounds_enforced_at_start_drop_what_is_already_too_old_before_anything_is_sent(tmp_path: Path) -> None:
    box = outbox(tmp_path / "outbox.db", max_age_seconds=100.0)
    seqs = [box.append(b"x", at) for at in (1000.0, 1050.0, 1100.0)]
    box.enforce_bounds(now=1160.0)  # 1000 and 1050 are past 100 s
    assert [entry.seq for entry in box.pending(10)] == seqs[2:]
    assert [(gap.first_seq, gap.last_seq, gap.samples) for gap in box.gaps()] == [(seqs[0], seqs[1], 2)]
