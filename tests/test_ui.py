"""The Dagster UI as a person sees it: real browser, real `dagster dev`, a real sample build.

Builds the bundled sample with the `reelreason` CLI into a temporary warehouse and Dagster
instance, starts `dagster dev` on a free port, and drives the system Chromium headless through
Playwright: the global asset lineage, the `movies` group graph, and `eval_results` with its
plots. Each page is screenshotted (paths printed) and checked for real content, no error page,
decoded plot images, and a screenshot that is not blank.

Skipped when Playwright, Pillow or a Chromium binary is missing (Playwright's own browser
download is never used).
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests import scratch

sync_api = pytest.importorskip(
    "playwright.sync_api", reason="playwright is not installed (pip install -e '.[dev]')"
)
Image = pytest.importorskip("PIL.Image", reason="Pillow is not installed")

CHROMIUM = next(
    (
        path
        for name in ("chromium", "chromium-browser", "google-chrome")
        if (path := shutil.which(name))
    ),
    None,
)
if CHROMIUM is None:
    pytest.skip(
        "no Chromium on PATH (chromium, chromium-browser, google-chrome)", allow_module_level=True
    )

# Headless in a container: no sandbox, no GPU, no calls home.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]
PROJECT_ROOT = Path(__file__).resolve().parents[1]
BUILD_TIMEOUT_S = 300
SERVER_START_TIMEOUT_S = 120
SERVER_STOP_TIMEOUT_S = 30
PAGE_TIMEOUT_MS = 30_000

# Texts the Dagster UI shows instead of content when a page or a query breaks.
ERROR_MARKERS = (
    "Something went wrong",
    "An unexpected error",
    "Unexpected GraphQL error",
    "PythonError",
    "failed to load",
)
GROUPS = ("raw", "staging", "movies", "embeddings", "evaluation", "publish")

# `dagster dev` maps SIGTERM onto its SIGINT handler; started from a non-interactive shell
# SIGINT is inherited as ignored, so SIGTERM would be ignored too and nothing would ever stop
# it. This wrapper restores both before handing over to `python -m dagster`.
DAGSTER_WITH_SIGNALS = (
    "import runpy, signal, sys\n"
    "signal.signal(signal.SIGINT, signal.default_int_handler)\n"
    "signal.signal(signal.SIGTERM, signal.SIG_DFL)\n"
    "sys.argv = ['dagster', *sys.argv[1:]]\n"
    "runpy.run_module('dagster', run_name='__main__', alter_sys=True)\n"
)


def _clean_env(home: Path, warehouse: Path) -> dict[str, str]:
    """The sample profile, offline, in temporary folders; nothing from the caller's config."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("REELREASON_", "DAGSTER_", "OPENAI_", "TMDB_"))
    }
    env.update(
        DAGSTER_HOME=str(home),
        REELREASON_DAGSTER_DIR=str(home / ".dagster"),
        REELREASON_WAREHOUSE=str(warehouse),
        REELREASON_PROFILE="sample",
        REELREASON_OFFLINE="1",
    )
    return env


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _tail(path: Path, chars: int = 4000) -> str:
    return path.read_text(errors="replace")[-chars:] if path.exists() else ""


