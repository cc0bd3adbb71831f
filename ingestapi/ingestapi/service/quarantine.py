"""The work behind ``/api/v1/admin/quarantine``: the images a compliance check held back, and an
admin's release or delete of each. Every release and delete is recorded as a decision (who,
when) before it is carried out.

A release queues a job ``{"release": true}``: the worker indexes the held copy without the
checks, then removes it from ``quarantine/``. A delete removes the row, then the bytes (a crash
in between leaves bytes ``imgsearch admin verify`` finds).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from shared.catalog.compliance import DELETE, RELEASE, ComplianceCatalog, Decision
from shared.catalog.images import ImageCatalog
from shared.domain import ImageRecord, check_image_id, quarantine_key, quarantine_thumb_key
from shared.logging import get_logger
from shared.storage import ObjectStore

log = get_logger(__name__)
ADMIN_CHECK = "admin"  # the ``check`` of an admin's decision
# (image_id, filename, params) -> the queued job, with its ``job_id``
Requeue = Callable[[str, str, dict[str, Any]], Any]


@dataclass
class HeldImage:
    record: ImageRecord
    decisions: list[Decision]


@dataclass
class HeldPage:
    images: list[HeldImage]
    total: int


class QuarantineService:
    def __init__(
        self,
        held: ImageCatalog,
        decisions: ComplianceCatalog,
        objects: ObjectStore,
        requeue: Requeue,
    ) -> None:
        self._held = held  # the catalog's quarantined images
        self._decisions = decisions
        self._objects = objects
        self._requeue = requeue

    def page(self, limit: int, offset: int) -> HeldPage:
        """Newest first, each with every decision made about it."""
        ids, total = self._decisions.held_ids(limit, offset)
        records = {record.id: record for record in self._held.get_many(ids)}
        history = self._decisions.history(records)
        images = [HeldImage(records[i], history.get(i, [])) for i in ids if i in records]
        return HeldPage(images, total)

    def release(self, image_id: str, admin: str) -> str:
        """Queue the held image's indexing; answers the job id."""
        record = self._held.get(check_image_id(image_id))  # ImageNotFound unless held
        self._decide(image_id, RELEASE, admin)
        job = self._requeue(image_id, record.filename, {"release": True})
        log.info("release queued", image_id=image_id, job_id=job.job_id, admin=admin)
        return str(job.job_id)

    def delete(self, image_id: str, admin: str) -> None:
        self._held.get(check_image_id(image_id))  # ImageNotFound unless held
        self._decide(image_id, DELETE, admin)
        self._held.delete(image_id)
        self._objects.delete(quarantine_thumb_key(image_id))
        self._objects.delete(quarantine_key(image_id))
        log.info("held image deleted", image_id=image_id, admin=admin)

    def _decide(self, image_id: str, outcome: str, admin: str) -> None:
        self._decisions.record([Decision(image_id, ADMIN_CHECK, outcome, decided_by=admin)])
