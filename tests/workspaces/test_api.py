from __future__ import annotations

from unittest import mock

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from rest_framework.test import APIClient
from rest_framework.throttling import UserRateThrottle

from apps.core.roles import Role
from apps.workspaces import tokens
from apps.workspaces.models import ApiToken, Invitation, Membership, Team
from tests.conftest import Cast
from tests.factories import MembershipFactory, TeamFactory, issue_token

pytestmark = pytest.mark.django_db


def _client_with(key: str, keyword: str = "Bearer") -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"{keyword} {key}")
    return client


def test_a_token_authenticates_with_bearer_or_token_keyword(cast: Cast) -> None:
    _, key = issue_token(membership=cast.member_membership)

    for keyword in ("Bearer", "Token"):
        response = _client_with(key, keyword).get("/api/v1/workspace/")
        assert response.status_code == 200
        assert response.json()["slug"] == "acme"


def test_a_wrong_key_gets_401_in_the_error_format(cast: Cast) -> None:
    response = _client_with("ens_deadbeef_not-a-real-key").get("/api/v1/teams/")

    assert response.status_code == 401
    assert response.json() == {
        "error": {"code": "authentication_failed", "message": "Invalid or revoked API key.", "fields": {}}
    }
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_revoked_token_stops_working_at_once(owner_api: APIClient, cast: Cast) -> None:
    token, key = issue_token(membership=cast.member_membership)

    owner_api.post(f"/api/v1/tokens/{token.id}/revoke/")

    assert _client_with(key).get("/api/v1/teams/").status_code == 401


def test_using_a_token_records_when_it_was_last_used(cast: Cast) -> None:
    token, key = issue_token(membership=cast.member_membership)

    _client_with(key).get("/api/v1/teams/")

    token.refresh_from_db()
    assert token.last_used_at is not None


def test_a_viewer_token_reads_but_cannot_write(cast: Cast) -> None:
    _, key = issue_token(membership=cast.member_membership, role=Role.VIEWER)
    client = _client_with(key)

    assert client.get("/api/v1/teams/").status_code == 200
    response = client.post("/api/v1/teams/", {"name": "Growth"})
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"


def test_admins_update_the_current_workspace_editors_cannot(
    owner_api: APIClient, member_api: APIClient, cast: Cast
) -> None:
    assert member_api.patch("/api/v1/workspace/", {"name": "Hacked"}).status_code == 403

    response = owner_api.patch(
        "/api/v1/workspace/", {"postal_address": "Bergstraße 12, München", "slug": "x"}
    )

    assert response.status_code == 200
    assert response.json()["postal_address"] == "Bergstraße 12, München"
    assert response.json()["slug"] == "acme"


def test_workspace_update_rejects_an_unknown_time_zone_naming_the_field(
    owner_api: APIClient, cast: Cast
) -> None:
    response = owner_api.patch("/api/v1/workspace/", {"time_zone": "Mars/Olympus"})

    assert response.status_code == 400
    assert "time_zone" in response.json()["error"]["fields"]


def test_teams_list_is_paginated_with_member_counts(owner_api: APIClient, cast: Cast) -> None:
    team = TeamFactory(workspace=cast.workspace, name="Marketing")
    MembershipFactory(workspace=cast.workspace, team=team)

    body = owner_api.get("/api/v1/teams/").json()

    assert set(body) == {"count", "next", "previous", "results"}
    assert body["results"][0]["name"] == "Marketing"
    assert body["results"][0]["member_count"] == 1


def test_creating_a_team_with_a_taken_name_names_the_field(owner_api: APIClient, cast: Cast) -> None:
    owner_api.post("/api/v1/teams/", {"name": "Growth", "kind": "custom"})

    response = owner_api.post("/api/v1/teams/", {"name": "growth"})

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"name": ["A team called “growth” already exists."]}


def test_renaming_and_deleting_a_team(owner_api: APIClient, cast: Cast) -> None:
    team_id = owner_api.post("/api/v1/teams/", {"name": "Growth"}).json()["id"]

    assert owner_api.patch(f"/api/v1/teams/{team_id}/", {"name": "Growth marketing"}).json()["name"] == (
        "Growth marketing"
    )
    assert owner_api.delete(f"/api/v1/teams/{team_id}/").status_code == 204
    assert not Team.objects.filter(id=team_id).exists()


def test_admin_changes_a_members_role_and_team(owner_api: APIClient, cast: Cast) -> None:
    team = TeamFactory(workspace=cast.workspace)

    response = owner_api.patch(
        f"/api/v1/memberships/{cast.member_membership.id}/", {"role": "approver", "team": team.id}
    )

    assert response.status_code == 200
    assert (response.json()["role"], response.json()["team"]) == ("approver", team.id)


def test_a_member_cannot_be_moved_into_another_workspaces_team(owner_api: APIClient, cast: Cast) -> None:
    foreign = TeamFactory(workspace=cast.other_workspace)

    response = owner_api.patch(f"/api/v1/memberships/{cast.member_membership.id}/", {"team": foreign.id})

    assert response.status_code == 400
    assert "team" in response.json()["error"]["fields"]


