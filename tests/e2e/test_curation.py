"""Curating the library on the page, in a real browser against the real stack
(tests/e2e/conftest.py, reads private): how many hits of a search match, the duplicates view and
its deletes by role, and the viewer's "Download as…" (a variant rendered by the worker) and
"Copy link" (a signed link that works without a session).
"""

from __future__ import annotations

import re
import secrets
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from PIL import Image
from playwright.sync_api import Locator, Page, Route, expect

from imagesearch_samples.shapes import sample_spec
from tests.e2e.browser import (
    PAGE_SIZE,
    Library,
    image_id_of,
    new_account,
    screenshot,
    sign_in,
    upload_through_page,
)
from tests.support.families import family
from tests.support.processes import wait_until
from tests.support.stack import Stack

pytestmark = pytest.mark.integration

VARIANT_MS = 90_000  # the worker renders it after whatever else is queued
FAMILY_SEED = 4417


def grid_order(page: Page) -> list[str]:
    """The grid top to bottom: each tile's data-match ("true"/"false"), "|" for the separator."""
    return page.eval_on_selector_all(
        "[data-testid=results-grid] > li",
        "items => items.map(li => li.dataset.testid === 'results-divider' ? '|'"
        " : li.querySelector('[data-testid=result-tile]').dataset.match)",
    )


def test_search_counts_its_matches_and_puts_weaker_hits_under_a_separator(
    page: Page, library: Library
) -> None:
    answer = page.request.get(f"/api/v1/image/search?text=a+red+circle&limit={PAGE_SIZE}").json()
    matches = answer["matches"]
    assert 1 <= matches < PAGE_SIZE, answer["matches"]
    page.goto("/?q=a+red+circle")
    noun = "match" if matches == 1 else "matches"
    expect(page.get_by_test_id("results-status")).to_have_text(
        f"{matches} {noun} for “a red circle”"
    )
    tiles = page.get_by_test_id("result-tile")
    expect(tiles.first).to_have_attribute("data-id", library.ids_of("red circle"))
    expect(page.get_by_test_id("results-divider")).to_have_text("Less close")
    expect(page.locator("[data-testid=result-tile][data-match=true]")).to_have_count(matches)
    order = grid_order(page)
    weaker = len(order) - matches - 1
    assert weaker > 0 and order == ["true"] * matches + ["|"] + ["false"] * weaker, order
    opacity = tiles.nth(matches).evaluate("tile => Number(getComputedStyle(tile).opacity)")
    assert opacity < 1, "a weaker hit looks like a match"
    screenshot(page, "matches")


def test_only_weaker_hits_say_no_close_matches(page: Page, library: Library) -> None:
    def weaker_only(route: Route) -> None:
        answer = route.fetch().json()
        answer["matches"] = 0
        for hit in answer["results"]:
            hit["match"] = False
        route.fulfill(json=answer)

    page.route("**/api/v1/image/search?*", weaker_only)
    page.goto("/?q=a+blue+star")
    expect(page.get_by_test_id("results-status")).to_have_text("No close matches for “a blue star”")
    last = page.get_by_test_id("result-tile").nth(PAGE_SIZE - 1)
    expect(last).to_have_attribute("data-match", "false")
    order = grid_order(page)  # the next page may have come too: weaker hits all the same
    assert order[0] == "|" and set(order[1:]) == {"false"}, order
    page.unroute_all(behavior="wait")  # a page still being fetched must not outlive the test


def upload_with_copy(page: Page, folder: Path) -> tuple[str, str, dict[str, Path]]:
    """A picture and its JPEG (quality 60) copy, uploaded: (best id, extra id, {id: path}); the
    best copy is the larger one, in pixels and then bytes, as the duplicates answer ranks them."""
    made = {c.kind: c for c in family(0, sample_spec(7), FAMILY_SEED)}
    paths = {}
    for kind in ("original", "reencoded"):
        path = folder / f"{secrets.token_hex(6)}{Path(made[kind].filename).suffix}"
        path.write_bytes(made[kind].data)
        paths[image_id_of(path)] = path

    def size(image_id: str) -> tuple[int, int]:
        with Image.open(paths[image_id]) as image:
            return image.width * image.height, paths[image_id].stat().st_size

    rows = upload_through_page(page, list(paths.values()))
    assert {row["state"] for row in rows.values()} == {"done"}, rows
    best, extra = sorted(paths, key=size, reverse=True)
    return best, extra, paths


def group_of(page: Page, image_id: str) -> Locator:
    copy = page.locator(f'[data-testid=duplicate-copy][data-id="{image_id}"]')
    return page.get_by_test_id("duplicate-group").filter(has=copy)


