"""What the seeds' two agents (coredotcloud, HiCloud) have in common at the hub: their JSON read with msgspec
against typed Structs, and a payload that cannot be taken as one line naming its field (the route's 422).

Neither agent measures everything a sample holds: what a payload does not give stays None (stored as NULL), so a
seed host's figures are never invented. The one exception is forced by the schema: a CPU core's row must hold
its cumulative CPU seconds, which a seed does not send; they are stored as 0 (pushed samples carry their rates
already, and nothing computes rates from a pushed sample's counters)."""

from __future__ import annotations

from typing import Annotated, TypeVar

import msgspec

from monitoring.collectors.cpu import CpuTimes
from monitoring.wire import WireError, decode_as

# The sample's `platform` where the agent does not say which operating system it runs on.
UNKNOWN_PLATFORM = "unknown"
# A core's counters, which a seed does not send (see the module's docstring).
NO_CORE_TIMES = CpuTimes(0.0, 0.0)
MAX_TEXT_CHARS = 200

Text = Annotated[str, msgspec.Meta(max_length=MAX_TEXT_CHARS)]
Percent = Annotated[float, msgspec.Meta(ge=0, le=100)]
Size = Annotated[float, msgspec.Meta(ge=0, le=2**50)]  # in the agent's unit (GB, MB): bounded, never negative

Payload = TypeVar("Payload")


class SeedPayloadError(ValueError):
    """A payload the hub cannot take; str() names the field, the value where it is not a secret, and what is
    allowed."""


def decode(body: bytes, payload_type: type[Payload]) -> Payload:
    """`body` as `payload_type`; raises SeedPayloadError naming the first bad field."""
    try:
        return decode_as(body, payload_type)
    except WireError as error:
        raise SeedPayloadError(str(error)) from None
