"""Kombu's Redis transport, made to outlive a broker restart while jobs are running.

When the connection to Redis drops, kombu puts every unacknowledged message of the worker back
on its queue ("Restoring N unacknowledged message(s)") and closes the channel. A job still running
on one of the worker's threads then finishes and acknowledges its message on that closed channel,
which has no connection left: kombu raises AttributeError from inside Celery's event loop and
Celery stops the worker ("Unrecoverable error"). Found by the fault soak (tests/soak) restarting
Redis under load. Such an acknowledgement has nothing left to do (the message is queued again and
will be delivered again; the tasks are idempotent and a finished job stays as it ended), so it is
skipped and logged. Likewise when Celery closes a channel whose connection is already gone and
kombu tries to restore its messages over it: they are still in Redis's unacknowledged hash, from
where any worker puts them back on their queue once the visibility timeout has passed.
"""

from __future__ import annotations

from typing import Any

from kombu.transport import redis as kombu_redis

from shared.logging import get_logger

log = get_logger(__name__)


class _RestartSafeQoS(kombu_redis.QoS):  # type: ignore[misc]
    def ack(self, delivery_tag: Any) -> None:
        if self._lost():
            log.warning("ack skipped: the broker connection was lost", delivery_tag=delivery_tag)
            return
        super().ack(delivery_tag)

    def reject(self, delivery_tag: Any, requeue: bool = False) -> None:
        if self._lost():
            log.warning("reject skipped: the broker connection was lost", delivery_tag=delivery_tag)
            return
        super().reject(delivery_tag, requeue=requeue)

    def restore_unacked(self, client: Any = None) -> Any:
        try:
            return super().restore_unacked(client)
        except AttributeError:
            if not self._connection_gone():
                raise
            log.warning(
                "restore skipped: the broker connection was lost; the messages come back after "
                "the visibility timeout",
                messages=len(self._delivered),
            )
            self._delivered.clear()
            return []

    def _lost(self) -> bool:
        """The channel was closed with its connection: its messages were restored already."""
        return bool(self.channel.closed) or self._connection_gone()

    def _connection_gone(self) -> bool:
        transport = self.channel.connection
        return transport is None or transport.client is None


def survive_lost_connections() -> None:
    """Make every Redis channel of this process use the QoS above (idempotent)."""
    kombu_redis.Channel.QoS = _RestartSafeQoS
