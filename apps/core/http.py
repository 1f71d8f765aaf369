"""Typed requests and the htmx rendering rule shared by every page."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

if TYPE_CHECKING:
    from django_htmx.middleware import HtmxDetails

    from apps.accounts.models import User
    from apps.workspaces.models import Membership, Workspace


class AuthenticatedHttpRequest(HttpRequest):
    user: User
    htmx: HtmxDetails


class WorkspaceHttpRequest(AuthenticatedHttpRequest):
    """A request inside `/w/<slug>/`: the workspace and the caller's membership are resolved."""

    workspace: Workspace
    membership: Membership


def render_page(
    request: HttpRequest,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    partial: str | None = None,
    status: int = 200,
) -> HttpResponse:
    """Full page on a normal request; the named partial (`template#partial`) on an htmx request."""
    name = f"{template}#{partial}" if partial and getattr(request, "htmx", False) else template
    return render(request, name, context or {}, status=status)
