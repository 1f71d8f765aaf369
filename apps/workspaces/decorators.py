"""`workspace_view`: the single entry for every page under `/w/<slug>/`."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

from apps.core.roles import Role
from apps.workspaces.permissions import SESSION_WORKSPACE_KEY
from apps.workspaces.selectors import membership_for_user

View = Callable[..., HttpResponse]


def workspace_view(min_role: Role = Role.VIEWER) -> Callable[[View], View]:
    """Resolve the workspace from the URL for a member (else 404) and require a role (else 403).

    Sets `request.workspace` and `request.membership`; remembers the workspace as the one the
    browser works in, so the API and the home page follow it.
    """

    def decorator(view: View) -> View:
        @login_required
        @wraps(view)
        def wrapper(request: HttpRequest, workspace_slug: str, *args: Any, **kwargs: Any) -> HttpResponse:
            membership = membership_for_user(user=request.user, workspace_slug=workspace_slug)  # type: ignore[arg-type]
            if not Role(membership.role).includes(min_role):
                raise PermissionDenied(f"This page needs the {min_role.label} role.")
            request.workspace = membership.workspace  # type: ignore[attr-defined]
            request.membership = membership  # type: ignore[attr-defined]
            if request.session.get(SESSION_WORKSPACE_KEY) != workspace_slug:
                request.session[SESSION_WORKSPACE_KEY] = workspace_slug
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
