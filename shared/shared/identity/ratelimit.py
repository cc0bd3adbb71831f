"""Rate limits: a moving window per (route class, credential or client address), kept in Redis
so every API process counts against the same window.

A window is one sorted set of request times; one Lua script drops the times that left the
window, decides, counts and answers what the header fields need, in one round trip, on Redis's
clock (so API processes with drifting clocks share one window). It runs on the event loop
(``redis.asyncio``): a count takes one round trip and no thread hop. Limits are written in the
``limits`` notation (``300/minute``, ``100 per 10 seconds``). The store is a Redis URL
(``redis://``, ``rediss://``, ``unix://``); ``memory://`` keeps the windows in the process instead
(one process only: tests, a single dev process).

Answers carry the IETF RateLimit fields (``RateLimit-Policy: "search";q=300;w=60`` and
``RateLimit: "search";r=12;t=40``); over the limit is ``RateLimited`` with ``Retry-After``.
If Redis does not answer, search and ingest go on uncounted (logged); sign-in does not.
"""

from __future__ import annotations

import asyncio
import math
import secrets
import time
from collections import deque
from dataclasses import dataclass
from typing import Protocol

from limits import parse
from redis.asyncio import Redis
from redis.commands.core import AsyncScript

from shared.config import RateLimitSettings
from shared.errors import DependencyUnavailable, RateLimited
from shared.logging import get_logger

log = get_logger(__name__)
CLASSES = ("login", "ingest", "search")
FAIL_CLOSED = frozenset({"login"})  # brute-force protection must not lapse with Redis
_KEY_PREFIX = "ratelimit"

# KEYS[1]: the window's sorted set. ARGV: window (ms), limit, count (1: count this request,
# 0: only look), a member unique to this request. Answers {allowed, used, ms until a slot frees}.
_MOVING_WINDOW = """
local now = redis.call('TIME')
local now_ms = now[1] * 1000 + math.floor(now[2] / 1000)
local window, limit, count = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now_ms - window)
local used = redis.call('ZCARD', KEYS[1])
local allowed = used < limit
if allowed and count == 1 then
  redis.call('ZADD', KEYS[1], now_ms, ARGV[4])
  redis.call('PEXPIRE', KEYS[1], window)
  used = used + 1
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
local reset_in = window
if oldest[2] then reset_in = tonumber(oldest[2]) + window - now_ms end
return {allowed and 1 or 0, used, reset_in}
"""


@dataclass(frozen=True)
class Policy:
    """One route class's limit: ``amount`` requests per ``window_s`` seconds."""

    name: str
    amount: int
    window_s: int

    @classmethod
    def parse(cls, name: str, notation: str) -> Policy:
        item = parse(notation)
        return cls(name, item.amount, item.get_expiry())

    def answer(self, allowed: bool, used: int, reset_in_ms: int) -> dict[str, str]:
        """The header fields for a decision; raises ``RateLimited`` when it refused."""
        reset_in = max(0, math.ceil(reset_in_ms / 1000))
        headers = {
            "RateLimit-Policy": f'"{self.name}";q={self.amount};w={self.window_s}',
            "RateLimit": f'"{self.name}";r={max(0, self.amount - used)};t={reset_in}',
        }
        if not allowed:
            retry = str(max(1, reset_in))
            raise RateLimited(
                f"too many {self.name} requests; try again in {retry} s",
                {**headers, "Retry-After": retry},
            )
        return headers


class Windows(Protocol):
    """Where windows live: count (or only look at) one request of ``key``; answers (allowed,
    requests in the window, ms until the oldest leaves it)."""

    async def __call__(
        self, key: str, window_ms: int, limit: int, count: bool
    ) -> tuple[bool, int, int]: ...


class RedisWindows:
    """Windows in Redis, one script call each; a Redis that has not answered in 2 s counts as
    down (a search goes on uncounted, a sign-in is refused)."""

    def __init__(self, url: str) -> None:
        self._url = url
        # redis.asyncio connections belong to the loop that opened them: one client per loop
        self._client: tuple[asyncio.AbstractEventLoop, AsyncScript] | None = None

    async def __call__(
        self, key: str, window_ms: int, limit: int, count: bool
    ) -> tuple[bool, int, int]:
        allowed, used, reset_in_ms = await self._script()(
            keys=[key], args=[window_ms, limit, int(count), secrets.token_hex(8)]
        )
        return bool(allowed), int(used), int(reset_in_ms)

    def _script(self) -> AsyncScript:
        """The window script on this loop's client (EVALSHA; loaded on first use): the app
        starts without Redis."""
        loop = asyncio.get_running_loop()
        if self._client is None or self._client[0] is not loop:
            client = Redis.from_url(self._url, socket_timeout=2, socket_connect_timeout=2)
            self._client = (loop, client.register_script(_MOVING_WINDOW))
        return self._client[1]


class MemoryWindows:
    """The same windows in this process's memory (``memory://``)."""

    def __init__(self) -> None:
        self._times: dict[str, deque[float]] = {}

    async def __call__(
        self, key: str, window_ms: int, limit: int, count: bool
    ) -> tuple[bool, int, int]:
        now = time.monotonic() * 1000
        times = self._times.pop(key, deque())
        while times and times[0] <= now - window_ms:
            times.popleft()
        allowed = len(times) < limit
        if allowed and count:
            times.append(now)
        if times:
            self._times[key] = times
        reset_in = times[0] + window_ms - now if times else window_ms
        return allowed, len(times), math.ceil(reset_in)


class RateLimiter:
    def __init__(self, settings: RateLimitSettings, redis_url: str) -> None:
        self.enabled = settings.enabled
        self._policies = {name: Policy.parse(name, getattr(settings, name)) for name in CLASSES}
        url = settings.storage_url or redis_url
        self._windows: Windows = MemoryWindows() if url == "memory://" else RedisWindows(url)

    async def hit(self, route_class: str, key: str) -> dict[str, str]:
        """Count one request of ``key`` in ``route_class``; raise ``RateLimited`` when over.
        Answers the RateLimit header fields (none when limits are off or Redis is down)."""
        return await self._decide(route_class, key, count=True)

    async def check(self, route_class: str, key: str) -> dict[str, str]:
        """Raise ``RateLimited`` if the window is full, without counting (sign-in counts only
        its failures)."""
        return await self._decide(route_class, key, count=False)

    async def _decide(self, route_class: str, key: str, count: bool) -> dict[str, str]:
        if not self.enabled:
            return {}
        policy = self._policies[route_class]
        try:
            allowed, used, reset_in_ms = await self._windows(
                f"{_KEY_PREFIX}/{route_class}/{key}", policy.window_s * 1000, policy.amount, count
            )
        except Exception as exc:  # noqa: BLE001 (any storage failure: redis, connection, timeout)
            log.warning("rate limit storage unavailable", route_class=route_class, error=str(exc))
            if route_class in FAIL_CLOSED:
                raise DependencyUnavailable("rate limit store") from exc
            return {}
        return policy.answer(allowed, used, reset_in_ms)
