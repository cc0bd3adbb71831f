"""Rate limits: a moving window per (route class, credential or client address), kept in Redis
with the ``limits`` library so every API process counts against the same window.

Answers carry the IETF RateLimit fields (``RateLimit-Policy: "search";q=300;w=60`` and
``RateLimit: "search";r=12;t=40``); over the limit is ``RateLimited`` with ``Retry-After``.
If Redis does not answer, search and ingest go on uncounted (logged); sign-in does not.
"""

from __future__ import annotations

import math
import time

from limits import RateLimitItem, parse
from limits.storage import Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

from shared.config import RateLimitSettings
from shared.errors import DependencyUnavailable, RateLimited
from shared.logging import get_logger

log = get_logger(__name__)
CLASSES = ("login", "ingest", "search")
FAIL_CLOSED = frozenset({"login"})  # brute-force protection must not lapse with Redis


class RateLimiter:
    def __init__(self, settings: RateLimitSettings, redis_url: str) -> None:
        self.enabled = settings.enabled
        self._policies: dict[str, RateLimitItem] = {
            name: parse(getattr(settings, name)) for name in CLASSES
        }
        self._storage_url = settings.storage_url or redis_url
        self._limiter: MovingWindowRateLimiter | None = None

    def _strategy(self) -> MovingWindowRateLimiter:
        if self._limiter is None:  # connect on first use: the app starts without Redis
            storage = storage_from_string(self._storage_url)
            assert isinstance(storage, Storage)  # a sync URL gives a sync storage
            self._limiter = MovingWindowRateLimiter(storage)
        return self._limiter

    def hit(self, route_class: str, key: str) -> dict[str, str]:
        """Count one request of ``key`` in ``route_class``; raise ``RateLimited`` when over.
        Answers the RateLimit header fields (none when limits are off or Redis is down)."""
        return self._decide(route_class, key, count=True)

    def check(self, route_class: str, key: str) -> dict[str, str]:
        """Raise ``RateLimited`` if the window is full, without counting (sign-in counts only
        its failures)."""
        return self._decide(route_class, key, count=False)

    def _decide(self, route_class: str, key: str, count: bool) -> dict[str, str]:
        if not self.enabled:
            return {}
        item = self._policies[route_class]
        try:
            strategy = self._strategy()
            if count:
                allowed = strategy.hit(item, route_class, key)
            else:
                allowed = strategy.test(item, route_class, key)
            reset_at, remaining = strategy.get_window_stats(item, route_class, key)
        except Exception as exc:  # noqa: BLE001 (any storage failure: redis, connection, timeout)
            log.warning("rate limit storage unavailable", route_class=route_class, error=str(exc))
            if route_class in FAIL_CLOSED:
                raise DependencyUnavailable("rate limit store") from exc
            return {}
        reset_in = max(0, math.ceil(reset_at - time.time()))
        window = item.get_expiry()
        headers = {
            "RateLimit-Policy": f'"{route_class}";q={item.amount};w={window}',
            "RateLimit": f'"{route_class}";r={remaining};t={reset_in}',
        }
        if not allowed:
            retry = str(max(1, reset_in))
            raise RateLimited(
                f"too many {route_class} requests; try again in {retry} s",
                {**headers, "Retry-After": retry},
            )
        return headers
