"""The page's fleet view in headless Chromium (Debian's /usr/bin/chromium through Playwright) against a real
`python main.py serve` over a SQLite database holding several hosts: registered ones (hosts rows) that are up,
silent, in maintenance or never seen, one with samples only, their samples and incidents (tests/fleet_seed.py).
The page opens on the fleet, a click on a host opens the host view the page had before, and the fleet is one
click (or the browser's Back) away. A screenshot goes to tests/artifacts/web_page/fleet.png.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone

import pytest
from playwright.sync_api import Browser, Page

from tests.api_server import Server, environ, main_py, serving
from tests.fleet_seed import EXPECTED, HTML_NAME, seed_fleet
from tests.test_web_page import (  # noqa: F401 - browser and quiet_server: the fixtures
    OLD_HOST,
    WAIT_MS,
    Watched,
    browser,
    quiet_server,
    screenshot,
    unhealthy_only,
)

pytest_plugins: list[str] = []


@pytest.fixture(scope="module")
def fleet_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("fleet_page")
    url = f"sqlite:///{tmp / 'automation.db'}"
    main_py(environ(tmp, url), "db", "init")
    seed_fleet(url, datetime.now(timezone.utc))
    with serving(tmp, url) as running:
        yield running


@pytest.fixture
def watched(browser: Browser) -> Iterator[Watched]:  # noqa: F811 - the imported fixture
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    yield Watched(context.new_page())
    context.close()


def wait_view(page: Page, view: str) -> None:
    page.wait_for_function(f"document.body.dataset.view === '{view}'", timeout=WAIT_MS)


def fleet_row(page: Page, name: str):  # type: ignore[no-untyped-def]
    return page.locator("#fleet-table tbody tr").filter(has=page.get_by_role("rowheader", name=name, exact=True))


@pytest.mark.slow
def test_the_fleet_lists_every_host_and_a_click_opens_its_view(fleet_server: Server, watched: Watched) -> None:
    page = watched.page
    watched.open(fleet_server)
    wait_view(page, "fleet")
    assert page.locator("#fleet-panel").is_visible()
    assert not page.locator("#current-panel").is_visible() and not page.locator("#history-panel").is_visible()
    assert not page.locator("#fleet-button").is_visible()

    # Every host with the status the API gives, in words, problems first.
    api = {host["name"]: host for host in fleet_server.ok("/api/v1/hosts")["items"]}
    rows = page.locator("#fleet-table tbody tr")
    assert rows.count() == len(api) == len(EXPECTED) + 1
    assert rows.first.get_attribute("data-host") == "web-silent"
    for name, host in api.items():
        row = fleet_row(page, name)
        assert row.count() == 1, name
        assert (
            row.get_attribute("data-status") == host["status"] == EXPECTED.get(name, {"status": "never seen"})["status"]
        )
        assert row.locator("td").nth(0).inner_text() == host["status"]
    up = fleet_row(page, "web-up").locator("td")
    assert up.nth(1).inner_text() == "critical (2 active)"
    assert up.nth(2).inner_text() == "12.5%" and up.nth(3).inner_text() == "91.0%" and up.nth(4).inner_text() == "55.0%"
    assert up.nth(3).locator(".meter").get_attribute("data-level") == "warning"  # memory above the default 85 %
    assert "second" in up.nth(5).inner_text()  # last seen a few seconds ago
    assert "1.4.2" in up.nth(6).inner_text() and up.nth(7).inner_text() == "+750 ms"
    assert fleet_row(page, "web-silent").locator("td").nth(7).inner_text() == "\u22122.0 s"  # a minus sign
    assert "monitor" in fleet_row(page, "hub-itself").locator("td").nth(6).inner_text()
    assert fleet_row(page, "new-host").locator("td").nth(5).inner_text() == "never"
    summary = page.locator("#fleet-summary").inner_text()
    assert summary == "6 hosts: 1 silent, 2 up, 2 never seen, 1 maintenance"
    # A host name is text, never markup.
    assert fleet_row(page, HTML_NAME).count() == 1
    assert page.locator("main img").count() == 0 and page.evaluate("window.__xss") is None
    screenshot(page, "fleet.png")

    # A click on a host opens the host view the page has always had, for that host.
    with page.expect_response(lambda response: "hostname=web-up" in response.url and "latest" in response.url):
        page.get_by_role("link", name="web-up", exact=True).click()
    wait_view(page, "host")
    assert "host=web-up" in page.url
    assert page.locator("#host-picker").input_value() == "web-up"
    cpu = page.locator(".tile", has_text="CPU")
    cpu.locator(".value", has_text="12.5%").wait_for(timeout=WAIT_MS)
    assert not page.locator("#fleet-panel").is_visible() and page.locator("#history-panel").is_visible()

    # Back to the fleet with the button, and with the browser's Back after opening another host.
    page.get_by_role("button", name="All hosts").click()
    wait_view(page, "fleet")
    assert "host=" not in page.url and fleet_row(page, "web-up").count() == 1
    page.get_by_role("link", name="web-silent", exact=True).click()
    wait_view(page, "host")
    page.go_back()
    wait_view(page, "fleet")
    assert page.locator("#fleet-panel").is_visible()
    page.go_forward()
    wait_view(page, "host")
    assert page.locator("#host-picker").input_value() == "web-silent"
    assert unhealthy_only(watched) == []  # no scheduler runs: the health check's 503s are expected


@pytest.mark.slow
def test_with_one_host_the_page_stays_as_it_was(quiet_server: Server, watched: Watched) -> None:  # noqa: F811
    page = watched.page
    watched.open(quiet_server)  # no host in the address
    wait_view(page, "host")
    assert page.locator("#host-picker").input_value() == OLD_HOST
    assert page.locator("#current-panel").is_visible() and not page.locator("#fleet-panel").is_visible()
    assert not page.locator("#fleet-button").is_visible()
    assert unhealthy_only(watched) == []


@pytest.mark.slow
def test_the_fleet_fits_a_phone(fleet_server: Server, browser: Browser) -> None:  # noqa: F811
    phone = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True)
    watched = Watched(phone.new_page())
    watched.open(fleet_server)
    page = watched.page
    wait_view(page, "fleet")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert fleet_row(page, "web-up").locator("td").nth(0).get_attribute("data-label") == "Status"
    screenshot(page, "fleet-phone.png")
    assert unhealthy_only(watched) == []
    phone.close()
