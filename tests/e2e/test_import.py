"""The import story of the issue in a real browser: a newcomer imports a semicolon-separated cp1252 file
with a German header, sees a correct preview, fixes the mapping, runs it with a progress bar, and
downloads the rejected rows."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from apps.accounts.models import User
from apps.contacts import tasks
from apps.contacts.choices import ImportStatus
from apps.contacts.importing import pipeline
from apps.contacts.models import Contact, ImportJob
from apps.core.roles import Role
from tests.e2e.conftest import BrowserErrors
from tests.factories import CustomFieldFactory, MembershipFactory, WorkspaceFactory

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

LogIn = Callable[[BrowserContext, User], None]

GERMAN = (
    "Vorname;Nachname;E-Mail;Telefon;Geburtsdatum;PLZ;Ort;Kundennummer\r\n"
    "Jürgen;Müller;juergen.mueller@example.de;030 1234567;05.04.1980;10115;Berlin;K-1001\r\n"
    "Renée;Weiß;renee.weiss@example.de;0171 2345678;31.12.1975;80331;München;K-1002\r\n"
    "Björn;Groß;bjoern-at-example;;12.03.1990;20095;Hamburg;K-1003\r\n"
    "Anna;Schäfer;anna.schaefer@example.de;;31.02.1990;50667;Köln;K-1004\r\n"
    "Zoë;Öztürk;zoe.oeztuerk@example.de;0151 98765432;01.07.1988;01067;Dresden;K-1005\r\n"
)


@pytest.fixture
def worker_calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, ...]]:
    """No worker picks the job up by itself: the test plays the worker while the page polls."""
    calls: list[tuple[Any, ...]] = []
    monkeypatch.setattr(tasks.run_import, "delay", lambda *args: calls.append(args))
    return calls


def test_a_newcomer_imports_a_german_semicolon_cp1252_file(
    live_server: Any,
    page: Page,
    browser_errors: BrowserErrors,
    log_in: LogIn,
    tmp_path: Path,
    worker_calls: list[tuple[Any, ...]],
) -> None:
    workspace = WorkspaceFactory(name="Acme Outdoor", slug="acme")
    newcomer = MembershipFactory(workspace=workspace, role=Role.EDITOR).user
    CustomFieldFactory(workspace=workspace, key="customer_no", label="Kundennummer", field_type="text")
    export = tmp_path / "Kunden Export.csv"
    export.write_bytes(GERMAN.encode("cp1252"))
    log_in(page.context, newcomer)

    # From the empty contact list to the upload page.
    page.goto("/w/acme/contacts/")
    page.locator(".empty-state").get_by_role("link", name="Import contacts").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Import contacts")
    page.wait_for_load_state()  # the upload script is deferred: let it start, as a person would

    # Choose the file with the real input (the drop area holds it) and upload it.
    page.get_by_label("Contact list").set_input_files(export)
    expect(page.locator("#upload-status")).to_contain_text("Chosen: Kunden Export.csv")
    page.get_by_label("Tags to add to every contact").fill("Messe 2025")
    page.get_by_role("button", name="Upload and map columns").click()
    expect(page).to_have_url(re.compile(r"/w/acme/contacts/imports/\d+/$"))
    job = ImportJob.objects.get(workspace=workspace)

    # A correct preview: cp1252 and semicolons recognised, umlauts intact, dates read day first.
    expect(page.locator(".file-facts")).to_contain_text("Read as cp1252, columns separated by semicolons.")
    expect(page.get_by_label("Vorname")).to_have_value("first_name")
    expect(page.get_by_label("Geburtsdatum")).to_have_value("birth_date")
    expect(page.get_by_label("Kundennummer")).to_have_value("")
    preview = page.locator(".preview-table")
    expect(preview).to_contain_text("Renée")
    expect(preview).to_contain_text("München")
    expect(preview).to_contain_text("31 Dec 1975")
    expect(preview.locator("td.cell-error", has_text="31.02.1990")).to_contain_text("is not a valid date")

    # Fix the mapping: the customer number goes to its custom field; the preview follows in place.
    page.get_by_label("Kundennummer").select_option("custom.customer_no")
    page.get_by_role("button", name="Save and update the preview").click()
    expect(page.locator("#import-settings")).to_contain_text("Saved; the preview below is up to date.")
    expect(preview.locator("thead")).to_contain_text("Kundennummer")
    expect(preview).to_contain_text("K-1002")

    # Run it: the page waits for a worker, polling; the worker runs; the progress bar completes.
    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.locator("#import-announce")).to_contain_text("Waiting for a worker")
    expect(page.get_by_role("button", name="Cancel import")).to_be_visible()
    assert worker_calls == [(job.id, False)]
    pipeline.import_execute(job=ImportJob.objects.get(id=job.id))

    expect(page.locator("#import-announce")).to_contain_text(
        "Import finished: 3 created, 0 updated, 2 skipped.", timeout=10_000
    )
    expect(page.locator("#import-progress progress")).to_have_attribute("value", "100")
    expect(page.locator("#import-status-badge")).to_have_text("Completed")
    expect(page.get_by_role("button", name="Cancel import")).to_have_count(0)
    expect(page.locator("#import-errors")).to_contain_text("is not a valid email address")

    # Download the rejected rows: the file's own columns plus the reason.
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download rejected rows (CSV)").click()
    download = download_info.value
    assert download.suggested_filename == "Kunden Export-rejected.csv"
    lines = Path(download.path()).read_bytes().decode("utf-8-sig").splitlines()
    assert lines[0] == "Vorname;Nachname;E-Mail;Telefon;Geburtsdatum;PLZ;Ort;Kundennummer;reason"
    assert sorted(line.split(";")[0] for line in lines[1:]) == ["Anna", "Björn"]

    renee = Contact.objects.get(workspace=workspace, email="renee.weiss@example.de")
    assert (renee.city, renee.custom) == ("München", {"customer_no": "K-1002"})
    assert set(renee.tags.values_list("name", flat=True)) == {"Messe 2025"}
    assert ImportJob.objects.get(id=job.id).status == ImportStatus.COMPLETED
    assert browser_errors.messages == []


def test_a_bad_file_is_refused_next_to_the_file_input(
    live_server: Any, page: Page, browser_errors: BrowserErrors, log_in: LogIn, tmp_path: Path
) -> None:
    workspace = WorkspaceFactory(name="Acme Outdoor", slug="acme")
    log_in(page.context, MembershipFactory(workspace=workspace, role=Role.EDITOR).user)
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")

    page.goto("/w/acme/contacts/imports/new/")
    page.get_by_label("Contact list").set_input_files(empty)
    page.get_by_role("button", name="Upload and map columns").click()

    expect(page.locator("#id_file_error")).to_have_text("The file is empty.")
    expect(page.locator("#upload-status")).to_have_text("The file was not accepted: The file is empty.")
    expect(page.get_by_label("Contact list")).to_be_focused()
    assert not ImportJob.objects.exists()
    # Chromium logs every 4xx answer as a console error; the 422 of the refused file is intended.
    intended = f"{live_server.url}/w/acme/contacts/imports/new/: Failed to load resource: the server responded with a status of 422 (Unprocessable Entity)"
    assert [message for message in browser_errors.messages if message != intended] == []
