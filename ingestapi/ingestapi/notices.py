"""Telling the byte servers an image is gone: its id, published on the Redis channel
``imagesearch:deleted``, so cdnapi drops its cached copies (memory and disk) at once.

Best effort: the bytes are already deleted when the notice goes out, so a Redis outage only
delays what cdnapi's cache revalidation finds anyway; it is logged, never raised.
"""

from __future__ import annotations

import redis

from shared.logging import get_logger

DELETED_CHANNEL = "imagesearch:deleted"
log = get_logger(__name__)


class DeletionNotices:
    def __init__(self, client: redis.Redis) -> None:
        self._client = client

    def announce(self, image_id: str) -> None:
        try:
            listeners = self._client.publish(DELETED_CHANNEL, image_id)
        except redis.RedisError as exc:
            log.warning("deletion not announced", image_id=image_id, error=type(exc).__name__)
            return
        log.info("deletion announced", image_id=image_id, listeners=listeners)
