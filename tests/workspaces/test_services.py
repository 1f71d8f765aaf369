from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from apps.core.roles import Role
from apps.workspaces import services
from apps.workspaces.models import Membership, Team, TeamKind, Workspace
from tests.conftest import Cast
from tests.factories import MembershipFactory, TeamFactory, UserFactory, issue_token

pytestmark = pytest.mark.django_db


def test_workspace_create_makes_the_creator_admin_and_adds_the_four_usual_teams() -> None:
    owner = UserFactory()

    workspace = services.workspace_create(name="Acme Outdoor", slug="acme", owner=owner)

    assert Membership.objects.get(workspace=workspace, user=owner).role == Role.ADMIN
    assert sorted(Team.objects.filter(workspace=workspace).values_list("kind", flat=True)) == sorted(
        [TeamKind.PRODUCT, TeamKind.SALES, TeamKind.SUPPORT, TeamKind.MARKETING]
    )


def test_workspace_create_rejects_a_taken_slug(cast: Cast) -> None:
    with pytest.raises(ValidationError) as error:
        services.workspace_create(name="Copy", slug="acme", owner=UserFactory())

    assert "already taken" in str(error.value.message_dict["slug"])


def test_workspace_create_rejects_an_unknown_time_zone() -> None:
    with pytest.raises(ValidationError) as error:
        services.workspace_create(name="Acme", slug="acme-2", owner=UserFactory(), time_zone="Mars/Olympus")

    assert "time_zone" in error.value.message_dict
    assert not Workspace.objects.filter(slug="acme-2").exists()


def test_workspace_update_changes_only_the_allowed_fields(cast: Cast) -> None:
    with pytest.raises(ValidationError):
        services.workspace_update(workspace=cast.workspace, slug="stolen")

    services.workspace_update(workspace=cast.workspace, postal_address="Bergstraße 12, München")

    cast.workspace.refresh_from_db()
    assert cast.workspace.slug == "acme"
    assert cast.workspace.postal_address == "Bergstraße 12, München"


def test_team_names_are_unique_per_workspace_ignoring_case(cast: Cast) -> None:
    services.team_create(workspace=cast.workspace, name="Field sales")

    with pytest.raises(ValidationError):
        services.team_create(workspace=cast.workspace, name="  field SALES ")
    services.team_create(workspace=cast.other_workspace, name="Field sales")  # another company may


def test_deleting_a_team_keeps_its_members_in_the_workspace(cast: Cast) -> None:
    team = TeamFactory(workspace=cast.workspace)
    services.membership_update(membership=cast.member_membership, role=Role.EDITOR, team=team)

    services.team_delete(team=team)

    cast.member_membership.refresh_from_db()
    assert cast.member_membership.team is None


def test_membership_update_refuses_to_demote_the_last_admin(cast: Cast) -> None:
    with pytest.raises(ValidationError) as error:
        services.membership_update(membership=cast.owner_membership, role=Role.EDITOR, team=None)

    assert "at least one admin" in str(error.value)
    cast.owner_membership.refresh_from_db()
    assert cast.owner_membership.role == Role.ADMIN


def test_membership_update_allows_demoting_an_admin_when_another_remains(cast: Cast) -> None:
    services.membership_update(membership=cast.member_membership, role=Role.ADMIN, team=None)

    services.membership_update(membership=cast.owner_membership, role=Role.VIEWER, team=None)

    cast.owner_membership.refresh_from_db()
    assert cast.owner_membership.role == Role.VIEWER


def test_membership_update_rejects_a_team_of_another_workspace(cast: Cast) -> None:
    foreign_team = TeamFactory(workspace=cast.other_workspace)

    with pytest.raises(ValidationError):
        services.membership_update(membership=cast.member_membership, role=Role.EDITOR, team=foreign_team)


def test_membership_remove_refuses_to_remove_the_last_admin(cast: Cast) -> None:
    with pytest.raises(ValidationError):
        services.membership_remove(membership=cast.owner_membership)

    assert Membership.objects.filter(id=cast.owner_membership.id).exists()


def test_membership_remove_revokes_the_api_tokens_the_member_created(cast: Cast) -> None:
    token, _ = issue_token(membership=cast.member_membership)

    services.membership_remove(membership=cast.member_membership)

    token.refresh_from_db()
    assert token.revoked_at is not None


def test_membership_add_never_lowers_an_existing_role(cast: Cast) -> None:
    membership = services.membership_add(workspace=cast.workspace, user=cast.owner, role=Role.VIEWER)

    assert membership.role == Role.ADMIN


def test_roles_are_ordered_viewer_editor_approver_admin() -> None:
    assert Role.ADMIN.includes(Role.APPROVER)
    assert Role.APPROVER.includes(Role.EDITOR)
    assert Role.EDITOR.includes(Role.VIEWER)
    assert not Role.VIEWER.includes(Role.EDITOR)
    assert not Role.EDITOR.includes(Role.APPROVER)


def test_a_user_may_belong_to_several_workspaces(cast: Cast) -> None:
    MembershipFactory(workspace=cast.other_workspace, user=cast.owner, role=Role.VIEWER)

    assert set(cast.owner.memberships.values_list("workspace__slug", flat=True)) == {"acme", "rival"}
