"""Writes and rules for campaigns and channel items: content checks (merge tags with positions),
the state machine (schedule, send now, pause, resume, unschedule, cancel), test sends, results of
planned channels. Pages, the API, the admin and the demo seed all go through these functions."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.core.validators import EmailValidator, URLValidator
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from apps.approvals.checks import Clearance, is_cleared
from apps.campaigns import selectors
from apps.campaigns.choices import ChannelKind, ItemStatus, Timing, is_sent_channel
from apps.campaigns.models import Campaign, ChannelItem, ChannelResult
from apps.campaigns.personalization import check_template
from apps.campaigns.rendering import TEMPLATE_FIELDS, payload_strings, render_for
from apps.campaigns.scheduling import earliest_moment, latest_moment, utc_to_wall, wall_to_utc, zone
from apps.contacts.cleaning import FieldError, normalise_phone
from apps.contacts.models import Contact
from apps.core.scoping import scoped
from apps.core.sms import SmsMessage, get_backend
from apps.personas.models import Persona
from apps.segments.models import Segment
from apps.workspaces.models import Team, Workspace

if TYPE_CHECKING:
    from apps.accounts.models import User

NAME_MAX = 120
TEXT_MAX = 100_000
PAYLOAD_MAX_BYTES = 64 * 1024
PAYLOAD_MAX_DEPTH = 20
MAX_LENGTHS = {"subject": 255, "preheader": 255, "from_name": 120, "placement": 200}

CAMPAIGN_FIELDS = ("name", "goal", "owner_team", "starts_on", "ends_on", "personas")

# Which fields belong to which channel; a value in a field of another channel is refused.
EMAIL_FIELDS = ("subject", "preheader", "body_html", "body_text", "from_name", "from_email", "reply_to")
SMS_FIELDS = ("sms_text", "quiet_hours_start", "quiet_hours_end")
WEBHOOK_FIELDS = ("webhook_url", "payload")
SENT_FIELDS = ("throttle_per_minute",)
PLANNED_FIELDS = ("content", "placement", "budget", "starts_on", "ends_on")
COMMON_FIELDS = ("name", "owner_team", "segments", "exclusions")
ITEM_FIELDS = COMMON_FIELDS + EMAIL_FIELDS + SMS_FIELDS + WEBHOOK_FIELDS + SENT_FIELDS + PLANNED_FIELDS
FIELD_CHANNELS: dict[str, frozenset[str]] = {
    **{name: frozenset({ChannelKind.EMAIL}) for name in EMAIL_FIELDS},
    **{name: frozenset({ChannelKind.SMS}) for name in SMS_FIELDS},
    **{name: frozenset({ChannelKind.WEBHOOK}) for name in WEBHOOK_FIELDS},
    **{name: frozenset({ChannelKind.EMAIL, ChannelKind.SMS, ChannelKind.WEBHOOK}) for name in SENT_FIELDS},
}
# What the content hash covers: the copy, the audience, the schedule and the sender. The sign-off
# given when scheduling is for exactly this.
HASHED_FIELDS = (
    "channel", "subject", "preheader", "body_html", "body_text", "from_name", "from_email", "reply_to",
    "sms_text", "webhook_url", "payload", "content", "placement", "budget", "starts_on", "ends_on",
    "timing", "send_at", "local_send_date", "local_send_time", "quiet_hours_start", "quiet_hours_end",
    "throttle_per_minute",
)  # fmt: skip


class InvalidTransition(Exception):  # noqa: N818 - named for what happened, like Http404
    """The item's state does not allow the step asked for (the API answers 409)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class SignOffRequired(Exception):  # noqa: N818 - named for what happened
    """The content is not cleared for sending (the API answers 403)."""

    def __init__(self, clearance: Clearance) -> None:
        super().__init__(clearance.reason)
        self.message = clearance.reason


def _text_problem(value: str, max_length: int, label: str) -> str | None:
    if "\x00" in value:
        return _("Text cannot hold NUL characters.")
    if len(value) > max_length:
        return _("%(label)s has at most %(max)s characters.") % {"label": label, "max": f"{max_length:,}"}
    return None


def _label(name: str) -> str:
    field = ChannelItem._meta.get_field(name)
    return capfirst(str(getattr(field, "verbose_name", name)))


