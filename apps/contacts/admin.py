"""Admin for data fixes: contacts, tags, custom fields, import presets, consent history, the
suppression list.

Built for a million contacts: lists show the planner's row estimate instead of COUNT(*), contact
search follows the list's indexed rules, and foreign keys use autocomplete or raw ids. Writes go
through the services (the same rules as the app and the API); deleting a contact is a GDPR erase
that leaves its hashed addresses suppressed. No admin action sends anything, and imports are only
inspected here (they run from the app, the API or `import_contacts`).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import connections
from django.db.models import QuerySet
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    StreamingHttpResponse,
)
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.html import format_html
from import_export.admin import ImportExportModelAdmin

from apps.contacts import exporting, selectors, services
from apps.contacts.choices import Channel, ContactSource
from apps.contacts.cleaning import (
    EMPTY,
    FIELD_NAMES,
    FieldError,
    address_hash,
    normalise_email,
    normalise_phone,
)
from apps.contacts.importing import presets
from apps.contacts.models import ConsentEvent, Contact, CustomField, ImportJob, ImportPreset, Suppression, Tag
from apps.contacts.resources import ContactResource, ImportPresetResource, TagResource
from apps.workspaces.models import Workspace

CONTACT_FIELDS = tuple(name for name in FIELD_NAMES if name != "tags")


class EstimatedCountPaginator(Paginator):
    """COUNT(*) reads every matching row (about a second at a million contacts, on every page);
    PostgreSQL's planner estimate costs a millisecond. Lists estimated under `EXACT_BELOW` rows are
    counted exactly, so small and filtered lists show true numbers."""

    EXACT_BELOW = 10_000

    @cached_property
    def count(self) -> int:
        rows = self.object_list
        if isinstance(rows, QuerySet) and connections[rows.db].vendor == "postgresql":
            plan = rows.order_by().explain(format="json")  # empty when the filter can match nothing
            estimate = int(json.loads(plan)[0]["Plan"]["Plan Rows"]) if plan else 0
            if estimate >= self.EXACT_BELOW:
                return estimate
        return super().count


class LargeListMixin(admin.ModelAdmin[Any]):
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    list_per_page = 50


class ServiceErrorsMixin(admin.ModelAdmin[Any]):
    """Forms check the rules before saving; a rule that still fails in the service (a concurrent
    edit took the email, say) is shown as a message instead of a server error."""

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ValidationError as error:  # the view's transaction has been rolled back
            messages.error(request, "Not saved: " + " ".join(error.messages))
            return HttpResponseRedirect(request.get_full_path())


class ImportValidRowsMixin(ImportExportModelAdmin):
    """django-import-export refuses a file with any invalid row. Here the preview lists the row
    errors and still offers to import the valid rows; the invalid ones are skipped and reported."""

    def import_action(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        response = super().import_action(request, **kwargs)
        context = getattr(response, "context_data", None) or {}
        result = context.get("result")
        if result is None or result.has_errors() or not result.has_validation_errors():
            return response
        valid, invalid = len(result.valid_rows()), len(result.invalid_rows)
        if valid and "confirm_form" not in context:
            context["confirm_form"] = self.create_confirm_form(request, import_form=context["form"])
            messages.warning(
                request,
                f"{invalid} row(s) have errors (listed below) and will be skipped. "
                f"Confirm to import the other {valid} row(s).",
            )
        return response

    def process_result(self, result: Any, request: HttpRequest) -> HttpResponse:
        if result.has_validation_errors():
            messages.warning(request, f"{len(result.invalid_rows)} row(s) with errors were skipped.")
        return super().process_result(result, request)


# ------------------------------------------------------------------------------------- contacts
class ContactAdminForm(forms.ModelForm[Contact]):
    tag_names = forms.CharField(
        label="Tags",
        required=False,
        help_text="Comma-separated; tags missing in the contact's workspace are created.",
    )

    class Meta:
        model = Contact
        fields = ("workspace", *CONTACT_FIELDS)
        help_texts = {"custom": 'JSON, e.g. {"shoe_size": 42}. Given keys are merged; null removes a key.'}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["tag_names"] = ", ".join(tag.name for tag in self.instance.tags.order_by("name"))
        self.contact_values: dict[str, Any] = {}

    def clean(self) -> dict[str, Any]:
        """The service's own check (cleaning rules, unique email, suppression), errors on fields."""
        cleaned = super().clean() or {}
        adding = self.instance.pk is None
        workspace = cleaned.get("workspace") if adding else self.instance.workspace
        if workspace is None:
            return cleaned
        if adding:
            values = {name: cleaned[name] for name in CONTACT_FIELDS if cleaned.get(name) not in (*EMPTY, {})}
        else:
            values = {name: cleaned.get(name) for name in CONTACT_FIELDS if name in self.changed_data}
        if "tag_names" in self.changed_data:
            values["tags"] = cleaned.get("tag_names", "")
        try:
            services.contact_validate(
                workspace=workspace, values=values, contact=None if adding else self.instance
            )
        except ValidationError as error:
            for name, problems in error.message_dict.items():
                target = {"tags": "tag_names"}.get(name, name.split(".")[0])
                self.add_error(target if target in self.fields else None, problems)
        self.contact_values = values  # raw: the service cleans them again when it writes
        return cleaned


