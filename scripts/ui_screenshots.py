"""Screenshots for the docs: the `eval_results` Plots tab charting HR@10 over three builds,
and `movies`' column schema with the descriptions from its model.

    .venv/bin/python scripts/ui_screenshots.py [--out docs/screenshots]

Builds the sample three times (evaluation seeds 13, 14, 15, so the series moves) into a
temporary warehouse and Dagster instance, starts `dagster dev`, and drives the system
Chromium headless through Playwright.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.cli_build import cli_env, run_build  # noqa: E402
from tests.test_ui import CHROMIUM, CHROMIUM_ARGS, DAGSTER_WITH_SIGNALS, _free_port  # noqa: E402


def wait_for(url: str, process: subprocess.Popen, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit("dagster dev exited")
        try:
            urllib.request.urlopen(f"{url}/server_info", timeout=5)
            return
        except OSError:
            time.sleep(1)
    raise SystemExit("dagster dev did not start")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for seed in (13, 14, 15):
            code, _, err = run_build(tmp, {"REELREASON_EVAL_SEED": str(seed)})
            if code:
                raise SystemExit(err[-3000:])
            print(f"build with evaluation seed {seed}: done", flush=True)
        port = _free_port()
        url = f"http://127.0.0.1:{port}"
        log = open(tmp / "dagster_dev.log", "wb")  # noqa: SIM115 - closed below
        server = subprocess.Popen(
            [sys.executable, "-c", DAGSTER_WITH_SIGNALS, "dev", "--host", "127.0.0.1"]
            + ["--port", str(port)],
            cwd=ROOT,
            env=cli_env(tmp),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            wait_for(url, server)
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=CHROMIUM,
                    headless=True,
                    args=CHROMIUM_ARGS,
                )
                page = browser.new_page(viewport={"width": 1600, "height": 1400})
                page.set_default_timeout(60_000)
                for asset, toggle, name in (
                    ("eval_results", "Plots", "eval_results_plots.png"),
                    ("movies", None, "movies_column_schema.png"),
                ):
                    page.goto(f"{url}/assets/{asset}")
                    page.get_by_text("Metadata", exact=True).first.wait_for()
                    if toggle:  # the Metadata section's Table | Plots switch
                        page.get_by_text(toggle, exact=True).last.click()
                    page.wait_for_load_state("networkidle")
                    time.sleep(5)  # charts and tables render after the data arrives
                    page.screenshot(path=str(out / name), full_page=True)
                    text = " ".join(page.inner_text("body").split())
                    print(f"{name}: {text[:400]}", flush=True)
                page.goto(f"{url}/locations/reelreason/asset-groups/movies")
                page.wait_for_load_state("networkidle")
                time.sleep(5)
                page.screenshot(path=str(out / "movies_group_graph.png"), full_page=True)
                browser.close()
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
            log.close()
    for name in ("eval_results_plots.png", "movies_column_schema.png"):
        print(out / name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
