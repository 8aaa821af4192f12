"""A reader's view: headless Chromium opens the start page from `md5steg serve` and clicks to an ending."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from story_helpers import copy_example

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
CLI = [sys.executable, "-c", "from md5steg.cli import main; main()"]
# Link texts to click, page by page: start -> lighthouse -> stairs (twice: it links to itself) -> lamp room -> light.
ROUTE = ["lighthouse", "stairs", "stairs", "lamp-room", "ending-light"]

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright (python) is not installed")
if not Path(CHROMIUM).exists():
    pytest.skip(f"{CHROMIUM} is missing (Debian's chromium package)", allow_module_level=True)


def test_reader_clicks_from_the_start_page_to_the_good_ending(
    start_md5bin_server: Any, tmp_path: Path
) -> None:
    folder = copy_example(tmp_path / "story")
    db_path = tmp_path / "md5bin.sqlite3"
    base_url, _ = start_md5bin_server(tmp_path, id_length=4, db_path=db_path)
    # Publish into the store the server is serving, with links on the server's address.
    published = subprocess.run(
        [*CLI, "publish", str(folder), "--db", str(db_path), "--base-url", base_url, "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert published.returncode == 0, published.stderr
    urls = json.loads(published.stdout)["pages"]
    screenshot = Path(os.environ.get("MD5STEG_STORY_SCREENSHOT", tmp_path / "story.png"))
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        try:
            page = browser.new_page(viewport={"width": 860, "height": 470})
            page.goto(urls["start"])
            assert "Keeper of the Last Light" in page.content()
            page.screenshot(path=str(screenshot))
            for name in ROUTE:
                with page.expect_navigation():
                    page.locator(f'a[href="{urls[name]}"]').first.click()
                assert page.url == urls[name]
            assert "THE END (the good one)" in page.inner_text("pre")
            page.screenshot(path=str(tmp_path / "ending.png"))
        finally:
            browser.close()
    assert screenshot.stat().st_size > 1000
    assert (tmp_path / "ending.png").stat().st_size > 1000
