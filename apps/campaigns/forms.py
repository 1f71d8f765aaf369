"""Campaign pages' forms: shape only (the services check names, merge tags, channels and dates).

A channel item's form holds the fields of its channel alone, so an email editor never shows SMS
boxes and the service never sees a value for a field its channel does not have."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.forms.models import fields_for_model, model_to_dict
from django.utils.translation import gettext_lazy as _

from apps.campaigns import services
from apps.campaigns.choices import ChannelKind, Timing, is_sent_channel
from apps.campaigns.models import ChannelItem, ChannelResult
from apps.personas.selectors import persona_list
from apps.segments.models import Segment
from apps.segments.selectors import segment_list
from apps.workspaces.models import Workspace
from apps.workspaces.selectors import team_list

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
TIME = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")


def _team_field(workspace: Workspace) -> forms.ModelChoiceField:
    return forms.ModelChoiceField(
        queryset=team_list(workspace=workspace),
        required=False,
        label=_("Owner team"),
        empty_label=_("No team"),
    )


class CampaignForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=services.NAME_MAX)
    goal = forms.CharField(
        label=_("Goal"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("What the campaign should achieve, in one or two sentences everyone shares."),
    )
    starts_on = forms.DateField(label=_("Starts on"), required=False, widget=DATE)
    ends_on = forms.DateField(label=_("Ends on"), required=False, widget=DATE)

    def __init__(self, *args: Any, workspace: Workspace, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner_team"] = _team_field(workspace)
        self.fields["personas"] = forms.ModelMultipleChoiceField(
            queryset=persona_list(workspace=workspace),
            required=False,
            label=_("Personas addressed"),
            widget=forms.CheckboxSelectMultiple,
        )
        self.order_fields(["name", "goal", "owner_team", "starts_on", "ends_on", "personas"])

    @staticmethod
    def initial_for(campaign: Any) -> dict[str, Any]:
        return model_to_dict(campaign, fields=services.CAMPAIGN_FIELDS)

    def values(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {name: data.get(name) for name in services.CAMPAIGN_FIELDS} | {
            "goal": data.get("goal") or "",
            "personas": list(data.get("personas") or []),
        }


def item_field_names(channel: str) -> tuple[str, ...]:
    """The fields an item of `channel` has, in the editor's order."""
    names: tuple[str, ...] = ("name",)
    if channel == ChannelKind.EMAIL:
        names += ("from_name", "from_email", "reply_to", "subject", "preheader", "body_html", "body_text")
    elif channel == ChannelKind.SMS:
        names += ("sms_text", "quiet_hours_start", "quiet_hours_end")
    elif channel == ChannelKind.WEBHOOK:
        names += ("webhook_url", "payload")
    else:
        names += ("content", "placement", "budget", "starts_on", "ends_on", "owner_team")
    names += ("segments", "exclusions")
    if is_sent_channel(channel):
        names += ("throttle_per_minute",)
    return names


def exclusion_candidates(workspace: Workspace) -> QuerySet[Segment]:
    """Segments flagged as exclusions first (the usual choice), then the rest by name."""
    return segment_list(workspace=workspace).order_by("-is_exclusion", "name", "id")


class PayloadField(forms.CharField):
    """The webhook's JSON payload, typed as text; an object or a clear error."""

    widget = forms.Textarea(attrs={"rows": 8, "spellcheck": "false", "class": "code"})

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, dict | list):
            return json.dumps(value, indent=2, ensure_ascii=False)
        return value

    def to_python(self, value: Any) -> Any:
        text = super().to_python(value) or ""
        if not text.strip():
            return {}
        try:
            parsed = json.loads(text)
        except json.JSONDecodeError as error:
            raise forms.ValidationError(
                _("This is not valid JSON (line %(line)s, column %(column)s): %(why)s.")
                % {"line": error.lineno, "column": error.colno, "why": error.msg}
            ) from error
        if not isinstance(parsed, dict):
            raise forms.ValidationError(
                _('The payload is a JSON object, e.g. {"title": "Hello {{ first_name }}"}.')
            )
        return parsed