class ConsentEventInline(admin.TabularInline[ConsentEvent, Contact]):
    model = ConsentEvent
    extra = 0
    can_delete = False
    fields = ("created_at", "channel", "status", "source", "actor", "text")
    readonly_fields = fields
    ordering = ("-created_at", "-id")

    def get_queryset(self, request: HttpRequest) -> QuerySet[ConsentEvent]:
        return super().get_queryset(request).select_related("actor")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Contact)
class ContactAdmin(ServiceErrorsMixin, LargeListMixin, ImportValidRowsMixin):
    resource_classes = (ContactResource,)
    form = ContactAdminForm
    list_display = (
        "__str__", "email", "phone_e164", "workspace", "city", "country", "email_consent", "sms_consent",
        "created_at",
    )  # fmt: skip
    list_filter = ("email_consent", "sms_consent", "source", "gender", "workspace")
    list_select_related = ("workspace",)
    search_fields = ("email_normalized",)  # shows the box; get_search_results decides
    search_help_text = "Name, the start of an email address, or phone digits."
    autocomplete_fields = ("workspace",)
    ordering = ("-id",)
    inlines = (ConsentEventInline,)
    fieldsets = (
        (None, {"fields": ("workspace", ("email", "email_normalized"), ("phone", "phone_e164"))}),
        (None, {"fields": ("first_name", "last_name", "tag_names")}),
        ("Persona", {"fields": (("birth_date", "age"), "gender", "marital_status")}),
        ("Household", {"fields": ("children_in_household", "household_income_band", "education_level")}),
        (
            "Place and language",
            {
                "fields": (
                    ("address_line1", "address_line2"),
                    ("city", "postal_code"),
                    ("region", "country"),
                    "language",
                )
            },
        ),
        ("Time zone", {"fields": ("timezone",)}),
        ("Customer", {"fields": ("customer_since", "orders_count", "total_spent", "last_purchase_at")}),
        ("Email consent", {"fields": ("email_consent", "email_consent_at", "email_consent_source")}),
        ("SMS consent", {"fields": ("sms_consent", "sms_consent_at", "sms_consent_source")}),
        ("Custom fields", {"fields": ("custom",)}),
        ("Record", {"fields": ("source", "created_at", "updated_at")}),
    )
    readonly_fields = (
        "email_normalized", "phone_e164", "email_consent_at", "email_consent_source", "sms_consent_at",
        "sms_consent_source", "source", "created_at", "updated_at",
    )  # fmt: skip

    def get_readonly_fields(self, request: HttpRequest, obj: Contact | None = None) -> Any:
        # Moving a contact to another workspace is not a data fix: erase it and create it there.
        return (*self.readonly_fields, "workspace") if obj else self.readonly_fields

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Contact], search_term: str
    ) -> tuple[QuerySet[Contact], bool]:
        return selectors.contact_search(queryset, text=search_term), False

    def save_model(self, request: HttpRequest, obj: Contact, form: Any, change: bool) -> None:
        if change:
            contact = services.contact_update(
                contact=Contact.objects.get(pk=obj.pk),
                values=form.contact_values,
                actor=request.user,  # type: ignore[arg-type]
                consent_source="Admin",
            )
        else:
            contact = services.contact_create(
                workspace=obj.workspace,
                values=form.contact_values,
                source=ContactSource.ADMIN,
                actor=request.user,  # type: ignore[arg-type]
                consent_source="Admin",
            )
        for field in Contact._meta.concrete_fields:  # the admin logs and redirects with `obj`
            setattr(obj, field.attname, getattr(contact, field.attname))
        obj._state.adding, obj._state.db = False, contact._state.db

    def delete_model(self, request: HttpRequest, obj: Contact) -> None:
        services.contact_erase(contact=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Contact]) -> None:
        services.contacts_erase(contacts=queryset)

    actions = ("export_csv_streamed",)

    @admin.action(description="Export selected contacts as CSV (streamed, any number of rows)")
    def export_csv_streamed(self, request: HttpRequest, queryset: QuerySet[Contact]) -> StreamingHttpResponse:
        """django-import-export builds its file in memory; this streams, for lists of any size."""
        keys = CustomField.objects.filter(workspace__in=queryset.values("workspace")).values_list(
            "key", flat=True
        )
        columns = ["workspace", *exporting.export_columns(sorted(set(keys)))]
        response = StreamingHttpResponse(
            exporting.csv_lines(queryset.select_related("workspace"), columns), content_type="text/csv"
        )
        response["Content-Disposition"] = f'attachment; filename="contacts-{timezone.now():%Y-%m-%d}.csv"'
        return response

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)
        entry = actions.get("delete_selected")
        if entry is not None:
            function, name, _ = entry
            description = "Erase selected contacts (GDPR: their addresses stay suppressed)"
            actions["delete_selected"] = (function, name, description)
        return actions


