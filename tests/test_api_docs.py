"""/docs (Swagger UI) and /redoc (ReDoc) render in headless Chromium with every request beyond the server cut off,
as on a machine without internet: their scripts, styles and icon come from dashboard/static/vendor/."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, Request, Route, expect

from tests import test_web_page
from tests.api_server import Server, environ, main_py, serving

TITLE = "Automation platform"
# ReDoc's footer always asks for its maker's logo; the page's Content-Security-Policy refuses it in the browser
# (no request leaves it) and ReDoc then leaves the logo out.
REDOC_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"
WAIT_MS = test_web_page.WAIT_MS
SCREENSHOTS = test_web_page.ARTIFACTS  # git-ignored; look at them after upgrading a library
browser = test_web_page.browser  # the page tests' Chromium fixture (Debian's /usr/bin/chromium)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("api_docs")
    url = f"sqlite:///{tmp / 'automation.db'}"
    main_py(environ(tmp, url), "db", "init")
    with serving(tmp, url) as running:
        yield running


class Offline:
    """A page whose requests to anywhere but 127.0.0.1 are aborted and recorded, with the requests its
    Content-Security-Policy refused, the other requests that failed and the page's errors."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.outside: list[str] = []
        self.served: list[str] = []
        self.refused: set[str] = set()
        self.failed: list[str] = []
        self.errors: list[str] = []
        page.context.route("**/*", self._route)
        page.on("requestfailed", self._failed)
        page.on("response", lambda response: response.status >= 400 and self.failed.append(response.url))
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        page.on("console", lambda message: message.type == "error" and self.errors.append(message.text))

    def _route(self, route: Route) -> None:
        url = route.request.url
        if urlsplit(url).hostname == "127.0.0.1":
            self.served.append(urlsplit(url).path)
            route.continue_()
        else:
            self.outside.append(url)
            route.abort("internetdisconnected")

    def _failed(self, request: Request) -> None:
        if request.failure == "csp":
            self.refused.add(request.url)
        else:
            self.failed.append(f"{request.url}: {request.failure}")

    def assert_clean(self, refused: frozenset[str] = frozenset()) -> None:
        """Nothing went beyond the server, the page's policy refused nothing but `refused`, nothing else failed."""
        assert self.outside == [], f"requests beyond the server: {self.outside}"
        assert self.refused <= refused, f"refused by the page's policy: {self.refused}"
        errors = [
            error
            for error in self.errors
            if not any(f"'{url}' violates the following Content Security" in error for url in refused)
        ]
        assert self.failed == [] and errors == [], (self.failed, errors)


@pytest.fixture
def offline(browser: Browser) -> Iterator[Offline]:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    yield Offline(context.new_page())
    context.close()


@pytest.mark.slow
def test_swagger_ui_renders_offline(server: Server, offline: Offline) -> None:
    page = offline.page
    page.goto(server.base_url + "/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text(TITLE, timeout=WAIT_MS)
    operations = page.locator(".opblock")
    expect(operations.first).to_be_visible(timeout=WAIT_MS)
    assert operations.count() >= 20, operations.count()
    expect(page.locator(".opblock-summary-path", has_text="/jobs/{job_id}/execute").first).to_be_visible()
    expect(page.get_by_text("Authorization: Bearer <API_TOKEN>").first).to_be_visible()
    assert {"/vendor/swagger-ui/swagger-ui-bundle.js", "/vendor/swagger-ui/swagger-ui.css", "/openapi.json"} <= set(
        offline.served
    ), offline.served
    offline.page.screenshot(path=str(SCREENSHOTS / "api-docs-swagger-ui.png"))
    offline.assert_clean()


@pytest.mark.slow
def test_redoc_renders_offline(server: Server, offline: Offline) -> None:
    page = offline.page
    page.goto(server.base_url + "/redoc")
    expect(page.locator("h1").first).to_contain_text(TITLE, timeout=WAIT_MS)
    expect(page.get_by_role("heading", name="Add a job")).to_be_visible(timeout=WAIT_MS)
    expect(page.get_by_text("Authorization: Bearer <API_TOKEN>").first).to_be_visible()  # markdown, not a tag
    assert {"/vendor/redoc/redoc.standalone.js", "/openapi.json"} <= set(offline.served), offline.served
    offline.page.screenshot(path=str(SCREENSHOTS / "api-docs-redoc.png"))
    offline.assert_clean(refused=frozenset({REDOC_LOGO}))


def test_docs_pages_name_no_outside_address(server: Server) -> None:
    """Without a browser: neither page refers to a CDN or font service (FastAPI's defaults do)."""
    for path in ("/docs", "/redoc"):
        reply = server.get(path)
        assert reply.status == 200 and "https://" not in reply.text and "http://" not in reply.text, reply.text
