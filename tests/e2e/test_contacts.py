"""Contacts in a real browser: search, open, edit with an inline error, tag, erase."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from apps.accounts.models import User
from apps.contacts.cleaning import address_hash
from apps.contacts.models import Contact, Suppression
from apps.core.roles import Role
from tests.e2e.conftest import BrowserErrors
from tests.factories import ContactFactory, MembershipFactory, TagFactory, WorkspaceFactory

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

LogIn = Callable[[BrowserContext, User], None]


def test_an_editor_finds_fixes_tags_and_erases_a_contact(
    live_server: Any, page: Page, browser_errors: BrowserErrors, log_in: LogIn
) -> None:
    workspace = WorkspaceFactory(name="Acme Outdoor", slug="acme")
    editor = MembershipFactory(workspace=workspace, role=Role.EDITOR).user
    TagFactory(workspace=workspace, name="vip")
    maya = ContactFactory(workspace=workspace, first_name="Maya", last_name="Berg", email="maya@example.com")
    ContactFactory(workspace=workspace, first_name="Jonas", last_name="Weber")
    log_in(page.context, editor)

    # Search: typing updates the rows in place (htmx) and the address bar keeps the search.
    page.goto("/w/acme/contacts/")
    rows = page.locator("#contact-results tbody tr")
    expect(rows).to_have_count(2)
    page.get_by_label("Search contacts").fill("maya")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Maya Berg")
    expect(page).to_have_url(f"{live_server.url}/w/acme/contacts/?q=maya")
    expect(page.locator("#contact-summary")).to_contain_text("1 contact")

    # Open the contact, then edit it with a mistake: the error shows next to the field.
    rows.first.get_by_role("link", name="Maya Berg").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Maya Berg")
    page.get_by_role("button", name="Edit").click()
    email = page.get_by_label("Email:", exact=True)
    email.fill("maya-at-example")
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator("#id_email_error")).to_contain_text("is not a valid email address")
    expect(email).to_have_attribute("aria-invalid", "true")
    expect(email).to_be_focused()
    expect(page.get_by_role("alert")).to_contain_text("Nothing was saved")

    # Fix it: saved, back on the contact page.
    email.fill("maya.berg@example.com")
    page.get_by_role("button", name="Save changes").click()
    expect(page).to_have_url(f"{live_server.url}/w/acme/contacts/{maya.id}/")
    expect(page.locator("#messages")).to_contain_text("Changes to “Maya Berg” saved.")
    expect(page.locator("hgroup")).to_contain_text("maya.berg@example.com")

    # Tag: the tag section is swapped in place and the change is announced.
    page.get_by_label("Add a tag").fill("Newsletter")
    page.get_by_role("button", name="Add", exact=True).click()
    tags = page.locator("#contact-tags")
    expect(tags.locator(".tag-chip")).to_have_text(["Newsletter"])
    expect(page.locator("#contact-tags-status")).to_have_text("Tag “Newsletter” added.")

    # Erase: a page explains what happens first.
    page.get_by_role("button", name="Erase…").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Erase Maya Berg?")
    page.get_by_role("button", name="Erase this contact").click()
    expect(page).to_have_url(f"{live_server.url}/w/acme/contacts/")
    expect(page.locator("#messages")).to_contain_text("The contact was erased.")
    expect(page.locator("#contact-results")).not_to_contain_text("Maya")

    assert not Contact.objects.filter(id=maya.id).exists()
    assert Suppression.objects.filter(
        workspace=workspace, address_hash=address_hash("email", "maya.berg@example.com")
    ).exists()
    # Chromium logs every 4xx answer as a console error; the 422 of the invalid form is intended.
    intended = f"{live_server.url}/w/acme/contacts/{maya.id}/edit/: Failed to load resource: the server responded with a status of 422 (Unprocessable Entity)"
    assert [message for message in browser_errors.messages if message != intended] == []
