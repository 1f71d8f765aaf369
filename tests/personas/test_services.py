"""Persona services: the matching segment generated from the demographics, kept in step with them
unless edited by hand, and the checks on every write."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from apps.personas import selectors, services
from apps.personas.models import Persona
from apps.personas.rules import rules_from_demographics
from apps.segments import selectors as segment_selectors
from apps.segments import services as segment_services
from apps.segments.models import Segment
from apps.workspaces.demo import DEMO_PERSONAS, _demo_personas, seed_demo
from apps.workspaces.models import Team
from tests.conftest import Cast
from tests.factories import TeamFactory
from tests.personas.conftest import make_persona

pytestmark = pytest.mark.django_db


def test_rules_from_demographics_use_the_contact_fields_and_values() -> None:
    rules = rules_from_demographics(
        age_min=25, age_max=35, genders=["female"], marital_statuses=["married"], children="none",
        locations=["Hamburg", "Berlin"], income_bands=["25k_50k"], education_levels=["master"],
    )  # fmt: skip

    assert rules == {
        "all": [
            {"field": "age", "op": "between", "value": [25, 35]},
            {"field": "gender", "op": "in", "value": ["female"]},
            {"field": "marital_status", "op": "in", "value": ["married"]},
            {"field": "children_in_household", "op": "eq", "value": 0},
            {"field": "city", "op": "in", "value": ["Berlin", "Hamburg"]},
            {"field": "household_income_band", "op": "in", "value": ["25k_50k"]},
            {"field": "education_level", "op": "in", "value": ["master"]},
        ]
    }


def test_rules_from_no_demographics_match_everyone() -> None:
    assert rules_from_demographics() == {"all": []}
    assert rules_from_demographics(age_min=60) == {"all": [{"field": "age", "op": "gte", "value": 60}]}


def test_create_generates_the_matching_segment(cast: Cast, team: Team) -> None:
    persona = make_persona(cast, owner_team=team)

    assert persona.segment.name == "Persona: Weekend family adventurer"
    assert persona.segment.workspace == cast.workspace
    assert persona.segment.rules == persona.generated_rules
    assert {"field": "age", "op": "between", "value": [30, 44]} in persona.segment.rules["all"]
    assert {"field": "city", "op": "in", "value": ["Hamburg", "München"]} in persona.segment.rules["all"]
    assert persona.owner_team == team
    assert not persona.segment_rules_edited


@pytest.mark.usefixtures("contacts")
def test_the_fit_counts_the_segments_contacts_and_their_share(cast: Cast) -> None:
    persona = make_persona(cast)

    fit = selectors.persona_fit(persona=persona)

    assert fit.count == 2 == segment_selectors.segment_count(segment=persona.segment)
    assert fit.total == 6
    assert fit.share == pytest.approx(2 / 6)


@pytest.mark.usefixtures("contacts")
def test_new_demographics_regenerate_the_segment(cast: Cast) -> None:
    persona = make_persona(cast)

    updated = services.persona_update(persona=persona, locations=["Berlin", "München"], age_max=55)

    segment = Segment.objects.get(pk=persona.segment_id)
    assert segment.rules == updated.generated_rules
    assert {"field": "age", "op": "between", "value": [30, 55]} in segment.rules["all"]
    assert segment_selectors.segment_count(segment=segment) == 4


def test_rules_edited_by_hand_survive_new_demographics_until_regenerated(cast: Cast) -> None:
    persona = make_persona(cast)
    by_hand = {"all": [{"field": "city", "op": "eq", "value": "Köln"}]}
    segment_services.segment_update(segment=persona.segment, rules=by_hand)

    updated = services.persona_update(persona=persona, genders=["male"])

    assert updated.segment_rules_edited
    assert Segment.objects.get(pk=persona.segment_id).rules == by_hand
    regenerated = services.persona_regenerate_segment(persona=updated)
    assert not regenerated.segment_rules_edited
    segment = Segment.objects.get(pk=persona.segment_id)
    assert {"field": "gender", "op": "in", "value": ["male"]} in segment.rules["all"]


def test_renaming_the_persona_renames_its_segment(cast: Cast) -> None:
    persona = make_persona(cast)

    services.persona_update(persona=persona, name="Family hiker")

    assert Segment.objects.get(pk=persona.segment_id).name == "Persona: Family hiker"


def test_the_segment_name_is_numbered_when_taken(cast: Cast) -> None:
    segment_services.segment_create(
        workspace=cast.workspace, name="Persona: Weekend family adventurer", rules={"all": []}
    )

    persona = make_persona(cast)

    assert persona.segment.name == "Persona: Weekend family adventurer (2)"


def test_a_team_of_another_workspace_is_refused(cast: Cast) -> None:
    theirs = TeamFactory(workspace=cast.other_workspace)

    with pytest.raises(ValidationError) as error:
        make_persona(cast, owner_team=theirs)

    assert error.value.message_dict["owner_team"] == [f"There is no team {theirs.id} in this workspace."]
    assert not Persona.objects.exists()
    assert not Segment.objects.exists()


def test_every_problem_is_named_by_its_field(cast: Cast) -> None:
    make_persona(cast)

    with pytest.raises(ValidationError) as error:
        make_persona(cast, name="WEEKEND family adventurer", age_min=50, age_max=20, genders=["robot"])

    problems = error.value.message_dict
    assert problems["name"] == ["There is already a persona “WEEKEND family adventurer” in this workspace."]
    assert problems["age_max"] == ["The age range ends before it starts."]
    assert "genders" in problems
    assert Persona.objects.count() == Segment.objects.count() == 1


def test_a_name_is_required(cast: Cast) -> None:
    with pytest.raises(ValidationError) as error:
        make_persona(cast, name="  ")

    assert "name" in error.value.message_dict


def test_delete_removes_the_persona_and_its_segment(cast: Cast) -> None:
    persona = make_persona(cast)

    services.persona_delete(persona=persona)

    assert not Persona.objects.exists()
    assert not Segment.objects.exists()


def test_delete_keeps_a_segment_that_another_segment_includes(cast: Cast) -> None:
    persona = make_persona(cast)
    segment_services.segment_create(
        workspace=cast.workspace, name="Wider", rules={"segment": persona.segment_id}
    )

    services.persona_delete(persona=persona)

    assert not Persona.objects.exists()
    assert Segment.objects.filter(pk=persona.segment_id).exists()


def test_the_plan_asks_for_three_personas(cast: Cast) -> None:
    make_persona(cast)

    progress = selectors.persona_progress(workspace=cast.workspace)

    assert (progress.count, progress.planned, progress.missing) == (1, 3, 2)


def test_demo_personas_are_created_once_with_their_teams(cast: Cast) -> None:
    TeamFactory(workspace=cast.workspace, kind="marketing", name="Marketing")

    _demo_personas(cast.workspace)
    _demo_personas(cast.workspace)

    personas = {p.name: p for p in Persona.objects.select_related("owner_team")}
    assert set(personas) == {spec["name"] for spec in DEMO_PERSONAS}
    assert personas["Weekend family adventurer"].owner_team.name == "Marketing"


def test_seed_demo_gives_acme_three_personas_whose_segments_count() -> None:
    seed_demo()
    seed_demo()

    personas = list(
        Persona.objects.select_related("segment", "segment__workspace", "owner_team", "workspace")
    )
    assert len(personas) == 3
    assert all(persona.workspace.slug == "acme" and persona.owner_team for persona in personas)
    for persona in personas:
        assert 0 < selectors.persona_fit(persona=persona).count < 2000, persona.name


def test_a_personas_segment_cannot_be_deleted_on_its_own(cast: Cast) -> None:
    persona = make_persona(cast)

    with pytest.raises(ValidationError) as error:
        segment_services.segment_delete(segment=persona.segment)

    assert "is in use (Weekend family adventurer)" in error.value.messages[0]
    assert Segment.objects.filter(pk=persona.segment_id).exists()
