"""Helpers for the browser tests: Chromium as NOTES.md found it works, pages, screenshots, polls."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, Page, expect

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
PAGE_SIZE = 24  # frontend/js/results.js
INDEXED_MS = 180_000
FINISHED = ["done", "duplicate", "failed"]
PHONE_DARK: dict[str, Any] = {
    "viewport": {"width": 390, "height": 844},
    "is_mobile": True,
    "has_touch": True,
    "device_scale_factor": 2,
    "color_scheme": "dark",
}


def open_page(browser: Browser, base_url: str, **options: Any) -> tuple[Page, list[str]]:
    """A fresh context; script errors and CSP violations are collected for the caller to check."""
    options.setdefault("viewport", {"width": 1280, "height": 900})
    page = browser.new_context(base_url=base_url, **options).new_page()
    page.set_default_timeout(15_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(f"uncaught: {exc}"))
    page.on("console", lambda m: "Content Security Policy" in m.text and errors.append(m.text))
    return page, errors


def screenshot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"{name}.png")


def upload_through_page(page: Page, paths: list[Path]) -> dict[str, dict[str, str]]:
    """Choose files in the upload picker; wait until every row (old ones too) has finished."""
    before = page.get_by_test_id("upload-row").count()
    page.get_by_test_id("upload-input").set_input_files(paths)
    expect(page.get_by_test_id("upload-row")).to_have_count(before + len(paths))
    return upload_rows(page)


def upload_rows(page: Page) -> dict[str, dict[str, str]]:
    """Wait until every upload row has finished; {filename: {state, reason}}."""
    page.wait_for_function(
        "final => [...document.querySelectorAll('[data-testid=upload-row]')]"
        ".every(row => final.includes(row.dataset.state))",
        arg=FINISHED,
        timeout=INDEXED_MS,
    )
    return page.eval_on_selector_all(
        "[data-testid=upload-row]",
        "rows => Object.fromEntries(rows.map(r => [r.dataset.filename, {state: r.dataset.state,"
        " reason: r.querySelector('[data-testid=upload-reason]').textContent}]))",
    )


def wait_thumbnails(page: Page, count: int = 8) -> None:
    page.wait_for_function(
        "n => [...document.querySelectorAll('[data-testid=result-tile] img')].slice(0, n)"
        ".every(img => img.complete && img.naturalWidth > 0)",
        arg=count,
    )


def tile_ids(page: Page) -> list[str]:
    return page.eval_on_selector_all("[data-testid=result-tile]", "ts => ts.map(t => t.dataset.id)")
