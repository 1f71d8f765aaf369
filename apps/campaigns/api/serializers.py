"""Serializers, fields and filters of the campaigns API."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from django.db.models import Model
from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiResponse, extend_schema_field
from rest_framework import exceptions, serializers, status

from apps.campaigns.choices import ChannelKind, ItemStatus, Timing
from apps.campaigns.models import Campaign, ChannelItem, ChannelResult
from apps.campaigns.sms_text import SmsInfo, sms_info
from apps.core.scoping import scoped
from apps.delivery import selectors as delivery_selectors
from apps.delivery.api import DeliveryCountsSerializer
from apps.personas.models import Persona
from apps.segments.models import Segment
from apps.workspaces.models import Team
from apps.workspaces.permissions import api_context

MAX_IDS = 100
CONFLICT = OpenApiResponse(description="`invalid_state`: the item's status does not allow this step.")
SIGN_OFF = OpenApiResponse(description="`sign_off_required`: scheduling or resuming needs an approver.")


class StateConflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "invalid_state"
    default_detail = "The item's status does not allow this."


# --- Ids of the request's workspace ---------------------------------------------------------------


class ScopedIdField(serializers.IntegerField):
    """The id of one object of the request's workspace; another workspace's id reads as unknown."""

    def __init__(self, *, model: type[Model], noun: str, **kwargs: Any) -> None:
        self.model, self.noun = model, noun
        super().__init__(**kwargs)

    def get_attribute(self, instance: Any) -> Any:
        return getattr(instance, f"{self.source}_id")  # the id column: no query for the object

    def to_internal_value(self, data: Any) -> Any:
        pk = super().to_internal_value(data)
        workspace = api_context(self.context["request"]).workspace
        found = scoped(self.model._default_manager.filter(pk=pk), workspace=workspace).first()
        if found is None:
            raise serializers.ValidationError(f"There is no {self.noun} {pk} in this workspace.")
        return found


class ScopedIdsField(serializers.ListField):
    """Ids of objects of the request's workspace, resolved in one query; each unknown id is named."""

    def __init__(self, *, model: type[Model], noun: str, **kwargs: Any) -> None:
        self.model, self.noun = model, noun
        super().__init__(child=serializers.IntegerField(), max_length=MAX_IDS, **kwargs)

    def to_internal_value(self, data: Any) -> list[Any]:
        ids = list(dict.fromkeys(super().to_internal_value(data)))
        workspace = api_context(self.context["request"]).workspace
        found = scoped(self.model._default_manager.filter(pk__in=ids), workspace=workspace).in_bulk()
        missing = [pk for pk in ids if pk not in found]
        if missing:
            raise serializers.ValidationError(
                [f"There is no {self.noun} {pk} in this workspace." for pk in missing]
            )
        return [found[pk] for pk in ids]

    def to_representation(self, data: Any) -> list[int]:
        return [obj.pk for obj in data.all()]  # prefetched by the selectors


# --- Serializers ----------------------------------------------------------------------------------


class CampaignSerializer(serializers.ModelSerializer[Campaign]):
    owner_team = ScopedIdField(
        model=Team, noun="team", allow_null=True, required=False, help_text="A team of this workspace."
    )
    personas = ScopedIdsField(
        model=Persona, noun="persona", required=False, help_text="Ids of the personas it addresses."
    )
    items: serializers.PrimaryKeyRelatedField[Any] = serializers.PrimaryKeyRelatedField(
        many=True,
        read_only=True,
        help_text="Ids of its channel items (`/api/v1/channel-items/?campaign=ID`).",
    )

    class Meta:
        model = Campaign
        fields = (
            "id", "name", "goal", "owner_team", "starts_on", "ends_on", "personas", "items",
            "created_at", "updated_at", "version",
        )  # fmt: skip
        read_only_fields = ("id", "created_at", "updated_at", "version")
        extra_kwargs = {"name": {"help_text": "Unique in the workspace, whatever its case."}}


class SmsInfoSerializer(serializers.Serializer):
    encoding = serializers.CharField(help_text="`GSM-7`, or `UCS-2` when a character forces it.")
    length = serializers.IntegerField(help_text="Characters as carriers count them.")
    parts = serializers.IntegerField(help_text="Messages the text is billed as.")
    per_part = serializers.IntegerField()
    remaining = serializers.IntegerField(help_text="Characters left in the last part.")
    non_gsm = serializers.ListField(child=serializers.CharField(), help_text="The characters forcing UCS-2.")


def _sms(info: SmsInfo | None) -> dict[str, Any] | None:
    return None if info is None else {**dataclasses.asdict(info), "non_gsm": list(info.non_gsm)}


SEND_AT_HELP = (
    "When it goes out. Timing `at`: the moment, in UTC. Timing `recipient_local`: the local wall-clock "
    'time each recipient gets it at, without a zone (e.g. "2026-12-01T09:00:00"). Otherwise null.'
)
TEXT_FIELDS = ("body_html", "body_text", "sms_text", "content")


