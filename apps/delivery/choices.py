"""The ledger's vocabularies: a delivery's states, why a recipient was left out, event types."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class DeliveryStatus(models.TextChoices):
    """pending -> claimed -> sending (committed before the provider call) -> sent | retry_wait |
    failed | deferred | unknown. `excluded` rows were left out (at freeze or just before sending),
    `cancelled` ones were never sent because the item was cancelled."""

    PENDING = "pending", _("Queued")
    CLAIMED = "claimed", _("Claimed by a worker")
    SENDING = "sending", _("Handing over")
    SENT = "sent", _("Sent")
    RETRY_WAIT = "retry_wait", _("Waiting to retry")
    FAILED = "failed", _("Failed")
    DEFERRED = "deferred", _("Deferred")
    UNKNOWN = "unknown", _("Unknown: the worker stopped during the hand-over")
    EXCLUDED = "excluded", _("Excluded")
    CANCELLED = "cancelled", _("Cancelled")


# Rows a worker may claim (when their `next_attempt_at` has come).
CLAIMABLE = (DeliveryStatus.PENDING, DeliveryStatus.RETRY_WAIT, DeliveryStatus.DEFERRED)
# Rows still on their way: an item is finished when none is left.
OPEN = (*CLAIMABLE, DeliveryStatus.CLAIMED, DeliveryStatus.SENDING)


class ExclusionReason(models.TextChoices):
    UNSUBSCRIBED = "unsubscribed", _("Unsubscribed")
    SUPPRESSED = "suppressed", _("On the suppression list")
    NO_CONSENT = "no_consent", _("No consent for the channel")
    DOUBLE_OPT_IN = "double_opt_in", _("Double opt-in not confirmed")
    MISSING_ADDRESS = "missing_address", _("No address for the channel")
    DUPLICATE_ADDRESS = "duplicate_address", _("Same address as another recipient")
    CONTACT_PRESSURE = "contact_pressure", _("Contact pressure: enough messages lately")


class EventType(models.TextChoices):
    SENT = "sent", _("Sent")
    DELIVERED = "delivered", _("Delivered")
    OPENED = "opened", _("Opened")
    CLICKED = "clicked", _("Clicked")
    BOUNCED = "bounced", _("Bounced")
    COMPLAINED = "complained", _("Marked as spam")
    UNSUBSCRIBED = "unsubscribed", _("Unsubscribed")
    RESUBSCRIBED = "resubscribed", _("Subscribed again")
    CONVERTED = "converted", _("Converted")
