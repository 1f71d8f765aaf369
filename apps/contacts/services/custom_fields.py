"""Workspace-defined contact attributes, stored under `Contact.custom[key]`."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Func, JSONField, TextField, Value
from django.db.models.functions import Cast
from django.utils import timezone

from apps.contacts.choices import CustomFieldType
from apps.contacts.models import Contact, CustomField
from apps.workspaces.models import Workspace

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper
    from django.db.models.sql.compiler import SQLCompiler


def _clean_choices(field_type: str, choices: Iterable[str]) -> list[str]:
    if field_type != CustomFieldType.CHOICE:
        return []
    cleaned = list(dict.fromkeys(str(choice).strip() for choice in choices if str(choice).strip()))
    if not cleaned:
        raise ValidationError({"choices": "A choice field needs at least one choice."})
    if any(len(choice) > 80 for choice in cleaned):
        raise ValidationError({"choices": "Each choice has at most 80 characters."})
    return cleaned


@transaction.atomic
def custom_field_create(
    *, workspace: Workspace, key: str, label: str, field_type: str, choices: Sequence[str] = ()
) -> CustomField:
    """A workspace-defined contact attribute, stored under `Contact.custom[key]`."""
    custom_field = CustomField(
        workspace=workspace,
        key=key.strip(),
        label=label.strip(),
        field_type=field_type,
        choices=_clean_choices(field_type, choices),
    )
    if CustomField.objects.filter(workspace=workspace, key=custom_field.key).exists():
        raise ValidationError({"key": f"There already is a custom field with the key “{custom_field.key}”."})
    custom_field.full_clean(exclude=["workspace"], validate_constraints=False)
    custom_field.save()
    return custom_field


@transaction.atomic
def custom_field_update(
    *,
    custom_field: CustomField,
    label: str,
    choices: Sequence[str] = (),
    key: str | None = None,
    field_type: str | None = None,
) -> CustomField:
    """Relabel a custom field or change its choices. Key and type stay as created: contacts store
    their values under the key, typed by the type. A choice that contacts still hold stays."""
    errors: dict[str, str] = {}
    if key is not None and key.strip() != custom_field.key:
        errors["key"] = "The key cannot change: contacts store their values under it."
    if field_type is not None and field_type != custom_field.field_type:
        errors["field_type"] = "The type cannot change: delete the field and create it again."
    if errors:
        raise ValidationError(errors)
    cleaned = _clean_choices(custom_field.field_type, choices)
    removed = set(custom_field.choices or ()) - set(cleaned)
    held = (
        Contact.objects.filter(workspace_id=custom_field.workspace_id)
        .filter(**{f"custom__{custom_field.key}__in": sorted(removed)})
        .exists()
        if removed
        else False
    )
    if held:
        raise ValidationError(
            {"choices": f"Contacts still hold {', '.join(sorted(removed))}: change their values first."}
        )
    custom_field.label = label.strip()
    custom_field.choices = cleaned
    custom_field.full_clean(exclude=["workspace"], validate_constraints=False)
    custom_field.save(update_fields=["label", "choices", "updated_at"])
    return custom_field


class _JSONWithoutKey(Func):
    """A JSON column minus one top-level key, computed inside the UPDATE: JSON_REMOVE on SQLite
    (and MySQL), the jsonb `-` operator on PostgreSQL."""

    function = "JSON_REMOVE"
    output_field = JSONField()

    def __init__(self, field_name: str, *, key: str) -> None:
        super().__init__(F(field_name), Value(f'$."{key}"'))
        self.key = key

    def as_postgresql(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra_context: Any
    ) -> tuple[str, Sequence[Any]]:
        clone = self.copy()
        clone.set_source_expressions([self.get_source_expressions()[0], Cast(Value(self.key), TextField())])
        return Func.as_sql(
            clone, compiler, connection, template="(%(expressions)s)", arg_joiner=" - ", **extra_context
        )


@transaction.atomic
def custom_field_delete(*, custom_field: CustomField) -> int:
    """Delete a custom field and remove its key from every contact of the workspace in one statement
    (no personal data left behind that nobody can see or export). Returns the contacts changed."""
    changed = Contact.objects.filter(
        workspace_id=custom_field.workspace_id, custom__has_key=custom_field.key
    ).update(custom=_JSONWithoutKey("custom", key=custom_field.key), updated_at=timezone.now())
    custom_field.delete()
    return changed
