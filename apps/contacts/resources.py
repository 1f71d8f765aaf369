"""django-import-export resources for contacts, tags and import presets (the admin's CSV/XLSX import
and export).

Contact rows are cleaned by `cleaning.clean_contact_values` with the row workspace's rules and
written by `services.contacts_bulk_upsert`, like every other way in: one place for the rules. A bad
value becomes a row error naming its field; `email_normalized` and `phone_e164` are derived, never
read from the file. A row updates the contact with the same normalised email in the row's workspace
(else, for a row without email, the same phone number), as the bulk upsert matches; empty cells
never erase stored values, and tags are added, never removed.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Prefetch, QuerySet
from import_export import fields, resources, widgets
from import_export.widgets import ForeignKeyWidget

from apps.contacts import services
from apps.contacts.choices import ContactSource
from apps.contacts.cleaning import (
    EMPTY,
    FIELD_NAMES,
    ContactRules,
    FieldError,
    clean_contact_values,
    clean_tag_names,
    normalise_email,
    normalise_phone,
)
from apps.contacts.exporting import FORMULA_TRIGGERS, escape_cell
from apps.contacts.importing import presets
from apps.contacts.models import Contact, ImportPreset, Tag
from apps.workspaces.models import Workspace

EXPORT_CHUNK = 2000


class CellWidget(widgets.Widget):
    """Exports a contact value as the app's own CSV export writes it: ISO dates, JSON for custom
    fields, text escaped against spreadsheet formulas. Imports go through `clean_contact_values`."""

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> str:
        if value is None:
            return ""
        if isinstance(value, dt.date | dt.datetime):
            return value.isoformat()
        if isinstance(value, dict):
            return json.dumps(value, ensure_ascii=False) if value else ""
        if isinstance(value, Decimal | int):
            return str(value)
        return escape_cell(str(value))


def _cell(name: str) -> fields.Field:
    return fields.Field(attribute=name, column_name=name, widget=CellWidget())


def _unescape(value: Any) -> Any:
    """Undo the export's formula escaping, so an exported file imports unchanged."""
    if isinstance(value, str) and value.startswith("'") and value[1:2].startswith(FORMULA_TRIGGERS):
        return value[1:]
    return value


