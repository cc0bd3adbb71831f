"""Near-duplicates on real parts: ingestapi → worker (which hashes each upright picture) →
catalog, read back through searchapi's duplicates routes.

72 families (the 24 colour+shape classes, 3 pictures each; ``tests.support.families``): an
original and its re-encoded, halved, cropped and EXIF-turned copies. Each family must come back
as one group (recall ≥ 0.95 over the pairs of copies) while different pictures of the same
colour and shape stay apart (precision ≥ 0.95 over the pairs grouped among them). The figures
(distances of true and false pairs, precision and recall by distance, the hash's cost) print in
the summary of ``make test``; ``duplicates.max_distance`` in conf/searchapi.yaml is chosen from
them.
"""

from __future__ import annotations

import itertools
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from PIL import Image

from imagesearch_samples.shapes import all_specs
from shared.catalog.images import HashedImage, ImageCatalog
from shared.domain import image_id_of
from shared.imaging import decode_image
from shared.phash import hamming, perceptual_hash
from tests.support.families import Copy, family, picture
from tests.support.figures import Figures
from tests.support.stack import Stack, wait_for_job

PER_CLASS = 3
BATCH = 90  # files per upload request (the API takes 100 at most)
MAX_PIXELS = 50_000_000
DISTANCES = range(4, 17)


@pytest.fixture(scope="module")
def stack(stack_factory: Any) -> Iterator[Stack]:
    stack = stack_factory("duplicates")
    with stack.starting_together():
        stack.start_ingestapi()
        stack.start_worker()
        stack.start_searchapi()
    yield stack
    stack.stop_all()


@pytest.fixture(scope="module")
def search(stack: Stack) -> Iterator[httpx.Client]:
    with stack.client("searchapi") as client:
        yield client


@pytest.fixture(scope="module")
def copies(stack: Stack) -> dict[str, Copy]:
    """Every copy of every family, ingested and done, by image id."""
    made = [
        copy
        for number, spec in enumerate(all_specs() * PER_CLASS)
        for copy in family(number, spec, seed=7_000 + number)
    ]
    with stack.client("ingestapi", timeout=120) as ingest:
        for first in range(0, len(made), BATCH):
            files = [("files", (c.filename, c.data)) for c in made[first : first + BATCH]]
            jobs = ingest.post("/api/v1/ingest", files=files).json()["jobs"]
            for job in jobs:
                done = wait_for_job(ingest, stack.urls["ingestapi"], job["job_id"], timeout=300)
                assert done["state"] == "done", done
    return {image_id_of(c.data): c for c in made}


@pytest.fixture(scope="module")
def stored(stack: Stack, copies: dict[str, Copy]) -> dict[str, HashedImage]:
    """The hashes the worker stored, by image id."""
    catalog = stack.catalog()
    try:
        return {h.id: h for h in ImageCatalog(catalog).hashed()}
    finally:
        catalog.close()


def groups_at(search: httpx.Client, max_distance: int | None) -> tuple[int, list[list[str]]]:
    """Every group the API lists (following the cursor), as image ids, and the distance used."""
    params: dict[str, Any] = {"limit": 100}
    if max_distance is not None:
        params["max_distance"] = max_distance
    found: list[list[str]] = []
    while True:
        response = search.get("/api/v1/image/duplicates", params=params)
        assert response.status_code == 200, response.text
        body = response.json()
        found += [[image["id"] for image in group["images"]] for group in body["groups"]]
        if body["next_cursor"] is None:
            return body["max_distance"], found
        params["cursor"] = body["next_cursor"]


def scores(groups: list[list[str]], copies: dict[str, Copy]) -> tuple[float, float, float]:
    """(precision among pictures of one class, precision among all, recall) over image pairs."""
    grouped = {frozenset(p) for g in groups for p in itertools.combinations(g, 2)}
    true = {frozenset(p) for p in itertools.combinations(copies, 2) if _same_family(p, copies)}
    hits = len(grouped & true)
    same_class = {p for p in grouped if len({copies[i].spec for i in p}) == 1}
    return hits / max(1, len(same_class)), hits / max(1, len(grouped)), hits / len(true)


def _same_family(pair: tuple[str, ...] | frozenset[str], copies: dict[str, Copy]) -> bool:
    return len({copies[i].family for i in pair}) == 1


def test_the_worker_stores_the_hash_of_each_upright_picture(
    copies: dict[str, Copy], stored: dict[str, HashedImage]
) -> None:
    assert set(stored) == set(copies)
    for image_id, copy in copies.items():
        expected = perceptual_hash(decode_image(copy.data, MAX_PIXELS).image)
        assert stored[image_id].phash == expected, copy.filename


