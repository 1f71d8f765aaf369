"""Contact list imports in the browser: upload, mapping with preview, questions (date order, consent),
dry run, import, progress, cancel, rejected rows, and who may do what."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from openpyxl import Workbook

from apps.contacts.choices import ImportStatus
from apps.contacts.importing import pipeline
from apps.contacts.models import Contact, ImportJob
from apps.core.roles import Role
from tests.conftest import Cast
from tests.factories import ContactFactory, CustomFieldFactory, MembershipFactory

pytestmark = pytest.mark.django_db

IMPORTS = "/w/acme/contacts/imports/"
NEW = f"{IMPORTS}new/"
HTMX = {"HTTP_HX_REQUEST": "true"}
SCRIPT = {"HTTP_X_REQUESTED_WITH": "XMLHttpRequest"}

# The file: Excel on Windows, semicolons, cp1252, no BOM, German headers and dates.
GERMAN_HEADER = "Vorname;Nachname;E-Mail;Telefon;Geburtsdatum;PLZ;Ort;Kundennummer"
GERMAN_ROWS = [
    "Jürgen;Müller;juergen.mueller@example.de;030 1234567;05.04.1980;10115;Berlin;K-1001",
    "Renée;Weiß;renee.weiss@example.de;0171 2345678;31.12.1975;80331;München;K-1002",
    "Björn;Groß;bjoern-at-example;;12.03.1990;20095;Hamburg;K-1003",
    "Anna;Schäfer;anna.schaefer@example.de;;31.02.1990;50667;Köln;K-1004",
    "Zoë;Öztürk;zoe.oeztuerk@example.de;0151 98765432;01.07.1988;01067;Dresden;K-1005",
]


def german_file() -> SimpleUploadedFile:
    text = "\r\n".join([GERMAN_HEADER, *GERMAN_ROWS]) + "\r\n"
    return SimpleUploadedFile("Kunden Export.csv", text.encode("cp1252"), content_type="text/csv")


def csv_file(text: str, name: str = "contacts.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode("utf-8"), content_type="text/csv")


@pytest.fixture
def media_root(settings: Any) -> Path:
    """Where uploads land in tests (tests/conftest.py points MEDIA_ROOT at the test's folder)."""
    return Path(settings.MEDIA_ROOT)


@pytest.fixture
def viewer_client(cast: Cast) -> Client:
    client = Client()
    client.force_login(MembershipFactory(workspace=cast.workspace, role=Role.VIEWER).user)
    return client


def _upload(client: Client, upload: SimpleUploadedFile, **data: str) -> ImportJob:
    response = client.post(NEW, {"file": upload, "mode": "upsert", "tags": "", **data})
    assert response.status_code == 302, response.content.decode()[:2000]
    return ImportJob.objects.get(id=int(response["Location"].rstrip("/").rsplit("/", 1)[1]))


def _page(client: Client, url: str, **extra: str) -> str:
    response = client.get(url, **extra)
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def _detail(job: ImportJob) -> str:
    return f"{IMPORTS}{job.id}/"


def _settings_post(job: ImportJob, action: str = "preview", **changes: str) -> dict[str, str]:
    """The mapping form as the page submits it, with `changes` applied."""
    data = {f"column_{index}": target for index, target in enumerate(job.mapping)}
    data.update(mode=job.mode, tags=", ".join(job.tags), tag_separator=job.tag_separator, action=action)
    data.update(changes)
    return data


def _selected(page: str, index: int) -> str:
    select = re.search(rf'<select name="column_{index}".*?</select>', page, re.S)
    assert select, f"no select for column {index}"
    chosen = re.search(r'<option value="([^"]*)" selected>', select.group(0))
    return chosen.group(1) if chosen else ""


RunOnCommit = Callable[..., Any]


# --- The list ------------------------------------------------------------------------------------------


def test_the_contacts_list_links_to_the_import(owner_client: Client, cast: Cast) -> None:
    ContactFactory(workspace=cast.workspace)

    page = _page(owner_client, "/w/acme/contacts/")

    assert f'href="{NEW}"' in page
    assert f'href="{IMPORTS}"' in page


def test_an_empty_contact_list_offers_the_import(owner_client: Client, cast: Cast) -> None:
    page = _page(owner_client, "/w/acme/contacts/")

    assert "No contacts yet" in page
    assert f'<a href="{NEW}">Import contacts</a>' in page


def test_the_imports_list_shows_past_imports_with_counts_and_who(
    owner_client: Client, cast: Cast, django_assert_max_num_queries: Any
) -> None:
    mine = _upload(owner_client, csv_file("email\na@example.com\n", name="spring-fair.csv"))
    ImportJob.objects.filter(id=mine.id).update(
        status=ImportStatus.COMPLETED, created_count=1234, skipped_count=7, finished_at=timezone.now()
    )
    theirs = pipeline.import_create(
        workspace=cast.other_workspace,
        upload=csv_file("email\nb@example.com\n", name="rival-secret.csv"),
        actor=cast.outsider,
        options=pipeline.ImportSettings(),
    )

    with django_assert_max_num_queries(8):
        page = _page(owner_client, IMPORTS)

    assert "spring-fair.csv" in page
    assert "Completed" in page
    assert "1,234" in page
    assert cast.owner.display_name in page
    assert theirs.original_name not in page
    assert f'href="{NEW}"' in page


def test_an_empty_imports_list_explains_what_to_do(owner_client: Client, cast: Cast) -> None:
    page = _page(owner_client, IMPORTS)

    assert "No imports yet." in page
    assert "Import contacts" in page


# --- Upload ----------------------------------------------------------------------------------------


def test_the_upload_page_has_a_real_file_input_a_drop_area_and_no_inline_script(
    owner_client: Client, cast: Cast
) -> None:
    page = _page(owner_client, NEW)

    assert re.search(r'<input type="file" name="file" accept="[^"]*\.xlsx[^"]*"', page)
    assert "data-drop-zone" in page
    assert 'aria-live="polite"' in page
    assert 'enctype="multipart/form-data"' in page
    assert '<script src="/static/js/import_upload.js" defer></script>' in page
    assert "<script>" not in page
    assert " style=" not in page
    for mode in ("create", "upsert", "update"):
        assert f'value="{mode}"' in page
    assert "Character encoding" in page
    assert "Columns separated by" in page


def test_upload_opens_the_mapping_page_with_the_suggestions(owner_client: Client, cast: Cast) -> None:
    response = owner_client.post(NEW, {"file": german_file(), "mode": "upsert", "tags": "Messe 2025"})

    job = ImportJob.objects.get()
    assert response["Location"] == _detail(job)
    assert (job.encoding, job.delimiter, job.tags) == ("cp1252", ";", ["Messe 2025"])
    page = _page(owner_client, _detail(job))
    expected = ["first_name", "last_name", "email", "phone", "birth_date", "postal_code", "city", ""]
    assert [_selected(page, index) for index in range(8)] == expected
    assert '<label for="id_column_0">Vorname</label>' in page
    assert "Jürgen" in page  # samples decoded from cp1252
    assert "München" in page
    assert "Check every row" in page
    assert "Preview: the first 5 rows as they will be stored" in page


def test_a_script_upload_answers_201_with_where_to_go(owner_client: Client, cast: Cast) -> None:
    response = owner_client.post(NEW, {"file": german_file(), "mode": "upsert"}, **SCRIPT)

    job = ImportJob.objects.get()
    assert response.status_code == 201
    assert response["Location"] == _detail(job)
    assert response.json() == {"location": _detail(job)}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "The file is empty."),
        (b"PK\x03\x04 this is not really a workbook", ""),
    ],
    ids=["empty", "broken-xlsx"],
)
def test_a_bad_file_shows_the_pipelines_message_next_to_the_input_and_stores_nothing(
    owner_client: Client, cast: Cast, media_root: Path, content: bytes, message: str
) -> None:
    upload = SimpleUploadedFile("list.xlsx" if content else "list.csv", content)

    response = owner_client.post(NEW, {"file": upload, "mode": "upsert"})

    page = response.content.decode()
    assert response.status_code == 422
    error = re.search(r'<ul class="errorlist" id="id_file_error">\s*<li>(.+?)</li>', page)
    assert error, page
    assert message in error.group(1)
    assert 'aria-invalid="true"' in page
    assert not ImportJob.objects.exists()
    assert not [path for path in media_root.rglob("*") if path.is_file()]


