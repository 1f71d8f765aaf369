"""`/api/v1/imports/`: contact list imports (CSV or XLSX). Thin over `importing.pipeline`, the same
steps as the browser and `manage.py import_contacts`: upload, settings, preview, dry run, run."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.http import FileResponse, HttpResponseBase
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import BaseParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse

from apps.contacts.api.filtering import IgnoreFormatParameter, PayloadTooLarge
from apps.contacts.api.import_serializers import (
    JOB_EXAMPLE,
    PREVIEW_EXAMPLE,
    ImportAcceptedSerializer,
    ImportJobListSerializer,
    ImportJobSerializer,
    ImportPreviewSerializer,
    ImportUpdateSerializer,
    ImportUploadSerializer,
    job_needs_date_order,
)
from apps.contacts.importing import pipeline, presets
from apps.contacts.importing.mapping import NEW_PREFIX
from apps.contacts.models import ImportJob, ImportPreset
from apps.core.parsers import BoundedJSONParser
from apps.core.roles import Role
from apps.workspaces.permissions import api_context, api_user
from apps.workspaces.viewsets import WorkspaceScopedViewSetMixin

# Room for the multipart framing and the other form fields on top of the file itself.
MULTIPART_OVERHEAD = 64 * 1024
PREVIEW_MAX_ROWS = 100


def _plain(value: Any) -> Any:
    """Parsed cells as JSON shows them: dates in ISO 8601, amounts as exact strings."""
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


def _settings(
    data: Mapping[str, Any], *, job: ImportJob | None = None, preset: ImportPreset | None = None
) -> pipeline.ImportSettings:
    """The upload's choices (over the preset's), or (with `job`) the job's current ones overlaid
    with those sent."""
    base = presets.preset_settings(preset) if preset is not None else pipeline.ImportSettings()
    if job is not None:
        base = pipeline.ImportSettings(
            mode=job.mode,
            tags=job.tags,
            date_order=job.date_order,
            decimal_comma=job.decimal_comma,
            tag_separator=job.tag_separator,
            consent_confirmed=job.consent_confirmed,
            consent_source=job.consent_source,
        )
    names = {field.name for field in dataclasses.fields(pipeline.ImportSettings)} - {"preset", "new_fields"}
    return dataclasses.replace(base, **{name: value for name, value in data.items() if name in names})


def _check_new_fields(request: Request, mapping: Any) -> None:
    """Custom fields are the Admin's to create (`/api/v1/custom-fields/`); so are "new:" targets."""
    asked = [
        f"column {index + 1} (“{target}”)"
        for index, target in enumerate(mapping or [])
        if target.startswith(NEW_PREFIX)
    ]
    if asked and not api_context(request).role.includes(Role.ADMIN):
        raise exceptions.PermissionDenied(
            f"Creating custom fields needs the Admin role: {', '.join(asked)}. Map the columns to existing "
            "fields, or ask an admin to create them."
        )


def _preset(request: Request, preset_id: int | None) -> ImportPreset | None:
    if preset_id is None:
        return None
    preset = presets.import_preset_list(workspace=api_context(request).workspace).filter(id=preset_id).first()
    if preset is None:
        raise serializers.ValidationError(
            {"preset": [f"There is no import preset {preset_id} in this workspace."]}
        )
    return preset


