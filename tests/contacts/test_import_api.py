"""The imports REST API: upload, settings, preview, dry run, run, cancel and the rejected rows."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook
from rest_framework.test import APIClient

from apps.contacts.choices import Consent
from apps.contacts.models import ConsentEvent, Contact, ImportJob, Tag
from apps.core.roles import Role
from tests.conftest import Cast
from tests.factories import ContactFactory, issue_token

pytestmark = pytest.mark.django_db

IMPORTS = "/api/v1/imports/"
CONTACTS_CSV = (
    b"email,first_name,last_name,city\n"
    b"maya@example.com,Maya,Berg,Berlin\n"
    b"jonas@example.com,Jonas,Weber,Hamburg\n"
    b"lea@example.com,Lea,Kurz,Munich\n"
)

Upload = Callable[..., Any]


@pytest.fixture(autouse=True)
def _private_media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def viewer_api(cast: Cast) -> APIClient:
    _, key = issue_token(membership=cast.member_membership, role=Role.VIEWER)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


@pytest.fixture
def upload(member_api: APIClient, django_capture_on_commit_callbacks: Any) -> Upload:
    """POST a file as the editor; the job it starts runs (inline) once the request commits."""

    def post(
        content: bytes, name: str = "contacts.csv", client: APIClient | None = None, **fields: Any
    ) -> Any:
        with django_capture_on_commit_callbacks(execute=True):
            return (client or member_api).post(
                IMPORTS, {"file": SimpleUploadedFile(name, content), **fields}, format="multipart"
            )

    return post


@pytest.fixture
def act(member_api: APIClient, django_capture_on_commit_callbacks: Any) -> Callable[[int, str], Any]:
    """POST an action (`dry-run`, `start`, `cancel`) and let what it enqueued run."""

    def post(job_id: int, verb: str) -> Any:
        with django_capture_on_commit_callbacks(execute=True):
            return member_api.post(f"{IMPORTS}{job_id}/{verb}/")

    return post


def _job(client: APIClient, response: Any) -> dict[str, Any]:
    assert response.status_code == 202, response.content
    body = client.get(f"{IMPORTS}{response.json()['id']}/")
    assert body.status_code == 200, body.content
    return body.json()


def _counts(job: dict[str, Any]) -> tuple[int, int, int, int, int]:
    return job["created"], job["updated"], job["unchanged"], job["skipped"], job["error_count"]


def _fields(response: Any) -> dict[str, list[str]]:
    assert response.status_code == 400, response.content
    return response.json()["error"]["fields"]


def _stored_files(tmp_path: Path) -> list[Path]:
    return [path for path in (tmp_path / "media").rglob("*") if path.is_file()]


def _rejected(client: APIClient, job_id: int) -> list[dict[str, str]]:
    response = client.get(f"{IMPORTS}{job_id}/rejected/")
    assert response.status_code == 200, response.content
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


# --- Upload and run ------------------------------------------------------------------------------


def test_an_upload_answers_202_and_the_finished_job_has_its_counts(
    upload: Upload, member_api: APIClient, cast: Cast
) -> None:
    response = upload(CONTACTS_CSV)

    assert set(response.json()) >= {"id", "status"}
    job = _job(member_api, response)
    assert (job["status"], job["progress"], _counts(job)) == ("completed", 100, (3, 0, 0, 0, 0))
    assert (job["rows_processed"], job["total_rows"], job["report_url"]) == (3, 3, None)
    assert job["mapping"] == ["email", "first_name", "last_name", "city"]
    assert set(Contact.objects.filter(workspace=cast.workspace).values_list("city", flat=True)) == {
        "Berlin", "Hamburg", "Munich",
    }  # fmt: skip


def test_the_upload_answer_points_at_the_job(upload: Upload) -> None:
    response = upload(CONTACTS_CSV)

    assert response["Location"].endswith(f"{IMPORTS}{response.json()['id']}/")


def test_reimporting_the_same_file_in_upsert_mode_reports_every_row_unchanged(
    upload: Upload, member_api: APIClient
) -> None:
    upload(CONTACTS_CSV)

    job = _job(member_api, upload(CONTACTS_CSV, mode="upsert"))

    assert _counts(job) == (0, 0, 3, 0, 0)


def test_create_mode_skips_existing_contacts(upload: Upload, member_api: APIClient, cast: Cast) -> None:
    ContactFactory(workspace=cast.workspace, email="maya@example.com", city="Paris")

    job = _job(member_api, upload(CONTACTS_CSV, mode="create"))

    assert _counts(job) == (2, 0, 0, 1, 0)
    assert Contact.objects.get(workspace=cast.workspace, email_normalized="maya@example.com").city == "Paris"


def test_update_mode_skips_new_contacts(upload: Upload, member_api: APIClient, cast: Cast) -> None:
    ContactFactory(workspace=cast.workspace, email="maya@example.com", city="Paris")

    job = _job(member_api, upload(CONTACTS_CSV, mode="update"))

    assert _counts(job) == (0, 1, 0, 2, 0)
    assert Contact.objects.filter(workspace=cast.workspace).count() == 1


def test_tags_may_be_repeated_or_comma_separated(upload: Upload, member_api: APIClient, cast: Cast) -> None:
    job = _job(member_api, upload(CONTACTS_CSV, tags=["spring-fair, newsletter", "vip"]))

    assert sorted(job["tags"]) == ["newsletter", "spring-fair", "vip"]
    maya = Contact.objects.get(workspace=cast.workspace, email_normalized="maya@example.com")
    assert sorted(maya.tags.values_list("name", flat=True)) == ["newsletter", "spring-fair", "vip"]


def test_a_row_error_names_its_row_column_and_message_in_the_job_and_the_rejected_rows(
    upload: Upload, member_api: APIClient
) -> None:
    content = b"email,first_name\nmaya@example.com,Maya\nnot-an-email,Jonas\n"

    job = _job(member_api, upload(content))

    assert _counts(job) == (1, 0, 0, 1, 1)
    [error] = job["errors"]
    assert (error["row"], error["column"], error["value"]) == (3, "email", "not-an-email")
    assert "not-an-email" in error["message"]
    [row] = _rejected(member_api, job["id"])
    assert (row["email"], row["first_name"]) == ("not-an-email", "Jonas")
    assert "email" in row["reason"]
    assert "not-an-email" in row["reason"]
    assert job["report_url"].endswith(f"{IMPORTS}{job['id']}/rejected/")


def test_the_rejected_rows_are_not_found_when_every_row_was_stored(
    upload: Upload, member_api: APIClient
) -> None:
    job = _job(member_api, upload(CONTACTS_CSV))

    response = member_api.get(f"{IMPORTS}{job['id']}/rejected/")

    assert (response.status_code, response.json()["error"]["code"]) == (404, "not_found")


def test_a_semicolon_separated_cp1252_file_with_german_headers_keeps_its_umlauts(
    upload: Upload, member_api: APIClient, cast: Cast
) -> None:
    content = (
        "Vorname;Nachname;E-Mail;Telefon;Geburtsdatum;PLZ;Ort\n"
        "Jürgen;Müller;juergen@example.de;030 1234567;31.12.1980;10115;Köln\n"
        "Zoë;Straße;zoe@example.de;;01.02.1990;80331;München\n"
    ).encode("cp1252")

    job = _job(member_api, upload(content, name="kontakte.csv"))

    assert (job["status"], job["created"], job["error_count"]) == ("completed", 2, 0), job["errors"]
    assert (job["delimiter"], job["encoding"].lower().replace("-", "")) == (";", "cp1252")
    juergen = Contact.objects.get(workspace=cast.workspace, email_normalized="juergen@example.de")
    assert (juergen.first_name, juergen.last_name, juergen.city, juergen.postal_code) == (
        "Jürgen", "Müller", "Köln", "10115",
    )  # fmt: skip
    assert (str(juergen.birth_date), juergen.phone_e164) == ("1980-12-31", "+49301234567")
    zoe = Contact.objects.get(workspace=cast.workspace, email_normalized="zoe@example.de")
    assert (zoe.first_name, zoe.last_name, zoe.city) == ("Zoë", "Straße", "München")


# --- Files that cannot be imported ---------------------------------------------------------------


def test_an_empty_file_is_refused_naming_file(upload: Upload) -> None:
    fields = _fields(upload(b""))

    assert fields["file"] == ["The file is empty."]
    assert not ImportJob.objects.exists()


def test_a_zip_file_renamed_csv_is_refused_naming_file(upload: Upload, tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("contacts.txt", "email\nmaya@example.com\n")

    fields = _fields(upload(buffer.getvalue()))

    assert "ZIP" in " ".join(fields["file"])
    assert not ImportJob.objects.exists()
    assert _stored_files(tmp_path) == []  # nothing of the upload stays


def test_binary_data_renamed_csv_is_refused_naming_file(upload: Upload) -> None:
    assert "binary file" in " ".join(_fields(upload(bytes(range(256)) * 8))["file"])


def test_a_header_without_rows_fails_saying_there_are_no_data_rows(
    upload: Upload, member_api: APIClient
) -> None:
    job = _job(member_api, upload(b"email,first_name\n"))

    assert (job["status"], job["failure"]) == ("failed", "The file has a header but no data rows.")


def test_a_file_without_an_email_or_phone_column_is_refused_naming_mapping(
    upload: Upload, tmp_path: Path
) -> None:
    fields = _fields(upload(b"first_name,city\nMaya,Berlin\n"))

    assert "email or phone" in " ".join(fields["mapping"])
    assert not ImportJob.objects.exists()
    assert _stored_files(tmp_path) == []


def test_a_row_that_cannot_be_read_fails_the_import_naming_the_row(
    upload: Upload, member_api: APIClient
) -> None:
    job = _job(member_api, upload(b'email,first_name\nmaya@example.com,Maya\n"jonas@example.com,Jonas\n'))

    assert job["status"] == "failed"
    assert job["failure"].startswith("Row 3:")


def test_a_mapping_that_is_not_a_json_list_is_refused(upload: Upload) -> None:
    assert "mapping" in _fields(upload(CONTACTS_CSV, mapping="email, first_name"))


def test_an_upload_above_the_limit_is_refused_before_it_is_read(
    upload: Upload, settings: Any, cast: Cast
) -> None:
    settings.IMPORT_MAX_UPLOAD_BYTES = 1000

    response = upload(CONTACTS_CSV * 40_000)  # ~4.6 MB, over the limit and the multipart allowance

    assert (response.status_code, response.json()["error"]["code"]) == (413, "payload_too_large")
    assert "limit" in response.json()["error"]["message"]
    assert not ImportJob.objects.exists()


def test_a_file_just_over_the_limit_is_refused_naming_file(upload: Upload, settings: Any) -> None:
    settings.IMPORT_MAX_UPLOAD_BYTES = 100

    assert "limit" in " ".join(_fields(upload(CONTACTS_CSV))["file"])


def test_large_uploads_are_not_capped_by_djangos_in_memory_limits(
    upload: Upload, member_api: APIClient, settings: Any
) -> None:
    # Files stream to temporary files: only the other form fields count against these limits.
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 1024
    rows = b"".join(b"person%d@example.com,Person,%d,Berlin\n" % (n, n) for n in range(500))

    job = _job(member_api, upload(b"email,first_name,last_name,city\n" + rows))

    assert (job["status"], job["created"]) == ("completed", 500)


# --- Settings, preview, dry run, start, cancel ---------------------------------------------------


def test_a_dry_run_stores_nothing_but_reports_what_a_run_would_do(
    upload: Upload, member_api: APIClient, cast: Cast
) -> None:
    content = CONTACTS_CSV + b"broken@,Bad,Row,Bonn\n"

    job = _job(member_api, upload(content, dry_run="true", tags="spring-fair"))

    assert (job["status"], _counts(job)) == ("validated", (3, 0, 0, 1, 1))
    assert not Contact.objects.filter(workspace=cast.workspace).exists()
    assert not Tag.objects.filter(workspace=cast.workspace).exists()


def test_a_checked_import_starts_and_stores(
    upload: Upload, act: Callable[[int, str], Any], member_api: APIClient, cast: Cast
) -> None:
    job_id = upload(CONTACTS_CSV, dry_run="true").json()["id"]

    response = act(job_id, "start")

    assert _job(member_api, response)["status"] == "completed"
    assert Contact.objects.filter(workspace=cast.workspace).count() == 3


def test_a_dry_run_can_be_asked_for_again(
    upload: Upload, act: Callable[[int, str], Any], member_api: APIClient
) -> None:
    job_id = upload(CONTACTS_CSV, dry_run="true").json()["id"]

    job = _job(member_api, act(job_id, "dry-run"))

    assert (job["status"], job["created"]) == ("validated", 3)


def test_a_finished_import_cannot_start_again(upload: Upload, act: Callable[[int, str], Any]) -> None:
    job_id = upload(CONTACTS_CSV).json()["id"]

    response = act(job_id, "start")

    assert response.status_code == 400
    assert "cannot start again" in response.json()["error"]["message"]


def test_the_preview_shows_the_first_rows_as_they_will_be_stored_with_their_errors(
    upload: Upload, member_api: APIClient
) -> None:
    content = b"email,first_name,total_spent\nmaya@example.com,Maya,129.90\njonas@example.com,Jonas,lots\n"
    job_id = upload(content, dry_run="true").json()["id"]

    body = member_api.get(f"{IMPORTS}{job_id}/preview/").json()

    assert body["headers"] == ["email", "first_name", "total_spent"]
    first, second = body["rows"]
    assert first["row"] == 2
    assert first["errors"] == []
    assert (first["values"]["first_name"], first["values"]["total_spent"]) == ("Maya", "129.90")
    assert [error["column"] for error in second["errors"]] == ["total_spent"]
    assert "lots" in second["errors"][0]["message"]


def test_the_preview_limit_is_bounded(upload: Upload, member_api: APIClient) -> None:
    job_id = upload(CONTACTS_CSV, dry_run="true").json()["id"]

    assert len(member_api.get(f"{IMPORTS}{job_id}/preview/", {"limit": 1}).json()["rows"]) == 1
    assert member_api.get(f"{IMPORTS}{job_id}/preview/", {"limit": "x"}).status_code == 400


def test_patch_changes_the_mapping_before_the_import_runs(
    upload: Upload, act: Callable[[int, str], Any], member_api: APIClient, cast: Cast
) -> None:
    job_id = upload(CONTACTS_CSV, dry_run="true").json()["id"]

    response = member_api.patch(
        f"{IMPORTS}{job_id}/", {"mapping": ["email", "last_name", "first_name", ""]}, format="json"
    )
    act(job_id, "start")

    assert response.status_code == 200, response.content
    assert (response.json()["mapping"], response.json()["status"]) == (
        ["email", "last_name", "first_name", ""],
        "uploaded",
    )
    maya = Contact.objects.get(workspace=cast.workspace, email_normalized="maya@example.com")
    assert (maya.first_name, maya.last_name, maya.city) == ("Berg", "Maya", "")


def test_patch_keeps_the_settings_it_does_not_name(upload: Upload, member_api: APIClient) -> None:
    job_id = upload(CONTACTS_CSV, dry_run="true", tags="vip", mode="create").json()["id"]

    body = member_api.patch(f"{IMPORTS}{job_id}/", {"date_order": "dmy"}, format="json").json()

    assert (body["tags"], body["mode"], body["date_order"]) == (["vip"], "create", "dmy")


def test_patch_refuses_a_mapping_without_email_or_phone(upload: Upload, member_api: APIClient) -> None:
    job_id = upload(CONTACTS_CSV, dry_run="true").json()["id"]

    response = member_api.patch(f"{IMPORTS}{job_id}/", {"mapping": ["", "first_name", "", ""]}, format="json")

    assert "mapping" in _fields(response)


def test_patch_refuses_settings_read_from_the_file(upload: Upload, member_api: APIClient) -> None:
    job_id = upload(CONTACTS_CSV, dry_run="true").json()["id"]

    response = member_api.patch(f"{IMPORTS}{job_id}/", {"encoding": "cp1252"}, format="json")

    assert "encoding" in _fields(response)


def test_the_settings_of_a_finished_import_are_fixed(upload: Upload, member_api: APIClient) -> None:
    job_id = upload(CONTACTS_CSV).json()["id"]

    response = member_api.patch(f"{IMPORTS}{job_id}/", {"mode": "create"}, format="json")

    assert response.status_code == 400
    assert "fixed" in response.json()["error"]["message"]


def test_cancel_stops_an_import_that_has_not_started(
    upload: Upload, act: Callable[[int, str], Any], member_api: APIClient, cast: Cast
) -> None:
    job_id = upload(CONTACTS_CSV, dry_run="true").json()["id"]

    response = act(job_id, "cancel")

    assert (response.status_code, response.json()["status"]) == (200, "cancelled")
    assert act(job_id, "start").status_code == 400
    assert not Contact.objects.filter(workspace=cast.workspace).exists()


def test_ambiguous_dates_need_a_date_order_before_the_import_starts(upload: Upload) -> None:
    content = b"email,birth_date\nmaya@example.com,03/04/1990\njonas@example.com,05/06/1985\n"

    fields = _fields(upload(content))

    assert "date_order" in fields
    assert not ImportJob.objects.exists()


def test_iso_and_dotted_dates_need_no_date_order(upload: Upload, member_api: APIClient, cast: Cast) -> None:
    content = (
        b"email,birth_date,customer_since\nmaya@example.com,1990-03-04,01.02.2020\njonas@example.com,,\n"
    )

    job = _job(member_api, upload(content))

    assert (job["status"], job["needs_date_order"], job["created"]) == ("completed", False, 2)
    maya = Contact.objects.get(workspace=cast.workspace, email_normalized="maya@example.com")
    assert (str(maya.birth_date), str(maya.customer_since)) == ("1990-03-04", "2020-02-01")


def test_the_job_says_when_it_needs_a_date_order(upload: Upload, member_api: APIClient) -> None:
    content = b"email,birth_date\nmaya@example.com,03/04/1990\n"
    job_id = upload(content, dry_run="true", mapping=json.dumps(["email", ""])).json()["id"]

    patched = member_api.patch(f"{IMPORTS}{job_id}/", {"mapping": ["email", "birth_date"]}, format="json")

    assert patched.json()["needs_date_order"] is True
    assert "date_order" in _fields(member_api.post(f"{IMPORTS}{job_id}/start/"))


def test_a_date_order_reads_ambiguous_dates(upload: Upload, member_api: APIClient, cast: Cast) -> None:
    content = b"email,birth_date\nmaya@example.com,03/04/1990\n"

    job = _job(member_api, upload(content, date_order="mdy"))

    assert (job["status"], job["date_order"]) == ("completed", "mdy")
    assert str(Contact.objects.get(workspace=cast.workspace).birth_date) == "1990-03-04"


# --- Consent -------------------------------------------------------------------------------------


def test_an_import_never_resubscribes_a_contact_who_opted_out(
    upload: Upload, member_api: APIClient, cast: Cast
) -> None:
    maya = ContactFactory(workspace=cast.workspace, email="maya@example.com", email_consent=Consent.OPTED_OUT)
    content = b"email,email_consent\nmaya@example.com,yes\njonas@example.com,yes\n"

    job = _job(
        member_api,
        upload(content, consent_confirmed="true", consent_source="Spring fair sign-up form"),
    )

    assert job["status"] == "completed", job
    maya.refresh_from_db()
    assert maya.email_consent == Consent.OPTED_OUT
    jonas = Contact.objects.get(workspace=cast.workspace, email_normalized="jonas@example.com")
    assert (jonas.email_consent, jonas.email_consent_source) == (Consent.OPTED_IN, "Spring fair sign-up form")


def test_without_confirmed_consent_an_import_records_no_opt_in(
    upload: Upload, member_api: APIClient, cast: Cast
) -> None:
    content = b"email,email_consent\nmaya@example.com,yes\n"

    job = _job(member_api, upload(content))

    assert (job["status"], job["created"]) == ("completed", 1)
    maya = Contact.objects.get(workspace=cast.workspace)
    assert maya.email_consent == Consent.UNKNOWN
    assert not ConsentEvent.objects.filter(contact=maya, status=Consent.OPTED_IN).exists()


def test_confirmed_consent_needs_its_source(upload: Upload) -> None:
    assert "consent_source" in _fields(upload(CONTACTS_CSV, consent_confirmed="true"))


# --- Reading, roles and workspaces ---------------------------------------------------------------


def test_the_list_shows_the_workspaces_imports_newest_first(upload: Upload, member_api: APIClient) -> None:
    first = upload(CONTACTS_CSV, name="first.csv").json()["id"]
    second = upload(CONTACTS_CSV, name="second.csv").json()["id"]

    body = member_api.get(IMPORTS).json()

    assert [job["id"] for job in body["results"]] == [second, first]
    assert body["results"][0]["original_name"] == "second.csv"


def test_the_list_is_read_with_a_bounded_number_of_queries(
    upload: Upload, member_api: APIClient, django_assert_max_num_queries: Any
) -> None:
    for _ in range(3):
        upload(CONTACTS_CSV)

    with django_assert_max_num_queries(8):
        assert member_api.get(IMPORTS).status_code == 200


def test_a_viewer_reads_the_status_but_cannot_import(
    upload: Upload, viewer_api: APIClient, act: Callable[[int, str], Any]
) -> None:
    job_id = upload(CONTACTS_CSV, dry_run="true").json()["id"]

    assert viewer_api.get(f"{IMPORTS}{job_id}/").json()["status"] == "validated"
    assert upload(CONTACTS_CSV, client=viewer_api).status_code == 403
    assert viewer_api.post(f"{IMPORTS}{job_id}/start/").status_code == 403
    assert viewer_api.patch(f"{IMPORTS}{job_id}/", {"mode": "create"}, format="json").status_code == 403
    assert viewer_api.get(f"{IMPORTS}{job_id}/rejected/").status_code == 403


def test_another_workspaces_import_is_not_found(upload: Upload, cast: Cast) -> None:
    job_id = upload(CONTACTS_CSV).json()["id"]
    outsider = cast.outsider_membership
    _, key = issue_token(membership=outsider)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")

    assert client.get(f"{IMPORTS}{job_id}/").status_code == 404
    assert client.post(f"{IMPORTS}{job_id}/cancel/").status_code == 404
    assert job_id not in [job["id"] for job in client.get(IMPORTS).json()["results"]]


def test_a_mapping_given_at_upload_is_used(upload: Upload, member_api: APIClient, cast: Cast) -> None:
    mapping = json.dumps(["email", "", "", "region"])

    job = _job(member_api, upload(CONTACTS_CSV, mapping=mapping))

    assert job["mapping"] == ["email", "", "", "region"]
    maya = Contact.objects.get(workspace=cast.workspace, email_normalized="maya@example.com")
    assert (maya.first_name, maya.region) == ("", "Berlin")


def test_an_xlsx_workbook_imports_like_a_csv(upload: Upload, member_api: APIClient, cast: Cast) -> None:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["E-Mail", "Vorname", "Geburtsdatum"])
    sheet.append(["maya@example.com", "Maya", dt.datetime(1990, 3, 4)])  # noqa: DTZ001 - a spreadsheet date
    buffer = io.BytesIO()
    workbook.save(buffer)

    job = _job(member_api, upload(buffer.getvalue(), name="kontakte.xlsx"))

    assert (job["kind"], job["status"], job["created"]) == ("xlsx", "completed", 1)
    maya = Contact.objects.get(workspace=cast.workspace)
    assert (maya.first_name, str(maya.birth_date)) == ("Maya", "1990-03-04")