def test_a_bad_file_sent_by_the_script_gets_the_form_back_with_the_message(
    owner_client: Client, cast: Cast
) -> None:
    response = owner_client.post(
        NEW, {"file": SimpleUploadedFile("list.csv", b""), "mode": "create", "tags": "vip"}, **SCRIPT
    )

    page = response.content.decode()
    assert response.status_code == 422
    assert page.lstrip().startswith('<form id="upload-form"')
    assert "The file is empty." in page
    assert re.search(r'<input type="radio" name="mode" value="create"[^>]* checked>', page)
    assert 'value="vip"' in page


def test_upload_without_a_file_asks_for_one(owner_client: Client, cast: Cast) -> None:
    response = owner_client.post(NEW, {"mode": "upsert"})

    assert response.status_code == 422
    assert "Choose the file to import." in response.content.decode()


def test_an_excel_workbook_is_read_from_its_first_sheet(owner_client: Client, cast: Cast) -> None:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["E-Mail", "Vorname", "Kunde seit"])
    sheet.append(["lena@example.de", "Lena", dt.date(2019, 3, 1)])
    content = io.BytesIO()
    workbook.save(content)

    job = _upload(owner_client, SimpleUploadedFile("kunden.xlsx", content.getvalue()))
    page = _page(owner_client, _detail(job))

    assert job.kind == "xlsx"
    assert job.mapping == ["email", "first_name", "customer_since"]
    assert "Excel workbook, first sheet." in page
    assert "1 Mar 2019" in page


