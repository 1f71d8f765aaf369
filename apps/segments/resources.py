"""django-import-export for segments (the admin's CSV/XLSX import and export). A row names its
workspace by slug and carries the rules as JSON; rows are checked and written by the segment
services, so rules naming a tag or a segment the row's workspace lacks are that row's errors. An
imported static segment is frozen when it is saved."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from import_export import fields, resources, widgets
from import_export.widgets import ForeignKeyWidget

from apps.core.resources import import_errors, instance_by_name
from apps.segments import services
from apps.segments.models import Segment
from apps.workspaces.models import Workspace


class SegmentResource(resources.ModelResource):
    workspace = fields.Field(
        attribute="workspace", column_name="workspace", widget=ForeignKeyWidget(Workspace, field="slug")
    )
    rules = fields.Field(attribute="rules", column_name="rules", widget=widgets.JSONWidget())

    class Meta:
        model = Segment
        fields = ("workspace", "name", "description", "kind", "is_exclusion", "rules")
        export_order = fields
        import_id_fields = ("workspace", "name")
        clean_model_instances = False  # checked by services.segment_validate instead
        skip_unchanged = True
        report_skipped = True

    def get_instance(self, instance_loader: Any, row: dict[str, Any]) -> Segment | None:
        """Segment names are unique per workspace whatever their case: match them that way."""
        return instance_by_name(Segment, row)

    def import_instance(self, instance: Segment, row: dict[str, Any], **kwargs: Any) -> None:
        parent = super().import_instance
        errors = import_errors(lambda: parent(instance, row, **kwargs), row)
        if not errors:
            try:
                instance.name = services.segment_validate(
                    workspace=instance.workspace,
                    name=instance.name,
                    rules=instance.rules,
                    kind=instance.kind,
                    description=instance.description,
                    segment=instance if instance.pk else None,
                )
            except ValidationError as error:
                errors = error.update_error_dict(errors)
        if errors:
            raise ValidationError(errors)

    def do_instance_save(self, instance: Segment, is_create: bool) -> None:
        if is_create:
            saved = services.segment_create(
                workspace=instance.workspace,
                name=instance.name,
                rules=instance.rules,
                kind=instance.kind,
                description=instance.description,
                is_exclusion=instance.is_exclusion,
            )
            instance.pk, instance._state.adding = saved.pk, False
        else:
            stored = Segment.objects.get(pk=instance.pk)
            services.segment_update(
                segment=stored,
                name=instance.name,
                rules=instance.rules,
                kind=instance.kind,
                description=instance.description,
                is_exclusion=instance.is_exclusion,
            )
