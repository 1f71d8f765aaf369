"""The closed vocabularies of campaigns: channels, timing and the channel item's states."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class ChannelKind(models.TextChoices):
    """Every touchpoint of an omnichannel plan. Ensemble sends the first three itself; the others are
    planned and tracked here and run by the team that owns them."""

    EMAIL = "email", _("Email")
    SMS = "sms", _("SMS")
    WEBHOOK = "webhook", _("Webhook (push, social scheduler, ad tool)")
    SOCIAL = "social", _("Social post")
    DIRECT_MAIL = "direct_mail", _("Direct mail")
    PRINT = "print", _("Print")
    OUTDOOR = "outdoor", _("Outdoor")
    IN_STORE = "in_store", _("In-store / point of sale")
    WEBSITE = "website", _("Website banner")
    CALL_CENTRE = "call_centre", _("Call-centre script")
    PUSH = "push", _("Push notification")
    EVENT = "event", _("Event")


SENT_CHANNELS = frozenset({ChannelKind.EMAIL, ChannelKind.SMS, ChannelKind.WEBHOOK})
"""Channels Ensemble delivers itself, one message per recipient."""


def is_sent_channel(channel: str) -> bool:
    return channel in SENT_CHANNELS


class Timing(models.TextChoices):
    NOW = "now", _("Send now")
    AT = "at", _("At a date and time (workspace time zone)")
    RECIPIENT_LOCAL = "recipient_local", _("At a local time in each recipient's time zone")


class ItemStatus(models.TextChoices):
    """`draft` is the only state whose content can change: what was signed off is what goes out.

    draft -> scheduled (schedule / send-now; for a planned channel: booked for its dates)
    scheduled -> sending (the delivery engine launches it) -> sent
    scheduled | sending -> paused -> back where it was (resume)
    scheduled | paused before launch -> draft (unschedule)
    anything but sent -> cancelled (final)"""

    DRAFT = "draft", _("Draft")
    SCHEDULED = "scheduled", _("Scheduled")
    SENDING = "sending", _("Sending")
    PAUSED = "paused", _("Paused")
    SENT = "sent", _("Sent")
    CANCELLED = "cancelled", _("Cancelled")


EDITABLE_STATUSES = frozenset({ItemStatus.DRAFT})
