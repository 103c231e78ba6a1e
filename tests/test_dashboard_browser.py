"""End to end: the dashboard served as ``geosim-dashboard`` serves it, driven in headless Chromium.

Chromium comes from the Debian packages ``chromium`` and ``chromium-driver`` (``.ci/run`` installs
them); Playwright only drives it (never ``playwright install``). Without Chromium the test is
skipped on a developer's machine and fails in CI (``CI=true``).
"""

from __future__ import annotations

import os
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from sim.dashboard import serve

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--no-first-run"]
TIMEOUT_MS = 90_000  # generous: the machine may be busy


def _need(what: str) -> None:
    message = f"{what} is needed for the browser test (.ci/run installs it)"
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The dashboard on a free loopback port; yields its address."""
    port = serve.free_port()
    log = tmp_path_factory.mktemp("server") / "server.log"
    with open(log, "w") as out:
        proc = subprocess.Popen(serve.command(port), env=serve.environment(), stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the dashboard server did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        _need(f"Chromium at {CHROMIUM}")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _need("the playwright package (pip install -e '.[dashboard]')")
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_FLAGS)
        yield chromium
        chromium.close()


def test_student_steps_a_scenario_in_a_real_browser(server, browser, tmp_path):
    page = browser.new_page(viewport={"width": 1500, "height": 1000})
    page.set_default_timeout(TIMEOUT_MS)
    requested = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(server)

    month = page.locator(".geosim-current-month")
    month.wait_for()
    assert month.inner_text() == "not started"

    # pick a scenario from the library
    page.locator(".geosim-scenario .v-select__slot").click()
    page.get_by_role("option", name="assad_fall", exact=True).click()
    page.get_by_text("Scenario: assad_fall.").wait_for()

    step = page.get_by_role("button", name="Step")
    for _ in range(4):
        step.click()
    page.wait_for_function("document.querySelector('.geosim-current-month').innerText === '2022-10'",
                           timeout=TIMEOUT_MS)
    assert page.get_by_text("4 of 78 months simulated").is_visible()

    # three charts drawn as images, with real pixels
    page.wait_for_function("[...document.querySelectorAll('.geosim-figure img')]"
                           ".filter(i => i.complete && i.naturalWidth > 300).length === 3", timeout=TIMEOUT_MS)
    assert page.get_by_text("geosim scenario=assad_fall").is_visible()

    # Play runs on by itself; Pause stops it
    page.get_by_role("button", name="▶").click()
    page.wait_for_function("document.querySelector('.geosim-current-month').innerText >= '2022-12'",
                           timeout=TIMEOUT_MS)
    page.get_by_role("button", name="❚❚").click()
    page.get_by_role("button", name="▶").wait_for()

    shot = tmp_path / "dashboard.png"
    page.screenshot(path=str(shot))
    assert shot.stat().st_size > 50_000
    print(f"screenshot: {shot}")

    # fully offline: every request went to the local server
    outside = [u for u in requested if not u.startswith(("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:"))]
    assert not outside, outside
    page.close()
