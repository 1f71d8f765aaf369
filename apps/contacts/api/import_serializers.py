"""Serializers and fields of `/api/v1/imports/` (the viewset is in `imports.py`): the upload, the
settings, and the job as the API shows it, with the examples of its documentation."""

from __future__ import annotations

import json
from typing import Any

from drf_spectacular.utils import extend_schema_field, inline_serializer
from rest_framework import serializers
from rest_framework.reverse import reverse

from apps.contacts.choices import ImportMode, ImportStatus
from apps.contacts.importing import pipeline
from apps.contacts.models import ImportJob

DATE_ORDERS = [("dmy", "Day first (31.12.1990)"), ("mdy", "Month first (12/31/1990)")]


class TagNamesField(serializers.ListField):
    """Tag names, repeated (`tags=a&tags=b`), comma-separated (`tags=a,b`) or a JSON list."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(child=serializers.CharField(max_length=80), **kwargs)

    def to_internal_value(self, data: Any) -> list[str]:
        items = [data] if isinstance(data, str) else data
        if not isinstance(items, list):
            self.fail("not_a_list", input_type=type(data).__name__)
        names = [name.strip() for item in items for name in str(item).split(",")]
        return super().to_internal_value([name for name in names if name])


NEW_FIELD_HELP = (
    " A target `new:<type>:<Label>` (type text, number, date, boolean or choice) creates that custom "
    "field when the settings are saved, with a key made from the label (`new:text:Customer number` -> "
    "`custom.customer_number`), and maps the column to it; a choice field takes the column's distinct "
    "values in its first 1,000 rows as its choices. Creating fields needs the Admin role, like "
    "`/api/v1/custom-fields/`; a duplicate or built-in key, or an unknown type, is a 400 naming the column."
)


class MappingField(serializers.Field):
    """One target per column, in the file's order: a contact field, `custom.<key>`, `new:<type>:<Label>`
    (a custom field to create), or `""` (skip). In a multipart upload it is a JSON list in one form
    field."""

    default_error_messages = {
        "invalid": 'Send a JSON list with one target per column, e.g. ["email", "first_name", ""].',
    }

    def to_internal_value(self, data: Any) -> list[str]:
        if isinstance(data, str) and not data.strip():
            return []  # an empty form field: suggest the mapping on upload
        if isinstance(data, str):
            try:
                data = json.loads(data)
            except ValueError:
                self.fail("invalid")
        if not isinstance(data, list) or not all(item is None or isinstance(item, str) for item in data):
            self.fail("invalid")
        return [(item or "").strip() for item in data]

    def to_representation(self, value: Any) -> Any:
        return value


@extend_schema_field({"type": "array", "items": {"type": "string"}, "example": ["email", "first_name", ""]})
class JsonMappingField(MappingField):
    """The mapping as a JSON array (PATCH)."""


@extend_schema_field({"type": "string", "example": '["email", "first_name", ""]'})
class FormMappingField(MappingField):
    """The mapping as a JSON list inside a form field (upload)."""


class ImportSettingsSerializer(serializers.Serializer):
    """The importer's choices; left out, they are suggested from the file (mapping, date order)."""

    mode = serializers.ChoiceField(
        choices=ImportMode.choices,
        required=False,
        help_text="upsert (default): create new and update existing contacts; create: skip existing "
        "ones; update: skip unknown ones. Contacts are matched by email, else by phone.",
    )
    tags = TagNamesField(
        required=False,
        help_text="Tags added to every imported contact: repeat the field or separate names by commas.",
    )
    date_order = serializers.ChoiceField(
        choices=DATE_ORDERS,
        required=False,
        allow_blank=True,
        help_text="How to read dates like 03/04/1990; needed when `needs_date_order` is true.",
    )
    decimal_comma = serializers.BooleanField(
        required=False, allow_null=True, default=None, help_text="1.234,56 style numbers; detected if null."
    )
    tag_separator = serializers.CharField(
        required=False, max_length=3, trim_whitespace=False, help_text="Between tags in a tags column."
    )
    consent_confirmed = serializers.BooleanField(
        required=False,
        help_text="Confirm that the opt-ins in the file were given. Without it no opt-in is recorded; "
        "contacts who opted out or are suppressed are never re-subscribed by an import.",
    )
    consent_source = serializers.CharField(
        required=False, allow_blank=True, max_length=120, help_text="Where the opt-ins were given."
    )