def _depth(value: Any, limit: int = PAYLOAD_MAX_DEPTH + 1) -> int:
    """How deep JSON nests, counted without recursion (a payload nested 1,000 deep must not crash)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        current, depth = stack.pop()
        if isinstance(current, dict | list) and current:
            deepest = max(deepest, depth)
            if depth > limit:
                return depth
            children = current.values() if isinstance(current, dict) else current
            stack.extend((child, depth + 1) for child in children)
    return deepest


def _number(value: Any, *, whole: bool) -> Any:
    """A figure typed by a person or sent as JSON: an int, or a Decimal with two places (money)."""
    if value is None or value == "":
        return None
    try:
        number = Decimal(str(value).strip())
    except ArithmeticError as error:
        raise ValueError(_("“%(value)s” is not a number.") % {"value": value}) from error
    if not number.is_finite():
        raise ValueError(_("“%(value)s” is not a number.") % {"value": value})
    if whole:
        if number != number.to_integral_value():
            raise ValueError(_("Give a whole number."))
        if abs(number) > 2_147_483_647:
            raise ValueError(_("At most 2,147,483,647."))
        return int(number)
    if abs(number) >= Decimal("1e10"):
        raise ValueError(_("At most 9,999,999,999.99."))
    return number.quantize(Decimal("0.01"))


# --- Campaigns ------------------------------------------------------------------------------------


def _campaign_errors(
    *,
    workspace: Workspace,
    campaign: Campaign,
    personas: Sequence[Persona] | None,
) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    campaign.name = (campaign.name or "").strip()
    if not campaign.name:
        errors["name"] = [_("Give the campaign a name.")]
    elif problem := _text_problem(campaign.name, NAME_MAX, _("A name")):
        errors["name"] = [problem]
    else:
        same = scoped(Campaign.objects.filter(name__iexact=campaign.name), workspace=workspace)
        if campaign.pk:
            same = same.exclude(pk=campaign.pk)
        if same.exists():
            errors["name"] = [
                _("There is already a campaign “%(name)s” in this workspace.") % {"name": campaign.name}
            ]
    if problem := _text_problem(campaign.goal or "", 5000, _("A goal")):
        errors["goal"] = [problem]
    if (
        campaign.owner_team_id
        and not Team.objects.filter(id=campaign.owner_team_id, workspace=workspace).exists()
    ):
        errors["owner_team"] = [_("Choose a team of this workspace.")]
    if campaign.starts_on and campaign.ends_on and campaign.ends_on < campaign.starts_on:
        errors["ends_on"] = [_("The campaign cannot end before it starts.")]
    if personas is not None and any(persona.workspace_id != workspace.id for persona in personas):
        errors["personas"] = [_("Choose personas of this workspace.")]
    return errors


def _apply(target: Any, values: dict[str, Any], allowed: Iterable[str]) -> None:
    unknown = set(values) - set(allowed)
    if unknown:
        raise TypeError(f"Not editable here: {', '.join(sorted(unknown))}")
    for name, value in values.items():
        if name == "owner_team":
            target.owner_team_id = value.id if isinstance(value, Team) else value
        else:
            setattr(target, name, value.strip() if isinstance(value, str) and name != "body_html" else value)


@transaction.atomic
def campaign_create(*, workspace: Workspace, actor: User | None = None, **values: Any) -> Campaign:
    personas = values.pop("personas", None)
    campaign = Campaign(workspace=workspace, created_by=actor)
    _apply(campaign, values, CAMPAIGN_FIELDS)
    errors = _campaign_errors(workspace=workspace, campaign=campaign, personas=personas)
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            campaign.save()
    except IntegrityError as error:
        raise ValidationError({"name": [_("There is already a campaign with this name.")]}) from error
    if personas:
        campaign.personas.set(personas)
    return campaign


@transaction.atomic
def campaign_update(*, campaign: Campaign, actor: User | None = None, **values: Any) -> Campaign:
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    personas = values.pop("personas", None)
    _apply(campaign, values, CAMPAIGN_FIELDS)
    errors = _campaign_errors(workspace=campaign.workspace, campaign=campaign, personas=personas)
    if errors:
        raise ValidationError(errors)
    campaign.version += 1
    try:
        with transaction.atomic():
            campaign.save()
    except IntegrityError as error:
        raise ValidationError({"name": [_("There is already a campaign with this name.")]}) from error
    if personas is not None:
        campaign.personas.set(personas)
    return campaign


LIVE_STATUSES = frozenset({ItemStatus.SCHEDULED, ItemStatus.SENDING, ItemStatus.PAUSED})


@transaction.atomic
def campaign_delete(*, campaign: Campaign) -> None:
    """Refused while one of its items is scheduled, sending or paused: cancel those first."""
    live = campaign.items.select_for_update().filter(status__in=LIVE_STATUSES).first()
    if live is not None:
        raise InvalidTransition(
            _("“%(item)s” is %(status)s: cancel or unschedule it before deleting the campaign.")
            % {"item": live.name, "status": live.get_status_display().lower()}
        )
    campaign.delete()


# --- Channel items: content -----------------------------------------------------------------------


def _segment_errors(
    workspace: Workspace, segments: Sequence[Segment] | None, exclusions: Sequence[Segment] | None
) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for name, chosen in (("segments", segments), ("exclusions", exclusions)):
        if chosen is not None and any(segment.workspace_id != workspace.id for segment in chosen):
            errors[name] = [_("Choose segments of this workspace.")]
    if segments and exclusions:
        both = sorted({s.name for s in segments} & {s.name for s in exclusions})
        if both:
            errors["exclusions"] = [
                _("A segment cannot be both audience and exclusion: %(names)s.") % {"names": ", ".join(both)}
            ]
    return errors


def _item_errors(item: ChannelItem, *, custom_keys: Sequence[str]) -> dict[str, list[str]]:
    """Every problem of the item's content at once; merge-tag problems name line and column."""
    errors: dict[str, list[str]] = {}
    if item.channel not in ChannelKind.values:
        errors["channel"] = [
            _("“%(channel)s” is not a channel: use one of %(channels)s.")
            % {"channel": item.channel, "channels": ", ".join(ChannelKind.values)}
        ]
        return errors
    item.name = (item.name or "").strip()
    if not item.name:
        errors["name"] = [_("Give the item a name.")]
    elif problem := _text_problem(item.name, NAME_MAX, _("A name")):
        errors["name"] = [problem]
    channel_label = ChannelKind(item.channel).label
    defaults = {field.name: field.get_default() for field in ChannelItem._meta.concrete_fields}
    for name, channels in FIELD_CHANNELS.items():
        value = getattr(item, name)
        if item.channel not in channels and value not in (None, "", {}, [], defaults.get(name)):
            errors[name] = [
                _("%(field)s is not part of an item of the channel %(channel)s.")
                % {"field": _label(name), "channel": channel_label}
            ]
    if is_sent_channel(item.channel):
        for name in PLANNED_FIELDS:
            if getattr(item, name) not in (None, ""):
                errors[name] = [
                    _("%(field)s is for planned channels; %(channel)s items are sent by Ensemble.")
                    % {"field": _label(name), "channel": channel_label}
                ]
    for name in ("subject", "preheader", "from_name", "placement"):
        if problem := _text_problem(getattr(item, name) or "", MAX_LENGTHS[name], _("It")):
            errors.setdefault(name, []).append(problem)
    for name in ("body_html", "body_text", "sms_text", "content"):
        if problem := _text_problem(getattr(item, name) or "", TEXT_MAX, _("It")):
            errors.setdefault(name, []).append(problem)
    for name in ("subject", "preheader"):
        if "\n" in (getattr(item, name) or "") or "\r" in (getattr(item, name) or ""):
            errors.setdefault(name, []).append(_("Keep it on one line."))
    for name in ("from_email", "reply_to"):
        value = getattr(item, name)
        if value:
            try:
                EmailValidator()(value)
            except ValidationError:
                errors.setdefault(name, []).append(
                    _("“%(value)s” is not a valid email address.") % {"value": value}
                )
    if item.webhook_url:
        try:
            URLValidator(schemes=["https", "http"])(item.webhook_url)
        except ValidationError:
            errors["webhook_url"] = [_("Give an http or https URL, e.g. https://hooks.example.com/ensemble.")]
        else:
            if "@" in item.webhook_url.split("//", 1)[1].split("/", 1)[0]:
                errors["webhook_url"] = [_("Put credentials in the integration's settings, not in the URL.")]
    if not isinstance(item.payload, dict):
        errors["payload"] = [_('The payload is a JSON object, e.g. {"title": "Hello {{ first_name }}"}.')]
    elif _depth(item.payload) > PAYLOAD_MAX_DEPTH:
        errors["payload"] = [_("The payload nests at most %(max)s levels deep.") % {"max": PAYLOAD_MAX_DEPTH}]
    elif len(json.dumps(item.payload)) > PAYLOAD_MAX_BYTES:
        errors["payload"] = [
            _("The payload has at most %(max)s bytes of JSON.") % {"max": f"{PAYLOAD_MAX_BYTES:,}"}
        ]
    if (item.quiet_hours_start is None) != (item.quiet_hours_end is None):
        errors["quiet_hours_end"] = [_("Give both ends of the quiet hours, or neither.")]
    if item.throttle_per_minute is not None and item.throttle_per_minute < 1:
        errors["throttle_per_minute"] = [_("Send at least one message a minute, or leave it empty.")]
    try:
        item.budget = _number(item.budget, whole=False)
    except ValueError as error:
        errors["budget"] = [str(error)]
    else:
        if item.budget is not None and item.budget < 0:
            errors["budget"] = [_("A budget cannot be negative.")]
    if item.starts_on and item.ends_on and item.ends_on < item.starts_on:
        errors["ends_on"] = [_("It cannot end before it starts.")]
    if (
        item.owner_team_id
        and not Team.objects.filter(id=item.owner_team_id, workspace_id=item.workspace_id).exists()
    ):
        errors["owner_team"] = [_("Choose a team of this workspace.")]
    for name in TEMPLATE_FIELDS:
        source = getattr(item, name) or ""
        if source and name not in errors:
            problems = check_template(source, custom_keys=custom_keys)
            if problems:
                errors[name] = [str(problem) for problem in problems]
    if isinstance(item.payload, dict) and "payload" not in errors:
        for path, source in payload_strings(item.payload):
            problems = check_template(source, custom_keys=custom_keys)
            errors.setdefault("payload", []).extend(f"{path}: {problem}" for problem in problems)
        if not errors.get("payload"):
            errors.pop("payload", None)
    return errors