def test_duplicates_view_groups_a_copy_and_an_editor_deletes_the_extra_one(
    page: Page, anonymous: Page, stack: Stack, library: Library, tmp_path: Path
) -> None:
    page.goto("/")
    best, extra, paths = upload_with_copy(page, tmp_path)
    listed = f"/api/v1/image/{best}/duplicates"
    wait_until(lambda: page.request.get(listed).json().get("duplicates"), 10, "the copy listed")

    # A viewer reviews the group, with no delete control, and downloads only the original.
    viewer = new_account(stack, "viewer")
    anonymous.goto("/?view=duplicates")
    sign_in(anonymous, viewer)
    group = group_of(anonymous, best)
    expect(group.get_by_test_id("duplicate-copy")).to_have_count(2)
    expect(group.get_by_role("button", name=re.compile(r"^Delete"))).to_have_count(0)
    group.get_by_role("button", name=f"Open {paths[best].name}").click()
    dialog = anonymous.get_by_test_id("viewer")
    dialog.get_by_test_id("download-button").click()
    expect(dialog.get_by_test_id("download-original")).to_be_focused()
    expect(dialog.get_by_test_id("download-preset")).to_have_count(4)  # rendered, not shown
    for preset in dialog.get_by_test_id("download-preset").all():
        expect(preset).to_be_hidden()
    anonymous.keyboard.press("Escape")  # closes the menu, not the viewer
    expect(dialog.get_by_test_id("download-button")).to_be_focused()
    expect(dialog).to_be_visible()

    # The editor finds it from the header, the largest copy first, and deletes the other one.
    page.get_by_test_id("nav-duplicates").click()
    expect(page).to_have_url(re.compile(r"/\?view=duplicates$"))
    group = group_of(page, best)
    copies = group.get_by_test_id("duplicate-copy")
    expect(copies).to_have_count(2)
    expect(copies.first).to_have_attribute("data-id", best)
    expect(copies.first.get_by_test_id("best-copy")).to_have_text("Best copy")
    for copy, image_id in ((copies.first, best), (copies.nth(1), extra)):
        fmt = "PNG" if paths[image_id].suffix == ".png" else "JPEG"
        expect(copy).to_contain_text(f"384 × 288 px · {fmt} · ")
    screenshot(page, "duplicates")
    page.once("dialog", lambda confirm: confirm.accept())
    group.get_by_role("button", name="Delete 1 extra copy").click()
    expect(group).to_have_count(0)
    expect(page.get_by_test_id("toast").last).to_contain_text("Deleted 1 copy.")
    assert page.request.get(f"/api/v1/image/{extra}").status == 404
    assert page.request.get(f"/api/v1/image/{best}").ok
    assert page.request.get(listed).json()["duplicates"] == []
    groups = page.request.get("/api/v1/image/duplicates?limit=100").json()["groups"]
    assert not [g for g in groups if {best, extra} & {i["id"] for i in g["images"]}], groups


def test_viewer_downloads_a_webp_variant_and_copies_a_link_that_fetches_the_bytes(
    page: Page, library: Library, front_door: str
) -> None:
    picture = library.paths[0]
    image_id = image_id_of(picture)
    page.goto(f"/?image={image_id}")
    dialog = page.get_by_test_id("viewer")
    expect(dialog.get_by_test_id("viewer-title")).to_have_text(picture.name)
    dialog.get_by_test_id("download-button").click()
    status = dialog.get_by_test_id("download-status")
    with page.expect_download(timeout=VARIANT_MS) as started:
        dialog.get_by_role("button", name="WebP, 800 × 600 (cropped)").click()
        expect(status).to_contain_text("Preparing WebP, 800 × 600 (cropped)")
    download = started.value
    assert download.suggested_filename == f"{picture.stem}-800x600.webp"
    with Image.open(download.path()) as image:
        assert (image.format, image.size) == ("WEBP", (800, 600))
    expect(status).to_have_text("Downloading WebP, 800 × 600 (cropped).")
    variants = page.request.get(f"/api/v1/image/{image_id}/variants").json()["variants"]
    assert [(v["state"], v["width"], v["height"]) for v in variants] == [("done", 800, 600)]

    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=front_door)
    dialog.get_by_test_id("link-ttl").select_option(label="1 hour")
    copy = dialog.get_by_role("button", name="Copy link (expires in 1 hour)")
    asked = time.time()
    copy.click()
    expect(dialog.get_by_test_id("toast").last).to_contain_text("Link copied. It works until")
    url = page.evaluate("navigator.clipboard.readText()")
    assert url.startswith(f"{front_door}/images/{image_id}?"), url
    expires = int(parse_qs(urlsplit(url).query)["exp"][0])
    assert asked + 3600 <= expires <= time.time() + 3601, (asked, expires)
    answer = httpx.get(url, timeout=10)  # no session: the signature is the credential
    assert answer.status_code == 200 and answer.content == picture.read_bytes()

    # Where the page may not use the clipboard, the link shows in a field to copy by hand.
    page.evaluate("Object.defineProperty(navigator, 'clipboard', { value: undefined })")
    copy.click()
    field = dialog.get_by_test_id("signed-link")
    expect(field).to_be_focused()
    expect(field).to_have_value(re.compile(rf"^{re.escape(front_door)}/images/{image_id}\?exp=\d+"))
    screenshot(page, "viewer-downloads")
