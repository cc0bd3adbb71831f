"""Signing in on the page, in a real browser against the real stack (tests/e2e/conftest.py):
the sign-in gate of a private library, controls that follow the role, the session's expiry and
renewal, and what the page says when the server refuses.
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.browser import (
    SEED,
    SESSION_TTL_S,
    Account,
    Library,
    drag_enter,
    drop,
    file_transfer,
    image_id_of,
    new_account,
    save_library,
    screenshot,
    sign_in,
    upload_rows,
    upload_through_page,
)
from tests.support.processes import wait_until
from tests.support.stack import Stack

pytestmark = pytest.mark.integration


def test_private_library_shows_only_the_sign_in_form_to_a_stranger(anonymous: Page) -> None:
    asked: list[str] = []
    anonymous.on("request", lambda r: "/api/v1/image" in r.url and asked.append(r.url))
    anonymous.goto("/?q=a+red+circle")
    expect(anonymous.get_by_test_id("signin-panel")).to_be_visible()
    expect(anonymous.get_by_test_id("signin-username")).to_be_focused()
    expect(anonymous.get_by_test_id("sign-in-button")).to_be_visible()
    for hidden in ("search-form", "results-grid", "upload-button", "url-button", "account"):
        expect(anonymous.get_by_test_id(hidden)).to_be_hidden()
    anonymous.get_by_test_id("home-link").click()  # in-page navigation renders nothing either
    expect(anonymous).to_have_url(re.compile(r"/$"))
    with anonymous.expect_request("**/api/v1/auth/me"):  # a request after the click's, if any
        anonymous.evaluate("fetch('/api/v1/auth/me')")
    assert not asked, "the page searched without a session"
    assert anonymous.request.get("/api/v1/auth/me").json()["authenticated"] is False
    screenshot(anonymous, "sign-in")


def test_admin_signs_in_uploads_and_sign_out_hides_the_upload_controls(
    anonymous: Page, stack: Stack, library: Library, tmp_path: Path
) -> None:
    page, admin = anonymous, Account("admin", stack.admin_password, "admin")
    new = save_library(tmp_path, 1, SEED + 3)
    library.labels.update(new.labels)
    [picture] = new.paths
    page.goto("/")
    sign_in(page, admin)
    expect(page.get_by_test_id("signin-panel")).to_be_hidden()
    expect(page.get_by_test_id("sign-out-button")).to_be_visible()
    assert upload_through_page(page, [picture]) == {picture.name: {"state": "done", "reason": ""}}
    tile = page.locator(f'[data-testid=result-tile][data-id="{image_id_of(picture)}"]')
    expect(tile).to_be_visible(timeout=30_000)  # the library re-ran itself when the job finished
    expect(tile.locator("img")).to_have_attribute("src", re.compile(r"/thumb\?exp=\d+&sig="))
    tile.locator("img").evaluate("img => img.decode()")  # the signed thumbnail loads
    screenshot(page, "signed-in-admin")

    page.get_by_test_id("sign-out-button").click()
    expect(page.get_by_test_id("signin-panel")).to_be_visible()
    expect(page.get_by_test_id("signin-notice")).to_be_hidden()  # signing out is no expiry
    for hidden in ("upload-button", "url-button", "upload-panel", "account", "results-grid"):
        expect(page.get_by_test_id(hidden)).to_be_hidden()
    expect(page.get_by_test_id("sign-in-button")).to_be_visible()
    assert page.request.get("/api/v1/auth/me").json()["authenticated"] is False
    page.reload()
    expect(page.get_by_test_id("signin-panel")).to_be_visible()


def test_viewer_sees_no_upload_delete_or_tag_controls(
    anonymous: Page, stack: Stack, library: Library, tmp_path: Path
) -> None:
    page, viewer = anonymous, new_account(stack, "viewer")
    tag, image_id = f"e2e-{secrets.token_hex(3)}", image_id_of(library.paths[0])
    with stack.client("searchapi") as api:  # the library lists from the catalog: no delay
        assert api.patch(f"/api/v1/image/{image_id}/tags", json={"add": [tag]}).is_success
    page.goto(f"/?tag={tag}")
    sign_in(page, viewer)
    tile = page.get_by_test_id("result-tile")
    expect(tile).to_have_attribute("data-id", image_id)
    for hidden in ("upload-button", "url-button"):
        expect(page.get_by_test_id(hidden)).to_be_hidden()
    tile.click()
    dialog = page.get_by_test_id("viewer")
    expect(dialog.get_by_role("button", name=f"Show images tagged {tag}")).to_be_visible()
    expect(dialog.get_by_test_id("similar-button")).to_be_visible()
    for hidden in ("delete-button", "tag-add-form"):
        expect(dialog.get_by_test_id(hidden)).to_be_hidden()
    remove = dialog.get_by_role("button", name=f"Remove the tag {tag}", include_hidden=True)
    expect(remove).to_have_count(1)  # rendered, and hidden from this role
    expect(remove).to_be_hidden()
    screenshot(page, "viewer-role")
    page.keyboard.press("Escape")

    # A file dropped on the page is no upload for a viewer (the search box still takes one).
    transfer = file_transfer(page, [library.paths[1]])
    grid = page.get_by_test_id("results-grid")
    drag_enter(grid, transfer)
    expect(page.get_by_test_id("drop-overlay")).to_be_hidden()
    drop(grid, transfer)
    drag_enter(page.get_by_test_id("search-input"), transfer)
    drop(page.get_by_test_id("search-input"), transfer)
    expect(page.get_by_test_id("results-context")).to_contain_text(library.paths[1].name)
    expect(page.get_by_test_id("upload-row")).to_have_count(0)
    expect(page.get_by_test_id("upload-panel")).to_be_hidden()


def test_editor_tags_and_deletes_an_image_in_the_viewer(
    page: Page, library: Library, tmp_path: Path
) -> None:
    new = save_library(tmp_path, 1, SEED + 4)
    library.labels.update(new.labels)
    [picture] = new.paths
    image_id, tag = image_id_of(picture), f"e2e-{secrets.token_hex(3)}"
    page.goto("/")
    upload_through_page(page, [picture])
    wait_until(lambda: page.request.get(f"/api/v1/image/{image_id}").ok, 10, "searchapi to know it")
    page.goto(f"/?image={image_id}")
    dialog = page.get_by_test_id("viewer")
    expect(dialog.get_by_test_id("viewer-title")).to_have_text(picture.name)

    dialog.get_by_test_id("tag-add-input").fill(tag.upper())
    dialog.get_by_test_id("tag-add-input").press("Enter")
    expect(dialog.get_by_role("button", name=f"Show images tagged {tag}")).to_be_visible()
    assert page.request.get(f"/api/v1/image/{image_id}").json()["tags"] == [tag]
    screenshot(page, "viewer-editor")
    dialog.get_by_role("button", name=f"Remove the tag {tag}").click()
    expect(dialog.get_by_test_id("viewer-tags")).to_be_hidden()
    assert page.request.get(f"/api/v1/image/{image_id}").json()["tags"] == []

    page.once("dialog", lambda confirm: confirm.accept())
    dialog.get_by_test_id("delete-button").click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_test_id("viewer-edit-error")).to_be_hidden()
    assert page.request.get(f"/api/v1/image/{image_id}").status == 404
    expect(page.locator(f'[data-testid=result-tile][data-id="{image_id}"]')).to_have_count(0)


def test_link_dialog_checks_the_address_and_the_server_says_why_it_refuses(
    page: Page, library: Library
) -> None:
    page.goto("/")
    button, dialog = page.get_by_test_id("url-button"), page.get_by_test_id("url-dialog")
    address = dialog.get_by_test_id("url-input")
    button.click()
    expect(address).to_be_focused()
    address.fill("ftp://example.org/picture.png")
    address.press("Enter")
    expect(dialog.get_by_test_id("url-error")).to_have_text("That is not an http or https address.")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(button).to_be_focused()
    expect(page.get_by_test_id("upload-row")).to_have_count(0)
    # The page lets a loopback address through; ingestapi (public hosts only) refuses it.
    link = "http://127.0.0.1:9/picture.png"
    button.click()
    address.fill(link)
    dialog.get_by_test_id("url-submit").click()
    expect(dialog).to_be_hidden()
    row = upload_rows(page)[link]
    assert row["state"] == "failed" and "not a public address" in row["reason"], row


def test_wrong_password_shows_the_server_s_reason(anonymous: Page, editor: Account) -> None:
    anonymous.goto("/")
    sign_in_form = anonymous.get_by_test_id("signin-panel")
    anonymous.get_by_test_id("signin-username").fill(editor.name)
    anonymous.get_by_test_id("signin-password").fill(editor.password + "-not")
    anonymous.get_by_test_id("signin-submit").click()
    expect(anonymous.get_by_test_id("signin-error")).to_have_text(
        re.compile(r"^wrong username or password")
    )
    expect(anonymous.get_by_test_id("signin-password")).to_be_focused()
    expect(sign_in_form).to_be_visible()
    expect(anonymous.get_by_test_id("account")).to_be_hidden()
    screenshot(anonymous, "sign-in-error")


def test_too_many_sign_ins_say_when_to_try_again(anonymous: Page, editor: Account) -> None:
    # The limit itself is the API's (its own tests); here: the page reads the answer it gives.
    problem = {
        "type": "urn:imagesearch:problem:rate-limited",
        "title": "Too many requests",
        "status": 429,
        "detail": "too many sign-in attempts",
    }
    anonymous.route(
        "**/api/v1/auth/login",
        lambda route: route.fulfill(status=429, json=problem, headers={"Retry-After": "42"}),
    )
    anonymous.goto("/")
    anonymous.get_by_test_id("signin-username").fill(editor.name)
    anonymous.get_by_test_id("signin-password").fill(editor.password)
    anonymous.get_by_test_id("signin-submit").click()
    expect(anonymous.get_by_test_id("signin-error")).to_have_text(
        "too many sign-in attempts; try again in 42 seconds"
    )


def test_expired_session_asks_to_sign_in_again_and_keeps_the_search(
    page: Page, editor: Account, library: Library
) -> None:
    page.goto("/")
    expect(page.get_by_test_id("result-tile").first).to_be_visible()
    box = page.get_by_test_id("search-input")
    box.fill("a red circ")  # searched as typed, with the session still alive
    expect(page).to_have_url(re.compile(r"/\?q=a\+red\+circ$"))
    page.wait_for_load_state("networkidle")  # the results' own requests (pages, thumbnails) done
    page.context.clear_cookies(name="isk_session")  # as the browser does when it expires
    box.press_sequentially("le")  # the next search meets the expiry
    expect(page.get_by_test_id("signin-notice")).to_have_text(
        "Your session expired — sign in again."
    )
    expect(page.get_by_test_id("signin-password")).to_be_focused()  # the username is kept
    expect(page.get_by_test_id("signin-username")).to_have_value(editor.name)
    for hidden in ("upload-button", "results-grid", "search-form"):
        expect(page.get_by_test_id(hidden)).to_be_hidden()
    screenshot(page, "session-expired")
    sign_in(page, editor)
    expect(box).to_have_value("a red circle")
    expect(page.get_by_test_id("result-tile").first).to_have_attribute(
        "data-id", library.ids_of("red circle")
    )


def test_interaction_past_half_the_session_renews_it(page: Page, library: Library) -> None:
    renewals: list[str] = []
    page.on("request", lambda r: r.url.endswith("/api/v1/auth/me") and renewals.append(r.url))
    page.goto("/")
    expect(page.get_by_test_id("result-tile").first).to_be_visible()
    expires = datetime.fromisoformat(page.request.get("/api/v1/auth/me").json()["expires_at"])
    loaded = len(renewals)  # the page's own question on load
    toggle = page.get_by_test_id("filters-toggle")
    toggle.click()  # early in the session: nothing to renew
    with page.expect_request("**/api/v1/image/search?*"):
        page.get_by_test_id("search-input").fill("a red circle")  # after the click, in order
    assert len(renewals) == loaded
    page.clock.set_system_time(expires - timedelta(seconds=SESSION_TTL_S / 4))
    with page.expect_response("**/api/v1/auth/me") as answer:
        toggle.click()
    assert answer.value.json()["authenticated"] is True
    expect(page.get_by_test_id("account-name")).to_be_visible()