@extend_schema_view(
    list=extend_schema(description="The workspace's imports, newest first."),
    retrieve=extend_schema(
        description="Status, progress, counts and the first row errors; poll it while the import runs.",
        examples=[OpenApiExample("A finished import", value=JOB_EXAMPLE, response_only=True)],
    ),
)
class ImportJobViewSet(
    WorkspaceScopedViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Contact list imports. Editors import; viewers read their status."""

    serializer_class = ImportJobSerializer
    queryset = ImportJob.objects.select_related("created_by").order_by("-created_at", "-id")
    # The rejected rows are personal data in bulk, like an export.
    action_roles = {"rejected": Role.EDITOR}
    filter_backends: list[Any] = []
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_serializer_class(self) -> type[serializers.BaseSerializer[Any]]:
        return ImportJobListSerializer if self.action == "list" else ImportJobSerializer

    def get_parsers(self) -> list[BaseParser]:
        # Called before `self.action` is set: the upload is multipart, a settings change JSON.
        method = (getattr(self.request, "method", None) or "").lower()
        action_name = (getattr(self, "action_map", None) or {}).get(method)
        if action_name == "create":
            return [MultiPartParser()]
        if action_name == "partial_update":
            return [BoundedJSONParser()]
        return super().get_parsers()

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        # Before anything reads the body: refuse an oversized upload instead of spooling it to disk.
        if self.action == "create":
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            limit = settings.IMPORT_MAX_UPLOAD_BYTES
            if length > limit + MULTIPART_OVERHEAD:
                raise PayloadTooLarge(f"The file is too large: the limit is {limit / 1e6:,.0f} MB.")
        super().initial(request, *args, **kwargs)

    def _accepted(self, job: ImportJob, notes: list[str] | None = None) -> Response:
        url = reverse("api:import-detail", kwargs={"pk": job.pk}, request=self.request)
        return Response(
            {"id": job.pk, "status": job.status, "url": url, "notes": notes or []},
            status=status.HTTP_202_ACCEPTED,
            headers={"Location": url},
        )

    def _detail(self, job: ImportJob) -> Response:
        job.refresh_from_db()  # a worker may have moved it on (tasks run inline in tests)
        return Response(ImportJobSerializer(job, context=self.get_serializer_context()).data)

    @extend_schema(
        request={"multipart/form-data": ImportUploadSerializer},
        responses={202: ImportAcceptedSerializer},
        description="Upload a file and start importing it (or, with `dry_run`, only check it). The "
        "format, delimiter, encoding and column mapping are detected unless given. A file that cannot "
        "be read is a 400 naming `file`. Uploads above `IMPORT_MAX_UPLOAD_BYTES` (200 MiB unless "
        "configured) are refused: with 413 when the request is that large, else with a 400 on `file`.",
        examples=[
            OpenApiExample(
                "A German list, tagged",
                value={
                    "file": "kontakte.csv",
                    "mode": "upsert",
                    "tags": "spring-fair,newsletter",
                    "date_order": "dmy",
                    "consent_confirmed": "true",
                    "consent_source": "Spring fair sign-up form",
                },
                request_only=True,
                media_type="multipart/form-data",
            ),
            OpenApiExample(
                "With a saved preset",
                value={"file": "shop-2026-03.csv", "preset": 3, "dry_run": "true"},
                request_only=True,
                media_type="multipart/form-data",
            ),
            OpenApiExample(
                "Accepted",
                value={
                    "id": 7,
                    "status": "queued",
                    "url": "https://ensemble.example/api/v1/imports/7/",
                    "notes": [],
                },
                response_only=True,
                status_codes=["202"],
            ),
        ],
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = ImportUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        _check_new_fields(request, data.get("mapping"))
        preset = _preset(request, data.get("preset"))
        with transaction.atomic():
            job = pipeline.import_create(
                workspace=api_context(request).workspace,
                upload=data["file"],
                actor=api_user(request),
                options=_settings(data, preset=preset),
            )
            try:
                job = pipeline.import_enqueue(job=job, dry_run=data.get("dry_run", False))
            except DjangoValidationError:
                job.file.delete(save=False)  # the row rolls back; nothing of the upload stays
                raise
        notes = (
            presets.import_preset_notes(job=job, preset=preset) if preset and not data.get("mapping") else []
        )
        return self._accepted(job, notes)

    @extend_schema(
        request=ImportUpdateSerializer,
        responses=ImportJobSerializer,
        description="Change the mapping and choices of an import that has not started (status "
        "`uploaded` or `validated`); fields left out stay. A checked import must be checked again. "
        "`new:<type>:<Label>` targets create custom fields (admins only), all or none.",
        examples=[
            OpenApiExample(
                "Map the columns",
                value={"mapping": ["first_name", "last_name", "email", ""], "date_order": "dmy"},
                request_only=True,
            ),
            OpenApiExample(
                "Create a custom field for the last column (admins)",
                value={"mapping": ["first_name", "last_name", "email", "new:text:Customer number"]},
                request_only=True,
            ),
        ],
    )
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        job = self.get_object()
        serializer = ImportUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        _check_new_fields(request, serializer.validated_data.get("mapping"))
        pipeline.import_configure(job=job, options=_settings(serializer.validated_data, job=job))
        return self._detail(job)

    @extend_schema(
        parameters=[
            OpenApiParameter("limit", int, description=f"Rows to show, 1-{PREVIEW_MAX_ROWS}; 10 by default.")
        ],
        responses=ImportPreviewSerializer,
        description="The first rows after mapping and parsing (dates, numbers, yes/no, tags), with the "
        "errors found so far; the dry run checks every row against every rule.",
        examples=[OpenApiExample("Two rows", value=PREVIEW_EXAMPLE, response_only=True)],
    )
    @action(detail=True, methods=["get"])
    def preview(self, request: Request, pk: str | None = None) -> Response:
        job = self.get_object()
        try:
            limit = min(max(int(request.query_params.get("limit", 10)), 1), PREVIEW_MAX_ROWS)
        except ValueError as error:
            raise serializers.ValidationError({"limit": ["Give a whole number."]}) from error
        rows = [
            {
                "row": row.number,
                "values": _plain(row.values),
                "errors": [{"column": column, "message": message} for column, message in row.errors.items()],
            }
            for row in pipeline.import_preview(job=job, limit=limit)
        ]
        return Response(
            {
                "headers": job.headers,
                "mapping": job.mapping,
                "date_order": job.date_order,
                "needs_date_order": job_needs_date_order(job),
                "rows": rows,
            }
        )

    @extend_schema(
        request=None,
        responses={202: ImportAcceptedSerializer},
        description="Check every row without storing anything: the job's counts and errors then say "
        "what a run would do, and its status becomes `validated`.",
    )
    @action(detail=True, methods=["post"], url_path="dry-run")
    def dry_run(self, request: Request, pk: str | None = None) -> Response:
        return self._accepted(pipeline.import_enqueue(job=self.get_object(), dry_run=True))

    @extend_schema(request=None, responses={202: ImportAcceptedSerializer}, description="Run the import.")
    @action(detail=True, methods=["post"])
    def start(self, request: Request, pk: str | None = None) -> Response:
        return self._accepted(pipeline.import_enqueue(job=self.get_object()))

    @extend_schema(
        request=None,
        responses=ImportJobSerializer,
        description="A waiting import stops at once; a running one after its current chunk (whole "
        "chunks already stored stay, `committed_rows` says how far). A finished import is unchanged.",
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        return self._detail(pipeline.import_cancel(job=self.get_object()))

    @extend_schema(
        responses={
            (200, "text/csv"): OpenApiResponse(
                OpenApiTypes.BINARY, description="The file's columns plus `reason`."
            ),
            404: OpenApiResponse(description="The import rejected no rows."),
        },
        description="The rejected rows as CSV, with a `reason` column: fix them and import the file again.",
    )
    @action(detail=True, methods=["get"], content_negotiation_class=IgnoreFormatParameter)
    def rejected(self, request: Request, pk: str | None = None) -> HttpResponseBase:
        job = self.get_object()
        if not job.report:
            raise exceptions.NotFound("This import has no rejected rows.")
        # FileResponse closes the file when the response is done.
        return FileResponse(
            job.report.open("rb"),
            as_attachment=True,
            filename=Path(job.report.name).name,
            content_type="text/csv; charset=utf-8",
        )
