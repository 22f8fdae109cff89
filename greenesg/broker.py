"""Kombu's Redis transport, made to survive a broker that disappears while a task is running.

Why this exists (kombu 5.7.0, celery 5.7.0): when the connection to Redis is lost, the Celery consumer
first calls ``Connection.collect()``, which closes the channels and then detaches the transport
(``transport.client = None``), and then calls ``Connection.close()``. The second close reaches the
same default channel again and retries the restore of unacknowledged messages (it failed the first
time because Redis is down); the channel's Redis pool is gone by then, so kombu rebuilds it from
``transport.client.hostname`` and raises ``AttributeError`` on ``None``. The same happens when a task
that finishes after the connection was lost acknowledges its message on the old channel. The callers
only swallow connection errors, so the AttributeError escapes and the worker stops with
"Unrecoverable error" (the failure in kombu issue #582 shows the same path).

A channel whose transport has been detached answers with a Redis ``ConnectionError`` instead: the
consumer then goes on reconnecting, and an acknowledgement that could not be sent is logged and left
to redelivery, which the import job's claim makes harmless (a finished job is not imported twice).
"""

from __future__ import annotations

from typing import Any

from kombu.transport import redis as kombu_redis
from redis.exceptions import ConnectionError as RedisConnectionError


class BrokerConnectionClosed(RedisConnectionError):
    """The channel belongs to a connection that kombu has already closed."""


class Channel(kombu_redis.Channel):
    def _connparams(self, asynchronous: bool = False) -> dict[str, Any]:
        # After a complete close the channel has no transport at all; after an interrupted one (Redis was
        # down during the restore) it keeps a transport whose client is gone.
        if self.connection is None or self.connection.client is None:
            raise BrokerConnectionClosed("the broker connection of this channel is closed")
        return super()._connparams(asynchronous=asynchronous)  # type: ignore[misc]  # kombu's stubs omit this private method


class Transport(kombu_redis.Transport):
    Channel = Channel

    @property
    def supports_batch_publish(self) -> bool:
        # Same detached-transport hazard: the parent property reads self.client's options.
        if self.client is None:
            return False
        return super().supports_batch_publish  # type: ignore[misc]  # missing from kombu's stubs


# The value of CELERY_BROKER_TRANSPORT for redis:// brokers (kombu resolves "module:Class").
TRANSPORT = "greenesg.broker:Transport"
