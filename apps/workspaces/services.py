"""Writes and business rules for workspaces, teams and memberships.

Invitations live in `invitations.py`, API tokens in `tokens.py`: each stays small and testable.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction

from apps.core.roles import Role
from apps.workspaces.models import Membership, Team, TeamKind, Workspace
from apps.workspaces.tokens import api_tokens_revoke_for_user

if TYPE_CHECKING:
    from apps.accounts.models import User

STANDARD_TEAMS: tuple[tuple[TeamKind, str], ...] = (
    (TeamKind.PRODUCT, "Product"),
    (TeamKind.SALES, "Sales"),
    (TeamKind.SUPPORT, "Support"),
    (TeamKind.MARKETING, "Marketing"),
)


@transaction.atomic
def workspace_create(
    *,
    name: str,
    slug: str,
    owner: User,
    time_zone: str = "UTC",
    with_standard_teams: bool = True,
) -> Workspace:
    """A new company workspace; its creator is its first admin, and the four usual teams exist."""
    if Workspace.objects.filter(slug=slug).exists():
        raise ValidationError({"slug": f"The slug “{slug}” is already taken."})
    workspace = Workspace(name=name, slug=slug, time_zone=time_zone)
    workspace.full_clean()
    workspace.save()
    if with_standard_teams:
        Team.objects.bulk_create(
            Team(workspace=workspace, kind=kind, name=team_name) for kind, team_name in STANDARD_TEAMS
        )
    Membership.objects.create(workspace=workspace, user=owner, role=Role.ADMIN)
    return workspace


def workspace_update(*, workspace: Workspace, **fields: str) -> Workspace:
    allowed = {
        "name",
        "time_zone",
        "default_phone_region",
        "currency",
        "default_sender_name",
        "default_sender_email",
        "postal_address",
        "contact_pressure_limit",
        "contact_pressure_days",
    }
    unknown = set(fields) - allowed
    if unknown:
        raise ValidationError(f"These workspace fields cannot be changed: {', '.join(sorted(unknown))}.")
    for field, value in fields.items():
        setattr(workspace, field, value)
    workspace.full_clean(exclude=["slug"])
    workspace.save(update_fields=[*fields, "updated_at"])
    return workspace


def _check_team_name_free(*, workspace: Workspace, name: str, exclude_id: int | None = None) -> None:
    clash = Team.objects.filter(workspace=workspace, name__iexact=name.strip())
    if exclude_id is not None:
        clash = clash.exclude(id=exclude_id)
    if clash.exists():
        raise ValidationError({"name": f"A team called “{name.strip()}” already exists."})


def team_create(
    *, workspace: Workspace, name: str, kind: str = TeamKind.CUSTOM, description: str = ""
) -> Team:
    _check_team_name_free(workspace=workspace, name=name)
    team = Team(workspace=workspace, name=name.strip(), kind=kind, description=description)
    team.full_clean(exclude=["workspace"])
    team.save()
    return team


def team_update(*, team: Team, name: str, kind: str, description: str = "") -> Team:
    _check_team_name_free(workspace=team.workspace, name=name, exclude_id=team.id)
    team.name, team.kind, team.description = name.strip(), kind, description
    team.full_clean(exclude=["workspace"])
    team.save(update_fields=["name", "kind", "description", "updated_at"])
    return team


def team_delete(*, team: Team) -> None:
    """Members of a deleted team stay in the workspace, without a team."""
    team.delete()


def _other_admins_exist(membership: Membership) -> bool:
    return (
        Membership.objects.filter(workspace_id=membership.workspace_id, role=Role.ADMIN)
        .exclude(id=membership.id)
        .exists()
    )


@transaction.atomic
def membership_update(*, membership: Membership, role: str, team: Team | None) -> Membership:
    """Change a member's role or team; a workspace always keeps at least one admin."""
    if team is not None and team.workspace_id != membership.workspace_id:
        raise ValidationError({"team": "That team belongs to another workspace."})
    # Lock the admins of this workspace so two concurrent demotions cannot both pass the check.
    list(Membership.objects.select_for_update().filter(workspace_id=membership.workspace_id, role=Role.ADMIN))
    if membership.role == Role.ADMIN and role != Role.ADMIN and not _other_admins_exist(membership):
        raise ValidationError({"role": "A workspace needs at least one admin: promote someone else first."})
    membership.role, membership.team = role, team
    membership.full_clean(exclude=["workspace", "user"])
    membership.save(update_fields=["role", "team", "updated_at"])
    return membership


@transaction.atomic
def membership_remove(*, membership: Membership) -> None:
    """Remove someone from a workspace. The API tokens they created there stop working with them."""
    list(Membership.objects.select_for_update().filter(workspace_id=membership.workspace_id, role=Role.ADMIN))
    if membership.role == Role.ADMIN and not _other_admins_exist(membership):
        raise ValidationError("A workspace needs at least one admin: promote someone else first.")
    api_tokens_revoke_for_user(workspace=membership.workspace, user=membership.user)
    membership.delete()


def membership_add(*, workspace: Workspace, user: User, role: str, team: Team | None = None) -> Membership:
    """Add a user, or raise their role if they already belong (never lowers an existing role)."""
    membership, created = Membership.objects.get_or_create(
        workspace=workspace, user=user, defaults={"role": role, "team": team}
    )
    if created:
        return membership
    changed: list[str] = []
    if Role(role).rank > Role(membership.role).rank:
        membership.role = role
        changed.append("role")
    if membership.team_id is None and team is not None:
        membership.team = team
        changed.append("team")
    if changed:
        membership.save(update_fields=[*changed, "updated_at"])
    return membership
