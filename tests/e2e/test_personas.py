"""Personas in a real browser: an editor writes the first persona from the navigation, sees how many
real contacts fit it (loaded lazily), how many personas the plan still needs, and compares two."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from apps.accounts.models import User
from apps.core.roles import Role
from apps.personas import services
from tests.e2e.conftest import BrowserErrors
from tests.factories import ContactFactory, MembershipFactory, WorkspaceFactory

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

LogIn = Callable[[BrowserContext, User], None]


def test_an_editor_writes_a_persona_sees_its_fit_and_compares(
    live_server: Any, page: Page, browser_errors: BrowserErrors, log_in: LogIn
) -> None:
    workspace = WorkspaceFactory(name="Acme Outdoor", slug="acme", time_zone="Europe/Berlin")
    editor = MembershipFactory(workspace=workspace, role=Role.EDITOR).user
    for age, city in ((32, "München"), (40, "München"), (33, "Berlin"), (60, "München")):
        ContactFactory(workspace=workspace, age=age, city=city, gender="female")
    services.persona_create(workspace=workspace, name="City commuter", locations=["Berlin"])
    log_in(page.context, editor)

    page.goto("/w/acme/")
    page.get_by_role("link", name="Personas").click()
    expect(page.locator("#persona-progress")).to_contain_text("1 of 3 personas; add 2 more.")
    page.get_by_role("button", name="New persona").click()
    page.get_by_label("Name").fill("Weekend family adventurer")
    page.get_by_label("Age from").fill("30")
    page.get_by_label("Age to").fill("44")
    page.get_by_label("Female").check()
    page.get_by_label("Cities").fill("München")
    page.get_by_label("Representative quote").fill("If the kids are warm and dry, we stay out all day.")
    page.get_by_role("button", name="Save persona").click()

    expect(page.locator(".persona-card .segment-count")).to_contain_text("2 contacts fit")
    expect(page.locator(".persona-card .segment-count")).to_contain_text("50% of all 4 contacts")
    page.get_by_role("link", name="← All personas").click()
    expect(page.locator("#persona-progress")).to_contain_text("2 of 3 personas; add 1 more.")
    expect(page.locator("tbody tr").first.locator("td.num")).to_contain_text("1")  # City commuter: lazy
    page.get_by_role("button", name="Compare side by side").click()
    expect(page.locator(".persona-compare thead th")).to_have_count(2)
    assert browser_errors.messages == []