def test_encoding_and_delimiter_overrides_are_used(owner_client: Client, cast: Cast) -> None:
    text = "email|first_name\nzoe@example.com|Zoë\n"
    upload = SimpleUploadedFile("list.txt", text.encode("iso-8859-1"))

    job = _upload(owner_client, upload, encoding="iso-8859-1", delimiter="|")

    assert job.delimiter == "|"
    assert job.headers == ["email", "first_name"]
    assert "Zoë" in _page(owner_client, _detail(job))


# --- Mapping and preview -------------------------------------------------------------------------------


def test_changing_the_mapping_saves_it_and_updates_the_preview(owner_client: Client, cast: Cast) -> None:
    CustomFieldFactory(workspace=cast.workspace, key="customer_no", label="Kundennummer", field_type="text")
    job = _upload(owner_client, german_file())

    response = owner_client.post(
        _detail(job), _settings_post(job, column_6="", column_7="custom.customer_no"), **HTMX
    )

    page = response.content.decode()
    job.refresh_from_db()
    assert response.status_code == 200
    assert page.lstrip().startswith('<section id="import-settings"')
    assert job.mapping[6:] == ["", "custom.customer_no"]
    headings = re.search(r'<table class="preview-table">.*?</thead>', page, re.S)
    assert headings
    assert "Kundennummer" in headings.group(0)
    assert "City" not in headings.group(0)
    assert "K-1001" in page
    assert "Saved; the preview below is up to date." in page


def test_the_preview_shows_values_as_stored_with_errors_on_their_cells(
    owner_client: Client, cast: Cast
) -> None:
    job = _upload(owner_client, german_file())

    page = _page(owner_client, _detail(job))

    assert "5 Apr 1980" in page  # 05.04.1980, parsed
    assert re.search(r'<td class="cell-error">.*?31\.02\.1990', page, re.S)
    assert re.search(r'<td class="cell-error">\s*bjoern-at-example.*?not a valid email', page, re.S)
    assert "2 of these rows have problems" in page


def test_a_mapping_problem_shows_next_to_the_column(owner_client: Client, cast: Cast) -> None:
    job = _upload(owner_client, german_file())

    response = owner_client.post(_detail(job), _settings_post(job, column_7="email"), **HTMX)

    page = response.content.decode()
    assert response.status_code == 422
    assert re.search(r'id="id_column_7_error">\s*<li>.*already fills email', page)
    job.refresh_from_db()
    assert job.mapping[7] == ""


def test_a_mapping_without_email_or_phone_is_refused(owner_client: Client, cast: Cast) -> None:
    job = _upload(owner_client, german_file())

    response = owner_client.post(_detail(job), _settings_post(job, column_2="", column_3=""))

    assert response.status_code == 422
    assert "Map a column to email or phone" in response.content.decode()


def test_ambiguous_dates_ask_for_the_date_order_before_the_import(owner_client: Client, cast: Cast) -> None:
    job = _upload(
        owner_client, csv_file("email,birthday\na@example.com,05/04/1990\nb@example.com,03/02/1985\n")
    )
    question = "could be read day first or month first"

    page = _page(owner_client, _detail(job))
    refused = owner_client.post(_detail(job), _settings_post(job, action="import"))
    answered = owner_client.post(_detail(job), _settings_post(job, date_order="dmy"))

    assert pipeline.needs_date_order(job)
    assert question in page
    assert 'name="date_order"' in page
    assert refused.status_code == 422
    assert "choose one" in refused.content.decode()
    assert answered.status_code == 302
    job.refresh_from_db()
    assert job.date_order == "dmy"
    assert question not in _page(owner_client, _detail(job))


