"""The web page at / in headless Chromium (Debian's /usr/bin/chromium driven by Playwright), against a real
`python main.py run` (scheduler and dashboard in one process) over a SQLite database filled by real monitor runs
and by eight days of samples of a second host written through storage.tables.

Screenshots (desktop light and dark, a phone, a run's detail) are written to tests/artifacts/web_page/
(git-ignored); look at them after a change to the page.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, Request, Response, sync_playwright
from sqlalchemy import create_engine, insert, select
from sqlalchemy.pool import NullPool

from tests.api_server import TOKEN, Server, environ, main_py, serving, utc
from tests.conftest import ROOT

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "tests" / "artifacts" / "web_page"
HOST = "gpu-node-1"  # the seeded host with history, disks, an interface and two GPUs
SAMPLE_EVERY = timedelta(minutes=10)
SAMPLE_COUNT = 8 * 24 * 6  # eight days
GAP = range(3 * 24 * 6, 3 * 24 * 6 + 36)  # samples before the newest left out: 6 hours without data, 3 days ago
HELLO_JOB = "hello-web"
XSS_TITLE = '<img src=x onerror="window.__xss = 1">Disk usage on /data'
RANGES = {"1h": 3600, "24h": 86400, "7d": 7 * 86400, "30d": 30 * 86400}
WAIT_MS = 30_000


# ---------------------------------------------------------------- the seeded database and the server


def _synthetic_value(index: int) -> dict[str, float]:
    """Figures that move over the day (so the charts have shape) and end high enough to grade."""
    phase = 2 * math.pi * index / (24 * 6)
    return {
        "cpu": 35 + 20 * math.sin(phase) + (index * 37) % 9,
        "memory": 58 + 8 * math.sin(phase / 3),
        "disk": 70 + 5 * index / SAMPLE_COUNT,
        "sent": 40_000 + 30_000 * (1 + math.sin(phase)),
        "recv": 250_000 + 200_000 * (1 + math.cos(phase)),
    }


LAST_CPU = 86.5  # above CPU_THRESHOLD (80), below its critical level (95): WARNING
DATA_DISK = 92.5  # /data above DISK_THRESHOLD (90): WARNING
GPU1_UTIL = 97.0  # GPU 1 above GPU_UTILIZATION_CRITICAL_THRESHOLD (95): CRITICAL
CONTAINER_FIELDS = (
    "name",
    "image",
    "state",
    "health",
    "restart_count",
    "restarts_in_window",
    "exit_code",
    "oom_killed",
    "cpu_cores",
    "cpu_host_percent",
    "memory_used_bytes",
    "memory_limit_bytes",
    "memory_percent",
    "net_rx_bytes_per_second",
    "net_tx_bytes_per_second",
)
# The containers of HOST's newest sample: a busy web server, a database failing its health check (an incident),
# one killed for memory.
CONTAINERS = [
    ("web", "nginx:1.27", "running", None, 0, 0, None, False, 1.5, 9.38, 200 * 2**20, 512 * 2**20, 39.06, 2e6, 5e5),
    ("db", "postgres:17", "running", "unhealthy", 4, 2, None, False, 0.25, 1.56, 3 * 2**30, None, 4.78, 1e4, 2e4),
    ("batch", "busybox", "exited", None, 0, 0, 137, True, None, None, None, None, None, None, None),
]


def seed_host(database_url: str, newest: datetime) -> None:
    """SAMPLE_COUNT samples of HOST up to `newest`, each with its disks, interface and GPUs, plus incidents and
    notifications as the monitor writes them (storage.tables)."""
    from storage import tables

    engine = create_engine(database_url, poolclass=NullPool)
    first = newest - SAMPLE_EVERY * (SAMPLE_COUNT - 1)
    with engine.begin() as connection:
        rows = []
        for index in range(SAMPLE_COUNT):
            if SAMPLE_COUNT - 1 - index in GAP:
                continue
            value = _synthetic_value(index)
            cpu = LAST_CPU if index == SAMPLE_COUNT - 1 else value["cpu"]
            rows.append(
                {
                    "timestamp": first + SAMPLE_EVERY * index,
                    "hostname": HOST,
                    "platform": "linux",
                    "cpu_percent": cpu,
                    "cpu_count": 16,
                    "load_1m": 3.1,
                    "load_5m": 2.9,
                    "load_15m": 2.5,
                    "load_per_core": 2.9 / 16,
                    "memory_total_gb": 62.8,
                    "memory_percent": value["memory"],
                    "memory_used_gb": 62.8 * value["memory"] / 100,
                    "swap_total_gb": 0.0,
                    "swap_percent": 0.0,
                    "disk_mountpoint": "/",
                    "disk_total_gb": 468.0,
                    "disk_percent": value["disk"],
                    "disk_used_gb": 468.0 * value["disk"] / 100,
                    "network_sent_mb": 5_000 + index,
                    "network_recv_mb": 90_000 + 10 * index,
                    "network_sent_bytes_per_second": value["sent"],
                    "network_recv_bytes_per_second": value["recv"],
                    "gpu_count": 2,
                    "rate_interval_seconds": SAMPLE_EVERY.total_seconds(),
                }
            )
        connection.execute(insert(tables.system_metrics), rows)
        ids = (
            connection.execute(
                select(tables.system_metrics.c.id)
                .where(tables.system_metrics.c.hostname == HOST)
                .order_by(tables.system_metrics.c.timestamp)
            )
            .scalars()
            .all()
        )
        disks, nics, gpus = [], [], []
        for sample_id, row in zip(ids, rows, strict=True):
            index = round((row["timestamp"] - first) / SAMPLE_EVERY)
            value = _synthetic_value(index)
            for mountpoint, device, total, percent in (
                ("/", "/dev/nvme0n1p2", 468 * 2**30, value["disk"]),
                ("/data", "/dev/sda1", 3_600 * 2**30, DATA_DISK),
            ):
                disks.append(
                    {
                        "system_metric_id": sample_id,
                        "mountpoint": mountpoint,
                        "device": device,
                        "fstype": "ext4",
                        "total_bytes": total,
                        "used_bytes": int(total * percent / 100),
                        "free_bytes": int(total * (100 - percent) / 100),
                        "percent": percent,
                        "read_bytes_per_second": 1.5e6,
                        "write_bytes_per_second": 4.2e5,
                    }
                )
            nics.append(
                {
                    "system_metric_id": sample_id,
                    "interface": "eth0",
                    "is_up": True,
                    "speed_mbps": 1000,
                    "bytes_sent_total": 0,
                    "bytes_recv_total": 0,
                    "packets_sent_total": 0,
                    "packets_recv_total": 0,
                    "errors_in_total": 0,
                    "errors_out_total": 0,
                    "drops_in_total": 0,
                    "drops_out_total": 0,
                    "sent_bytes_per_second": value["sent"],
                    "recv_bytes_per_second": value["recv"],
                }
            )
            for gpu_index, utilization, temperature in ((0, 41.0, 61.0), (1, GPU1_UTIL, 78.0)):
                gpus.append(
                    {
                        "system_metric_id": sample_id,
                        "gpu_index": gpu_index,
                        "name": "NVIDIA A100-SXM4-40GB",
                        "uuid": f"GPU-0000000{gpu_index}-1111-2222-3333-444444444444",
                        "utilization_percent": utilization,
                        "memory_total_mib": 40_960.0,
                        "memory_used_mib": 12_288.0 * (gpu_index + 1),
                        "memory_percent": 30.0 * (gpu_index + 1),
                        "temperature_celsius": temperature,
                        "power_draw_watts": 180.0 + 150 * gpu_index,
                        "power_limit_watts": 400.0,
                    }
                )
        connection.execute(insert(tables.system_metric_disks), disks)
        connection.execute(insert(tables.system_metric_networks), nics)
        connection.execute(insert(tables.system_metric_gpus), gpus)
        connection.execute(
            insert(tables.system_metric_containers),
            [
                {
                    "system_metric_id": ids[-1],
                    "container_id": f"{index:064x}",
                    "engine": "docker",
                    **dict(zip(CONTAINER_FIELDS, values, strict=True)),
                }
                for index, values in enumerate(CONTAINERS)
            ],
        )

        started = newest - timedelta(hours=3)
        incidents = [
            ("disk_percent", "/data", "warning", "WARNING", DATA_DISK, 90.0),
            (
                "gpu_utilization_percent",
                "GPU-00000001-1111-2222-3333-444444444444",
                "critical",
                "CRITICAL",
                GPU1_UTIL,
                95.0,
            ),
            ("container_unhealthy", "db", "warning", "WARNING", 1.0, 0.0),
        ]
        for metric, resource, status, level, value, threshold in incidents:
            inserted = connection.execute(
                insert(tables.alert_incidents).values(
                    host=HOST,
                    metric=metric,
                    resource=resource,
                    status=status,
                    peak_level=level,
                    started_at=started,
                    fired_at=started,
                    last_seen_at=newest,
                    threshold=threshold,
                    last_value=value,
                    min_value=value - 1,
                    max_value=value,
                    sum_value=value * 18,
                    sample_count=18,
                    last_notified_at=started,
                )
            )
            incident_id = inserted.inserted_primary_key[0]
            connection.execute(
                insert(tables.notifications).values(
                    title=f"{level}: {metric} on {HOST}",
                    message=f"{metric} {resource} is {value} (threshold {threshold})",
                    level=level,
                    channel="system_monitoring",
                    sent_at=started,
                    host=HOST,
                    metric=metric,
                    resource=resource,
                    value=value,
                    threshold=threshold,
                    incident_id=incident_id,
                    event="firing",
                )
            )
        connection.execute(
            insert(tables.notifications).values(
                title=XSS_TITLE,
                message="<b>not bold</b> & <script>window.__xss = 2</script>",
                level="WARNING",
                channel="system_monitoring",
                sent_at=newest - timedelta(hours=1),
                host=HOST,
                metric="disk_percent",
            )
        )
        connection.execute(
            insert(tables.notifications).values(
                title=f"Resolved: CPU usage on {HOST}",
                message="CPU usage back to normal after 25 min (peak 97.1%)",
                level="INFO",
                channel="system_monitoring",
                sent_at=newest - timedelta(hours=5),
                host=HOST,
                metric="cpu_percent",
                event="resolved",
            )
        )
    engine.dispose()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("web_page")
    url = f"sqlite:///{tmp / 'automation.db'}"
    env = environ(tmp, url, API_TOKEN=TOKEN)
    main_py(env, "db", "init")
    # Real monitor runs of this machine; a memory level every machine breaches gives it a real incident.
    breach = environ(tmp, url, MEMORY_THRESHOLD="0.5", MEMORY_CRITICAL_THRESHOLD="1")
    for _ in range(2):
        main_py(breach, "monitor", "--quiet")
    seed_host(url, datetime.now(timezone.utc) - timedelta(minutes=3))
    script = tmp / "hello.py"
    script.write_text("import os\nprint(f\"hello from run {os.environ['AUTOMATION_JOB_EXECUTION_ID']}\")\n")
    # No scheduled monitor runs during the tests: one with the default levels would resolve that incident.
    main_py(env, "jobs", "disable", "system_monitoring")
    main_py(
        env,
        "jobs",
        "add",
        HELLO_JOB,
        "--cron",
        "0 3 1 1 *",
        "--script",
        str(script),
        "--description",
        "<i>prints</i> a line & exits",
    )
    # No containers on the server's own machine, whatever engine it runs: its view has no containers table.
    no_engine = str(tmp / "no-engine.sock")
    with serving(tmp, url, command="run", API_TOKEN=TOKEN, CONTAINER_ENGINE_SOCKET=no_engine) as running:
        # The page shows the health badge: wait for the scheduler's first heartbeat (the web server starts first).
        deadline = time.monotonic() + 60
        while running.get("/monitoring/health").status != 200:
            assert time.monotonic() < deadline, running.get("/monitoring/health").text
            time.sleep(0.2)
        yield running


# ---------------------------------------------------------------- the browser


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    assert CHROMIUM.exists(), f"{CHROMIUM} is missing: apt-get install chromium (.ci/run does)"
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--headless", "--no-sandbox"])
        yield launched
        launched.close()


class Watched:
    """A page and everything that went wrong in it: console errors, uncaught exceptions, failed requests."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.problems: list[str] = []
        self.requests: list[Request] = []
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))
        page.on("requestfailed", lambda request: self.problems.append(f"failed: {request.url} {request.failure}"))
        page.on("response", self._response)
        page.on("request", lambda request: self.requests.append(request))

    def _console(self, message: ConsoleMessage) -> None:
        if message.type in ("error", "warning"):
            self.problems.append(f"console {message.type}: {message.text}")

    def _response(self, response: Response) -> None:
        if response.status >= 400:
            self.problems.append(f"HTTP {response.status}: {response.request.method} {response.url}")

    def urls(self, path: str) -> list[str]:
        return [request.url for request in self.requests if urlsplit(request.url).path == path]

    def open(self, server: Server, query: str = "") -> None:
        self.page.goto(f"{server.base_url}/{query}")
        self.wait_refreshed(1)

    def refreshed(self) -> int:
        return int(self.page.evaluate("Number(document.body.dataset.refreshed || 0)"))

    def wait_refreshed(self, count: int) -> None:
        self.page.wait_for_function(f"Number(document.body.dataset.refreshed || 0) >= {count}", timeout=WAIT_MS)

    def assert_clean(self) -> None:
        assert self.problems == []


