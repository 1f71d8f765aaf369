"""A persona's demographics as segment rules (the JSON of `apps.segments.rules`). Pure: the same
values always give the same rules, so comparing them tells whether a segment was edited by hand."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from apps.personas.choices import Children


def _field(name: str, op: str, value: Any) -> dict[str, Any]:
    return {"field": name, "op": op, "value": value}


def _one_of(name: str, values: Sequence[str]) -> list[dict[str, Any]]:
    return [_field(name, "in", sorted(values))] if values else []


def rules_from_demographics(
    *,
    age_min: int | None = None,
    age_max: int | None = None,
    genders: Sequence[str] = (),
    marital_statuses: Sequence[str] = (),
    children: str = "",
    locations: Sequence[str] = (),
    income_bands: Sequence[str] = (),
    education_levels: Sequence[str] = (),
) -> dict[str, Any]:
    """`{"all": [...]}` with one condition per criterion given; none given matches every contact."""
    conditions: list[dict[str, Any]] = []
    if age_min is not None and age_max is not None:
        conditions.append(_field("age", "between", [age_min, age_max]))
    elif age_min is not None:
        conditions.append(_field("age", "gte", age_min))
    elif age_max is not None:
        conditions.append(_field("age", "lte", age_max))
    conditions += _one_of("gender", genders)
    conditions += _one_of("marital_status", marital_statuses)
    if children == Children.NONE:
        conditions.append(_field("children_in_household", "eq", 0))
    elif children == Children.SOME:
        conditions.append(_field("children_in_household", "gte", 1))
    conditions += _one_of("city", locations)
    conditions += _one_of("household_income_band", income_bands)
    conditions += _one_of("education_level", education_levels)
    return {"all": conditions}
