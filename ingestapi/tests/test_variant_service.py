"""VariantService on the real catalog (SQLite) and the fake queue: one variant per parameters,
one job per render, and nothing recorded or queued for a request that is refused.
"""

from __future__ import annotations

import pytest

from ingestapi.service.variants import NOT_QUEUED, VariantService
from shared.catalog.images import ImageCatalog
from shared.catalog.variants import VariantCatalog, VariantState
from shared.config import ImageLimits
from shared.domain import ImageRecord, image_id_of
from shared.errors import DependencyUnavailable, ImageNotFound, InvalidInput
from shared.jobs import VARIANT_JOB_KIND
from shared.variants import VariantParams, canonical, variant_id_of
from tests.support.fakes import EnqueuedVariant, FakeIngestQueue
from tests.support.local_catalog import FailableCatalog, recorded_jobs

MAX_PIXELS = 1_000_000
IMAGE = image_id_of(b"a 3000x2000 photo")
COVER = VariantParams(width=800, height=600, fit="cover", format="webp", grayscale=True)


@pytest.fixture
def variants(catalog: FailableCatalog) -> VariantCatalog:
    return VariantCatalog(catalog)


@pytest.fixture
def service(
    images: ImageCatalog, variants: VariantCatalog, queue: FakeIngestQueue
) -> VariantService:
    images.add([ImageRecord(IMAGE, 3000, 2000, 2_000_000, "JPEG", "photo.jpg", 1)])
    return VariantService(images, variants, queue, ImageLimits(max_pixels=MAX_PIXELS))


def test_a_new_variant_is_recorded_queued_with_one_variant_job_and_one_message(
    service: VariantService, catalog: FailableCatalog, queue: FakeIngestQueue
) -> None:
    requested = service.request(IMAGE, COVER)
    variant = requested.variant
    assert requested.queued and variant.state == VariantState.QUEUED
    assert variant.variant_id == variant_id_of(IMAGE, COVER)
    assert variant.params == canonical(COVER)
    assert queue.variants == [EnqueuedVariant(variant.job_id, IMAGE, variant.variant_id)]
    [job] = recorded_jobs(catalog).values()
    assert (job.job_id, job.kind, job.image_id) == (variant.job_id, VARIANT_JOB_KIND, IMAGE)


def test_the_same_parameters_again_answer_the_same_variant_without_new_work(
    service: VariantService, catalog: FailableCatalog, queue: FakeIngestQueue
) -> None:
    first = service.request(IMAGE, COVER)
    spelled_otherwise = VariantParams.model_validate(
        {"height": 600, "width": 800, "fit": "cover", "grayscale": True, "quality": 85}
    )
    again = service.request(IMAGE, spelled_otherwise)
    assert not again.queued
    assert (again.variant.variant_id, again.variant.job_id) == (
        first.variant.variant_id,
        first.variant.job_id,
    )
    assert len(queue.variants) == 1 and len(recorded_jobs(catalog)) == 1


def test_a_done_variant_is_answered_as_done(
    service: VariantService, variants: VariantCatalog, queue: FakeIngestQueue
) -> None:
    first = service.request(IMAGE, COVER).variant
    variants.finish(first.variant_id, "image/webp", 800, 600, 12_345)
    again = service.request(IMAGE, COVER)
    assert (again.queued, again.variant.state, again.variant.bytes) == (
        False,
        VariantState.DONE,
        12_345,
    )
    assert len(queue.variants) == 1


def test_a_failed_variant_asked_again_is_queued_again_with_a_new_job(
    service: VariantService, variants: VariantCatalog, queue: FakeIngestQueue
) -> None:
    first = service.request(IMAGE, COVER).variant
    variants.fail(first.variant_id, "the worker gave up")
    again = service.request(IMAGE, COVER)
    assert again.queued and again.variant.state == VariantState.QUEUED
    assert again.variant.job_id != first.job_id and again.variant.error is None
    assert [m.job_id for m in queue.variants] == [first.job_id, again.variant.job_id]


@pytest.mark.parametrize(
    ("image_id", "params", "error"),
    [
        (image_id_of(b"never stored"), COVER, ImageNotFound),
        ("../" + IMAGE, COVER, InvalidInput),
        (IMAGE, VariantParams(width=4000, height=3000, fit="fill"), InvalidInput),
        (IMAGE, VariantParams(format="png"), InvalidInput),  # 6 MP at the original size
    ],
    ids=["unknown-image", "malformed-id", "over-the-cap", "original-size-over-the-cap"],
)
def test_a_refused_request_records_and_queues_nothing(
    service: VariantService,
    catalog: FailableCatalog,
    variants: VariantCatalog,
    queue: FakeIngestQueue,
    image_id: str,
    params: VariantParams,
    error: type[Exception],
) -> None:
    with pytest.raises(error):
        service.request(image_id, params)
    assert (queue.variants, recorded_jobs(catalog), variants.for_image(IMAGE)) == ([], {}, [])


def test_a_variant_the_queue_refused_is_failed_and_queued_by_the_next_request(
    service: VariantService, variants: VariantCatalog, queue: FakeIngestQueue
) -> None:
    queue.outage()
    with pytest.raises(DependencyUnavailable):
        service.request(IMAGE, COVER)
    [stranded] = variants.for_image(IMAGE)
    assert (stranded.state, stranded.error) == (VariantState.FAILED, NOT_QUEUED)
    queue.heal()
    again = service.request(IMAGE, COVER)
    assert again.queued and queue.variants[0].job_id == again.variant.job_id