def _workspace_status(base_url: str) -> tuple[bool, str]:
    """(loaded, detail): every code location loaded, or why not (yet)."""
    query = """{ workspaceOrError { __typename ... on Workspace { locationEntries {
        name loadStatus locationOrLoadError { __typename ... on PythonError { message } } } } } }"""
    request = urllib.request.Request(
        f"{base_url}/graphql",
        data=json.dumps({"query": query}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        data = json.load(response)["data"]["workspaceOrError"]
    entries = data.get("locationEntries") or []
    for entry in entries:
        error = entry["locationOrLoadError"]
        if error and error["__typename"] == "PythonError":
            pytest.fail(f"code location {entry['name']} failed to load: {error['message']}")
    loaded = bool(entries) and all(e["loadStatus"] == "LOADED" for e in entries)
    return loaded, json.dumps(entries)


def _session_pids(sid: int) -> list[int]:
    """Live processes in session `sid` (dagster dev and everything it started)."""
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # exited while we looked
        # fields after "(comm)": state, ppid, pgrp, session, ...; zombies are already dead
        if int(fields[3]) == sid and fields[0] != "Z":
            pids.append(int(stat.parent.name))
    return pids


def _stop(process: subprocess.Popen) -> None:
    """Graceful stop (dagster dev shuts its webserver, daemon and code servers down), then
    SIGKILL whatever of its session is still there, so no process outlives the test."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=SERVER_STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(process.pid, signal.SIGKILL)  # its process group, in case it hung
    except ProcessLookupError:
        pass
    # Children that left the group stay in the session (Linux: found through /proc).
    deadline = time.monotonic() + 10
    while (leftovers := _session_pids(process.pid)) and time.monotonic() < deadline:
        for pid in leftovers:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.2)
    if process.poll() is None:
        process.kill()
    process.wait(timeout=10)
    assert not _session_pids(process.pid), "dagster dev left processes behind"


@pytest.fixture(scope="module")
def sample_instance(tmp_path_factory) -> dict[str, str]:
    """A finished sample build in a temporary warehouse and Dagster instance: the env to use."""
    root = tmp_path_factory.mktemp("ui")
    home = root / "dagster_home"
    home.mkdir()
    # The project's own instance settings (queued runs, no telemetry), storage redirected
    # through REELREASON_DAGSTER_DIR into the temporary folder (in RAM: tests/scratch.py).
    shutil.copy(PROJECT_ROOT / "dagster.yaml", home / "dagster.yaml")
    scratch.storage_dir(home / ".dagster")
    env = _clean_env(home, root / "warehouse")
    build = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "build"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT_S,
    )
    assert build.returncode == 0, f"sample build failed:\n{build.stderr[-4000:]}"
    return env


@pytest.fixture(scope="module")
def dagster_ui(sample_instance, tmp_path_factory):
    """Base URL of a `dagster dev` serving the sample build's instance; stopped afterwards."""
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    log_path = tmp_path_factory.mktemp("dagster_dev") / "dagster_dev.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-c", DAGSTER_WITH_SIGNALS, "dev"]
            + ["--host", "127.0.0.1", "--port", str(port)],
            cwd=PROJECT_ROOT,
            env=sample_instance,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own session: every child can be found and stopped
        )
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        detail = "no answer"
        while True:
            if process.poll() is not None:
                pytest.fail(f"dagster dev exited ({process.returncode}):\n{_tail(log_path)}")
            try:
                loaded, detail = _workspace_status(base_url)
                if loaded:
                    break
            except (urllib.error.URLError, ConnectionError, TimeoutError, KeyError) as exc:
                detail = repr(exc)
            if time.monotonic() > deadline:
                pytest.fail(
                    f"dagster dev not ready after {SERVER_START_TIMEOUT_S}s ({detail}):\n"
                    f"{_tail(log_path)}"
                )
            time.sleep(1)
        yield base_url
    finally:
        _stop(process)


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_ARGS,
            timeout=60_000,
        )
        try:
            yield chromium
        finally:
            chromium.close()


@contextmanager
def fresh_page(browser):
    """A fresh page that records uncaught JavaScript errors (a crashed React tree)."""
    context = browser.new_context(viewport={"width": 1600, "height": 1000})
    context.set_default_timeout(PAGE_TIMEOUT_MS)
    context.set_default_navigation_timeout(2 * PAGE_TIMEOUT_MS)
    new_page = context.new_page()
    new_page.js_errors = []
    new_page.on("pageerror", lambda exc: new_page.js_errors.append(str(exc)))
    try:
        yield new_page
    finally:
        context.close()


@pytest.fixture(scope="module")
def shots_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("ui_screenshots")


def _screenshot(target, path: Path, capsys) -> Path:
    # animations="disabled": a dialog still fading in would show the page through it.
    target.screenshot(path=str(path), animations="disabled")
    with capsys.disabled():
        print(f"\nUI screenshot: {path}")
    return path


def assert_no_error_page(page) -> None:
    body = page.inner_text("body")
    shown = [marker for marker in ERROR_MARKERS if marker.lower() in body.lower()]
    assert not shown, f"{page.url} shows an error: {shown}\n{body[:2000]}"
    assert not page.js_errors, f"{page.url} raised JavaScript errors: {page.js_errors}"


def assert_not_blank(png: Path, min_colours: int, min_ink: float, min_colourful: float = 0.0):
    """A rendered page has many colours and some ink; a blank or half-loaded one has neither.

    ink: share of pixels darker than near-white; colourful: share of strongly saturated
    pixels (the plot's bars and points, not the UI's greys)."""
    with Image.open(png) as image:
        rgb = image.convert("RGB")
        total = rgb.width * rgb.height
        colours = rgb.getcolors(maxcolors=total)
    ink = sum(n for n, (r, g, b) in colours if min(r, g, b) < 230) / total
    colourful = sum(n for n, (r, g, b) in colours if max(r, g, b) - min(r, g, b) > 60) / total
    assert len(colours) >= min_colours, f"{png}: only {len(colours)} colours"
    assert ink >= min_ink, f"{png}: only {ink:.1%} of pixels are not near-white"
    assert colourful >= min_colourful, f"{png}: only {colourful:.2%} saturated pixels"


def global_lineage_shows_every_group(dagster_ui, instance, page, shots_dir, capsys):
    page.goto(f"{dagster_ui}/asset-groups")
    graph = page.locator("svg foreignObject")
    # Group boxes on the graph itself (the sidebar lists the same names, outside the svg).
    for group in GROUPS:
        graph.get_by_text(group, exact=True).first.wait_for()
    page.wait_for_timeout(500)  # zoom-to-fit settles
    assert page.locator("svg path").count() >= len(GROUPS), "no edges drawn between groups"
    assert_no_error_page(page)
    shot = _screenshot(page, shots_dir / "global_lineage.png", capsys)
    assert_not_blank(shot, min_colours=100, min_ink=0.01)


