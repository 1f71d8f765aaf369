"""django-import-export for personas (the admin's CSV/XLSX import and export). A row names its
workspace by slug and its owner team by name (a team of that workspace); lists are comma-separated.
Rows are checked and written by the persona services, so each persona gets its segment."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from import_export import fields, resources
from import_export.widgets import ForeignKeyWidget, SimpleArrayWidget

from apps.core.resources import import_errors, instance_by_name
from apps.personas import services
from apps.personas.models import Persona
from apps.workspaces.models import Team, Workspace


def _list(name: str) -> fields.Field:
    return fields.Field(attribute=name, column_name=name, widget=SimpleArrayWidget(separator=","))


class PersonaResource(resources.ModelResource):
    workspace = fields.Field(
        attribute="workspace", column_name="workspace", widget=ForeignKeyWidget(Workspace, field="slug")
    )
    owner_team = fields.Field(column_name="owner_team")
    segment = fields.Field(column_name="segment", attribute="segment__name", readonly=True)
    genders = _list("genders")
    marital_statuses = _list("marital_statuses")
    locations = _list("locations")
    income_bands = _list("income_bands")
    education_levels = _list("education_levels")
    preferred_channels = _list("preferred_channels")
    devices = _list("devices")

    class Meta:
        model = Persona
        fields = ("workspace", *services.EDITABLE, "segment")
        export_order = fields
        import_id_fields = ("workspace", "name")
        clean_model_instances = False  # checked by services.persona_validate instead
        skip_unchanged = True
        report_skipped = True

    def dehydrate_owner_team(self, persona: Persona) -> str:
        return persona.owner_team.name if persona.owner_team is not None else ""

    def get_instance(self, instance_loader: Any, row: dict[str, Any]) -> Persona | None:
        """Persona names are unique per workspace whatever their case: match them that way."""
        return instance_by_name(Persona, row)

    def import_instance(self, instance: Persona, row: dict[str, Any], **kwargs: Any) -> None:
        parent = super().import_instance
        errors = import_errors(lambda: parent(instance, row, **kwargs), row)
        if not errors:
            team_name = str(row.get("owner_team") or "").strip()
            team = Team.objects.filter(workspace=instance.workspace, name__iexact=team_name).first()
            if team_name and team is None:
                errors["owner_team"] = f"There is no team “{team_name}” in this workspace."
            instance.owner_team = team
        if not errors:
            try:
                services.persona_validate(persona=instance)
            except ValidationError as error:
                errors = error.update_error_dict(errors)
        if errors:
            raise ValidationError(errors)

    def do_instance_save(self, instance: Persona, is_create: bool) -> None:
        values = services.persona_values(instance)
        if is_create:
            saved = services.persona_create(workspace=instance.workspace, **values)
            instance.pk, instance._state.adding = saved.pk, False
        else:
            services.persona_update(persona=Persona.objects.get(pk=instance.pk), **values)