def test_the_last_admin_cannot_be_demoted_through_the_api(owner_api: APIClient, cast: Cast) -> None:
    response = owner_api.patch(f"/api/v1/memberships/{cast.owner_membership.id}/", {"role": "viewer"})

    assert response.status_code == 400
    assert "at least one admin" in response.json()["error"]["fields"]["role"][0]


def test_removing_a_member_through_the_api(owner_api: APIClient, cast: Cast) -> None:
    assert owner_api.delete(f"/api/v1/memberships/{cast.member_membership.id}/").status_code == 204
    assert not Membership.objects.filter(id=cast.member_membership.id).exists()


def test_inviting_through_the_api_sends_the_email(
    owner_api: APIClient, cast: Cast, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_api.post("/api/v1/invitations/", {"email": "sam@acme.example", "role": "approver"})

    assert response.status_code == 201
    assert response.json()["status"] == "pending"
    assert mail.outbox[0].to == ["sam@acme.example"]


def test_withdrawing_an_invitation_through_the_api(owner_api: APIClient, cast: Cast) -> None:
    invitation_id = owner_api.post("/api/v1/invitations/", {"email": "sam@acme.example"}).json()["id"]

    assert owner_api.delete(f"/api/v1/invitations/{invitation_id}/").status_code == 204
    assert Invitation.objects.get(id=invitation_id).status == "revoked"
    assert owner_api.post(f"/api/v1/invitations/{invitation_id}/resend/").status_code == 400


def test_editors_cannot_see_invitations_or_tokens(member_api: APIClient, cast: Cast) -> None:
    assert member_api.get("/api/v1/invitations/").status_code == 403
    assert member_api.get("/api/v1/tokens/").status_code == 403


def test_creating_a_token_returns_its_key_once(owner_api: APIClient, cast: Cast) -> None:
    response = owner_api.post("/api/v1/tokens/", {"name": "Shop sync", "role": "editor"})

    body = response.json()
    assert response.status_code == 201
    assert body["key"].startswith(f"ens_{body['prefix']}_")
    assert "key" not in owner_api.get(f"/api/v1/tokens/{body['id']}/").json()
    assert _client_with(body["key"]).get("/api/v1/teams/").status_code == 200


def test_a_token_cannot_be_stronger_than_its_creator(cast: Cast) -> None:
    with pytest.raises(ValidationError, match="higher role"):
        tokens.api_token_create(
            workspace=cast.workspace,
            name="Sneaky",
            role=Role.ADMIN,
            created_by=cast.member,
            creator_role=Role.EDITOR,
        )

    assert not ApiToken.objects.filter(name="Sneaky").exists()


def test_a_browser_session_picks_the_workspace_with_the_x_workspace_header(cast: Cast) -> None:
    MembershipFactory(workspace=cast.other_workspace, user=cast.owner, role=Role.VIEWER)
    client = APIClient()
    client.force_login(cast.owner)

    assert client.get("/api/v1/workspace/").status_code == 400  # two workspaces: which one?
    assert client.get("/api/v1/workspace/", HTTP_X_WORKSPACE="rival").json()["slug"] == "rival"


def test_a_browser_session_follows_the_workspace_opened_last(cast: Cast) -> None:
    MembershipFactory(workspace=cast.other_workspace, user=cast.owner, role=Role.VIEWER)
    client = APIClient()
    client.force_login(cast.owner)
    client.get("/w/rival/")

    assert client.get("/api/v1/workspace/").json()["slug"] == "rival"


def test_anonymous_api_requests_get_401(cast: Cast) -> None:
    response = APIClient().get("/api/v1/teams/")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_api_requests_beyond_the_rate_limit_get_429_with_retry_after(
    member_api: APIClient, cast: Cast
) -> None:
    with mock.patch.dict(UserRateThrottle.THROTTLE_RATES, {"user": "2/minute"}):
        statuses = [member_api.get("/api/v1/teams/").status_code for _ in range(3)]
        response = member_api.get("/api/v1/teams/")

    assert statuses == [200, 200, 429]
    assert response.json()["error"]["code"] == "throttled"
    assert "Retry-After" in response


def test_a_token_acts_with_its_creators_current_role_after_a_demotion(cast: Cast) -> None:
    _, key = issue_token(membership=cast.owner_membership)  # an admin token
    MembershipFactory(workspace=cast.workspace, role=Role.ADMIN)
    Membership.objects.filter(id=cast.owner_membership.id).update(role=Role.VIEWER)

    client = _client_with(key)

    assert client.get("/api/v1/teams/").status_code == 200
    assert client.post("/api/v1/teams/", {"name": "Growth"}).status_code == 403


def test_a_token_stops_working_when_its_creator_leaves_the_workspace_by_any_route(cast: Cast) -> None:
    _, key = issue_token(membership=cast.member_membership)

    Membership.objects.filter(id=cast.member_membership.id).delete()  # e.g. an admin data fix

    assert _client_with(key).get("/api/v1/teams/").status_code == 401
