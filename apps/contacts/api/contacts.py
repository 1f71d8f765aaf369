"""`/api/v1/contacts/`: CRUD, filters, bulk upsert and exports. Thin over services and selectors."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import RequestDataTooBig
from django.http import FileResponse, HttpResponseBase, StreamingHttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from apps.contacts import exporting, selectors, services
from apps.contacts.api.filtering import (
    BULK_EXAMPLE,
    CONTACT_EXAMPLE,
    FILTER_HELP,
    FILTER_PARAMETERS,
    IgnoreFormatParameter,
    PayloadTooLarge,
    _contact_filter,
)
from apps.contacts.api.serializers import (
    EXPORT_TYPES,
    BulkResultSerializer,
    ContactBulkSerializer,
    ContactSerializer,
    ContactWriteSerializer,
)
from apps.contacts.choices import (
    ContactSource,
)
from apps.contacts.models import Contact
from apps.core.parsers import BoundedJSONParser
from apps.core.roles import Role
from apps.workspaces.models import Workspace
from apps.workspaces.permissions import api_context, api_user
from apps.workspaces.viewsets import WorkspaceScopedViewSetMixin


@extend_schema_view(
    list=extend_schema(parameters=FILTER_PARAMETERS, description=f"Newest first. {FILTER_HELP}"),
    retrieve=extend_schema(responses=ContactSerializer),
    destroy=extend_schema(
        description="GDPR erasure: the contact and its history are deleted; a hashed entry keeps its "
        "email and phone on the suppression list, so they can never be opted in again."
    ),
)
class ContactViewSet(WorkspaceScopedViewSetMixin, viewsets.GenericViewSet):
    """The workspace's contacts, addressed by id."""

    serializer_class = ContactSerializer
    queryset = Contact.objects.all()
    # A bulk export of personal data is a write-level act: viewers read contacts one page at a time.
    action_roles = {"export": Role.EDITOR}
    filter_backends: list[Any] = []  # filters are read by the selectors (`contact_filter_from_params`)

    def get_queryset(self) -> Any:
        queryset = super().get_queryset()
        if self.action == "list" and not getattr(self, "swagger_fake_view", False):
            filters = _contact_filter(self.request.query_params, workspace=self._workspace)
            queryset = selectors.contact_list(workspace=self._workspace, filters=filters)
        return selectors.with_tags(queryset).order_by("-id")

    def get_serializer_class(self) -> type[serializers.BaseSerializer[Any]]:
        if self.action in {"create", "update", "partial_update"}:
            return ContactWriteSerializer
        return ContactSerializer

    @property
    def _workspace(self) -> Workspace:
        return api_context(self.request).workspace

    def _render(self, contacts: Sequence[Contact]) -> list[dict[str, Any]]:
        suppressed = selectors.contact_ids_suppressed(workspace=self._workspace, contacts=contacts)
        context = {**self.get_serializer_context(), "suppressed_ids": suppressed}
        return list(ContactSerializer(contacts, many=True, context=context).data)

    def _respond(self, contact: Contact, status_code: int = status.HTTP_200_OK) -> Response:
        fresh = selectors.contact_get(workspace=self._workspace, contact_id=contact.id)  # current tags
        return Response(self._render([fresh])[0], status=status_code)

    def _values(self, request: Request) -> dict[str, Any]:
        serializer = ContactWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        queryset = self.get_queryset()
        page = self.paginate_queryset(queryset)
        if page is None:
            return Response(self._render(list(queryset)))
        return self.get_paginated_response(self._render(page))

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response(self._render([self.get_object()])[0])

    @extend_schema(
        request=ContactWriteSerializer,
        responses={201: ContactSerializer},
        examples=[
            OpenApiExample("A customer with consent and tags", value=CONTACT_EXAMPLE, request_only=True)
        ],
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        contact = services.contact_create(
            workspace=self._workspace,
            values=self._values(request),
            source=ContactSource.API,
            actor=api_user(request),
        )
        return self._respond(contact, status.HTTP_201_CREATED)

    @extend_schema(
        request=ContactWriteSerializer,
        responses=ContactSerializer,
        description="Replace the contact: fields left out are cleared (tags and custom values too), "
        "except consent, which changes only when sent. An email or a phone is required.",
    )
    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        contact = services.contact_replace(
            contact=self.get_object(),
            values=self._values(request),
            actor=api_user(request),
            consent_source="Edited (API)",
        )
        return self._respond(contact)

    @extend_schema(
        request=ContactWriteSerializer,
        responses=ContactSerializer,
        description="Change the given fields; the others stay. `tags`, when sent, replaces the tags.",
    )
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        contact = services.contact_update(
            contact=self.get_object(),
            values=self._values(request),
            actor=api_user(request),
            consent_source="Edited (API)",
        )
        return self._respond(contact)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        services.contact_erase(contact=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        request=ContactBulkSerializer,
        responses=BulkResultSerializer,
        description=f"Create or update up to {services.MAX_BULK_UPSERT:,} contacts per call, matched by "
        "email, else by phone. Fields sent overwrite, fields left out stay, tags are added. A bad row "
        "is reported in its result and skipped; the others are stored.",
        examples=[
            OpenApiExample("Three contacts", value=BULK_EXAMPLE, request_only=True),
            OpenApiExample(
                "Result",
                value={
                    "created": 2,
                    "updated": 0,
                    "unchanged": 0,
                    "errors": 1,
                    "results": [
                        {"index": 0, "status": "created", "id": 101, "errors": {}},
                        {"index": 1, "status": "created", "id": 102, "errors": {}},
                        {"index": 2, "status": "error", "id": None, "errors": {"phone": "Not valid."}},
                    ],
                },
                response_only=True,
            ),
        ],
    )
    @action(detail=False, methods=["post"], parser_classes=[BoundedJSONParser])
    def bulk(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        try:
            data = request.data
        except RequestDataTooBig as error:
            raise PayloadTooLarge() from error
        serializer = ContactBulkSerializer(data=data)
        serializer.is_valid(raise_exception=True)
        rows = services.contacts_bulk_upsert(
            workspace=self._workspace,
            rows=serializer.validated_data["contacts"],
            source=ContactSource.API,
            actor=api_user(request),
        )
        counts = dict.fromkeys(("created", "updated", "unchanged", "error"), 0)
        for row in rows:
            counts[row.status] += 1
        # Built directly: 10,000 rows through a serializer would cost more than the upsert's queries.
        return Response(
            {
                "created": counts["created"],
                "updated": counts["updated"],
                "unchanged": counts["unchanged"],
                "errors": counts["error"],
                "results": [
                    {"index": row.index, "status": row.status, "id": row.id, "errors": row.errors}
                    for row in rows
                ],
            }
        )

    @extend_schema(
        parameters=[
            OpenApiParameter("format", str, enum=[*EXPORT_TYPES], description="File type; csv if left out."),
            *FILTER_PARAMETERS,
        ],
        responses={
            (200, EXPORT_TYPES["csv"]): OpenApiResponse(OpenApiTypes.BINARY, description="The file."),
            (200, EXPORT_TYPES["xlsx"]): OpenApiResponse(OpenApiTypes.BINARY, description="The file."),
        },
        description="Every contact of the filtered list, oldest first, one column per field and per "
        f"custom field. Cells that a spreadsheet would run as a formula are escaped. {FILTER_HELP}",
    )
    @action(detail=False, methods=["get"], content_negotiation_class=IgnoreFormatParameter)
    def export(self, request: Request, *args: Any, **kwargs: Any) -> HttpResponseBase:
        kind = kwargs.get("format") or request.query_params.get("format") or "csv"
        if kind not in EXPORT_TYPES:
            raise serializers.ValidationError({"format": [f"Use one of: {', '.join(EXPORT_TYPES)}."]})
        workspace = self._workspace
        contacts = selectors.contact_list(
            workspace=workspace, filters=_contact_filter(request.query_params, workspace=workspace)
        )
        keys = selectors.custom_field_list(workspace=workspace).values_list("key", flat=True)
        columns = exporting.export_columns(list(keys))
        today = timezone.localdate(timezone=ZoneInfo(workspace.time_zone))
        filename = f"{workspace.slug}-contacts-{today.isoformat()}.{kind}"
        if kind == "xlsx":
            return FileResponse(
                exporting.write_xlsx(contacts, columns),
                as_attachment=True,
                filename=filename,
                content_type=EXPORT_TYPES["xlsx"],
            )
        response = StreamingHttpResponse(
            exporting.csv_lines(contacts, columns), content_type=EXPORT_TYPES["csv"]
        )
        response["Content-Disposition"] = f'attachment; filename="{filename}"'  # slug and date: ASCII
        return response
