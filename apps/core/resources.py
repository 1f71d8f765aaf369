"""What the admin's import/export resources share: rows name their workspace by slug."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.db.models import Model

from apps.workspaces.models import Workspace

M = TypeVar("M", bound=Model)


def instance_by_name(model: type[M], row: dict[str, Any]) -> M | None:
    """The row's object when names are unique per workspace whatever their case."""
    name, slug = str(row.get("name") or "").strip(), str(row.get("workspace") or "").strip()
    if not name or not slug:
        return None
    return model._default_manager.filter(workspace__slug=slug, name__iexact=name).first()


def import_errors(import_instance: Callable[[], None], row: dict[str, Any]) -> dict[str, Any]:
    """Run the resource's own `import_instance`; its errors by field, the workspace named by slug."""
    errors: dict[str, Any] = {}
    try:
        import_instance()
    except ValidationError as error:
        errors = error.update_error_dict(errors)
    except Workspace.DoesNotExist:
        errors["workspace"] = f"There is no workspace with the slug “{row.get('workspace') or ''}”."
    return errors
