"""End to end: the dashboard served as ``geosim-dashboard`` serves it, driven in headless Chromium.

Chromium comes from the Debian packages ``chromium`` and ``chromium-driver`` (``.ci/run`` installs
them); Playwright only drives it (never ``playwright install``). Without Chromium the test is
skipped on a developer's machine and fails in CI (``CI=true``).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
import yaml

from sim.dashboard import serve
from sim.results import load

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
        # its own folder: the page's hindcast caches its calibration in outputs/ there
        proc = subprocess.Popen(serve.command(port), env=serve.environment(), stdout=out, stderr=subprocess.STDOUT,
                                cwd=tmp_path_factory.mktemp("cwd"))
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

    with shown_on_failure(page):
        # pick a scenario from the library
        _pick(page, "geosim-scenario", "assad_fall")
        page.get_by_text("Scenario: assad_fall.").wait_for()

        for _ in range(4):  # one month a step
            _press(page, "Step", f"before => {MONTH} !== before", arg=month.inner_text())
        assert month.inner_text() == "2022-10"
        page.get_by_text("4 of 78 months simulated").wait_for()  # drawn with, or just after, the month

        # three charts drawn as images, with real pixels
        page.wait_for_function("[...document.querySelectorAll('.geosim-figure img')]"
                               ".filter(i => i.complete && i.naturalWidth > 300).length === 3", timeout=TIMEOUT_MS)
        page.get_by_text("geosim scenario=assad_fall").wait_for()

        # Play runs on by itself; Pause stops it
        _press(page, "▶ Play", "!!document.querySelector('.geosim-pause')")
        page.wait_for_function(f"{MONTH} >= '2022-12'")
        _press(page, "❚❚ Pause", "!!document.querySelector('.geosim-play')")

    shot = tmp_path / "dashboard.png"
    page.screenshot(path=str(shot))
    assert shot.stat().st_size > 50_000
    print(f"screenshot: {shot}")

    # fully offline: every request went to the local server
    outside = [u for u in requested if not u.startswith(("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:"))]
    assert not outside, outside
    page.close()


# the framework's control names that mean nothing to a student
FRAMEWORK_WORDS = ("Play Interval", "Render Interval", "Use Threads", "Time: 0.0", "Model Parameters", "Information")


def _pick(page, field: str, option: str) -> None:
    """Choose ``option`` in the Vuetify select with class ``field`` and see the select show it.

    On a busy machine a redraw from the server can close the menu before the click, or replace
    the option under the pointer so that the click is lost: then choose again."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    target = page.get_by_role("option", name=option, exact=True)
    shows = ("([field, option]) => document.querySelector(`.${field} .v-select__selection`)"
             "?.innerText.trim() === option")
    for _ in range(4):
        try:
            page.locator(f".{field} .v-select__slot").click()
            target.click(timeout=20_000)
            page.wait_for_function(shows, arg=[field, option], timeout=10_000)
            page.wait_for_timeout(500)  # a redraw on its way may still put the old value back
            if page.evaluate(shows, [field, option]):
                return
        except PlaywrightTimeout:
            page.keyboard.press("Escape")  # close a menu left open
    raise AssertionError(f"the select {field} does not keep {option!r}")


@contextmanager
def shown_on_failure(page):
    """On a failure, add what the month, the run buttons and the scenario builder showed then to the message."""
    try:
        yield
    except Exception as exc:
        parts = []
        for name in ("geosim-current-month", "geosim-event-list", "geosim-event-form", "geosim-builder-error"):
            found = page.locator(f".{name}")
            try:
                parts.append(f"{name}: {found.first.inner_text(timeout=5_000) if found.count() else '(none)'}")
            except Exception as unreadable:
                parts.append(f"{name}: unreadable ({unreadable})")
        try:
            parts.append(f"buttons: {page.locator('.geosim-step, .geosim-play, .geosim-pause').all_inner_texts()}")
        except Exception as unreadable:
            parts.append(f"buttons: unreadable ({unreadable})")
        raise AssertionError("\n".join([str(exc).splitlines()[0], "the page showed:", *parts])) from exc


MONTH = "document.querySelector('.geosim-current-month')?.innerText"
FORM_OPEN = "!!document.querySelector('.geosim-event-form')"
ROWS = "document.querySelectorAll('.geosim-event-row').length"