def test_families_group_together_and_other_pictures_of_their_class_do_not(
    search: httpx.Client,
    copies: dict[str, Copy],
    stored: dict[str, HashedImage],
    figures: Figures,
) -> None:
    default, groups = groups_at(search, None)
    same_class_precision, precision, recall = scores(groups, copies)
    table = []
    for distance in DISTANCES:
        p_class, p_all, r = scores(groups_at(search, distance)[1], copies)
        chosen = "  <- duplicates.max_distance" if distance == default else ""
        table.append(f"{distance:>12} {p_class:>17.3f} {p_all:>14.3f} {r:>7.3f}{chosen}")
    figures.record(
        "Near-duplicates: generated families (tests/test_duplicates_integration.py)",
        [
            *_distance_lines(copies, stored),
            "max_distance  precision (class)  precision (all)  recall",
            *table,
            f"default max_distance {default}: precision among pictures of one colour and shape "
            f"{same_class_precision:.3f}, among all pictures {precision:.3f}, recall {recall:.3f}",
            *_cost_lines(copies),
        ],
    )
    assert recall >= 0.95
    assert same_class_precision >= 0.95


def test_each_group_shows_its_largest_copy_first(
    search: httpx.Client, stored: dict[str, HashedImage]
) -> None:
    _, groups = groups_at(search, None)
    assert groups
    for group in groups:
        sizes = [(stored[i].pixels, stored[i].bytes) for i in group]
        assert sizes[0] == max(sizes), group


def test_one_images_duplicates_are_its_copies(
    search: httpx.Client, copies: dict[str, Copy]
) -> None:
    """Re-encoded, halved and turned copies are a few bits from their original (the crop may be
    further: ``family`` groups reach it through the other copies)."""
    originals = [i for i, c in copies.items() if c.kind == "original"]
    for image_id in originals:
        body = search.get(f"/api/v1/image/{image_id}/duplicates").json()
        found = {
            copies[d["id"]].kind
            for d in body["duplicates"]
            if _same_family((d["id"], image_id), copies)
        }
        assert {"reencoded", "resized", "rotated"} <= found, copies[image_id].filename
        assert image_id not in {d["id"] for d in body["duplicates"]}


def _distance_lines(copies: dict[str, Copy], stored: dict[str, HashedImage]) -> list[str]:
    true: Counter[int] = Counter()
    false: Counter[int] = Counter()
    by_kind: dict[str, list[int]] = {}
    for a, b in itertools.combinations(copies, 2):
        distance = hamming(stored[a].phash, stored[b].phash)
        if _same_family((a, b), copies):
            true[distance] += 1
            if copies[a].kind == "original" or copies[b].kind == "original":
                kind = copies[b].kind if copies[a].kind == "original" else copies[a].kind
                by_kind.setdefault(kind, []).append(distance)
        elif copies[a].spec == copies[b].spec:
            false[distance] += 1
    families = len({c.family for c in copies.values()})
    return [
        f"families: {families} ({len(all_specs())} colour+shape classes x {PER_CLASS} pictures), "
        f"{len(copies)} images",
        f"pairs: {sum(true.values())} within families (true), {sum(false.values())} between "
        "different pictures of one colour and shape (false)",
        "true pairs by distance:  " + _histogram(true),
        "false pairs by distance: " + _histogram(false, upto=20) + f"  (min {min(false)})",
        "copy vs original, max (mean): "
        + ", ".join(f"{k} {max(v)} ({sum(v) / len(v):.1f})" for k, v in by_kind.items()),
    ]


def _histogram(counts: Counter[int], upto: int = 64) -> str:
    shown = " ".join(f"{d}:{n}" for d, n in sorted(counts.items()) if d <= upto)
    beyond = sum(n for d, n in counts.items() if d > upto)
    return shown + (f" >{upto}:{beyond}" if beyond else "")


def _cost_lines(copies: dict[str, Copy]) -> list[str]:
    decoded = [decode_image(c.data, MAX_PIXELS).image for c in copies.values()]
    started = time.perf_counter()
    for image in decoded:
        perceptual_hash(image)
    small_ms = (time.perf_counter() - started) * 1000 / len(decoded)
    photo = picture(next(iter(copies.values())).spec, seed=1).resize(
        (4000, 3000), Image.Resampling.BICUBIC
    )
    started = time.perf_counter()
    perceptual_hash(photo)
    photo_ms = (time.perf_counter() - started) * 1000
    return [
        f"hash cost: {small_ms:.1f} ms per image (192x144 to 384x288, decoded), "
        f"{photo_ms:.0f} ms for a 12 MP picture"
    ]
