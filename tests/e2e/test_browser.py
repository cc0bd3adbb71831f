"""The page in a real browser (Debian's Chromium through Playwright) against the real stack
(tests/e2e/conftest.py): upload, search, the viewer, filters, the library.

Tests use a page signed in once as an editor (``page``). Screenshots of the main states:
artifacts/screenshots/. Pictures go up under meaningless names and results are checked by image
id (the SHA-256 of the file), so a page or a service that matched on filenames would not pass.
"""

from __future__ import annotations

import re
import secrets
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, StorageState, expect

from tests.e2e.browser import (
    PAGE_SIZE,
    PHONE_DARK,
    SAMPLES,
    SEED,
    Library,
    csrf_headers,
    drag_enter,
    drop,
    file_transfer,
    image_id_of,
    open_page,
    save_library,
    screenshot,
    tile_ids,
    upload_rows,
    upload_through_page,
    wait_thumbnails,
)
from tests.support.processes import wait_until

pytestmark = pytest.mark.integration


def test_upload_reports_each_file_until_indexed(library: Library) -> None:
    rows = library.rows
    assert sorted(rows) == sorted(p.name for p in library.paths)
    not_indexed = {
        name: row for name, row in rows.items() if row["state"] not in ("done", "duplicate")
    }
    assert not not_indexed, f"uploads that did not end done: {not_indexed}"
    assert not library.errors, library.errors


def test_files_dropped_on_the_page_are_uploaded_until_indexed(
    page: Page, library: Library, tmp_path: Path
) -> None:
    new = save_library(tmp_path, 1, SEED + 2)  # not in the library yet; from now on it is
    library.labels.update(new.labels)
    [dropped] = new.paths
    dropped_id = image_id_of(dropped)
    page.goto("/")
    # Dropping uploads only once the page knows the user may upload, as a person sees it.
    expect(page.get_by_test_id("upload-button")).to_be_visible()
    overlay, grid = page.get_by_test_id("drop-overlay"), page.get_by_test_id("results-grid")
    transfer = file_transfer(page, [dropped])
    drag_enter(grid, transfer)
    expect(overlay).to_be_visible()
    drop(grid, transfer)
    expect(overlay).to_be_hidden()
    expect(page.get_by_test_id("upload-row")).to_have_count(1)
    assert upload_rows(page) == {dropped.name: {"state": "done", "reason": ""}}
    row = page.get_by_test_id("upload-row")
    expect(row.get_by_test_id("upload-state")).to_have_text("Done")
    link = row.get_by_role("link", name=dropped.name)
    expect(link).to_have_attribute("href", f"/?image={dropped_id}")
    # Search reads are about a second stale (bounded staleness): "Done" can come a moment before
    # searchapi sees the image, and the viewer does not retry a 404.
    wait_until(
        lambda: page.request.get(f"/api/v1/image/{dropped_id}").ok, 10, "searchapi to know it"
    )
    link.click()  # the row opens what was indexed
    expect(page.get_by_test_id("viewer-title")).to_have_text(dropped.name)
    expect(page.get_by_test_id("viewer-meta")).to_contain_text(dropped_id)
    screenshot(page, "dropped-upload")


def test_text_search_puts_matching_shapes_first(page: Page, library: Library) -> None:
    response = page.goto("/")
    assert (
        response is not None and "default-src 'self'" in response.headers["content-security-policy"]
    )
    box = page.get_by_test_id("search-input")
    box.fill("a red circle")
    box.press("Enter")
    expect(page).to_have_url(re.compile(r"/\?q=a\+red\+circle$"))
    first = page.get_by_test_id("result-tile").first
    expect(first).to_have_attribute("data-id", library.ids_of("red circle"))
    expect(first.locator("img")).to_have_attribute("alt", first.get_attribute("data-filename"))
    expect(first).to_have_attribute("title", re.compile(r"similarity \d\.\d{3}"))
    model = page.request.get("/api/v1/image/search?text=a+red+circle&limit=1").json()["model"]
    expect(page.get_by_test_id("demo-banner")).to_be_visible(visible=bool(model["demo"]))
    wait_thumbnails(page)
    screenshot(page, "results-grid")
    box.fill("a blue star")  # a pause in typing searches too
    expect(page).to_have_url(re.compile(r"/\?q=a\+blue\+star$"))
    expect(first).to_have_attribute("data-id", library.ids_of("blue star"))