@pytest.fixture
def watched(browser: Browser) -> Iterator[Watched]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    yield Watched(context.new_page())
    context.close()


def screenshot(page: Page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path), full_page=True)
    print(f"screenshot: {path}")
    return path


def chart_request(watched: Watched) -> dict[str, str]:
    """The query of the newest downsampled history request."""
    urls = [url for url in watched.urls("/monitoring/metrics") if "points=" in url]
    assert urls, "the page asked for no downsampled history"
    return {name: values[0] for name, values in parse_qs(urlsplit(urls[-1]).query).items()}


def series_pixels(page: Page, chart: str) -> int:
    """Opaque pixels of the chart's canvas in the first series' colour: its average line (the fill is faint)."""
    return page.evaluate(
        """(chart) => {
        const canvas = document.querySelector(`#${chart} canvas`);
        const probe = document.createElement("canvas").getContext("2d");
        probe.fillStyle = getComputedStyle(document.documentElement).getPropertyValue("--series-1").trim();
        probe.fillRect(0, 0, 1, 1);
        const [r, g, b] = probe.getImageData(0, 0, 1, 1).data;
        const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
        let found = 0;
        for (let i = 0; i < data.length; i += 4) {
            if (Math.abs(data[i] - r) < 8 && Math.abs(data[i + 1] - g) < 8 && Math.abs(data[i + 2] - b) < 8
                && data[i + 3] > 200) found += 1;
        }
        return found;
    }""",
        chart,
    )


