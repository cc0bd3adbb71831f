"""Backup, then restore into a second, empty stack, on the real servers, through the command line.

The source stack ingests 50 generated shape pictures (and renders two variants); ``imgsearch admin
backup`` copies it with the source's environment; ``imgsearch admin restore`` brings it back into
a stack with a fresh catalog, bucket and Milvus alias, re-indexing from the originals. The
restored library must hold the same image ids, byte-identical objects (originals, thumbnails,
variants) and answer text searches with the same top five, in order. A backup with one byte
changed is refused before anything is written.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from imagesearch_samples.shapes import all_specs, samples
from shared.catalog import migrate, snapshot
from shared.embedding import TINY_MODEL
from tests.support.images import encode
from tests.support.processes import wait_until
from tests.support.stack import Stack, wait_for_job

SEED, COUNT, SIDE = 4242, 50, 96
QUERIES = [spec.caption for spec in all_specs()[::4]]  # six colour+shape classes
PREFIXES = ("originals/", "thumbs/", "variants/")
SMALL = {"width": 32, "height": 32, "fit": "cover", "format": "webp"}


def admin(stack: Stack, *args: str) -> subprocess.CompletedProcess[str]:
    """``imgsearch admin ARGS`` with the stack's configuration, as an operator runs it."""
    return subprocess.run(
        [sys.executable, "-m", "imgsearch_cli", "admin", *args],
        env={**os.environ, **stack.env()},
        capture_output=True,
        text=True,
        timeout=300,
    )


def stored(stack: Stack) -> dict[str, str]:
    """SHA-256 of every object of the library's prefixes, by key; empty when there is no bucket."""
    objects = stack.objects()
    if not objects.ping():
        return {}
    return {
        key: hashlib.sha256(objects.get(key)).hexdigest()
        for prefix in PREFIXES
        for key in objects.keys(prefix)
    }


def catalogued(stack: Stack) -> set[str]:
    return {i for batch in stack.images().ids() for i in batch}


def top_five(stack: Stack) -> dict[str, list[str]]:
    with stack.client("searchapi", key=None) as search:
        return {
            query: [
                hit["id"]
                for hit in search.get(
                    "/api/v1/image/search", params={"text": query, "limit": 5}
                ).json()["results"]
            ]
            for query in QUERIES
        }


@pytest.fixture(scope="module")
def source(stack_factory: Any) -> Iterator[Stack]:
    stack = stack_factory("backup-source")
    with stack.starting_together():
        stack.start_ingestapi()
        stack.start_worker()
    yield stack
    stack.stop_all()


@pytest.fixture(scope="module")
def library(source: Stack) -> list[str]:
    """50 pictures ingested and searchable, two with a variant rendered; their ids."""
    pictures = {}
    for _, image in samples(COUNT, SEED, SIDE):
        data = encode(image, "PNG")
        pictures[hashlib.sha256(data).hexdigest()] = data
    files = [("files", (f"{i[:12]}.png", data, "image/png")) for i, data in pictures.items()]
    with source.client("ingestapi", timeout=120) as ingest:
        jobs = ingest.post("/api/v1/ingest", files=files).json()["jobs"]
        ended = [wait_for_job(ingest, source.urls["ingestapi"], j["job_id"]) for j in jobs]
        assert {job["state"] for job in ended} == {"done"}
        ids = list(pictures)
        for image_id in ids[:2]:
            asked = ingest.post(f"/api/v1/ingest/images/{image_id}/variants", json=SMALL)
            assert asked.status_code == 202, asked.text
    wait_until(lambda: len(stored(source)) == 2 * COUNT + 2, 60, "two variants rendered")
    vectors = source.vectors()
    wait_until(lambda: len(vectors.get(ids)) == COUNT, 60, "every picture searchable")
    return ids


@pytest.fixture(scope="module")
def backup(source: Stack, library: list[str], tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("backup") / "library"
    done = admin(source, "backup", str(directory))
    assert done.returncode == 0, done.stderr
    assert f"Backed up {COUNT} images" in done.stdout
    return directory


@pytest.fixture(scope="module")
def restored(stack_factory: Any, backup: Path) -> Iterator[Stack]:
    """A second stack, empty until restored from the backup."""
    stack = stack_factory("backup-restored")
    done = admin(stack, "restore", str(backup))
    assert done.returncode == 0, done.stderr
    assert f"re-indexed {COUNT}" in done.stdout
    yield stack
    stack.stop_all()


@pytest.fixture(scope="module")
def searching(source: Stack, restored: Stack) -> tuple[Stack, Stack]:
    """Both stacks with a searchapi (started here: each test's setup stays within its timeout)."""
    with source.starting_together(), restored.starting_together():
        source.start_searchapi()
        restored.start_searchapi()
    return source, restored


def test_manifest_names_every_object_with_its_checksum(source: Stack, backup: Path) -> None:
    manifest = json.loads((backup / "manifest.json").read_text())
    assert manifest["catalog_kind"] == "sqlite"
    assert manifest["schema_revision"] == migrate.head()
    assert manifest["index_model"].startswith(f"{TINY_MODEL}/")
    assert manifest["missing_originals"] == []
    assert {k: v["sha256"] for k, v in manifest["objects"].items()} == stored(source)
    assert manifest["object_count"] == 2 * COUNT + 2


def test_restore_brings_back_every_image_id(library: list[str], restored: Stack) -> None:
    assert catalogued(restored) == set(library)


def test_restored_objects_are_byte_identical(source: Stack, restored: Stack) -> None:
    assert stored(restored) == stored(source)
    objects, originals = restored.objects(), source.objects()
    key = next(iter(originals.keys("thumbs/")))
    assert objects.stat(key).content_type == originals.stat(key).content_type == "image/webp"


def test_restored_stack_answers_searches_with_the_same_top_five(
    searching: tuple[Stack, Stack], library: list[str]
) -> None:
    source, restored = searching
    vectors = restored.vectors()
    wait_until(lambda: len(vectors.get(library)) == COUNT, 60, "every picture searchable")
    expected = top_five(source)
    assert all(len(ids) == 5 for ids in expected.values())
    assert top_five(restored) == expected


def test_a_tampered_backup_is_refused_and_nothing_is_restored(
    stack_factory: Any, backup: Path, tmp_path: Path
) -> None:
    tampered = tmp_path / "tampered"
    shutil.copytree(backup, tampered)
    victim = next((tampered / "objects" / "originals").iterdir())
    data = bytearray(victim.read_bytes())
    data[len(data) // 2] ^= 0x01
    victim.write_bytes(bytes(data))
    empty = stack_factory("backup-tampered")

    done = admin(empty, "restore", str(tampered))

    assert done.returncode == 2
    assert f"originals/{victim.name}" in done.stderr and "nothing restored" in done.stderr
    catalog = empty.catalog()
    try:
        assert snapshot.image_count(catalog) == 0
    finally:
        catalog.close()
    assert stored(empty) == {}
