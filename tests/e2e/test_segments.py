"""Segments in a real browser: a newcomer builds "women 25-35 with children, tagged newsletter, not
churned" in the builder, watches the count change with each edit, saves it, and compares it with
another segment in the overlap matrix."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from apps.accounts.models import User
from apps.core.roles import Role
from apps.segments import services
from apps.segments.models import Segment
from tests.e2e.conftest import BrowserErrors
from tests.factories import ContactFactory, MembershipFactory, TagFactory, WorkspaceFactory

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

LogIn = Callable[[BrowserContext, User], None]


def _settled(page: Page) -> None:
    """Wait until htmx has sent, swapped and settled everything: new inputs then have their triggers."""
    page.wait_for_function("() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling')")


def _choose(page: Page, select: str, value: str) -> None:
    """Pick an option of a select that re-renders the builder, and wait for the builder to show it."""
    _settled(page)
    page.locator(select).select_option(value)
    expect(page.locator(f"{select} option[selected]")).to_have_attribute("value", value)
    _settled(page)


def _add(page: Page, button: str, path: str) -> None:
    """Add a rule to the root group with one of its buttons; it appears at `path`."""
    _settled(page)
    page.get_by_role("button", name=button).last.click()
    expect(page.locator(f"#node-{path}")).to_be_attached()
    _settled(page)


def test_a_newcomer_builds_a_segment_watches_the_count_and_compares_it(
    live_server: Any, page: Page, browser_errors: BrowserErrors, log_in: LogIn
) -> None:
    workspace = WorkspaceFactory(name="Acme Outdoor", slug="acme", time_zone="Europe/Berlin")
    editor = MembershipFactory(workspace=workspace, role=Role.EDITOR).user
    newsletter = TagFactory(workspace=workspace, name="Newsletter")
    churned = TagFactory(workspace=workspace, name="Churned")
    TagFactory(workspace=workspace, name="Hiking")

    def person(name: str, gender: str, age: int, children: int, *tags: Any) -> None:
        ContactFactory(
            workspace=workspace,
            first_name=name,
            gender=gender,
            age=age,
            children_in_household=children,
            tags=list(tags),
        )

    person("Lena", "female", 29, 2, newsletter)
    person("Mia", "female", 34, 1, newsletter)
    person("Clara", "female", 31, 2, newsletter, churned)  # churned
    person("Olga", "female", 40, 1, newsletter)  # older
    person("Nora", "female", 27, 0, newsletter)  # no children
    person("Max", "male", 30, 2, newsletter)  # a man
    person("Tess", "female", 28, 1)  # not on the newsletter
    services.segment_create(workspace=workspace, name="Newsletter readers", rules={"tag": "newsletter"})
    log_in(page.context, editor)

    page.goto("/w/acme/")
    page.get_by_role("link", name="Segments").click()
    page.get_by_role("button", name="New segment").click()
    page.get_by_label("Name").fill("Young families")
    count = page.locator("#segment-preview .segment-count")
    expect(count).to_contain_text("7 contacts match")  # no rules yet: everyone
    expect(count).to_contain_text("100% of all 7 contacts")

    # Women: the field's own operators and a list of its values.
    _add(page, "+ Field", "r-0")
    _choose(page, "#r-0-field", "gender")
    expect(page.locator("#r-0-op option")).to_contain_text(["is", "is not", "is one of"])
    page.locator("select#r-0-value").select_option("female")
    expect(count).to_contain_text("6 contacts match")

    # Aged 25 to 35: a number range takes two inputs.
    _add(page, "+ Field", "r-1")
    _choose(page, "#r-1-field", "age")
    _choose(page, "#r-1-op", "between")
    page.locator("#r-1-value").fill("25")
    page.locator("#r-1-value2").fill("35")
    expect(count).to_contain_text("5 contacts match")

    # With children.
    _add(page, "+ Field", "r-2")
    _choose(page, "#r-2-field", "children_in_household")
    _choose(page, "#r-2-op", "gte")
    page.locator("input#r-2-value").fill("1")
    expect(count).to_contain_text("4 contacts match")

    # Tagged newsletter: the tag input suggests the workspace's tags as one types.
    _add(page, "+ Tag", "r-3")
    page.locator("#r-3-tag").fill("news")
    expect(page.locator("#r-3-tags option")).to_have_count(1)
    expect(page.locator("#r-3-tags option")).to_have_attribute("value", "Newsletter")
    page.locator("#r-3-tag").fill("Newsletter")
    expect(count).to_contain_text("3 contacts match")

    # Not churned: a tag condition, turned around.
    _add(page, "+ Tag", "r-4")
    page.locator("#r-4-tag").fill("Churned")
    expect(count).to_contain_text("1 contact matches")
    _settled(page)
    page.locator("#node-r-4").get_by_role("button", name="Turn this rule around (not)").click()
    expect(page.locator("#node-r-4")).to_contain_text("Not:")
    expect(count).to_contain_text("2 contacts match")
    expect(page.locator("#segment-preview")).to_contain_text("Lena")
    expect(page.locator("#segment-preview")).to_contain_text("Mia")

    page.get_by_role("button", name="Save segment").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Young families")
    expect(page.locator("#messages")).to_contain_text("Segment “Young families” saved.")
    expect(page.locator("#segment-count")).to_contain_text("2 contacts")
    expect(page.locator(".rule-outline")).to_contain_text("Gender is Female")
    expect(page.locator(".rule-outline")).to_contain_text("Has the tag “Churned”")

    saved = Segment.objects.get(name="Young families")
    assert saved.rules == {
        "all": [
            {"field": "gender", "op": "eq", "value": "female"},
            {"field": "age", "op": "between", "value": [25, 35]},
            {"field": "children_in_household", "op": "gte", "value": 1},
            {"tag": "Newsletter"},
            {"not": {"tag": "Churned"}},
        ]
    }

    # The overlap matrix: how many of the newsletter readers are young families.
    page.get_by_role("link", name="← All segments").click()
    page.get_by_label("Compare Young families").check()
    page.get_by_label("Compare Newsletter readers").check()
    page.get_by_role("button", name="Compare overlap").click()
    matrix = page.locator("#overlap-matrix")
    expect(matrix).to_contain_text("out of 7 contacts")
    young = matrix.locator("tbody tr").filter(has_text="Young families").locator("td")
    readers = matrix.locator("tbody tr").filter(has_text="Newsletter readers").locator("td")
    # Columns in list order (Newsletter readers, Young families); each row first shows its own count.
    expect(young).to_have_text(["2 28.6%", "2 100%", "2"])
    expect(readers).to_have_text(["6 85.7%", "6", "2 33.3%"])

    assert browser_errors.messages == []