# ---------------------------------------------------------------- the tests


def test_page_shows_the_seeded_host_with_levels_and_charts(server: Server, watched: Watched) -> None:
    page = watched.page
    with page.expect_response(
        lambda response: "/monitoring/metrics?" in response.url and "points=" in response.url
    ) as history:
        watched.open(server, f"?host={HOST}&range=24h")
    buckets = history.value.json()["items"]
    assert len(buckets) > 0 and all(bucket["hostname"] == HOST for bucket in buckets)

    hosts = page.locator("#host-picker option").all_inner_texts()
    assert hosts == server.ok("/monitoring/hosts")["items"] and HOST in hosts and len(hosts) == 2
    assert page.locator("#host-picker").input_value() == HOST

    # Current figures of the newest sample, coloured by the thresholds the API returns.
    cpu = page.locator(".tile", has_text="CPU")
    assert cpu.locator(".value").inner_text() == f"{LAST_CPU:.1f}%"
    assert cpu.get_attribute("data-level") == "warning"
    data_disk = page.locator("#disk-list .meter", has_text="/data")
    assert data_disk.locator(".figure").inner_text() == f"{DATA_DISK:.1f}%"
    assert data_disk.get_attribute("data-level") == "warning"
    assert page.locator("#disk-list .meter", has_text="/dev/nvme0n1p2").count() == 0  # device only in the tooltip
    assert page.locator("#gpu-list .meter").count() == 2
    assert page.locator("#gpu-list .meter", has_text="GPU 1").get_attribute("data-level") == "critical"
    assert page.locator("#gpu-list .meter", has_text="GPU 0").get_attribute("data-level") == "ok"
    assert page.locator("#network-list .meter", has_text="eth0").count() == 1

    # Every chart drew the buckets the API returned: a canvas, one point per bucket, pixels in the series colour.
    for chart in ("chart-cpu", "chart-memory", "chart-disk", "chart-network"):
        assert page.locator(f"#{chart} canvas").count() == 1
        assert page.locator(f"#{chart}").get_attribute("data-points") == str(len(buckets))
        assert series_pixels(page, chart) > 100, chart

    # Active incidents (every host's) and notifications as the API has them.
    incidents = server.ok("/incidents")["items"]
    assert page.locator("#incidents-table tbody tr").count() == len(incidents) >= 3
    assert {row["host"] for row in incidents} == set(hosts)
    assert page.locator("#incidents-table tbody tr", has_text="/data").locator(".badge").inner_text() == "warning"
    assert page.locator("#health").inner_text() == "healthy"
    assert page.locator("#updated-at").inner_text() != "never"
    screenshot(page, "desktop.png")
    watched.assert_clean()


