"""Which workspace an API request acts in, and whether the caller's role allows the action.

A token acts in its own workspace with its own role. A browser session picks the workspace with the
`X-Workspace` header (a slug), else the one last opened in the browser, else the only one it has.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import Http404
from rest_framework import exceptions, permissions
from rest_framework.request import Request

from apps.accounts.models import User
from apps.core.roles import Role
from apps.workspaces.models import Membership, Workspace
from apps.workspaces.tokens import AuthenticatedToken

WORKSPACE_HEADER = "HTTP_X_WORKSPACE"
SESSION_WORKSPACE_KEY = "workspace_slug"


def _session_membership(request: Request) -> Membership:
    memberships = Membership.objects.select_related("workspace").filter(user=api_user(request))
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


@dataclass(frozen=True)
class ApiContext:
    workspace: Workspace
    role: Role


_CONTEXT_ATTRIBUTE = "_ensemble_api_context"


def api_user(request: Request) -> User:
    """The authenticated person behind a request (for a token: whoever created it)."""
    if not isinstance(request.user, User):
        raise exceptions.NotAuthenticated()
    return request.user


def api_context(request: Request) -> ApiContext:
    """The workspace and role an API request acts with; resolved once and kept on the request."""
    cached: ApiContext | None = getattr(request, _CONTEXT_ATTRIBUTE, None)
    if cached is not None:
        return cached
    if isinstance(request.auth, AuthenticatedToken):
        context = ApiContext(workspace=request.auth.token.workspace, role=request.auth.role)
    else:
        membership = _session_membership(request)
        context = ApiContext(workspace=membership.workspace, role=Role(membership.role))
    setattr(request, _CONTEXT_ATTRIBUTE, context)
    return context


class HasWorkspaceRole(permissions.BasePermission):
    """Reads need `viewer`, writes `editor`, unless the view raises them.

    A view may set `read_role`, `write_role`, or `action_roles = {"revoke": Role.ADMIN}`.
    """

    message = "Your role in this workspace does not allow this."

    def has_permission(self, request: Request, view: Any) -> bool:
        if not request.user or not request.user.is_authenticated:
            return False
        return api_context(request).role.includes(self.required_role(request, view))

    @staticmethod
    def required_role(request: Request, view: Any) -> Role:
        action_roles: dict[str, Role] = getattr(view, "action_roles", {})
        action = getattr(view, "action", None)
        if action in action_roles:
            return action_roles[action]
        if request.method in permissions.SAFE_METHODS:
            return Role(getattr(view, "read_role", Role.VIEWER))
        return Role(getattr(view, "write_role", Role.EDITOR))
