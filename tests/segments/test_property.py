"""Counts from the API match an independent evaluation of the documented semantics, for random rule
trees over random small contact sets (hypothesis).

The evaluator below is written from the rules' documentation only (`apps/segments/rules.py`), not
from the compiler: `neq`, `not_in`, `is_not_empty` and `not` are complements (an empty value matches
them); every other condition never matches an empty value; `between` includes both ends; text is
case-sensitive except emails, `icontains` and tag names; a date on a date-time field is that day in
the workspace's time zone; relative ops count back from now.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from apps.contacts.models import Contact, ContactTag, CustomField, Tag
from apps.segments import selectors
from tests.conftest import Cast

pytestmark = pytest.mark.django_db

ZONE = ZoneInfo("Europe/Berlin")  # the cast's workspace
TAGS = ("VIP", "Newsletter", "churned")
KINDS = {
    "age": "number", "children_in_household": "number", "total_spent": "number", "city": "text",
    "email": "email", "gender": "choice", "email_consent": "choice", "customer_since": "date",
    "last_purchase_at": "datetime", "custom.shoe": "number", "custom.club": "text", "custom.member": "boolean",
    "custom.joined": "date", "custom.tier": "choice",
}  # fmt: skip
BASE_OPS = ["eq", "neq", "in", "not_in", "is_empty", "is_not_empty"]
ORDERED = ["gt", "gte", "lt", "lte", "between"]
OPS = {
    "number": BASE_OPS + ORDERED,
    "text": [*BASE_OPS, "contains", "icontains", "startswith"],
    "email": [*BASE_OPS, "contains", "icontains", "startswith"],
    "choice": BASE_OPS,
    "boolean": BASE_OPS,
    "date": BASE_OPS + ORDERED + ["before", "after", "within_last_days", "more_than_days_ago"],
    "datetime": BASE_OPS + ORDERED + ["before", "after", "within_last_days", "more_than_days_ago"],
}
DAY_OFFSETS = [0, 1, 7, 30, 365]


def _now() -> dt.datetime:
    return timezone.now()


def _today() -> dt.date:
    return _now().astimezone(ZONE).date()


def _day(offset: int) -> str:
    return (_today() - dt.timedelta(days=offset)).isoformat()


# --- strategies ------------------------------------------------------------------------------------

days_ago = st.sampled_from([*DAY_OFFSETS, -1])
SCALARS: dict[str, st.SearchStrategy[Any]] = {
    "age": st.integers(20, 45),
    "children_in_household": st.integers(0, 3),
    "total_spent": st.sampled_from([0, 9.99, 50, 120.5]),
    "city": st.sampled_from(["Berlin", "berlin", "Köln", "Ber", "ln"]),
    "email": st.sampled_from(["maya0@example.com", "MAYA1@EXAMPLE.COM", "example", "maya", "@EXAMPLE.com"]),
    "gender": st.sampled_from(["female", "male", "non_binary"]),
    "email_consent": st.sampled_from(["opted_in", "unknown", "opted_out"]),
    "customer_since": days_ago.map(_day),
    "last_purchase_at": st.one_of(
        days_ago.map(_day),
        days_ago.map(lambda k: (_now() - dt.timedelta(days=k, hours=6)).isoformat()),
    ),
    "custom.shoe": st.sampled_from([38, 40, 42.5]),
    "custom.club": st.sampled_from(["Alpine", "alp", "Alp"]),
    "custom.member": st.booleans(),
    "custom.joined": st.sampled_from(["2025-05-01", "2026-01-10", "2025-12-31"]),
    "custom.tier": st.sampled_from(["gold", "silver"]),
}


@st.composite
def conditions(draw: st.DrawFn) -> dict[str, Any]:
    field = draw(st.sampled_from(sorted(KINDS)))
    kind = KINDS[field]
    op = draw(st.sampled_from(OPS[kind]))
    node: dict[str, Any] = {"field": field, "op": op}
    if op in ("is_empty", "is_not_empty"):
        return node
    if op in ("within_last_days", "more_than_days_ago"):
        node["value"] = draw(st.sampled_from(DAY_OFFSETS))
    elif op in ("in", "not_in"):
        node["value"] = draw(st.lists(SCALARS[field], min_size=1, max_size=3))
    elif op == "between":
        pair = [draw(SCALARS[field]), draw(SCALARS[field])]
        if kind == "datetime":  # both dates or both instants: they then sort as their starts do
            pair = [draw(days_ago.map(_day)), draw(days_ago.map(_day))]
        node["value"] = sorted(pair)
    else:
        node["value"] = draw(SCALARS[field])
    return node


leaves = st.one_of(
    conditions(), st.sampled_from(["VIP", "vip", "NEWSLETTER", "Churned"]).map(lambda n: {"tag": n})
)
rule_trees = st.recursive(
    leaves,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3).map(lambda items: {"all": items}),
        st.lists(inner, max_size=3).map(lambda items: {"any": items}),
        inner.map(lambda item: {"not": item}),
    ),
    max_leaves=6,
)


def _maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), strategy)


people = st.fixed_dictionaries(
    {
        "email": st.sampled_from(["maya", "Maya", "jonas", ""]),
        "age": _maybe(st.integers(20, 45)),
        "children_in_household": _maybe(st.integers(0, 3)),
        "total_spent": st.sampled_from([Decimal("0"), Decimal("9.99"), Decimal("50.00"), Decimal("120.50")]),
        "city": st.sampled_from(["Berlin", "berlin", "Köln", ""]),
        "gender": st.sampled_from(["female", "male", ""]),
        "email_consent": st.sampled_from(["opted_in", "unknown", "opted_out"]),
        "customer_since": _maybe(days_ago),
        "last_purchase_at": _maybe(days_ago),
        "tags": st.lists(st.sampled_from(TAGS), unique=True, max_size=3),
        "custom": st.fixed_dictionaries(
            {},
            optional={
                "shoe": st.sampled_from([38, 40, 42.5, "42", None]),
                "club": st.sampled_from(["Alpine", "alpine", "", 5]),
                "member": st.sampled_from([True, False, "yes"]),
                "joined": st.sampled_from(["2025-05-01", "2026-01-10"]),
                "tier": st.sampled_from(["gold", "silver"]),
            },
        ),
    }
)


# --- the independent evaluation -----------------------------------------------------------------


def _value(contact: dict[str, Any], field: str) -> Any:
    """The contact's value, or None when it has none (of the field's type)."""
    kind = KINDS[field]
    if field.startswith("custom."):
        raw = contact["custom"].get(field.removeprefix("custom."))
        wanted = {"number": (int, float), "boolean": (bool,)}.get(kind, (str,))
        if (
            raw is None
            or raw == ""
            or not isinstance(raw, wanted)
            or (kind == "number" and isinstance(raw, bool))
        ):
            return None
        return dt.date.fromisoformat(raw) if kind == "date" else raw
    raw = contact["email_normalized" if field == "email" else field]
    return None if raw in (None, "") else raw


def _holds(value: Any, op: str, target: Any, kind: str) -> bool:
    if kind == "email":
        target = [t.lower() for t in target] if isinstance(target, list) else target
        target = target.lower() if isinstance(target, str) else target
    if kind == "number":
        value = Decimal(str(value))
        target = [Decimal(str(t)) for t in target] if isinstance(target, list) else Decimal(str(target))
    if kind == "date" and isinstance(target, str):
        target = dt.date.fromisoformat(target)
    if kind in ("date", "datetime") and op in ("within_last_days", "more_than_days_ago"):
        if kind == "date":
            since = _today() - dt.timedelta(days=target)
            return since <= value <= _today() if op == "within_last_days" else value < since
        since = _now() - dt.timedelta(days=target)
        return since <= value <= _now() if op == "within_last_days" else value < since
    if op == "in":
        return any(_holds(value, "eq", item, kind) for item in target)
    if op == "between":
        return _holds(value, "gte", target[0], kind) and _holds(value, "lte", target[1], kind)
    if kind == "datetime" and isinstance(target, str):
        if len(target) == 10:  # a day in the workspace's zone: compare the local date
            value, target = value.astimezone(ZONE).date(), dt.date.fromisoformat(target)
        else:
            target = dt.datetime.fromisoformat(target)
    if kind == "date" and isinstance(target, list):
        target = [dt.date.fromisoformat(t) for t in target]
    compare = {
        "eq": lambda: value == target,
        "contains": lambda: target in value,
        "icontains": lambda: target.upper() in value.upper(),
        "startswith": lambda: value.startswith(target),
        "gt": lambda: value > target,
        "after": lambda: value > target,
        "gte": lambda: value >= target,
        "lt": lambda: value < target,
        "before": lambda: value < target,
        "lte": lambda: value <= target,
    }
    return bool(compare[op]())


def matches(rule: dict[str, Any], contact: dict[str, Any]) -> bool:
    if "all" in rule:
        return all(matches(item, contact) for item in rule["all"])
    if "any" in rule:
        return any(matches(item, contact) for item in rule["any"])
    if "not" in rule:
        return not matches(rule["not"], contact)
    if "tag" in rule:
        return rule["tag"].lower() in contact["tags"]
    op, field = rule["op"], rule["field"]
    complement = {"neq": "eq", "not_in": "in", "is_not_empty": "is_empty"}
    if op in complement:
        return not matches({**rule, "op": complement[op]}, contact)
    value = _value(contact, field)
    if op == "is_empty":
        return value is None
    if value is None:
        return False
    target = rule["value"]
    return _holds(value, op, target, KINDS[field])


# --- the property ------------------------------------------------------------------------------


def _parts(rule: dict[str, Any]) -> list[dict[str, Any]]:
    """Every node below the root of a rule tree."""
    children = rule.get("all") or rule.get("any") or ([rule["not"]] if "not" in rule else [])
    return [part for child in children for part in (child, *_parts(child))]


class _DiscardExampleError(Exception):
    """Leaves the example's contacts behind: the next example starts from an empty workspace."""