def test_search_url_survives_reload_and_history(page: Page, library: Library) -> None:
    page.goto("/?q=a+green+square")
    box, tiles = page.get_by_test_id("search-input"), page.get_by_test_id("result-tile")
    expect(box).to_have_value("a green square")
    expect(tiles.first).to_have_attribute("data-id", library.ids_of("green square"))
    expect(tiles.nth(5)).to_be_attached()
    before = tile_ids(page)[:6]
    page.reload()
    expect(tiles.nth(5)).to_be_attached()
    assert tile_ids(page)[:6] == before
    box.fill("a yellow triangle")
    box.press("Enter")
    expect(tiles.first).to_have_attribute("data-id", library.ids_of("yellow triangle"))
    page.go_back()
    expect(page).to_have_url(re.compile(r"/\?q=a\+green\+square$"))
    expect(box).to_have_value("a green square")
    expect(tiles.first).to_have_attribute("data-id", before[0])
    page.go_forward()
    expect(box).to_have_value("a yellow triangle")
    expect(tiles.first).to_have_attribute("data-id", library.ids_of("yellow triangle"))


def test_viewer_shows_details_and_finds_similar(
    page: Page, library: Library, front_door: str
) -> None:
    page.goto("/?q=a+red+circle")
    tiles, viewer = page.get_by_test_id("result-tile"), page.get_by_test_id("viewer")
    first = tiles.first
    expect(first).to_have_attribute("data-id", library.ids_of("red circle"))
    image_id, filename = first.get_attribute("data-id"), first.get_attribute("data-filename")
    first.click()
    expect(viewer).to_be_visible()
    expect(page).to_have_url(re.compile(rf"[?&]image={image_id}$"))
    expect(viewer.get_by_test_id("viewer-title")).to_have_text(filename)
    meta = viewer.get_by_test_id("viewer-meta")
    for text in ("128 × 128 px", "PNG", "KB", filename, image_id):
        expect(meta).to_contain_text(text)
    expect(viewer.get_by_test_id("share-link")).to_have_value(f"{front_door}/?image={image_id}")
    expect(viewer.get_by_test_id("viewer-image")).to_have_attribute(  # reads are private: signed
        "src", re.compile(rf"^/images/{image_id}\?exp=\d+&sig=[\w-]+$")
    )
    screenshot(page, "viewer")
    page.keyboard.press("Escape")
    expect(viewer).to_be_hidden()
    expect(page).to_have_url(re.compile(r"/\?q=a\+red\+circle$"))
    expect(first).to_be_focused()

    first.click()
    viewer.get_by_test_id("similar-button").click()
    expect(viewer).to_be_hidden()
    expect(page).to_have_url(re.compile(rf"/\?similar={image_id}$"))
    expect(page.get_by_test_id("results-context")).to_contain_text(filename)
    expect(tiles.nth(2)).to_be_attached()
    assert image_id not in tile_ids(page)
    wait_thumbnails(page)
    screenshot(page, "similar")
    page.go_back()
    expect(page).to_have_url(re.compile(r"/\?q=a\+red\+circle$"))
    expect(tiles.first).to_have_attribute("data-id", image_id)
    page.go_forward()
    expect(page).to_have_url(re.compile(rf"/\?similar={image_id}$"))

    page.goto(f"/?image={image_id}")  # the copyable link opens the viewer directly
    expect(viewer).to_be_visible()
    expect(viewer.get_by_test_id("viewer-title")).to_have_text(filename)


def test_keyboard_opens_a_result_with_enter(page: Page, library: Library) -> None:
    page.goto("/?q=a+purple+square")
    first = page.get_by_test_id("result-tile").first
    expect(first).to_have_attribute("data-id", library.ids_of("purple square"))
    page.get_by_test_id("search-input").focus()
    for _ in range(12):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.dataset.testid") == "result-tile":
            break
    expect(first).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("viewer")).to_be_visible()
    expect(page.get_by_test_id("viewer-close")).to_be_focused()
    page.keyboard.press("Escape")
    expect(first).to_be_focused()
    screenshot(page, "keyboard-focus")
    expect(first).to_be_focused()


def test_scrolling_loads_the_next_page(page: Page, library: Library) -> None:
    page.goto("/?q=an+orange+star")
    tiles = page.get_by_test_id("result-tile")
    expect(tiles.nth(PAGE_SIZE - 1)).to_be_attached()
    page.get_by_test_id("results-sentinel").scroll_into_view_if_needed()
    expect(tiles.nth(PAGE_SIZE)).to_be_attached()
    ids = tile_ids(page)
    assert len(ids) == len(set(ids)), "a page repeated results"


def test_search_by_picture_finds_that_picture_first(page: Page, library: Library) -> None:
    picture = library.path_of("blue square")
    page.goto("/")
    page.get_by_test_id("search-image-input").set_input_files(picture)
    expect(page.get_by_test_id("results-context")).to_contain_text(picture.name)
    first = page.get_by_test_id("result-tile").first
    expect(first).to_have_attribute("data-id", image_id_of(picture))
    expect(first).to_have_attribute("data-score", re.compile(r"^(1\.000|0\.99\d)$"))


