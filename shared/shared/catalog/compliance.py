"""Compliance decisions in the catalog, and the list of images held in quarantine.

Every decision is a row: each check's outcome for each new image (``pass``, ``reject``,
``quarantine``), and each admin's ``release`` or ``delete`` of a held image. Rows are only ever
added. The held images themselves are ``images`` rows in the ``quarantined`` state, read and
written through ``ImageCatalog(catalog, QUARANTINED)``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select

from shared.catalog.db import Catalog
from shared.catalog.images import QUARANTINED
from shared.catalog.jobs import now_ms
from shared.catalog.models import ComplianceDecisionRow, ImageRow

RELEASE = "release"
DELETE = "delete"


@dataclass(frozen=True)
class Decision:
    image_id: str
    check: str  # the configured check's name, or ``admin`` for a release or delete
    outcome: str  # pass | reject | quarantine | release | delete
    reason: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    job_id: str | None = None
    decided_by: str | None = None
    decided_at: int = 0


def _decision(row: ComplianceDecisionRow) -> Decision:
    return Decision(
        image_id=row.image_id,
        check=row.check,
        outcome=row.outcome,
        reason=row.reason,
        details=row.details,
        job_id=row.job_id,
        decided_by=row.decided_by,
        decided_at=row.decided_at,
    )


class ComplianceCatalog:
    def __init__(self, catalog: Catalog) -> None:
        self._catalog = catalog

    def record(self, decisions: Sequence[Decision]) -> None:
        """Add the decisions, stamped now (one transaction)."""
        stamp = now_ms()
        with self._catalog.session() as session:
            session.add_all(
                ComplianceDecisionRow(
                    image_id=d.image_id,
                    job_id=d.job_id,
                    check=d.check,
                    outcome=d.outcome,
                    reason=d.reason,
                    details=d.details,
                    decided_by=d.decided_by,
                    decided_at=d.decided_at or stamp,
                )
                for d in decisions
            )

    def history(self, image_ids: Iterable[str]) -> dict[str, list[Decision]]:
        """Each image's decisions, oldest first (images without any are left out)."""
        wanted = list(set(image_ids))
        if not wanted:
            return {}
        query = (
            select(ComplianceDecisionRow)
            .where(ComplianceDecisionRow.image_id.in_(wanted))
            .order_by(ComplianceDecisionRow.id)
        )
        found: dict[str, list[Decision]] = {}
        with self._catalog.session() as session:
            for row in session.scalars(query):
                found.setdefault(row.image_id, []).append(_decision(row))
        return found

    def held_ids(self, limit: int, offset: int) -> tuple[list[str], int]:
        """A page of the quarantined images' ids, newest first, and how many there are."""
        held = ImageRow.state == QUARANTINED
        with self._catalog.session() as session:
            total = session.scalar(select(func.count()).select_from(ImageRow).where(held))
            query = (
                select(ImageRow.id)
                .where(held)
                .order_by(ImageRow.ingested_at.desc(), ImageRow.id)
                .offset(offset)
                .limit(limit)
            )
            return list(session.scalars(query)), int(total or 0)
