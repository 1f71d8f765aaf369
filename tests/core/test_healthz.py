from __future__ import annotations

from unittest import mock

import pytest
from django.db import DatabaseError
from django.test import Client

from apps.core import selectors


@pytest.mark.django_db
def test_healthz_is_ok_when_database_and_broker_answer(client: Client) -> None:
    response = client.get("/healthz")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"] == {"ok": True, "detail": "postgresql"}
    assert body["broker"]["ok"] is True


@pytest.mark.django_db
def test_healthz_is_503_when_the_broker_is_unreachable(client: Client, settings) -> None:
    with mock.patch.object(selectors.celery_app, "connection_for_write") as connection_for_write:
        connection_for_write.return_value.__enter__.return_value.ensure_connection.side_effect = (
            ConnectionError("Connection refused")
        )
        response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["broker"] == {"ok": False, "detail": "Connection refused"}


@pytest.mark.django_db
def test_healthz_is_503_when_the_database_fails(client: Client) -> None:
    with mock.patch.object(selectors, "connection") as connection:
        connection.cursor.return_value.__enter__.return_value.execute.side_effect = DatabaseError("gone")
        response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["database"] == {"ok": False, "detail": "gone"}


@pytest.mark.django_db
def test_healthz_reports_the_scheduler_heartbeat_recorded_by_the_beat_task(client: Client) -> None:
    from apps.core.tasks import record_heartbeat

    record_heartbeat.delay()

    assert client.get("/healthz").json()["scheduler_heartbeat"] is not None
