"""The compliance gate in the ingest pipeline: run the configured checks on a new image, record
every decision, and hold a quarantined image where nothing serves or searches it.

The checks run in their configured order on the decoded picture and its embedding, before
anything of the image is written. A reject stops at once (nothing of the image is kept, so the
later checks have nothing left to decide) and fails the job with the check's reason; otherwise
quarantine wins over pass. A check's metadata rewrite (the location policy) is what the next
check sees and what is stored. A held image's original and thumbnail live under
``quarantine/`` (the byte servers serve only ``originals/`` and ``thumbs/``), its catalog row is
``quarantined`` and it has no index row, until an admin releases or deletes it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from shared.catalog.compliance import ComplianceCatalog, Decision
from shared.catalog.images import ImageCatalog
from shared.compliance import CheckTools, ComplianceCheck, Outcome, Subject, load_checks
from shared.config import ComplianceCheckSettings
from shared.domain import ImageRecord, quarantine_key, quarantine_thumb_key
from shared.embedding import ClipEmbedder
from shared.errors import ImageNotFound, InvalidImage
from shared.logging import get_logger
from shared.storage import ObjectStore

log = get_logger(__name__)


@dataclass(frozen=True)
class Review:
    """All checks' answer for one image: the outcome, why, and the metadata to store."""

    outcome: Outcome
    exif: dict[str, Any]
    reason: str | None = None


def build_checks(
    configured: Sequence[ComplianceCheckSettings], embedder: ClipEmbedder
) -> list[ComplianceCheck]:
    """The configured checks, built with the worker's model (a zero-shot rule embeds its
    prompts with it); raises ``ComplianceConfigError`` for any that cannot be built."""
    return load_checks(configured, CheckTools(embed_texts=embedder.embed_texts))


class ComplianceGate:
    def __init__(
        self,
        checks: Sequence[ComplianceCheck],
        decisions: ComplianceCatalog,
        objects: ObjectStore,
        held: ImageCatalog,
    ) -> None:
        self._checks = list(checks)
        self._decisions = decisions
        self._objects = objects
        self._held = held  # the catalog's quarantined images

    def review(self, subject: Subject, job_id: str) -> Review:
        """Every check's verdict, recorded; a reject raises ``InvalidImage`` with its reason."""
        review = Review(Outcome.PASS, dict(subject.exif))
        decisions = []
        for check in self._checks:
            verdict = check.review(replace(subject, exif=review.exif))
            decisions.append(
                Decision(
                    subject.image_id,
                    check.name,
                    verdict.outcome.value,
                    verdict.reason,
                    verdict.details,
                    job_id=job_id,
                )
            )
            if verdict.exif is not None:
                review = replace(review, exif=verdict.exif)
            if verdict.outcome is Outcome.REJECT:
                self._decisions.record(decisions)
                log.info("rejected", image_id=subject.image_id, job_id=job_id, check=check.name)
                raise InvalidImage(f"rejected by {check.name}: {verdict.reason}", "rejected")
            if verdict.outcome is Outcome.QUARANTINE and review.outcome is Outcome.PASS:
                review = replace(review, outcome=Outcome.QUARANTINE, reason=verdict.reason)
        if decisions:
            self._decisions.record(decisions)
        return review

    def hold(
        self, record: ImageRecord, data: bytes, mime: str, thumbnail: bytes, job_id: str
    ) -> None:
        """Keep a quarantined image: bytes under ``quarantine/``, its row ``quarantined`` (the
        job with it, in one transaction). Idempotent: a redelivery writes the same again."""
        self._objects.put(quarantine_key(record.id), data, mime)
        self._objects.put(quarantine_thumb_key(record.id), thumbnail, "image/webp")
        self._held.add([record], finished_jobs=[job_id])
        log.info("quarantined", image_id=record.id, job_id=job_id)

    def held(self, image_id: str) -> ImageRecord | None:
        """The quarantined image's record, None when it is not held."""
        try:
            return self._held.get(image_id)
        except ImageNotFound:
            return None

    def held_original(self, image_id: str) -> bytes:
        return self._objects.get(quarantine_key(image_id))

    def let_go(self, image_id: str) -> None:
        """A released image's quarantine copies go (after it is indexed from them)."""
        self._objects.delete(quarantine_thumb_key(image_id))
        self._objects.delete(quarantine_key(image_id))