def movies_group_graph_shows_materialized_assets(dagster_ui, instance, page, shots_dir, capsys):
    # Tall enough that the fitted graph keeps its labels (the UI hides them when zoomed out).
    page.set_viewport_size({"width": 1600, "height": 1400})
    page.goto(f"{dagster_ui}/locations/reelreason/asset-groups/movies")
    graph = page.locator("svg foreignObject")
    for asset in ("movies", "movie_xref"):
        graph.get_by_text(asset, exact=True).first.wait_for()
    # Upstream and downstream assets from other groups appear as links on the same graph.
    graph.get_by_text("ml1m_movies", exact=True).first.wait_for()
    graph.get_by_text("serving_bundle", exact=True).first.wait_for()
    # The build happened: the nodes carry its materialization, not "Never materialized".
    graph.get_by_text("Materialized", exact=True).first.wait_for()
    assert graph.get_by_text("Never materialized").count() == 0
    assert graph.get_by_text("Failed", exact=True).count() == 0
    page.wait_for_timeout(500)
    assert_no_error_page(page)
    shot = _screenshot(page, shots_dir / "movies_group_graph.png", capsys)
    assert_not_blank(shot, min_colours=100, min_ink=0.01)
    # The graph stops zooming out while labels are legible, so with every downstream link
    # part of the group lies below the window (drawn when scrolled to); the list has it all.
    page.get_by_role("tab", name="List").click()
    assets = ("movies", "movie_texts", "movie_xref", "tmdb_movies", "movie_merge_review")
    for asset in assets:
        page.get_by_text(asset, exact=True).first.wait_for()
    # Each row's status arrives by its own query: wait until all have.
    sync_api.expect(page.get_by_text(re.compile(r"^Materialized"))).to_have_count(len(assets))
    assert page.get_by_text("Never materialized").count() == 0


def eval_results_overview(dagster_ui, instance, page, shots_dir, capsys):
    page.goto(f"{dagster_ui}/assets/eval_results")
    page.get_by_text("Latest materialization").first.wait_for()
    page.get_by_text("leave-last-out", exact=False).first.wait_for()  # the asset's description
    page.get_by_text("build_id", exact=True).first.wait_for()  # its column schema
    assert_no_error_page(page)
    shot = _screenshot(page, shots_dir / "eval_results_overview.png", capsys)
    assert_not_blank(shot, min_colours=100, min_ink=0.01)


def eval_results_plots_render(dagster_ui, instance, page, shots_dir, capsys):
    # The PNGs the build wrote beside the warehouse: what the UI must show, byte for byte.
    plots = sorted(Path(instance["REELREASON_WAREHOUSE"]).glob("plots/*/*.png"))
    # (no alpha_curves: the sample has no validation user with both likes and words)
    wanted = {"st_metrics", "st_taste_map", "tuned_metrics", "tuned_taste_map"}
    assert {p.stem for p in plots} >= wanted, plots
    page.goto(f"{dagster_ui}/assets/eval_results?view=events")
    page.get_by_text("Materialized in run").first.wait_for()
    for plot in plots:
        # Markdown metadata sits behind a "[Show Markdown]" link that opens a dialog.
        row = page.locator("tr", has=page.get_by_text(plot.stem, exact=True))
        row.get_by_text("[Show Markdown]").click()
        dialog = page.get_by_role("dialog")
        image = dialog.locator("img")
        image.wait_for()
        page.wait_for_function(
            "img => img.complete && img.naturalWidth > 0", arg=image.element_handle()
        )
        src, width, height = image.evaluate("i => [i.src, i.naturalWidth, i.naturalHeight]")
        assert src == "data:image/png;base64," + base64.b64encode(plot.read_bytes()).decode()
        with Image.open(plot) as expected:
            assert (width, height) == expected.size
        assert_no_error_page(page)
        shot = _screenshot(page, shots_dir / f"eval_results_{plot.stem}.png", capsys)
        assert_not_blank(shot, min_colours=100, min_ink=0.05)
        plot_shot = _screenshot(image, shots_dir / f"eval_results_{plot.stem}_plot.png", capsys)
        assert_not_blank(plot_shot, min_colours=20, min_ink=0.03, min_colourful=0.002)
        dialog.get_by_role("button", name="Close").click()
        dialog.wait_for(state="hidden")


SCREENS = (
    global_lineage_shows_every_group,
    movies_group_graph_shows_materialized_assets,
    eval_results_overview,
    eval_results_plots_render,
)


def test_the_ui_shows_the_build(dagster_ui, sample_instance, browser, shots_dir, capsys, subtests):
    """Each screen on a fresh page, reported on its own (a subtest), all in one test: the
    instance the UI serves is then built once, where tests split between workers built it
    on each (~75 s apiece)."""
    for screen in SCREENS:
        with subtests.test(screen.__name__), fresh_page(browser) as page:
            screen(dagster_ui, sample_instance, page, shots_dir, capsys)
