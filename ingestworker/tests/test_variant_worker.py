"""The variant task on a real worker process: sent by name to the ``variants`` queue (as ingestapi
sends it), consumed by the one worker beside ingest jobs, stored in MinIO, recorded in the
catalog; and failed with its reason, leaving nothing, when the image was deleted meanwhile."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from celery import Celery
from PIL import Image

from ingestworker.service.variants import GONE
from shared.catalog.db import Catalog
from shared.catalog.images import ImageCatalog
from shared.catalog.jobs import JobStore
from shared.catalog.variants import VariantCatalog, VariantState
from shared.domain import (
    ImageRecord,
    Job,
    JobState,
    image_id_of,
    original_key,
    variant_key,
    variants_prefix,
)
from shared.jobs import VARIANT_QUEUE, VARIANT_TASK
from shared.variants import VariantParams, canonical, variant_id_of
from tests.support.images import encode, picture
from tests.support.processes import wait_until
from tests.support.stack import Stack

COVER = VariantParams(width=800, height=600, fit="cover", format="webp", grayscale=True)


@pytest.fixture(scope="module")
def stack(stack_factory: Any) -> Iterator[Stack]:
    stack = stack_factory("variant-worker")
    stack.start_worker()
    yield stack
    stack.stop_all()


@pytest.fixture(scope="module")
def catalog(stack: Stack) -> Iterator[Catalog]:
    catalog = stack.catalog()
    yield catalog
    catalog.close()


@pytest.fixture(scope="module")
def producer(stack: Stack) -> Iterator[Celery]:
    app = Celery("tests", broker=stack.servers.redis_url(stack.redis_db), set_as_current=False)
    app.conf.update(task_serializer="json")
    yield app
    app.close()


def _ingested(stack: Stack, catalog: Catalog, seed: int) -> str:
    data = encode(picture(3000, 2000, (seed, 90, 30)), "JPEG", quality=90)
    image_id = image_id_of(data)
    stack.objects().put(original_key(image_id), data, "image/jpeg")
    record = ImageRecord(image_id, 3000, 2000, len(data), "JPEG", "photo.jpg", 1)
    ImageCatalog(catalog).add([record])
    return image_id


def _asked(catalog: Catalog, image_id: str, job_id: str) -> str:
    variant_id = variant_id_of(image_id, COVER)
    VariantCatalog(catalog).create_or_get(variant_id, image_id, canonical(COVER), job_id)
    return variant_id


def _sent_and_finished(
    producer: Celery, catalog: Catalog, job_id: str, image_id: str, variant_id: str
) -> Job:
    producer.send_task(
        VARIANT_TASK,
        kwargs={"job_id": job_id, "image_id": image_id, "variant_id": variant_id},
        task_id=job_id,
        queue=VARIANT_QUEUE,
    )
    jobs = JobStore(catalog)

    def finished() -> Job | None:
        job = jobs.get(job_id)
        return job if job.state in (JobState.DONE, JobState.FAILED) else None

    return wait_until(finished, 120, f"variant job {job_id} to finish", interval=0.2)


def test_a_variant_job_on_the_variants_queue_is_rendered_and_stored(
    stack: Stack, catalog: Catalog, producer: Celery
) -> None:
    image_id = _ingested(stack, catalog, seed=10)
    job_id = "5d1f6e6a-0000-4000-8000-000000000001"
    variant_id = _asked(catalog, image_id, job_id)

    job = _sent_and_finished(producer, catalog, job_id, image_id, variant_id)

    assert (job.state, job.kind) == (JobState.DONE, "variant")
    key = variant_key(image_id, variant_id)
    assert stack.objects().stat(key).content_type == "image/webp"
    image = Image.open(io.BytesIO(stack.objects().get(key)))
    assert (image.format, image.size) == ("WEBP", (800, 600))
    assert int(np.ptp(np.asarray(image.convert("RGB"), dtype=int), axis=2).max()) <= 2
    variant = VariantCatalog(catalog).get(variant_id)
    assert (variant.state, variant.width, variant.height) == (VariantState.DONE, 800, 600)


def test_a_variant_of_an_image_deleted_meanwhile_fails_and_leaves_nothing(
    stack: Stack, catalog: Catalog, producer: Celery
) -> None:
    image_id = _ingested(stack, catalog, seed=20)
    job_id = "5d1f6e6a-0000-4000-8000-000000000002"
    variant_id = _asked(catalog, image_id, job_id)
    ImageCatalog(catalog).delete(image_id)

    job = _sent_and_finished(producer, catalog, job_id, image_id, variant_id)

    assert (job.state, job.error) == (JobState.FAILED, GONE)
    assert list(stack.objects().keys(variants_prefix(image_id))) == []
