"""The seeds' payloads as the hub's samples: the documents' own examples give the figures the seeds mean (GB as
GiB, MB as MiB, KB/s as KiB/s), what they do not send stays None, and a payload the hub cannot take is one line
naming its field."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from fleet import coredotcloud, hicloud
from fleet.seed_payload import SeedPayloadError
from monitoring.catalogue import ResourceKind
from monitoring.collectors.registry import figures_of
from monitoring.units import GIB, MIB
from monitoring.wire import decode_sample, encode_sample
from tests.seed_payloads import (
    COREDOTCLOUD_FOUR_CPUS,
    COREDOTCLOUD_INFO,
    COREDOTCLOUD_SHORT_DATA,
    COREDOTCLOUD_SIX_CPUS_TWO_GPUS,
    HICLOUD_MONITOR_INFO,
    as_sent,
    body,
)

RECEIVED_AT = datetime(2026, 11, 30, 8, 0, tzinfo=timezone.utc)


def test_coredotcloud_four_cpus_example() -> None:
    push = coredotcloud.read_push(body(COREDOTCLOUD_FOUR_CPUS), RECEIVED_AT)
    sample = push.sample
    assert push.key == "DKWs8wl" and push.info is None and sample is not None
    assert sample.timestamp == RECEIVED_AT and sample.cpu is not None and sample.memory is not None
    assert (sample.cpu.percent, sample.cpu.logical_count, sample.cpu.core_percents) == (
        14.8,
        4,
        [13.2, 14.0, 15.5, 16.8],
    )
    assert sample.cpu.times is None and sample.cpu.physical_count is None
    assert (sample.memory.total_bytes, sample.memory.used_bytes, sample.memory.percent) == (
        128 * GIB,
        round(57.78 * GIB),
        46.0,
    )
    assert sample.memory.available_bytes is None and sample.memory.swap_total_bytes is None
    assert sample.disks is not None and sample.network is not None and sample.network.total_rates is not None
    [root] = sample.disks.mounts
    assert (root.mountpoint, root.total_bytes, root.used_bytes, root.free_bytes, root.percent) == (
        "/",
        round(3721.87 * GIB),
        round(10.39 * GIB),
        None,
        1.5,
    )
    rates = sample.network.total_rates
    assert (rates.recv_bytes_per_second, rates.sent_bytes_per_second) == (277.0 * 1024, 8.0 * 1024)
    assert rates.packets_sent_per_second is None and sample.network.interfaces == []
    assert sample.gpus is not None and sample.gpus.devices == []


def test_coredotcloud_six_cpus_two_gpus_example_as_stored_figures() -> None:
    push = coredotcloud.read_push(body(COREDOTCLOUD_SIX_CPUS_TWO_GPUS), RECEIVED_AT)
    assert push.sample is not None
    figures = figures_of(push.sample)
    machine = figures.machine
    assert (machine["cpu_percent"], machine["cpu_count"], machine["memory_percent"]) == (12.5, 6, 70.0)
    assert (machine["memory_total_gb"], machine["memory_used_gb"], machine["memory_available_gb"]) == (64.0, 45.0, None)
    assert (machine["disk_total_gb"], machine["disk_used_gb"], machine["disk_percent"]) == (1000.0, 500.0, 50.0)
    assert machine["network_recv_bytes_per_second"] == 500.0 * 1024
    assert machine["network_sent_bytes_per_second"] == 100.0 * 1024
    assert machine["network_errors_per_second"] is None and machine["network_sent_mb"] is None
    assert machine["cpu_busy_seconds_total"] is None and machine["swap_percent"] is None
    assert machine["gpu_count"] == 2
    cores = [core.values["cpu_core_percent"] for core in figures.of_kind(ResourceKind.CORE)]
    assert cores == [10.0, 15.0, 12.0, 18.0, 22.0, 17.0]
    gpus = [
        (gpu.values["gpu_utilization_percent"], gpu.values["gpu_memory_total_mib"], gpu.values["gpu_memory_used_mib"])
        for gpu in figures.of_kind(ResourceKind.GPU)
    ]
    assert gpus == [(40.5, 8192.0, 2048.0), (55.2, 4096.0, 1024.0)]
    assert [gpu.values["gpu_memory_percent"] for gpu in figures.of_kind(ResourceKind.GPU)] == [25.0, 25.0]


def test_a_translated_sample_travels_the_wire_format_unchanged() -> None:
    push = coredotcloud.read_push(body(COREDOTCLOUD_SIX_CPUS_TWO_GPUS), RECEIVED_AT)
    assert push.sample is not None
    again = decode_sample(encode_sample(push.sample))
    assert figures_of(again).machine == figures_of(push.sample).machine


def test_coredotcloud_info_example() -> None:
    push = coredotcloud.read_push(body(COREDOTCLOUD_INFO), RECEIVED_AT)
    assert push.sample is None and push.info is not None and push.info.cpu is not None
    assert (push.info.hostname, push.info.os, push.info.cpu.logical_cores) == ("server-01", "Linux", 16)
    assert push.info.gpu is not None and push.info.gpu[0].memory_total_mb == 16384


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        pytest.param(
            as_sent(COREDOTCLOUD_SHORT_DATA),
            "$.data[9] (CPU count) is 8192: expected a whole number from 0 to 4096",
            id="the-documents-short-example",
        ),
        pytest.param(
            as_sent(COREDOTCLOUD_FOUR_CPUS, data=[14.8, 128.0]),
            "$.data has 2 values: a data payload has at least 11 (CPU %, memory total GB",
            id="too-short",
        ),
        pytest.param(
            as_sent(COREDOTCLOUD_FOUR_CPUS, data=[*as_sent(COREDOTCLOUD_FOUR_CPUS)["data"], 1.0]),
            "$.data has 16 values: with 4 CPUs ($.data[9]) and 0 GPUs ($.data[10]) it must have 11 + 4 + 3 * 0 = 15",
            id="one-too-many",
        ),
        pytest.param(
            as_sent(COREDOTCLOUD_FOUR_CPUS, data=[140.8, *as_sent(COREDOTCLOUD_FOUR_CPUS)["data"][1:]]),
            "$.data[0] (CPU %) is 140.8: expected a number from 0 to 100",
            id="cpu-over-100",
        ),
        pytest.param(
            as_sent(COREDOTCLOUD_FOUR_CPUS, data=[*as_sent(COREDOTCLOUD_FOUR_CPUS)["data"][:9], 4.5, 0, 1, 2, 3, 4]),
            "$.data[9] (CPU count) is 4.5: expected a whole number from 0 to 4096",
            id="fractional-count",
        ),
        pytest.param(
            as_sent(COREDOTCLOUD_FOUR_CPUS, data=[*as_sent(COREDOTCLOUD_FOUR_CPUS)["data"][:14], "16.8"]),
            "Expected `float`, got `str` - at `$.data[14]`",
            id="text-for-a-number",
        ),
        pytest.param(
            as_sent(COREDOTCLOUD_FOUR_CPUS, data=[*as_sent(COREDOTCLOUD_FOUR_CPUS)["data"][:7], True, *[0] * 7]),
            "Expected `float`, got `bool` - at `$.data[7]`",
            id="boolean",
        ),
        pytest.param(
            as_sent(COREDOTCLOUD_FOUR_CPUS, category="info"),
            "$.data is a list (a data payload) but $.category is 'info': expected an object",
            id="info-with-a-list",
        ),
        pytest.param(as_sent(COREDOTCLOUD_INFO, category="stats"), "at `$.category`", id="unknown-category"),
        pytest.param({"data": []}, "Object missing required field `apikey`", id="no-key"),
        pytest.param(
            as_sent(COREDOTCLOUD_INFO, data={"cpu": {"logical_cores": -1}}),
            "at `$.data.cpu.logical_cores`",
            id="info-field",
        ),
    ],
)
def test_a_coredotcloud_payload_the_hub_cannot_take_names_its_field(payload: object, message: str) -> None:
    with pytest.raises(SeedPayloadError) as raised:
        coredotcloud.read_push(json.dumps(payload).encode(), RECEIVED_AT)
    assert message in str(raised.value)
    assert "DKWs8wl" not in str(raised.value)


def test_hicloud_example_read_as_utc_by_default() -> None:
    info, sample = hicloud.read_monitor_info(body(HICLOUD_MONITOR_INFO), hicloud.agent_zone(None))
    assert sample.timestamp == datetime(2024, 9, 4, 15, 30, tzinfo=timezone.utc)
    assert sample.cpu is not None and sample.memory is not None
    assert (sample.cpu.logical_count, sample.cpu.percent, sample.cpu.core_percents) == (4, 45.2, [])
    assert (sample.memory.total_bytes, sample.memory.used_bytes, sample.memory.percent) == (
        8192 * MIB,
        4096 * MIB,
        50.0,
    )
    assert sample.disks is None and sample.network is None and sample.gpus is None
    machine = figures_of(sample).machine
    assert (machine["memory_total_gb"], machine["memory_used_gb"], machine["cpu_percent"]) == (8.0, 4.0, 45.2)
    [container] = info.container_stats
    assert (container.container_name, container.con_memory_usage) == ("nginx-container", 50.2)


def test_hicloud_time_in_the_agents_zone() -> None:
    _, sample = hicloud.read_monitor_info(body(HICLOUD_MONITOR_INFO), hicloud.agent_zone("Asia/Seoul"))
    assert sample.timestamp == datetime(2024, 9, 4, 6, 30, tzinfo=timezone.utc)


def test_an_unknown_zone_is_named() -> None:
    with pytest.raises(SeedPayloadError, match=r"tz='Mars/Olympus' is not a known time zone"):
        hicloud.agent_zone("Mars/Olympus")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"ser_cpu_percent": 145.2}, "Expected `float` <= 100.0 - at `$.ser_cpu_percent`"),
        ({"ser_memory_total": "8192"}, "Expected `float`, got `str` - at `$.ser_memory_total`"),
        ({"ser_get_datetime": "2024-09-04T15:30:00"}, "at `$.ser_get_datetime`"),
        ({"ser_get_datetime": "2024-13-04 15:30:00"}, "$.ser_get_datetime is '2024-13-04 15:30:00': expected"),
        (
            {"container_stats": [{"status": "running"}]},
            "missing required field `container_name` - at `$.container_stats[0]`",
        ),
        (
            {"container_stats": [{"container_name": "a", "con_get_datetime": "2024-02-30 00:00:00"}]},
            "$.container_stats[0].con_get_datetime is '2024-02-30 00:00:00'",
        ),
    ],
)
def test_a_hicloud_payload_the_hub_cannot_take_names_its_field(changes: dict[str, object], message: str) -> None:
    with pytest.raises(SeedPayloadError) as raised:
        hicloud.read_monitor_info(body(HICLOUD_MONITOR_INFO, **changes), hicloud.agent_zone(None))
    assert message in str(raised.value)


def test_a_missing_hicloud_field_is_named() -> None:
    payload = as_sent(HICLOUD_MONITOR_INFO)
    del payload["ser_memory_used"]
    with pytest.raises(SeedPayloadError, match="Object missing required field `ser_memory_used`"):
        hicloud.read_monitor_info(json.dumps(payload).encode(), hicloud.agent_zone(None))


def test_a_body_that_is_not_json() -> None:
    with pytest.raises(SeedPayloadError, match="not JSON"):
        hicloud.read_monitor_info(b"{not json", hicloud.agent_zone(None))
