"""What recipients do to the ledger: unsubscribe (link, one-click POST, SMS STOP/START), open, click.

Everything here is effective at once: an unsubscribe commits the opt-out, the suppression entry and
the exclusion of the contact's queued deliveries in one transaction, and the engine re-checks consent
and suppression just before each send, so nothing reaches a person after their unsubscribe committed.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.campaigns.choices import ChannelKind
from apps.contacts.choices import Channel, Consent, SuppressionReason
from apps.contacts.cleaning import address_hash
from apps.contacts.models import Contact, Suppression
from apps.contacts.services.records import consent_set, suppression_add
from apps.core.sms import SmsMessage, get_backend
from apps.delivery.choices import CLAIMABLE, DeliveryStatus, EventType, ExclusionReason
from apps.delivery.events import clicked_key, opened_key, record_event, sms_inbound_key, unsubscribed_key
from apps.delivery.models import Delivery
from apps.workspaces.models import Workspace

# The carrier opt-out words (CTIA), matched against the whole message.
SMS_STOP_WORDS = frozenset({"STOP", "QUIT", "END", "REVOKE", "OPT OUT", "CANCEL", "UNSUBSCRIBE"})
SMS_START_WORDS = frozenset({"START"})
# Deliveries still waiting for a send: an unsubscribe moves them to `excluded`. `sending` rows are
# already in the provider's hands and are left to the engine.
UNSENT = (*CLAIMABLE, DeliveryStatus.CLAIMED)
# Which items follow a consent channel's rules (the engine's rule: a webhook follows email's).
ITEM_CHANNELS: dict[str, tuple[str, ...]] = {
    Channel.EMAIL: (ChannelKind.EMAIL, ChannelKind.WEBHOOK),
    Channel.SMS: (ChannelKind.SMS,),
}


def consent_channel(item_channel: str) -> str:
    return Channel.SMS if item_channel == ChannelKind.SMS else Channel.EMAIL


def _exclude_unsent(*, workspace_id: int, contact_ids: Sequence[int], channel: str) -> int:
    """The contacts' queued deliveries of the channel are left out as unsubscribed."""
    if not contact_ids:
        return 0
    return Delivery.objects.filter(
        workspace_id=workspace_id,
        contact_id__in=contact_ids,
        item__channel__in=ITEM_CHANNELS[channel],
        status__in=UNSENT,
    ).update(status=DeliveryStatus.EXCLUDED, reason=ExclusionReason.UNSUBSCRIBED, updated_at=timezone.now())


def _suppress(workspace: Workspace, channel: str, addresses: Iterable[str]) -> None:
    for address in dict.fromkeys(address for address in addresses if address):
        suppression_add(
            workspace=workspace, channel=channel, address=address, reason=SuppressionReason.UNSUBSCRIBED
        )


@transaction.atomic
def unsubscribe(*, delivery: Delivery, source: str, text: str) -> bool:
    """Opt the delivery's contact out of its channel, suppress the address, and exclude the
    contact's queued deliveries of that channel. Idempotent: a second call records no second
    consent change. True when this call opted the contact out."""
    channel = consent_channel(delivery.item.channel)
    contact = Contact.objects.select_for_update().filter(pk=delivery.contact_id).first()
    workspace = delivery.workspace
    if contact is None:  # erased meanwhile: erasure already suppressed its addresses
        _suppress(workspace, channel, [delivery.address])
        return False
    changed = getattr(contact, f"{channel}_consent") != Consent.OPTED_OUT
    if changed:
        consent_set(contact=contact, channel=channel, status=Consent.OPTED_OUT, source=source, text=text)
    current = contact.phone_e164 if channel == Channel.SMS else contact.email_normalized
    _suppress(workspace, channel, [delivery.address, current])
    _exclude_unsent(workspace_id=workspace.id, contact_ids=[contact.id], channel=channel)
    record_event(
        workspace_id=workspace.id,
        type=EventType.UNSUBSCRIBED,
        key=unsubscribed_key(delivery.id),
        delivery_id=delivery.id,
        contact_id=contact.id,
        data={"channel": channel, "source": source},
    )
    return changed


def record_open(*, delivery_id: int) -> bool:
    """The first open of a delivery; later ones (and unknown deliveries) record nothing."""
    row = Delivery.objects.filter(pk=delivery_id).values("workspace_id", "contact_id").first()
    if row is None:
        return False
    return record_event(
        workspace_id=row["workspace_id"],
        type=EventType.OPENED,
        key=opened_key(delivery_id),
        delivery_id=delivery_id,
        contact_id=row["contact_id"],
    )


