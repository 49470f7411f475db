"""The app in a real browser (Debian's chromium through Playwright): every role signs in
and opens every page of its menu, charts draw, filters change the numbers, exports
download, drill-down and the RU/EN switch work. Screenshots go to /tmp/web-shots/."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.web.conftest import USERS, password

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore:Mean of empty slice:RuntimeWarning"),
    pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning"),
    # plotly silences this warning of its own templates with warnings.catch_warnings(),
    # which is not thread-safe: charts drawn in two threads at once can let it through.
    pytest.mark.filterwarnings("ignore:.*scattermapbox.*:DeprecationWarning"),
]
CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SHOTS = Path("/tmp/web-shots")
#: Pages whose sections draw charts (for any role with data).
CHART_PAGES = {
    "funnel",
    "journeys",
    "managers",
    "leads",
    "customers",
    "plan",
    "campaigns",
}


@pytest.fixture(scope="module")
def server(app: Any) -> Iterator[str]:
    """The session's app served by uvicorn on a free port of 127.0.0.1."""
    import uvicorn

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"
    )
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    for _ in range(200):
        if srv.started:
            break
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


class Session:
    """A signed-in browser page that records script errors and CSP violations."""

    def __init__(self, browser: Any, server: str, username: str) -> None:
        self.server = server
        self.context = browser.new_context(
            viewport={"width": 1400, "height": 1000}, accept_downloads=True
        )
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on(
            "console",
            lambda m: self.errors.append(m.text) if m.type == "error" else None,
        )
        self.page.goto(f"{server}/login?lang=en")
        self.page.fill("input[name=username]", username)
        self.page.fill("input[name=password]", password(username))
        self.page.click("button[type=submit]")
        self.page.wait_for_url(f"{server}/")

    def open(self, path: str, *, timeout: float = 300) -> None:
        """Go to `path` and wait until every lazy section has loaded."""
        self.page.goto(self.server + path)
        self.settle(timeout=timeout)

    def settle(self, *, timeout: float = 300) -> None:
        """Wait for htmx to replace every placeholder, then for the charts."""
        deadline = time.monotonic() + timeout
        while self.page.locator(".lazy").count():
            assert time.monotonic() < deadline, f"{self.page.url} still loading"
            self.page.wait_for_timeout(200)
        self.page.wait_for_timeout(300)

    def menu(self) -> list[str]:
        return [
            str(a.get_attribute("data-page"))
            for a in self.page.locator("nav a[data-page]").all()
        ]

    def close(self) -> None:
        self.context.close()


@pytest.mark.parametrize("username", list(USERS))
def test_every_role_opens_every_page(browser: Any, server: str, username: str) -> None:
    session = Session(browser, server, username)
    try:
        session.settle()
        pages = session.menu()
        assert "overview" in pages
        for page in pages:
            path = "/" if page == "overview" else f"/{page}"
            session.open(path)
            assert session.page.locator(".result.error").count() == 0, (username, page)
            if page in CHART_PAGES:
                assert session.page.locator(".main-svg").count() > 0, (username, page)
        assert not session.errors, session.errors
    finally:
        session.close()


def test_screenshots_of_head_and_manager(browser: Any, server: str) -> None:
    if SHOTS.exists():
        for old in SHOTS.glob("*.png"):
            old.unlink()
    SHOTS.mkdir(parents=True, exist_ok=True)
    for username in ("head", "manager"):
        session = Session(browser, server, username)
        try:
            for page in ("overview", "funnel", "managers", "customers"):
                session.open("/?lang=en" if page == "overview" else f"/{page}?lang=en")
                target = SHOTS / f"{username}-{page}.png"
                session.page.screenshot(path=str(target), full_page=True)
                assert target.stat().st_size > 10_000
        finally:
            session.close()


def _numbers(session: Session) -> list[str]:
    cells = session.page.locator(".result table tbody td.num")
    return [cells.nth(i).inner_text() for i in range(min(cells.count(), 40))]


def test_filters_change_the_numbers_and_stay_in_the_url(
    browser: Any, server: str
) -> None:
    session = Session(browser, server, "head")
    try:
        session.open("/funnel")
        everyone = _numbers(session)
        session.page.select_option("select[name=region]", "Урал")
        session.page.click(".filters button[type=submit]")
        session.page.wait_for_url("**region=*")
        session.settle()
        assert "region=%D0%A3%D1%80%D0%B0%D0%BB" in session.page.url
        ural = _numbers(session)
        assert everyone
        assert ural
        assert ural != everyone
        # the menu keeps the filter
        href = session.page.locator("nav a[data-page=managers]").get_attribute("href")
        assert href is not None
        assert "region=" in href
    finally:
        session.close()


def test_drill_down_export_and_sorting(
    browser: Any, server: str, tmp_path: Path
) -> None:
    session = Session(browser, server, "head")
    try:
        session.open("/managers")
        first = session.page.locator(".result table tbody a.drill").first
        first.click()
        session.page.wait_for_url("**/drill/deals?**")
        assert session.page.locator(".result table tbody tr").count() > 0
        with session.page.expect_download() as download:
            session.page.locator("a.export").first.click()
        saved = tmp_path / "deals.csv"
        download.value.save_as(saved)
        text = saved.read_text(encoding="utf-8-sig")
        assert text.splitlines()[0].startswith("deal_id,")
        assert len(text.splitlines()) > 2
        # sorting: clicking a numeric header orders the rows by it
        session.open("/managers")
        table = session.page.locator(".result table").first
        headers = table.locator("thead th")
        index = next(
            i
            for i in range(headers.count())
            if "num" in (headers.nth(i).get_attribute("class") or "")
        )
        for order in ("ascending", "descending"):
            headers.nth(index).click()
            assert headers.nth(index).get_attribute("aria-sort") == order
            cells = table.locator(f"tbody tr td:nth-child({index + 1})")
            values = [
                float(v) if v else float("-inf")
                for v in (
                    cells.nth(i).get_attribute("data-v") for i in range(cells.count())
                )
            ]
            assert values == sorted(values, reverse=order == "descending")
    finally:
        session.close()


def test_language_switch(browser: Any, server: str) -> None:
    session = Session(browser, server, "manager")
    try:
        session.open("/?lang=en")
        assert session.page.locator("nav a[data-page=funnel]").inner_text() == "Funnel"
        session.page.click("a[data-lang=ru]")
        session.settle()
        assert session.page.locator("nav a[data-page=funnel]").inner_text() == "Воронка"
        session.open("/customers")  # the choice is remembered in a cookie
        assert (
            session.page.locator("nav a[data-page=customers]").inner_text() == "Клиенты"
        )
        assert "Выводы" in session.page.content()
    finally:
        session.close()


def test_assets_are_local(browser: Any, server: str) -> None:
    session = Session(browser, server, "analyst")
    requested: list[str] = []
    session.page.on("request", lambda r: requested.append(r.url))
    try:
        session.open("/funnel")
        assert requested
        assert all(url.startswith(server) for url in requested), [
            u for u in requested if not u.startswith(server)
        ]
    finally:
        session.close()
