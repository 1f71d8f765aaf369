"""The persona admin: written through the services (the segment follows), import-export."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from apps.accounts.models import User
from apps.personas.models import Persona
from apps.segments.models import Segment
from tests.conftest import Cast
from tests.factories import TeamFactory
from tests.personas.conftest import make_persona

pytestmark = pytest.mark.django_db

PERSONAS = "/admin/personas/persona/"


@pytest.fixture
def superuser_client(db: None) -> Client:
    client = Client()
    client.force_login(User.objects.create_superuser(email="ops@ensemble.example", password="x"))
    return client


def _data(cast: Cast, **values: str) -> dict[str, str]:
    return {"workspace": str(cast.workspace.id), "name": "Admin persona", "genders": "female",
            "age_min": "25", "age_max": "35", "children": "", **values}  # fmt: skip


def test_the_list_reads_with_bounded_queries(
    superuser_client: Client, cast: Cast, django_assert_max_num_queries
) -> None:
    for n in range(10):
        make_persona(cast, name=f"Persona {n}")

    with django_assert_max_num_queries(12):
        response = superuser_client.get(PERSONAS, {"q": "acme"})

    assert len(response.context["cl"].result_list) == 10


def test_adding_a_persona_generates_its_segment(superuser_client: Client, cast: Cast) -> None:
    response = superuser_client.post(f"{PERSONAS}add/", _data(cast))

    persona = Persona.objects.get()
    assert response.status_code == 302
    assert persona.segment.rules == {
        "all": [
            {"field": "age", "op": "between", "value": [25, 35]},
            {"field": "gender", "op": "in", "value": ["female"]},
        ]
    }


def test_adding_refuses_a_team_of_another_workspace(superuser_client: Client, cast: Cast) -> None:
    theirs = TeamFactory(workspace=cast.other_workspace)

    response = superuser_client.post(f"{PERSONAS}add/", _data(cast, owner_team=str(theirs.id)))

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["owner_team"] == [
        f"There is no team {theirs.id} in this workspace."
    ]
    assert not Persona.objects.exists()


def test_changing_the_demographics_regenerates_the_segment(superuser_client: Client, cast: Cast) -> None:
    persona = make_persona(cast)

    response = superuser_client.post(f"{PERSONAS}{persona.id}/change/", _data(cast, name=persona.name))

    assert response.status_code == 302
    assert Segment.objects.get(pk=persona.segment_id).rules["all"][0] == {
        "field": "age",
        "op": "between",
        "value": [25, 35],
    }


def test_deleting_removes_the_segment_too(superuser_client: Client, cast: Cast) -> None:
    persona = make_persona(cast)

    superuser_client.post(f"{PERSONAS}{persona.id}/delete/", {"post": "yes"})

    assert not Persona.objects.exists()
    assert not Segment.objects.exists()


def test_export_and_import_round_trip_through_the_services(superuser_client: Client, cast: Cast) -> None:
    TeamFactory(workspace=cast.workspace, name="Marketing")
    csv = (
        b"workspace,name,owner_team,genders,locations,age_min,age_max\n"
        b'acme,Imported persona,Marketing,female,"Berlin,Hamburg",30,40\n'
        b"acme,Bad team,Nobody,,,,\n"
    )

    preview = superuser_client.post(
        f"{PERSONAS}import/",
        {"resource": "0", "format": "0", "import_file": SimpleUploadedFile("p.csv", csv, "text/csv")},
    )
    confirm = preview.context["confirm_form"]
    superuser_client.post(f"{PERSONAS}process_import/", confirm.initial)
    fields = {f"personaresource_{name}": "on" for name in ("workspace", "name", "owner_team", "segment")}
    export = superuser_client.post(f"{PERSONAS}export/", {"format": "0", "resource": "0", **fields})

    persona = Persona.objects.select_related("owner_team", "segment").get()
    assert persona.name == "Imported persona"
    assert persona.owner_team.name == "Marketing"
    assert persona.locations == ["Berlin", "Hamburg"]
    assert {"field": "city", "op": "in", "value": ["Berlin", "Hamburg"]} in persona.segment.rules["all"]
    assert "acme,Imported persona,Marketing,Persona: Imported persona" in export.content.decode()