def test_clear_dates_ask_nothing(owner_client: Client, cast: Cast) -> None:
    job = _upload(owner_client, german_file())

    page = _page(owner_client, _detail(job))

    assert "could be read day first or month first" not in page


def test_a_consent_column_asks_for_confirmation_and_its_source(owner_client: Client, cast: Cast) -> None:
    job = _upload(owner_client, csv_file("email,newsletter\na@example.com,yes\n"))
    page = _page(owner_client, _detail(job))

    unsourced = owner_client.post(_detail(job), _settings_post(job, consent_confirmed="on"))
    sourced = owner_client.post(
        _detail(job), _settings_post(job, consent_confirmed="on", consent_source="Spring fair sign-up sheet")
    )

    assert job.mapping == ["email", "email_consent"]
    assert "The people in this file agreed to receive marketing; record their opt-in" in page
    assert "never re-subscribed" in page
    assert unsourced.status_code == 422
    assert re.search(r'id="id_consent_source_error">\s*<li>Say where the opt-ins', unsourced.content.decode())
    assert sourced.status_code == 302
    job.refresh_from_db()
    assert (job.consent_confirmed, job.consent_source) == (True, "Spring fair sign-up sheet")


def test_without_a_consent_column_the_question_is_not_asked(owner_client: Client, cast: Cast) -> None:
    job = _upload(owner_client, german_file())

    assert "record their opt-in" not in _page(owner_client, _detail(job))


def test_a_tags_column_asks_for_the_separator(owner_client: Client, cast: Cast) -> None:
    job = _upload(owner_client, csv_file("email,tags\na@example.com,vip;runner\n"))

    page = _page(owner_client, _detail(job))
    owner_client.post(_detail(job), _settings_post(job, tag_separator=";"))

    assert "Several tags in one cell are separated by" in page
    job.refresh_from_db()
    assert job.tag_separator == ";"
    assert "vip, runner" in _page(owner_client, _detail(job))


# --- Dry run, import, progress, cancel, rejected rows ------------------------------------------------


def test_a_dry_run_stores_nothing_then_import_now_imports(
    owner_client: Client, cast: Cast, django_capture_on_commit_callbacks: RunOnCommit
) -> None:
    job = _upload(owner_client, german_file())

    with django_capture_on_commit_callbacks(execute=True):
        checked = owner_client.post(_detail(job), _settings_post(job, action="check"))
    job.refresh_from_db()
    page = _page(owner_client, _detail(job))

    assert checked["Location"] == _detail(job)
    assert job.status == ImportStatus.VALIDATED
    assert (job.created_count, job.skipped_count) == (3, 2)
    assert not Contact.objects.filter(workspace=cast.workspace).exists()
    assert "Check finished. Nothing is stored yet" in page
    assert "Import now" in page
    assert "hx-trigger" not in page

    with django_capture_on_commit_callbacks(execute=True):
        started = owner_client.post(f"{_detail(job)}start/")
    job.refresh_from_db()

    assert started["Location"] == _detail(job)
    assert job.status == ImportStatus.COMPLETED
    assert set(Contact.objects.filter(workspace=cast.workspace).values_list("first_name", flat=True)) == {
        "Jürgen",
        "Renée",
        "Zoë",
    }
    assert "Import finished: 3 created, 0 updated, 2 skipped." in _page(owner_client, _detail(job))


def test_import_from_the_mapping_form_saves_the_settings_and_runs(
    owner_client: Client, cast: Cast, django_capture_on_commit_callbacks: RunOnCommit
) -> None:
    job = _upload(owner_client, german_file())

    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(
            _detail(job), _settings_post(job, action="import", tags="Messe 2025", mode="create"), **HTMX
        )

    job.refresh_from_db()
    assert response.status_code == 200
    assert response["HX-Redirect"] == _detail(job)
    assert (job.status, job.mode, job.tags) == (ImportStatus.COMPLETED, "create", ["Messe 2025"])
    juergen = Contact.objects.get(workspace=cast.workspace, email="juergen.mueller@example.de")
    assert list(juergen.tags.values_list("name", flat=True)) == ["Messe 2025"]


