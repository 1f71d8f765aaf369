"""`/api/v1/segments/`: segments with their rules, counts, members, previews, snapshots and overlap.
Thin over services and selectors; rule problems come back nested the way the JSON is nested."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import exceptions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from apps.contacts import selectors as contact_selectors
from apps.contacts.api.serializers import ContactSerializer
from apps.contacts.models import Contact
from apps.core.parsers import BoundedJSONParser
from apps.core.roles import Role
from apps.segments import selectors, services
from apps.segments.models import Segment, SegmentKind
from apps.segments.rules import RulesError
from apps.workspaces.permissions import api_context, api_user
from apps.workspaces.viewsets import WorkspaceScopedViewSetMixin

RULES_EXAMPLE = {
    "all": [
        {"field": "gender", "op": "eq", "value": "female"},
        {"field": "age", "op": "between", "value": [25, 35]},
        {"field": "children_in_household", "op": "gte", "value": 1},
        {"any": [{"tag": "newsletter"}, {"field": "city", "op": "eq", "value": "Berlin"}]},
        {"not": {"tag": "churned"}},
    ]
}
RULES_HELP = (
    'A rule tree. Groups: `all` and `any` (lists of rules; `{"all": []}` matches everyone), `not` (one '
    'rule). Conditions: `{"tag": NAME}` (any case), `{"segment": ID}` (a segment of this workspace; no '
    'loops), `{"field": NAME, "op": OP, "value": V}` over contact fields, `custom.<key>`, '
    "`created_at` and `updated_at`. Ops: `eq neq in not_in is_empty is_not_empty` (all types), "
    "`contains icontains startswith` (text), `gt gte lt lte between` (numbers, dates), `before after "
    "within_last_days more_than_days_ago` (dates). `neq`, `not_in`, `is_not_empty` and `not` match "
    "contacts without a value; other conditions never do. Problems answer 400 with the path of each "
    "bad rule in `fields.rules`."
)


class SegmentSerializer(serializers.ModelSerializer[Segment]):
    rules = serializers.JSONField(help_text=RULES_HELP)
    kind = serializers.ChoiceField(
        choices=SegmentKind.choices,
        required=False,
        help_text="`dynamic`: evaluated whenever it is used. `static`: members frozen when saved "
        "(and again when its rules change, or on `freeze/`).",
    )
    created_by = serializers.EmailField(source="created_by.email", read_only=True, default=None)

    class Meta:
        model = Segment
        fields = (
            "id", "name", "description", "kind", "is_exclusion", "rules", "frozen_at", "frozen_count",
            "created_by", "created_at", "updated_at",
        )  # fmt: skip
        read_only_fields = ("id", "frozen_at", "frozen_count", "created_by", "created_at", "updated_at")
        extra_kwargs = {
            "name": {"help_text": "Unique in the workspace, whatever its case."},
            "frozen_count": {"help_text": "Members stored when a static segment was frozen."},
        }


class PreviewRequestSerializer(serializers.Serializer):
    rules = serializers.JSONField(help_text=RULES_HELP)
    sample_size = serializers.IntegerField(
        min_value=0, max_value=100, default=selectors.SAMPLE_SIZE, help_text="Contacts in `sample`."
    )


class PreviewSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    sample = ContactSerializer(many=True, help_text="The newest matching contacts.")


class FreezeSerializer(serializers.Serializer):
    name = serializers.CharField(
        required=False,
        max_length=services.NAME_MAX,
        help_text="Keep the snapshot as a new static segment of this name; this one stays as it is.",
    )


class OverlapSegmentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    count = serializers.IntegerField()


class OverlapSerializer(serializers.Serializer):
    total = serializers.IntegerField(help_text="Contacts in the workspace.")
    segments = OverlapSegmentSerializer(many=True)
    matrix = serializers.ListField(
        child=serializers.ListField(child=serializers.IntegerField()),
        help_text="`matrix[i][j]`: contacts in both segments i and j; the diagonal is each one's count.",
    )


COUNT_RESPONSE = inline_serializer("SegmentCount", fields={"count": serializers.IntegerField()})
CONTACT_PAGE = inline_serializer(
    "PaginatedSegmentContactList",
    fields={
        "count": serializers.IntegerField(),
        "next": serializers.URLField(allow_null=True),
        "previous": serializers.URLField(allow_null=True),
        "results": ContactSerializer(many=True),
    },
)


@extend_schema_view(
    list=extend_schema(description="The workspace's segments by name (counts: `count/`)."),
    create=extend_schema(
        description="A new segment. A static one is frozen at once.",
        examples=[
            OpenApiExample(
                "Women 25-35 with children, on the newsletter, not churned",
                value={"name": "Young families", "rules": RULES_EXAMPLE, "kind": "dynamic"},
                request_only=True,
            )
        ],
    ),
    update=extend_schema(description="Replace the segment; fields left out get their defaults."),
    partial_update=extend_schema(description="Change the fields sent. New rules re-freeze a static segment."),
    destroy=extend_schema(description="Delete the segment (refused while another segment includes it)."),
)
class SegmentViewSet(WorkspaceScopedViewSetMixin, viewsets.ModelViewSet):
    """Segments: buckets of contacts that share tags or attributes. Viewers read, count and preview;
    editors write and freeze."""

    serializer_class = SegmentSerializer
    queryset = Segment.objects.select_related("created_by", "workspace")
    action_roles = {"preview": Role.VIEWER}
    filter_backends: list[Any] = []

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):
            return Segment.objects.none()
        workspace = api_context(self.request).workspace
        return selectors.segment_list(workspace=workspace).select_related("created_by", "workspace")

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, RecursionError):  # JSON nested thousands deep: Python's parser gives up
            exc = exceptions.ParseError("The JSON nests too deeply to read; rules nest at most 12 levels.")
        if isinstance(exc, RulesError):
            # The summary becomes the error's message; each problem sits at its path under `rules`.
            exc = serializers.ValidationError(
                {**exc.others, "rules": exc.nested(), "non_field_errors": [exc.summary()]}
            )
        return super().handle_exception(exc)

    def perform_create(self, serializer: serializers.BaseSerializer[Segment]) -> None:
        data = serializer.validated_data
        serializer.instance = services.segment_create(
            workspace=api_context(self.request).workspace,
            name=data["name"],
            rules=data["rules"],
            kind=data.get("kind", SegmentKind.DYNAMIC),
            description=data.get("description", ""),
            is_exclusion=data.get("is_exclusion", False),
            actor=api_user(self.request),
        )

    def perform_update(self, serializer: serializers.BaseSerializer[Segment]) -> None:
        segment = serializer.instance
        assert segment is not None  # noqa: S101 - DRF sets it for updates
        data = dict(serializer.validated_data)
        if not serializer.partial:  # PUT replaces: what it leaves out gets the defaults
            data = {"description": "", "kind": SegmentKind.DYNAMIC, "is_exclusion": False, **data}
        serializer.instance = services.segment_update(segment=segment, **data)

    def perform_destroy(self, instance: Segment) -> None:
        services.segment_delete(segment=instance)

    def _render(self, contacts: Sequence[Contact]) -> list[dict[str, Any]]:
        workspace = api_context(self.request).workspace
        suppressed = contact_selectors.contact_ids_suppressed(workspace=workspace, contacts=contacts)
        context = {**self.get_serializer_context(), "suppressed_ids": suppressed}
        return list(ContactSerializer(contacts, many=True, context=context).data)

    @extend_schema(responses=COUNT_RESPONSE, description="How many contacts are in the segment now.")
    @action(detail=True, methods=["get"])
    def count(self, request: Request, pk: str | None = None) -> Response:
        return Response({"count": selectors.segment_count(segment=self.get_object())})

    @extend_schema(
        responses=CONTACT_PAGE,
        description="The segment's contacts, newest first, paginated like `/api/v1/contacts/`.",
        parameters=[
            OpenApiParameter("page", OpenApiTypes.INT, description="Page number."),
            OpenApiParameter("page_size", OpenApiTypes.INT, description="Contacts per page (at most 500)."),
        ],
    )
    @action(detail=True, methods=["get"])
    def contacts(self, request: Request, pk: str | None = None) -> Response:
        segment = self.get_object()
        contacts = contact_selectors.with_tags(selectors.segment_contacts(segment=segment)).order_by("-id")
        page = self.paginate_queryset(contacts)
        if page is None:
            return Response(self._render(list(contacts)))
        return self.get_paginated_response(self._render(page))

    @extend_schema(
        request=PreviewRequestSerializer,
        responses=PreviewSerializer,
        description="Count rules before saving them, with a sample of the newest matching contacts.",
        examples=[OpenApiExample("A narrow rule", value={"rules": RULES_EXAMPLE}, request_only=True)],
    )
    @action(detail=False, methods=["post"], parser_classes=[BoundedJSONParser])
    def preview(self, request: Request) -> Response:
        serializer = PreviewRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        contacts = selectors.rules_contacts(
            workspace=api_context(request).workspace, rules=serializer.validated_data["rules"]
        )
        preview = selectors.contacts_preview(contacts, sample_size=serializer.validated_data["sample_size"])
        return Response({"count": preview.count, "sample": self._render(preview.sample)})

    @extend_schema(
        request=FreezeSerializer,
        responses={200: SegmentSerializer, 201: SegmentSerializer},
        description="Store who matches the rules now, with the date. Without `name`, this segment "
        "becomes static (or is frozen again); with a `name`, a new static segment keeps the snapshot "
        "(201) and this one stays as it is.",
    )
    @action(detail=True, methods=["post"], parser_classes=[BoundedJSONParser])
    def freeze(self, request: Request, pk: str | None = None) -> Response:
        segment = self.get_object()
        serializer = FreezeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        name = serializer.validated_data.get("name")
        frozen = services.segment_freeze(segment=segment, name=name, actor=api_user(request))
        code = status.HTTP_201_CREATED if name is not None else status.HTTP_200_OK
        return Response(SegmentSerializer(frozen, context=self.get_serializer_context()).data, status=code)

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "ids",
                OpenApiTypes.STR,
                required=True,
                description=f"2 to {selectors.MAX_OVERLAP} segment ids, comma-separated: `?ids=1,2,3`.",
            )
        ],
        responses={200: OverlapSerializer, 400: OpenApiResponse(description="Bad or unknown ids.")},
        description="How many contacts each pair of segments shares, computed in one query.",
    )
    @action(detail=False, methods=["get"])
    def overlap(self, request: Request) -> Response:
        workspace = api_context(request).workspace
        ids = _ids(request.query_params.getlist("ids"))
        segments = selectors.segments_by_ids(workspace=workspace, ids=ids)
        missing = [segment_id for segment_id in ids if segment_id not in {s.id for s in segments}]
        if missing:
            raise serializers.ValidationError(
                {"ids": [f"There is no segment {missing[0]} in this workspace."]}
            )
        overlap = selectors.segment_overlap(workspace=workspace, segments=segments)
        return Response(
            {
                "total": selectors.contacts_total(workspace=workspace),
                "segments": [
                    {"id": s.id, "name": s.name, "count": count}
                    for s, count in zip(overlap.segments, overlap.counts, strict=True)
                ],
                "matrix": overlap.matrix,
            }
        )


def _ids(values: list[str]) -> list[int]:
    parts = [part.strip() for value in values for part in value.split(",") if part.strip()]
    if not all(part.isdigit() for part in parts):
        raise serializers.ValidationError({"ids": ["Give segment ids as whole numbers: ?ids=1,2,3."]})
    ids = list(dict.fromkeys(int(part) for part in parts))
    if not 2 <= len(ids) <= selectors.MAX_OVERLAP:
        raise serializers.ValidationError(
            {"ids": [f"Give 2 to {selectors.MAX_OVERLAP} different segment ids."]}
        )
    return ids
