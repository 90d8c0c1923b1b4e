"""The fleet's wire format: a sample collected here survives the trip to JSON and back, with its rates and top
processes but without the process table, and a bad body is refused with the field it got wrong."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from monitoring.collectors.registry import collect_sample, figures_of
from monitoring.sample import Sample
from monitoring.snapshot import live_snapshot
from monitoring.wire import IncomingGap, WireError, batch_body, decode_batch, decode_sample, encode_sample

OUTBOX_ID = "0123456789abcdef0123456789abcdef"


@pytest.fixture
def sample(settings_for: Callable[..., Any]) -> Sample:
    settings = settings_for()
    before = live_snapshot(settings)
    time.sleep(0.2)
    return collect_sample(settings, before)


def test_a_sample_decodes_to_the_same_figures_without_its_process_table(sample: Sample) -> None:
    assert sample.processes is not None and sample.processes.table, "the collector keeps every pid's counters"
    body = encode_sample(sample)
    decoded = decode_sample(body)
    assert decoded.processes is not None and decoded.processes.table == []
    assert sample.processes.table, "encoding leaves the agent's own sample whole"
    assert decoded.timestamp == sample.timestamp and decoded.timestamp.tzinfo is not None
    assert decoded.cpu is not None and sample.cpu is not None
    assert decoded.cpu.times == sample.cpu.times and decoded.cpu.core_percents == sample.cpu.core_percents
    assert decoded.processes.top_cpu == sample.processes.top_cpu
    assert [outcome.name for outcome in decoded.collectors] == [outcome.name for outcome in sample.collectors]
    assert figures_of(decoded).machine == figures_of(sample).machine


def test_a_batch_splices_encoded_samples_and_reads_back_in_order(sample: Sample) -> None:
    body = encode_sample(sample)
    gap = IncomingGap(1, 1, 4, 4, 1000.0, 1090.0, "older than AGENT_OUTBOX_MAX_AGE (86400 s)")
    entries = [(5, 1100.5, body), (6, 1130.5, body)]
    batch = decode_batch(batch_body(OUTBOX_ID, "fp", "0.1.0", 2000.0, 30.0, entries, [gap]))
    assert [(incoming.seq, incoming.collected_at) for incoming in batch.samples] == [(5, 1100.5), (6, 1130.5)]
    assert batch.gaps == [gap] and batch.outbox_id == OUTBOX_ID and batch.interval_seconds == 30.0
    assert batch.samples[1].sample.hostname == sample.hostname


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ((b'"seq":5', b'"seq":0'), "`int` >= 1 - at `$.samples[0].seq`"),
        ((b'"outbox_id":"0123', b'"outbox_id":"XYZ3'), "at `$.outbox_id`"),
        ((b'"logical_count":', b'"logical_count":"two","x":'), "at `$.samples[0].sample.cpu.logical_count`"),
        ((b'"interval_seconds":30.0', b'"interval_seconds":-1'), "at `$.interval_seconds`"),
    ],
)
def test_a_bad_field_is_named(sample: Sample, change: tuple[bytes, bytes], named: str) -> None:
    body = batch_body(OUTBOX_ID, "fp", "0.1.0", 2000.0, 30.0, [(5, 1100.5, encode_sample(sample))], [])
    assert change[0] in body
    with pytest.raises(WireError) as refused:
        decode_batch(body.replace(change[0], change[1], 1))
    assert named in str(refused.value)


def test_a_body_that_is_not_json_says_so() -> None:
    with pytest.raises(WireError, match=r"^not JSON"):
        decode_batch(b'{"outbox_id": ')
