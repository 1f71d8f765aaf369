"""Sending lanes: a batch handed over by several threads of one worker process, each with its own
provider connection and its own database connection. Transactional, because each lane's
connection sees committed data only (as it does in a worker)."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from django.core import mail
from django.db import connection

from apps.delivery import engine
from apps.delivery.choices import DeliveryStatus
from apps.delivery.models import Delivery
from tests.delivery.faults import make_send

pytestmark = pytest.mark.django_db(transaction=True)


def _backends_of_this_database() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()")
        return int(cursor.fetchone()[0])


def _settled_backends(expected: int, timeout: float = 5.0) -> int:
    """A closed connection's server process ends a moment after the client hangs up."""
    deadline = time.monotonic() + timeout
    count = _backends_of_this_database()
    while count > expected and time.monotonic() < deadline:
        time.sleep(0.05)
        count = _backends_of_this_database()
    return count


@pytest.fixture(autouse=True)
def _no_workers_woken(monkeypatch: pytest.MonkeyPatch) -> None:
    """The test is the worker: launching must not start the send inline."""
    monkeypatch.setattr(engine, "enqueue_workers", lambda _item_id: None)


def test_lanes_hand_each_recipient_over_once_and_close_their_connections(
    settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.DELIVERY_SEND_LANES = 3
    send = make_send(count=150, slug="lanes")
    engine.launch_due_items()
    before = _backends_of_this_database()
    threads: set[str] = set()
    send_lane = engine._send_lane

    def recording_lane(*args: Any) -> engine.BatchResult:
        threads.add(threading.current_thread().name)
        return send_lane(*args)

    monkeypatch.setattr(engine, "_send_lane", recording_lane)

    result = engine.deliver_batch(item_id=send.item.id, worker="lanes")

    assert len(threads) == 3
    assert all(name.startswith("delivery-lane") for name in threads)
    assert (result.claimed, result.sent, result.failed) == (150, 150, 0)
    delivered = [message.extra_headers["X-Ensemble-Delivery"] for message in mail.outbox]
    rows = Delivery.objects.filter(item=send.item)
    assert sorted(delivered) == sorted(str(row_id) for row_id in rows.values_list("id", flat=True))
    assert set(rows.values_list("status", flat=True)) == {DeliveryStatus.SENT}
    assert _settled_backends(before) == before


def test_lanes_add_up_their_failures_for_the_automatic_pause(settings) -> None:
    settings.DELIVERY_SEND_LANES = 3
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 1  # nobody listens
    send = make_send(count=90, slug="lanes-down")
    engine.launch_due_items()

    result = engine.deliver_batch(item_id=send.item.id, worker="lanes")

    send.item.refresh_from_db()
    assert (result.sent, result.failed) == (0, 90)
    assert set(Delivery.objects.filter(item=send.item).values_list("status", flat=True)) == {
        DeliveryStatus.RETRY_WAIT
    }
    assert "90 of 90 messages" in send.item.pause_reason
