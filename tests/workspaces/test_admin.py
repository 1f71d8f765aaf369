from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from apps.accounts.models import User
from apps.workspaces.models import ApiToken, Invitation, Membership, Team, Workspace
from tests.conftest import Cast
from tests.factories import InvitationFactory, TeamFactory, issue_token

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser_client(db: None) -> Client:
    client = Client()
    client.force_login(User.objects.create_superuser(email="ops@ensemble.example", password="x"))
    return client


@pytest.mark.parametrize("model", [User, Workspace, Team, Membership, Invitation, ApiToken])
def test_every_model_has_a_searchable_admin_list(superuser_client: Client, cast: Cast, model: type) -> None:
    TeamFactory(workspace=cast.workspace)
    InvitationFactory(workspace=cast.workspace)
    issue_token(membership=cast.owner_membership)
    opts = model._meta

    response = superuser_client.get(f"/admin/{opts.app_label}/{opts.model_name}/", {"q": "acme"})

    assert response.status_code == 200


def test_memberships_import_from_csv_by_workspace_slug_email_and_team_name(
    superuser_client: Client, cast: Cast
) -> None:
    TeamFactory(workspace=cast.workspace, name="Sales")
    TeamFactory(workspace=cast.other_workspace, name="Sales")
    csv = "workspace,email,team,role\nacme,member@acme.example,sales,approver\n"
    upload = SimpleUploadedFile("members.csv", csv.encode(), content_type="text/csv")

    confirm = superuser_client.post(
        "/admin/workspaces/membership/import/",
        {"format": "0", "import_file": upload, "resource": "0"},
    )
    form = confirm.context["confirm_form"]
    superuser_client.post("/admin/workspaces/membership/process_import/", form.initial)

    cast.member_membership.refresh_from_db()
    assert cast.member_membership.role == "approver"
    assert cast.member_membership.team.workspace == cast.workspace


def test_teams_export_as_csv(superuser_client: Client, cast: Cast) -> None:
    TeamFactory(workspace=cast.workspace, name="Field sales")

    fields = {f"teamresource_{name}": "on" for name in ("workspace", "name", "kind", "description")}

    response = superuser_client.post(
        "/admin/workspaces/team/export/", {"format": "0", "resource": "0", **fields}
    )

    assert "acme,Field sales,marketing" in response.content.decode()


def test_importing_teams_needs_the_explicit_import_permission(cast: Cast) -> None:
    staff = User.objects.create_user(email="staff@ensemble.example", password="x", is_staff=True)
    staff.user_permissions.add(
        *Permission.objects.filter(codename__in=["add_team", "change_team", "view_team"])
    )
    client = Client()
    client.force_login(staff)

    assert client.get("/admin/workspaces/team/import/").status_code == 403
    staff.user_permissions.add(Permission.objects.get(codename="import_team"))
    assert client.get("/admin/workspaces/team/import/").status_code == 200


def test_admin_revoke_action_revokes_tokens(superuser_client: Client, cast: Cast) -> None:
    token, _ = issue_token(membership=cast.owner_membership)

    superuser_client.post("/admin/workspaces/apitoken/", {"action": "revoke", "_selected_action": [token.id]})

    token.refresh_from_db()
    assert token.revoked_at is not None
