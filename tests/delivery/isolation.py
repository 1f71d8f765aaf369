"""Isolation rows for the delivery app (see tests/isolation/registry.py)."""

from __future__ import annotations

import datetime as dt

from apps.campaigns import services as campaign_services
from apps.campaigns.choices import ItemStatus
from apps.campaigns.models import ChannelItem
from apps.delivery.choices import DeliveryStatus
from apps.delivery.models import Delivery, Launch
from apps.workspaces.models import Workspace
from tests.factories import ContactFactory
from tests.isolation.registry import ObjectIds, ScopedRoute

# The campaign rows (tests/campaigns/isolation_*.py) cover these routes with a draft; these rows
# repeat them with an item that is sending and has a ledger row, so real recipients are at stake.
SENDING = lambda ids: {"item_id": ids["sending_item"]}  # noqa: E731

PAGES: list[ScopedRoute] = [
    ScopedRoute("campaigns:item-progress", SENDING),
    ScopedRoute("campaigns:item-deliveries", SENDING),
    ScopedRoute("campaigns:item-detail", SENDING),
]
API: list[ScopedRoute] = [
    ScopedRoute("api:channel-item-deliveries", lambda ids: {"pk": ids["sending_item"]}),
    ScopedRoute("api:channel-item-detail", lambda ids: {"pk": ids["sending_item"]}),
    ScopedRoute("api:channel-item-list", must_not_list="sending_item"),
]

GLOBAL = {
    "delivery:unsubscribe": "public link in a message: the signed token names the delivery and so the workspace",
    "delivery:open": "public open pixel: the signed token names the delivery; shows no data",
    "delivery:click": "public click redirect: the signed token names the delivery and the only allowed target",
    "delivery:sms-inbound": "SMS provider webhook: HMAC-signed, the slug names the receiving workspace",
}


def make_objects(workspace: Workspace) -> ObjectIds:
    """An email item that is sending, with its launch and one sent ledger row (written with the
    ORM: the engine's launch needs sign-off and a beat tick)."""
    contact = ContactFactory(workspace=workspace, email="ledger@example.com")
    campaign = campaign_services.campaign_create(workspace=workspace, name="Ledger isolation")
    item = campaign_services.item_create(
        campaign=campaign, channel="email", name="Sending email", subject="Hi", body_text="Hello."
    )
    launched = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)
    ChannelItem.objects.filter(id=item.id).update(status=ItemStatus.SENDING, launched_at=launched)
    Launch.objects.create(item=item, launched_at=launched, segment_ids=[], counts={"sent": 1})
    delivery = Delivery.objects.create(
        workspace=workspace, item=item, contact=contact, address=contact.email_normalized,
        status=DeliveryStatus.SENT, attempts=1, sent_at=launched, provider_id="<1@ensemble>",
    )  # fmt: skip
    return {"sending_item": item.id, "delivery": delivery.id, "ledger_contact": contact.id}