@pytest.mark.slow
def test_strings_from_the_api_are_shown_as_text(server: Server, watched: Watched) -> None:
    page = watched.page
    watched.open(server, f"?host={HOST}")
    row = page.locator("#notifications-table tbody tr", has_text="Disk usage on /data")
    assert row.locator("td").nth(2).inner_text() == XSS_TITLE
    assert "<script>" in row.locator("td").nth(3).inner_text()
    job_row = page.locator("#jobs-table tbody tr", has_text=HELLO_JOB)
    assert "<i>prints</i> a line & exits" in job_row.inner_text()
    assert page.locator("main img, main script, main i, main b").count() == 0
    assert page.evaluate("window.__xss") is None
    watched.assert_clean()


@pytest.mark.slow
def test_range_picker_asks_for_the_chosen_range(server: Server, watched: Watched) -> None:
    page = watched.page
    watched.open(server, f"?host={HOST}&range=24h")
    shown: dict[str, int] = {}
    gaps: dict[str, str | None] = {}
    for label, seconds in (("7d", RANGES["7d"]), ("1h", RANGES["1h"]), ("30d", RANGES["30d"]), ("24h", RANGES["24h"])):
        with page.expect_response(lambda response: "points=" in response.url) as answer:
            page.click(f"#range-picker button[data-range='{label}']")
        asked = chart_request(watched)
        assert asked["hostname"] == HOST
        assert (utc(asked["end_time"]) - utc(asked["start_time"])).total_seconds() == pytest.approx(seconds, abs=1)
        assert 0 < int(asked["points"]) <= 1000
        count = len(answer.value.json()["items"])
        page.wait_for_function(f"document.querySelector('#chart-cpu').dataset.points === '{count}'", timeout=WAIT_MS)
        assert page.locator(f"#range-picker button[data-range='{label}']").get_attribute("aria-pressed") == "true"
        assert f"range={label}" in page.url
        shown[label] = count
        gaps[label] = page.locator("#chart-cpu").get_attribute("data-gaps")
    # One sample every 10 minutes: an hour holds 6 or 7, a day 144, a week more than the points asked for.
    assert 0 < shown["1h"] < shown["24h"] < shown["7d"]
    assert shown["30d"] > 0
    # The 6 hours without samples 3 days ago break the lines of the longer ranges only.
    assert gaps == {"7d": "1", "1h": "0", "30d": "1", "24h": "0"}
    watched.assert_clean()


@pytest.mark.slow
def test_notification_level_filter(server: Server, watched: Watched) -> None:
    page = watched.page
    watched.open(server, f"?host={HOST}")
    for level in ("CRITICAL", "INFO", "WARNING"):
        with page.expect_response(
            lambda response, level=level: (
                "/monitoring/notifications" in response.url and f"level={level}" in response.url
            )
        ) as answer:
            page.select_option("#level-filter", level)
        expected = answer.value.json()["items"]
        assert expected and all(row["level"] == level for row in expected)
        rows = page.locator("#notifications-table tbody tr")
        rows.first.wait_for()
        page.wait_for_function(
            f"[...document.querySelectorAll('#notifications-table tbody tr')]"
            f".every((row) => row.dataset.level === '{level}')",
            timeout=WAIT_MS,
        )
        assert rows.count() == len(expected)
    watched.assert_clean()