def _save_item(item: ChannelItem, values: dict[str, Any]) -> ChannelItem:
    segments = values.pop("segments", None)
    exclusions = values.pop("exclusions", None)
    _apply(item, values, ITEM_FIELDS)
    if item.payload is None:
        item.payload = {}
    errors = _item_errors(item, custom_keys=selectors.custom_keys(workspace=item.workspace))
    errors.update(_segment_errors(item.workspace, segments, exclusions))
    if errors:
        raise ValidationError(errors)
    item.save()
    if segments is not None:
        item.segments.set(segments)
    if exclusions is not None:
        item.exclusions.set(exclusions)
    return item


@transaction.atomic
def item_create(*, campaign: Campaign, channel: str, actor: User | None = None, **values: Any) -> ChannelItem:
    """A new draft item. An email starts with the workspace's default sender; an SMS with the
    default quiet hours (21:00-08:00 recipient time); other channels have none."""
    workspace = campaign.workspace
    item = ChannelItem(workspace=workspace, campaign=campaign, channel=channel, created_by=actor)
    if channel == ChannelKind.EMAIL:
        item.from_name = workspace.default_sender_name or workspace.name
        item.from_email = workspace.default_sender_email
    if channel != ChannelKind.SMS:
        item.quiet_hours_start = item.quiet_hours_end = None
    return _save_item(item, dict(values))


