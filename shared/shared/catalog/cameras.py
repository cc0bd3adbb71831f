"""Cameras and captures in the catalog.

A capture and its job (kind ``capture``, same id) move together: each change here writes both rows
in one transaction. The job follows the capture: ``queued``, then ``processing`` while connecting
or capturing, then ``done`` or ``failed`` (a cancelled capture's job is ``failed``, reason
"cancelled"). A final capture never changes again, so a worker that lost a race with a cancel
learns it from ``set_state`` answering False and stops.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, cast

from sqlalchemy import CursorResult, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shared.cameras import (
    FINAL_STATES,
    Camera,
    CameraNotFound,
    Capture,
    CaptureNotFound,
    CaptureParams,
    CaptureState,
)
from shared.catalog.db import Catalog
from shared.catalog.jobs import new_job_row, now_ms, state_change
from shared.catalog.models import CameraRow, CaptureRow, JobRow
from shared.domain import Job, JobState
from shared.errors import Conflict
from shared.jobs import CAPTURE_JOB_KIND

CANCELLED = "cancelled"
_FINAL = [state.value for state in FINAL_STATES]
_JOB_STATE = {
    CaptureState.QUEUED: JobState.QUEUED,
    CaptureState.CONNECTING: JobState.PROCESSING,
    CaptureState.CAPTURING: JobState.PROCESSING,
    CaptureState.DONE: JobState.DONE,
    CaptureState.FAILED: JobState.FAILED,
    CaptureState.CANCELLED: JobState.FAILED,
}


def _camera(row: CameraRow) -> Camera:
    return Camera(
        camera_id=row.id,
        name=row.name,
        rtsp_url=row.rtsp_url,
        defaults=row.defaults,
        created_by=row.created_by,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _capture(row: CaptureRow) -> Capture:
    return Capture(
        capture_id=row.id,
        camera_id=row.camera_id,
        rtsp_url=row.rtsp_url,
        params=CaptureParams.from_dict(row.params),
        state=CaptureState(row.state),
        frames_kept=row.frames_kept,
        frames_skipped=row.frames_skipped,
        reconnects=row.reconnects,
        error=row.error,
        cancel_requested=row.cancel_requested,
        created_by=row.created_by,
        created_at=row.created_at,
        updated_at=row.updated_at,
        finished_at=row.finished_at,
    )


class CameraCatalog:
    def __init__(self, catalog: Catalog) -> None:
        self._catalog = catalog

    def create(self, name: str, rtsp_url: str, defaults: dict[str, Any], created_by: str) -> Camera:
        """A new camera; ``Conflict`` when the name is taken."""
        now = now_ms()
        row = CameraRow(
            id=str(uuid.uuid4()),
            name=name,
            rtsp_url=rtsp_url,
            defaults=defaults,
            created_by=created_by,
            created_at=now,
            updated_at=now,
        )
        with _unique_name(name), self._catalog.session() as session:
            session.add(row)
        return _camera(row)

    def get(self, camera_id: str) -> Camera:
        with self._catalog.session() as session:
            return _camera(_camera_row(session, camera_id))

    def list(self) -> list[Camera]:
        with self._catalog.session() as session:
            return [
                _camera(row) for row in session.scalars(select(CameraRow).order_by(CameraRow.name))
            ]

    def update(
        self,
        camera_id: str,
        *,
        name: str | None = None,
        rtsp_url: str | None = None,
        defaults: dict[str, Any] | None = None,
    ) -> Camera:
        """Change what is given; captures already made keep the URL they started with."""
        changes = {"name": name, "rtsp_url": rtsp_url, "defaults": defaults}
        with _unique_name(name or ""), self._catalog.session() as session:
            row = _camera_row(session, camera_id)
            for field, value in changes.items():
                if value is not None:
                    setattr(row, field, value)
            row.updated_at = now_ms()
        return _camera(row)

    def delete(self, camera_id: str) -> None:
        """Its captures stay (running ones finish), their ``camera_id`` null."""
        with self._catalog.session() as session:
            session.delete(_camera_row(session, camera_id))


class CaptureCatalog:
    def __init__(self, catalog: Catalog) -> None:
        self._catalog = catalog

    def create(self, capture: Capture) -> None:
        """The capture and its queued job, together."""
        now = now_ms()
        params = capture.params.as_dict()
        job = Job(capture.capture_id, JobState.QUEUED, kind=CAPTURE_JOB_KIND)
        job.params = {"camera_id": capture.camera_id, **params}
        with self._catalog.session() as session:
            session.add(
                CaptureRow(
                    id=capture.capture_id,
                    camera_id=capture.camera_id,
                    rtsp_url=capture.rtsp_url,
                    params=params,
                    state=CaptureState.QUEUED.value,
                    frames_kept=0,
                    frames_skipped=0,
                    reconnects=0,
                    cancel_requested=False,
                    created_by=capture.created_by,
                    created_at=now,
                    updated_at=now,
                )
            )
            session.add(new_job_row(job))

    def forget(self, capture_id: str) -> None:
        """Remove a capture that was never queued (the client got a 503)."""
        with self._catalog.session() as session:
            session.execute(delete(CaptureRow).where(CaptureRow.id == capture_id))
            session.execute(delete(JobRow).where(JobRow.id == capture_id))

    def get(self, capture_id: str) -> Capture:
        with self._catalog.session() as session:
            return _capture(_capture_row(session, capture_id))

    def set_state(self, capture_id: str, state: CaptureState, error: str | None = None) -> bool:
        """Move a live capture (and its job) to ``state``. False when it is final already or a
        cancel was asked for: the worker then stops (and calls ``finish``)."""
        with self._catalog.session() as session:
            moved = self._move(
                session, capture_id, state, error, CaptureRow.cancel_requested.is_(False)
            )
            if not moved:
                _capture_row(session, capture_id)  # CaptureNotFound when it never existed
            return moved

    def count(
        self, capture_id: str, *, kept: int = 0, skipped: int = 0, reconnects: int = 0
    ) -> None:
        """Add to the capture's counters, atomically (no read-modify-write)."""
        change = (
            update(CaptureRow)
            .where(CaptureRow.id == capture_id)
            .values(
                frames_kept=CaptureRow.frames_kept + kept,
                frames_skipped=CaptureRow.frames_skipped + skipped,
                reconnects=CaptureRow.reconnects + reconnects,
                updated_at=now_ms(),
            )
        )
        with self._catalog.session() as session:
            session.execute(change)

    def finish(self, capture_id: str, state: CaptureState, error: str | None = None) -> None:
        """End the capture in ``state`` (done, failed or cancelled), stamped, its job with it.
        A capture that is final already stays as it is."""
        if state not in FINAL_STATES:
            raise ValueError(f"{state} is not a final capture state")
        with self._catalog.session() as session:
            self._move(session, capture_id, state, error)

    def request_cancel(self, capture_id: str) -> Capture:
        """A queued capture is cancelled at once; a running one is flagged for its worker to
        stop at the next frame; a final one is left as it is."""
        with self._catalog.session() as session:
            self._move(
                session,
                capture_id,
                CaptureState.CANCELLED,
                None,
                CaptureRow.state == CaptureState.QUEUED.value,
            )
            session.execute(
                update(CaptureRow)
                .where(CaptureRow.id == capture_id, CaptureRow.state.not_in(_FINAL))
                .values(cancel_requested=True, updated_at=now_ms())
            )
            return _capture(_capture_row(session, capture_id))

    def cancel_requested(self, capture_id: str) -> bool:
        query = select(CaptureRow.cancel_requested).where(CaptureRow.id == capture_id)
        with self._catalog.session() as session:
            flag = session.scalar(query)
        if flag is None:
            raise CaptureNotFound(f"no capture {capture_id}")
        return flag

    @staticmethod
    def _move(
        session: Session,
        capture_id: str,
        state: CaptureState,
        error: str | None,
        *conditions: Any,
    ) -> bool:
        """Conditional, so of a worker and a cancel racing on one capture, only one ends it."""
        now = now_ms()
        final = state in FINAL_STATES
        change = (
            update(CaptureRow)
            .where(CaptureRow.id == capture_id, CaptureRow.state.not_in(_FINAL), *conditions)
            .values(state=state.value, error=error, updated_at=now)
            .values(finished_at=now if final else None)
        )
        moved = bool(cast(CursorResult[Any], session.execute(change)).rowcount)
        if moved:
            reason = CANCELLED if state is CaptureState.CANCELLED else error
            session.execute(state_change([capture_id], _JOB_STATE[state], reason))
        return moved


def _camera_row(session: Session, camera_id: str) -> CameraRow:
    row = session.get(CameraRow, camera_id)
    if row is None:
        raise CameraNotFound(f"no camera {camera_id}")
    return row


def _capture_row(session: Session, capture_id: str) -> CaptureRow:
    row = session.get(CaptureRow, capture_id)
    if row is None:
        raise CaptureNotFound(f"no capture {capture_id}")
    return row


@contextmanager
def _unique_name(name: str) -> Iterator[None]:
    """Turns the unique-name violation of the block (raised at commit) into ``Conflict``."""
    try:
        yield
    except IntegrityError as exc:
        raise Conflict(f"a camera named {name!r} exists") from exc