@pytest.mark.slow
def test_host_picker_switches_every_part(server: Server, watched: Watched) -> None:
    page = watched.page
    watched.open(server, f"?host={HOST}")
    assert page.locator("#current-panel").get_attribute("data-source") == "stored"
    other = next(host for host in server.ok("/monitoring/hosts")["items"] if host != HOST)
    # The other host is the machine the monitor ran on, which is the server's: its figures are sampled live.
    with page.expect_response(lambda response: "/monitoring/metrics/current" in response.url) as current:
        page.select_option("#host-picker", other)
    sample = current.value.json()
    assert sample["hostname"] == other
    mounts = [disk["mountpoint"] for disk in sample["disks"]]
    page.wait_for_function(f"document.querySelectorAll('#disk-list .meter').length === {len(mounts)}", timeout=WAIT_MS)
    assert page.locator("#current-panel").get_attribute("data-source") == "live"
    assert page.locator("#disk-list .meter .name").all_inner_texts() == mounts
    gpus = page.locator("#gpu-list .meter")
    assert gpus.count() == len(sample["gpus"] or [])
    if not sample["gpus"]:
        assert page.locator("#gpu-list").inner_text() == "no GPU"
    # The real monitor runs breached a memory level of 0.5 %: the incident colours the tile although the
    # server grades against the default 85 %.
    assert page.locator(".tile", has_text="Memory").get_attribute("data-level") == "critical"
    # Summary metrics of the catalogue get a tile each, with their unit; I/O wait and steal are ungraded here.
    if sample["cpu_iowait_percent"] is not None:
        iowait = page.locator(".tile", has_text="I/O wait")
        assert iowait.locator(".value").inner_text() == f"{sample['cpu_iowait_percent']:.1f}%"
        assert iowait.get_attribute("data-level") == "unknown"
        assert page.locator(".tile", has_text="Steal").count() == 1
    assert chart_request(watched)["hostname"] == other
    watched.assert_clean()


@pytest.mark.slow
def test_containers_table_of_the_host_hidden_without_containers(server: Server, watched: Watched) -> None:
    page = watched.page
    watched.open(server, f"?host={HOST}")
    table = page.locator("#containers-table")
    assert page.locator("#containers-panel").is_visible()
    headers = table.locator("thead th").all_inner_texts()
    assert "CPU (cores)" in headers and "CPU (% of host)" in headers  # the two CPU figures, named apart
    assert table.locator("tbody tr").count() == len(CONTAINERS)
    assert page.locator("#containers-summary").inner_text() == "2 of 3 running"

    def cell(container: str, figure: str) -> str:
        return table.locator(f"tr[data-container='{container}'] td[data-figure='{figure}']").inner_text()

    assert cell("web", "cpu-cores") == "1.50 cores" and cell("web", "cpu-host") == "9.4%"
    assert cell("web", "memory") == "200 MiB / 512 MiB" and cell("web", "memory-percent") == "39.1%"
    assert cell("db", "memory") == "3.00 GiB / no limit"
    assert cell("web", "incident") == "none"
    db = table.locator("tr[data-container='db']")
    assert db.get_attribute("data-level") == "warning"
    assert db.locator(".badge").first.inner_text() == "running (unhealthy)"
    assert db.locator(".badge").first.get_attribute("class") == "badge warning"
    assert table.locator("tr[data-container='web'] .badge").get_attribute("class") == "badge ok"
    assert db.locator("td[data-figure='incident'] .badge").inner_text() == "warning"
    assert "Failing health check" in cell("db", "incident")
    assert cell("db", "restarts").split() == ["4", "2", "recently"]
    batch = table.locator("tr[data-container='batch']")
    assert batch.locator(".badge").first.inner_text() == "exited (killed for memory)"
    assert cell("batch", "cpu-cores") == "\u2013"  # no figure of a stopped container
    screenshot(page, "containers.png")

    other = next(host for host in server.ok("/monitoring/hosts")["items"] if host != HOST)
    with page.expect_response(lambda response: "/monitoring/metrics/current" in response.url) as current:
        page.select_option("#host-picker", other)
    assert current.value.json()["containers"] == []
    page.wait_for_function("document.querySelector('#containers-panel').hidden", timeout=WAIT_MS)
    watched.assert_clean()


