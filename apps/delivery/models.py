"""The delivery ledger: one row per (channel item, contact), the source of truth of every send."""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from apps.campaigns.models import ChannelItem
from apps.contacts.models import Contact
from apps.delivery.choices import CLAIMABLE, DeliveryStatus, EventType, ExclusionReason
from apps.workspaces.models import Workspace


class Launch(models.Model):
    """The moment an item's audience was frozen: the include segments in the order that gives
    each its bit in `Delivery.segment_mask`, and the counts of the freeze by outcome."""

    item = models.OneToOneField(ChannelItem, on_delete=models.CASCADE, related_name="launch")
    launched_at = models.DateTimeField()
    segment_ids = models.JSONField(default=list)
    counts = models.JSONField(default=dict)

    def __str__(self) -> str:
        return f"{self.item} launched {self.launched_at:%Y-%m-%d %H:%M}"


class Delivery(models.Model):
    """One recipient of one channel item. Inserted set-based when the item launches; a worker
    moves it through `DeliveryStatus`. The message id and the `X-Ensemble-Delivery` header derive
    from its id, so a retried email carries the same Message-ID.

    No database foreign keys on the contact and the workspace (a freeze inserts up to millions of
    rows; their checks would lock every contact row): erasing a contact deletes its rows through
    Django's cascade, and every read joins what it needs."""

    id = models.BigAutoField(primary_key=True)
    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False
    )
    item = models.ForeignKey(ChannelItem, on_delete=models.CASCADE, related_name="deliveries", db_index=False)
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="+", db_constraint=False)
    address = models.CharField(_("address"), max_length=254, blank=True)
    # Bit i set: the contact qualified through Launch.segment_ids[i].
    segment_mask = models.BigIntegerField(default=0)
    status = models.CharField(_("status"), max_length=10, choices=DeliveryStatus.choices)
    reason = models.CharField(
        _("excluded because"), max_length=17, choices=ExclusionReason.choices, blank=True
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claimed_by = models.CharField(max_length=100, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    provider_id = models.CharField(max_length=200, blank=True)
    error = models.CharField(max_length=500, blank=True)
    content_hash = models.CharField(max_length=64, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("id",)
        verbose_name_plural = "deliveries"
        constraints: ClassVar = [
            models.UniqueConstraint("item", "contact", name="delivery_one_per_item_and_contact"),
        ]
        indexes: ClassVar = [
            models.Index(fields=["item", "status"], name="delivery_item_status"),
            # The delivery log: an item's rows, newest changes first.
            models.Index(fields=["item", "-updated_at"], name="delivery_item_updated"),
            # What workers claim: open rows whose time has come.
            models.Index(
                fields=["item", "next_attempt_at"],
                name="delivery_claimable",
                condition=Q(status__in=CLAIMABLE),
            ),
            # Contact pressure: what a contact was sent lately.
            models.Index(
                fields=["contact", "sent_at"], name="delivery_contact_sent", condition=Q(status="sent")
            ),
        ]

    def __str__(self) -> str:
        return f"{self.item_id}/{self.contact_id} {self.status}"


class Event(models.Model):
    """Something that happened to a delivery or a contact (sent, opened, clicked, unsubscribed...).
    The KPI issue rolls them up. `key` makes recording idempotent (a retried webhook, a prefetched
    pixel counted once per key)."""

    id = models.BigAutoField(primary_key=True)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+", db_constraint=False)
    delivery = models.ForeignKey(
        Delivery, on_delete=models.CASCADE, null=True, blank=True, related_name="events", db_constraint=False
    )
    contact = models.ForeignKey(
        Contact, on_delete=models.CASCADE, null=True, blank=True, related_name="+", db_constraint=False
    )
    type = models.CharField(max_length=12, choices=EventType.choices)
    at = models.DateTimeField()
    data = models.JSONField(default=dict, blank=True)
    key = models.CharField(max_length=200, unique=True)

    class Meta:
        ordering = ("-at", "-id")
        indexes: ClassVar = [models.Index(fields=["delivery", "type"], name="delivery_event_type")]

    def __str__(self) -> str:
        return f"{self.type} at {self.at:%Y-%m-%d %H:%M}"


class TokenBucket(models.Model):
    """The one throttle of a channel item, shared by every worker: tokens refill at the item's
    messages per minute and a batch takes what it may send."""

    key = models.CharField(max_length=100, primary_key=True)
    tokens = models.FloatField()
    updated_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.key}: {self.tokens:.1f}"
