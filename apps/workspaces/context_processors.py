"""What the page shell needs everywhere: the current workspace, the caller's role, the switcher."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from apps.core.roles import Role
from apps.workspaces.navigation import nav_items
from apps.workspaces.selectors import workspaces_for_user


def workspace_shell(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    membership = getattr(request, "membership", None)
    workspace = getattr(request, "workspace", None)
    match = getattr(request, "resolver_match", None)
    return {
        "current_workspace": workspace,
        "workspace_nav": nav_items(
            workspace_slug=workspace.slug, current_view=match.view_name if match else None
        )
        if workspace
        else [],
        "current_membership": membership,
        "current_role_is_admin": bool(membership and Role(membership.role).includes(Role.ADMIN)),
        # Lazy: evaluated only when the template renders the switcher.
        "user_workspaces": workspaces_for_user(user=user).only("name", "slug"),
    }