@pytest.mark.slow
def test_run_now_needs_the_token_then_runs_and_shows_the_output(server: Server, watched: Watched) -> None:
    page = watched.page
    watched.open(server)
    job = next(job for job in server.ok("/jobs")["items"] if job["name"] == HELLO_JOB)
    before = {row["id"] for row in server.ok("/jobs/executions")["items"]}
    button = page.locator(f"#jobs-table tr[data-job-id='{job['id']}'] button.run-now")

    button.click()  # no token yet: nothing is sent, the page asks for it
    assert "API token" in page.locator("#jobs-message").inner_text()
    assert not [request for request in watched.requests if request.method == "POST"]

    page.fill("#token-input", TOKEN)
    page.click("#token-form button[type=submit]")
    assert page.evaluate("localStorage.getItem('dashboard.token')") == TOKEN
    with page.expect_response(
        lambda response: response.request.method == "POST" and response.url.endswith(f"/jobs/{job['id']}/execute")
    ) as answer:
        button.click()
    assert answer.value.status == 202
    assert answer.value.request.headers["authorization"] == f"Bearer {TOKEN}"
    run_id = answer.value.json()["id"]
    assert run_id not in before

    row = page.locator(f"#executions-table tr[data-execution-id='{run_id}']")
    row.wait_for(timeout=WAIT_MS)
    assert HELLO_JOB in row.inner_text()
    detail = page.locator("#execution-detail")
    page.wait_for_function(
        f"document.querySelector('#execution-detail').dataset.status === 'success'"
        f" && document.querySelector('#execution-detail').dataset.executionId === '{run_id}'",
        timeout=WAIT_MS,
    )
    assert page.locator("#execution-stdout").inner_text().strip() == f"hello from run {run_id}"
    assert f"Run {run_id} of {HELLO_JOB}" == page.locator("#execution-title").inner_text()
    stored = server.ok(f"/jobs/executions/{run_id}")
    assert stored["status"] == "success" and stored["trigger"] == "manual"
    assert stored["stdout"].strip() == f"hello from run {run_id}"

    # The jobs table shows it as the last run after a refresh; a click on the row opens the same detail.
    refreshes = watched.refreshed()
    page.click("#close-execution")
    assert detail.is_hidden()
    page.click("#refresh-button")
    watched.wait_refreshed(refreshes + 1)
    job_row = page.locator(f"#jobs-table tr[data-job-id='{job['id']}']")
    assert "success" in job_row.locator(".badge").inner_text()
    row.click()
    page.wait_for_function(
        f"document.querySelector('#execution-detail').dataset.executionId === '{run_id}'", timeout=WAIT_MS
    )
    assert page.locator("#execution-stdout").inner_text().strip() == f"hello from run {run_id}"
    screenshot(page, "run-detail.png")
    watched.assert_clean()


@pytest.mark.slow
def test_acknowledge_an_incident(server: Server, browser: Browser) -> None:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.add_init_script(f"localStorage.setItem('dashboard.token', {TOKEN!r})")  # saved in an earlier visit
    watched = Watched(context.new_page())
    page = watched.page
    watched.open(server, f"?host={HOST}")
    incident = next(row for row in server.ok("/incidents")["items"] if row["resource"] == "/data")
    assert incident["acknowledged_at"] is None
    row = page.locator(f"#incidents-table tr[data-incident-id='{incident['id']}']")
    with page.expect_response(lambda response: response.url.endswith(f"/incidents/{incident['id']}/ack")) as answer:
        row.get_by_role("button", name="Ack").click()
    assert answer.value.status == 200
    row.get_by_text("acked").wait_for(timeout=WAIT_MS)
    assert server.ok(f"/incidents/{incident['id']}")["acknowledged_by"] == "dashboard"
    watched.assert_clean()
    context.close()


@pytest.mark.slow
def test_page_refreshes_by_itself(server: Server, watched: Watched) -> None:
    """A run started elsewhere shows up after the page's own refresh interval, with nothing clicked."""
    page = watched.page
    page.clock.install()
    watched.open(server, f"?host={HOST}")
    shown_at = page.locator("#updated-at").get_attribute("datetime")
    job = next(job for job in server.ok("/jobs")["items"] if job["name"] == HELLO_JOB)
    started = server.request("POST", f"/jobs/{job['id']}/execute", token=TOKEN)
    assert started.status == 202
    run_id = started.json()["id"]
    refreshes = watched.refreshed()
    page.clock.fast_forward(31_000)  # the page refreshes every 30 s
    watched.wait_refreshed(refreshes + 1)
    page.locator(f"#executions-table tr[data-execution-id='{run_id}']").wait_for(timeout=WAIT_MS)
    assert page.locator("#updated-at").get_attribute("datetime") > shown_at
    watched.assert_clean()


@pytest.mark.slow
def test_dark_scheme_and_phone_screenshots(server: Server, browser: Browser) -> None:
    dark = browser.new_context(viewport={"width": 1400, "height": 1000}, color_scheme="dark")
    watched = Watched(dark.new_page())
    watched.open(server, f"?host={HOST}&range=7d")
    background = watched.page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(17, 20, 26)"  # --bg of the dark scheme in style.css
    assert watched.page.locator("#chart-cpu canvas").count() == 1
    screenshot(watched.page, "desktop-dark.png")
    watched.assert_clean()
    dark.close()

    phone = browser.new_context(
        viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True, has_touch=True
    )
    watched = Watched(phone.new_page())
    watched.open(server, f"?host={HOST}")
    page = watched.page
    # One column, nothing wider than the screen: tables scroll inside their own box.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    panels = page.locator("main > section:not([hidden])")
    widths = {round(box["width"]) for box in (panels.nth(i).bounding_box() for i in range(panels.count()))}
    assert len(widths) == 1 and widths.pop() <= 390
    assert page.locator("#chart-cpu canvas").bounding_box()["width"] <= 390
    screenshot(page, "phone.png")
    watched.assert_clean()
    phone.close()


# ---------------------------------------------------------------- a new user's server: `serve` alone, old data

