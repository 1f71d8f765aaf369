"""Which workspace an API request acts in, and whether the caller's role allows the action.

A token acts in its own workspace with its own role. A browser session picks the workspace with the
`X-Workspace` header (a slug), else the one last opened in the browser, else the only one it has.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404
from rest_framework import exceptions, permissions
from rest_framework.request import Request

from apps.core.roles import Role
from apps.workspaces.models import ApiToken, Membership, Workspace

WORKSPACE_HEADER = "HTTP_X_WORKSPACE"
SESSION_WORKSPACE_KEY = "workspace_slug"


def _session_membership(request: Request) -> Membership:
    memberships = Membership.objects.select_related("workspace").filter(user=request.user)
    slug = request.META.get(WORKSPACE_HEADER) or request.session.get(SESSION_WORKSPACE_KEY)
    if slug:
        membership = memberships.filter(workspace__slug=slug).first()
        if membership is None:
            raise Http404("No such workspace.")
        return membership
    found = list(memberships[:2])
    if len(found) == 1:
        return found[0]
    raise exceptions.ValidationError(
        {"workspace": ["Name the workspace with the X-Workspace header (its slug)."]}
        if found
        else {"workspace": ["You are not a member of any workspace."]}
    )


def resolve_workspace(request: Request) -> tuple[Workspace, Role]:
    """Resolve once per request and remember it on the request."""
    if hasattr(request, "workspace_role"):
        return request.workspace, request.workspace_role
    if isinstance(request.auth, ApiToken):
        workspace, role = request.auth.workspace, Role(request.auth.role)
    else:
        membership = _session_membership(request)
        workspace, role = membership.workspace, Role(membership.role)
    request.workspace, request.workspace_role = workspace, role
    return workspace, role


class HasWorkspaceRole(permissions.BasePermission):
    """Reads need `viewer`, writes `editor`, unless the view raises them.

    A view may set `read_role`, `write_role`, or `action_roles = {"revoke": Role.ADMIN}`.
    """

    message = "Your role in this workspace does not allow this."

    def has_permission(self, request: Request, view: Any) -> bool:
        if not request.user or not request.user.is_authenticated:
            return False
        _, role = resolve_workspace(request)
        return role.includes(self.required_role(request, view))

    @staticmethod
    def required_role(request: Request, view: Any) -> Role:
        action_roles: dict[str, Role] = getattr(view, "action_roles", {})
        action = getattr(view, "action", None)
        if action in action_roles:
            return action_roles[action]
        if request.method in permissions.SAFE_METHODS:
            return getattr(view, "read_role", Role.VIEWER)  # type: ignore[no-any-return]
        return getattr(view, "write_role", Role.EDITOR)  # type: ignore[no-any-return]
