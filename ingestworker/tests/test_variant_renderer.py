"""VariantRenderer on a fake object store and the real catalog (SQLite): what one variant job
leaves in object storage, the variant's row and the job's record, read back after each job."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import IO, Any

import numpy as np
import pytest
from PIL import Image

from ingestworker.service.variants import GONE, VariantRenderer
from ingestworker.tasks import failure_reason
from shared.catalog.images import ImageCatalog
from shared.catalog.jobs import JobStore
from shared.catalog.variants import VariantCatalog, VariantState
from shared.domain import ImageRecord, JobState, image_id_of, original_key, variant_key
from shared.errors import DependencyUnavailable, ImageSearchError, InvalidInput
from shared.variants import VariantParams, canonical, variant_id_of
from tests.support.fakes import FakeObjectStore
from tests.support.images import encode, picture
from tests.support.local_catalog import FailableCatalog

MAX_PIXELS = 50_000_000
COVER = {"width": 800, "height": 600, "fit": "cover", "format": "webp", "grayscale": True}


class DeletedWhileRendering(FakeObjectStore):
    """Object storage during a delete of the image: the catalog row goes as the variant lands."""

    def __init__(self, images: ImageCatalog) -> None:
        super().__init__()
        self.images = images

    def put(self, key: str, data: bytes | IO[bytes], content_type: str, length: int = -1) -> None:
        super().put(key, data, content_type, length)
        if key.startswith("variants/"):
            self.images.delete(key.split("/")[1])


@dataclass
class Worker:
    renderer: VariantRenderer
    objects: FakeObjectStore
    images: ImageCatalog
    variants: VariantCatalog
    jobs: JobStore

    def original(self, width: int = 3000, height: int = 2000) -> str:
        """An ingested JPEG: its original object and its catalog row."""
        data = encode(picture(width, height, (200, 60, 30)), "JPEG", quality=90)
        image_id = image_id_of(data)
        self.objects.put(original_key(image_id), data, "image/jpeg")
        record = ImageRecord(image_id, width, height, len(data), "JPEG", "photo.jpg", 1)
        self.images.add([record])
        return image_id

    def ask(self, image_id: str, job_id: str = "job-1", **raw: Any) -> str:
        """Ask for a variant as ingestapi does: a queued variant row with its job."""
        params = VariantParams.model_validate(raw or COVER)
        variant_id = variant_id_of(image_id, params)
        self.variants.create_or_get(variant_id, image_id, canonical(params), job_id)
        return variant_id

    def run(self, image_id: str, variant_id: str, job_id: str = "job-1") -> JobState:
        """The task's flow: render; on an error, the failure is recorded and the error raised."""
        try:
            return self.renderer.render(job_id, image_id, variant_id)
        except ImageSearchError as exc:
            reason = failure_reason(exc, 0, "rendering the variant")
            self.renderer.failed(job_id, variant_id, reason)
            raise


def worker_on(catalog: FailableCatalog, objects: FakeObjectStore | None = None) -> Worker:
    images, variants, jobs = ImageCatalog(catalog), VariantCatalog(catalog), JobStore(catalog)
    objects = objects or FakeObjectStore()
    renderer = VariantRenderer(objects, variants, jobs, MAX_PIXELS)
    return Worker(renderer, objects, images, variants, jobs)


@pytest.fixture
def worker(catalog: FailableCatalog) -> Worker:
    return worker_on(catalog)


def _variant_objects(worker: Worker) -> list[str]:
    return [key for key in worker.objects.objects if key.startswith("variants/")]


def test_a_queued_variant_is_rendered_stored_and_done(worker: Worker) -> None:
    image_id = worker.original()
    variant_id = worker.ask(image_id)

    assert worker.run(image_id, variant_id) == JobState.DONE

    stored = worker.objects.objects[variant_key(image_id, variant_id)]
    image = Image.open(io.BytesIO(stored.data))
    assert (stored.content_type, image.format, image.size) == ("image/webp", "WEBP", (800, 600))
    assert int(np.ptp(np.asarray(image.convert("RGB"), dtype=int), axis=2).max()) <= 2  # grey
    variant = worker.variants.get(variant_id)
    assert (variant.state, variant.mime, variant.width, variant.height, variant.bytes) == (
        VariantState.DONE,
        "image/webp",
        800,
        600,
        len(stored.data),
    )
    assert worker.jobs.get("job-1").state == JobState.DONE


