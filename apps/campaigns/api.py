"""`/api/v1/campaigns/` and `/api/v1/channel-items/`: campaigns, their channel items (content,
audience, the state machine's actions), previews, test sends, direct-mail address lists and the
results of planned channels. Thin over the campaign services and selectors: a state conflict answers
409 `invalid_state`, missing sign-off 403 `sign_off_required`."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from django.db.models import Model, Prefetch
from django.http import HttpResponseBase, StreamingHttpResponse
from django.utils.text import slugify
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import exceptions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from apps.campaigns import selectors, services
from apps.campaigns.choices import ChannelKind, ItemStatus, Timing, is_sent_channel
from apps.campaigns.models import Campaign, ChannelItem, ChannelResult
from apps.campaigns.rendering import render_for
from apps.campaigns.sms_text import SmsInfo, sms_info
from apps.core.roles import Role
from apps.core.scoping import get_scoped_or_404, scoped
from apps.delivery import selectors as delivery_selectors
from apps.delivery.api import DeliveryCountsSerializer, DeliveryQuerySerializer, DeliverySerializer
from apps.personas.models import Persona
from apps.segments.models import Segment
from apps.workspaces.models import Team
from apps.workspaces.permissions import api_context, api_user
from apps.workspaces.viewsets import WorkspaceScopedViewSetMixin

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


# --- Viewsets -------------------------------------------------------------------------------------


class _CampaignsViewSet(WorkspaceScopedViewSetMixin, viewsets.ModelViewSet):
    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, RecursionError):  # a payload nested hundreds deep: parsed, but not checkable
            exc = exceptions.ParseError("The JSON nests too deeply to check; keep the payload shallower.")
        elif isinstance(exc, services.InvalidTransition):
            exc = StateConflict(exc.message)
        elif isinstance(exc, services.SignOffRequired):
            exc = exceptions.PermissionDenied(exc.message, code="sign_off_required")
        return super().handle_exception(exc)


CAMPAIGN_EXAMPLE = {
    "name": "Spring launch",
    "goal": "Sell the spring range to young families before Easter.",
    "owner_team": 3,
    "starts_on": "2026-03-01",
    "ends_on": "2026-04-15",
    "personas": [7],
}


@extend_schema_view(
    list=extend_schema(description="The workspace's campaigns, newest first."),
    create=extend_schema(
        description="A new campaign.",
        examples=[OpenApiExample("A seasonal launch", value=CAMPAIGN_EXAMPLE, request_only=True)],
    ),
    update=extend_schema(description="Replace the campaign; fields left out get their defaults."),
    partial_update=extend_schema(description="Change the fields sent."),
    destroy=extend_schema(
        description="Delete the campaign and its items; 409 while one of them is scheduled, sending or paused.",
        responses={204: None, 409: CONFLICT},
    ),
)
class CampaignViewSet(_CampaignsViewSet):
    """Campaigns: one message told across channels, for personas, owned by a team. Viewers read;
    editors write."""

    serializer_class = CampaignSerializer
    queryset = Campaign.objects.all()
    filter_backends: list[Any] = []

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):
            return Campaign.objects.none()
        item_ids = ChannelItem.objects.only("id", "campaign_id").order_by("id")
        campaigns = selectors.campaign_list(workspace=api_context(self.request).workspace)
        return campaigns.prefetch_related(Prefetch("items", queryset=item_ids))

    def perform_create(self, serializer: serializers.BaseSerializer[Campaign]) -> None:
        serializer.instance = services.campaign_create(
            workspace=api_context(self.request).workspace,
            actor=api_user(self.request),
            **serializer.validated_data,
        )

    def perform_update(self, serializer: serializers.BaseSerializer[Campaign]) -> None:
        campaign = serializer.instance
        assert campaign is not None  # noqa: S101 - DRF sets it for updates
        values = dict(serializer.validated_data)
        if not serializer.partial:  # PUT replaces: what it leaves out gets the defaults
            defaults: dict[str, Any] = {
                "goal": "",
                "owner_team": None,
                "starts_on": None,
                "ends_on": None,
                "personas": [],
            }
            values = {**defaults, **values}
        serializer.instance = services.campaign_update(
            campaign=campaign, actor=api_user(self.request), **values
        )

    def perform_destroy(self, instance: Campaign) -> None:
        services.campaign_delete(campaign=instance)


def _applies(name: str, channel: str) -> bool:
    if name in services.FIELD_CHANNELS:
        return channel in services.FIELD_CHANNELS[name]
    if name in services.PLANNED_FIELDS:
        return not is_sent_channel(channel)
    return True


def _replace_defaults(channel: str) -> dict[str, Any]:
    """What a PUT gives the fields of the item's channel that it leaves out."""
    fields = {field.name: field for field in ChannelItem._meta.concrete_fields}
    return {
        name: fields[name].get_default() if name in fields else []  # segments, exclusions: none
        for name in services.ITEM_FIELDS
        if _applies(name, channel)
    }


