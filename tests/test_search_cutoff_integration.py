"""The relevance cutoff on the real stack with the tiny model: are the matches the right pictures?

The library: all 24 colour+shape classes, 10 pictures each, plus 60 distractors -- hexagons,
crosses and rings in the classes' own colours, shapes the model was never taught, so a colour
alone does not make a match. All go in through ingestapi and the worker. For each class query
("a red circle") the test reads the matches (``only_matches``) and scores them against the
class; the mean precision and recall over the 24 queries must reach 0.9, and the table prints in
the run's summary. Labels are keyed by image id, and files go in under meaningless names.
"""

from __future__ import annotations

import hashlib
import math
import random
import secrets
from collections.abc import Iterator
from typing import Any

import pytest
from PIL import Image, ImageDraw

from imagesearch_samples.shapes import COLOURS, all_specs, samples
from tests.support.figures import Figures
from tests.support.images import encode
from tests.support.processes import wait_until
from tests.support.stack import Stack, wait_for_job

SEED = 271828  # pictures the tiny model never saw in training
PER_CLASS, DISTRACTORS, SIDE = 10, 60, 128
OTHER_SHAPES = ("hexagon", "cross", "ring")
BATCH = 50
SEARCH = "/api/v1/image/search"


def distractor(shape: str, colour: tuple[int, int, int], rng: random.Random) -> Image.Image:
    """One shape outside the model's four on a plain background far from its colour."""
    background = colour
    while math.dist(background, colour) < 130:
        background = (rng.randint(0, 255), rng.randint(0, 255), rng.randint(0, 255))
    image = Image.new("RGB", (SIDE, SIDE), background)
    draw = ImageDraw.Draw(image)
    radius = rng.uniform(0.2, 0.32) * SIDE
    cx, cy = (rng.uniform(radius + 4, SIDE - radius - 4) for _ in range(2))
    if shape == "hexagon":
        turn = rng.uniform(0, math.pi)
        corners = [turn + k * math.pi / 3 for k in range(6)]
        draw.polygon(
            [(cx + radius * math.cos(a), cy + radius * math.sin(a)) for a in corners], colour
        )
    elif shape == "ring":
        box = (cx - radius, cy - radius, cx + radius, cy + radius)
        draw.ellipse(box, outline=colour, width=max(3, int(radius * 0.3)))
    else:
        arm = radius * 0.35
        draw.rectangle((cx - radius, cy - arm, cx + radius, cy + arm), colour)
        draw.rectangle((cx - arm, cy - radius, cx + arm, cy + radius), colour)
    return image


def library() -> dict[str, tuple[bytes, str]]:
    """PNG bytes and class label ("red circle"; a distractor's is e.g. "red hexagon") by id."""
    pictures = [(image, spec.label) for spec, image in samples(24 * PER_CLASS, SEED, SIDE)]
    rng = random.Random(SEED)
    colours = list(COLOURS)
    for i in range(DISTRACTORS):
        colour, shape = colours[i % len(colours)], OTHER_SHAPES[i // len(colours) % 3]
        pictures.append((distractor(shape, COLOURS[colour], rng), f"{colour} {shape}"))
    made = {}
    for image, label in pictures:
        data = encode(image, "PNG")
        made[hashlib.sha256(data).hexdigest()] = (data, label)
    return made


@pytest.fixture(scope="module")
def stack(stack_factory: Any) -> Iterator[Stack]:
    stack = stack_factory("cutoff")
    with stack.starting_together():
        stack.start_ingestapi()
        stack.start_worker()
        stack.start_searchapi()
    yield stack
    stack.stop_all()


@pytest.fixture(scope="module")
def labels(stack: Stack) -> dict[str, str]:
    """The library, ingested and searchable: each picture's label by id."""
    pictures = library()
    assert len(pictures) == 24 * PER_CLASS + DISTRACTORS
    ids = list(pictures)
    with stack.client("ingestapi", timeout=120) as client:
        for start in range(0, len(ids), BATCH):
            files = [
                ("files", (f"{secrets.token_hex(6)}.png", pictures[i][0], "image/png"))
                for i in ids[start : start + BATCH]
            ]
            jobs = client.post("/api/v1/ingest", files=files).json()["jobs"]
            ended = [wait_for_job(client, stack.urls["ingestapi"], j["job_id"]) for j in jobs]
            assert {job["state"] for job in ended} == {"done"}
    # The first search samples the library for the background: let it see all of it.
    vectors = stack.vectors()
    wait_until(lambda: len(vectors.get(ids)) == len(ids), 60, "every picture searchable")
    return {image_id: label for image_id, (_, label) in pictures.items()}


def precision_recall(found: list[str], label: str, labels: dict[str, str]) -> tuple[float, float]:
    right = sum(labels[i] == label for i in found)
    return (right / len(found) if found else 0.0), right / PER_CLASS


def test_matches_are_the_pictures_of_the_class_asked_for(
    stack: Stack, labels: dict[str, str], figures: Figures
) -> None:
    rows = []
    with stack.client("searchapi") as search:
        for spec in all_specs():
            params = {"text": spec.caption, "limit": 100, "only_matches": "true"}
            body: dict[str, Any] = search.get(SEARCH, params=params).json()
            found = [hit["id"] for hit in body["results"]]
            assert len(found) == body["matches"] and all(h["match"] for h in body["results"])
            rows.append((spec.caption, len(found), *precision_recall(found, spec.label, labels)))

    precision = sum(r[2] for r in rows) / len(rows)
    recall = sum(r[3] for r in rows) / len(rows)
    figures.record(
        f"Relevance cutoff, tiny model: {len(rows)} class queries, {len(labels)} pictures "
        f"({PER_CLASS} per class + {DISTRACTORS} distractors)",
        [f"{'query':<20}{'matches':>8}{'precision':>11}{'recall':>8}"]
        + [f"{q:<20}{n:>8}{p:>11.2f}{r:>8.2f}" for q, n, p, r in rows]
        + [f"{'mean':<20}{'':>8}{precision:>11.3f}{recall:>8.3f}"],
    )
    assert precision >= 0.9 and recall >= 0.9, f"precision {precision:.3f}, recall {recall:.3f}"


def test_the_ranking_is_every_match_then_one_page_of_weaker_hits(
    stack: Stack, labels: dict[str, str]
) -> None:
    with stack.client("searchapi") as search:
        pages = [
            search.get(SEARCH, params={"text": "a red circle", "limit": 20, "offset": o}).json()
            for o in (0, 20, 40)
        ]
    flags = [hit["match"] for page in pages for hit in page["results"]]
    assert flags == [True] * pages[0]["matches"] + [False] * 20
