"""The browser tests' stack and pages, shared by every module of this directory: one stack
(Nginx, ingestapi, searchapi, cdnapi, a worker, the tiny shapes model) with private reads
(``AUTH__PUBLIC_READ=false``: the page signs in, byte links are signed), one browser, and a
library of shape pictures uploaded once through the page by an editor signed in once.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, StorageState, expect, sync_playwright

from tests.e2e.browser import (
    CHROMIUM,
    LAUNCH_ARGS,
    PAGE_SIZE,
    SAMPLES,
    SEED,
    SESSION_TTL_S,
    Account,
    Library,
    new_account,
    open_page,
    save_library,
    screenshot,
    sign_in,
    upload_through_page,
    wait_thumbnails,
)
from tests.support.stack import Stack


@pytest.fixture(scope="package")
def stack(stack_factory: Any) -> Iterator[Stack]:
    """The whole system behind Nginx with private reads (tests.support.stack)."""
    stack: Stack = stack_factory("fd-test-browser", public_read=False)
    stack.start_system(AUTH__SESSION_TTL_S=str(SESSION_TTL_S))
    yield stack
    stack.stop_all()


@pytest.fixture(scope="package")
def front_door(stack: Stack) -> str:
    return stack.urls["frontdoor"]


@pytest.fixture(scope="package")
def editor(stack: Stack) -> Account:
    return new_account(stack, "editor")


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    assert CHROMIUM.exists(), "Debian's chromium is missing (make test installs it)"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="package")
def signed_in(browser: Browser, front_door: str, editor: Account) -> StorageState:
    """The editor's session (cookies), signed in once through the form, for every page to use."""
    page, errors = open_page(browser, front_door)
    page.goto("/")
    sign_in(page, editor)
    state = page.context.storage_state()
    page.context.close()
    assert not errors, errors
    return state


@pytest.fixture
def page(browser: Browser, front_door: str, signed_in: StorageState) -> Iterator[Page]:
    page, errors = open_page(browser, front_door, storage_state=signed_in)
    yield page
    page.context.close()
    assert not errors, errors


@pytest.fixture
def anonymous(browser: Browser, front_door: str) -> Iterator[Page]:
    """A page of a browser that has never signed in."""
    page, errors = open_page(browser, front_door)
    yield page
    page.context.close()
    assert not errors, errors


@pytest.fixture(scope="package")
def library(
    browser: Browser,
    front_door: str,
    signed_in: StorageState,
    tmp_path_factory: pytest.TempPathFactory,
) -> Library:
    """Shape pictures uploaded through the page (file picker), waited for until indexed."""
    library = save_library(tmp_path_factory.mktemp("shapes"), SAMPLES, SEED)
    page, library.errors = open_page(browser, front_door, storage_state=signed_in)
    page.goto("/")
    library.rows = upload_through_page(page, library.paths)
    # The library view re-ran itself when the jobs finished: no reload needed to see them.
    expect(page.get_by_test_id("result-tile").nth(PAGE_SIZE - 1)).to_be_attached(timeout=30_000)
    wait_thumbnails(page)
    screenshot(page, "upload-panel")
    page.context.close()
    return library
