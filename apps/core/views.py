from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from apps.core import selectors


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """200 when the database and the broker both answer, 503 otherwise (for load balancers)."""
    database = selectors.database_status()
    broker = selectors.broker_status()
    heartbeat = selectors.last_heartbeat() if database.ok else None
    healthy = database.ok and broker.ok
    body = {
        "status": "ok" if healthy else "unavailable",
        "database": {"ok": database.ok, "detail": database.detail},
        "broker": {"ok": broker.ok, "detail": broker.detail},
        # Informational: when beat and a worker last ran the heartbeat task together.
        "scheduler_heartbeat": heartbeat.isoformat() if heartbeat else None,
    }
    return JsonResponse(body, status=200 if healthy else 503)
