"""GET /metrics (of `serve` and of `exporter`): this host's live figures, the newest stored sample of every
other host and the platform's own figures, in Prometheus names.

Every metric of the catalogue that has a Prometheus name is exposed under it, scaled to base units (bytes,
seconds, ratios 0-1), `_total` for counters, `automation_` as the namespace (not `node_`, which is
node_exporter's), labelled by host and by its resource. This host's figures are the live sample of
/monitoring/metrics/current (collected at scrape time, at most once a second however often it is scraped);
the other hosts' come from the database at each scrape, as their monitors stored them.
automation_sample_timestamp_seconds says when each host's figures were taken, and
automation_stored_sample_timestamp_seconds when its monitor last stored a sample (this host's too: a stopped
monitor job still shows). The live figures need no database: when it cannot be read, a scrape still answers
with them and automation_database_up 0.

Each host of the fleet view (registered in `hosts`, or with samples only) also gets its status:
automation_host_up (1 reporting, 0 silent; absent in maintenance and before its first report),
automation_host_maintenance, automation_host_last_seen_timestamp_seconds and, where its agent said,
automation_host_clock_skew_seconds and automation_host_interval_seconds.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, ProcessCollector
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError

from config.fleet_settings import FleetSettings
from dashboard.live_sample import LiveSampler
from fleet.host_status import MAINTENANCE, SILENT, UP, describe_host
from monitoring.catalogue import CATALOGUE, Kind, ResourceKind
from monitoring.catalogue import Metric as CatalogueMetric
from pipeline.command import one_line
from storage import db
from storage.fleet_queries import SAMPLE_COLUMNS, fleet_hosts
from storage.incident_actions import active_counts
from storage.job_queries import last_successes, runs_by_status
from storage.metrics_queries import (
    RESOURCE_KEYS,
    hostnames,
    latest_sample_id,
    newest_sample_time,
    sample_with_details,
)
from storage.newest_samples import NewestSamples
from storage.scheduler_queries import newest_heartbeat
from storage.types import utc_now

log = logging.getLogger("automation.dashboard")

NAMESPACE = "automation"
# The catalogue's metrics that have a Prometheus name, in the catalogue's order.
EXPOSED = tuple(metric for metric in CATALOGUE if metric.prometheus)
# The labels of each kind of resource besides `host`, and how a stored row gives their values.
_LABELS: dict[ResourceKind, tuple[list[str], Any]] = {
    ResourceKind.CORE: (["cpu"], lambda row: [str(row["core_index"])]),
    ResourceKind.MOUNT: (
        ["mountpoint", "device", "fstype"],
        lambda row: [row["mountpoint"], row["device"] or "", row["fstype"] or ""],
    ),
    ResourceKind.INTERFACE: (["interface"], lambda row: [row["interface"]]),
    ResourceKind.GPU: (
        ["gpu", "uuid", "name"],
        lambda row: [str(row["gpu_index"]), row["uuid"] or "", row["name"] or ""],
    ),
    ResourceKind.SENSOR: (["chip", "sensor"], lambda row: [row["chip"], row["label"] or ""]),
    ResourceKind.CONTAINER: (["container", "image"], lambda row: [row["name"], row["image"] or ""]),
}


def _name(suffix: str) -> str:
    return f"{NAMESPACE}_{suffix}"


class _Families:
    """Metric families created on first use, emitted in creation order."""

    def __init__(self) -> None:
        self._families: dict[str, Metric] = {}

    def gauge(self, name: str, documentation: str, labels: list[str]) -> GaugeMetricFamily:
        if name not in self._families:
            self._families[name] = GaugeMetricFamily(_name(name), documentation, labels=labels)
        return self._families[name]  # type: ignore[return-value]

    def counter(self, name: str, documentation: str, labels: list[str]) -> CounterMetricFamily:
        if name not in self._families:
            self._families[name] = CounterMetricFamily(_name(name), documentation, labels=labels)
        return self._families[name]  # type: ignore[return-value]

    def add(self, metric: CatalogueMetric, labels: list[str], label_values: list[str], value: Any) -> None:
        """One sample of a catalogue metric, in base units; nothing where the value is missing."""
        if value is None:
            return
        family = self.counter if metric.kind is Kind.COUNTER else self.gauge
        family(metric.prometheus or "", metric.help, labels).add_metric(
            label_values, float(value) * metric.prometheus_scale
        )

    def __iter__(self) -> Iterator[Metric]:
        return iter(self._families.values())


def _host_metrics(families: _Families, sample: dict[str, Any]) -> None:
    host = sample["hostname"]
    families.gauge(
        "sample_timestamp_seconds",
        "When the host's figures were taken (this host's: live, at scrape time; others': their newest stored sample)",
        ["host"],
    ).add_metric([host], sample["timestamp"].timestamp())
    if sample["boot_time"] is not None:
        families.gauge("boot_time_seconds", "When the host booted", ["host"]).add_metric(
            [host], sample["boot_time"].timestamp()
        )
    for metric in EXPOSED:
        if metric.resource_kind is None:
            families.add(metric, ["host"], [host], sample.get(metric.column or ""))
        elif metric.resource_kind is ResourceKind.MOUNT and metric.kind is Kind.COUNTER:
            # A mount's I/O counters are its device's: one series per device, however many mounts it holds.
            devices = {row["io_device"]: row for row in sample["disks"] if row["io_device"]}
            for device, row in devices.items():
                families.add(metric, ["host", "device"], [host, device], row.get(metric.column or ""))
        else:
            names, values_of = _LABELS[metric.resource_kind]
            for row in sample.get(RESOURCE_KEYS[metric.resource_kind], []):
                families.add(metric, ["host", *names], [host, *values_of(row)], row.get(metric.column or ""))
    for row in sample.get("collectors", []):
        families.gauge(
            "collector_duration_seconds", "Time one collector took in the host's sample", ["host", "collector"]
        ).add_metric([host, row["collector"]], row["duration_seconds"])
        families.gauge(
            "collector_success", "Whether the collector succeeded (1) or failed (0)", ["host", "collector"]
        ).add_metric([host, row["collector"]], float(row["success"]))


class PlatformCollector(Collector):
    """This host's live sample, then what the database bound to storage.db holds, at each scrape."""

    def __init__(self, live: LiveSampler, fleet: FleetSettings) -> None:
        self._live = live
        self._fleet = fleet
        self._newest_samples = NewestSamples(SAMPLE_COLUMNS)
        self._database_failing = False

    def collect(self) -> Iterator[Metric]:
        families = _Families()
        sample = self._live.current().document
        _host_metrics(families, sample)
        try:
            with db.engine.connect() as connection:
                _stored_metrics(families, connection, live_host=sample["hostname"])
                _fleet_metrics(families, connection, self._fleet, self._newest_samples)
        except SQLAlchemyError as error:
            if not self._database_failing:  # logged once, not at every scrape
                log.warning("/metrics serves this host's live figures only: %s", one_line(error))
            self._database_failing = True
        else:
            if self._database_failing:
                log.info("/metrics reads the database again")
            self._database_failing = False
        families.gauge(
            "database_up", "Whether the database could be read for the other hosts and the jobs (1) or not (0)", []
        ).add_metric([], float(not self._database_failing))
        yield from families


