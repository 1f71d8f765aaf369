"""Admin for data fixes on personas: written through the services (so the segment follows),
import-export, the segment's count on the change page."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from apps.contacts.admin import ImportValidRowsMixin, ServiceErrorsMixin
from apps.personas import selectors, services
from apps.personas.forms import list_fields
from apps.personas.models import Persona
from apps.personas.resources import PersonaResource


class PersonaAdminForm(forms.ModelForm[Persona]):
    class Meta:
        model = Persona
        fields = ("workspace", *services.EDITABLE)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields.update(list_fields())

    def clean(self) -> dict[str, Any]:
        """The service's own check (name unique in any case, the team of the same workspace)."""
        cleaned = super().clean() or {}
        workspace = cleaned.get("workspace") if self.instance.pk is None else self.instance.workspace
        if workspace is None or self.errors:
            return cleaned
        probe = Persona(pk=self.instance.pk, workspace=workspace)
        probe._state.adding = self.instance.pk is None
        services.apply_values(probe, {name: cleaned.get(name) for name in services.EDITABLE})
        try:
            services.persona_validate(persona=probe)
        except ValidationError as error:
            for name, problems in error.message_dict.items():
                self.add_error(name if name in self.fields else None, problems)
        return cleaned


@admin.register(Persona)
class PersonaAdmin(ServiceErrorsMixin, ImportValidRowsMixin):
    resource_classes = (PersonaResource,)
    form = PersonaAdminForm
    list_display = ("name", "workspace", "owner_team", "segment", "updated_at")
    list_filter = ("workspace",)
    list_select_related = ("workspace", "owner_team", "segment")
    search_fields = ("name", "workspace__slug")
    autocomplete_fields = ("workspace",)
    readonly_fields = ("segment_link", "generated_rules", "created_at", "updated_at")
    actions = ("count_contacts", "regenerate_segments")

    @admin.display(description="segment")
    def segment_link(self, obj: Persona) -> str:
        if obj.pk is None:
            return "—"
        link = reverse("admin:segments_segment_change", args=[obj.segment_id])
        edited = " (rules edited by hand)" if obj.segment_rules_edited else ""
        return format_html('<a href="{}">{}</a>{}', link, obj.segment.name, edited)

    def get_readonly_fields(self, request: HttpRequest, obj: Persona | None = None) -> Any:
        return ("workspace", *self.readonly_fields) if obj else self.readonly_fields

    @admin.action(description="Count the contacts who fit the selected personas")
    def count_contacts(self, request: HttpRequest, queryset: QuerySet[Persona]) -> None:
        for persona in queryset.select_related("workspace", "segment", "segment__workspace")[:20]:
            fit = selectors.persona_fit(persona=persona)
            messages.info(request, f"“{persona.name}” ({persona.workspace.slug}): {fit.count:,} contacts.")

    @admin.action(description="Regenerate the selected personas' segments from their demographics")
    def regenerate_segments(self, request: HttpRequest, queryset: QuerySet[Persona]) -> None:
        for persona in queryset.select_related("workspace", "segment", "segment__workspace"):
            services.persona_regenerate_segment(persona=persona)
            messages.success(request, f"“{persona.name}”: segment rules regenerated.")

    def save_model(self, request: HttpRequest, obj: Persona, form: Any, change: bool) -> None:
        values = services.persona_values(obj)
        if change:
            services.persona_update(persona=Persona.objects.get(pk=obj.pk), **values)
        else:
            saved = services.persona_create(workspace=obj.workspace, actor=request.user, **values)  # type: ignore[arg-type]
            obj.pk, obj._state.adding = saved.pk, False

    def delete_model(self, request: HttpRequest, obj: Persona) -> None:
        services.persona_delete(persona=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Persona]) -> None:
        for persona in queryset.select_related("segment", "segment__workspace"):
            services.persona_delete(persona=persona)
