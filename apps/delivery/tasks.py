"""Celery tasks of the delivery engine: thin wake-up calls; the database says what to do.

Database connections stay healthy through Celery's Django fix-up, which closes unusable or
expired connections before and after every task (CONN_MAX_AGE, CONN_HEALTH_CHECKS)."""

from __future__ import annotations

import os
import socket
import time
from functools import partial

from celery import shared_task
from django.conf import settings
from django.db import transaction

from apps.delivery import engine


def _worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@shared_task(name="delivery.tick", ignore_result=True)
def tick() -> dict[str, int]:
    """Every minute (beat): launch due items, heal what crashed workers left, wake workers for
    rows whose time has come."""
    launched = engine.launch_due_items()
    swept = engine.sweep()
    waiting = [item_id for item_id in engine.items_needing_workers() if item_id not in launched]
    for item_id in waiting:
        transaction.on_commit(partial(deliver_item.delay, item_id))
    return {"launched": len(launched), "woken": len(waiting), **swept}


@shared_task(name="delivery.deliver_item", ignore_result=True, acks_late=True)
def deliver_item(item_id: int) -> int:
    """Send batches of one item for up to `DELIVERY_TASK_SECONDS`, then hand over to a fresh task
    if rows remain (tasks stay short, so a deploy or a killed worker loses little)."""
    worker = _worker_name()
    deadline = time.monotonic() + float(getattr(settings, "DELIVERY_TASK_SECONDS", 55))
    sent = 0
    while time.monotonic() < deadline:
        result = engine.deliver_batch(item_id=item_id, worker=worker)
        sent += result.sent
        if result.throttled:
            time.sleep(1.0)
            continue
        if not result.claimed:
            break
    if engine.has_due_rows(item_id=item_id):
        deliver_item.delay(item_id)
    else:
        engine.finish_if_done(item_id=item_id)
    return sent
