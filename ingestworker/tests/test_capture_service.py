"""A capture's rules that need no frames, on a real catalog (SQLite) and the session's Redis:
no slot keeps it queued, a capture another worker streams or one already final is left alone,
the address policy refuses before connecting, and a cancel cuts a reconnect backoff short."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from ingestworker.service.capture import CaptureService, NoStreamSlot
from ingestworker.service.stream_slots import SlotAnswer, StreamSlots
from shared.cameras import BUILT_IN_DEFAULTS, Capture, CaptureParams, CaptureState
from shared.catalog import migrate
from shared.catalog.cameras import CaptureCatalog
from shared.catalog.db import Catalog
from shared.config import CameraSettings, DatabaseSettings
from tests.support.processes import free_port, wait_until
from tests.support.servers import Servers

SINGLE = CaptureParams.from_dict(BUILT_IN_DEFAULTS)
NOT_CALLED: Any = None  # the intake and batcher: no case here gets as far as a frame


@pytest.fixture()
def captures(tmp_path: Path) -> Iterator[CaptureCatalog]:
    catalog = Catalog(DatabaseSettings(url=f"sqlite:///{tmp_path / 'catalog.db'}"))
    migrate.upgrade(catalog)
    yield CaptureCatalog(catalog)
    catalog.close()


@pytest.fixture()
def slots(servers: Servers) -> Iterator[StreamSlots]:
    client = redis.Redis.from_url(servers.redis_url(15))
    yield StreamSlots(client, limit=1, ttl_s=30, key=f"test:capture:{uuid.uuid4()}")
    client.close()


def service(captures: CaptureCatalog, slots: StreamSlots, **settings: Any) -> CaptureService:
    return CaptureService(captures, slots, NOT_CALLED, NOT_CALLED, CameraSettings(**settings))


def queued(captures: CaptureCatalog, url: str = "rtsp://u:pw@127.0.0.1:8554/cam") -> str:
    capture_id = str(uuid.uuid4())
    captures.create(Capture(capture_id, None, url, SINGLE, created_by="tests"))
    return capture_id


def test_a_capture_that_finds_every_slot_held_stays_queued(
    captures: CaptureCatalog, slots: StreamSlots
) -> None:
    capture_id = queued(captures)
    assert slots.acquire("another-capture") is SlotAnswer.OK
    with pytest.raises(NoStreamSlot):
        service(captures, slots).run(capture_id)
    assert captures.get(capture_id).state is CaptureState.QUEUED


def test_a_capture_streaming_on_another_worker_is_left_to_it(
    captures: CaptureCatalog, slots: StreamSlots
) -> None:
    capture_id = queued(captures)
    assert slots.acquire(capture_id) is SlotAnswer.OK  # the other worker's
    assert service(captures, slots).run(capture_id) is CaptureState.QUEUED
    assert slots.holders() == [capture_id]  # its slot is not released under it


def test_a_final_capture_delivered_again_is_not_run_again(
    captures: CaptureCatalog, slots: StreamSlots
) -> None:
    capture_id = queued(captures)
    captures.finish(capture_id, CaptureState.DONE)
    assert service(captures, slots).run(capture_id) is CaptureState.DONE
    assert slots.holders() == []


def test_a_camera_outside_the_allowed_networks_fails_before_connecting(
    captures: CaptureCatalog, slots: StreamSlots
) -> None:
    capture_id = queued(captures)
    ran = service(captures, slots, allowed_networks=["10.0.0.0/8"]).run(capture_id)
    capture = captures.get(capture_id)
    assert ran is capture.state is CaptureState.FAILED
    assert capture.error is not None and "not on an allowed camera network" in capture.error
    assert "pw" not in capture.error and capture.reconnects == 0
    assert slots.holders() == []


def test_a_cancel_cuts_a_reconnect_backoff_short(
    captures: CaptureCatalog, slots: StreamSlots
) -> None:
    capture_id = queued(captures, f"rtsp://u:pw@127.0.0.1:{free_port()}/cam")
    slow = service(captures, slots, reconnect_initial_s=60, reconnect_max_s=60)
    ended: list[CaptureState] = []
    runner = threading.Thread(target=lambda: ended.append(slow.run(capture_id)))
    runner.start()
    wait_until(
        lambda: captures.get(capture_id).state is CaptureState.CONNECTING, 10, "a first attempt"
    )
    captures.request_cancel(capture_id)
    runner.join(timeout=5)
    assert not runner.is_alive(), "still sleeping out its backoff"
    assert ended == [CaptureState.CANCELLED]
    assert captures.get(capture_id).state is CaptureState.CANCELLED
