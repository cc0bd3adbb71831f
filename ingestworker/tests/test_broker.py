"""A job that finishes after the broker connection was lost acknowledges nothing, instead of
stopping the worker; its message, restored to the queue when the connection went, stays there.
A channel closed after its connection is gone leaves its messages in the unacknowledged hash, from
where they come back after the visibility timeout, instead of stopping the worker."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from kombu import Connection
from kombu.transport import redis as kombu_redis

from ingestworker.broker import survive_lost_connections
from tests.support.processes import wait_until
from tests.support.servers import Servers


@pytest.fixture()
def restart_safe() -> Iterator[None]:
    original = kombu_redis.Channel.QoS
    survive_lost_connections()
    yield
    kombu_redis.Channel.QoS = original


def lose_connection(connection: Connection, channel: kombu_redis.Channel) -> None:
    """What kombu does when Redis goes away under a consumer: restore the unacknowledged
    messages, close the channel and drop its connection pool."""
    connection.collect()
    channel._disconnect_pools()


def test_an_ack_after_the_connection_was_lost_is_skipped_and_the_message_kept(
    servers: Servers, restart_safe: None
) -> None:
    queue_name = f"test-broker-{uuid.uuid4().hex}"
    with Connection(servers.redis_url(14)) as connection:
        queue = connection.SimpleQueue(queue_name)
        queue.put({"job": 1})
        message = queue.get(timeout=5)
        lose_connection(connection, message.channel)
        message.ack()  # without the fix: AttributeError, which stops a Celery worker
    with Connection(servers.redis_url(14)) as connection:
        queue = connection.SimpleQueue(queue_name)
        again = queue.get(timeout=5)
        assert again.payload == {"job": 1}
        again.ack()
        with pytest.raises(queue.Empty):  # restored once, not twice
            queue.get(timeout=1)


def test_without_the_fix_the_same_ack_raises(servers: Servers) -> None:
    with Connection(servers.redis_url(14)) as connection:
        queue = connection.SimpleQueue(f"test-broker-{uuid.uuid4().hex}")
        queue.put({"job": 2})
        message = queue.get(timeout=5)
        lose_connection(connection, message.channel)
        with pytest.raises(AttributeError):
            message.ack()


def test_a_restore_over_a_vanished_connection_leaves_the_message_for_the_visibility_timeout(
    servers: Servers, restart_safe: None
) -> None:
    queue_name = f"test-broker-{uuid.uuid4().hex}"
    options = {"visibility_timeout": 1, "unacked_restore_interval": 1}
    with Connection(servers.redis_url(14), transport_options=options) as connection:
        queue = connection.SimpleQueue(queue_name)
        queue.put({"job": 3})
        message = queue.get(timeout=5)
        channel = message.channel
        channel._disconnect_pools()
        transport, channel.connection.client = channel.connection.client, None  # connection gone
        channel.qos.restore_unacked()  # without the fix: AttributeError, which stops a worker
        channel.connection.client = transport
    with Connection(servers.redis_url(14), transport_options=options) as connection:
        queue = connection.SimpleQueue(queue_name)
        got: list[object] = []

        def delivered_again() -> bool:
            try:
                got.append(queue.get(timeout=0.5).payload)
            except queue.Empty:
                return False
            return True

        wait_until(delivered_again, timeout=15, what="the message restored after the timeout")
        assert got == [{"job": 3}]