def test_picture_dropped_on_the_search_box_finds_that_picture_first(
    page: Page, library: Library
) -> None:
    picture = library.path_of("orange triangle")
    page.goto("/")
    form = page.get_by_test_id("search-form")
    transfer = file_transfer(page, [picture])
    drag_enter(page.get_by_test_id("search-input"), transfer)
    expect(form).to_have_class(re.compile(r"\bdrop-target\b"))
    drop(page.get_by_test_id("search-input"), transfer)
    expect(page.get_by_test_id("results-context")).to_contain_text(picture.name)
    expect(page.get_by_test_id("result-tile").first).to_have_attribute(
        "data-id", image_id_of(picture)
    )
    expect(page.get_by_test_id("upload-panel")).to_be_hidden()  # a search, not an upload


def test_rejected_files_say_why(page: Page, library: Library, tmp_path: Path) -> None:
    text_file = tmp_path / "holiday-notes.png"
    text_file.write_text("these are notes, not a picture\n")
    alone = tmp_path / "shopping-list.png"
    alone.write_text("milk, eggs\n")
    new = save_library(tmp_path / "good", 1, SEED + 1)
    library.labels.update(new.labels)
    [good] = new.paths
    page.goto("/")
    upload_through_page(page, [text_file, good])  # one request: a 202 with one file rejected
    rows = upload_through_page(page, [alone])  # every file of a request rejected: a 4xx problem
    for name in (text_file.name, alone.name):
        assert rows[name]["state"] == "failed", rows
        assert "not an image" in rows[name]["reason"], rows
    assert rows[good.name]["state"] in ("done", "duplicate"), rows
    row = page.locator(f'[data-testid=upload-row][data-filename="{text_file.name}"]')
    expect(row.get_by_test_id("upload-state")).to_have_text("Failed")
    screenshot(page, "upload-error")


def test_errors_and_empty_results_are_explained(page: Page, library: Library) -> None:
    page.goto(f"/?similar={'0' * 64}")  # a well-formed id that is not there: searchapi's 404
    notice = page.get_by_test_id("results-notice")
    expect(notice).to_have_attribute("data-kind", "error")
    expect(notice).to_contain_text("Search failed")
    expect(page.get_by_test_id("results-retry")).to_be_visible()
    screenshot(page, "search-error")
    empty = {"query": "nothing", "limit": PAGE_SIZE, "offset": 0, "results": []}
    page.route("**/api/v1/image/search?*", lambda route: route.fulfill(json=empty))
    page.goto("/?q=a+unicorn")
    expect(notice).to_contain_text("No images match “a unicorn”")


def test_filters_live_in_the_url_and_rerun_the_search(
    browser: Browser, front_door: str, signed_in: StorageState, page: Page, library: Library
) -> None:
    page.goto("/?q=a+red+circle")
    tiles, notice = page.get_by_test_id("result-tile"), page.get_by_test_id("results-notice")
    toggle, jpeg = page.get_by_test_id("filters-toggle"), page.get_by_test_id("filter-format-JPEG")
    expect(tiles.first).to_have_attribute("data-id", library.ids_of("red circle"))
    expect(page.get_by_test_id("filters-panel")).to_be_hidden()
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    jpeg.check()  # every library picture is a PNG
    expect(page).to_have_url(re.compile(r"/\?q=a\+red\+circle&format=JPEG$"))
    expect(notice).to_have_attribute("data-kind", "empty")
    expect(notice).to_contain_text("No images match “a red circle” with these filters")
    expect(tiles).to_have_count(0)
    expect(page.get_by_test_id("filters-count")).to_have_text("1")
    screenshot(page, "filters")
    page.reload()
    expect(notice).to_have_attribute("data-kind", "empty")
    expect(jpeg).to_be_checked()
    expect(toggle).to_have_attribute("aria-label", "Filters, 1 active")
    toggle.click()
    page.get_by_test_id("filters-clear").click()
    expect(page).to_have_url(re.compile(r"/\?q=a\+red\+circle$"))
    expect(tiles.first).to_have_attribute("data-id", library.ids_of("red circle"))
    expect(page.get_by_test_id("filters-count")).to_be_hidden()
    page.go_back()
    expect(page).to_have_url(re.compile(r"format=JPEG$"))
    expect(notice).to_have_attribute("data-kind", "empty")
    # PNG with the widest "added" window still finds them; the same filters on a phone, dark.
    phone, errors = open_page(browser, front_door, storage_state=signed_in, **PHONE_DARK)
    phone.goto("/?q=a+red+circle&format=PNG&added=30d")
    expect(phone.get_by_test_id("result-tile").first).to_have_attribute(
        "data-id", library.ids_of("red circle")
    )
    phone.get_by_test_id("filters-toggle").click()
    expect(phone.get_by_test_id("filter-added")).to_have_value("30d")
    screenshot(phone, "filters-phone")
    phone.context.close()
    assert not errors, errors


