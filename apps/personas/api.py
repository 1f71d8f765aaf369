"""`/api/v1/personas/`: personas with their matching segment (id, name, live count). Thin over the
persona services, which write the segment in the same transaction."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import (
    OpenApiExample,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from apps.personas import selectors, services
from apps.personas.models import LIST_CHOICES, Persona, persona_field
from apps.segments import selectors as segment_selectors
from apps.workspaces.permissions import api_context, api_user
from apps.workspaces.viewsets import WorkspaceScopedViewSetMixin

LINKED_SEGMENT = inline_serializer(
    "PersonaSegment",
    fields={
        "id": serializers.IntegerField(),
        "name": serializers.CharField(),
        "count": serializers.IntegerField(help_text="Contacts in the segment now."),
        "share": serializers.FloatField(help_text="Their share of all the workspace's contacts, 0 to 1."),
        "rules_edited": serializers.BooleanField(
            help_text="The segment's rules were edited by hand: new demographics no longer change them "
            "(POST `regenerate-segment/` to generate them again)."
        ),
    },
)


def _choices(name: str, help_text: str = "") -> serializers.ListField:
    """A list of values of the field's choice set (the contact choice sets for demographics)."""
    return serializers.ListField(
        child=serializers.ChoiceField(choices=LIST_CHOICES[name].choices),
        max_length=services.MAX_LIST,
        required=False,
        help_text=help_text or "Any of these; an empty list means anyone.",
    )


class PersonaSerializer(serializers.ModelSerializer[Persona]):
    owner_team = serializers.IntegerField(
        source="owner_team_id",
        allow_null=True,
        required=False,
        help_text="The id of a team of this workspace (`/api/v1/teams/`).",
    )
    segment = serializers.SerializerMethodField()
    genders = _choices("genders")
    marital_statuses = _choices("marital_statuses")
    income_bands = _choices("income_bands", "Household income bands.")
    education_levels = _choices("education_levels")
    preferred_channels = _choices(
        "preferred_channels",
        "The channels that address the persona (campaigns will link to it through them).",
    )
    devices = _choices("devices")
    locations = serializers.ListField(
        child=serializers.CharField(max_length=services.MAX_TEXT_VALUE),
        max_length=services.MAX_LIST,
        required=False,
        help_text="Cities, spelt as in the contacts; the segment matches contacts in any of them.",
    )

    class Meta:
        model = Persona
        fields = ("id", *services.EDITABLE, "segment", "created_at", "updated_at")
        read_only_fields = ("id", "segment", "created_at", "updated_at")
        extra_kwargs = {
            "name": {"help_text": "Unique in the workspace, whatever its case."},
        }

    @extend_schema_field(LINKED_SEGMENT)
    def get_segment(self, persona: Persona) -> dict[str, Any]:
        totals: dict[int, int] = self.context.setdefault("totals", {})
        if persona.workspace_id not in totals:
            totals[persona.workspace_id] = segment_selectors.contacts_total(workspace=persona.workspace)
        fit = selectors.persona_fit(persona=persona, total=totals[persona.workspace_id])
        return {
            "id": persona.segment_id,
            "name": persona.segment.name,
            "count": fit.count,
            "share": round(fit.share, 4),
            "rules_edited": persona.segment_rules_edited,
        }


EXAMPLE = {
    "name": "Weekend family adventurer",
    "summary": "Parent in her thirties who plans the family's weekends outdoors.",
    "age_min": 30,
    "age_max": 44,
    "genders": ["female"],
    "children": "some",
    "locations": ["München", "Hamburg"],
    "income_bands": ["50k_75k", "75k_100k"],
    "preferred_channels": ["email", "social", "store"],
    "quote": "If the kids are warm and dry, we stay out all day.",
}


@extend_schema_view(
    list=extend_schema(description="The workspace's personas by name, each with its segment's live count."),
    create=extend_schema(
        description="A new persona; its segment is generated from the demographics in the same request.",
        examples=[OpenApiExample("A family persona", value=EXAMPLE, request_only=True)],
    ),
    update=extend_schema(description="Replace the persona; fields left out get their defaults."),
    partial_update=extend_schema(
        description="Change the fields sent. New demographics regenerate the segment's rules, unless "
        "they were edited by hand."
    ),
    destroy=extend_schema(
        description="Delete the persona and its segment (kept if another segment includes it)."
    ),
)
class PersonaViewSet(WorkspaceScopedViewSetMixin, viewsets.ModelViewSet):
    """Personas: fictional ideal customers, each with the segment of real contacts who fit it.
    Viewers read; editors write."""

    serializer_class = PersonaSerializer
    queryset = Persona.objects.all()
    filter_backends: list[Any] = []

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):
            return Persona.objects.none()
        return selectors.persona_list(workspace=api_context(self.request).workspace)

    def perform_create(self, serializer: serializers.BaseSerializer[Persona]) -> None:
        serializer.instance = services.persona_create(
            workspace=api_context(self.request).workspace,
            actor=api_user(self.request),
            **_values(serializer.validated_data),
        )

    def perform_update(self, serializer: serializers.BaseSerializer[Persona]) -> None:
        persona = serializer.instance
        assert persona is not None  # noqa: S101 - DRF sets it for updates
        values = _values(serializer.validated_data)
        if not serializer.partial:  # PUT replaces: what it leaves out gets the defaults
            defaults = {name: persona_field(name).get_default() for name in services.EDITABLE}
            values = {**defaults, **values}
        serializer.instance = services.persona_update(persona=persona, **values)

    def perform_destroy(self, instance: Persona) -> None:
        services.persona_delete(persona=instance)

    @extend_schema(request=None, responses=PersonaSerializer)
    @action(detail=True, methods=["post"], url_path="regenerate-segment")
    def regenerate_segment(self, request: Request, pk: str | None = None) -> Response:
        """Generate the segment's rules from the demographics again, dropping edits by hand."""
        persona = services.persona_regenerate_segment(persona=self.get_object())
        return Response(self.get_serializer(persona).data)


def _values(data: dict[str, Any]) -> dict[str, Any]:
    values = dict(data)
    if "owner_team_id" in values:
        values["owner_team"] = values.pop("owner_team_id")
    return values
