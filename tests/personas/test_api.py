"""`/api/v1/personas/`: CRUD with the linked segment and its live count, errors by field, roles,
and nothing of another workspace."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from apps.core.roles import Role
from apps.personas import services
from apps.personas.models import Persona
from apps.segments import services as segment_services
from apps.segments.models import Segment
from apps.workspaces.models import Team
from tests.conftest import Cast
from tests.factories import MembershipFactory, TeamFactory, issue_token
from tests.personas.conftest import FAMILY, make_persona

pytestmark = pytest.mark.django_db

URL = "/api/v1/personas/"


@pytest.fixture
def viewer_api(cast: Cast) -> APIClient:
    membership = MembershipFactory(workspace=cast.workspace, role=Role.VIEWER)
    _, key = issue_token(membership=membership)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


@pytest.mark.usefixtures("contacts")
def test_create_returns_the_persona_with_its_segment_and_live_count(
    member_api: APIClient, cast: Cast, team: Team
) -> None:
    response = member_api.post(URL, {**FAMILY, "owner_team": team.id}, format="json")

    body = response.json()
    persona = Persona.objects.get()
    assert response.status_code == 201
    assert body["owner_team"] == team.id
    assert body["genders"] == ["female"]
    assert body["segment"] == {
        "id": persona.segment_id,
        "name": "Persona: Weekend family adventurer",
        "count": 2,
        "share": round(2 / 6, 4),
        "rules_edited": False,
    }


@pytest.mark.usefixtures("contacts")
def test_list_and_read_give_the_live_count(viewer_api: APIClient, cast: Cast) -> None:
    persona = make_persona(cast)

    listed = viewer_api.get(URL).json()
    read = viewer_api.get(f"{URL}{persona.id}/").json()

    assert [item["segment"]["count"] for item in listed["results"]] == [2]
    assert read["segment"]["count"] == 2
    assert read["quote"] == FAMILY["quote"]


def test_patch_changes_the_demographics_and_the_segment(member_api: APIClient, cast: Cast) -> None:
    persona = make_persona(cast)

    response = member_api.patch(f"{URL}{persona.id}/", {"locations": ["Berlin"]}, format="json")

    assert response.status_code == 200
    assert {"field": "city", "op": "in", "value": ["Berlin"]} in Segment.objects.get(
        pk=persona.segment_id
    ).rules["all"]


def test_put_replaces_and_resets_what_it_leaves_out(member_api: APIClient, cast: Cast) -> None:
    persona = make_persona(cast)

    response = member_api.put(f"{URL}{persona.id}/", {"name": "Renamed"}, format="json")

    persona.refresh_from_db()
    assert response.status_code == 200
    assert (persona.name, persona.genders, persona.age_min, persona.quote) == ("Renamed", [], None, "")
    assert Segment.objects.get(pk=persona.segment_id).rules == {"all": []}


def test_regenerate_segment_drops_edits_by_hand(member_api: APIClient, cast: Cast) -> None:
    persona = make_persona(cast)
    segment_services.segment_update(segment=persona.segment, rules={"all": []})
    assert member_api.get(f"{URL}{persona.id}/").json()["segment"]["rules_edited"] is True

    response = member_api.post(f"{URL}{persona.id}/regenerate-segment/")

    assert response.status_code == 200
    assert response.json()["segment"]["rules_edited"] is False


def test_delete_removes_the_persona_and_its_segment(member_api: APIClient, cast: Cast) -> None:
    persona = make_persona(cast)

    response = member_api.delete(f"{URL}{persona.id}/")

    assert response.status_code == 204
    assert not Persona.objects.exists()
    assert not Segment.objects.exists()


def test_validation_errors_are_named_by_field(member_api: APIClient, cast: Cast) -> None:
    make_persona(cast)

    response = member_api.post(
        URL,
        {**FAMILY, "name": "weekend FAMILY adventurer", "age_min": 60, "age_max": 20},
        format="json",
    )

    error = response.json()["error"]
    assert response.status_code == 400
    assert error["fields"]["name"] == [
        "There is already a persona “weekend FAMILY adventurer” in this workspace."
    ]
    assert error["fields"]["age_max"] == ["The age range ends before it starts."]


def test_a_value_outside_the_contact_choices_is_refused(member_api: APIClient, cast: Cast) -> None:
    response = member_api.post(URL, {"name": "X", "income_bands": ["millions"]}, format="json")

    assert response.status_code == 400
    assert "income_bands" in response.json()["error"]["fields"]


def test_a_team_of_another_workspace_is_refused(member_api: APIClient, cast: Cast) -> None:
    theirs = TeamFactory(workspace=cast.other_workspace)

    response = member_api.post(URL, {**FAMILY, "owner_team": theirs.id}, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["fields"]["owner_team"] == [
        f"There is no team {theirs.id} in this workspace."
    ]
    assert not Persona.objects.exists()
    assert not Segment.objects.exists()


def test_a_viewer_reads_but_does_not_write(viewer_api: APIClient, cast: Cast) -> None:
    persona = make_persona(cast)

    assert viewer_api.get(URL).status_code == 200
    assert viewer_api.post(URL, FAMILY, format="json").status_code == 403
    assert viewer_api.patch(f"{URL}{persona.id}/", {"name": "Y"}, format="json").status_code == 403
    assert viewer_api.post(f"{URL}{persona.id}/regenerate-segment/").status_code == 403
    assert viewer_api.delete(f"{URL}{persona.id}/").status_code == 403


def test_another_workspaces_persona_is_not_found(member_api: APIClient, cast: Cast) -> None:
    theirs = services.persona_create(workspace=cast.other_workspace, name="Theirs")

    assert member_api.get(f"{URL}{theirs.id}/").status_code == 404
    assert member_api.patch(f"{URL}{theirs.id}/", {"name": "Mine now"}, format="json").status_code == 404
    assert member_api.delete(f"{URL}{theirs.id}/").status_code == 404
    assert member_api.get(URL).json()["results"] == []


def test_the_schema_documents_the_linked_segment(member_api: APIClient, cast: Cast) -> None:
    response = member_api.get("/api/schema/")

    assert response.status_code == 200
    assert b"PersonaSegment" in response.content
