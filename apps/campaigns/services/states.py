"""Sign-off and the state machine: schedule (and send now), pause, resume, unschedule, cancel; the
content hash that sign-off covers."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.approvals.checks import is_cleared
from apps.campaigns import selectors
from apps.campaigns.choices import ChannelKind, ItemStatus, Timing, is_sent_channel
from apps.campaigns.models import ChannelItem
from apps.campaigns.scheduling import earliest_moment, latest_moment, utc_to_wall, wall_to_utc, zone
from apps.campaigns.services.common import HASHED_FIELDS, InvalidTransition, SignOffRequired
from apps.campaigns.services.items import _item_errors, _lock

if TYPE_CHECKING:
    from apps.accounts.models import User


def content_hash(item: ChannelItem) -> str:
    """SHA-256 of what sign-off covers: copy, audience, schedule, sender (not the item's name)."""

    def plain(value: Any) -> Any:
        if isinstance(value, dt.datetime | dt.date | dt.time):
            return value.isoformat()
        if isinstance(value, Decimal):
            return str(value)
        return value

    document = {name: plain(getattr(item, name)) for name in HASHED_FIELDS}
    document["segments"] = sorted(segment.id for segment in item.segments.all())
    document["exclusions"] = sorted(segment.id for segment in item.exclusions.all())
    encoded = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(encoded.encode()).hexdigest()


def target_of(item: ChannelItem) -> str:
    return f"campaigns.channelitem:{item.pk}"


def schedule_problems(item: ChannelItem) -> dict[str, list[str]]:
    """What the item still lacks before it can be scheduled (the page lists these as a checklist)."""
    errors: dict[str, list[str]] = {}
    channel = item.channel

    def need(name: str, message: str) -> None:
        if not getattr(item, name):
            errors.setdefault(name, []).append(message)

    if channel == ChannelKind.EMAIL:
        need("subject", _("Write a subject line."))
        need("from_email", _("Give a from address."))
        if not item.body_html and not item.body_text:
            errors["body_html"] = [_("Write the email's body (HTML or text).")]
        if not item.workspace.postal_address.strip():
            errors["__all__"] = [
                _("Add the workspace's postal address in its settings: anti-spam laws require it in every "
                  "marketing email's footer.")
            ]  # fmt: skip
    elif channel == ChannelKind.SMS:
        need("sms_text", _("Write the text message."))
    elif channel == ChannelKind.WEBHOOK:
        need("webhook_url", _("Give the integration's URL."))
        need("payload", _("Write the JSON payload the integration receives."))
    if (is_sent_channel(channel) or channel == ChannelKind.DIRECT_MAIL) and not item.segments.all():
        errors["segments"] = [_("Choose at least one segment to send to.")]
    content_errors = _item_errors(item, custom_keys=selectors.custom_keys(workspace=item.workspace))
    for name, messages in content_errors.items():
        errors.setdefault(name, []).extend(messages)
    return errors


def _schedule_times(
    item: ChannelItem, *, timing: str, send_at: dt.datetime | None, now: dt.datetime
) -> dict[str, Any]:
    """Timing fields to store. `send_at` for `at`: naive means the workspace's time zone; for
    `recipient_local`: its wall-clock time is each recipient's local time (an aware value is read
    in the workspace's zone first)."""
    workspace_zone = zone(item.workspace.time_zone, fallback="UTC")
    if timing not in Timing.values:
        raise ValidationError({"timing": [_("Use one of: now, at, recipient_local.")]})
    if timing == Timing.NOW:
        return {"timing": timing, "send_at": now, "local_send_date": None, "local_send_time": None}
    if send_at is None:
        raise ValidationError({"send_at": [_("Give the date and time to send at.")]})
    if timing == Timing.AT:
        moment = wall_to_utc(send_at, workspace_zone) if timezone.is_naive(send_at) else send_at
        if moment <= now:
            raise ValidationError({"send_at": [_("That moment has passed: choose a time in the future.")]})
        return {"timing": timing, "send_at": moment, "local_send_date": None, "local_send_time": None}
    wall = send_at if timezone.is_naive(send_at) else utc_to_wall(send_at, workspace_zone)
    wall = wall.replace(second=0, microsecond=0)
    if latest_moment(wall) <= now:
        raise ValidationError(
            {
                "send_at": [
                    _("%(when)s has passed in every time zone: choose a later time.")
                    % {"when": f"{wall:%Y-%m-%d %H:%M}"}
                ]
            }
        )
    return {
        "timing": timing,
        "send_at": max(earliest_moment(wall), now),
        "local_send_date": wall.date(),
        "local_send_time": wall.time(),
    }


@transaction.atomic
def item_schedule(
    *,
    item: ChannelItem,
    actor: User | None,
    actor_role: str,
    timing: str = Timing.NOW,
    send_at: dt.datetime | None = None,
    now: dt.datetime | None = None,
) -> ChannelItem:
    """Schedule a draft (or move a scheduled item's time). Needs sign-off through the approvals
    check; the hash of the content as scheduled is kept, and every later check compares with it.
    A planned channel is "scheduled" when it is booked for its dates; it has no send time."""
    item = _lock(item)
    now = now or timezone.now()
    if item.status not in (ItemStatus.DRAFT, ItemStatus.SCHEDULED):
        raise InvalidTransition(
            _("Only a draft or a scheduled item can be scheduled; this one is %(status)s.")
            % {"status": item.get_status_display().lower()}
        )
    problems = schedule_problems(item)
    if problems:
        raise ValidationError(problems)
    if item.is_sent:
        for name, value in _schedule_times(item, timing=timing, send_at=send_at, now=now).items():
            setattr(item, name, value)
    else:
        item.timing, item.send_at, item.local_send_date, item.local_send_time = Timing.AT, None, None, None
    digest = content_hash(item)
    clearance = is_cleared(
        workspace=item.workspace, target=target_of(item), content_hash=digest, actor_role=actor_role
    )
    if not clearance:
        raise SignOffRequired(clearance)
    item.status = ItemStatus.SCHEDULED
    item.scheduled_at, item.scheduled_by, item.cleared_hash = now, actor, digest
    item.paused_from = ""
    item.version += 1
    item.save()
    return item


def item_send_now(*, item: ChannelItem, actor: User | None, actor_role: str) -> ChannelItem:
    if not item.is_sent:
        raise InvalidTransition(
            _("A %(channel)s is run by its team, not sent by Ensemble.")
            % {"channel": item.get_channel_display().lower()}
        )
    return item_schedule(item=item, actor=actor, actor_role=actor_role, timing=Timing.NOW)


def _sent_only(item: ChannelItem, verb: str) -> None:
    if not item.is_sent:
        raise InvalidTransition(
            _("A %(channel)s is run by its team, not sent by Ensemble: there is nothing to %(verb)s.")
            % {"channel": item.get_channel_display().lower(), "verb": verb}
        )


@transaction.atomic
def item_pause(*, item: ChannelItem, actor: User | None = None) -> ChannelItem:
    """The emergency brake: any editor may pull it. Deliveries not yet handed over wait."""
    item = _lock(item)
    _sent_only(item, _("pause"))
    if item.status not in (ItemStatus.SCHEDULED, ItemStatus.SENDING):
        raise InvalidTransition(
            _("Only a scheduled or sending item can be paused; this one is %(status)s.")
            % {"status": item.get_status_display().lower()}
        )
    item.paused_from, item.status = item.status, ItemStatus.PAUSED
    item.pause_reason = _("Paused by %(who)s.") % {"who": actor.email} if actor is not None else ""
    item.version += 1
    item.save()
    return item


@transaction.atomic
def item_resume(*, item: ChannelItem, actor: User | None, actor_role: str) -> ChannelItem:
    """Back to where it was paused. Resuming sends, so it needs sign-off, and the content must
    still be the content that was signed off."""
    item = _lock(item)
    _sent_only(item, _("resume"))
    if item.status != ItemStatus.PAUSED:
        raise InvalidTransition(
            _("Only a paused item can be resumed; this one is %(status)s.")
            % {"status": item.get_status_display().lower()}
        )
    digest = content_hash(item)
    for clearance in (
        is_cleared(
            workspace=item.workspace, target=target_of(item), content_hash=digest, actor_role=actor_role
        ),
        is_cleared(
            workspace=item.workspace,
            target=target_of(item),
            content_hash=digest,
            signed_off_hash=item.cleared_hash,
        ),
    ):
        if not clearance:
            raise SignOffRequired(clearance)
    item.status, item.paused_from, item.pause_reason = item.paused_from or ItemStatus.SCHEDULED, "", ""
    item.version += 1
    item.save()
    return item


@transaction.atomic
def item_unschedule(*, item: ChannelItem, actor: User | None = None) -> ChannelItem:
    """Back to a draft, to be changed and signed off again. Only before sending started."""
    item = _lock(item)
    not_started = item.status == ItemStatus.SCHEDULED or (
        item.status == ItemStatus.PAUSED and item.paused_from == ItemStatus.SCHEDULED
    )
    if not not_started or item.launched_at is not None:
        raise InvalidTransition(
            _("Only an item that has not started sending can go back to draft; this one is %(status)s.")
            % {"status": item.get_status_display().lower()}
        )
    item.status, item.paused_from, item.cleared_hash = ItemStatus.DRAFT, "", ""
    item.send_at = None
    item.scheduled_at = None
    item.version += 1
    item.save()
    return item


@transaction.atomic
def item_cancel(*, item: ChannelItem, actor: User | None = None) -> ChannelItem:
    """Final: nothing more goes out (deliveries already handed to a provider stay sent)."""
    item = _lock(item)
    if item.status in (ItemStatus.SENT, ItemStatus.CANCELLED):
        raise InvalidTransition(
            _("This item is already %(status)s.") % {"status": item.get_status_display().lower()}
        )
    item.status, item.paused_from = ItemStatus.CANCELLED, ""
    item.finished_at = timezone.now()
    item.version += 1
    item.save()
    return item
