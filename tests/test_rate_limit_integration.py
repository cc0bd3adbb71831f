"""The rate limit's moving window on a real Redis: one script counts, refuses, answers the
header fields and lets a request through again once the oldest one left the window."""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest

from shared.config import RateLimitSettings
from shared.errors import RateLimited
from shared.identity.ratelimit import RateLimiter
from tests.support.servers import Servers


def _limiter(servers: Servers, search: str) -> RateLimiter:
    url = f"redis://127.0.0.1:{servers.redis_port}/0"
    return RateLimiter(RateLimitSettings(search=search, login="2/minute"), url)


def test_a_window_counts_refuses_and_keeps_credentials_apart(servers: Servers) -> None:
    limiter, key = _limiter(servers, "3/minute"), f"key:{uuid.uuid4().hex}"

    async def run() -> None:
        answers = [await limiter.hit("search", key) for _ in range(3)]
        assert [a["RateLimit"].split(";")[1] for a in answers] == ["r=2", "r=1", "r=0"]
        assert answers[0]["RateLimit-Policy"] == '"search";q=3;w=60'
        with pytest.raises(RateLimited) as over:
            await limiter.hit("search", key)
        assert 55 <= int(over.value.headers["Retry-After"]) <= 60
        other = await limiter.hit("search", f"{key}-other")  # its own window
        assert other["RateLimit"].split(";")[1] == "r=2"

    asyncio.run(run())


def test_a_look_counts_nothing(servers: Servers) -> None:
    limiter, key = _limiter(servers, "3/minute"), f"user:{uuid.uuid4().hex}"

    async def run() -> None:
        for _ in range(5):
            await limiter.check("login", key)  # sign-in looks before it counts a failure
        await limiter.hit("login", key)
        await limiter.hit("login", key)
        for _ in range(3):
            with pytest.raises(RateLimited):
                await limiter.check("login", key)
            with pytest.raises(RateLimited):
                await limiter.hit("login", key)

    asyncio.run(run())


def test_the_window_lets_one_through_once_the_oldest_left_refusals_uncounted(
    servers: Servers,
) -> None:
    limiter, key = _limiter(servers, "2 per 1 second"), f"key:{uuid.uuid4().hex}"

    async def run() -> float:
        await limiter.hit("search", key)
        await limiter.hit("search", key)
        full_at = time.monotonic()
        with pytest.raises(RateLimited):
            await limiter.hit("search", key)
        deadline = full_at + 3
        while time.monotonic() < deadline:
            try:
                await limiter.hit("search", key)
                return time.monotonic() - full_at
            except RateLimited:
                await asyncio.sleep(0.05)  # polling the window, with a deadline
        raise AssertionError("the window never let a request through again")

    waited = asyncio.run(run())
    assert waited <= 1.2, waited
