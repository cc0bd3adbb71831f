"""Helpers for the browser tests: Chromium as it runs here, pages, signing in, screenshots."""

from __future__ import annotations

import base64
import hashlib
import mimetypes
import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, JSHandle, Locator, Page, expect

from imagesearch_samples.shapes import sample_spec, save_samples
from tests.support.stack import Stack

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
FINISHED = ["done", "duplicate", "quarantined", "failed"]
PHONE_DARK: dict[str, Any] = {
    "viewport": {"width": 390, "height": 844},
    "is_mobile": True,
    "has_touch": True,
    "device_scale_factor": 2,
    "color_scheme": "dark",
}


SAMPLES, SEED = 48, 9107  # two pictures per colour x shape class
# Long enough for a whole test package on one sign-in (renewal is tested with the page's clock).
SESSION_TTL_S = 3600


def open_page(browser: Browser, base_url: str, **options: Any) -> tuple[Page, list[str]]:
    """A fresh context; script errors and CSP violations are collected for the caller to check."""
    options.setdefault("viewport", {"width": 1280, "height": 900})
    page = browser.new_context(base_url=base_url, **options).new_page()
    page.set_default_timeout(15_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(f"uncaught: {exc}"))
    page.on("console", lambda m: "Content Security Policy" in m.text and errors.append(m.text))
    return page, errors


@dataclass(frozen=True)
class Account:
    """A user of the stack, who signs in through the page's form."""

    name: str
    password: str
    role: str


def sign_in(page: Page, account: Account) -> None:
    """Fill in the sign-in form as a person does (opening it from the header if it is not on
    show); returns once the header names the user."""
    expect(page.get_by_test_id("sign-in-button")).to_be_visible()  # /auth/me has answered
    if not page.get_by_test_id("signin-panel").is_visible():
        page.get_by_test_id("sign-in-button").click()
    page.get_by_test_id("signin-username").fill(account.name)
    page.get_by_test_id("signin-password").fill(account.password)
    page.get_by_test_id("signin-submit").click()
    expect(page.get_by_test_id("account-name")).to_have_text(account.name)
    expect(page.get_by_test_id("account-role")).to_have_text(account.role)


def csrf_headers(page: Page) -> dict[str, str]:
    """What the page adds to an unsafe request: the ``isk_csrf`` cookie's value as a header."""
    [token] = [c["value"] for c in page.context.cookies() if c["name"] == "isk_csrf"]
    return {"X-CSRF-Token": token}


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


def image_id_of(path: Path) -> str:
    """The id the system gives a file: the SHA-256 of its bytes."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


@dataclass
class Library:
    """Shape pictures saved under meaningless names, labelled by image id (never by filename)."""

    paths: list[Path]
    labels: dict[str, str]  # image id -> "red circle"
    rows: dict[str, dict[str, str]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    def ids_of(self, label: str) -> re.Pattern[str]:
        """Matches the id of any picture of that class, for ``expect(tile).to_have_attribute``."""
        ids = [image_id for image_id, known in self.labels.items() if known == label]
        assert ids, f"no picture of {label!r} in the library"
        return re.compile(f"^({'|'.join(ids)})$")

    def path_of(self, label: str) -> Path:
        return next(p for p in self.paths if self.labels[image_id_of(p)] == label)


def save_library(folder: Path, count: int, seed: int) -> Library:
    """``count`` shape pictures as PNGs named ``<random hex>.png``."""
    paths, labels = [], {}
    for i, saved in enumerate(save_samples(folder, count, seed, "PNG")):
        path = saved.rename(folder / f"{secrets.token_hex(6)}.png")
        paths.append(path)
        labels[image_id_of(path)] = sample_spec(i).label
    return Library(paths, labels)


_FILES_IN_A_TRANSFER = """files => {
  const transfer = new DataTransfer();
  for (const { name, type, data } of files) {
    const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
    transfer.items.add(new File([bytes], name, { type }));
  }
  return transfer;
}"""


def file_transfer(page: Page, paths: list[Path]) -> JSHandle:
    """A DataTransfer holding these files, as the browser builds one for a drag from the desktop."""
    files = [
        {
            "name": path.name,
            "type": mimetypes.guess_type(path.name)[0] or "",
            "data": base64.b64encode(path.read_bytes()).decode(),
        }
        for path in paths
    ]
    return page.evaluate_handle(_FILES_IN_A_TRANSFER, files)


def drag_enter(target: Locator, transfer: JSHandle) -> None:
    """The first half of a drag from the desktop: the files arrive over ``target``."""
    for event in ("dragenter", "dragover"):
        target.dispatch_event(event, {"dataTransfer": transfer})


def drop(target: Locator, transfer: JSHandle) -> None:
    target.dispatch_event("drop", {"dataTransfer": transfer})


def new_account(stack: Stack, role: str) -> Account:
    account = Account(f"e2e-{role}-{secrets.token_hex(3)}", secrets.token_urlsafe(16), role)
    stack.add_user(account.name, account.password, role)
    return account