def record_click(*, delivery_id: int, target: str) -> bool:
    """A unique click (one per delivery and link). A click also proves an open, which the pixel
    misses when the mail client blocks images."""
    row = Delivery.objects.filter(pk=delivery_id).values("workspace_id", "contact_id").first()
    if row is None:
        return False
    workspace_id, contact_id = row["workspace_id"], row["contact_id"]
    record_event(
        workspace_id=workspace_id,
        type=EventType.OPENED,
        key=opened_key(delivery_id),
        delivery_id=delivery_id,
        contact_id=contact_id,
    )
    return record_event(
        workspace_id=workspace_id,
        type=EventType.CLICKED,
        key=clicked_key(delivery_id, target),
        delivery_id=delivery_id,
        contact_id=contact_id,
        data={"url": target},
    )


def sms_keyword(body: str) -> str | None:
    """STOP (or another opt-out word) or START when that is the whole message, else None.
    Case, surrounding and repeated spaces, and a final full stop or exclamation mark do not matter."""
    word = " ".join(body.split()).upper().rstrip(".!").strip()
    return word if word in SMS_STOP_WORDS | SMS_START_WORDS else None


def _send_text(*, to: str, body: str, reference: str) -> None:
    with get_backend() as backend:
        backend.send(SmsMessage(to=to, body=body, reference=reference))


def sms_inbound(*, workspace: Workspace, from_number: str, body: str, message_id: str) -> str | None:
    """Apply an inbound text to the workspace: an opt-out word opts every contact with that number
    out of SMS and suppresses the number; START opts them back in. Returns the one confirmation
    text, sent once after commit; None for other messages, for a message id seen before (the
    provider retrying its webhook), and for START from a number that stays suppressed for another
    reason (erased, bounced, complaint, added by hand)."""
    word = sms_keyword(body)
    if word is None:
        return None
    with transaction.atomic():
        contacts = list(
            Contact.objects.select_for_update()
            .filter(workspace=workspace, phone_e164=from_number)
            .order_by("id")
        )
        ids = [contact.id for contact in contacts]
        first_time = record_event(
            workspace_id=workspace.id,
            type=EventType.RESUBSCRIBED if word in SMS_START_WORDS else EventType.UNSUBSCRIBED,
            key=sms_inbound_key(message_id),
            contact_id=ids[0] if ids else None,
            data={"channel": Channel.SMS, "word": word, "contacts": ids},
        )
        if not first_time:
            return None
        if word in SMS_START_WORDS:
            reply = _sms_start(workspace, from_number, contacts)
        else:
            reply = _sms_stop(workspace, from_number, contacts, word)
        if reply:
            send = functools.partial(
                _send_text, to=from_number, body=reply, reference=sms_inbound_key(message_id)
            )
            # robust: a provider outage must not fail the webhook (its retry would find the id
            # recorded and stay silent anyway); the confirmation is at most once, never twice.
            transaction.on_commit(send, robust=True)
    return reply


def _sms_stop(workspace: Workspace, number: str, contacts: Sequence[Contact], word: str) -> str:
    reply = _("You are unsubscribed from %(workspace)s texts. Reply START to subscribe again.") % {
        "workspace": workspace.name
    }
    for contact in contacts:
        if contact.sms_consent != Consent.OPTED_OUT:
            consent_set(
                contact=contact,
                channel=Channel.SMS,
                status=Consent.OPTED_OUT,
                source=f"SMS {word}",
                text=f"Texted “{word}”. Confirmation sent: {reply}",
            )
    _suppress(workspace, Channel.SMS, [number])
    _exclude_unsent(workspace_id=workspace.id, contact_ids=[c.id for c in contacts], channel=Channel.SMS)
    return reply


def _sms_start(workspace: Workspace, number: str, contacts: Sequence[Contact]) -> str | None:
    # Only the person's own opt-out is lifted: an erased contact stays erased, a bounce or a
    # complaint stays suppressed. (No contacts service removes suppressions yet.)
    entries = Suppression.objects.filter(
        workspace=workspace, channel=Channel.SMS, address_hash=address_hash(Channel.SMS, number)
    )
    entries.filter(reason=SuppressionReason.UNSUBSCRIBED).delete()
    if entries.exists():
        return None
    reply = _("You are subscribed again to %(workspace)s texts. Reply STOP to unsubscribe.") % {
        "workspace": workspace.name
    }
    for contact in contacts:
        if contact.sms_consent != Consent.OPTED_IN:
            consent_set(
                contact=contact,
                channel=Channel.SMS,
                status=Consent.OPTED_IN,
                source="SMS START",
                text=f"Texted “START”. Confirmation sent: {reply}",
            )
    return reply
