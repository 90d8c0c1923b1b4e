"""GET /metrics linted by promtool (Debian package `prometheus`) and read back with prometheus-client's parser;
deploy/prometheus/ checked by promtool, its rules' levels compared with .env.example's and one rule replayed."""

from __future__ import annotations

import itertools
import re
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from datetime import timezone
from pathlib import Path

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from tests.api_server import Server, environ, insert_rows, main_py, serving, utc
from tests.conftest import ROOT

DEPLOY = ROOT / "deploy" / "prometheus"
LEVELS = {"MEMORY_THRESHOLD": "0.5", "MEMORY_CRITICAL_THRESHOLD": "1"}  # every run breaches: an active incident


def promtool(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    path = shutil.which("promtool")
    assert path, "promtool is missing: apt-get install prometheus (.ci/run does)"
    return subprocess.run([path, *args], input=stdin, capture_output=True, text=True, timeout=60)


OTHER_HOST = "web2"


def platform_database(tmp: Path) -> str:
    """A database holding a recorded monitor run of this host and one of OTHER_HOST (with a GPU): samples,
    incidents, job runs."""
    url = f"sqlite:///{tmp / 'automation.db'}"
    main_py(environ(tmp, url, **LEVELS), "db", "init")
    main_py(environ(tmp, url, MONITOR_HOSTNAME=OTHER_HOST, **LEVELS), "jobs", "run", "system_monitoring")
    main_py(environ(tmp, url, **LEVELS), "jobs", "run", "system_monitoring")
    insert_rows(
        url,
        "system_metric_gpus",
        [
            {
                "system_metric_id": 1,  # OTHER_HOST's sample
                "gpu_index": 0,
                "uuid": "GPU-8f2c1a3e",
                "name": "Test GPU",
                "utilization_percent": 42.0,
                "memory_total_mib": 8192.0,
                "memory_used_mib": 1024.0,
                "temperature_celsius": 61.0,
            }
        ],
    )
    insert_rows(
        url,
        "system_metric_containers",
        [
            {
                "system_metric_id": 1,
                "container_id": "c0ffee" * 8,
                "name": "web",
                "image": "nginx:1.27",
                "state": "running",
                "cpu_cores": 1.5,
                "cpu_host_percent": 37.5,
                "memory_used_bytes": 200 * 2**20,
                "memory_percent": 39.0,
            }
        ],
    )
    return url


def stored_timestamps(url: str) -> dict[str, float]:
    """Each host's newest stored sample time, read from the database itself."""
    from sqlalchemy import create_engine, func, select
    from sqlalchemy.pool import NullPool

    from storage import tables

    metrics = tables.system_metrics
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                select(metrics.c.hostname, func.max(metrics.c.timestamp)).group_by(metrics.c.hostname)
            )
            return {host: moment.replace(tzinfo=timezone.utc).timestamp() for host, moment in rows}
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    tmp = tmp_path_factory.mktemp("prometheus")
    return tmp, platform_database(tmp)


@pytest.fixture(scope="module")
def server(database: tuple[Path, str]) -> Iterator[Server]:
    with serving(*database, **LEVELS) as running:
        yield running


@pytest.fixture(scope="module")
def exposition(server: Server) -> str:
    reply = server.get("/metrics")
    assert reply.status == 200 and reply.headers["content-type"].startswith("text/plain; version=")
    return reply.text


