"""Browser tests: the real PWA in Debian's Chromium, driven by Playwright, against a live server.

The live server runs the session's app (same database, emptied after each test) in a thread on
127.0.0.1, a secure context for service workers. Under pytest-xdist each worker has its own app,
database, live server (on a free port) and Chromium. Screenshots go to test-output/screenshots,
each under its test's own name, so workers never write the same file.
"""

from __future__ import annotations

import functools
import os
import shutil
import threading
from pathlib import Path

import pytest
from playwright.sync_api import expect
from werkzeug.serving import make_server

CHROMIUM = os.environ.get("TIDEMARK_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
PHONE = {"width": 390, "height": 844}
# Assertions wait as long as actions do (the context's default timeout below): on a loaded
# machine a screen can take more than Playwright's default 5 s to appear, and slow is not wrong.
expect.set_options(timeout=10_000)
OUTPUT = Path(__file__).resolve().parents[2] / "test-output"


class InFlight:
    """WSGI middleware that counts the requests the live server is still handling.

    A browser closed at the end of a test may leave its last request (or a `keepalive` one)
    in the server's thread; the tables are emptied only once that request is done, or its
    writes would meet the emptying (a foreign-key error) or leak into the next test.
    """

    def __init__(self, app):
        self.app = app
        self.count = 0
        self.idle = threading.Condition()

    def __call__(self, environ, start_response):
        with self.idle:
            self.count += 1
        try:
            result = self.app(environ, start_response)
            try:
                return list(result)
            finally:
                if hasattr(result, "close"):
                    result.close()
        finally:
            with self.idle:
                self.count -= 1
                self.idle.notify_all()

    def wait_until_idle(self, timeout: float = 15) -> None:
        with self.idle:
            self.idle.wait_for(lambda: self.count == 0, timeout=timeout)


@pytest.fixture(scope="session")
def in_flight(app) -> InFlight:
    return InFlight(app)


@pytest.fixture(autouse=True)
def _server_idle_before_cleanup(in_flight):
    """After each test (and after its browsers close, which are set up later and so torn
    down first), wait for the live server's last requests before the tables are emptied."""
    yield
    in_flight.wait_until_idle()


@pytest.fixture(scope="session")
def live_server(in_flight):
    """The app served over HTTP on a free local port, for the whole run."""
    server = make_server("127.0.0.1", 0, in_flight, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture(scope="session")
def chromium():
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        pytest.fail(
            f"Chromium not found at {CHROMIUM}: install Debian's chromium package "
            "(apt-get install -y chromium); .ci/run does."
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def context(chromium, live_server):
    """A fresh browser profile at phone size: no cookies, no caches, no service worker."""
    context = chromium.new_context(viewport=PHONE, base_url=live_server, service_workers="allow")
    context.set_default_timeout(10_000)
    yield context
    context.close()


@pytest.fixture
def page(context):
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    assert not errors, f"JavaScript errors on the page: {errors}"


def screenshot(page, name: str) -> Path:
    """Save a screenshot for review under test-output/screenshots."""
    path = OUTPUT / "screenshots" / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=True)
    return path


AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]},
    # Only the violations are read: axe then skips building the details of every pass.
    "resultTypes": ["violations"],
}


@functools.cache
def _axe_script() -> str:
    from axe_playwright_python.sync_playwright import Axe

    return Axe().axe_script


def axe_violations(page) -> list[dict]:
    """Accessibility violations axe finds on the page as it is now (WCAG 2.x A and AA).

    axe-core (as axe-playwright-python ships it) is injected once per document, not before
    every check, and only the violations cross back to Python.
    """
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(_axe_script())
    return page.evaluate(
        "options => axe.run(document, options).then(results => results.violations)", AXE_OPTIONS
    )


def describe_violations(violations: list[dict]) -> str:
    """axe's findings, one rule and its offending elements per block, for a failure message."""
    lines = []
    for violation in violations:
        lines.append(f"  {violation['id']} ({violation['impact']}): {violation['help']}")
        for node in violation["nodes"]:
            lines.append(f"    {node['target']} {node['html'][:160]}")
    return "\n".join(lines)


SCHEMES = ("light", "dark")


def sizes_and_schemes(desktop: dict, sizes=("phone", "desktop")) -> dict:
    """{(size, scheme): (viewport, scheme)} for both sizes in both colour schemes."""
    viewports = {"phone": PHONE, "desktop": desktop}
    return {(size, scheme): (viewports[size], scheme) for size in sizes for scheme in SCHEMES}


class ScreenWalk:
    """One walk through screens, each saved and checked by axe in every variant: the page is
    resized and its colour scheme switched in place (a walk per variant would redo every
    step), then put back as the walk has it (`back`).

    `variants` maps a variant (a name, or a (size, scheme) pair) to its (viewport, or None to
    keep the page's, colour scheme); `file_name(variant, number, screen)` names each
    screenshot. `saved` holds each variant's screenshots in order; `found`, axe's findings."""

    def __init__(self, page, variants: dict, file_name, back: tuple[dict | None, str]):
        self.page, self.variants, self.file_name, self.back = page, variants, file_name, back
        self.saved: dict = {variant: [] for variant in variants}
        self.found: dict[str, list[dict]] = {}

    def visit(self, screen: str, *, axe: bool = True, also=None) -> None:
        """Save (and check) `screen` in every variant; `also(variant, viewport, path)` checks
        more in each."""
        for variant, (viewport, scheme) in self.variants.items():
            self._show(viewport, scheme)
            shots = self.saved[variant]
            shots.append(screenshot(self.page, self.file_name(variant, len(shots) + 1, screen)))
            if also is not None:
                also(variant, viewport or self.page.viewport_size, shots[-1])
            if axe and (violations := axe_violations(self.page)):
                self.found[f"{screen} ({self.label(variant)})"] = violations
        self._show(*self.back)

    @staticmethod
    def label(variant) -> str:
        return ", ".join(variant) if isinstance(variant, tuple) else variant

    def _show(self, viewport: dict | None, scheme: str) -> None:
        if viewport is not None:
            self.page.set_viewport_size(viewport)
        self.page.emulate_media(color_scheme=scheme)

    def assert_axe_clean(self) -> None:
        report = "\n".join(f"{name}:\n{describe_violations(v)}" for name, v in self.found.items())
        assert not self.found, f"axe violations:\n{report}"
