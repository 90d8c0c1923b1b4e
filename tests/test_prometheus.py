"""GET /metrics linted by promtool (Debian package `prometheus`) and read back with prometheus-client's parser;
deploy/prometheus/ checked by promtool, its rules' levels compared with .env.example's and one rule replayed."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from tests.api_server import Server, environ, insert_rows, main_py, serving
from tests.conftest import ROOT

DEPLOY = ROOT / "deploy" / "prometheus"
LEVELS = {"MEMORY_THRESHOLD": "0.5", "MEMORY_CRITICAL_THRESHOLD": "1"}  # every run breaches: an active incident


def promtool(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    path = shutil.which("promtool")
    assert path, "promtool is missing: apt-get install prometheus (.ci/run does)"
    return subprocess.run([path, *args], input=stdin, capture_output=True, text=True, timeout=60)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("prometheus")
    url = f"sqlite:///{tmp / 'automation.db'}"
    env = environ(tmp, url, **LEVELS)
    main_py(env, "db", "init")
    main_py(env, "jobs", "run", "system_monitoring")  # a recorded run of the real monitor: a sample, an incident
    insert_rows(
        url,
        "system_metric_gpus",
        [
            {
                "system_metric_id": 1,
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
    with serving(tmp, url, **LEVELS) as running:
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


def test_promtool_finds_nothing_to_lint(exposition: str) -> None:
    result = promtool("check", "metrics", stdin=exposition)
    assert result.returncode == 0 and not (result.stdout + result.stderr).strip(), result.stdout + result.stderr


def test_the_newest_sample_in_base_units_with_its_labels(server: Server, exposition: str) -> None:
    latest = server.ok("/monitoring/metrics/latest")
    found = samples(exposition)
    assert not [name for name in found if name.startswith("node_")]
    [(labels, ratio)] = found["automation_memory_usage_ratio"]
    assert labels == {"host": latest["hostname"]} and ratio == pytest.approx(latest["memory_percent"] / 100)
    [(_, total)] = found["automation_memory_total_bytes"]
    assert total == pytest.approx(latest["memory_total_gb"] * 2**30)
    cores = {labels["cpu"] for labels, _ in found["automation_cpu_core_usage_ratio"]}
    assert cores == {str(core["core_index"]) for core in latest["cpu_cores"]}
    mounts = {labels["mountpoint"] for labels, _ in found["automation_filesystem_size_bytes"]}
    assert mounts == {disk["mountpoint"] for disk in latest["disks"]}
    interfaces = {labels["interface"] for labels, _ in found["automation_network_receive_bytes_total"]}
    assert interfaces == {nic["interface"] for nic in latest["networks"]}
    [(gpu, utilization)] = found["automation_gpu_utilization_ratio"]
    assert gpu == {"host": latest["hostname"], "gpu": "0", "uuid": "GPU-8f2c1a3e", "name": "Test GPU"}
    assert utilization == pytest.approx(0.42)
    [(_, used)] = found["automation_gpu_memory_used_bytes"]
    assert used == 1024 * 2**20
    durations = {labels["collector"] for labels, _ in found["automation_collector_duration_seconds"]}
    assert durations == {row["collector"] for row in latest["collectors"]}


def test_the_platforms_own_figures(server: Server, exposition: str) -> None:
    found = samples(exposition)
    runs = {(labels["job"], labels["status"]): value for labels, value in found["automation_job_runs_total"]}
    assert runs == {("system_monitoring", "success"): 1}
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
    assert covered == {(metric, severity) for metric in graded for severity in ("warning", "critical")}


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