class ContactResource(resources.ModelResource):
    workspace = fields.Field(
        attribute="workspace", column_name="workspace", widget=ForeignKeyWidget(Workspace, field="slug")
    )
    email = _cell("email")
    phone = _cell("phone")
    first_name = _cell("first_name")
    last_name = _cell("last_name")
    birth_date = _cell("birth_date")
    age = _cell("age")
    gender = _cell("gender")
    marital_status = _cell("marital_status")
    children_in_household = _cell("children_in_household")
    address_line1 = _cell("address_line1")
    address_line2 = _cell("address_line2")
    city = _cell("city")
    region = _cell("region")
    country = _cell("country")
    postal_code = _cell("postal_code")
    household_income_band = _cell("household_income_band")
    education_level = _cell("education_level")
    customer_since = _cell("customer_since")
    orders_count = _cell("orders_count")
    total_spent = _cell("total_spent")
    last_purchase_at = _cell("last_purchase_at")
    language = _cell("language")
    timezone = _cell("timezone")
    email_consent = _cell("email_consent")
    sms_consent = _cell("sms_consent")
    tags = fields.Field(column_name="tags", widget=CellWidget())
    custom = _cell("custom")

    class Meta:
        model = Contact
        fields = ("workspace", *FIELD_NAMES)
        import_id_fields = ("workspace",)  # the match itself is by normalised email: get_instance
        clean_model_instances = False  # cleaned by clean_contact_values instead

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._workspaces: dict[str, Workspace | None] = {}
        self._rules: dict[int, ContactRules] = {}
        self._values: dict[int, dict[str, Any]] = {}  # raw values of the row being imported

    # -- import ---------------------------------------------------------------------------------
    def _workspace(self, row: dict[str, Any]) -> Workspace | None:
        slug = str(row.get("workspace") or "").strip()
        if slug not in self._workspaces:
            self._workspaces[slug] = Workspace.objects.filter(slug=slug).first() if slug else None
        return self._workspaces[slug]

    def _rules_for(self, workspace: Workspace) -> ContactRules:
        if workspace.id not in self._rules:
            self._rules[workspace.id] = services.contact_rules(workspace=workspace)
        return self._rules[workspace.id]

    @staticmethod
    def _raw_values(row: dict[str, Any]) -> dict[str, Any]:
        """The row's contact fields that have a value: empty cells leave stored values alone."""
        return {
            name: _unescape(row[name])
            for name in FIELD_NAMES
            if name in row and row[name] not in EMPTY and str(row[name]).strip() != ""
        }

    def get_instance(self, instance_loader: Any, row: dict[str, Any]) -> Contact | None:
        workspace = self._workspace(row)
        if workspace is None:
            return None
        values = self._raw_values(row)
        try:
            if values.get("email"):
                email = normalise_email(str(values["email"]))
                return Contact.objects.filter(workspace=workspace, email_normalized=email).first()
            if values.get("phone"):
                region = self._rules_for(workspace).phone_region
                phone = normalise_phone(str(values["phone"]), region=region)
                return Contact.objects.filter(workspace=workspace, phone_e164=phone).order_by("id").first()
        except FieldError:
            return None  # import_instance reports the bad value against its field
        return None

    def import_instance(self, instance: Contact, row: dict[str, Any], **kwargs: Any) -> None:
        workspace = self._workspace(row)
        if workspace is None:
            slug = row.get("workspace") or ""
            raise ValidationError({"workspace": f"There is no workspace with the slug “{slug}”."})
        values = self._raw_values(row)
        errors: dict[str, str] = {}
        if isinstance(values.get("custom"), str):
            try:
                values["custom"] = json.loads(values["custom"])
            except json.JSONDecodeError:
                errors["custom"] = 'Write custom fields as JSON, e.g. {"shoe_size": 42}.'
        valid = {name: value for name, value in values.items() if name not in errors}
        result = clean_contact_values(valid, rules=self._rules_for(workspace))
        errors |= result.errors
        if errors:
            raise ValidationError(errors)
        instance.workspace = workspace
        for name, value in result.values.items():
            if name not in {"tags", "custom", "email_consent", "sms_consent"}:
                setattr(instance, name, value)  # for the preview; the service does the write
        self._values[id(instance)] = values

    def save_instance(self, instance: Contact, is_create: bool, row: dict[str, Any], **kwargs: Any) -> None:
        if self._is_dry_run(kwargs) and not self._is_using_transactions(kwargs):
            return  # no transaction to roll the preview back: write nothing
        (outcome,) = services.contacts_bulk_upsert(
            workspace=instance.workspace,
            rows=[self._values.pop(id(instance))],
            source=ContactSource.ADMIN,
            actor=kwargs.get("user"),
        )
        if outcome.status == "error":
            raise ValidationError(outcome.errors)
        instance.pk = outcome.id
        instance._state.adding = False

    # -- export ---------------------------------------------------------------------------------
    def filter_export(self, queryset: QuerySet[Contact], **kwargs: Any) -> QuerySet[Contact]:
        return queryset.select_related("workspace").prefetch_related(
            Prefetch("tags", queryset=Tag.objects.order_by("name"))
        )

    def iter_queryset(self, queryset: QuerySet[Contact]) -> Iterator[Contact]:
        # Django's iterator() prefetches per chunk; import-export's fallback pages with OFFSET.
        yield from queryset.iterator(chunk_size=EXPORT_CHUNK)

    def dehydrate_tags(self, contact: Contact) -> str:
        if contact.pk is None:  # the import preview of a new row: tags are linked when it is saved
            return ""
        return escape_cell(", ".join(tag.name for tag in contact.tags.all()))


