"""The work behind ``/api/v1/cameras`` and ``/api/v1/ingest/rtsp``: cameras kept, captures queued.

Every rule that can refuse a request is checked before anything is written or queued: the URL
against the camera address policy (``shared.cameras``), the parameters against the capture
bounds, who may name an ad-hoc URL (admins only). A capture whose message could not be queued
is removed again (the client gets a 503), so no capture waits on a job no worker will ever see.
URLs are logged masked, or not at all: their credentials never reach a log line.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from ingestapi.queue import IngestQueue
from shared.cameras import (
    Camera,
    Capture,
    Resolver,
    allowed_networks,
    check_camera_url,
    check_defaults,
    resolve_host,
    resolve_params,
)
from shared.catalog.cameras import CameraCatalog, CaptureCatalog
from shared.config import CameraSettings
from shared.errors import DependencyUnavailable, Forbidden, ImageSearchError, InvalidInput
from shared.identity.roles import Principal, Role
from shared.logging import get_logger

log = get_logger(__name__)


class CameraService:
    def __init__(
        self, cameras: CameraCatalog, settings: CameraSettings, resolve: Resolver = resolve_host
    ) -> None:
        self._cameras = cameras
        self._settings = settings
        self._allowed = allowed_networks(settings)
        self._resolve = resolve

    def create(
        self, name: str, rtsp_url: str, defaults: Mapping[str, Any], created_by: str
    ) -> Camera:
        check_camera_url(rtsp_url, self._allowed, self._resolve)
        stored = check_defaults(defaults, self._settings)
        camera = self._cameras.create(name, rtsp_url, stored, created_by)
        log.info("camera created", camera_id=camera.camera_id, url=camera.masked_url)
        return camera

    def update(
        self,
        camera_id: str,
        name: str | None,
        rtsp_url: str | None,
        defaults: Mapping[str, Any] | None,
    ) -> Camera:
        """Change what is given; running captures keep the URL they started with."""
        if rtsp_url is not None:
            check_camera_url(rtsp_url, self._allowed, self._resolve)
        stored = None if defaults is None else check_defaults(defaults, self._settings)
        camera = self._cameras.update(camera_id, name=name, rtsp_url=rtsp_url, defaults=stored)
        log.info("camera updated", camera_id=camera_id, url=camera.masked_url)
        return camera

    def delete(self, camera_id: str) -> None:
        """Its captures stay; running ones finish with the URL they started with."""
        self._cameras.delete(camera_id)
        log.info("camera deleted", camera_id=camera_id)


class CaptureService:
    def __init__(
        self,
        cameras: CameraCatalog,
        captures: CaptureCatalog,
        queue: IngestQueue,
        settings: CameraSettings,
        resolve: Resolver = resolve_host,
    ) -> None:
        self._cameras = cameras
        self._captures = captures
        self._queue = queue
        self._settings = settings
        self._allowed = allowed_networks(settings)
        self._resolve = resolve

    def start(
        self,
        principal: Principal,
        camera_id: str | None,
        rtsp_url: str | None,
        requested: Mapping[str, Any],
    ) -> Capture:
        """A queued capture from a camera (its URL and defaults) or, for an admin, from an
        ad-hoc URL; ``requested`` parameters override the camera's defaults."""
        if (camera_id is None) == (rtsp_url is None):
            raise InvalidInput("name exactly one of camera_id and rtsp_url")
        defaults: Mapping[str, Any] = {}
        if rtsp_url is None:
            camera = self._cameras.get(str(camera_id))
            rtsp_url, defaults = camera.rtsp_url, camera.defaults
        elif not principal.role.allows(Role.ADMIN):
            raise Forbidden("only an admin may capture from an rtsp_url; name a camera_id")
        check_camera_url(rtsp_url, self._allowed, self._resolve)
        params = resolve_params(requested, defaults, self._settings)
        capture = Capture(str(uuid.uuid4()), camera_id, rtsp_url, params, created_by=principal.name)
        self._captures.create(capture)
        self._enqueue(capture.capture_id)
        log.info(
            "capture queued",
            capture_id=capture.capture_id,
            camera_id=camera_id,
            url=capture.masked_url,
            mode=params.mode.value,
        )
        return self._captures.get(capture.capture_id)

    def cancel(self, capture_id: str) -> Capture:
        """A queued capture ends now; a running one stops at its worker's next frame."""
        capture = self._captures.request_cancel(capture_id)
        log.info("capture cancel requested", capture_id=capture_id, state=capture.state.value)
        return capture

    def _enqueue(self, capture_id: str) -> None:
        try:
            self._queue.enqueue_capture(capture_id)
        except DependencyUnavailable:
            try:
                self._captures.forget(capture_id)
            except ImageSearchError as exc:  # the catalog is down too: the row stays queued
                log.warning("capture left queued", capture_id=capture_id, error=exc.code)
            raise
