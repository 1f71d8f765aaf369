"""Reads for the health check: can we reach the database and the broker right now?"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import DatabaseError, connection

from apps.core.models import Heartbeat
from config.celery import app as celery_app


@dataclass(frozen=True)
class ComponentStatus:
    ok: bool
    detail: str


def database_status() -> ComponentStatus:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as error:
        return ComponentStatus(ok=False, detail=str(error).strip() or error.__class__.__name__)
    return ComponentStatus(ok=True, detail=connection.vendor)


def broker_status(*, timeout: int = 2) -> ComponentStatus:
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=timeout)
            transport = conn.transport_cls
    except Exception as error:  # noqa: BLE001 - any failure means "broker unavailable"
        return ComponentStatus(ok=False, detail=str(error).strip() or error.__class__.__name__)
    return ComponentStatus(ok=True, detail=str(transport))


def last_heartbeat(*, name: str = "scheduler") -> datetime | None:
    try:
        return Heartbeat.objects.filter(name=name).values_list("at", flat=True).first()
    except DatabaseError:
        return None