OLD_HOST = "old-host"
OLD_CPU = 86.5  # the newest sample's CPU: WARNING at the default 80 %, ok at 90 %
LONG_JOB = "nightly_database_backup-and-verification_of_every_replica"
RUN_STDOUT = "copied 3 files\ncopied 4 files"
RUN_STDERR = (
    "2026-11-30 03:00:00 INFO backup: starting\n"
    "Traceback (most recent call last):\n"
    '  File "backup.py", line 9, in <module>\n'
    "ValueError: replica db2 unreachable\n"
    "2026-11-30 03:00:01 WARNING backup: one replica left out\n"
)
RUN_ERROR = "exit code 1"


@pytest.fixture(scope="module")
def quiet_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`python main.py serve` with no API_TOKEN and no scheduler (unhealthy), over a host last heard of 3 days
    ago, a job with a long name and a failed run whose stderr mixes a traceback with ordinary log lines."""
    from tests.api_server import insert_rows

    tmp = tmp_path_factory.mktemp("quiet_page")
    url = f"sqlite:///{tmp / 'automation.db'}"
    env = environ(tmp, url)
    (tmp / "backup.py").write_text("print('copied')\n")
    main_py(env, "jobs", "add", LONG_JOB, "--cron", "0 3 * * *", "--script", str(tmp / "backup.py"))
    newest = datetime.now(timezone.utc) - timedelta(days=3)
    insert_rows(
        url,
        "system_metrics",
        [
            {
                "timestamp": newest - SAMPLE_EVERY * (11 - index),
                "hostname": OLD_HOST,
                "platform": "linux",
                "cpu_percent": OLD_CPU if index == 11 else 20.0 + index,
                "cpu_count": 4,
                "memory_percent": 41.0,
                "disk_percent": 55.0,
            }
            for index in range(12)
        ],
    )
    with serving(tmp, url) as running:
        job_id = next(job["id"] for job in running.ok("/jobs")["items"] if job["name"] == LONG_JOB)
        started = datetime.now(timezone.utc) - timedelta(hours=2)
        insert_rows(
            url,
            "job_executions",
            [
                {
                    "job_id": job_id,
                    "job_name": LONG_JOB,
                    "status": "failed",
                    "trigger": "manual",
                    "started_at": started,
                    "completed_at": started + timedelta(seconds=4),
                    "duration_seconds": 4.0,
                    "exit_code": 1,
                    "stdout": RUN_STDOUT,
                    "stderr": RUN_STDERR,
                    "error_message": RUN_ERROR,
                }
            ],
        )
        yield running


def unhealthy_only(watched: Watched) -> list[str]:
    """The problems of a page on the quiet server but its expected 503s from the health check (and Chromium's
    console line about each)."""
    expected = ("HTTP 503: GET ", "console error: Failed to load resource: the server responded with a status of 503")
    return [problem for problem in watched.problems if not problem.startswith(expected)]


@pytest.mark.slow
def test_page_opens_on_a_range_holding_the_newest_sample(quiet_server: Server, watched: Watched) -> None:
    page = watched.page
    with page.expect_response(lambda response: "points=" in response.url) as history:
        watched.open(quiet_server, f"?host={OLD_HOST}")
    page.wait_for_function(
        "document.querySelector(\"#range-picker button[data-range='7d']\").getAttribute('aria-pressed') === 'true'",
        timeout=WAIT_MS,
    )
    asked = chart_request(watched)
    assert (utc(asked["end_time"]) - utc(asked["start_time"])).total_seconds() == pytest.approx(RANGES["7d"], abs=1)
    buckets = history.value.json()["items"]
    assert sum(bucket["samples"] for bucket in buckets) == 12
    assert page.locator("#chart-cpu").get_attribute("data-points") == str(len(buckets))
    # A range named in the address is kept, empty or not.
    watched.open(quiet_server, f"?host={OLD_HOST}&range=1h")
    assert page.locator("#range-picker button[data-range='1h']").get_attribute("aria-pressed") == "true"
    assert page.locator("#chart-cpu .chart-empty").count() == 1
    assert unhealthy_only(watched) == []


@pytest.mark.slow
def test_an_unhealthy_platform_says_why_in_words(quiet_server: Server, watched: Watched) -> None:
    reply = quiet_server.get("/monitoring/health")
    assert reply.status == 503
    reasons = reply.json().get("reasons") or ["no scheduler is running"]  # the page's words without "reasons"
    watched.open(quiet_server, f"?host={OLD_HOST}")
    page = watched.page
    assert page.locator("#health").inner_text() == "unhealthy"
    shown = page.locator("#health-reasons")
    assert shown.is_visible()
    for reason in reasons:
        assert reason in shown.inner_text()
        assert reason in page.locator("header").inner_text()  # visible text, not only a tooltip
    assert unhealthy_only(watched) == []


@pytest.mark.slow
def test_level_colours_follow_the_env_file_of_the_running_server(quiet_server: Server, watched: Watched) -> None:
    env_file = Path(quiet_server.env["AUTOMATION_ENV_FILE"])
    original = env_file.read_text()
    page = watched.page
    watched.open(quiet_server, f"?host={OLD_HOST}")
    cpu = page.locator(".tile", has_text="CPU")
    assert cpu.locator(".value").inner_text() == f"{OLD_CPU:.1f}%"
    assert cpu.get_attribute("data-level") == "warning"
    try:
        env_file.write_text(original + "CPU_THRESHOLD=90\n")
        stamp = env_file.stat().st_mtime_ns + 1_000_000_000
        os.utime(env_file, ns=(stamp, stamp))
        refreshes = watched.refreshed()
        page.click("#refresh-button")
        watched.wait_refreshed(refreshes + 1)
        assert cpu.get_attribute("data-level") == "ok"
        # The shown host's own level (an @host override) wins over the general one.
        env_file.write_text(original + f"CPU_THRESHOLD=90\nCPU_THRESHOLD_OVERRIDES=@{OLD_HOST}=50\n")
        stamp = env_file.stat().st_mtime_ns + 1_000_000_000
        os.utime(env_file, ns=(stamp, stamp))
        refreshes = watched.refreshed()
        page.click("#refresh-button")
        watched.wait_refreshed(refreshes + 1)
        assert cpu.get_attribute("data-level") == "warning"
    finally:
        env_file.write_text(original)
        stamp = env_file.stat().st_mtime_ns + 2_000_000_000
        os.utime(env_file, ns=(stamp, stamp))
    assert unhealthy_only(watched) == []


# Where the text of each `.job-name` element moves to a new line: [(name, the character before, after)].
LINE_BREAKS_JS = """() => [...document.querySelectorAll(".job-name")].flatMap((element) => {
    const walker = document.createTreeWalker(element, NodeFilter.SHOW_TEXT);
    const chars = [];
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        for (let i = 0; i < node.data.length; i += 1) {
            const range = document.createRange();
            range.setStart(node, i);
            range.setEnd(node, i + 1);
            const [box] = range.getClientRects();
            chars.push({ char: node.data[i], top: box.top });
        }
    }
    const breaks = [];
    for (let i = 1; i < chars.length; i += 1) {
        if (chars[i].top > chars[i - 1].top + 2) breaks.push([element.textContent, chars[i - 1].char, chars[i].char]);
    }
    return breaks;
})"""


@pytest.mark.slow
def test_job_names_wrap_between_their_parts_on_a_phone(quiet_server: Server, browser: Browser) -> None:
    phone = browser.new_context(viewport={"width": 375, "height": 812}, is_mobile=True, has_touch=True)
    watched = Watched(phone.new_page())
    watched.open(quiet_server, f"?host={OLD_HOST}")
    page = watched.page
    assert page.locator("#jobs-table .job-name").inner_text() == LONG_JOB
    assert page.locator("#executions-table .job-name").inner_text() == LONG_JOB
    breaks = page.evaluate(LINE_BREAKS_JS)
    assert breaks, "the long name fits on one line: the test shows nothing"
    assert all(name == LONG_JOB and before in "_-. " for name, before, _ in breaks), breaks
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    screenshot(page, "phone-jobs.png")
    assert unhealthy_only(watched) == []
    phone.close()


@pytest.mark.slow
def test_run_detail_shows_errors_apart_from_output_and_log_lines(quiet_server: Server, watched: Watched) -> None:
    watched.open(quiet_server, f"?host={OLD_HOST}")
    page = watched.page
    page.locator("#executions-table tbody tr", has_text="failed").click()
    page.wait_for_function("document.querySelector('#execution-detail').dataset.status === 'failed'", timeout=WAIT_MS)
    errors = page.locator("#execution-errors")
    assert page.locator("#execution-errors-title").inner_text() == "Errors" and errors.is_visible()
    assert errors.inner_text().splitlines() == [
        RUN_ERROR,
        "Traceback (most recent call last):",
        '  File "backup.py", line 9, in <module>',
        "ValueError: replica db2 unreachable",
    ]
    assert page.locator("#execution-stdout").inner_text() == RUN_STDOUT
    assert page.locator("#execution-log").inner_text().splitlines() == [
        "2026-11-30 03:00:00 INFO backup: starting",
        "2026-11-30 03:00:01 WARNING backup: one replica left out",
    ]
    assert page.locator("#execution-log-title").is_visible()
    screenshot(page, "run-errors.png")
    assert unhealthy_only(watched) == []


@pytest.mark.slow
def test_token_field_says_whether_the_token_works(server: Server, quiet_server: Server, browser: Browser) -> None:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    watched = Watched(context.new_page())
    page = watched.page

    def verdict(expected: str) -> str:
        page.wait_for_function(
            f"document.querySelector('#token-state').dataset.verdict === '{expected}'", timeout=WAIT_MS
        )
        return page.locator("#token-state").inner_text()

    watched.open(server, f"?host={HOST}")
    assert verdict("none sent").startswith("no token")
    for token, expected, words in (("not-the-token-0123456789", "refused", "token refused"), (TOKEN, "accepted", "")):
        page.fill("#token-input", token)
        page.click("#token-form button[type=submit]")
        assert verdict(expected).startswith(words or "token accepted")
    assert not [request for request in watched.requests if request.method != "GET"], "checking changes nothing"
    watched.assert_clean()
    context.close()

    # Another server, in a fresh browser with the same token stored: it has no API_TOKEN, so no token is of use.
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.add_init_script(f"localStorage.setItem('dashboard.token', {TOKEN!r})")
    watched = Watched(context.new_page())
    page = watched.page
    watched.open(quiet_server, f"?host={OLD_HOST}")
    assert verdict("not needed").startswith("no token needed")
    assert unhealthy_only(watched) == []
    context.close()
