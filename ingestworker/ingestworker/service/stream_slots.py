"""The global cap on concurrent camera streams: a semaphore in Redis shared by every worker.

One sorted set holds the slots: member = the capture id holding it, score = when it expires (Redis
server time, in ms, so workers' clocks do not matter). Every operation is one Lua script that first
drops expired holders, so a worker killed mid-stream frees its slot ``ttl_s`` after its last
renewal. A running capture renews its slot from a thread of its own every third of the ttl (reads
and backoff sleeps can take longer than that). A capture id already holding a live slot cannot
take a second one: that is a duplicate delivery of a capture another worker is still running.
"""

from __future__ import annotations

import threading
from enum import StrEnum
from types import TracebackType

import redis

from shared.logging import get_logger

log = get_logger(__name__)
SLOTS_KEY = "capture:stream-slots"

# KEYS[1] slots; ARGV: holder, limit, ttl_ms, mode ("acquire" takes a new slot, "renew" keeps one)
_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local held = redis.call('ZSCORE', KEYS[1], ARGV[1])
if held and ARGV[4] == 'acquire' then return 'held' end
if not held and redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 'full' end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[3]) * 2)
return 'ok'
"""


class SlotAnswer(StrEnum):
    OK = "ok"
    FULL = "full"  # every slot is held: wait and try again
    HELD = "held"  # this capture already streams on another worker


class StreamSlots:
    def __init__(self, client: redis.Redis, limit: int, ttl_s: float, key: str = SLOTS_KEY) -> None:
        self._client = client
        self._key = key
        self._limit = limit
        self._ttl_ms = int(ttl_s * 1000)
        self._script = client.register_script(_SCRIPT)
        self.ttl_s = ttl_s

    def acquire(self, holder: str) -> SlotAnswer:
        return self._run(holder, "acquire")

    def renew(self, holder: str) -> bool:
        """Push the expiry on; a slot that lapsed meanwhile is taken again if one is free."""
        return self._run(holder, "renew") is SlotAnswer.OK

    def release(self, holder: str) -> None:
        self._client.zrem(self._key, holder)

    def holders(self) -> list[str]:
        return [member.decode() for member in self._client.zrange(self._key, 0, -1)]

    def _run(self, holder: str, mode: str) -> SlotAnswer:
        answer = self._script(keys=[self._key], args=[holder, self._limit, self._ttl_ms, mode])
        return SlotAnswer(answer.decode() if isinstance(answer, bytes) else answer)

    def lease(self, holder: str) -> SlotLease:
        """Keep an acquired slot alive while the ``with`` block runs; release it after."""
        return SlotLease(self, holder)


class SlotLease:
    """Renews one held slot every third of its ttl until closed; ``lost`` if a renewal failed."""

    def __init__(self, slots: StreamSlots, holder: str) -> None:
        self._slots = slots
        self._holder = holder
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._renew, name=f"slot-{holder}", daemon=True)
        self.lost = False

    def __enter__(self) -> SlotLease:
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        self._thread.join()
        try:
            self._slots.release(self._holder)
        except redis.RedisError:
            log.warning("slot not released; it expires", capture_id=self._holder)

    def _renew(self) -> None:
        while not self._stop.wait(self._slots.ttl_s / 3):
            try:
                if self._slots.renew(self._holder):
                    continue
                self.lost = True  # every slot went to others while ours lapsed
            except redis.RedisError as exc:
                log.warning("slot renewal failed", capture_id=self._holder, error=str(exc))