class ImportUploadSerializer(ImportSettingsSerializer):
    file = serializers.FileField(
        allow_empty_file=True,  # the pipeline says "The file is empty.", as for the browser and CLI
        help_text="CSV (any common delimiter and encoding) or XLSX; the first row names the columns.",
    )
    mapping = FormMappingField(
        required=False,
        help_text="A JSON list, one target per column; it wins over the preset's mapping." + NEW_FIELD_HELP,
    )
    preset = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text="The id of an import preset (`/api/v1/import-presets/`): its mapping (headers matched "
        "whatever their case and spacing; other columns keep the suggestion) and its mode, tags, tag "
        "separator, date order and decimal comma, each overridden by the field of that name if sent. "
        "`notes` in the answer says what it could not apply (a custom field deleted since).",
    )
    delimiter = serializers.CharField(
        required=False, max_length=1, trim_whitespace=False, help_text="e.g. ; (detected if left out)."
    )
    encoding = serializers.CharField(
        required=False, max_length=20, help_text="e.g. utf-8, cp1252 (detected if left out)."
    )
    dry_run = serializers.BooleanField(
        required=False, help_text="Only check every row (nothing is stored); start it later."
    )


class ImportUpdateSerializer(ImportSettingsSerializer):
    mapping = JsonMappingField(required=False, help_text="One target per column." + NEW_FIELD_HELP)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        fixed = sorted({"encoding", "delimiter", "file"} & set(self.initial_data))
        if fixed:
            raise serializers.ValidationError(
                dict.fromkeys(fixed, "Read from the file at upload; upload the file again to change it.")
            )
        return attrs


class ImportRowErrorSerializer(serializers.Serializer):
    row = serializers.IntegerField(help_text="Row number in the file (the header is row 1).")
    column = serializers.CharField(help_text="The column's header; empty for a row-level problem.")
    value = serializers.CharField()
    message = serializers.CharField()


class ImportJobListSerializer(serializers.ModelSerializer[ImportJob]):
    progress = serializers.IntegerField(source="progress_percent", read_only=True, help_text="Percent.")
    created = serializers.IntegerField(source="created_count", read_only=True)
    updated = serializers.IntegerField(source="updated_count", read_only=True)
    unchanged = serializers.IntegerField(source="unchanged_count", read_only=True)
    skipped = serializers.IntegerField(
        source="skipped_count", read_only=True, help_text="Rows rejected or left out by the mode."
    )
    created_by = serializers.EmailField(source="created_by.email", read_only=True, default=None)
    report_url = serializers.SerializerMethodField(help_text="The rejected rows as CSV; null when none.")

    class Meta:
        model = ImportJob
        fields: tuple[str, ...] = (
            "id", "original_name", "size", "status", "mode", "progress", "total_rows", "rows_processed",
            "committed_rows", "created", "updated", "unchanged", "skipped", "error_count", "failure",
            "report_url", "created_by", "created_at", "started_at", "finished_at",
        )  # fmt: skip
        read_only_fields = fields

    def get_report_url(self, job: ImportJob) -> str | None:
        if not job.report:
            return None
        return reverse("api:import-rejected", kwargs={"pk": job.pk}, request=self.context.get("request"))


def _names() -> serializers.ListField:
    return serializers.ListField(child=serializers.CharField(allow_blank=True), read_only=True)