def test_the_progress_fragment_polls_while_running(owner_client: Client, cast: Cast) -> None:
    job = _upload(owner_client, german_file())
    ImportJob.objects.filter(id=job.id).update(
        status=ImportStatus.RUNNING, total_rows=5, rows_processed=2, created_count=1, skipped_count=1
    )
    page = _page(owner_client, _detail(job))

    fragment = _page(owner_client, f"{_detail(job)}progress/?seen=running", **HTMX)

    for html in (page, fragment):
        assert 'hx-trigger="every 1s"' in html
        assert '<progress value="40" max="100"' in html
        assert "2 of 5 rows" in html
    assert fragment.lstrip().startswith('<div id="import-progress"')
    assert 'id="import-errors" hx-swap-oob="true"' in fragment  # the problems, refreshed
    assert 'id="import-announce"' not in fragment  # the status did not change: nothing else moves
    assert "Cancel import" in page


def test_once_every_row_is_read_the_progress_says_the_merge_is_under_way(
    owner_client: Client, cast: Cast
) -> None:
    job = _upload(owner_client, german_file())
    ImportJob.objects.filter(id=job.id).update(status=ImportStatus.RUNNING, total_rows=5, rows_processed=5)

    fragment = _page(owner_client, f"{_detail(job)}progress/?seen=running", **HTMX)

    assert 'hx-trigger="every 1s"' in fragment
    assert "All 5 rows read; merging them into your contacts" in fragment


def test_the_progress_fragment_stops_polling_and_updates_the_page_when_finished(
    owner_client: Client, cast: Cast
) -> None:
    job = _upload(owner_client, german_file())
    ImportJob.objects.filter(id=job.id).update(
        status=ImportStatus.COMPLETED, total_rows=5, rows_processed=5, created_count=3, skipped_count=2
    )

    fragment = _page(owner_client, f"{_detail(job)}progress/?seen=running", **HTMX)

    assert 'hx-trigger="every 1s"' not in fragment
    assert '<progress value="100" max="100"' in fragment
    assert 'id="import-announce"' in fragment
    assert 'hx-swap-oob="innerHTML"' in fragment
    assert "Import finished: 3 created, 0 updated, 2 skipped." in fragment
    assert '<div id="import-actions"' in fragment
    assert "Cancel import" not in fragment


def test_the_progress_address_without_htmx_goes_to_the_page(owner_client: Client, cast: Cast) -> None:
    job = _upload(owner_client, german_file())

    response = owner_client.get(f"{_detail(job)}progress/")

    assert response["Location"] == _detail(job)


def test_settings_cannot_change_once_the_run_started(owner_client: Client, cast: Cast) -> None:
    job = _upload(owner_client, german_file())
    ImportJob.objects.filter(id=job.id).update(status=ImportStatus.RUNNING)

    response = owner_client.post(_detail(job), _settings_post(job, column_6=""), follow=True)

    job.refresh_from_db()
    assert job.mapping[6] == "city"
    assert "This import has started; its settings can no longer change." in response.content.decode()


def test_cancel_stops_a_waiting_import(owner_client: Client, cast: Cast) -> None:
    job = _upload(owner_client, german_file())
    ImportJob.objects.filter(id=job.id).update(status=ImportStatus.QUEUED)

    response = owner_client.post(f"{_detail(job)}cancel/", follow=True)

    job.refresh_from_db()
    assert job.status == ImportStatus.CANCELLED
    assert job.cancel_requested
    assert "Import cancelled." in response.content.decode()
    assert "Cancelled. Nothing was stored." in response.content.decode()


def test_cancel_asks_a_running_import_to_stop(owner_client: Client, cast: Cast) -> None:
    job = _upload(owner_client, german_file())
    ImportJob.objects.filter(id=job.id).update(status=ImportStatus.RUNNING)

    response = owner_client.post(f"{_detail(job)}cancel/", follow=True)

    job.refresh_from_db()
    assert (job.status, job.cancel_requested) == (ImportStatus.RUNNING, True)
    assert "Stopping: the import ends after the rows it is writing now." in response.content.decode()


def test_rejected_rows_download_as_csv_with_a_reason_column(
    owner_client: Client, cast: Cast, django_capture_on_commit_callbacks: RunOnCommit
) -> None:
    job = _upload(owner_client, german_file())
    with django_capture_on_commit_callbacks(execute=True):
        owner_client.post(_detail(job), _settings_post(job, action="import"))

    page = _page(owner_client, _detail(job))
    response = owner_client.get(f"{_detail(job)}rejected.csv")

    assert "Download rejected rows (CSV)" in page
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="Kunden Export-rejected.csv"'
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert rows[0] == [*GERMAN_HEADER.split(";"), "reason"]
    reasons = {row[0]: row[-1] for row in rows[1:]}
    assert set(reasons) == {"Björn", "Anna"}
    assert "E-Mail: “bjoern-at-example” is not a valid email address." in reasons["Björn"]
    assert "Geburtsdatum: “31.02.1990” is not a valid date." in reasons["Anna"]