def _store(cast: Cast, drawn: list[dict[str, Any]], tags: dict[str, Tag]) -> None:
    now = _now()
    contacts = []
    for index, person in enumerate(drawn):
        email = f"{person['email']}{index}@Example.com" if person["email"] else ""
        contacts.append(
            Contact(
                workspace=cast.workspace,
                email=email,
                email_normalized=email.lower(),
                age=person["age"],
                children_in_household=person["children_in_household"],
                total_spent=person["total_spent"],
                city=person["city"],
                gender=person["gender"],
                email_consent=person["email_consent"],
                customer_since=None
                if person["customer_since"] is None
                else _today() - dt.timedelta(days=person["customer_since"]),
                last_purchase_at=None
                if person["last_purchase_at"] is None
                else now - dt.timedelta(days=person["last_purchase_at"], hours=12),
                custom=person["custom"],
            )
        )
    Contact.objects.bulk_create(contacts)
    ContactTag.objects.bulk_create(
        ContactTag(contact=contact, tag=tags[name])
        for contact, person in zip(contacts, drawn, strict=True)
        for name in person["tags"]
    )


def _stored(cast: Cast) -> list[dict[str, Any]]:
    names: dict[int, set[str]] = {}
    for contact_id, name in ContactTag.objects.filter(contact__workspace=cast.workspace).values_list(
        "contact_id", "tag__name"
    ):
        names.setdefault(contact_id, set()).add(name.lower())
    rows = Contact.objects.filter(workspace=cast.workspace).values(
        "id", "email_normalized", "age", "children_in_household", "total_spent", "city", "gender",
        "email_consent", "customer_since", "last_purchase_at", "custom",
    )  # fmt: skip
    return [{**row, "tags": names.get(row["id"], set())} for row in rows]