def test_phone_layout_has_two_columns(
    browser: Browser, front_door: str, signed_in: StorageState, library: Library
) -> None:
    page, errors = open_page(browser, front_door, storage_state=signed_in, **PHONE_DARK)
    page.goto("/?q=a+green+circle")
    expect(page.get_by_test_id("result-tile").first).to_have_attribute(
        "data-id", library.ids_of("green circle")
    )
    columns = page.get_by_test_id("results-grid").evaluate(
        "g => getComputedStyle(g).gridTemplateColumns"
    )
    assert len(columns.split()) == 2, columns
    box = page.get_by_test_id("search-input").bounding_box()
    assert box is not None and box["width"] > 250, box
    wait_thumbnails(page, 4)
    screenshot(page, "phone")
    page.context.close()
    assert not errors, errors


def test_library_lists_newest_first_and_tag_chips_filter_it(page: Page, library: Library) -> None:
    newest = page.request.get(f"/api/v1/image?sort=newest&limit={PAGE_SIZE}").json()
    assert newest["total"] >= SAMPLES
    added = [image["ingested_at"] for image in newest["results"]]
    assert added == sorted(added, reverse=True)
    tag = f"e2e-{secrets.token_hex(3)}"  # a tag no other test or run has given
    originals = [image_id_of(path) for path in library.paths]
    tagged = sorted(i for i in originals if library.labels[i] == "red circle")  # two of them
    for image_id in tagged:
        answer = page.request.put(
            f"/api/v1/image/{image_id}/tags",
            data={"tags": [tag.upper()]},
            headers=csrf_headers(page),  # the session cookie goes with it, so the token must
        )
        assert answer.ok and answer.json()["tags"] == [tag]  # normalised: lower case
    search = f"/api/v1/image/search?text=a+red+circle&tag={tag}"
    wait_until(lambda: len(page.request.get(search).json()["results"]) == 2, 10, "tags in search")

    # The library: newest first, counted, paged on by cursor as it scrolls.
    page.goto("/")
    status, tiles = page.get_by_test_id("results-status"), page.get_by_test_id("result-tile")
    expect(status).to_have_text(re.compile(rf"^{newest['total']} images$"))
    expect(tiles.nth(PAGE_SIZE - 1)).to_be_attached()
    assert tile_ids(page)[:PAGE_SIZE] == [image["id"] for image in newest["results"]]
    page.get_by_test_id("results-sentinel").scroll_into_view_if_needed()
    expect(tiles.nth(PAGE_SIZE)).to_be_attached()
    ids = tile_ids(page)
    assert len(ids) == len(set(ids)), "a page repeated images"

    # A chip on a search hit narrows the search to its tag; with no words, the library to it.
    page.goto("/?q=a+red+circle")
    card = page.locator(f'li.cell[data-id="{tagged[0]}"]')
    card.get_by_role("button", name=f"Show images tagged {tag}").click()
    expect(page).to_have_url(re.compile(rf"/\?q=a\+red\+circle&tag={tag}$"))
    expect(page.get_by_test_id("tag-filter-name")).to_have_text(tag)
    expect(tiles).to_have_count(2)
    assert sorted(tile_ids(page)) == tagged
    page.get_by_test_id("search-input").fill("")
    page.get_by_test_id("search-input").press("Enter")
    expect(page).to_have_url(re.compile(rf"/\?tag={tag}$"))
    expect(status).to_have_text(f"2 images tagged “{tag}”")
    page.reload()  # shareable: the tag is in the URL
    expect(tiles).to_have_count(2)
    assert sorted(tile_ids(page)) == tagged
    screenshot(page, "library-tagged")

    # The viewer shows the tags; the filter's × brings the whole library back.
    tiles.first.click()
    viewer_tags = page.get_by_test_id("viewer-tags")
    expect(viewer_tags.get_by_role("button", name=f"Show images tagged {tag}")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.get_by_test_id("viewer")).to_be_hidden()
    expect(page).to_have_url(re.compile(rf"/\?tag={tag}$"))
    page.get_by_test_id("tag-filter-clear").click()
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.get_by_test_id("tag-filter")).to_be_hidden()
    expect(status).to_have_text(re.compile(r"^\d+ images$"))
    expect(tiles.nth(PAGE_SIZE - 1)).to_be_attached()


# -- signing in, and what each role sees ---------------------------------------------------------