# ------------------------------------------------------------------------ tags and custom fields
@admin.register(Tag)
class TagAdmin(ServiceErrorsMixin, LargeListMixin, ImportValidRowsMixin):
    resource_classes = (TagResource,)
    list_display = ("name", "workspace", "colour", "description", "created_at")
    list_filter = ("workspace",)
    search_fields = ("name", "workspace__slug")
    list_select_related = ("workspace",)
    autocomplete_fields = ("workspace",)
    fields = ("workspace", "name", "colour", "description")

    def get_readonly_fields(self, request: HttpRequest, obj: Tag | None = None) -> Any:
        return ("workspace",) if obj else ()

    def save_model(self, request: HttpRequest, obj: Tag, form: Any, change: bool) -> None:
        if change:
            services.tag_update(
                tag=Tag.objects.get(pk=obj.pk), name=obj.name, colour=obj.colour, description=obj.description
            )
        else:
            saved = services.tag_create(
                workspace=obj.workspace, name=obj.name, colour=obj.colour, description=obj.description
            )
            obj.pk, obj._state.adding = saved.pk, False

    def delete_model(self, request: HttpRequest, obj: Tag) -> None:
        services.tag_delete(tag=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Tag]) -> None:
        for tag in queryset:
            services.tag_delete(tag=tag)


@admin.register(CustomField)
class CustomFieldAdmin(ServiceErrorsMixin, admin.ModelAdmin[CustomField]):
    list_display = ("label", "key", "field_type", "workspace", "created_at")
    list_filter = ("field_type", "workspace")
    search_fields = ("key", "label", "workspace__slug")
    list_select_related = ("workspace",)
    autocomplete_fields = ("workspace",)
    fields = ("workspace", "key", "label", "field_type", "choices")

    def get_readonly_fields(self, request: HttpRequest, obj: CustomField | None = None) -> Any:
        # Contacts store values under the key, typed by the type: both stay as created.
        return ("workspace", "key", "field_type") if obj else ()

    def save_model(self, request: HttpRequest, obj: CustomField, form: Any, change: bool) -> None:
        if change:
            # The stored row, not `obj`: the service compares the old choices with the new ones.
            stored = CustomField.objects.get(pk=obj.pk)
            services.custom_field_update(custom_field=stored, label=obj.label, choices=obj.choices or [])
        else:
            saved = services.custom_field_create(
                workspace=obj.workspace,
                key=obj.key,
                label=obj.label,
                field_type=obj.field_type,
                choices=obj.choices or [],
            )
            obj.pk, obj._state.adding = saved.pk, False

    def delete_model(self, request: HttpRequest, obj: CustomField) -> None:
        services.custom_field_delete(custom_field=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[CustomField]) -> None:
        for custom_field in queryset:
            services.custom_field_delete(custom_field=custom_field)


