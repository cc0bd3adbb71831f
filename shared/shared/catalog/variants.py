"""Variants in the catalog: which transformations of an image exist, where each one stands, and
the job that renders it.

A variant and its job move together: each change of state here writes both rows in one
transaction, so a client following either sees the same story. Asking for a variant is race-safe:
the first request inserts the row (with its job), any other finds it; a failed variant asked for
again is re-queued by exactly one request, with that request's new job.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.exc import IntegrityError

from shared.catalog.db import Catalog
from shared.catalog.jobs import new_job_row, now_ms, state_change
from shared.catalog.models import VariantRow
from shared.domain import Job, JobState
from shared.errors import ImageNotFound, VariantNotFound
from shared.jobs import VARIANT_JOB_KIND


class VariantState(StrEnum):
    QUEUED = "queued"
    PROCESSING = "processing"
    DONE = "done"
    FAILED = "failed"


@dataclass(frozen=True)
class Variant:
    variant_id: str
    image_id: str
    params: dict[str, Any]
    state: VariantState
    job_id: str
    mime: str | None = None
    width: int | None = None
    height: int | None = None
    bytes: int | None = None
    error: str | None = None
    created_at: int = 0
    updated_at: int = 0


def _variant(row: VariantRow) -> Variant:
    return Variant(
        variant_id=row.variant_id,
        image_id=row.image_id,
        params=row.params,
        state=VariantState(row.state),
        job_id=row.job_id,
        mime=row.mime,
        width=row.width,
        height=row.height,
        bytes=row.bytes,
        error=row.error,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _job(job_id: str, image_id: str, variant_id: str) -> Job:
    return Job(
        job_id,
        JobState.QUEUED,
        image_id=image_id,
        kind=VARIANT_JOB_KIND,
        params={"variant_id": variant_id},
    )


class VariantCatalog:
    def __init__(self, catalog: Catalog) -> None:
        self._catalog = catalog

    def get(self, variant_id: str) -> Variant:
        with self._catalog.session() as session:
            row = session.get(VariantRow, variant_id)
            if row is None:
                raise VariantNotFound(f"no variant {variant_id}")
            return _variant(row)

    def for_image(self, image_id: str) -> list[Variant]:
        """The image's variants, newest first."""
        query = (
            select(VariantRow)
            .where(VariantRow.image_id == image_id)
            .order_by(VariantRow.created_at.desc(), VariantRow.variant_id)
        )
        with self._catalog.session() as session:
            return [_variant(row) for row in session.scalars(query)]

    def create_or_get(
        self, variant_id: str, image_id: str, params: dict[str, Any], job_id: str
    ) -> tuple[Variant, bool]:
        """The variant, and whether job ``job_id`` was recorded (queued) to render it: True for a
        new variant and for a failed one asked for again; False when it is done or on its way.
        ``ImageNotFound`` when the image is not (or no longer) in the catalog."""
        now = now_ms()
        row = VariantRow(
            variant_id=variant_id,
            image_id=image_id,
            params=params,
            state=VariantState.QUEUED.value,
            job_id=job_id,
            created_at=now,
            updated_at=now,
        )
        try:
            with self._catalog.session() as session:
                session.add(row)
                session.add(new_job_row(_job(job_id, image_id, variant_id)))
            return _variant(row), True
        except IntegrityError:
            pass  # the variant exists already, or its image does not (the foreign key)
        return self._requeue_if_failed(variant_id, image_id, job_id)

    def _requeue_if_failed(
        self, variant_id: str, image_id: str, job_id: str
    ) -> tuple[Variant, bool]:
        with self._catalog.session() as session:
            # Conditional, so of two requests that both saw it failed, one re-queues it.
            requeue = (
                update(VariantRow)
                .where(
                    VariantRow.variant_id == variant_id,
                    VariantRow.state == VariantState.FAILED.value,
                )
                .values(state=VariantState.QUEUED.value, job_id=job_id, error=None)
                .values(updated_at=now_ms())
            )
            requeued = bool(cast(CursorResult[Any], session.execute(requeue)).rowcount)
            if requeued:
                session.add(new_job_row(_job(job_id, image_id, variant_id)))
            row = session.get(VariantRow, variant_id)
            if row is None:
                raise ImageNotFound(f"no image {image_id}")
            return _variant(row), requeued

    def set_state(self, variant_id: str, state: VariantState, error: str | None = None) -> None:
        """Move the variant and its job to ``state`` (the worker: processing, or back to queued
        while it retries)."""
        self._change(variant_id, state, error)

    def finish(self, variant_id: str, mime: str, width: int, height: int, bytes: int) -> None:
        """The variant is stored: done, with what it is; its job done."""
        self._change(
            variant_id, VariantState.DONE, mime=mime, width=width, height=height, bytes=bytes
        )

    def fail(self, variant_id: str, error: str) -> None:
        self._change(variant_id, VariantState.FAILED, error)

    def _change(
        self, variant_id: str, state: VariantState, error: str | None = None, **values: Any
    ) -> None:
        """``VariantNotFound`` when the row is gone (its image was deleted)."""
        with self._catalog.session() as session:
            row = session.get(VariantRow, variant_id)
            if row is None:
                raise VariantNotFound(f"no variant {variant_id}")
            for name, value in {**values, "state": state.value, "error": error}.items():
                setattr(row, name, value)
            row.updated_at = now_ms()
            session.execute(state_change([row.job_id], JobState(state.value), error))