def _press(page, button, taken: str, arg=None) -> None:
    """Click ``button`` (a button's name, or a locator) until the JavaScript condition ``taken``
    shows that the server took the click: a click on a button that a redraw replaces at that
    moment is lost."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    for _ in range(4):
        try:
            (page.get_by_role("button", name=button, exact=True) if isinstance(button, str) else button).click(
                timeout=10_000)
        except PlaywrightTimeout:
            pass  # gone already: the server may have taken an earlier click
        try:
            page.wait_for_function(taken, arg=arg, timeout=30_000)
            return
        except PlaywrightTimeout:
            continue
    page.wait_for_function(taken, arg=arg)


def _add_event(page, etype: str, year: str, month: str, value: str, taken: str, relation_channel: str | None = None,
               parameter: str | None = None) -> None:
    """Add an event through the form; ``taken`` is the condition that shows the server took it."""
    _press(page, "Add an event", FORM_OPEN)
    form = page.locator(".geosim-event-form")
    _pick(page, "geosim-event-type", etype)
    _pick(page, "geosim-event-year", year)
    _pick(page, "geosim-event-month", month)
    if relation_channel:
        _pick(page, "geosim-event-target", "a relation")
        _pick(page, "geosim-event-channel", relation_channel)
    if parameter:
        # the caption under the field describes the chosen parameter once the server has it
        caption = form.locator(".geosim-caption").nth(1)
        before = caption.inner_text()
        page.locator(".geosim-event-parameter input[type=text]").fill(parameter)
        page.get_by_role("option", name=parameter, exact=True).click()
        page.wait_for_function("text => document.querySelectorAll('.geosim-event-form .geosim-caption')[1]"
                               "?.innerText !== text", arg=before)
    field = page.locator(".geosim-event-value input")
    field.fill(value)
    # a redraw still on its way from the server may put the old value back: fill until it stays
    for _ in range(5):
        page.wait_for_timeout(300)
        if field.input_value() == value:
            break
        field.fill(value)
    assert field.input_value() == value
    _press(page, page.locator(".geosim-event-save"), taken)


def _geosim(args: list[str], cwd: Path, run_dir: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sim", *args, "output.plots=false", f"hydra.run.dir={run_dir}"],
                          cwd=cwd, capture_output=True, text=True, timeout=300)


def test_student_builds_a_scenario_downloads_it_and_geosim_runs_it(server, browser, tmp_path):
    page = browser.new_page(viewport={"width": 1500, "height": 1000}, accept_downloads=True)
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(server)
    page.locator(".geosim-current-month").wait_for()
    text = page.locator("body").inner_text()
    assert not [w for w in FRAMEWORK_WORDS if w in text], text[:2000]

    with shown_on_failure(page):
        # start from a preset and add two events: a named shock and a jolt to a relation
        _pick(page, "geosim-runs", "20")  # a small ensemble keeps the test quick
        _pick(page, "geosim-scenario", "assad_fall")
        page.get_by_text("Scenario: assad_fall.").wait_for()
        rows = page.locator(".geosim-event-row")
        # the treaty (from baseline) and Assad's fall
        page.wait_for_function(f"{ROWS} === 2")
        _add_event(page, "snapback", "2024", "03", "0.6", taken=f"{ROWS} === 3")
        page.get_by_text("Scenario: my_assad_fall.").wait_for()
        _add_event(page, "shift", "2026", "01", "-0.5", relation_channel="economic", taken=f"{ROWS} === 4")
        assert "relation Russia–Iran (economic) shifted by -0.5" in rows.nth(3).inner_text()

        # a value out of range is refused with the CLI's message, and the scenario stays as it was
        _add_event(page, "set", "2026", "06", "7", parameter="actors.iran.sanctions",
                   taken=f"document.querySelector('.geosim-builder-error') || {ROWS} > 4")
        error = page.locator(".geosim-builder-error")
        assert rows.count() == 4, f"the out-of-range event was added: {rows.nth(4).inner_text()}"
        message = error.inner_text().strip()
        assert message.startswith("my_assad_fall.yaml: events[4] (set): value 7 for actors.iran.sanctions is out of range")
        _press(page, "Cancel", f"!({FORM_OPEN})")
        assert rows.count() == 4

        # edit one event and remove another: the preset's Assad event moves to 2025-03, the treaty goes
        _press(page, rows.nth(1).get_by_role("button", name="Change"), FORM_OPEN)
        _pick(page, "geosim-event-year", "2025")
        _pick(page, "geosim-event-month", "03")
        _press(page, page.locator(".geosim-event-save"),
               "[...document.querySelectorAll('.geosim-event-row')][1].innerText.includes('2025-03')")
        _press(page, rows.nth(0).get_by_role("button", name="Remove"), f"{ROWS} === 3")

        # run it against the baseline
        _press(page, "Run to the end", f"{MONTH} === '2028-12'")
        table = page.locator(".geosim-numbers tbody tr")
        table.first.wait_for()
        shown = {}
        for i in range(table.count()):
            cells = table.nth(i).locator("td").all_inner_texts()
            shown[cells[0]] = (float(cells[1]), float(cells[2]))
        assert len(shown) == 10

        # download the scenario file
        with page.expect_download() as download:
            page.get_by_role("button", name="Download my_assad_fall.yaml").click()
        scenario_file = tmp_path / download.value.suggested_filename
        download.value.save_as(scenario_file)
        assert scenario_file.name == "my_assad_fall.yaml"
        doc = yaml.safe_load(scenario_file.read_text())
        assert [e["type"] for e in doc["events"]] == ["assad_fall", "snapback", "shift"]
        assert doc["events"][0]["date"] == "2025-03" and doc["events"][2]["relation"] == "russia-iran"

        shot = tmp_path / "builder.png"
        page.screenshot(path=str(shot), full_page=True)
        print(f"screenshot: {shot}")

    # the command the page shows runs the file to the same numbers
    command = page.locator(".geosim-builder-command").inner_text().split()
    assert command[0] == "geosim" and "scenario=my_assad_fall.yaml" in command and "ensemble.replicates=20" in command
    done = _geosim(command[1:], tmp_path, tmp_path / "run")
    assert done.returncode == 0, done.stderr[-2000:]
    base = _geosim([a for a in command[1:] if not a.startswith("scenario=")], tmp_path, tmp_path / "base")
    assert base.returncode == 0, base.stderr[-2000:]
    cli, cli_base = (load(tmp_path / d / "results.nc") for d in ("run", "base"))
    assert cli.attrs["scenario"] == "my_assad_fall"
    for ds, column in ((cli, 0), (cli_base, 1)):
        end = ds["strength"].isel(time=-1).sel(channel="composite").median("replicate")
        for pair, values in shown.items():
            assert abs(float(end.sel(dyad=pair)) - values[column]) <= 0.0005 + 1e-9, (pair, column)
    assert not np.allclose([v[0] for v in shown.values()], [v[1] for v in shown.values()], atol=1e-3)

    # the refused entry, written into the file, gets the same one-line message from geosim
    doc["events"].append({"id": "set", "type": "set", "date": "2026-06", "parameter": "actors.iran.sanctions", "value": 7})
    scenario_file.write_text(yaml.safe_dump(doc, sort_keys=False))
    refused = _geosim(command[1:], tmp_path, tmp_path / "refused")
    assert refused.returncode == 2
    assert refused.stderr.strip().splitlines()[-1].endswith(message.replace("events[4]", "events[3]"))
    page.close()


def test_student_runs_a_hindcast_in_a_real_browser(server, browser):
    pytest.importorskip("pyabc")
    from sim.calendar import format_month
    from sim.dashboard import forecast

    page = browser.new_page(viewport={"width": 1500, "height": 1000})
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(server)
    run = page.locator(".geosim-hindcast-run")
    run.wait_for()
    assert "2023-12: 1 fact known" in page.locator(".geosim-cutoff").inner_text()
    run.scroll_into_view_if_needed()
    run.click()
    table = page.locator(".geosim-hindcast-table")
    table.wait_for(timeout=4 * TIMEOUT_MS)  # a small calibration and two ensembles, on a busy machine
    n_scored = sum(format_month(o.published) > "2023-12" for o in forecast.shipped_observations())
    assert table.locator("tbody tr").count() == n_scored == 15
    summary = page.locator(".geosim-hindcast-summary").inner_text()
    assert "Calibrated on 1 fact published by 2023-12, the model forecast 15 facts" in summary
    assert "Skill against the uncalibrated model" in summary
    # the three charts and the forecast fan
    page.wait_for_function("document.querySelectorAll('.geosim-figure img').length === 4")
    assert "geosim-hindcast --cutoff 2023-12" in page.locator(".geosim-command").last.inner_text()
