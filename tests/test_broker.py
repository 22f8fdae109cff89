"""greenesg.broker: a Redis channel used after kombu closed its connection raises a connection error.

kombu 5.7's own transport raises AttributeError there, which is what stopped the ingest worker when Redis
went away during a task (tests/integration/test_broker_outage.py runs the whole scenario).
"""

from __future__ import annotations

import pytest
from kombu import Connection


def _closed_channel(url: str, transport: str | None):
    connection = Connection(url, transport=transport)
    channel = connection.default_channel
    connection.collect()  # what the consumer does first when the broker connection is lost
    return connection, channel


def test_kombu_57_fails_with_attribute_error_on_a_collected_channel(live_redis_url: str) -> None:
    # The defect we guard against; if kombu fixes it, this test says the guard may go.
    _, channel = _closed_channel(live_redis_url, None)
    with pytest.raises(AttributeError, match="'NoneType' object has no attribute"):
        channel.qos.restore_unacked()


def test_our_transport_answers_a_connection_error_instead(live_redis_url: str) -> None:
    from greenesg.broker import TRANSPORT, BrokerConnectionClosed

    connection, channel = _closed_channel(live_redis_url, TRANSPORT)
    with pytest.raises(BrokerConnectionClosed):
        channel.qos.restore_unacked()
    # A connection error is what Celery's ack and close paths swallow; an AttributeError is not.
    assert any(issubclass(BrokerConnectionClosed, cls) for cls in connection.connection_errors)
    connection.close()  # the consumer's second close must not raise


def test_a_redis_broker_url_selects_our_transport(tmp_path) -> None:
    from tests.test_settings import SETUP, _run

    code = SETUP + "; from greenesg.celery import app; print(app.connection_for_write().transport_cls)"
    result = _run(code, CELERY_BROKER_URL="redis://127.0.0.1:6379/0", GREENESG_VAR_DIR=str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("greenesg.broker:Transport")