class ImportJobSerializer(ImportJobListSerializer):
    headers = _names()
    mapping = _names()
    tags = _names()
    needs_date_order = serializers.SerializerMethodField(
        help_text="Dates in the file fit day/month and month/day: set `date_order` before running."
    )

    class Meta(ImportJobListSerializer.Meta):
        fields = (
            *ImportJobListSerializer.Meta.fields, "errors", "kind", "encoding", "delimiter", "headers",
            "mapping", "tags", "tag_separator", "date_order", "needs_date_order", "decimal_comma",
            "consent_confirmed", "consent_source", "cancel_requested",
        )  # fmt: skip
        read_only_fields = fields

    def get_fields(self) -> dict[str, serializers.Field]:
        # Declared here: `errors` as a class attribute would shadow `Serializer.errors` for mypy.
        fields = super().get_fields()
        fields["errors"] = ImportRowErrorSerializer(
            many=True, read_only=True, help_text="The first row errors."
        )
        return fields

    def get_needs_date_order(self, job: ImportJob) -> bool:
        return job_needs_date_order(job)


def job_needs_date_order(job: ImportJob) -> bool:
    if job.status not in (ImportStatus.UPLOADED, ImportStatus.VALIDATED):
        return False  # settings are fixed once it runs
    return pipeline.needs_date_order(job)


ImportAcceptedSerializer = inline_serializer(
    "ImportAccepted",
    fields={
        "id": serializers.IntegerField(),
        "status": serializers.ChoiceField(choices=ImportStatus.choices),
        "url": serializers.URLField(help_text="Poll it for progress and counts."),
        "notes": serializers.ListField(
            child=serializers.CharField(),
            help_text="On upload with a preset: what it could not apply, by column; else empty.",
        ),
    },
)

ImportPreviewSerializer = inline_serializer(
    "ImportPreview",
    fields={
        "headers": serializers.ListField(child=serializers.CharField()),
        "mapping": serializers.ListField(child=serializers.CharField()),
        "date_order": serializers.CharField(),
        "needs_date_order": serializers.BooleanField(),
        "rows": inline_serializer(
            "ImportPreviewRow",
            many=True,
            fields={
                "row": serializers.IntegerField(help_text="Row number in the file."),
                "values": serializers.DictField(help_text="Contact field -> value as it will be stored."),
                "errors": inline_serializer(
                    "ImportPreviewError",
                    many=True,
                    fields={"column": serializers.CharField(), "message": serializers.CharField()},
                ),
            },
        ),
    },
)

JOB_EXAMPLE = {
    "id": 7, "original_name": "spring-fair.csv", "size": 18342, "status": "completed", "mode": "upsert",
    "progress": 100, "total_rows": 250, "rows_processed": 250, "committed_rows": 251, "created": 231,
    "updated": 12, "unchanged": 4, "skipped": 3, "error_count": 3, "failure": "",
    "report_url": "https://ensemble.example/api/v1/imports/7/rejected/", "created_by": "maya@example.com",
    "created_at": "2026-03-02T09:14:00Z", "started_at": "2026-03-02T09:15:02Z",
    "finished_at": "2026-03-02T09:15:04Z",
    "errors": [{"row": 18, "column": "E-Mail", "value": "maya@", "message": "Enter a valid email address."}],
    "kind": "csv", "encoding": "cp1252", "delimiter": ";",
    "headers": ["Vorname", "Nachname", "E-Mail", "Geburtsdatum"],
    "mapping": ["first_name", "last_name", "email", "birth_date"], "tags": ["spring-fair"],
    "tag_separator": ",", "date_order": "dmy", "needs_date_order": False, "decimal_comma": None,
    "consent_confirmed": False, "consent_source": "", "cancel_requested": False,
}  # fmt: skip


PREVIEW_EXAMPLE = {
    "headers": ["Vorname", "E-Mail", "Geburtsdatum"],
    "mapping": ["first_name", "email", "birth_date"],
    "date_order": "dmy",
    "needs_date_order": False,
    "rows": [
        {"row": 2, "values": {"first_name": "Jürgen", "email": "j@example.de", "birth_date": "1980-12-31"},
         "errors": []},
        {"row": 3, "values": {"first_name": "Zoë", "email": "zoe@example.de"},
         "errors": [{"column": "Geburtsdatum", "message": "“31.02.1990” is not a valid date."}]},
    ],
}  # fmt: skip
