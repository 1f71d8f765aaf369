"""The app shell in a real browser: logging in, switching workspace, inviting, editing a member."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.core import mail
from playwright.sync_api import BrowserContext, Page, expect

from apps.accounts.models import User
from apps.core.roles import Role
from apps.workspaces.models import Membership
from tests.e2e.conftest import BrowserErrors
from tests.factories import DEFAULT_PASSWORD, MembershipFactory, UserFactory, WorkspaceFactory

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

LogIn = Callable[[BrowserContext, User], None]


def test_member_of_two_workspaces_logs_in_and_switches_workspace_in_the_header(
    live_server: Any, page: Page, browser_errors: BrowserErrors
) -> None:
    user = UserFactory(email="sam@example.com")
    acme = WorkspaceFactory(name="Acme Outdoor", slug="acme")
    rival = WorkspaceFactory(name="Rival Gear", slug="rival")
    MembershipFactory(workspace=acme, user=user, role=Role.EDITOR)
    MembershipFactory(workspace=rival, user=user, role=Role.VIEWER)

    page.goto("/accounts/login/")
    page.get_by_label("Email address").fill("sam@example.com")
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Log in").click()

    # A fresh session opens the first workspace by name.
    expect(page).to_have_url(f"{live_server.url}/w/acme/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Acme Outdoor")
    switcher = page.locator("details.dropdown.workspace-switcher")
    expect(switcher.locator("summary")).to_have_text("Acme Outdoor")

    switcher.locator("summary").click()
    switcher.get_by_role("link", name="Rival Gear").click()

    expect(page).to_have_url(f"{live_server.url}/w/rival/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Rival Gear")
    expect(page.get_by_text("You are Viewer here.")).to_be_visible()
    expect(switcher.locator("summary")).to_have_text("Rival Gear")
    assert browser_errors.messages == []


def test_admin_invites_teammate_who_joins_through_the_emailed_link(
    live_server: Any,
    page: Page,
    new_context: Callable[..., BrowserContext],
    browser_errors: BrowserErrors,
    log_in: LogIn,
    settings: Any,
) -> None:
    settings.SITE_URL = live_server.url  # the emailed link is absolute: point it at this server
    workspace = WorkspaceFactory(name="Acme Outdoor", slug="acme")
    admin = MembershipFactory(workspace=workspace, role=Role.ADMIN).user
    log_in(page.context, admin)

    page.goto("/w/acme/team/")
    invite = page.locator("#invite")
    invite.get_by_label("Email address").fill("dana@acme.example")
    invite.get_by_label("Role").select_option(Role.EDITOR.value)
    invite.get_by_role("button", name="Send invitation").click()

    expect(page).to_have_url(f"{live_server.url}/w/acme/team/")
    expect(page.locator("#messages")).to_contain_text("Invitation sent to dana@acme.example.")
    pending = invite.locator("tbody tr", has_text="dana@acme.example")
    expect(pending).to_have_count(1)
    expect(pending).to_contain_text("Editor")

    assert [message.to for message in mail.outbox] == [["dana@acme.example"]]
    link = re.search(rf"{re.escape(live_server.url)}/invitations/\S+/", mail.outbox[0].body)
    assert link is not None, mail.outbox[0].body

    invitee = browser_errors.watch(new_context().new_page())  # no cookies: a different person
    invitee.goto(link.group())
    expect(invitee.get_by_role("heading", level=1)).to_have_text("Join Acme Outdoor on Ensemble")
    invitee.get_by_label("First name").fill("Dana")
    invitee.get_by_label(re.compile(r"^Password:?$")).fill("plum-orchard-lantern-42")
    invitee.get_by_label("Password again").fill("plum-orchard-lantern-42")
    invitee.get_by_role("button", name="Create login and join").click()

    expect(invitee).to_have_url(f"{live_server.url}/w/acme/")
    expect(invitee.get_by_role("heading", level=1)).to_have_text("Acme Outdoor")
    expect(invitee.get_by_text("You are Editor here.")).to_be_visible()
    expect(invitee.locator("#messages")).to_contain_text("Welcome to Acme Outdoor.")
    assert browser_errors.messages == []


def test_changing_a_member_role_swaps_only_that_row_and_says_saved(
    live_server: Any, page: Page, browser_errors: BrowserErrors, log_in: LogIn
) -> None:
    workspace = WorkspaceFactory(slug="acme")
    admin = MembershipFactory(workspace=workspace, role=Role.ADMIN)
    member = MembershipFactory(workspace=workspace, role=Role.EDITOR)
    log_in(page.context, admin.user)
    page.goto("/w/acme/team/")
    row = page.locator(f"#member-{member.id}")
    other_row = page.locator(f"#member-{admin.id}")
    # Marks that a full page load (or swapping more than the row) would wipe out.
    page.evaluate("() => { window.ensembleTestMark = true; }")
    row.evaluate("element => { element.ensembleTestMark = true; }")
    other_row.evaluate("element => { element.ensembleTestMark = true; }")

    row.get_by_label("Role").select_option(Role.APPROVER.value)
    with page.expect_response(f"{live_server.url}/w/acme/team/members/{member.id}/") as answer:
        row.get_by_role("button", name="Save").click()

    assert answer.value.request.headers.get("hx-request") == "true"
    expect(row.get_by_role("status")).to_have_text("Saved")
    expect(row.get_by_label("Role")).to_have_value(Role.APPROVER.value)
    assert row.evaluate("element => element.ensembleTestMark === undefined"), "the row was not swapped"
    assert other_row.evaluate("element => element.ensembleTestMark === true"), "another row was swapped"
    assert page.evaluate("() => window.ensembleTestMark === true"), "the page was reloaded"
    assert Membership.objects.get(id=member.id).role == Role.APPROVER
    assert browser_errors.messages == []