# ------------------------------------------------------------------------------- import presets
class ImportPresetAdminForm(forms.ModelForm[ImportPreset]):
    class Meta:
        model = ImportPreset
        fields = (
            "workspace",
            "name",
            "mapping",
            "mode",
            "tags",
            "tag_separator",
            "date_order",
            "decimal_comma",
        )
        help_texts = {
            "mapping": 'JSON: header -> target, e.g. {"E-Mail": "email", "Kundennummer": "custom.customer_no", '
            '"Notiz": ""}.',
            "tags": 'JSON list, e.g. ["shop"].',
        }

    def clean(self) -> dict[str, Any]:
        """The service's own check (targets, name unique in any case), errors on their fields."""
        cleaned = super().clean() or {}
        workspace = cleaned.get("workspace") if self.instance.pk is None else self.instance.workspace
        if workspace is None or self.errors:
            return cleaned
        values = presets.PresetValues(
            mapping=cleaned.get("mapping") or {},
            mode=cleaned.get("mode") or "",
            tags=cleaned.get("tags") or [],
            tag_separator=cleaned.get("tag_separator") or "",
            date_order=cleaned.get("date_order") or "",
            decimal_comma=cleaned.get("decimal_comma"),
        )
        if not isinstance(values.tags, list):
            self.add_error("tags", 'Give the tags as a JSON list, e.g. ["shop"].')
            return cleaned
        try:
            presets.import_preset_validate(
                workspace=workspace,
                name=cleaned.get("name") or "",
                values=values,
                preset=self.instance if self.instance.pk else None,
            )
        except ValidationError as error:
            for name, problems in error.message_dict.items():
                self.add_error(name if name in self.fields else None, problems)
        self.preset_values = values
        return cleaned


@admin.register(ImportPreset)
class ImportPresetAdmin(ServiceErrorsMixin, LargeListMixin, ImportValidRowsMixin):
    resource_classes = (ImportPresetResource,)
    form = ImportPresetAdminForm
    list_display = ("name", "workspace", "mode", "column_count", "created_by", "updated_at")
    list_filter = ("mode", "workspace")
    search_fields = ("name", "workspace__slug")
    list_select_related = ("workspace", "created_by")
    autocomplete_fields = ("workspace",)
    readonly_fields = ("created_by", "created_at", "updated_at")
    fields = (
        "workspace", "name", "mapping", "mode", "tags", "tag_separator", "date_order", "decimal_comma",
        "created_by", "created_at", "updated_at",
    )  # fmt: skip

    @admin.display(description="columns")
    def column_count(self, obj: ImportPreset) -> int:
        return len(obj.mapping or {})

    def get_readonly_fields(self, request: HttpRequest, obj: ImportPreset | None = None) -> Any:
        return ("workspace", *self.readonly_fields) if obj else self.readonly_fields

    def save_model(self, request: HttpRequest, obj: ImportPreset, form: Any, change: bool) -> None:
        values = form.preset_values
        if change:
            stored = ImportPreset.objects.get(pk=obj.pk)
            presets.import_preset_update(preset=stored, name=obj.name, values=values)
        else:
            saved = presets.import_preset_create(
                workspace=obj.workspace,
                name=obj.name,
                values=values,
                actor=request.user,  # type: ignore[arg-type]
            )
            obj.pk, obj._state.adding = saved.pk, False

    def delete_model(self, request: HttpRequest, obj: ImportPreset) -> None:
        presets.import_preset_delete(preset=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[ImportPreset]) -> None:
        for preset in queryset:
            presets.import_preset_delete(preset=preset)


# ------------------------------------------------------------------ read-only: history and lists
class ReadOnlyMixin(admin.ModelAdmin[Any]):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ConsentEvent)
class ConsentEventAdmin(ReadOnlyMixin, LargeListMixin):
    list_display = ("contact", "channel", "status", "source", "actor", "created_at")
    list_filter = ("channel", "status")
    list_select_related = ("contact", "actor")
    raw_id_fields = ("contact", "actor")
    search_fields = ("contact__email_normalized",)  # shows the box; get_search_results decides
    search_help_text = "The contact's email address (exact) or contact id."
    ordering = ("-id",)

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[ConsentEvent], search_term: str
    ) -> tuple[QuerySet[ConsentEvent], bool]:
        term = search_term.strip()
        if not term:
            return queryset, False
        if term.isdigit():
            return queryset.filter(contact_id=int(term)), False
        return queryset.filter(contact__email_normalized=term.lower()), False


