"""The metric catalogue is the one home of every metric: each is produced by exactly one collector, stored in the
column the tables derive from it, graded, exposed and documented from it, and named in few other places."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from monitoring import forecasts, host_silence
from monitoring.catalogue import BY_NAME, CATALOGUE, GRADED, Kind, ResourceKind
from monitoring.collectors import COLLECTOR_NAMES
from monitoring.collectors.registry import MODULES, SAMPLE_PRODUCES, figures_of
from pipeline.monitor import monitor_once
from storage import tables
from storage.sample_rows import RESOURCE_TABLES
from tests.conftest import MAIN, ROOT, clean_environ

PRODUCERS = {
    **{name: module.PRODUCES for name, module in MODULES.items()},
    "forecasts": forecasts.PRODUCES,
    "host_silence": host_silence.PRODUCES,  # the hub's silent-host check
    "sample": SAMPLE_PRODUCES,
}


def test_every_metric_is_produced_by_exactly_one_collector() -> None:
    produced = [name for names in PRODUCERS.values() for name in names]
    assert sorted(produced) == sorted(BY_NAME), "PRODUCES lists and the catalogue must name the same metrics"
    assert len(produced) == len(set(produced)), "a metric is produced by two collectors"
    assert tuple(MODULES) == COLLECTOR_NAMES


def test_a_real_sample_hands_over_only_what_each_collector_declares(settings_for) -> None:  # type: ignore[no-untyped-def]
    sample = monitor_once(settings_for(), save=False).sample
    for name, module in MODULES.items():
        reading = getattr(sample, {"disk": "disks", "gpu": "gpus"}.get(name, name))
        assert reading is not None, name
        figures = module.figures(reading, sample)
        named = set(figures.machine) | {
            metric for resources in figures.resources.values() for resource in resources for metric in resource.values
        }
        assert named <= set(module.PRODUCES), (name, named - set(module.PRODUCES))
    machine = figures_of(sample).machine
    assert {"cpu_percent", "memory_percent", "cpu_iowait_seconds_total", "collection_seconds"} <= set(machine)


def test_every_stored_metric_has_its_column_in_its_table() -> None:
    for metric in CATALOGUE:
        if metric.machine_column is not None:
            assert metric.machine_column in tables.system_metrics.c, metric.name
        if metric.column is not None and metric.resource_kind is not None:
            assert metric.column in tables.metadata.tables[RESOURCE_TABLES[metric.resource_kind]].c, metric.name


def test_declarations_are_complete_and_consistent() -> None:
    prefixes = [metric.env_prefix for metric in GRADED]
    assert len(prefixes) == len(set(prefixes)), "two metrics read the same .env keys"
    columns = [metric.machine_column for metric in CATALOGUE if metric.machine_column]
    assert len(columns) == len(set(columns)), "two metrics fill the same system_metrics column"
    for metric in CATALOGUE:
        assert metric.help and metric.label, metric.name
        assert not metric.graded or metric.short_name, f"{metric.name}: graded metrics name themselves in reports"
        assert metric.kind is not Kind.COUNTER or not metric.graded, f"{metric.name}: a counter is never graded"
        if metric.share_of is not None:
            part, whole = (BY_NAME[name] for name in metric.share_of)
            assert part.resource_kind is whole.resource_kind is metric.resource_kind, metric.name
        if metric.prometheus is not None:
            assert re.fullmatch(r"[a-z][a-z0-9_]*", metric.prometheus), metric.name
            assert not metric.prometheus.endswith("_total"), "the client adds _total to counters"
    per_resource = {metric.resource_kind for metric in GRADED if metric.resource_kind}
    assert per_resource == {ResourceKind.MOUNT, ResourceKind.GPU, ResourceKind.INTERFACE, ResourceKind.CONTAINER}


def _product_files() -> list[Path]:
    """The project's own .py and .js files, tests and vendored code left out."""
    files = [path for pattern in ("*.py", "*.js") for path in ROOT.rglob(pattern)]
    skipped = ("tests", ".venv", "vendor", "node_modules", ".git")
    return [path for path in files if not set(path.relative_to(ROOT).parts) & set(skipped)]


# Files where a metric's name stands for another figure: a process's own CPU and memory shares (a field of its
# top-list entry and a column of system_metric_processes), a GPU reading's memory share (gpu_memory_percent), a
# container's memory share of its limit (also in the migration whose HiCloud views read it and in the HiCloud
# payload's reading), a field of the
# coredotcloud agent's info payload (its name, not ours).
_HOMONYMS = {
    "cpu_percent": {
        "monitoring/collectors/processes.py",
        "storage/sample_rows.py",
        "storage/tables.py",
        "fleet/coredotcloud.py",
    },
    "memory_percent": {
        "monitoring/collectors/processes.py",
        "storage/sample_rows.py",
        "storage/tables.py",
        "monitoring/collectors/gpu.py",
        "monitoring/collectors/containers.py",
        "storage/migrations/versions/0012_containers.py",
        "fleet/hicloud.py",
    },
}


@pytest.mark.parametrize("metric", [metric.name for metric in CATALOGUE])
def test_a_metric_is_named_in_at_most_four_files(metric: str) -> None:
    """The catalogue, its collector, its migration, and where it is shown specially (if anywhere)."""
    pattern = re.compile(rf"(?<![\w.]){re.escape(metric)}(?!\w)")
    named = {str(path.relative_to(ROOT)) for path in _product_files() if pattern.search(path.read_text())}
    assert len(named - _HOMONYMS.get(metric, set())) <= 4, sorted(named)


def test_the_shipped_prometheus_rules_are_what_the_command_writes() -> None:
    """deploy/prometheus/rules.yml is `main.py prometheus rules` at .env.example's levels: run it again after
    changing the catalogue."""
    result = subprocess.run(
        [sys.executable, str(MAIN), "prometheus", "rules"],
        capture_output=True,
        text=True,
        env={**clean_environ(), "AUTOMATION_ENV_FILE": str(ROOT / ".env.example")},
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    shipped = (ROOT / "deploy" / "prometheus" / "rules.yml").read_text()
    assert result.stdout == shipped, "deploy/prometheus/rules.yml is stale: python main.py prometheus rules > it"


def test_prometheus_rules_follow_the_env_levels() -> None:
    result = subprocess.run(
        [sys.executable, str(MAIN), "prometheus", "rules"],
        capture_output=True,
        text=True,
        env={
            **clean_environ(),
            "AUTOMATION_ENV_FILE": str(ROOT / ".env.example"),
            "CPU_STEAL_THRESHOLD": "7.5",
            "CPU_THRESHOLD": "off",
        },
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "expr: automation_cpu_steal_ratio > 0.075" in result.stdout
    assert "alert: CpuUsageWarning" not in result.stdout and "alert: CpuUsageCritical" in result.stdout
    bad = subprocess.run(
        [sys.executable, str(MAIN), "prometheus", "rules"],
        capture_output=True,
        text=True,
        env={**clean_environ(), "AUTOMATION_ENV_FILE": str(ROOT / ".env.example"), "CPU_STEAL_THRESHOLD": "lots"},
        timeout=60,
    )
    assert bad.returncode == 2 and bad.stdout == ""
    assert bad.stderr.strip().splitlines() == [
        "configuration error: CPU_STEAL_THRESHOLD='lots' is invalid; expected a number from 0 to 100, or off"
    ]
