"""Personas over a handful of contacts whose demographics are known."""

from __future__ import annotations

from typing import Any

import pytest

from apps.personas import services
from apps.personas.models import Persona
from apps.workspaces.models import Team
from tests.conftest import Cast
from tests.factories import ContactFactory, TeamFactory

FAMILY = {
    "name": "Weekend family adventurer",
    "summary": "Plans the family's weekends outdoors.",
    "age_min": 30,
    "age_max": 44,
    "genders": ["female"],
    "children": "some",
    "locations": ["München", "Hamburg"],
    "income_bands": ["50k_75k"],
    "preferred_channels": ["email", "store"],
    "quote": "If the kids are warm and dry, we stay out all day.",
}


@pytest.fixture
def team(cast: Cast) -> Team:
    return TeamFactory(workspace=cast.workspace, name="Marketing")


@pytest.fixture
def contacts(cast: Cast) -> None:
    """Two contacts fit FAMILY; four miss it by one criterion each; one is in the other workspace."""
    fits = {"age": 35, "gender": "female", "children_in_household": 2, "city": "München",
            "household_income_band": "50k_75k"}  # fmt: skip
    ContactFactory.create_batch(2, workspace=cast.workspace, **fits)
    for miss in ({"age": 50}, {"gender": "male"}, {"children_in_household": 0}, {"city": "Berlin"}):
        ContactFactory(workspace=cast.workspace, **(fits | miss))
    ContactFactory(workspace=cast.other_workspace, **fits)


def make_persona(cast: Cast, **values: Any) -> Persona:
    return services.persona_create(workspace=cast.workspace, **(FAMILY | values))