@pytest.fixture
def vocabulary(cast: Cast) -> dict[str, Tag]:
    for key, kind, choices in (
        ("shoe", "number", []), ("club", "text", []), ("member", "boolean", []), ("joined", "date", []),
        ("tier", "choice", ["gold", "silver"]),
    ):  # fmt: skip
        CustomField.objects.create(
            workspace=cast.workspace, key=key, label=key.title(), field_type=kind, choices=choices
        )
    return {name: Tag.objects.create(workspace=cast.workspace, name=name) for name in TAGS}


@settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    drawn=st.lists(people, min_size=1, max_size=12),
    rules=st.lists(rule_trees, min_size=2, max_size=6),
    singles=st.lists(conditions(), min_size=10, max_size=25),
)
def test_api_counts_match_the_documented_semantics(
    owner_api: APIClient,
    cast: Cast,
    vocabulary: dict[str, Tag],
    drawn: list[dict[str, Any]],
    rules: list[Any],
    singles: list[Any],
) -> None:
    try:
        with transaction.atomic():
            _store(cast, drawn, vocabulary)
            contacts = _stored(cast)
            for rule in rules:
                response = owner_api.post(
                    "/api/v1/segments/preview/", {"rules": rule, "sample_size": 0}, format="json"
                )
                assert response.status_code == 200, (rule, response.json())
                expected = sum(matches(rule, contact) for contact in contacts)
                assert response.json()["count"] == expected, (rule, contacts)
            # Every node of those trees and many single conditions on their own too (compiled
            # counts, without HTTP), so no mistake hides inside a tree whose result it cannot change.
            for part in [part for rule in rules for part in _parts(rule)] + singles:
                count = selectors.rules_contacts(workspace=cast.workspace, rules=part).count()
                assert count == sum(matches(part, contact) for contact in contacts), (part, contacts)
            raise _DiscardExampleError
    except _DiscardExampleError:
        pass
