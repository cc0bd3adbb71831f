"""Bodies of the camera and capture routes. Times are unix milliseconds, as jobs answer them.

Only types are checked here; the bounds (which depend on the ``cameras`` settings) are checked
by ``shared.cameras`` and refused with a 400 that says the limit. A camera URL is always answered
masked (``rtsp://user:***@host/path``).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.config import JsonDict

from shared.cameras import Camera, Capture, redact
from shared.openapi import UUID_PATTERN

URL_CHARS = 2048
URL_ABOUT = "rtsp:// or rtsps://, credentials included"
# Declared for the document; shared.cameras checks the scheme (and the address) and answers 400.
URL_SCHEME: JsonDict = {"pattern": "^[Rr][Tt][Ss][Pp][Ss]?://"}


class CaptureDefaults(BaseModel):
    """Capture parameters; each one left out comes from the camera's defaults, then the
    built-ins (single_frame, interval_s 1, max_frames 10, duration_s 60, min_change 0)."""

    model_config = ConfigDict(extra="forbid")

    mode: Literal["single_frame", "interval"] | None = None
    interval_s: float | None = Field(
        default=None, description="seconds between frames; at least 1 / cameras.fps_ceiling"
    )
    max_frames: int | None = Field(default=None, description="at most cameras.max_frames")
    duration_s: float | None = Field(default=None, description="at most cameras.max_duration_s")
    min_change: float | None = Field(
        default=None,
        description="skip a frame within this cosine distance (0..2) of the last kept one",
    )
    tags: list[str] | None = Field(default=None, max_length=32, description="for every frame")


class CameraIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=64)
    rtsp_url: str = Field(max_length=URL_CHARS, description=URL_ABOUT, json_schema_extra=URL_SCHEME)
    defaults: CaptureDefaults = CaptureDefaults()


class CameraPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=64)
    rtsp_url: str | None = Field(
        default=None, max_length=URL_CHARS, description=URL_ABOUT, json_schema_extra=URL_SCHEME
    )
    defaults: CaptureDefaults | None = Field(default=None, description="replaces the defaults")


class CameraOut(BaseModel):
    camera_id: str
    name: str
    rtsp_url: str = Field(description="masked: rtsp://user:***@host:port/path")
    defaults: dict[str, Any]
    created_at: int
    updated_at: int

    @classmethod
    def of(cls, camera: Camera) -> CameraOut:
        return cls(
            camera_id=camera.camera_id,
            name=camera.name,
            rtsp_url=camera.masked_url,
            defaults=camera.defaults,
            created_at=camera.created_at,
            updated_at=camera.updated_at,
        )


class CameraList(BaseModel):
    cameras: list[CameraOut]


class CaptureIn(CaptureDefaults):
    """Exactly one of ``camera_id`` and ``rtsp_url`` (an ad-hoc URL: admins only)."""

    camera_id: str | None = Field(default=None, pattern=UUID_PATTERN)
    rtsp_url: str | None = Field(
        default=None, max_length=URL_CHARS, description=URL_ABOUT, json_schema_extra=URL_SCHEME
    )

    def requested(self) -> dict[str, Any]:
        return self.model_dump(exclude={"camera_id", "rtsp_url"}, exclude_none=True)


class CaptureAccepted(BaseModel):
    capture_id: str = Field(description="poll GET /api/v1/ingest/captures/{capture_id}")
    state: str
    camera_id: str | None


class CaptureOut(BaseModel):
    capture_id: str
    camera_id: str | None = Field(description="null for an ad-hoc URL or a deleted camera")
    state: str = Field(description="queued | connecting | capturing | done | failed | cancelled")
    params: dict[str, Any]
    frames_kept: int
    frames_skipped: int = Field(description="frames too like the last kept one (min_change)")
    reconnects: int
    error: str | None
    cancel_requested: bool
    created_at: int
    updated_at: int
    finished_at: int | None
    rtsp_url: str = Field(description="masked: rtsp://user:***@host:port/path")

    @classmethod
    def of(cls, capture: Capture) -> CaptureOut:
        return cls(
            capture_id=capture.capture_id,
            camera_id=capture.camera_id,
            state=capture.state.value,
            params=capture.params.as_dict(),
            frames_kept=capture.frames_kept,
            frames_skipped=capture.frames_skipped,
            reconnects=capture.reconnects,
            error=capture.error and redact(capture.error, capture.rtsp_url),
            cancel_requested=capture.cancel_requested,
            created_at=capture.created_at,
            updated_at=capture.updated_at,
            finished_at=capture.finished_at,
            rtsp_url=capture.masked_url,
        )
