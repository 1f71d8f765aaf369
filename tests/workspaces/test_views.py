from __future__ import annotations

from urllib.parse import urlencode

import pytest
from django.core import mail
from django.test import Client

from apps.core.roles import Role
from apps.workspaces import invitations
from apps.workspaces.models import ApiToken, Invitation, Membership, Team
from tests.conftest import Cast
from tests.factories import MembershipFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_anonymous_visitors_are_sent_to_the_login_page(client: Client, cast: Cast) -> None:
    response = client.get("/w/acme/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_home_opens_the_workspace_used_last(owner_client: Client, cast: Cast) -> None:
    MembershipFactory(workspace=cast.other_workspace, user=cast.owner, role=Role.VIEWER)
    owner_client.get("/w/rival/")

    response = owner_client.get("/")

    assert response["Location"] == "/w/rival/"


def test_home_offers_to_create_a_workspace_to_someone_without_one(client: Client, db: None) -> None:
    client.force_login(UserFactory())

    assert client.get("/")["Location"] == "/workspaces/new/"


def test_creating_a_workspace_makes_the_creator_its_admin(client: Client, db: None) -> None:
    user = UserFactory()
    client.force_login(user)

    response = client.post("/workspaces/new/", {"name": "Summit Kids", "slug": "summit", "time_zone": "UTC"})

    assert response["Location"] == "/w/summit/team/"
    assert Membership.objects.get(workspace__slug="summit", user=user).role == Role.ADMIN


def test_creating_a_workspace_with_a_taken_slug_shows_the_error_inline(
    owner_client: Client, cast: Cast
) -> None:
    response = owner_client.post("/workspaces/new/", {"name": "Copy", "slug": "rival", "time_zone": "UTC"})

    assert response.status_code == 422
    assert "already" in response.content.decode()


def test_dashboard_shows_the_workspace_and_the_switcher_lists_every_workspace_of_the_user(
    owner_client: Client, cast: Cast
) -> None:
    MembershipFactory(workspace=cast.other_workspace, user=cast.owner, role=Role.VIEWER)

    page = owner_client.get("/w/acme/").content.decode()

    assert "<h1>Acme Outdoor</h1>" in page
    assert 'href="/w/rival/"' in page


def test_a_member_sees_the_team_page_without_admin_controls(member_client: Client, cast: Cast) -> None:
    response = member_client.get("/w/acme/team/")

    page = response.content.decode()
    assert response.status_code == 200
    assert "owner@acme.example" in page
    assert "Send invitation" not in page


def test_team_page_query_count_does_not_grow_with_members(
    owner_client: Client, cast: Cast, django_assert_max_num_queries
) -> None:
    for _ in range(3):
        MembershipFactory(workspace=cast.workspace, team=TeamFactory(workspace=cast.workspace))
    with django_assert_max_num_queries(12) as few:
        owner_client.get("/w/acme/team/")
    for _ in range(20):
        MembershipFactory(workspace=cast.workspace, team=TeamFactory(workspace=cast.workspace))

    with django_assert_max_num_queries(len(few.captured_queries)):
        assert owner_client.get("/w/acme/team/").status_code == 200


def test_admin_invites_a_teammate_from_the_team_page(
    owner_client: Client, cast: Cast, django_capture_on_commit_callbacks
) -> None:
    team = Team.objects.create(workspace=cast.workspace, name="Sales", kind="sales")

    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(
            "/w/acme/team/invitations/", {"email": "sam@acme.example", "role": "approver", "team": team.id}
        )

    assert response.status_code == 302
    invitation = Invitation.objects.get(email="sam@acme.example")
    assert (invitation.role, invitation.team) == (Role.APPROVER, team)
    assert mail.outbox[0].to == ["sam@acme.example"]


def test_invite_form_errors_are_shown_and_nothing_is_stored(owner_client: Client, cast: Cast) -> None:
    response = owner_client.post("/w/acme/team/invitations/", {"email": "not-an-email", "role": "editor"})

    assert response.status_code == 422
    assert "Enter a valid email address." in response.content.decode()
    assert not Invitation.objects.exists()


def test_an_editor_cannot_invite(member_client: Client, cast: Cast) -> None:
    response = member_client.post("/w/acme/team/invitations/", {"email": "x@acme.example", "role": "admin"})

    assert response.status_code == 403
    assert not Invitation.objects.exists()


def test_changing_a_role_with_htmx_returns_only_the_members_row(owner_client: Client, cast: Cast) -> None:
    response = owner_client.post(
        f"/w/acme/team/members/{cast.member_membership.id}/",
        {"role": "approver", "team": ""},
        HTTP_HX_REQUEST="true",
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert page.lstrip().startswith(f'<tr class="member-row" id="member-{cast.member_membership.id}"')
    assert "Saved" in page
    cast.member_membership.refresh_from_db()
    assert cast.member_membership.role == Role.APPROVER


def test_demoting_the_last_admin_with_htmx_answers_422_with_the_reason(
    owner_client: Client, cast: Cast
) -> None:
    response = owner_client.post(
        f"/w/acme/team/members/{cast.owner_membership.id}/",
        {"role": "viewer", "team": ""},
        HTTP_HX_REQUEST="true",
    )

    assert response.status_code == 422
    assert "at least one admin" in response.content.decode()


def test_removing_a_member_takes_away_their_access(
    owner_client: Client, member_client: Client, cast: Cast
) -> None:
    owner_client.post(f"/w/acme/team/members/{cast.member_membership.id}/remove/")

    assert member_client.get("/w/acme/").status_code == 404


def test_admin_adds_and_deletes_a_custom_team(owner_client: Client, cast: Cast) -> None:
    owner_client.post("/w/acme/team/teams/", {"name": "Customer success", "kind": "custom"})
    team = Team.objects.get(workspace=cast.workspace, name="Customer success")

    owner_client.post(f"/w/acme/team/teams/{team.id}/delete/")

    assert not Team.objects.filter(id=team.id).exists()


def test_only_admins_change_workspace_settings(
    owner_client: Client, member_client: Client, cast: Cast
) -> None:
    data = {
        "name": "Acme",
        "time_zone": "Europe/Paris",
        "default_phone_region": "FR",
        "currency": "EUR",
        "postal_address": "1 Rue de la Paix, Paris",
        "contact_pressure_limit": "2",
        "contact_pressure_days": "14",
    }

    assert member_client.post("/w/acme/settings/", data).status_code == 403
    assert owner_client.post("/w/acme/settings/", data).status_code == 302
    cast.workspace.refresh_from_db()
    assert cast.workspace.time_zone == "Europe/Paris"
    assert (cast.workspace.contact_pressure_limit, cast.workspace.contact_pressure_days) == (2, 14)


def test_api_token_key_is_shown_once_and_only_its_hash_is_stored(owner_client: Client, cast: Cast) -> None:
    response = owner_client.post("/w/acme/settings/api-tokens/", {"name": "Shop sync", "role": "editor"})

    page = response.content.decode()
    token = ApiToken.objects.get(name="Shop sync")
    key = page.split('id="new-token-key">')[1].split("<")[0]
    assert key.startswith(f"ens_{token.prefix}_")
    assert key not in owner_client.get("/w/acme/settings/api-tokens/").content.decode()
    assert token.key_hash != key
    assert len(token.key_hash) == 64


def test_revoking_a_token_in_the_browser_stops_it(owner_client: Client, cast: Cast) -> None:
    owner_client.post("/w/acme/settings/api-tokens/", {"name": "Shop sync", "role": "viewer"})
    token = ApiToken.objects.get(name="Shop sync")

    owner_client.post(f"/w/acme/settings/api-tokens/{token.id}/revoke/")

    token.refresh_from_db()
    assert token.revoked_at is not None


def test_invitation_link_lets_a_new_person_create_a_login_and_join(client: Client, cast: Cast) -> None:
    invitation = invitations.invitation_create(
        workspace=cast.workspace, email="nia@acme.example", role=Role.EDITOR, team=None, invited_by=cast.owner
    )
    url = f"/invitations/{invitations.invitation_token(invitation)}/"

    assert "Create login and join" in client.get(url).content.decode()
    response = client.post(
        url,
        {
            "first_name": "Nia",
            "last_name": "Berg",
            "password1": "a-long-Passphrase-42",
            "password2": "a-long-Passphrase-42",
        },
    )

    assert response["Location"] == "/w/acme/"
    assert client.get("/w/acme/").status_code == 200


def test_invitation_link_for_an_existing_login_asks_to_log_in_first(client: Client, cast: Cast) -> None:
    UserFactory(email="sam@acme.example")
    invitation = invitations.invitation_create(
        workspace=cast.workspace, email="sam@acme.example", role=Role.EDITOR, team=None, invited_by=cast.owner
    )
    url = f"/invitations/{invitations.invitation_token(invitation)}/"

    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?{urlencode({'next': url})}"


def test_used_invitation_link_explains_what_happened(client: Client, cast: Cast) -> None:
    response = client.get("/invitations/not-a-real-token/")

    assert response.status_code == 410
    assert "not valid" in response.content.decode()


def test_login_is_locked_after_repeated_failures(client: Client, cast: Cast) -> None:
    for _ in range(5):
        client.post("/accounts/login/", {"username": "owner@acme.example", "password": "wrong"})

    response = client.post(
        "/accounts/login/", {"username": "owner@acme.example", "password": "correct-horse-battery-staple"}
    )

    assert response.status_code == 429
    assert "Too many failed log-in attempts" in response.content.decode()


def test_login_with_the_right_password_opens_the_workspace(client: Client, cast: Cast) -> None:
    response = client.post(
        "/accounts/login/",
        {"username": "OWNER@acme.example", "password": "correct-horse-battery-staple"},
        follow=True,
    )

    assert response.redirect_chain[-1][0] == "/w/acme/"


def test_pages_carry_a_content_security_policy_without_inline_scripts(
    owner_client: Client, cast: Cast
) -> None:
    response = owner_client.get("/w/acme/team/")

    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert "<script>" not in response.content.decode()