def test_an_import_without_rejected_rows_has_no_download(owner_client: Client, cast: Cast) -> None:
    job = _upload(owner_client, csv_file("email\na@example.com\n"))

    assert owner_client.get(f"{_detail(job)}rejected.csv").status_code == 404
    assert "Download rejected rows" not in _page(owner_client, _detail(job))


# --- Who may do what --------------------------------------------------------------------------------


def test_a_viewer_cannot_upload(viewer_client: Client, cast: Cast) -> None:
    assert viewer_client.get(NEW).status_code == 403
    assert viewer_client.post(NEW, {"file": german_file(), "mode": "upsert"}).status_code == 403
    assert not ImportJob.objects.exists()
    assert f'href="{NEW}"' not in _page(viewer_client, IMPORTS)


def test_a_viewer_sees_imports_read_only(owner_client: Client, viewer_client: Client, cast: Cast) -> None:
    job = _upload(owner_client, german_file())

    page = _page(viewer_client, _detail(job))
    changed = viewer_client.post(_detail(job), _settings_post(job, column_6=""))

    assert "Vorname" in page
    assert "<select" not in page
    assert "Check every row" not in page
    assert changed.status_code == 403
    assert viewer_client.post(f"{_detail(job)}start/").status_code == 403
    assert viewer_client.post(f"{_detail(job)}cancel/").status_code == 403
    assert viewer_client.get(f"{_detail(job)}rejected.csv").status_code == 403


def test_another_workspaces_import_is_not_found(
    outsider_client: Client, owner_client: Client, cast: Cast
) -> None:
    job = _upload(owner_client, german_file())

    assert outsider_client.get(f"/w/rival/contacts/imports/{job.id}/").status_code == 404
    assert outsider_client.get(f"/w/acme/contacts/imports/{job.id}/").status_code == 404


# --- The story from the issue ---------------------------------------------------------------------------


def test_a_newcomer_imports_a_german_semicolon_cp1252_file(
    member_client: Client, cast: Cast, django_capture_on_commit_callbacks: RunOnCommit
) -> None:
    CustomFieldFactory(workspace=cast.workspace, key="customer_no", label="Kundennummer", field_type="text")

    # Upload: detected as cp1252 with semicolons; the preview shows the umlauts and parsed dates.
    uploaded = member_client.post(NEW, {"file": german_file(), "mode": "upsert", "tags": "Messe"}, **SCRIPT)
    job = ImportJob.objects.get()
    page = _page(member_client, uploaded["Location"])
    assert "Read as cp1252, columns separated by semicolons." in page
    assert "Renée" in page
    assert "31 Dec 1975" in page
    assert _selected(page, 7) == ""

    # Fix the mapping: the customer number goes to its custom field.
    fixed = member_client.post(_detail(job), _settings_post(job, column_7="custom.customer_no"), **HTMX)
    assert fixed.status_code == 200
    assert "K-1002" in fixed.content.decode()

    # Run it: the page polls the progress until it is done.
    with django_capture_on_commit_callbacks(execute=True):
        member_client.post(_detail(job), _settings_post(job, action="import", column_7="custom.customer_no"))
    job.refresh_from_db()
    done = _page(member_client, _detail(job))
    assert job.status == ImportStatus.COMPLETED
    assert (job.created_count, job.skipped_count) == (3, 2)
    assert "<progress" in done
    assert "Import finished: 3 created, 0 updated, 2 skipped." in done
    renee = Contact.objects.get(workspace=cast.workspace, email="renee.weiss@example.de")
    assert (renee.first_name, renee.last_name, renee.city, renee.postal_code) == (
        "Renée",
        "Weiß",
        "München",
        "80331",
    )
    assert renee.custom == {"customer_no": "K-1002"}
    assert renee.phone_e164 == "+491712345678"

    # Download the rejected rows, fix them, import again.
    rejected = member_client.get(f"{_detail(job)}rejected.csv")
    text = b"".join(rejected.streaming_content).decode("utf-8-sig")
    assert text.splitlines()[0].endswith(";reason")
    assert len(text.splitlines()) == 3