ITEM_EXAMPLE = {
    "campaign": 12,
    "channel": "email",
    "name": "Launch email",
    "subject": '{{ first_name|default:"Hello" }}, spring is here',
    "preheader": "New jackets for the whole family",
    "body_html": '<p>Hi {{ first_name|default:"there" }},</p><p>The spring range is in.</p>',
    "from_email": "shop@example.com",
    "segments": [4],
    "exclusions": [9],
}
SCHEDULE_EXAMPLES = [
    OpenApiExample(
        "At a moment (workspace time zone)", value={"timing": "at", "send_at": "2026-12-01T09:00:00"}
    ),
    OpenApiExample(
        "At 9:00 in each recipient's time zone",
        value={"timing": "recipient_local", "send_at": "2026-12-01T09:00:00"},
    ),
    OpenApiExample("As soon as possible", value={"timing": "now"}),
]
CONTACT_PARAMETER = OpenApiParameter(
    "contact", OpenApiTypes.INT, description="Render as this contact (default: the preview contact)."
)
RESULT_PARAMETER = OpenApiParameter("result_id", OpenApiTypes.INT, OpenApiParameter.PATH)


@extend_schema_view(
    list=extend_schema(description="Channel items, by campaign; filter by `campaign`, `channel`, `status`."),
    create=extend_schema(
        description="A new draft item. Merge-tag problems answer 400 with line and column per field.",
        examples=[OpenApiExample("A launch email", value=ITEM_EXAMPLE, request_only=True)],
    ),
    update=extend_schema(
        description="Replace a draft item's content; its channel's fields left out get their defaults. "
        "409 unless the item is a draft.",
        responses={200: ChannelItemSerializer, 409: CONFLICT},
    ),
    partial_update=extend_schema(
        description="Change the fields sent; 409 unless the item is a draft.",
        responses={200: ChannelItemSerializer, 409: CONFLICT},
    ),
    destroy=extend_schema(
        description="Delete the item; 409 while it is scheduled, sending or paused.",
        responses={204: None, 409: CONFLICT},
    ),
)
class ChannelItemViewSet(_CampaignsViewSet):
    """Channel items: one touchpoint of a campaign. Viewers read, preview and count; editors write,
    test, pause, cancel and unschedule; scheduling, sending now and resuming need sign-off (an
    approver)."""

    serializer_class = ChannelItemSerializer
    queryset = ChannelItem.objects.all()
    filter_backends: list[Any] = [filters.DjangoFilterBackend]
    filterset_class = ChannelItemFilter
    # An address list is an export of personal data: editors, as for the contact export.
    action_roles = {"preview": Role.VIEWER, "addresses": Role.EDITOR}

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):
            return ChannelItem.objects.none()
        return selectors.item_queryset(workspace=api_context(self.request).workspace)

    def perform_create(self, serializer: serializers.BaseSerializer[ChannelItem]) -> None:
        values = dict(serializer.validated_data)
        campaign, channel = values.pop("campaign"), values.pop("channel")
        serializer.instance = services.item_create(
            campaign=campaign, channel=channel, actor=api_user(self.request), **values
        )

    def perform_update(self, serializer: serializers.BaseSerializer[ChannelItem]) -> None:
        item = serializer.instance
        assert item is not None  # noqa: S101 - DRF sets it for updates
        values = dict(serializer.validated_data)
        errors = {}
        if "campaign" in values and values.pop("campaign").pk != item.campaign_id:
            errors["campaign"] = ["An item stays in its campaign; create a new item in the other one."]
        if "channel" in values and values.pop("channel") != item.channel:
            errors["channel"] = ["An item's channel cannot change; create a new item for the other channel."]
        if errors:
            raise serializers.ValidationError(errors)
        if not serializer.partial:
            values = {**_replace_defaults(item.channel), **values}
        serializer.instance = services.item_update(item=item, actor=api_user(self.request), **values)

    def perform_destroy(self, instance: ChannelItem) -> None:
        services.item_delete(item=instance)

    def _answer(self, item: ChannelItem) -> Response:
        return Response(ChannelItemSerializer(item, context=self.get_serializer_context()).data)

    def _role(self) -> str:
        return api_context(self.request).role.value

    @extend_schema(
        request=ItemScheduleSerializer,
        responses={200: ChannelItemSerializer, 403: SIGN_OFF, 409: CONFLICT},
        examples=SCHEDULE_EXAMPLES,
        description="Schedule a draft (or move a scheduled item's time). Needs sign-off: an editor gets "
        "403 `sign_off_required`. What is missing (subject, segments, ...) answers 400 by field.",
    )
    @action(detail=True, methods=["post"])
    def schedule(self, request: Request, pk: str | None = None) -> Response:
        item = self.get_object()
        serializer = ItemScheduleSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        timing = serializer.validated_data.get("timing")
        if timing is None and item.is_sent:
            raise serializers.ValidationError({"timing": ["Choose when: now, at or recipient_local."]})
        return self._answer(
            services.item_schedule(
                item=item,
                actor=api_user(request),
                actor_role=self._role(),
                timing=timing or Timing.NOW,
                send_at=serializer.validated_data.get("send_at"),
            )
        )

    @extend_schema(
        request=None,
        responses={200: ChannelItemSerializer, 403: SIGN_OFF, 409: CONFLICT},
        description="Schedule an email, SMS or webhook item to go out now. Needs sign-off.",
    )
    @action(detail=True, methods=["post"], url_path="send-now")
    def send_now(self, request: Request, pk: str | None = None) -> Response:
        item = services.item_send_now(
            item=self.get_object(), actor=api_user(request), actor_role=self._role()
        )
        return self._answer(item)

    @extend_schema(
        request=None,
        responses={200: ChannelItemSerializer, 409: CONFLICT},
        description="The emergency brake: a scheduled or sending item waits until resumed.",
    )
    @action(detail=True, methods=["post"])
    def pause(self, request: Request, pk: str | None = None) -> Response:
        return self._answer(services.item_pause(item=self.get_object(), actor=api_user(request)))

    @extend_schema(
        request=None,
        responses={200: ChannelItemSerializer, 403: SIGN_OFF, 409: CONFLICT},
        description="Back to where it was paused. Needs sign-off, and the content still signed off.",
    )
    @action(detail=True, methods=["post"])
    def resume(self, request: Request, pk: str | None = None) -> Response:
        item = services.item_resume(item=self.get_object(), actor=api_user(request), actor_role=self._role())
        return self._answer(item)

    @extend_schema(
        request=None,
        responses={200: ChannelItemSerializer, 409: CONFLICT},
        description="Final: nothing more goes out.",
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        return self._answer(services.item_cancel(item=self.get_object(), actor=api_user(request)))

    @extend_schema(
        request=None,
        responses={200: ChannelItemSerializer, 409: CONFLICT},
        description="Back to a draft, to be changed and signed off again; only before sending started.",
    )
    @action(detail=True, methods=["post"])
    def unschedule(self, request: Request, pk: str | None = None) -> Response:
        return self._answer(services.item_unschedule(item=self.get_object(), actor=api_user(request)))

    @extend_schema(
        request=ItemTestSendSerializer,
        responses={200: ItemTestSentSerializer, 409: CONFLICT},
        examples=[OpenApiExample("An SMS as one contact", value={"contact": 42, "phone": "+4915112345678"})],
        description="Send the item personalised as a contact to yourself: an email to your own address "
        "(for an API token: its creator's), an SMS to `phone`. Works in any status.",
    )
    @action(detail=True, methods=["post"], url_path="test-send")
    def test_send(self, request: Request, pk: str | None = None) -> Response:
        item = self.get_object()
        serializer = ItemTestSendSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        contact = _contact(item, serializer.validated_data.get("contact"))
        sent_to = services.item_test_send(
            item=item,
            actor=api_user(request),
            contact=contact,
            phone=serializer.validated_data.get("phone", ""),
        )
        return Response({"sent_to": sent_to})

    @extend_schema(
        request=None,
        parameters=[CONTACT_PARAMETER],
        responses=ItemPreviewSerializer,
        description="The item as one contact gets it; merge-tag problems are listed, not raised.",
    )
    @action(detail=True, methods=["get", "post"])
    def preview(self, request: Request, pk: str | None = None) -> Response:
        item = self.get_object()
        contact_id = request.query_params.get("contact")
        if contact_id is not None and not contact_id.isdigit():
            raise serializers.ValidationError({"contact": ["Give a contact id, a whole number."]})
        contact = _contact(item, int(contact_id) if contact_id else None)
        rendered = render_for(
            item, contact=contact, custom_keys=selectors.custom_keys(workspace=item.workspace)
        )
        person = None
        if contact is not None:
            person = {name: getattr(contact, name) for name in ("id", "email", "first_name", "last_name")}
        return Response(
            {"contact": person, **rendered.values, "sms": _sms(rendered.sms), "payload": rendered.payload,
             "problems": rendered.problems}
        )  # fmt: skip

    @extend_schema(responses=ItemAudienceSerializer, description="How many contacts the item reaches now.")
    @action(detail=True, methods=["get"])
    def audience(self, request: Request, pk: str | None = None) -> Response:
        return Response({"count": selectors.item_audience_count(item=self.get_object())})

    @extend_schema(
        responses={
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.BINARY, description="One row per address."),
            400: OpenApiResponse(description="The item is not a direct-mail item."),
        },
        description="A direct-mail item's print-ready address list: its audience's contacts with a street "
        "address and a city, streamed as CSV.",
    )
    @action(detail=True, methods=["get"])
    def addresses(self, request: Request, pk: str | None = None) -> HttpResponseBase:
        item = self.get_object()
        if item.channel != ChannelKind.DIRECT_MAIL:
            raise serializers.ValidationError({"channel": ["Only a direct-mail item has an address list."]})
        response = StreamingHttpResponse(
            selectors.direct_mail_csv(item=item), content_type="text/csv; charset=utf-8"
        )
        filename = f"{slugify(item.name) or 'direct-mail'}-{item.id}-addresses.csv"  # slugified: ASCII
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response

    @extend_schema(
        methods=["GET"],
        responses=ChannelResultSerializer(many=True),
        description="Results entered by hand for a planned channel, newest day first.",
    )
    @extend_schema(
        methods=["POST"],
        request=ChannelResultSerializer,
        responses={201: ChannelResultSerializer},
        examples=[OpenApiExample("A week of a billboard", value={"recorded_on": "2026-03-08", "reach": 40000,
                                                                 "cost": "1200.00"}, request_only=True)],
        description="Add results for a planned channel (at least one figure).",
    )  # fmt: skip
    @action(detail=True, methods=["get", "post"], pagination_class=None, filter_backends=[])
    def results(self, request: Request, pk: str | None = None) -> Response:
        item = self.get_object()
        if request.method == "GET":
            results = selectors.item_results(item=item)
            return Response(ChannelResultSerializer(results, many=True).data)
        serializer = ChannelResultSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        result = services.result_add(item=item, actor=api_user(request), **serializer.validated_data)
        return Response(ChannelResultSerializer(result).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        parameters=[DeliveryQuerySerializer],
        responses=DeliverySerializer(many=True),
        description="The item's recipients from its delivery ledger, most recently changed first: "
        "status, exclusion reason, attempts and the next retry, the provider's id and the last error, "
        "and the segments each qualified through. Filter by `status` and `reason`. Empty before the "
        "item launches.",
    )
    @action(detail=True, methods=["get"], filter_backends=[])
    def deliveries(self, request: Request, pk: str | None = None) -> Response:
        item = self.get_object()
        query = DeliveryQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        rows = delivery_selectors.delivery_list(item=item, **query.validated_data)
        context = {
            **self.get_serializer_context(),
            "segment_ids": delivery_selectors.launch_segment_ids(item=item),
        }
        page = self.paginate_queryset(rows)
        data = DeliverySerializer(rows if page is None else page, many=True, context=context).data
        return Response(data) if page is None else self.get_paginated_response(data)

    @extend_schema(parameters=[RESULT_PARAMETER], responses={204: None}, description="Delete one result.")
    @action(detail=True, methods=["delete"], url_path=r"results/(?P<result_id>[0-9]+)", url_name="result")
    def result(self, request: Request, pk: str | None = None, result_id: str | None = None) -> Response:
        item = self.get_object()
        found = get_scoped_or_404(selectors.item_results(item=item), workspace=item.workspace, id=result_id)
        services.result_delete(result=found)
        return Response(status=status.HTTP_204_NO_CONTENT)


def _contact(item: ChannelItem, contact_id: int | None) -> Any:
    """The contact to render as: the one asked for (of this workspace), else the preview contact."""
    contact = selectors.preview_contact(item=item, contact_id=contact_id)
    if contact_id is not None and contact is None:
        raise serializers.ValidationError(
            {"contact": [f"There is no contact {contact_id} in this workspace."]}
        )
    return contact
