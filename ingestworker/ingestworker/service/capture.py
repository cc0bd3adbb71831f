"""One capture: frames from an RTSP camera into the normal ingest path.

The rules, in the order they apply:
- A stream slot first (``stream_slots``): every slot held raises ``NoStreamSlot`` (the task
  tries again later); a slot this capture already holds means another worker streams it now (a
  duplicate delivery), so this one leaves it alone. A redelivered capture that is final is done.
- Before every connection the URL passes the address policy again and the stream is opened on the
  address that was checked (``shared.cameras.check_camera_url``); a refusal fails the capture.
- Frames are read as they come; one is kept when due: at most ``fps_ceiling`` per second and no
  sooner than ``interval_s`` after the last. With ``min_change`` a due frame is embedded and
  skipped (counted, not stored) when within that cosine distance of the last kept frame.
- A kept frame is JPEG (quality 90), named by the SHA-256 of those bytes, and goes through
  ``shared.intake`` with ``source=camera``, its camera and its capture time, like any upload.
- A lost stream is reconnected after exponential backoff with full jitter; each reconnect is
  counted; after ``max_reconnects`` failures in a row (a delivered frame resets the run) it fails.
- It ends ``done`` at ``max_frames`` or ``duration_s``, ``cancelled`` when asked (polled between
  frames and during backoff), ``failed`` with a reason that never holds the URL's credentials.
"""

from __future__ import annotations

import io
import time
from dataclasses import dataclass

import numpy as np
from PIL import Image

from ingestworker.service.batcher import EmbeddingBatcher
from ingestworker.service.stream_reader import StreamError, backoff_s, open_stream
from ingestworker.service.stream_slots import SlotAnswer, SlotLease, StreamSlots
from shared.cameras import FINAL_STATES, Capture, CaptureState, allowed_networks, check_camera_url
from shared.catalog.cameras import CaptureCatalog
from shared.config import CameraSettings
from shared.domain import image_id_of
from shared.errors import InvalidInput
from shared.intake import Intake
from shared.logging import get_logger

log = get_logger(__name__)
CANCEL_POLL_S = 0.5  # how often a running capture asks whether it was cancelled
Ending = tuple[CaptureState, str | None]


class NoStreamSlot(Exception):
    """Every stream slot is held; the capture waits in the queue."""


@dataclass
class _Progress:
    capture: Capture
    interval_s: float
    deadline: float
    kept: int
    skipped: int = 0
    failures: int = 0  # failed connections in a row
    error: str | None = None
    last_embedding: np.ndarray | None = None
    next_due: float = 0.0
    next_cancel_poll: float = 0.0
    cancelled: bool = False