class ChannelItemForm(forms.Form):
    """Name, audience and the copy of one channel. Merge-tag problems come back from the service
    with their line and column, attached to the field they are in."""

    def __init__(self, *args: Any, workspace: Workspace, channel: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.channel = channel
        names = item_field_names(channel)
        model_names = [
            n for n in names if n not in ("segments", "exclusions", "owner_team", "payload", "webhook_url")
        ]
        self.fields.update(fields_for_model(ChannelItem, fields=model_names))
        if "webhook_url" in names:
            # A CharField: the service checks the URL (scheme, no credentials) in plain words.
            self.fields["webhook_url"] = forms.CharField(
                label=_("Integration URL"),
                required=False,
                max_length=500,
                widget=forms.URLInput(attrs={"placeholder": "https://hooks.example.com/ensemble"}),
            )
        for name in (
            "sms_text",
            "body_html",
            "body_text",
            "content",
            "subject",
            "preheader",
            "from_email",
            "reply_to",
        ):
            if name in self.fields:
                # The service checks these (merge tags with positions, addresses in plain words).
                self.fields[name] = forms.CharField(
                    label=self.fields[name].label,
                    required=False,
                    strip=name != "body_html",
                    widget=self.fields[name].widget,
                    help_text=self.fields[name].help_text,
                )
        for name in ("starts_on", "ends_on"):
            if name in self.fields:
                self.fields[name].widget = DATE
        for name in ("quiet_hours_start", "quiet_hours_end"):
            if name in self.fields:
                self.fields[name].widget = TIME
        if "owner_team" in names:
            self.fields["owner_team"] = _team_field(workspace)
        if "payload" in names:
            self.fields["payload"] = PayloadField(
                label=_("JSON payload"),
                required=False,
                help_text=_(
                    "Every text inside may hold merge tags; the integration receives one call per recipient."
                ),
            )
        if "body_html" in self.fields:
            self.fields["body_html"].widget = forms.Textarea(
                attrs={"rows": 10, "spellcheck": "false", "class": "code"}
            )
        if "sms_text" in self.fields:
            self.fields["sms_text"].widget = forms.Textarea(
                attrs={"rows": 4, "aria-describedby": "sms-counter"}
            )
        if "budget" in self.fields:
            self.fields["budget"].label = _("Budget (%(currency)s)") % {"currency": workspace.currency}
        if "content" in self.fields:
            self.fields["content"].widget = forms.Textarea(attrs={"rows": 5})
            self.fields["content"].help_text = _("The copy or the brief for the team that runs it.")
        segments = segment_list(workspace=workspace)
        self.fields["segments"] = forms.ModelMultipleChoiceField(
            queryset=segments, required=False, label=_("Segments"), widget=forms.CheckboxSelectMultiple
        )
        self.fields["exclusions"] = forms.ModelMultipleChoiceField(
            queryset=exclusion_candidates(workspace),
            required=False,
            label=_("Exclusion segments"),
            widget=forms.CheckboxSelectMultiple,
            help_text=_("Contacts in any of these get nothing, even when a chosen segment holds them."),
        )
        self.order_fields(list(names))

    @staticmethod
    def initial_for(item: ChannelItem) -> dict[str, Any]:
        names = [n for n in item_field_names(item.channel) if n not in ("segments", "exclusions")]
        initial = model_to_dict(item, fields=names)
        initial["segments"] = list(item.segments.all())
        initial["exclusions"] = list(item.exclusions.all())
        return initial

    def content_fields(self) -> list[forms.BoundField]:
        return [self[n] for n in self.fields if n not in ("segments", "exclusions", "throttle_per_minute")]

    def values(self) -> dict[str, Any]:
        """What the services take; only the fields of this channel."""
        data = self.cleaned_data
        values: dict[str, Any] = {}
        for name in self.fields:
            value = data.get(name)
            if name in ("segments", "exclusions"):
                value = list(value or [])
            elif isinstance(self.fields[name], forms.CharField) and value is None:
                value = ""
            values[name] = value
        return values

    def draft_values(self) -> dict[str, Any]:
        """For the live preview: what can be read of unsaved, possibly invalid input."""
        self.is_valid()
        return {
            name: value
            for name, value in self.values().items()
            if name not in ("segments", "exclusions", "owner_team") and name not in self.errors
        }


class WallClockField(forms.DateTimeField):
    """A `datetime-local` value as the naive wall-clock time typed: the service reads it in the
    workspace's time zone (or each recipient's), not in the server's."""

    input_formats = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]

    def to_python(self, value: Any) -> dt.datetime | None:
        if value in self.empty_values:
            return None
        if isinstance(value, dt.datetime):
            return value.replace(tzinfo=None)
        for format_ in self.input_formats:
            try:
                return dt.datetime.strptime(str(value).strip(), format_)  # noqa: DTZ007 (wall-clock on purpose)
            except ValueError:
                continue
        raise forms.ValidationError(_("Give a date and a time, e.g. 2026-12-01 09:00."))


class ScheduleForm(forms.Form):
    timing = forms.ChoiceField(
        label=_("When"), choices=Timing.choices, initial=Timing.AT, widget=forms.RadioSelect
    )
    send_at = WallClockField(
        label=_("Date and time"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )


class TestSendForm(forms.Form):
    phone = forms.CharField(label=_("Phone number"), max_length=40, required=False)


class ResultForm(forms.Form):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields.update(fields_for_model(ChannelResult, fields=services.RESULT_FIELDS))
        self.fields["recorded_on"].widget = DATE
        self.fields["recorded_on"].required = False

    def values(self) -> dict[str, Any]:
        return {name: self.cleaned_data.get(name) for name in services.RESULT_FIELDS} | {
            "note": self.cleaned_data.get("note") or ""
        }
