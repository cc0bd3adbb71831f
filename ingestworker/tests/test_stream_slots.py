"""The stream semaphore against the session's real Redis: the cap holds across holders, a slot
frees on release or when its holder stops renewing it (a killed worker), and a lease keeps it."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest
import redis

from ingestworker.service.stream_slots import SlotAnswer, StreamSlots
from tests.support.processes import wait_until
from tests.support.servers import Servers

_keys = itertools.count()


@pytest.fixture()
def client(servers: Servers) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(servers.redis_url(15))
    yield client
    client.close()


def slots(client: redis.Redis, limit: int, ttl_s: float = 30) -> StreamSlots:
    return StreamSlots(client, limit, ttl_s, key=f"test:slots:{next(_keys)}")


def test_slots_are_capped_and_a_released_slot_is_taken_again(client: redis.Redis) -> None:
    cap = slots(client, limit=2)
    assert cap.acquire("a") is SlotAnswer.OK
    assert cap.acquire("b") is SlotAnswer.OK
    assert cap.acquire("c") is SlotAnswer.FULL
    cap.release("a")
    assert cap.acquire("c") is SlotAnswer.OK
    assert sorted(cap.holders()) == ["b", "c"]


def test_a_capture_holding_a_slot_cannot_take_a_second(client: redis.Redis) -> None:
    cap = slots(client, limit=3)
    assert cap.acquire("a") is SlotAnswer.OK
    assert cap.acquire("a") is SlotAnswer.HELD
    assert cap.holders() == ["a"]


def test_a_slot_nobody_renews_expires_and_frees_its_place(client: redis.Redis) -> None:
    cap = slots(client, limit=1, ttl_s=0.5)
    assert cap.acquire("crashed") is SlotAnswer.OK
    assert cap.acquire("next") is SlotAnswer.FULL
    assert wait_until(lambda: cap.acquire("next") is SlotAnswer.OK, 5, "the slot to expire")
    assert cap.holders() == ["next"]
    assert not cap.renew("crashed")  # its place went to another meanwhile


def test_a_lease_keeps_its_slot_past_the_ttl_and_releases_it_after(client: redis.Redis) -> None:
    key = "test:slots:lease"
    client.delete(key)
    cap = StreamSlots(client, limit=1, ttl_s=0.6, key=key)
    assert cap.acquire("streaming") is SlotAnswer.OK
    first_expiry = client.zscore(key, "streaming")
    assert first_expiry is not None
    with cap.lease("streaming") as lease:
        # renewed until well past the first expiry: had it lapsed, "other" would get in
        wait_until(
            lambda: (client.zscore(key, "streaming") or 0) > first_expiry + 1200,
            10,
            "two renewals",
        )
        assert cap.acquire("other") is SlotAnswer.FULL
        assert not lease.lost
    assert cap.holders() == []
    assert cap.acquire("other") is SlotAnswer.OK