class CaptureService:
    def __init__(
        self,
        captures: CaptureCatalog,
        slots: StreamSlots,
        intake: Intake,
        batcher: EmbeddingBatcher,
        settings: CameraSettings,
    ) -> None:
        self._captures = captures
        self._slots = slots
        self._intake = intake
        self._batcher = batcher
        self._settings = settings
        self._allowed = allowed_networks(settings)

    def run(self, capture_id: str) -> CaptureState:
        capture = self._captures.get(capture_id)
        if capture.state in FINAL_STATES:
            return capture.state
        answer = self._slots.acquire(capture_id)
        if answer is SlotAnswer.FULL:
            raise NoStreamSlot(capture_id)
        if answer is SlotAnswer.HELD:
            log.warning("capture runs elsewhere", capture_id=capture_id)
            return capture.state
        log.info(
            "capture started",
            capture_id=capture_id,
            camera_id=capture.camera_id,
            url=capture.masked_url,
            **capture.params.as_dict(),
        )
        with self._slots.lease(capture_id) as lease:
            state, error = self._capture(capture, lease)
        self._captures.finish(capture_id, state, error)
        log.info("capture finished", capture_id=capture_id, state=state.value, error=error)
        return state

    def _capture(self, capture: Capture, lease: SlotLease) -> Ending:
        params = capture.params
        run = _Progress(
            capture,
            interval_s=max(params.interval_s, 1 / self._settings.fps_ceiling),
            deadline=time.monotonic() + params.duration_s,
            kept=capture.frames_kept,  # a redelivered capture goes on where it stopped
        )
        while True:
            if ending := self._ending(run, lease):
                return ending
            if not self._captures.set_state(capture.capture_id, CaptureState.CONNECTING):
                return CaptureState.CANCELLED, None
            try:
                target = check_camera_url(capture.rtsp_url, self._allowed)
            except InvalidInput as exc:
                return CaptureState.FAILED, exc.detail
            try:
                if ending := self._stream(run, target.pinned_url, lease):
                    return ending
            except StreamError as exc:
                run.error = exc.reason
                log.warning(
                    "stream lost",
                    capture_id=capture.capture_id,
                    reason=exc.reason,
                    url=capture.masked_url,
                    failures=run.failures + 1,
                )
            if run.failures >= self._settings.max_reconnects:
                return CaptureState.FAILED, (
                    f"the stream failed {run.failures + 1} times in a row: {run.error}"
                )
            self._pause(run, self._backoff(run.failures))
            run.failures += 1
            self._captures.count(capture.capture_id, reconnects=1)

    def _stream(self, run: _Progress, url: str, lease: SlotLease) -> Ending | None:
        settings = self._settings
        with open_stream(url, settings.connect_timeout_s, settings.read_timeout_s) as frames:
            if not self._captures.set_state(run.capture.capture_id, CaptureState.CAPTURING):
                return CaptureState.CANCELLED, None
            for frame in frames:
                run.failures = 0
                if ending := self._ending(run, lease):
                    return ending
                now = time.monotonic()
                if now >= run.next_due:
                    run.next_due = now + run.interval_s
                    self._take(run, frame.to_image(), captured_at=int(time.time() * 1000))
        return None

    def _ending(self, run: _Progress, lease: SlotLease) -> Ending | None:
        """Why the capture ends now, if it does."""
        if run.kept >= run.capture.params.max_frames:
            return CaptureState.DONE, None
        if time.monotonic() >= run.deadline:
            if run.kept or run.skipped:
                return CaptureState.DONE, None
            return CaptureState.FAILED, run.error or "no frame arrived within duration_s"
        if lease.lost:
            return CaptureState.FAILED, "the capture lost its stream slot"
        if self._cancelled(run):
            return CaptureState.CANCELLED, None
        return None

    def _cancelled(self, run: _Progress) -> bool:
        if not run.cancelled and time.monotonic() >= run.next_cancel_poll:
            run.next_cancel_poll = time.monotonic() + CANCEL_POLL_S
            run.cancelled = self._captures.cancel_requested(run.capture.capture_id)
        return run.cancelled

    def _take(self, run: _Progress, image: Image.Image, captured_at: int) -> None:
        capture = run.capture
        if capture.params.min_change > 0:
            embedding = self._batcher.embed(image)
            last = run.last_embedding
            if last is not None and 1 - float(embedding @ last) < capture.params.min_change:
                run.skipped += 1
                self._captures.count(capture.capture_id, skipped=1)
                return
            run.last_embedding = embedding
        buffer = io.BytesIO()
        image.convert("RGB").save(buffer, "JPEG", quality=90)
        data = buffer.getvalue()
        params = {
            "source": "camera",
            "camera_id": capture.camera_id,
            "captured_at": captured_at,
            "tags": list(capture.params.tags),
        }
        filename = f"capture-{capture.capture_id[:8]}-{run.kept + 1:04d}.jpg"
        job = self._intake.accept(image_id_of(data), data, "image/jpeg", filename, params)
        run.kept += 1
        self._captures.count(capture.capture_id, kept=1)
        log.info("frame kept", capture_id=capture.capture_id, job_id=job.job_id, kept=run.kept)

    def _backoff(self, failures: int) -> float:
        return backoff_s(
            failures, self._settings.reconnect_initial_s, self._settings.reconnect_max_s
        )

    def _pause(self, run: _Progress, seconds: float) -> None:
        """Sleep before reconnecting, but no later than the deadline or a cancel."""
        until = min(time.monotonic() + seconds, run.deadline)
        while (left := until - time.monotonic()) > 0 and not self._cancelled(run):
            time.sleep(min(left, CANCEL_POLL_S))
