"""Recording ledger events once each: the `key` is unique, so a prefetched pixel, a retried webhook
or a double click records one row.

Keys (one place, so the KPI rollups and the endpoints agree):
- `opened:<delivery>`: the first open only (a pixel fetch or a click, see `views.click`);
- `clicked:<delivery>:<sha1(url)[:12]>`: unique clicks, one per link and recipient. Repeated clicks
  on the same link are not counted: the KPIs report unique clicks and click-through rate, and a
  counter would turn every click into a write on a hot row;
- `unsubscribed:<delivery>`: the unsubscribe through that message's link;
- `sms-inbound:<provider message id>`: an inbound STOP/START text, so a provider retrying its
  webhook neither re-applies it nor sends a second confirmation.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from django.utils import timezone

from apps.delivery.models import Event


def opened_key(delivery_id: int) -> str:
    return f"opened:{delivery_id}"


def clicked_key(delivery_id: int, target: str) -> str:
    digest = hashlib.sha1(target.encode(), usedforsecurity=False).hexdigest()[:12]
    return f"clicked:{delivery_id}:{digest}"


def unsubscribed_key(delivery_id: int) -> str:
    return f"unsubscribed:{delivery_id}"


def sms_inbound_key(message_id: str) -> str:
    return f"sms-inbound:{message_id[:180]}"


def record_event(
    *,
    workspace_id: int,
    type: str,
    key: str,
    delivery_id: int | None = None,
    contact_id: int | None = None,
    data: dict[str, Any] | None = None,
    at: dt.datetime | None = None,
) -> bool:
    """Store the event unless one with `key` exists; True when this call stored it.

    `get_or_create` looks first, so the common repeat (a pixel fetched again) is one read and no
    failed insert; two requests racing on a new key are settled by the unique index inside a
    savepoint, and exactly one of them gets True."""
    _, created = Event.objects.get_or_create(
        key=key,
        defaults={
            "workspace_id": workspace_id,
            "type": type,
            "delivery_id": delivery_id,
            "contact_id": contact_id,
            "data": data or {},
            "at": at or timezone.now(),
        },
    )
    return created
