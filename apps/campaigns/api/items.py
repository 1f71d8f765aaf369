"""`/api/v1/channel-items/`: channel items (content, audience, the state machine's actions),
previews, test sends, direct-mail address lists, results of planned channels and the delivery
ledger."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponseBase, StreamingHttpResponse
from django.utils.text import slugify
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from apps.campaigns import selectors, services
from apps.campaigns.api.common import CampaignsViewSetBase
from apps.campaigns.api.serializers import (
    CONFLICT,
    SIGN_OFF,
    ChannelItemFilter,
    ChannelItemSerializer,
    ChannelResultSerializer,
    ItemAudienceSerializer,
    ItemPreviewSerializer,
    ItemScheduleSerializer,
    ItemTestSendSerializer,
    ItemTestSentSerializer,
    _sms,
)
from apps.campaigns.choices import ChannelKind, Timing, is_sent_channel
from apps.campaigns.models import ChannelItem
from apps.campaigns.rendering import render_for
from apps.core.roles import Role
from apps.core.scoping import get_scoped_or_404
from apps.delivery import selectors as delivery_selectors
from apps.delivery.api import DeliveryQuerySerializer, DeliverySerializer
from apps.workspaces.permissions import api_context, api_user


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
class ChannelItemViewSet(CampaignsViewSetBase):
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
