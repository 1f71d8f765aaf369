"""What the segment pages share."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from apps.contacts import selectors as contact_selectors
from apps.core.http import WorkspaceHttpRequest
from apps.core.roles import Role
from apps.segments.fields import FieldSpec, field_specs


def can(request: WorkspaceHttpRequest, role: Role) -> bool:
    return Role(request.membership.role).includes(role)


def url(request: WorkspaceHttpRequest, name: str, **kwargs: Any) -> str:
    return reverse(f"segments:{name}", kwargs={"workspace_slug": request.workspace.slug, **kwargs})


def workspace_specs(request: WorkspaceHttpRequest) -> dict[str, FieldSpec]:
    """Every field a condition can name here, the workspace's custom fields included (one query)."""
    return dict(field_specs(contact_selectors.custom_field_list(workspace=request.workspace)))


def share(count: int, total: int) -> str:
    """A share of all contacts for people: "12.5%", "<0.1%", "0%"."""
    if not total or not count:
        return "0%"
    percent = 100 * count / total
    return "<0.1%" if percent < 0.1 else f"{percent:.1f}%".replace(".0%", "%")
