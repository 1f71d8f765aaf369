"""Channel item content: every problem at once, merge tags with their line and column, fields of
another channel refused by name; only a draft changes."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator, URLValidator
from django.db import transaction
from django.utils.translation import gettext as _

from apps.campaigns import selectors
from apps.campaigns.choices import ChannelKind, is_sent_channel
from apps.campaigns.models import Campaign, ChannelItem
from apps.campaigns.personalization import check_template
from apps.campaigns.rendering import TEMPLATE_FIELDS, payload_strings
from apps.campaigns.services.common import (
    FIELD_CHANNELS,
    ITEM_FIELDS,
    LIVE_STATUSES,
    MAX_LENGTHS,
    NAME_MAX,
    PAYLOAD_MAX_BYTES,
    PAYLOAD_MAX_DEPTH,
    PLANNED_FIELDS,
    TEXT_MAX,
    InvalidTransition,
    _apply,
    _depth,
    _label,
    _number,
    _text_problem,
)
from apps.segments.models import Segment
from apps.workspaces.models import Team, Workspace

if TYPE_CHECKING:
    from apps.accounts.models import User


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
