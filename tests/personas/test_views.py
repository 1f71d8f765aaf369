"""Persona pages: the list with the plan's progress, create, edit, a persona's page, compare,
regenerate, delete; the owner/member/viewer/outsider matrix."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from apps.core.roles import Role
from apps.personas import services
from apps.personas.models import Persona
from apps.segments import services as segment_services
from apps.segments.models import Segment
from apps.workspaces.models import Team
from tests.conftest import Cast
from tests.factories import MembershipFactory, TeamFactory
from tests.personas.conftest import make_persona

pytestmark = pytest.mark.django_db

BASE = "/w/acme/personas/"


def _page(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def _form(**values: str | list[str]) -> dict[str, str | list[str]]:
    return {
        "name": "Alpine performance seeker",
        "summary": "Trains for multi-day tours.",
        "age_min": "28",
        "age_max": "45",
        "genders": ["male", "female"],
        "children": "none",
        "locations": "München, Garmisch-Partenkirchen",
        "preferred_channels": ["email", "events"],
        **values,
    }


@pytest.fixture
def viewer_client(cast: Cast) -> Client:
    membership = MembershipFactory(workspace=cast.workspace, role=Role.VIEWER)
    client = Client()
    client.force_login(membership.user)
    return client


def test_the_list_says_how_many_personas_the_plan_still_needs(owner_client: Client, cast: Cast) -> None:
    make_persona(cast)

    page = _page(owner_client.get(BASE))

    assert "1 of 3 personas; add 2 more." in page
    assert "Weekend family adventurer" in page


def test_the_list_is_complete_at_three(owner_client: Client, cast: Cast) -> None:
    for name in ("One", "Two", "Three"):
        make_persona(cast, name=name)

    page = _page(owner_client.get(BASE))

    assert "3 of 3 personas: the plan has the personas it asks for." in page


def test_the_list_reads_with_the_same_queries_for_many_personas(
    owner_client: Client, cast: Cast, team: Team, django_assert_max_num_queries
) -> None:
    make_persona(cast, name="First", owner_team=team)
    owner_client.get(BASE)  # warm up the session and the navigation
    with django_assert_max_num_queries(12) as few:
        owner_client.get(BASE)
    for n in range(8):
        make_persona(cast, name=f"Persona {n}", owner_team=team)

    with django_assert_max_num_queries(len(few.captured_queries)):
        response = owner_client.get(BASE)

    assert response.status_code == 200
    assert len(response.context["personas"]) == 9


def test_the_list_loads_each_count_from_the_segment(owner_client: Client, cast: Cast) -> None:
    persona = make_persona(cast)

    page = _page(owner_client.get(BASE))

    assert f'hx-get="/w/acme/segments/{persona.segment_id}/count/?compact=1"' in page


def test_create_saves_the_persona_and_its_segment(member_client: Client, cast: Cast, team: Team) -> None:
    response = member_client.post(f"{BASE}new/", _form(owner_team=str(team.id)))

    persona = Persona.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"{BASE}{persona.id}/"
    assert persona.locations == ["München", "Garmisch-Partenkirchen"]
    assert persona.genders == ["male", "female"]
    assert persona.owner_team == team
    assert {"field": "children_in_household", "op": "eq", "value": 0} in persona.segment.rules["all"]


def test_create_shows_problems_by_field(member_client: Client, cast: Cast) -> None:
    response = member_client.post(f"{BASE}new/", _form(age_min="60", age_max="20"))

    assert response.status_code == 422
    assert response.context["form"].errors["age_max"] == ["The age range ends before it starts."]
    assert not Persona.objects.exists()
    assert not Segment.objects.exists()


def test_create_refuses_a_team_of_another_workspace(member_client: Client, cast: Cast) -> None:
    theirs = TeamFactory(workspace=cast.other_workspace)

    response = member_client.post(f"{BASE}new/", _form(owner_team=str(theirs.id)))

    assert response.status_code == 422
    assert "owner_team" in response.context["form"].errors
    assert not Persona.objects.exists()


def test_the_form_shows_the_sections_and_the_contact_choices(member_client: Client, cast: Cast) -> None:
    page = _page(member_client.get(f"{BASE}new/"))

    assert "Ideal-customer questions" in page
    assert 'value="non_binary"' in page  # Gender of apps/contacts/choices.py
    assert 'value="100k_150k"' in page  # IncomeBand


def test_edit_changes_the_persona_and_regenerates_the_segment(member_client: Client, cast: Cast) -> None:
    persona = make_persona(cast)

    form = member_client.get(f"{BASE}{persona.id}/edit/").context["form"]
    response = member_client.post(f"{BASE}{persona.id}/edit/", _form(name="Family hiker", locations="Köln"))

    assert form.initial["name"] == "Weekend family adventurer"
    assert response.status_code == 302
    persona.refresh_from_db()
    assert persona.name == "Family hiker"
    assert {"field": "city", "op": "in", "value": ["Köln"]} in Segment.objects.get(
        pk=persona.segment_id
    ).rules["all"]


def test_a_persona_page_shows_the_fit_and_offers_to_regenerate_edited_rules(
    owner_client: Client, cast: Cast
) -> None:
    persona = make_persona(cast)
    segment_services.segment_update(segment=persona.segment, rules={"all": []})

    page = _page(owner_client.get(f"{BASE}{persona.id}/"))

    assert "contacts fit" in page
    assert "Rules edited by hand" in page
    assert "Regenerate the segment from the demographics" in page
    assert "Physical store" in page  # preferred channels by their labels


def test_regenerate_restores_the_generated_rules(member_client: Client, cast: Cast) -> None:
    persona = make_persona(cast)
    segment_services.segment_update(segment=persona.segment, rules={"all": []})

    response = member_client.post(f"{BASE}{persona.id}/regenerate/")

    assert response.status_code == 302
    assert Segment.objects.get(pk=persona.segment_id).rules == persona.generated_rules


def test_compare_shows_the_ticked_personas_side_by_side(owner_client: Client, cast: Cast) -> None:
    first, second = make_persona(cast, name="First"), make_persona(cast, name="Second")
    make_persona(cast, name="Third")

    response = owner_client.get(f"{BASE}compare/", {"ids": [second.id, first.id]})

    assert [card["persona"] for card in response.context["cards"]] == [second, first]


def test_compare_never_shows_another_workspaces_personas(owner_client: Client, cast: Cast) -> None:
    mine = make_persona(cast, name="Mine")
    theirs = services.persona_create(workspace=cast.other_workspace, name="Theirs")

    response = owner_client.get(f"{BASE}compare/", {"ids": [theirs.id, mine.id]})

    assert [card["persona"].name for card in response.context["cards"]] == ["Mine"]


def test_delete_removes_the_persona(member_client: Client, cast: Cast) -> None:
    persona = make_persona(cast)

    response = member_client.post(f"{BASE}{persona.id}/delete/")

    assert response.status_code == 302
    assert not Persona.objects.exists()


def test_a_viewer_reads_but_does_not_write(viewer_client: Client, cast: Cast) -> None:
    persona = make_persona(cast)

    assert viewer_client.get(BASE).status_code == 200
    assert viewer_client.get(f"{BASE}{persona.id}/").status_code == 200
    assert viewer_client.get(f"{BASE}compare/").status_code == 200
    assert viewer_client.get(f"{BASE}new/").status_code == 403
    assert viewer_client.post(f"{BASE}{persona.id}/edit/", _form()).status_code == 403
    assert viewer_client.post(f"{BASE}{persona.id}/delete/").status_code == 403
    assert "New persona" not in _page(viewer_client.get(BASE))


def test_an_outsider_gets_not_found(outsider_client: Client, cast: Cast) -> None:
    persona = make_persona(cast)

    assert outsider_client.get(BASE).status_code == 404
    assert outsider_client.get(f"{BASE}{persona.id}/").status_code == 404


def test_personas_are_live_in_the_navigation(owner_client: Client, cast: Cast) -> None:
    page = _page(owner_client.get(BASE))

    assert 'href="/w/acme/personas/"' in page


def test_a_persona_page_lists_the_campaigns_addressing_it(owner_client: Client, cast: Cast) -> None:
    from apps.campaigns import services as campaign_services

    persona = make_persona(cast)
    campaign_services.campaign_create(workspace=cast.workspace, name="Spring launch", personas=[persona])

    page = owner_client.get(f"/w/{cast.workspace.slug}/personas/{persona.id}/").content.decode()

    assert "Campaigns addressing this persona" in page
    assert "Spring launch" in page
