"""Prometheus alert rules for the graded metrics at the .env levels: `python main.py prometheus rules`.

One rule per graded metric and level that is set, on the series /metrics exposes (or the catalogue's
`rule_expression` where the graded figure is not a series of its own), its level scaled as the series is
(percentages become ratios); a host an `@host` override gives another level has a rule of its own, and is left
out of the general one. Per-resource overrides are not in the rules. deploy/prometheus/rules.yml is this output
for .env.example's levels; a test checks that it is.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping

from dashboard.prometheus import NAMESPACE
from monitoring.alert_text import format_threshold
from monitoring.catalogue import GRADED, Metric, ResourceKind, Unit
from monitoring.levels import MetricThresholds

# How long a breach must last before the alert fires: the monitor stores a sample every 5 minutes by default,
# so 10m means the breach was seen in at least two samples.
FOR_BY_SEVERITY = {"warning": "10m", "critical": "5m"}
_VALUE = {
    Unit.PERCENT: "{{ $value | humanizePercentage }}",
    Unit.CELSIUS: "{{ $value }} °C",
    Unit.BYTES_PER_SECOND: "{{ $value | humanize1024 }}B/s",
}
# A container's metrics are labelled as what they measure of it ("Restarts"): their rules' names say whose.
_NAME_PREFIX: dict[ResourceKind | None, str] = {ResourceKind.CONTAINER: "Container"}
_RESOURCE: dict[ResourceKind | None, str] = {
    ResourceKind.MOUNT: " of {{ $labels.mountpoint }}",
    ResourceKind.GPU: " of GPU {{ $labels.gpu }}",
    ResourceKind.INTERFACE: " of {{ $labels.interface }}",
    ResourceKind.CONTAINER: " of container {{ $labels.container }}",
}

_HEADER = """\
# Alert rules on the platform's /metrics, with the WARNING and CRITICAL levels of .env.example (ratios where the
# metric is a percentage, so 80 % is 0.8). Written by `python main.py prometheus rules` from the metric catalogue;
# run it again with your own .env to get rules with your levels. Check with: promtool check rules rules.yml
#
# `for:` keeps an alert pending until the breach has lasted that long; the monitor stores a sample every 5 minutes
# by default, so 10m means the breach was seen in at least two samples.

groups:
  - name: automation-platform-resources
    rules:
"""
_PLATFORM_RULES = """\
  - name: automation-platform-itself
    rules:
      - alert: MonitoringSamplesStale
        expr: time() - automation_stored_sample_timestamp_seconds > 900
        for: 5m
        labels: {severity: warning}
        annotations:
          summary: "No monitoring sample from {{ $labels.host }} for {{ $value | humanizeDuration }}"
      - alert: SchedulerDown
        expr: time() - automation_scheduler_heartbeat_timestamp_seconds > 60 or automation_schedulers_running == 0
        for: 2m
        labels: {severity: critical}
        annotations:
          summary: "No scheduler has beaten for over a minute: no job runs"
      - alert: JobRunsFailing
        expr: increase(automation_job_runs_total{status=~"failed|timeout|abandoned"}[1h]) > 0
        for: 0m
        labels: {severity: warning}
        annotations:
          summary: "Job {{ $labels.job }} had {{ $value | printf \\"%.0f\\" }} {{ $labels.status }} run(s) in the last hour"
"""  # noqa: E501 - a line of the YAML it writes


def rules_yaml(thresholds: Mapping[str, MetricThresholds]) -> str:
    """The rules file for these levels (YAML, as promtool reads it)."""
    rules = []
    for metric in GRADED:
        expression = metric.rule_expression or (f"{NAMESPACE}_{metric.prometheus}" if metric.prometheus else None)
        if expression is None:
            continue
        group = [
            _rule(metric, _select(expression, matchers), severity, level, host)
            for severity in ("warning", "critical")
            for host, matchers, level in _levels_by_host(thresholds[metric.name], severity)
            if level is not None
        ]
        if group:
            rules.append("\n".join(group))
    return _HEADER + "\n\n".join(rules) + "\n\n" + _PLATFORM_RULES


def _levels_by_host(thresholds: MetricThresholds, severity: str) -> list[tuple[str | None, list[str], float | None]]:
    """The level of every host but those an `@host` override gives another, then each of those hosts' own:
    (the host, label matchers, level). Per-resource overrides (`RESOURCE=`, `@host:RESOURCE=`) are not in
    the rules."""
    index = 0 if severity == "warning" else 1
    default = thresholds.default[index]
    own = {host: level for host in thresholds.hosts if (level := thresholds.levels_for(host=host)[index]) != default}
    return [(None, [f"host!={_label_value(host)}" for host in own], default)] + [
        (host, [f"host={_label_value(host)}"], level) for host, level in own.items()
    ]


def _select(expression: str, matchers: list[str]) -> str:
    """The expression with the matchers on each of its series."""
    if not matchers:
        return expression
    return re.sub(rf"\b{NAMESPACE}_\w+", lambda series: f"{series[0]}{{{','.join(matchers)}}}", expression)


def _label_value(text: str) -> str:
    """A quoted string, as PromQL and YAML flow mappings both read it."""
    return json.dumps(text)


def _yaml_scalar(text: str) -> str:
    """Plain, unless label matchers (a host name may hold `: ` or ` #`) call for a quoted one (JSON is YAML)."""
    return json.dumps(text) if "{" in text else text


def _rule(metric: Metric, expression: str, severity: str, level: float, host: str | None = None) -> str:
    """One rule; a host's own carries its `host` label, as promtool wants rules of one name told apart."""
    name = _NAME_PREFIX.get(metric.resource_kind, "") + "".join(
        word[:1].upper() + word[1:].lower()
        for word in re.findall(r"[A-Za-z0-9]+", re.sub(r"\(.*?\)", "", metric.label))
    )
    value = _VALUE.get(metric.unit, '{{ $value | printf "%.2f" }}')
    subject = metric.label + _RESOURCE.get(metric.resource_kind, "")
    summary = (
        f"{subject} on {{{{ $labels.host }}}} is {value} ({severity} above {format_threshold(metric, level)})"
    ).replace('"', '\\"')
    labels = f"severity: {severity}, metric: {metric.name}" + (
        f", host: {_label_value(host)}" if host is not None else ""
    )
    return (
        f"      - alert: {name}{severity.capitalize()}\n"
        f"        expr: {_yaml_scalar(f'{expression} > {level * metric.prometheus_scale:g}')}\n"
        f"        for: {FOR_BY_SEVERITY[severity]}\n"
        f"        labels: {{{labels}}}\n"
        f"        annotations:\n"
        f'          summary: "{summary}"'
    )