def _stored_metrics(families: _Families, connection: Connection, live_host: str) -> None:
    """The newest stored sample of every host but the live one, and the jobs', incidents' and schedulers' figures."""
    stored = families.gauge(
        "stored_sample_timestamp_seconds", "When the host's monitor last stored a sample (also this host's)", ["host"]
    )
    for host in hostnames(connection):
        if host == live_host:
            newest = newest_sample_time(connection, host)
        else:
            sample_id = latest_sample_id(connection, host)
            sample = sample_with_details(connection, sample_id) if sample_id is not None else None
            if sample is not None:
                _host_metrics(families, sample)
            newest = sample["timestamp"] if sample is not None else None
        if newest is not None:
            stored.add_metric([host], newest.timestamp())
    runs = families.counter("job_runs", "Job runs recorded, by job and outcome", ["job", "status"])
    for job_name, status, count in runs_by_status(connection):
        runs.add_metric([job_name, status], count)
    success = families.gauge("job_last_success_timestamp_seconds", "When the job last completed successfully", ["job"])
    for job_name, completed in last_successes(connection).items():
        success.add_metric([job_name], completed.timestamp())
    incidents = families.gauge("incidents_active", "Active incidents by level (pending not yet fired)", ["level"])
    for status, count in active_counts(connection).items():
        incidents.add_metric([status], count)
    heartbeat, running = newest_heartbeat(connection)
    families.gauge("schedulers_running", "Scheduler instances that have not stopped", []).add_metric([], running)
    if heartbeat is not None:
        families.gauge("scheduler_heartbeat_timestamp_seconds", "The newest scheduler heartbeat", []).add_metric(
            [], heartbeat.timestamp()
        )


def _fleet_metrics(families: _Families, connection: Connection, fleet: FleetSettings, kept: NewestSamples) -> None:
    """Each host's status in the fleet (fleet.host_status), as the fleet view shows it."""
    now = utc_now()
    up = families.gauge(
        "host_up", "Whether the host reports (1) or is silent (0); absent in maintenance or never heard from", ["host"]
    )
    maintenance = families.gauge("host_maintenance", "Whether the host is in maintenance (1) or not (0)", ["host"])
    last_seen = families.gauge(
        "host_last_seen_timestamp_seconds",
        "When the hub last heard from the host (its last push; for a host with samples only, its newest sample)",
        ["host"],
    )
    skew = families.gauge("host_clock_skew_seconds", "The host's clock minus the hub's, at its last push", ["host"])
    interval = families.gauge("host_interval_seconds", "How often the host samples", ["host"])
    for host in fleet_hosts(connection, kept=kept):
        shown = describe_host(fleet, now, host)
        name = shown["name"]
        if shown["status"] in (UP, SILENT):
            up.add_metric([name], float(shown["status"] == UP))
        maintenance.add_metric([name], float(shown["status"] == MAINTENANCE))
        if shown["last_seen_at"] is not None:
            last_seen.add_metric([name], shown["last_seen_at"].timestamp())
        if shown["clock_skew_seconds"] is not None:
            skew.add_metric([name], shown["clock_skew_seconds"])
        if shown["interval_seconds"] is not None:
            interval.add_metric([name], shown["interval_seconds"])


def metrics_registry(live: LiveSampler, fleet: FleetSettings) -> CollectorRegistry:
    """What /metrics serves: the platform's figures and the serving process's own CPU and memory."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(PlatformCollector(live, fleet))
    ProcessCollector(registry=registry)
    return registry