class ChannelItemSerializer(serializers.ModelSerializer[ChannelItem]):
    campaign = ScopedIdField(model=Campaign, noun="campaign", help_text="Cannot change after create.")
    owner_team = ScopedIdField(
        model=Team, noun="team", allow_null=True, required=False, help_text="A team of this workspace."
    )
    segments = ScopedIdsField(model=Segment, noun="segment", required=False, help_text="Audience segments.")
    exclusions = ScopedIdsField(
        model=Segment, noun="segment", required=False, help_text="Segments whose contacts never get it."
    )
    send_at = serializers.SerializerMethodField()
    sms = serializers.SerializerMethodField()
    scheduled_by = serializers.EmailField(source="scheduled_by.email", read_only=True, default=None)
    delivery_counts = serializers.SerializerMethodField()

    class Meta:
        model = ChannelItem
        fields = (
            "id", "campaign", "channel", "name", "subject", "preheader", "body_html", "body_text",
            "from_name", "from_email", "reply_to", "sms_text", "sms", "webhook_url", "payload",
            "segments", "exclusions", "send_at", "timing", "status", "content", "placement", "budget",
            "starts_on", "ends_on", "owner_team", "quiet_hours_start", "quiet_hours_end",
            "throttle_per_minute", "scheduled_at", "scheduled_by", "launched_at", "delivery_counts",
            "version", "created_at", "updated_at",
        )  # fmt: skip
        read_only_fields = (
            "id", "timing", "status", "scheduled_at", "launched_at", "version", "created_at", "updated_at",
        )  # fmt: skip
        extra_kwargs = {
            "channel": {"help_text": "Email, SMS and webhook items are sent; the others are planned. "
                        "Cannot change after create."},
            "timing": {"help_text": "Set by the `schedule/` action."},
            **{name: {"trim_whitespace": False} for name in TEXT_FIELDS},
        }  # fmt: skip

    @extend_schema_field(serializers.CharField(allow_null=True, help_text=SEND_AT_HELP))
    def get_send_at(self, item: ChannelItem) -> str | None:
        if item.send_at is None:
            return None
        if item.timing == Timing.AT:
            return serializers.DateTimeField().to_representation(item.send_at)
        if item.timing == Timing.RECIPIENT_LOCAL and item.local_send_date and item.local_send_time:
            return dt.datetime.combine(item.local_send_date, item.local_send_time).isoformat()
        return None

    @extend_schema_field(SmsInfoSerializer(allow_null=True, help_text="Length and parts of an SMS item."))
    def get_sms(self, item: ChannelItem) -> dict[str, Any] | None:
        return _sms(sms_info(item.sms_text)) if item.channel == ChannelKind.SMS else None

    @extend_schema_field(
        DeliveryCountsSerializer(
            allow_null=True,
            help_text="The delivery ledger by outcome, on one item (`GET /api/v1/channel-items/{id}/` "
            "and the actions' answers) of email, SMS and webhook channels; all zeros until the item "
            "launches. Null in lists (a count per item would cost a query each) and for planned channels.",
        )
    )
    def get_delivery_counts(self, item: ChannelItem) -> dict[str, Any] | None:
        if not item.is_sent or isinstance(self.parent, serializers.ListSerializer):
            return None
        return dict(DeliveryCountsSerializer(delivery_selectors.delivery_counts(item=item)).data)


class WallClockDateTimeField(serializers.DateTimeField):
    """Keeps a naive value naive: the service reads it in the workspace's zone (`at`) or as each
    recipient's own local time (`recipient_local`)."""

    def enforce_timezone(self, value: dt.datetime) -> dt.datetime:
        return value


class ItemScheduleSerializer(serializers.Serializer):
    timing = serializers.ChoiceField(
        choices=Timing.choices,
        required=False,
        help_text="Required for email, SMS and webhook items; a planned item is booked for its dates.",
    )
    send_at = WallClockDateTimeField(
        required=False,
        allow_null=True,
        help_text="ISO date and time. For `at`, without a zone it is the workspace's time zone; for "
        "`recipient_local`, its wall-clock time is each recipient's local time. Ignored for `now`.",
    )


class ItemTestSendSerializer(serializers.Serializer):
    contact = serializers.IntegerField(
        required=False, help_text="Personalise as this contact (default: the preview contact)."
    )
    phone = serializers.CharField(required=False, max_length=40, help_text="Where an SMS test goes.")


class ItemTestSentSerializer(serializers.Serializer):
    sent_to = serializers.CharField(help_text="Your own email address, or the phone number given.")


class ItemPreviewContactSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.CharField()
    first_name = serializers.CharField()
    last_name = serializers.CharField()


class ItemPreviewSerializer(serializers.Serializer):
    contact = ItemPreviewContactSerializer(allow_null=True, help_text="Whom it is rendered as.")
    subject = serializers.CharField()
    preheader = serializers.CharField()
    body_html = serializers.CharField()
    body_text = serializers.CharField()
    sms_text = serializers.CharField()
    sms = SmsInfoSerializer(allow_null=True)
    payload = serializers.JSONField(allow_null=True)
    problems = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Merge-tag problems by field, with line and column.",
    )


class ItemAudienceSerializer(serializers.Serializer):
    count = serializers.IntegerField(help_text="Contacts in its segments and in none of its exclusions, now.")


class ChannelResultSerializer(serializers.ModelSerializer[ChannelResult]):
    recorded_by = serializers.EmailField(source="recorded_by.email", read_only=True, default=None)

    class Meta:
        model = ChannelResult
        fields = (
            "id", "recorded_on", "reach", "responses", "conversions", "cost", "note", "recorded_by",
            "created_at",
        )  # fmt: skip
        read_only_fields = ("id", "recorded_by", "created_at")


class ChannelItemFilter(filters.FilterSet):
    campaign = filters.NumberFilter(field_name="campaign_id", help_text="A campaign's id.")
    channel = filters.ChoiceFilter(choices=ChannelKind.choices)
    status = filters.ChoiceFilter(choices=ItemStatus.choices)

    class Meta:
        model = ChannelItem
        fields = ("campaign", "channel", "status")
