"""Reads for workspaces. Every function is scoped: to a user's memberships or to one workspace."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Count, QuerySet
from django.http import Http404

from apps.core.scoping import get_scoped_or_404, scoped
from apps.workspaces.models import ApiToken, Invitation, Membership, Team, Workspace, pending_invitation

if TYPE_CHECKING:
    from apps.accounts.models import User


def workspaces_for_user(*, user: User) -> QuerySet[Workspace]:
    return Workspace.objects.filter(memberships__user=user).order_by("name")


def membership_for_user(*, user: User, workspace_slug: str) -> Membership:
    """The caller's membership in a workspace, or 404: non-members cannot tell it exists."""
    membership = (
        Membership.objects.select_related("workspace", "team")
        .filter(user=user, workspace__slug=workspace_slug)
        .first()
    )
    if membership is None:
        raise Http404("No such workspace.")
    return membership


def team_list(*, workspace: Workspace) -> QuerySet[Team]:
    # Meta.ordering does not apply to GROUP BY queries, so the order is spelled out.
    return (
        scoped(Team.objects.all(), workspace=workspace)
        .annotate(member_count=Count("memberships"))
        .order_by("name", "id")
    )


def team_get(*, workspace: Workspace, team_id: int) -> Team:
    return get_scoped_or_404(Team.objects.all(), workspace=workspace, id=team_id)


def membership_list(*, workspace: Workspace) -> QuerySet[Membership]:
    return scoped(Membership.objects.select_related("user", "team"), workspace=workspace).order_by(
        "user__email"
    )


def membership_get(*, workspace: Workspace, membership_id: int) -> Membership:
    return get_scoped_or_404(
        Membership.objects.select_related("user", "team", "workspace"), workspace=workspace, id=membership_id
    )


def invitation_list(*, workspace: Workspace, pending_only: bool = True) -> QuerySet[Invitation]:
    invitations = scoped(Invitation.objects.select_related("team", "invited_by"), workspace=workspace)
    return invitations.filter(pending_invitation()) if pending_only else invitations


def invitation_get(*, workspace: Workspace, invitation_id: int) -> Invitation:
    return get_scoped_or_404(
        Invitation.objects.select_related("team", "workspace", "invited_by"),
        workspace=workspace,
        id=invitation_id,
    )


def api_token_list(*, workspace: Workspace) -> QuerySet[ApiToken]:
    return scoped(ApiToken.objects.select_related("created_by"), workspace=workspace)


def api_token_get(*, workspace: Workspace, token_id: int) -> ApiToken:
    return get_scoped_or_404(ApiToken.objects.select_related("workspace"), workspace=workspace, id=token_id)