def _lock(item: ChannelItem) -> ChannelItem:
    """The item, locked for this transaction: two editors or two clicks never interleave."""
    return selectors.item_queryset(workspace=item.workspace).select_for_update(of=("self",)).get(pk=item.pk)


@transaction.atomic
def item_update(*, item: ChannelItem, actor: User | None = None, **values: Any) -> ChannelItem:
    """Only a draft changes: what was signed off and scheduled goes out exactly as it was."""
    item = _lock(item)
    if not item.is_editable:
        raise InvalidTransition(
            _(
                "This item is %(status)s: unschedule it (or, once cancelled or sent, duplicate it) to change it."
            )
            % {"status": item.get_status_display().lower()}
        )
    item.version += 1
    return _save_item(item, dict(values))


@transaction.atomic
def item_delete(*, item: ChannelItem) -> None:
    item = _lock(item)
    if item.status in LIVE_STATUSES:
        raise InvalidTransition(
            _("This item is %(status)s: cancel or unschedule it before deleting it.")
            % {"status": item.get_status_display().lower()}
        )
    item.delete()


# --- Channel items: sign-off and schedule -------------------------------------------------------------


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


# --- Test sends and results -----------------------------------------------------------------------


def _first_problems(rendered_problems: dict[str, list[str]]) -> None:
    if rendered_problems:
        raise ValidationError(rendered_problems)