class TagResource(resources.ModelResource):
    workspace = fields.Field(
        attribute="workspace", column_name="workspace", widget=ForeignKeyWidget(Workspace, field="slug")
    )

    class Meta:
        model = Tag
        fields = ("workspace", "name", "colour", "description")
        import_id_fields = ("workspace", "name")
        clean_model_instances = True
        skip_unchanged = True
        report_skipped = True

    def get_instance(self, instance_loader: Any, row: dict[str, Any]) -> Tag | None:
        """Tag names are unique per workspace whatever their case: match them that way."""
        name = str(row.get("name") or "").strip()
        slug = str(row.get("workspace") or "").strip()
        if not name or not slug:
            return None
        return Tag.objects.filter(workspace__slug=slug, name__iexact=name).first()

    def import_instance(self, instance: Tag, row: dict[str, Any], **kwargs: Any) -> None:
        errors: dict[str, Any] = {}
        try:
            super().import_instance(instance, row, **kwargs)
        except ValidationError as error:
            errors = error.update_error_dict(errors)
        except Workspace.DoesNotExist:
            errors["workspace"] = f"There is no workspace with the slug “{row.get('workspace') or ''}”."
        try:
            names = clean_tag_names([row.get("name") or ""])
        except FieldError as error:
            errors["name"] = str(error)
        else:
            if not names:
                errors["name"] = "A tag needs a name."
            else:
                instance.name = names[0]
        if errors:
            raise ValidationError(errors)

    def do_instance_save(self, instance: Tag, is_create: bool) -> None:
        """Through the tag services, like the app's tag page (names unique in any case)."""
        if is_create:
            instance.pk = services.tag_create(
                workspace=instance.workspace,
                name=instance.name,
                colour=instance.colour,
                description=instance.description,
            ).pk
            instance._state.adding = False
        else:
            services.tag_update(
                tag=instance, name=instance.name, colour=instance.colour, description=instance.description
            )


class ImportPresetResource(resources.ModelResource):
    """Presets move between workspaces (or installations) as rows: workspace slug, name, the mapping
    as a JSON object, tags separated by commas. Rows are checked and written by the preset services,
    so a mapping naming a custom field the row's workspace lacks is a row error."""

    workspace = fields.Field(
        attribute="workspace", column_name="workspace", widget=ForeignKeyWidget(Workspace, field="slug")
    )
    mapping = fields.Field(attribute="mapping", column_name="mapping", widget=widgets.JSONWidget())
    tags = fields.Field(attribute="tags", column_name="tags", widget=widgets.SimpleArrayWidget(separator=","))

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
        import_id_fields = ("workspace", "name")
        clean_model_instances = False  # checked by presets.import_preset_validate instead
        skip_unchanged = True
        report_skipped = True

    def get_instance(self, instance_loader: Any, row: dict[str, Any]) -> ImportPreset | None:
        """Preset names are unique per workspace whatever their case: match them that way."""
        workspace = Workspace.objects.filter(slug=str(row.get("workspace") or "").strip()).first()
        if workspace is None or not str(row.get("name") or "").strip():
            return None
        return presets.import_preset_by_name(workspace=workspace, name=str(row["name"]))

    def import_instance(self, instance: ImportPreset, row: dict[str, Any], **kwargs: Any) -> None:
        errors: dict[str, Any] = {}
        try:
            super().import_instance(instance, row, **kwargs)
        except ValidationError as error:
            errors = error.update_error_dict(errors)
        except Workspace.DoesNotExist:
            errors["workspace"] = f"There is no workspace with the slug “{row.get('workspace') or ''}”."
        if not errors:
            try:
                instance.name, _values = presets.import_preset_validate(
                    workspace=instance.workspace,
                    name=instance.name,
                    values=presets.preset_values(instance),
                    preset=instance if instance.pk else None,
                )
            except ValidationError as error:
                errors = error.update_error_dict(errors)
        if errors:
            raise ValidationError(errors)

    def do_instance_save(self, instance: ImportPreset, is_create: bool) -> None:
        values = presets.preset_values(instance)
        if is_create:
            saved = presets.import_preset_create(
                workspace=instance.workspace, name=instance.name, values=values
            )
            instance.pk, instance._state.adding = saved.pk, False
        else:
            presets.import_preset_update(preset=instance, name=instance.name, values=values)
