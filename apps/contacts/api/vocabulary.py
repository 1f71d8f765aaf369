"""`/api/v1/tags/` and `/api/v1/custom-fields/`: the workspace's vocabulary for contacts."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import (
    OpenApiExample,
    extend_schema,
    extend_schema_view,
)
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from apps.contacts import selectors, services
from apps.contacts.api.filtering import _as_params, _parse_filters, _renamed
from apps.contacts.api.serializers import (
    CustomFieldSerializer,
    TagAppliedSerializer,
    TagRemovedSerializer,
    TagSerializer,
    TagTargetSerializer,
)
from apps.contacts.models import CustomField, Tag
from apps.core.parsers import BoundedJSONParser
from apps.core.roles import Role
from apps.workspaces.permissions import api_context
from apps.workspaces.viewsets import WorkspaceScopedViewSetMixin


@extend_schema_view(
    list=extend_schema(description="The workspace's tags by name, with how many contacts have each."),
    destroy=extend_schema(description="Delete the tag; its contacts stay."),
)
class TagViewSet(WorkspaceScopedViewSetMixin, viewsets.ModelViewSet):
    """Tags mark contacts; names are unique per workspace, whatever their case."""

    serializer_class = TagSerializer
    queryset = Tag.objects.all()
    filter_backends: list[Any] = []

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):
            return Tag.objects.none()
        workspace = api_context(self.request).workspace
        # Counting links is a join over every tagged contact: only where the count is shown.
        return selectors.tag_list(
            workspace=workspace, with_counts=self.action in {"list", "retrieve", "update", "partial_update"}
        )

    @extend_schema(
        examples=[
            OpenApiExample(
                "A campaign tag",
                value={
                    "name": "spring-event",
                    "colour": "#1f6f5c",
                    "description": "Came to the spring event",
                },
                request_only=True,
            )
        ]
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().create(request, *args, **kwargs)

    def perform_create(self, serializer: serializers.BaseSerializer[Tag]) -> None:
        serializer.instance = services.tag_create(
            workspace=api_context(self.request).workspace, **serializer.validated_data
        )

    def perform_update(self, serializer: serializers.BaseSerializer[Tag]) -> None:
        tag = serializer.instance
        assert tag is not None  # noqa: S101 - DRF sets it for updates
        data = {"name": tag.name, "colour": tag.colour, "description": tag.description}
        serializer.instance = services.tag_update(tag=tag, **(data | serializer.validated_data))

    def perform_destroy(self, instance: Tag) -> None:
        services.tag_delete(tag=instance)

    def _targets(self, request: Request) -> Any:
        serializer = TagTargetSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        workspace = api_context(request).workspace
        if "contact_ids" in serializer.validated_data:
            return selectors.contacts_by_ids(
                workspace=workspace, ids=serializer.validated_data["contact_ids"]
            )
        params = _as_params(serializer.validated_data["filters"])
        filters, errors = _parse_filters(params, workspace=workspace, strict=True)
        if errors:
            raise serializers.ValidationError({"filters": errors})
        return selectors.contact_list(workspace=workspace, filters=filters)

    @extend_schema(
        request=TagTargetSerializer,
        responses=TagAppliedSerializer,
        description="Tag many contacts at once, by id or by the contact list's filters.",
        examples=[
            OpenApiExample("By id", value={"contact_ids": [101, 102]}, request_only=True),
            OpenApiExample(
                "By filter", value={"filters": {"city": "Berlin", "tag": ["newsletter"]}}, request_only=True
            ),
        ],
    )
    @action(detail=True, methods=["post"], parser_classes=[BoundedJSONParser])
    def apply(self, request: Request, pk: str | None = None) -> Response:
        tag = self.get_object()  # first: another workspace's tag is a 404 whatever the body
        return Response({"added": services.contacts_tag(contacts=self._targets(request), tag=tag)})

    @extend_schema(
        request=TagTargetSerializer,
        responses=TagRemovedSerializer,
        description="Untag many contacts at once, by id or by the contact list's filters.",
    )
    @action(detail=True, methods=["post"], parser_classes=[BoundedJSONParser])
    def remove(self, request: Request, pk: str | None = None) -> Response:
        tag = self.get_object()
        return Response({"removed": services.contacts_untag(contacts=self._targets(request), tag=tag)})


@extend_schema_view(
    destroy=extend_schema(description="Delete the field and remove its value from every contact."),
    update=extend_schema(description="Change the label or the choices; key and type stay as created."),
    partial_update=extend_schema(
        description="Change the label or the choices; key and type stay as created."
    ),
)
class CustomFieldViewSet(WorkspaceScopedViewSetMixin, viewsets.ModelViewSet):
    """Workspace-defined contact attributes. Admins manage them; everyone reads them."""

    serializer_class = CustomFieldSerializer
    queryset = CustomField.objects.all()
    write_role = Role.ADMIN
    filter_backends: list[Any] = []

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):
            return CustomField.objects.none()
        return selectors.custom_field_list(workspace=api_context(self.request).workspace)

    @extend_schema(
        examples=[
            OpenApiExample(
                "A choice field",
                value={
                    "key": "loyalty_tier",
                    "label": "Loyalty tier",
                    "type": "choice",
                    "choices": ["silver", "gold"],
                },
                request_only=True,
            )
        ]
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().create(request, *args, **kwargs)

    def perform_create(self, serializer: serializers.BaseSerializer[CustomField]) -> None:
        data = serializer.validated_data
        try:
            serializer.instance = services.custom_field_create(
                workspace=api_context(self.request).workspace,
                key=data["key"],
                label=data["label"],
                field_type=data["field_type"],
                choices=data.get("choices", []),
            )
        except DjangoValidationError as error:
            raise _renamed(error, {"field_type": "type"}) from error

    def perform_update(self, serializer: serializers.BaseSerializer[CustomField]) -> None:
        custom_field = serializer.instance
        assert custom_field is not None  # noqa: S101 - DRF sets it for updates
        data = serializer.validated_data
        try:
            serializer.instance = services.custom_field_update(
                custom_field=custom_field,
                label=data.get("label", custom_field.label),
                choices=data.get("choices", custom_field.choices),
                key=data.get("key"),
                field_type=data.get("field_type"),
            )
        except DjangoValidationError as error:
            raise _renamed(error, {"field_type": "type"}) from error

    def perform_destroy(self, instance: CustomField) -> None:
        services.custom_field_delete(custom_field=instance)