def item_test_send(*, item: ChannelItem, actor: User, contact: Contact | None = None, phone: str = "") -> str:
    """Send the item, personalised as `contact` (default: the preview contact), to the person
    testing it: an email to their own address, a text to the phone number they give. Returns where
    it went. Works in any state: the draft is what needs testing."""
    if contact is None:
        contact = selectors.preview_contact(item=item)
    rendered = render_for(item, contact=contact, custom_keys=selectors.custom_keys(workspace=item.workspace))
    _first_problems(rendered.problems)
    if item.channel == ChannelKind.EMAIL:
        if not item.from_email:
            raise ValidationError({"from_email": [_("Give a from address first.")]})
        if not (item.body_html or item.body_text):
            raise ValidationError({"body_html": [_("Write the email's body first.")]})
        sender = f"{item.from_name} <{item.from_email}>" if item.from_name else item.from_email
        message = EmailMultiAlternatives(
            subject=f"[Test] {rendered.values['subject']}",
            body=rendered.values["body_text"] or _("This email has an HTML body only."),
            from_email=sender,
            to=[actor.email],
            reply_to=[item.reply_to] if item.reply_to else None,
            headers={"X-Ensemble-Test": target_of(item)},
        )
        if rendered.values["body_html"]:
            message.attach_alternative(rendered.values["body_html"], "text/html")
        message.send()
        return actor.email
    if item.channel == ChannelKind.SMS:
        if not item.sms_text:
            raise ValidationError({"sms_text": [_("Write the text message first.")]})
        try:
            number = normalise_phone(phone or "", region=item.workspace.default_phone_region)
        except FieldError as error:
            raise ValidationError(
                {"phone": [str(error) if phone else _("Give the phone number to send the test to.")]}
            ) from error
        backend = get_backend()
        backend.send(SmsMessage(to=number, body=rendered.values["sms_text"], reference=target_of(item)))
        return number
    if item.channel == ChannelKind.WEBHOOK:
        raise InvalidTransition(
            _("Webhook test sends come with the delivery engine (signed requests with an address guard); "
              "the preview shows the payload each recipient's integration call carries.")
        )  # fmt: skip
    raise InvalidTransition(
        _("A %(channel)s is run by its team, not sent by Ensemble.")
        % {"channel": item.get_channel_display().lower()}
    )


RESULT_FIELDS = ("recorded_on", "reach", "responses", "conversions", "cost", "note")


@transaction.atomic
def result_add(*, item: ChannelItem, actor: User | None = None, **values: Any) -> ChannelResult:
    """Results of a planned channel, entered by the team that runs it."""
    result = ChannelResult(workspace=item.workspace, item=item, recorded_by=actor)
    _apply(result, values, RESULT_FIELDS)
    errors: dict[str, list[str]] = {}
    if is_sent_channel(item.channel):
        errors["__all__"] = [
            _("Ensemble measures the results of what it sends; enter results for planned channels.")
        ]
    if not result.recorded_on:
        errors["recorded_on"] = [_("Give the day the results are for.")]
    if all(getattr(result, name) in (None, "") for name in ("reach", "responses", "conversions", "cost")):
        errors.setdefault("__all__", []).append(
            _("Enter at least one figure: reach, responses, conversions or cost.")
        )
    for name in ("reach", "responses", "conversions", "cost"):
        try:
            value = _number(getattr(result, name), whole=name != "cost")
        except ValueError as error:
            errors[name] = [str(error)]
            continue
        setattr(result, name, value)
        if value is not None and value < 0:
            errors[name] = [_("It cannot be negative.")]
    if problem := _text_problem(result.note or "", 500, _("A note")):
        errors["note"] = [problem]
    if errors:
        raise ValidationError(errors)
    result.save()
    return result


@transaction.atomic
def result_delete(*, result: ChannelResult) -> None:
    result.delete()
