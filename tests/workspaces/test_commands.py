from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from apps.accounts.models import User
from apps.core.roles import Role
from apps.workspaces.demo import DEMO_PASSWORD
from apps.workspaces.models import ApiToken, Membership, Team, Workspace
from tests.conftest import Cast

pytestmark = pytest.mark.django_db


def _run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_create_workspace_creates_the_owner_and_prints_a_generated_password() -> None:
    output = _run("create_workspace", "globex", "--name", "Globex", "--owner", "hank@globex.example")

    password = output.split("New login: hank@globex.example / ")[1].strip()
    user = User.objects.get(email="hank@globex.example")
    assert user.check_password(password)
    assert Membership.objects.get(user=user, workspace__slug="globex").role == Role.ADMIN


def test_create_workspace_reuses_an_existing_user_without_printing_a_password(cast: Cast) -> None:
    output = _run("create_workspace", "globex", "--name", "Globex", "--owner", "OWNER@acme.example")

    assert "New login" not in output
    assert Membership.objects.filter(user=cast.owner, workspace__slug="globex").exists()


def test_create_workspace_refuses_a_taken_slug(cast: Cast) -> None:
    with pytest.raises(CommandError, match="already taken"):
        _run("create_workspace", "acme", "--name", "Again", "--owner", "x@example.com")


def test_create_api_token_prints_only_a_working_key(cast: Cast) -> None:
    output = _run(
        "create_api_token", "--workspace", "acme", "--email", "member@acme.example", "--role", "editor"
    )

    key = output.strip()
    assert "\n" not in key
    assert key.startswith("ens_")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    assert client.get("/api/v1/workspace/").json()["slug"] == "acme"
    assert ApiToken.objects.get().role == Role.EDITOR


def test_create_api_token_refuses_a_role_above_the_members_own(cast: Cast) -> None:
    with pytest.raises(CommandError, match="higher role"):
        _run("create_api_token", "--workspace", "acme", "--email", "member@acme.example", "--role", "admin")


def test_create_api_token_refuses_a_non_member(cast: Cast) -> None:
    with pytest.raises(CommandError, match="not a member"):
        _run("create_api_token", "--workspace", "acme", "--email", "boss@rival.example")


def test_seed_demo_creates_acme_with_four_teams_and_a_person_in_each() -> None:
    output = _run("seed_demo", "--force")

    acme = Workspace.objects.get(slug="acme")
    assert acme.name == "Acme Outdoor"
    for kind in ("product", "sales", "support", "marketing"):
        assert Membership.objects.filter(workspace=acme, team__kind=kind).count() == 1
    assert "maya@acme.example" in output
    assert DEMO_PASSWORD in output
    assert User.objects.get(email="maya@acme.example").check_password(DEMO_PASSWORD)


def test_seed_demo_is_idempotent() -> None:
    _run("seed_demo", "--force")
    counts = (
        Workspace.objects.count(),
        Team.objects.count(),
        Membership.objects.count(),
        User.objects.count(),
    )

    _run("seed_demo", "--force")

    assert (
        Workspace.objects.count(),
        Team.objects.count(),
        Membership.objects.count(),
        User.objects.count(),
    ) == counts


def test_seed_demo_refuses_to_run_with_debug_off_unless_forced(settings) -> None:
    settings.DEBUG = False

    with pytest.raises(CommandError, match="DEBUG=true"):
        _run("seed_demo")
    assert not Workspace.objects.filter(slug="acme").exists()
