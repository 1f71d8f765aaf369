"""Campaigns in a real browser: an editor creates a campaign from the navigation, adds an email, and
watches the live preview fill the merge tag's fallback as they type."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from apps.accounts.models import User
from apps.core.roles import Role
from tests.e2e.conftest import BrowserErrors
from tests.factories import MembershipFactory, WorkspaceFactory

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

LogIn = Callable[[BrowserContext, User], None]


def test_an_editor_creates_a_campaign_with_an_email_and_sees_the_live_preview(
    live_server: Any, page: Page, browser_errors: BrowserErrors, log_in: LogIn
) -> None:
    workspace = WorkspaceFactory(name="Acme Outdoor", slug="acme", time_zone="Europe/Berlin")
    editor = MembershipFactory(workspace=workspace, role=Role.EDITOR).user
    log_in(page.context, editor)

    page.goto("/w/acme/")
    page.get_by_role("link", name="Campaigns").click()
    page.get_by_role("button", name="New campaign").click()
    page.get_by_label("Name").fill("Spring launch")
    page.get_by_label("Goal").fill("Sell the spring range")
    page.get_by_role("button", name="Save campaign").click()
    expect(page.get_by_role("heading", name="Spring launch")).to_be_visible()
    page.get_by_label("Channel", exact=True).select_option("email")
    page.get_by_role("button", name="Add channel item").click()
    page.locator("#id_name").fill("Launch email")
    page.locator("#id_subject").fill('Hi {{ first_name|default:"there" }}, spring is here')

    expect(page.locator("#item-preview .preview-subject")).to_have_text("Hi there, spring is here")
    page.locator("#id_body_text").fill("Hi {{ frist_name }}")
    expect(page.locator("#item-preview .merge-problems")).to_contain_text("line 1, column 4")
    page.locator("#id_body_text").fill('Hi {{ first_name|default:"there" }}')
    expect(page.locator("#item-preview .preview-text")).to_have_text("Hi there")
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_role("heading", name="Launch email")).to_be_visible()
    expect(page.locator("#item-preview .preview-subject")).to_have_text("Hi there, spring is here")
    assert browser_errors.messages == []
