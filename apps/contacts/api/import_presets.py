"""`/api/v1/import-presets/`: saved import settings, to pass as `preset` when uploading a file."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import serializers, viewsets

from apps.contacts import selectors
from apps.contacts.api.import_serializers import DATE_ORDERS, TagNamesField
from apps.contacts.choices import ImportMode
from apps.contacts.importing import presets
from apps.contacts.models import ImportPreset
from apps.workspaces.permissions import api_context, api_user
from apps.workspaces.viewsets import WorkspaceScopedViewSetMixin

PRESET_EXAMPLE = {
    "name": "Shop export",
    "mapping": {
        "E-Mail": "email",
        "Vorname": "first_name",
        "Kundennummer": "custom.customer_no",
        "Notiz": "",
    },
    "mode": "upsert",
    "tags": ["shop"],
    "tag_separator": ";",
    "date_order": "dmy",
    "decimal_comma": True,
}


class ImportPresetSerializer(serializers.ModelSerializer[ImportPreset]):
    mapping = serializers.DictField(
        child=serializers.CharField(allow_blank=True),
        required=False,
        help_text="Header -> target: a contact field, `custom.<key>` of an existing custom field, or "
        '`""` to skip the column. Headers match whatever their case and spacing; columns the preset '
        "does not name keep the suggested target.",
    )
    mode = serializers.ChoiceField(choices=ImportMode.choices, required=False)
    tags = TagNamesField(required=False, help_text="Tags added to every imported contact.")
    tag_separator = serializers.CharField(
        required=False, max_length=3, trim_whitespace=False, help_text="Between tags in a tags column."
    )
    date_order = serializers.ChoiceField(
        choices=DATE_ORDERS, required=False, allow_blank=True, help_text="Empty: guessed per file."
    )
    decimal_comma = serializers.BooleanField(
        required=False, allow_null=True, help_text="1.234,56 style numbers; null: guessed per file."
    )
    created_by = serializers.EmailField(source="created_by.email", read_only=True, default=None)
    import_id = serializers.IntegerField(
        write_only=True,
        required=False,
        help_text="On create: take the mapping and choices of this import (one of this workspace); "
        "fields sent beside it override them.",
    )

    class Meta:
        model = ImportPreset
        fields = (
            "id", "name", "mapping", "mode", "tags", "tag_separator", "date_order", "decimal_comma",
            "created_by", "created_at", "updated_at", "import_id",
        )  # fmt: skip
        read_only_fields = ("id", "created_by", "created_at", "updated_at")
        extra_kwargs = {"name": {"help_text": "Unique in the workspace, whatever its case."}}


def _values(data: dict[str, Any], base: presets.PresetValues) -> presets.PresetValues:
    names = ("mapping", "mode", "tags", "tag_separator", "date_order", "decimal_comma")
    return presets.PresetValues(**{name: data.get(name, getattr(base, name)) for name in names})


@extend_schema_view(
    list=extend_schema(description="The workspace's import presets by name."),
    create=extend_schema(
        description="Save import settings under a name: send them, or `import_id` to copy an import's.",
        examples=[OpenApiExample("A monthly shop export", value=PRESET_EXAMPLE, request_only=True)],
    ),
    update=extend_schema(description="Replace the preset's name and settings; fields left out get defaults."),
    partial_update=extend_schema(description="Change some of the preset's name and settings."),
    destroy=extend_schema(description="Delete the preset; imports made with it keep their settings."),
)
class ImportPresetViewSet(WorkspaceScopedViewSetMixin, viewsets.ModelViewSet):
    """Saved column mappings and choices. Editors save and delete them; viewers read them."""

    serializer_class = ImportPresetSerializer
    queryset = ImportPreset.objects.select_related("created_by")
    filter_backends: list[Any] = []

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):
            return ImportPreset.objects.none()
        return presets.import_preset_list(workspace=api_context(self.request).workspace)

    def perform_create(self, serializer: serializers.BaseSerializer[ImportPreset]) -> None:
        data = dict(serializer.validated_data)
        workspace = api_context(self.request).workspace
        base = presets.PresetValues(mapping={})
        if "import_id" in data:
            job = selectors.import_job_list(workspace=workspace).filter(id=data.pop("import_id")).first()
            if job is None:
                raise serializers.ValidationError(
                    {"import_id": ["There is no such import in this workspace."]}
                )
            base = presets.job_preset_values(job)
        serializer.instance = presets.import_preset_create(
            workspace=workspace,
            name=data.get("name", ""),
            values=_values(data, base),
            actor=api_user(self.request),
        )

    def perform_update(self, serializer: serializers.BaseSerializer[ImportPreset]) -> None:
        preset = serializer.instance
        assert preset is not None  # noqa: S101 - DRF sets it for updates
        data = dict(serializer.validated_data)
        if "import_id" in data:
            raise serializers.ValidationError({"import_id": ["Only when creating a preset."]})
        # PUT replaces: what it leaves out gets the defaults; PATCH keeps it.
        base = presets.preset_values(preset) if serializer.partial else presets.PresetValues(mapping={})
        serializer.instance = presets.import_preset_update(
            preset=preset, name=data.get("name", preset.name), values=_values(data, base)
        )

    def perform_destroy(self, instance: ImportPreset) -> None:
        presets.import_preset_delete(preset=instance)