def samples(exposition: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    found: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(exposition):
        for sample in family.samples:
            found.setdefault(sample.name, []).append((sample.labels, sample.value))
    return found


def of_host(found: dict[str, list[tuple[dict[str, str], float]]], name: str, host: str) -> list[tuple[dict, float]]:
    return [(labels, value) for labels, value in found[name] if labels["host"] == host]


def assert_promtool_clean(exposition: str) -> None:
    result = promtool("check", "metrics", stdin=exposition)
    assert result.returncode == 0 and not (result.stdout + result.stderr).strip(), result.stdout + result.stderr


def assert_live_here_stored_elsewhere(found: dict[str, list[tuple[dict[str, str], float]]], url: str) -> str:
    """One sample time per host: OTHER_HOST's is its stored sample's, this host's newer than anything stored (the
    live figures, not its stored sample); each host's newest stored sample time besides. Returns this host's
    name."""
    stored = stored_timestamps(url)
    served = {labels["host"]: value for labels, value in found["automation_sample_timestamp_seconds"]}
    assert len(found["automation_sample_timestamp_seconds"]) == len(served) == 2, found
    [here] = set(served) - {OTHER_HOST}
    assert set(stored) == {here, OTHER_HOST}
    assert served[OTHER_HOST] == pytest.approx(stored[OTHER_HOST], abs=1e-3)
    assert served[here] > max(stored.values())
    monitors = {labels["host"]: value for labels, value in found["automation_stored_sample_timestamp_seconds"]}
    assert monitors == pytest.approx(stored, abs=1e-3)  # this host's stored sample too, for MonitoringSamplesStale
    assert found["automation_database_up"] == [({}, 1.0)]
    return here


def assert_one_collection_a_second(scrape: Callable[[], str], host: str, seconds: float = 3.0) -> None:
    """Scraped as fast as it answers for `seconds`: the live sample's time changes (a new collection), but two
    collections are never less than a second apart, and most scrapes share one."""
    times: list[float] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        [(_, value)] = of_host(samples(scrape()), "automation_sample_timestamp_seconds", host)
        times.append(value)
    distinct = sorted(set(times))
    assert times == sorted(times) and len(distinct) >= 2, times
    assert all(later - earlier >= 1.0 for earlier, later in itertools.pairwise(distinct)), distinct
    assert len(times) > len(distinct), times


@pytest.mark.slow
def test_promtool_finds_nothing_to_lint(exposition: str) -> None:
    assert_promtool_clean(exposition)


def test_this_host_live_the_other_stored(database: tuple[Path, str], exposition: str) -> None:
    assert_live_here_stored_elsewhere(samples(exposition), database[1])


@pytest.mark.slow
def test_the_live_figures_are_collected_at_most_once_a_second(
    database: tuple[Path, str], server: Server, exposition: str
) -> None:
    here = assert_live_here_stored_elsewhere(samples(exposition), database[1])
    assert_one_collection_a_second(lambda: server.get("/metrics").text, here)


def test_the_newest_sample_in_base_units_with_its_labels(server: Server, exposition: str) -> None:
    stored = server.ok(f"/monitoring/metrics/latest?hostname={OTHER_HOST}")
    found = samples(exposition)
    assert not [name for name in found if name.startswith("node_")]
    [(labels, ratio)] = of_host(found, "automation_memory_usage_ratio", OTHER_HOST)
    assert labels == {"host": OTHER_HOST} and ratio == pytest.approx(stored["memory_percent"] / 100)
    [(_, total)] = of_host(found, "automation_memory_total_bytes", OTHER_HOST)
    assert total == pytest.approx(stored["memory_total_gb"] * 2**30)
    cores = {labels["cpu"] for labels, _ in of_host(found, "automation_cpu_core_usage_ratio", OTHER_HOST)}
    assert cores == {str(core["core_index"]) for core in stored["cpu_cores"]}
    mounts = {labels["mountpoint"] for labels, _ in of_host(found, "automation_filesystem_size_bytes", OTHER_HOST)}
    assert mounts == {disk["mountpoint"] for disk in stored["disks"]}
    nics = {labels["interface"] for labels, _ in of_host(found, "automation_network_receive_bytes_total", OTHER_HOST)}
    assert nics == {nic["interface"] for nic in stored["networks"]}
    [(gpu, utilization)] = found["automation_gpu_utilization_ratio"]
    assert gpu == {"host": OTHER_HOST, "gpu": "0", "uuid": "GPU-8f2c1a3e", "name": "Test GPU"}
    assert utilization == pytest.approx(0.42)
    [(_, used)] = found["automation_gpu_memory_used_bytes"]
    assert used == 1024 * 2**20
    durations = {
        labels["collector"] for labels, _ in of_host(found, "automation_collector_duration_seconds", OTHER_HOST)
    }
    assert durations == {row["collector"] for row in stored["collectors"]}


def test_a_stored_samples_containers_by_host_name_and_image(exposition: str) -> None:
    found = samples(exposition)
    labels = {"host": OTHER_HOST, "container": "web", "image": "nginx:1.27"}
    assert of_host(found, "automation_container_cpu_cores", OTHER_HOST) == [(labels, 1.5)]
    assert of_host(found, "automation_container_cpu_host_ratio", OTHER_HOST) == [(labels, 0.375)]
    assert of_host(found, "automation_container_memory_used_bytes", OTHER_HOST) == [(labels, 200 * 2**20)]
    assert of_host(found, "automation_container_memory_ratio", OTHER_HOST) == [(labels, pytest.approx(0.39))]
    limits = found.get("automation_container_memory_limit_bytes", [])
    assert [labels for labels, _ in limits if labels["host"] == OTHER_HOST] == []  # no limit stored: no series


def test_this_hosts_live_figures_with_their_labels(server: Server, exposition: str) -> None:
    """The live host's series have the labels of its resources as /monitoring/metrics/current lists them."""
    live = server.ok("/monitoring/metrics/current")
    found = samples(exposition)
    here = live["hostname"]
    [(_, total)] = of_host(found, "automation_memory_total_bytes", here)
    assert total == pytest.approx(live["memory_total_gb"] * 2**30)
    cores = {labels["cpu"] for labels, _ in of_host(found, "automation_cpu_core_usage_ratio", here)}
    assert cores == {str(core["core_index"]) for core in live["cpu_cores"]}
    mounts = {labels["mountpoint"] for labels, _ in of_host(found, "automation_filesystem_size_bytes", here)}
    assert mounts == {disk["mountpoint"] for disk in live["disks"]}
    [(_, boot)] = of_host(found, "automation_boot_time_seconds", here)
    assert boot == pytest.approx(utc(live["boot_time"]).timestamp(), abs=1)


def test_the_platforms_own_figures(server: Server, exposition: str) -> None:
    found = samples(exposition)
    runs = {(labels["job"], labels["status"]): value for labels, value in found["automation_job_runs_total"]}
    assert runs == {("system_monitoring", "success"): 2}
    [(labels, _)] = found["automation_job_last_success_timestamp_seconds"]
    assert labels == {"job": "system_monitoring"}
    active = {labels["level"]: value for labels, value in found["automation_incidents_active"]}
    assert set(active) == {"pending", "warning", "critical"}
    critical = [row for row in server.ok("/incidents")["items"] if row["status"] == "critical"]
    assert active["critical"] == len(critical) >= 1
    assert found["automation_schedulers_running"] == [({}, 0.0)]
    assert "process_cpu_seconds_total" in found  # the server's own cost


def test_the_shipped_scrape_config_and_rules_pass_promtool() -> None:
    for args in (("check", "config", str(DEPLOY / "prometheus.yml")), ("check", "rules", str(DEPLOY / "rules.yml"))):
        result = promtool(*args)
        assert result.returncode == 0, result.stdout + result.stderr


def test_the_rules_carry_the_env_example_levels() -> None:
    from config.settings import load_settings

    settings = load_settings({"AUTOMATION_ENV_FILE": str(ROOT / ".env.example")})
    rules = [
        rule
        for group in yaml.safe_load((DEPLOY / "rules.yml").read_text())["groups"]
        for rule in group["rules"]
        if "metric" in rule["labels"]
    ]
    covered = set()
    for rule in rules:
        metric, severity = rule["labels"]["metric"], rule["labels"]["severity"]
        levels = settings.thresholds[metric].default
        level = levels.warning if severity == "warning" else levels.critical
        scale = 0.01 if settings.thresholds[metric].spec.unit == "%" else 1
        threshold = float(re.search(r">\s*([0-9.]+)\s*$", rule["expr"]).group(1))
        assert threshold == pytest.approx(level * scale), rule["alert"]
        assert rule["for"] and f"{level:g}" in rule["annotations"]["summary"], rule["alert"]
        covered.add((metric, severity))
    graded = (
        "cpu_percent",
        "memory_percent",
        "disk_percent",
        "swap_percent",
        "load_per_core",
        "gpu_utilization_percent",
        "gpu_memory_percent",
        "gpu_temperature_celsius",
    )
    both = {(metric, severity) for metric in graded for severity in ("warning", "critical")}
    assert covered == both | {("container_restarts", "warning")}  # a restart loop: on by default, WARNING only


def test_a_rule_fires_only_after_its_for_duration(tmp_path: Path) -> None:
    """promtool replays a CPU series held at 90 %: CpuUsageWarning pending until its `for: 10m` has passed."""
    tests = tmp_path / "rules_test.yml"
    tests.write_text(
        yaml.safe_dump(
            {
                "rule_files": [str(DEPLOY / "rules.yml")],
                "evaluation_interval": "1m",
                "tests": [
                    {
                        "interval": "1m",
                        "input_series": [{"series": 'automation_cpu_usage_ratio{host="web1"}', "values": "0.9x20"}],
                        "alert_rule_test": [
                            {"eval_time": "9m", "alertname": "CpuUsageWarning", "exp_alerts": []},
                            {
                                "eval_time": "11m",
                                "alertname": "CpuUsageWarning",
                                "exp_alerts": [
                                    {
                                        "exp_labels": {"host": "web1", "severity": "warning", "metric": "cpu_percent"},
                                        "exp_annotations": {"summary": "CPU usage on web1 is 90% (warning above 80%)"},
                                    }
                                ],
                            },
                            {"eval_time": "11m", "alertname": "CpuUsageCritical", "exp_alerts": []},
                        ],
                    }
                ],
            }
        )
    )
    result = promtool("test", "rules", str(tests))
    assert result.returncode == 0, result.stdout + result.stderr