def test_a_variant_delivered_again_after_it_was_done_only_finishes_its_job(worker: Worker) -> None:
    image_id = worker.original()
    variant_id = worker.ask(image_id)
    worker.run(image_id, variant_id)
    stored = dict(worker.objects.objects)
    done = worker.variants.get(variant_id)
    worker.jobs.set_state("job-1", JobState.PROCESSING)  # a crash before the ack: redelivered

    assert worker.run(image_id, variant_id) == JobState.DONE

    assert worker.objects.objects == stored
    assert worker.variants.get(variant_id) == done
    assert worker.jobs.get("job-1").state == JobState.DONE


def test_a_variant_of_a_deleted_image_fails_its_job_and_writes_nothing(worker: Worker) -> None:
    image_id = worker.original()
    variant_id = worker.ask(image_id)
    worker.images.delete(image_id)  # its variant rows go with it

    with pytest.raises(ImageSearchError):
        worker.run(image_id, variant_id)

    assert _variant_objects(worker) == []
    job = worker.jobs.get("job-1")
    assert (job.state, job.error) == (JobState.FAILED, GONE)


def test_a_missing_original_fails_the_variant_with_the_reason(worker: Worker) -> None:
    image_id = worker.original()
    variant_id = worker.ask(image_id)
    worker.objects.delete(original_key(image_id))  # a delete under way: objects go first

    with pytest.raises(ImageSearchError):
        worker.run(image_id, variant_id)

    assert _variant_objects(worker) == []
    variant = worker.variants.get(variant_id)
    assert (variant.state, variant.error) == (VariantState.FAILED, GONE)
    assert worker.jobs.get("job-1").state == JobState.FAILED


def test_an_image_deleted_while_its_variant_renders_leaves_no_object(
    catalog: FailableCatalog,
) -> None:
    worker = worker_on(catalog, DeletedWhileRendering(ImageCatalog(catalog)))
    image_id = worker.original()
    variant_id = worker.ask(image_id)

    with pytest.raises(ImageSearchError):
        worker.run(image_id, variant_id)

    assert _variant_objects(worker) == []
    assert worker.jobs.get("job-1").state == JobState.FAILED


def test_an_original_that_cannot_make_the_variant_fails_with_the_reason(
    catalog: FailableCatalog,
) -> None:
    worker = worker_on(catalog)
    worker.renderer = VariantRenderer(worker.objects, worker.variants, worker.jobs, 1_000_000)
    image_id = worker.original(100, 1000)
    variant_id = worker.ask(image_id, width=2000, format="png")  # 2000x20000: over the cap

    with pytest.raises(InvalidInput):
        worker.run(image_id, variant_id)

    variant = worker.variants.get(variant_id)
    assert variant.state == VariantState.FAILED and variant.error is not None
    assert "2000x20000" in variant.error
    assert worker.jobs.get("job-1").error == variant.error
    assert _variant_objects(worker) == []


def test_an_outage_puts_the_variant_back_in_the_queue_to_retry(worker: Worker) -> None:
    image_id = worker.original()
    variant_id = worker.ask(image_id)
    worker.objects.outage()

    with pytest.raises(DependencyUnavailable) as caught:
        worker.renderer.render("job-1", image_id, variant_id)
    worker.renderer.retrying("job-1", variant_id, f"retrying: {caught.value}")

    variant = worker.variants.get(variant_id)
    assert variant.state == VariantState.QUEUED and "retrying" in str(variant.error)
    assert worker.jobs.get("job-1").state == JobState.QUEUED

    worker.objects.heal()
    assert worker.renderer.render("job-1", image_id, variant_id) == JobState.DONE
    assert worker.variants.get(variant_id).error is None


def test_an_outage_that_outlasts_the_retries_says_so() -> None:
    assert failure_reason(DependencyUnavailable("object storage"), 10, "rendering the variant") == (
        "object storage stayed unavailable after 10 retries"
    )
    assert failure_reason(RuntimeError("secret internals"), 0, "rendering the variant") == (
        "internal error while rendering the variant"
    )
