from __future__ import annotations

from celery import shared_task

from apps.core import services


@shared_task(name="core.record_heartbeat")
def record_heartbeat() -> None:
    """Enqueued by beat every minute and run by a worker: proves both are alive."""
    services.heartbeat_record(name="scheduler")
