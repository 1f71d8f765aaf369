"""Admin for data fixes on segments: rules as JSON (checked by the services), counts on demand (an
action on the list, a link on each segment), freezing, import-export. Members of static segments
are not listed here: a snapshot can hold a million rows, and the segment's page shows them."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.forms.fields import InvalidJSONInput
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html

from apps.contacts.admin import ImportValidRowsMixin, ServiceErrorsMixin
from apps.segments import selectors, services
from apps.segments.models import Segment
from apps.segments.resources import SegmentResource


class IndentedJSONField(forms.JSONField):
    """Rules shown indented, so a nested tree reads like the documentation."""

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, InvalidJSONInput):
            return value
        return json.dumps(value, indent=2, ensure_ascii=False, cls=self.encoder)


class SegmentAdminForm(forms.ModelForm[Segment]):
    class Meta:
        model = Segment
        fields = ("workspace", "name", "description", "kind", "is_exclusion", "rules")
        field_classes = {"rules": IndentedJSONField}
        widgets = {"rules": forms.Textarea(attrs={"rows": 14, "cols": 90})}
        help_texts = {
            "rules": 'JSON, e.g. {"all": [{"tag": "newsletter"}, {"field": "age", "op": "between", '
            '"value": [25, 35]}]}. See the API documentation for every operator.'
        }

    def clean(self) -> dict[str, Any]:
        """The service's own check (rules with their paths, name unique in any case)."""
        cleaned = super().clean() or {}
        workspace = cleaned.get("workspace") if self.instance.pk is None else self.instance.workspace
        if workspace is None or self.errors:
            return cleaned
        try:
            cleaned["name"] = services.segment_validate(
                workspace=workspace,
                name=cleaned.get("name") or "",
                rules=cleaned.get("rules"),
                kind=cleaned.get("kind") or "",
                description=cleaned.get("description") or "",
                segment=self.instance if self.instance.pk else None,
            )
        except ValidationError as error:
            for name, problems in error.message_dict.items():
                self.add_error(name if name in self.fields else None, problems)
        return cleaned


@admin.register(Segment)
class SegmentAdmin(ServiceErrorsMixin, ImportValidRowsMixin):
    resource_classes = (SegmentResource,)
    form = SegmentAdminForm
    list_display = ("name", "workspace", "kind", "is_exclusion", "frozen_at", "frozen_count", "updated_at")
    list_filter = ("kind", "is_exclusion", "workspace")
    list_select_related = ("workspace",)
    search_fields = ("name", "workspace__slug")
    autocomplete_fields = ("workspace",)
    readonly_fields = ("contacts", "frozen_at", "frozen_count", "created_by", "created_at", "updated_at")
    fields = (
        "workspace", "name", "description", "kind", "is_exclusion", "rules", "contacts", "frozen_at",
        "frozen_count", "created_by", "created_at", "updated_at",
    )  # fmt: skip
    actions = ("count_contacts", "freeze_now")

    @admin.display(description="contacts")
    def contacts(self, obj: Segment) -> str:
        if obj.pk is None:
            return "—"
        link = reverse("admin:segments_segment_count", args=[obj.pk])
        return format_html(
            '<a href="{}">Count now</a> (a count can take a moment at a million contacts)', link
        )

    def get_readonly_fields(self, request: HttpRequest, obj: Segment | None = None) -> Any:
        return ("workspace", *self.readonly_fields) if obj else self.readonly_fields

    def get_urls(self) -> list[URLPattern]:
        count = self.admin_site.admin_view(self.count_view)
        return [path("<int:object_id>/count/", count, name="segments_segment_count"), *super().get_urls()]

    def count_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        segment = Segment.objects.select_related("workspace").filter(pk=object_id).first()
        if segment is None or not self.has_view_permission(request, segment):
            return HttpResponseRedirect(reverse("admin:segments_segment_changelist"))
        self._report_count(request, segment)
        return HttpResponseRedirect(reverse("admin:segments_segment_change", args=[segment.pk]))

    def _report_count(self, request: HttpRequest, segment: Segment) -> None:
        count = selectors.segment_count(segment=segment)
        messages.info(request, f"“{segment.name}” ({segment.workspace.slug}): {count:,} contacts.")

    @admin.action(description="Count contacts in the selected segments")
    def count_contacts(self, request: HttpRequest, queryset: QuerySet[Segment]) -> None:
        for segment in queryset.select_related("workspace")[:20]:
            self._report_count(request, segment)

    @admin.action(description="Freeze the selected segments now (members stored with the date)")
    def freeze_now(self, request: HttpRequest, queryset: QuerySet[Segment]) -> None:
        for segment in queryset.select_related("workspace"):
            frozen = services.segment_freeze(segment=segment, actor=request.user)  # type: ignore[arg-type]
            messages.success(request, f"“{frozen.name}” frozen with {frozen.frozen_count or 0:,} contacts.")

    def save_model(self, request: HttpRequest, obj: Segment, form: Any, change: bool) -> None:
        values = {
            "name": obj.name,
            "rules": obj.rules,
            "kind": obj.kind,
            "description": obj.description,
            "is_exclusion": obj.is_exclusion,
        }
        if change:
            services.segment_update(segment=Segment.objects.get(pk=obj.pk), **values)
        else:
            saved = services.segment_create(workspace=obj.workspace, actor=request.user, **values)  # type: ignore[arg-type]
            obj.pk, obj._state.adding = saved.pk, False

    def delete_view(self, request: HttpRequest, object_id: str, extra_context: Any = None) -> HttpResponse:
        try:
            return super().delete_view(request, object_id, extra_context)
        except ValidationError as error:  # included in another segment's rules
            messages.error(request, " ".join(error.messages))
            return HttpResponseRedirect(reverse("admin:segments_segment_change", args=[object_id]))

    def delete_model(self, request: HttpRequest, obj: Segment) -> None:
        services.segment_delete(segment=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Segment]) -> None:
        for segment in queryset:
            try:
                services.segment_delete(segment=segment)
            except ValidationError as error:
                messages.error(request, " ".join(error.messages))