def suppression_hashes(term: str) -> set[str]:
    """The stored hashes a typed address could have: the list holds hashes, never addresses."""
    text = term.strip()
    if re.fullmatch(r"[0-9a-fA-F]{64}", text):
        return {text.lower()}
    if "@" in text:
        try:
            return {address_hash(Channel.EMAIL, normalise_email(text))}
        except FieldError:
            return {address_hash(Channel.EMAIL, text.lower())}
    regions = set(Workspace.objects.values_list("default_phone_region", flat=True).distinct())
    hashes = set()
    for region in sorted(regions | {"DE"}):
        try:
            hashes.add(address_hash(Channel.SMS, normalise_phone(text, region=region)))
        except FieldError:
            continue
    return hashes


@admin.register(Suppression)
class SuppressionAdmin(ReadOnlyMixin, LargeListMixin):
    list_display = ("hash_prefix", "channel", "reason", "workspace", "created_at")
    list_filter = ("channel", "reason", "workspace")
    list_select_related = ("workspace",)
    search_fields = ("address_hash",)  # shows the box; get_search_results decides
    search_help_text = "A complete email address or phone number (it is hashed to look it up)."
    ordering = ("-id",)

    @admin.display(description="address hash", ordering="address_hash")
    def hash_prefix(self, obj: Suppression) -> str:
        return f"{obj.address_hash[:16]}…"

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Suppression], search_term: str
    ) -> tuple[QuerySet[Suppression], bool]:
        if not search_term.strip():
            return queryset, False
        return queryset.filter(address_hash__in=suppression_hashes(search_term)), False


# ------------------------------------------------------------------------------------- imports
@admin.register(ImportJob)
class ImportJobAdmin(ReadOnlyMixin, LargeListMixin):
    """Imports are run from the app, the API or `import_contacts`; here they are only inspected.
    The files stay private: the rejected-rows report is served by this admin, not as a media URL."""

    list_display = (
        "original_name", "status", "mode", "workspace", "created_count", "updated_count",
        "unchanged_count", "skipped_count", "error_count", "created_by", "created_at",
    )  # fmt: skip
    list_filter = ("status", "mode", "workspace")
    list_select_related = ("workspace", "created_by")
    search_fields = ("original_name",)
    ordering = ("-created_at", "-id")
    fieldsets = (
        (None, {"fields": ("workspace", "original_name", "size", "created_by", "created_at")}),
        ("File", {"fields": ("kind", "encoding", "delimiter", "headers", "mapping")}),
        ("Choices", {"fields": ("mode", "tags", "tag_separator", "date_order", "decimal_comma",
                                "consent_confirmed", "consent_source")}),
        ("Progress", {"fields": ("status", "total_rows", "rows_processed", "committed_rows",
                                 "cancel_requested", "started_at", "finished_at", "failure")}),
        ("Result", {"fields": ("created_count", "updated_count", "unchanged_count", "skipped_count",
                               "error_count", "errors", "rejected_rows")}),
    )  # fmt: skip

    @admin.display(description="rejected rows")
    def rejected_rows(self, obj: ImportJob) -> str:
        if not obj.report:
            return "None"
        url = reverse("admin:contacts_importjob_rejected", args=[obj.pk])
        return format_html('<a href="{}">Download the rejected rows (CSV)</a>', url)

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view(self.rejected_view)
        return [path("<int:job_id>/rejected/", view, name="contacts_importjob_rejected"), *super().get_urls()]

    def rejected_view(self, request: HttpRequest, job_id: int) -> FileResponse:
        job = ImportJob.objects.filter(pk=job_id).first()
        if job is None or not self.has_view_permission(request, job) or not job.report:
            raise Http404("No rejected rows.")
        # FileResponse closes the file when the response is done.
        return FileResponse(
            job.report.open("rb"),
            as_attachment=True,
            filename=Path(job.report.name).name,
            content_type="text/csv; charset=utf-8",
        )
