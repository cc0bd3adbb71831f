"""Variants in the catalog, on SQLite and PostgreSQL: a variant and its job move together, asking
again never records a second job, and an image's variants go with it."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable

import pytest

import shared.catalog.variants
from shared.catalog.db import Catalog
from shared.catalog.images import ImageCatalog
from shared.catalog.jobs import JobStore
from shared.catalog.variants import VariantCatalog, VariantState
from shared.domain import ImageRecord, JobState
from shared.errors import ImageNotFound, JobNotFound, VariantNotFound

IMAGE = "1" * 64
OTHER_IMAGE = "2" * 64
PARAMS = {"width": 800, "height": 600, "fit": "cover", "format": "webp", "quality": 85}


def _variant_id(n: int) -> str:
    return f"{n:064x}"


@pytest.fixture
def variants(catalog: Catalog) -> VariantCatalog:
    ImageCatalog(catalog).add(
        [
            ImageRecord(
                id=image_id,
                width=3000,
                height=2000,
                bytes=1000,
                format="JPEG",
                filename="photo.jpg",
                ingested_at=1,
            )
            for image_id in (IMAGE, OTHER_IMAGE)
        ]
    )
    return VariantCatalog(catalog)


def _ask(variants: VariantCatalog, n: int, job_id: str, image_id: str = IMAGE) -> bool:
    return variants.create_or_get(_variant_id(n), image_id, PARAMS, job_id)[1]


def _all_at_once(calls: list[Callable[[], bool]]) -> list[bool]:
    results: list[bool] = []
    start = threading.Barrier(len(calls))

    def run(call: Callable[[], bool]) -> None:
        start.wait()
        results.append(call())

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_a_new_variant_is_queued_with_a_variant_job(
    variants: VariantCatalog, catalog: Catalog
) -> None:
    variant, queued = variants.create_or_get(_variant_id(1), IMAGE, PARAMS, "job-1")

    assert queued is True
    assert variants.get(_variant_id(1)) == variant
    assert (variant.image_id, variant.params, variant.state, variant.job_id) == (
        IMAGE,
        PARAMS,
        VariantState.QUEUED,
        "job-1",
    )
    job = JobStore(catalog).get("job-1")
    assert (job.kind, job.state, job.image_id, job.params) == (
        "variant",
        JobState.QUEUED,
        IMAGE,
        {"variant_id": _variant_id(1)},
    )


@pytest.mark.parametrize("state", [VariantState.QUEUED, VariantState.PROCESSING])
def test_asking_again_answers_the_variant_on_its_way_and_records_no_job(
    variants: VariantCatalog, catalog: Catalog, state: VariantState
) -> None:
    _ask(variants, 1, "job-1")
    variants.set_state(_variant_id(1), state)

    variant, queued = variants.create_or_get(_variant_id(1), IMAGE, PARAMS, "job-2")

    assert (queued, variant.state, variant.job_id) == (False, state, "job-1")
    with pytest.raises(JobNotFound):
        JobStore(catalog).get("job-2")


def test_finishing_records_the_stored_variant_and_finishes_its_job(
    variants: VariantCatalog, catalog: Catalog
) -> None:
    _ask(variants, 1, "job-1")
    variants.finish(_variant_id(1), "image/webp", 800, 600, 1234)

    done = variants.get(_variant_id(1))
    assert (done.state, done.mime, done.width, done.height, done.bytes, done.error) == (
        VariantState.DONE,
        "image/webp",
        800,
        600,
        1234,
        None,
    )
    assert JobStore(catalog).get("job-1").state == JobState.DONE
    assert variants.create_or_get(_variant_id(1), IMAGE, PARAMS, "job-2") == (done, False)


def test_a_failed_variant_asked_again_is_requeued_with_the_new_job(
    variants: VariantCatalog, catalog: Catalog
) -> None:
    _ask(variants, 1, "job-1")
    variants.fail(_variant_id(1), "the image was deleted")
    jobs = JobStore(catalog)
    assert (jobs.get("job-1").state, jobs.get("job-1").error) == (
        JobState.FAILED,
        "the image was deleted",
    )

    variant, queued = variants.create_or_get(_variant_id(1), IMAGE, PARAMS, "job-2")

    assert (queued, variant.state, variant.job_id, variant.error) == (
        True,
        VariantState.QUEUED,
        "job-2",
        None,
    )
    assert jobs.get("job-2").state == JobState.QUEUED
    assert jobs.get("job-1").state == JobState.FAILED  # history is kept


def test_a_variant_of_an_unknown_image_is_refused_with_no_job(
    variants: VariantCatalog, catalog: Catalog
) -> None:
    with pytest.raises(ImageNotFound):
        variants.create_or_get(_variant_id(1), "9" * 64, PARAMS, "job-1")
    with pytest.raises(JobNotFound):
        JobStore(catalog).get("job-1")
    with pytest.raises(VariantNotFound):
        variants.get(_variant_id(1))


def test_the_same_request_at_once_records_exactly_one_job(
    variants: VariantCatalog, catalog: Catalog
) -> None:
    calls = [lambda n=n: _ask(variants, 1, f"job-{n}") for n in range(6)]

    assert sorted(_all_at_once(calls)) == [False] * 5 + [True]

    recorded = JobStore(catalog).get(variants.get(_variant_id(1)).job_id)
    assert recorded.state == JobState.QUEUED


def test_a_failed_variant_asked_for_at_once_is_requeued_once(variants: VariantCatalog) -> None:
    _ask(variants, 1, "first")
    variants.fail(_variant_id(1), "boom")
    calls = [lambda n=n: _ask(variants, 1, f"again-{n}") for n in range(6)]

    assert sorted(_all_at_once(calls)) == [False] * 5 + [True]
    assert variants.get(_variant_id(1)).state == VariantState.QUEUED


def test_an_images_variants_are_listed_newest_first(
    variants: VariantCatalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = itertools.count(1_700_000_000_000, 1000)  # a second apart, whatever the machine
    monkeypatch.setattr(shared.catalog.variants, "now_ms", lambda: next(clock))
    for n in (2, 3, 1):
        _ask(variants, n, f"job-{n}")
    _ask(variants, 4, "job-4", image_id=OTHER_IMAGE)

    listed = variants.for_image(IMAGE)

    assert [v.variant_id for v in listed] == [_variant_id(n) for n in (1, 3, 2)]
    assert variants.for_image("9" * 64) == []


def test_deleting_the_image_deletes_its_variants(
    variants: VariantCatalog, catalog: Catalog
) -> None:
    _ask(variants, 1, "job-1")
    _ask(variants, 2, "job-2", image_id=OTHER_IMAGE)

    ImageCatalog(catalog).delete(IMAGE)

    assert variants.for_image(IMAGE) == []
    with pytest.raises(VariantNotFound):
        variants.get(_variant_id(1))
    with pytest.raises(VariantNotFound):
        variants.finish(_variant_id(1), "image/webp", 1, 1, 1)
    assert variants.get(_variant_id(2)).image_id == OTHER_IMAGE
    assert JobStore(catalog).get("job-1").image_id == IMAGE  # a job's history outlives the image


def test_a_variant_on_its_way_does_not_make_its_image_busy(
    variants: VariantCatalog, catalog: Catalog
) -> None:
    """Busy images are those an ingest job may still change; a variant job never does."""
    _ask(variants, 1, "job-1")
    assert JobStore(catalog).busy_image_ids() == set()
