"""The catalog on real parts: ingestapi → worker → catalog + MinIO + Milvus, read by searchapi.

The library lists newest first with totals and stable cursors, tags given at upload or edited
later filter both the listing and search, and ``admin verify`` finds (and mends) what a person
breaks by hand in MinIO.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from shared.domain import image_id_of, original_key
from tests.support.images import encode, picture
from tests.support.processes import wait_until
from tests.support.stack import Stack, wait_for_job

COUNT = 12


@pytest.fixture(scope="module")
def stack(stack_factory: Any) -> Iterator[Stack]:
    stack = stack_factory("catalog")
    with stack.starting_together():
        stack.start_ingestapi()
        stack.start_worker()
        stack.start_searchapi()
    yield stack
    stack.stop_all()


@pytest.fixture(scope="module")
def ingest(stack: Stack) -> Iterator[httpx.Client]:
    with stack.client("ingestapi") as client:
        yield client


@pytest.fixture(scope="module")
def search(stack: Stack) -> Iterator[httpx.Client]:
    with stack.client("searchapi") as client:
        yield client


@pytest.fixture(scope="module")
def library(stack: Stack, ingest: httpx.Client) -> list[str]:
    """COUNT pictures ingested one request after another (so ingest times are ordered); the
    first three carry the tag "red"."""
    ids = []
    for n in range(COUNT):
        data = encode(picture(40 + n, 30, (250 - 10 * n, 20, 20)), "PNG")
        tags = {"tags": "red, Sample"} if n < 3 else {}
        response = ingest.post(
            "/api/v1/ingest", files=[("files", (f"pic-{n:02d}.png", data))], data=tags
        )
        [job] = response.json()["jobs"]
        assert wait_for_job(ingest, stack.urls["ingestapi"], job["job_id"])["state"] == "done"
        ids.append(image_id_of(data))
    return ids


def _pages(search: httpx.Client, **params: Any) -> tuple[list[str], set[int]]:
    seen: list[str] = []
    totals: set[int] = set()
    cursor = None
    while True:
        body = search.get("/api/v1/image", params={**params, "cursor": cursor}).json()
        seen += [image["id"] for image in body["results"]]
        totals.add(body["total"])
        if body["next_cursor"] is None:
            return seen, totals
        cursor = body["next_cursor"]


def test_library_lists_newest_first_with_a_total(search: httpx.Client, library: list[str]) -> None:
    body = search.get("/api/v1/image", params={"sort": "newest", "limit": 5}).json()
    assert body["total"] == COUNT
    assert [image["id"] for image in body["results"]] == library[::-1][:5]
    seen, totals = _pages(search, sort="newest", limit=5)
    assert (seen, totals) == (library[::-1], {COUNT})
    oldest, _ = _pages(search, sort="oldest", limit=4)
    assert oldest == library


def test_upload_tags_and_source_are_recorded(search: httpx.Client, library: list[str]) -> None:
    image = search.get(f"/api/v1/image/{library[0]}").json()
    assert (image["tags"], image["source"], image["filename"]) == (
        ["red", "sample"],
        "upload",
        "pic-00.png",
    )
    seen, totals = _pages(search, tag="red", limit=2)
    assert (sorted(seen), totals) == (sorted(library[:3]), {3})


def _tagged_hits(search: httpx.Client, tag: str) -> list[str]:
    hits = search.get("/api/v1/image/search", params={"text": "a picture", "tag": tag})
    return [hit["id"] for hit in hits.json()["results"]]


def test_edited_tags_filter_search(search: httpx.Client, library: list[str]) -> None:
    """The listing sees an edit at once; search within its documented second (Bounded reads)."""
    target = library[7]
    put = search.put(f"/api/v1/image/{target}/tags", json={"tags": ["  Odd  One ", "odd one"]})
    assert put.json() == {"id": target, "tags": ["odd one"]}
    assert _pages(search, tag="odd one")[0] == [target]
    wait_until(lambda: _tagged_hits(search, "odd one") == [target], 10, "search to see the tag")
    patched = search.patch(
        f"/api/v1/image/{target}/tags", json={"add": ["x"], "remove": ["odd one"]}
    )
    assert patched.json()["tags"] == ["x"]
    wait_until(lambda: _tagged_hits(search, "odd one") == [], 10, "search to drop the tag")
    assert _tagged_hits(search, "x") == [target]


def test_bad_tags_and_cursors_are_problems(search: httpx.Client, library: list[str]) -> None:
    bad_tag = search.put(f"/api/v1/image/{library[0]}/tags", json={"tags": ['a"b']})
    assert (bad_tag.status_code, bad_tag.json()["type"]) == (
        400,
        "urn:imagesearch:problem:invalid-input",
    )
    bad_cursor = search.get("/api/v1/image", params={"cursor": "garbage!"})
    assert bad_cursor.status_code == 400
    unknown = search.put(f"/api/v1/image/{'0' * 64}/tags", json={"tags": ["a"]})
    assert unknown.status_code == 404


def test_job_history_is_kept_in_the_catalog(stack: Stack, ingest: httpx.Client) -> None:
    data = encode(picture(33, 33, (1, 2, 3)), "PNG")
    [job] = ingest.post("/api/v1/ingest", files=[("files", ("j.png", data))]).json()["jobs"]
    wait_for_job(ingest, stack.urls["ingestapi"], job["job_id"])
    stored = stack.jobs().get(job["job_id"])
    assert (stored.state.value, stored.kind, stored.params) == (
        "done",
        "ingest",
        {"source": "upload", "tags": []},
    )


def test_verify_finds_a_deleted_original_and_repair_mends_the_index(
    stack: Stack, ingest: httpx.Client, search: httpx.Client, library: list[str]
) -> None:
    clean = ingest.post("/api/v1/admin/verify", json={"repair": False}).json()
    assert (clean["problems"], clean["unrepaired"]) == ([], 0)
    # Counts are a snapshot (the index listing reads like search does, up to a second behind);
    # every problem is confirmed by point reads before it is reported, so none shows here.
    assert clean["counts"]["catalog"] == clean["counts"]["originals"]

    victim = library[5]
    stack.objects().delete(original_key(victim))
    found = ingest.post("/api/v1/admin/verify", json={"repair": False}).json()
    assert [(p["kind"], p["image_id"], p["repaired"]) for p in found["problems"]] == [
        ("index-without-bytes", victim, False)
    ]
    repaired = ingest.post("/api/v1/admin/verify", json={"repair": True}).json()
    assert [(p["kind"], p["repaired"]) for p in repaired["problems"]] == [
        ("index-without-bytes", True)
    ]
    assert not stack.vectors().existing_ids([victim])
    assert search.get(f"/api/v1/image/{victim}").status_code == 404
    again = ingest.post("/api/v1/admin/verify", json={"repair": False}).json()
    assert again["problems"] == []
