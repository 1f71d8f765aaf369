"""The rule language: every bad rule is named by its JSON path, and each documented semantic holds."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.contacts.models import Contact
from apps.segments import selectors, services
from apps.segments.rules import MAX_DEPTH, MAX_NODES, RulesError
from tests.conftest import Cast
from tests.factories import ContactFactory, CustomFieldFactory, TagFactory, WorkspaceFactory

pytestmark = pytest.mark.django_db


def _problems(cast: Cast, rules: Any, **kwargs: Any) -> dict[str, str]:
    with pytest.raises(RulesError) as raised:
        selectors.rules_compile(workspace=cast.workspace, rules=rules, **kwargs)
    return {problem.where: problem.message for problem in raised.value.problems}


def _matches(cast: Cast, rules: Any, **kwargs: Any) -> set[int]:
    contacts = selectors.rules_contacts(workspace=cast.workspace, rules=rules, **kwargs)
    return set(contacts.values_list("id", flat=True))


# --- problems, by path -----------------------------------------------------------------------------


def test_an_unknown_field_is_named_by_its_path_with_a_suggestion(cast: Cast) -> None:
    rules = {"all": [{"any": [{"field": "cty", "op": "eq", "value": "Berlin"}]}]}

    assert _problems(cast, rules) == {
        "all[0].any[0].field": "There is no field “cty”. Did you mean “city”? "
        "Fields are contact fields, custom.<key>, created_at, updated_at."
    }


def test_an_operator_that_does_not_fit_the_type_names_the_ones_that_do(cast: Cast) -> None:
    problems = _problems(cast, {"field": "city", "op": "gt", "value": "B"})

    assert problems["op"].startswith("“gt” does not apply to city (text field); use one of: eq, neq")


@pytest.mark.parametrize(
    ("condition", "where", "message"),
    [
        ({"field": "age", "op": "between", "value": [25]}, "value", "“between” takes two values"),
        ({"field": "age", "op": "between", "value": [35, 25]}, "value", "must not be greater"),
        ({"field": "age", "op": "eq", "value": "30"}, "value", "Give a number"),
        ({"field": "age", "op": "eq", "value": 30.5}, "value", "age holds whole numbers"),
        ({"field": "total_spent", "op": "gt", "value": 9.999}, "value", "at most 2 decimals"),
        ({"field": "city", "op": "in", "value": "Berlin"}, "value", "takes a list"),
        ({"field": "city", "op": "in", "value": ["Berlin", 3]}, "value[1]", "Give the text"),
        ({"field": "birth_date", "op": "before", "value": "01.03.2026"}, "value", "YYYY-MM-DD"),
        ({"field": "created_at", "op": "after", "value": "yesterday"}, "value", "ISO date-time"),
        ({"field": "gender", "op": "eq", "value": "woman"}, "value", "is not one of: female, male"),
        ({"field": "city", "op": "is_empty", "value": "x"}, "value", "takes no value"),
        ({"field": "city", "op": "eq"}, "value", "Fill in a value."),
        ({"field": "customer_since", "op": "within_last_days", "value": -3}, "value", "whole number of days"),
        ({"field": "city", "op": "eq", "value": "x", "extra": 1}, "extra", "Unexpected key"),
        ({"field": "city", "op": "eq", "value": "a\x00b"}, "value", "cannot hold NUL characters"),
        ({"field": "birth_date", "op": "gt", "value": "0900-01-01"}, "value", "from 1900 to 2999"),
        (
            {"field": "created_at", "op": "gt", "value": "0001-01-01T00:00:00+05:00"},
            "value",
            "between 1900-01-01",
        ),
    ],
)
def test_a_bad_value_is_named_by_its_path(
    cast: Cast, condition: dict[str, Any], where: str, message: str
) -> None:
    problems = _problems(cast, {"all": [{"tag": "vip"}, condition]}, strict=False)

    assert message in problems[f"all[1].{where}"]


def test_every_problem_is_reported_at_once_nested_like_the_json(cast: Cast) -> None:
    with pytest.raises(RulesError) as raised:
        selectors.rules_compile(
            workspace=cast.workspace,
            rules={"all": [5, {"not": {"tag": "nobody-has-this"}}, {"any": "x"}, {"all": [], "tag": "a"}]},
        )

    assert raised.value.nested() == {
        "all": {
            "0": ['A rule is a JSON object, e.g. {"tag": "vip"} or {"all": [...]}.'],
            "1": {"not": {"tag": ["There is no tag “nobody-has-this” in this workspace."]}},
            "2": {"any": ['List the rules of an “any” group, e.g. {"any": [{"tag": "vip"}]}.']},
            "3": [
                "A rule has exactly one of all, any, not, tag, segment or field (this one has several: all, tag)."
            ],
        }
    }


def test_a_tag_of_another_workspace_does_not_exist_here(cast: Cast) -> None:
    TagFactory(workspace=cast.other_workspace, name="rival-vip")

    assert _problems(cast, {"tag": "rival-vip"}) == {"tag": "There is no tag “rival-vip” in this workspace."}


def test_a_segment_of_another_workspace_does_not_exist_here(cast: Cast) -> None:
    theirs = services.segment_create(workspace=cast.other_workspace, name="Theirs", rules={"all": []})

    assert _problems(cast, {"segment": theirs.id}) == {
        "segment": f"There is no segment {theirs.id} in this workspace."
    }


def test_a_segment_cannot_include_itself_or_close_a_loop(cast: Cast) -> None:
    first = services.segment_create(workspace=cast.workspace, name="First", rules={"all": []})
    second = services.segment_create(workspace=cast.workspace, name="Second", rules={"segment": first.id})
    third = services.segment_create(workspace=cast.workspace, name="Third", rules={"segment": second.id})

    assert _problems(cast, {"segment": first.id}, segment_id=first.id) == {
        "segment": "A segment cannot include itself."
    }
    assert _problems(cast, {"any": [{"segment": third.id}]}, segment_id=first.id) == {
        "any[0].segment": "“Third” → “Second” → this segment: including it here would make a loop."
    }


def test_rules_have_limits_on_size_and_depth(cast: Cast) -> None:
    wide = {"any": [{"field": "age", "op": "eq", "value": n} for n in range(MAX_NODES + 5)]}
    deep: dict[str, Any] = {"all": []}
    for _ in range(MAX_DEPTH + 2):
        deep = {"not": deep}

    assert "Use at most 200 rules" in next(iter(_problems(cast, wide).values()))
    assert any("nest at most" in message for message in _problems(cast, deep).values())


# --- what matches ----------------------------------------------------------------------------------


def test_an_empty_all_matches_everyone_and_an_empty_any_nobody(cast: Cast) -> None:
    people = {ContactFactory(workspace=cast.workspace).id for _ in range(3)}
    ContactFactory(workspace=cast.other_workspace)

    assert _matches(cast, {"all": []}) == people
    assert _matches(cast, {"any": []}) == set()
    assert _matches(cast, {"not": {"any": []}}) == people


def test_complements_match_contacts_without_a_value(cast: Cast) -> None:
    thirty = ContactFactory(workspace=cast.workspace, age=30, city="Berlin").id
    forty = ContactFactory(workspace=cast.workspace, age=40, city="Köln").id
    unknown = ContactFactory(workspace=cast.workspace, age=None, city="").id

    assert _matches(cast, {"field": "age", "op": "neq", "value": 30}) == {forty, unknown}
    assert _matches(cast, {"field": "age", "op": "not_in", "value": [30, 40]}) == {unknown}
    assert _matches(cast, {"not": {"field": "age", "op": "gt", "value": 35}}) == {thirty, unknown}
    assert _matches(cast, {"field": "age", "op": "lt", "value": 35}) == {thirty}
    assert _matches(cast, {"field": "city", "op": "neq", "value": "Berlin"}) == {forty, unknown}
    assert _matches(cast, {"field": "city", "op": "is_empty"}) == {unknown}
    assert _matches(cast, {"field": "city", "op": "is_not_empty"}) == {thirty, forty}


def test_between_includes_both_ends(cast: Cast) -> None:
    ages = {age: ContactFactory(workspace=cast.workspace, age=age).id for age in (24, 25, 35, 36)}

    assert _matches(cast, {"field": "age", "op": "between", "value": [25, 35]}) == {ages[25], ages[35]}


def test_text_compares_case_sensitively_but_emails_and_tags_in_any_case(cast: Cast) -> None:
    vip = TagFactory(workspace=cast.workspace, name="VIP")
    maya = ContactFactory(workspace=cast.workspace, email="Maya@Example.com", city="Berlin", tags=[vip]).id
    ContactFactory(workspace=cast.workspace, city="berlin")

    assert _matches(cast, {"field": "city", "op": "eq", "value": "Berlin"}) == {maya}
    assert len(_matches(cast, {"field": "city", "op": "icontains", "value": "BERL"})) == 2
    assert _matches(cast, {"field": "email", "op": "eq", "value": "MAYA@example.COM"}) == {maya}
    assert _matches(cast, {"field": "email", "op": "startswith", "value": "MAYA@"}) == {maya}
    assert _matches(cast, {"tag": "vip"}) == {maya}


def test_a_date_on_a_date_time_field_is_that_day_in_the_workspace_time_zone(cast: Cast) -> None:
    berlin = dt.timezone(dt.timedelta(hours=1))  # Europe/Berlin in March
    before_midnight = ContactFactory(
        workspace=cast.workspace, last_purchase_at=dt.datetime(2026, 3, 1, 23, 30, tzinfo=berlin)
    ).id
    next_day = ContactFactory(
        workspace=cast.workspace, last_purchase_at=dt.datetime(2026, 3, 2, 0, 30, tzinfo=berlin)
    ).id
    never = ContactFactory(workspace=cast.workspace, last_purchase_at=None).id

    def on(op: str, value: Any) -> set[int]:
        return _matches(cast, {"field": "last_purchase_at", "op": op, "value": value})

    assert on("eq", "2026-03-01") == {before_midnight}
    assert on("after", "2026-03-01") == {next_day}
    assert on("lte", "2026-03-01") == {before_midnight}
    assert on("between", ["2026-03-01", "2026-03-02"]) == {before_midnight, next_day}
    assert on("neq", "2026-03-01") == {next_day, never}
    assert on("lt", "2026-03-02T00:30:00+01:00") == {before_midnight}


def test_relative_dates_count_back_from_now(cast: Cast) -> None:
    now = dt.datetime(2026, 6, 15, 12, tzinfo=dt.UTC)
    recent = ContactFactory(
        workspace=cast.workspace,
        last_purchase_at=now - dt.timedelta(days=3),
        customer_since=dt.date(2026, 6, 1),
    ).id
    old = ContactFactory(
        workspace=cast.workspace,
        last_purchase_at=now - dt.timedelta(days=400),
        customer_since=dt.date(2020, 1, 1),
    ).id
    ContactFactory(workspace=cast.workspace, last_purchase_at=None, customer_since=None)

    assert _matches(cast, {"field": "last_purchase_at", "op": "within_last_days", "value": 30}, now=now) == {
        recent
    }
    assert _matches(
        cast, {"field": "last_purchase_at", "op": "more_than_days_ago", "value": 365}, now=now
    ) == {old}
    assert _matches(cast, {"field": "customer_since", "op": "within_last_days", "value": 14}, now=now) == {
        recent
    }
    assert _matches(cast, {"field": "customer_since", "op": "more_than_days_ago", "value": 14}, now=now) == {
        old
    }


def test_custom_fields_compare_by_their_type_and_a_missing_value_is_empty(cast: Cast) -> None:
    for key, kind in (("shoe", "number"), ("club", "text"), ("joined", "date"), ("member", "boolean")):
        CustomFieldFactory(workspace=cast.workspace, key=key, field_type=kind)
    CustomFieldFactory(workspace=cast.workspace, key="tier", field_type="choice", choices=["silver", "gold"])
    full = ContactFactory(
        workspace=cast.workspace,
        custom={"shoe": 42.5, "club": "Alpine", "joined": "2025-05-01", "member": True, "tier": "gold"},
    ).id
    small = ContactFactory(workspace=cast.workspace, custom={"shoe": 38, "member": False}).id
    bare = ContactFactory(workspace=cast.workspace, custom={}).id

    def match(field: str, op: str, value: Any = None) -> set[int]:
        return _matches(cast, {"field": f"custom.{field}", "op": op, "value": value})

    assert match("shoe", "gt", 40) == {full}
    assert match("shoe", "between", [38, 42.5]) == {full, small}
    assert match("shoe", "neq", 38) == {full, bare}
    assert match("club", "startswith", "Alp") == {full}
    assert match("club", "is_empty") == {small, bare}
    assert match("joined", "after", "2025-01-01") == {full}
    assert match("joined", "neq", "2025-05-01") == {small, bare}
    assert match("member", "eq", False) == {small}
    assert match("member", "neq", True) == {small, bare}
    assert match("tier", "in", ["gold"]) == {full}
    assert match("tier", "not_in", ["gold"]) == {small, bare}


def test_a_deleted_tag_or_custom_field_reads_as_empty_in_a_saved_segment(cast: Cast) -> None:
    tag = TagFactory(workspace=cast.workspace, name="spring")
    field = CustomFieldFactory(workspace=cast.workspace, key="shoe", field_type="number")
    tagged = ContactFactory(workspace=cast.workspace, tags=[tag], custom={"shoe": 40}).id
    other = ContactFactory(workspace=cast.workspace).id
    rules = {"any": [{"tag": "spring"}, {"field": "custom.shoe", "op": "gt", "value": 1}]}
    segment = services.segment_create(workspace=cast.workspace, name="Spring", rules=rules)
    inverse = services.segment_create(workspace=cast.workspace, name="Not spring", rules={"not": rules})
    tag.delete()
    field.delete()

    assert set(selectors.segment_contacts(segment=segment).values_list("id", flat=True)) == set()
    assert set(selectors.segment_contacts(segment=inverse).values_list("id", flat=True)) == {tagged, other}
    assert selectors.segment_problems(segment=segment) == [
        "any[0].tag: There is no tag “spring” in this workspace.",
        "any[1].field: There is no custom field “shoe” in this workspace.",
    ]


def test_an_included_segment_counts_by_its_rules_or_its_frozen_members(cast: Cast) -> None:
    TagFactory(workspace=cast.workspace, name="vip")
    berlin = ContactFactory(workspace=cast.workspace, city="Berlin").id
    dynamic = services.segment_create(
        workspace=cast.workspace, name="Berliners", rules={"field": "city", "op": "eq", "value": "Berlin"}
    )
    frozen = services.segment_freeze(segment=dynamic, name="Berliners in March")
    newcomer = ContactFactory(workspace=cast.workspace, city="Berlin").id

    assert _matches(cast, {"segment": dynamic.id}) == {berlin, newcomer}
    assert _matches(cast, {"segment": frozen.id}) == {berlin}
    assert _matches(cast, {"not": {"segment": frozen.id}}) == {newcomer}


def test_a_count_is_one_statement_over_contacts(cast: Cast) -> None:
    tags = [TagFactory(workspace=cast.workspace, name=name) for name in ("newsletter", "churned")]
    ContactFactory.create_batch(3, workspace=cast.workspace, tags=tags[:1], age=30)
    rules = {
        "all": [
            {"tag": "newsletter"},
            {
                "any": [
                    {"field": "city", "op": "eq", "value": "Berlin"},
                    {"field": "age", "op": "between", "value": [25, 35]},
                ]
            },
            {"not": {"tag": "churned"}},
        ]
    }
    segment = services.segment_create(workspace=cast.workspace, name="Narrow", rules=rules)

    with CaptureQueriesContext(connection) as queries:
        count = selectors.segment_count(segment=segment)

    over_contacts = [
        query["sql"] for query in queries.captured_queries if '"contacts_contact"' in query["sql"]
    ]
    assert count == 3
    assert len(over_contacts) == 1
    assert over_contacts[0].startswith("SELECT COUNT(*)")
    assert over_contacts[0].count("EXISTS") == 2
    assert len(queries.captured_queries) == 2  # the tag ids, then the count


def test_counting_reaches_no_other_workspace(cast: Cast) -> None:
    rival = WorkspaceFactory()
    ContactFactory.create_batch(2, workspace=rival)
    ContactFactory(workspace=cast.workspace)

    assert selectors.rules_contacts(workspace=cast.workspace, rules={"all": []}).count() == 1
    assert Contact.objects.count() == 3
