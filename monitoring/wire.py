"""The fleet's wire format: how a sample travels from an agent to the hub, as JSON, and how the hub reads it back.

One definition for both ends: the Sample dataclass tree itself, encoded and decoded by msgspec against its type
hints, so a new reading field travels without a second schema to keep in step. A decode error names the field
(`$.samples[3].sample.cpu.logical_count`), which is the one line a 422 answer gives. Unknown fields are ignored,
so an older hub accepts a newer agent's samples. The process table (every pid's counters, kept by the agent for
its own rates) never leaves the agent: the hub stores the rates and the top processes.
"""

from __future__ import annotations

import dataclasses
from typing import Annotated, TypeVar

import msgspec

from monitoring.sample import Sample

# Agents name their outbox with 32 hex digits (uuid4().hex); ids and counts are bounded so that a hostile body
# cannot make the hub build huge integers or strings.
OUTBOX_ID_PATTERN = "^[0-9a-f]{32}$"
MAX_SEQ = 2**63 - 1
MAX_SAMPLES_PER_BATCH = 5000
MAX_GAPS_PER_BATCH = 1000
MAX_TEXT_CHARS = 200

T = TypeVar("T")
Seq = Annotated[int, msgspec.Meta(ge=1, le=MAX_SEQ)]
UnixSeconds = Annotated[float, msgspec.Meta(ge=0, le=2**40)]
Text = Annotated[str, msgspec.Meta(max_length=MAX_TEXT_CHARS)]


class WireError(ValueError):
    """A body that is not a valid batch; str() names the field and what was wrong."""


class IncomingSample(msgspec.Struct, frozen=True, forbid_unknown_fields=False):
    seq: Seq
    collected_at: UnixSeconds  # Unix seconds by the agent's clock
    sample: Sample


class IncomingGap(msgspec.Struct, frozen=True):
    """Samples the agent's outbox dropped (too old or past its size bound) before the hub could have them."""

    id: Seq
    first_seq: Seq
    last_seq: Seq
    samples: Annotated[int, msgspec.Meta(ge=1, le=MAX_SEQ)]
    first_collected_at: UnixSeconds
    last_collected_at: UnixSeconds
    reason: Text


class Batch(msgspec.Struct, frozen=True):
    """One push: samples oldest first, numbered in the agent's outbox `outbox_id`; `sent_at` by the agent's clock
    gives the hub the clock skew, `interval_seconds` how often the agent samples (silent-host checks)."""

    outbox_id: Annotated[str, msgspec.Meta(pattern=OUTBOX_ID_PATTERN)]
    fingerprint: Annotated[str, msgspec.Meta(min_length=1, max_length=128)]
    agent_version: Text
    sent_at: UnixSeconds
    interval_seconds: Annotated[float, msgspec.Meta(gt=0, le=86400)]
    samples: Annotated[list[IncomingSample], msgspec.Meta(max_length=MAX_SAMPLES_PER_BATCH)]
    gaps: Annotated[list[IncomingGap], msgspec.Meta(max_length=MAX_GAPS_PER_BATCH)] = []


_ENCODER = msgspec.json.Encoder()


def encode_sample(sample: Sample) -> bytes:
    """The sample as JSON, without the process table."""
    if sample.processes is not None and sample.processes.table:
        sample = dataclasses.replace(sample, processes=dataclasses.replace(sample.processes, table=[]))
    return _ENCODER.encode(sample)


def batch_body(
    outbox_id: str,
    fingerprint: str,
    agent_version: str,
    sent_at: float,
    interval_seconds: float,
    samples: list[tuple[int, float, bytes]],
    gaps: list[IncomingGap],
) -> bytes:
    """A Batch's JSON from samples already encoded by `encode_sample` (seq, collected_at, body): the outbox keeps
    encoded bodies, which are spliced in as they are rather than decoded and encoded again."""
    head = _ENCODER.encode(
        {
            "outbox_id": outbox_id,
            "fingerprint": fingerprint,
            "agent_version": agent_version,
            "sent_at": sent_at,
            "interval_seconds": interval_seconds,
            "gaps": gaps,
        }
    )
    entries = b",".join(
        b'{"seq":%d,"collected_at":%s,"sample":%s}' % (seq, _ENCODER.encode(collected_at), body)
        for seq, collected_at, body in samples
    )
    return head[:-1] + b',"samples":[' + entries + b"]}"


def decode_as(body: bytes, payload_type: type[T]) -> T:
    """`body` as `payload_type` (msgspec types: Structs, dataclasses, NamedTuples); raises WireError naming the
    first bad field."""
    try:
        return msgspec.json.decode(body, type=payload_type)
    except msgspec.ValidationError as error:
        raise WireError(str(error)) from None
    except msgspec.DecodeError as error:
        raise WireError(f"not JSON: {error}") from None


def decode_batch(body: bytes) -> Batch:
    """The batch in `body`; raises WireError naming the first bad field."""
    return decode_as(body, Batch)


def decode_sample(body: bytes) -> Sample:
    """One sample encoded by `encode_sample`; raises WireError naming the first bad field."""
    return decode_as(body, Sample)
