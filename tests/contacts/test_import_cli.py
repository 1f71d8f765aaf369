"""`manage.py import_contacts`: the import pipeline from the command line."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from rest_framework.test import APIClient

from apps.contacts.models import Contact
from tests.conftest import Cast
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db

CONTACTS_CSV = (
    b"email,first_name,city\n"
    b"maya@example.com,Maya,Berlin\n"
    b"jonas@example.com,Jonas,Hamburg\n"
    b"not-an-email,Lea,Munich\n"
    b"anna@example.com,Anna,Bonn\n"
)


@pytest.fixture(autouse=True)
def _private_media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def contacts_file(tmp_path: Path) -> Path:
    path = tmp_path / "contacts.csv"
    path.write_bytes(CONTACTS_CSV)
    return path


def _run(*args: str) -> dict[str, Any]:
    out = StringIO()
    call_command("import_contacts", *args, stdout=out)
    return json.loads(out.getvalue().strip().splitlines()[-1])


def test_the_command_prints_one_json_summary_line_last(contacts_file: Path, cast: Cast) -> None:
    summary = _run(str(contacts_file), "--workspace", cast.workspace.slug)

    assert {key: summary[key] for key in ("created", "updated", "unchanged", "skipped")} == {
        "created": 3, "updated": 0, "unchanged": 0, "skipped": 1,
    }  # fmt: skip
    assert Contact.objects.filter(workspace=cast.workspace).count() == 3


def test_row_errors_are_reported_with_row_column_and_message_and_the_command_succeeds(
    contacts_file: Path, cast: Cast
) -> None:
    summary = _run(str(contacts_file), "--workspace", cast.workspace.slug)  # no CommandError: exit 0

    [error] = summary["errors"]
    assert (error["row"], error["column"]) == (4, "email")
    assert "not-an-email" in error["message"]


def test_the_cli_and_the_api_count_the_same_file_alike(
    contacts_file: Path, cast: Cast, member_api: APIClient, django_capture_on_commit_callbacks: Any
) -> None:
    ContactFactory(workspace=cast.workspace, email="anna@example.com", city="Bonn", first_name="Anna")
    ContactFactory(workspace=cast.other_workspace, email="anna@example.com", city="Bonn", first_name="Anna")

    by_cli = _run(str(contacts_file), "--workspace", cast.other_workspace.slug)
    with django_capture_on_commit_callbacks(execute=True):
        response = member_api.post(
            "/api/v1/imports/",
            {"file": SimpleUploadedFile("contacts.csv", CONTACTS_CSV)},
            format="multipart",
        )
    job = member_api.get(f"/api/v1/imports/{response.json()['id']}/").json()
    by_api = {
        "created": job["created"],
        "updated": job["updated"],
        "unchanged": job["unchanged"],
        "skipped": job["skipped"],
        "errors": [{key: error[key] for key in ("row", "column", "message")} for error in job["errors"]],
    }

    assert by_cli == by_api
    assert (by_cli["created"], by_cli["unchanged"], by_cli["skipped"], len(by_cli["errors"])) == (2, 1, 1, 1)


def test_tag_options_tag_every_imported_contact(contacts_file: Path, cast: Cast) -> None:
    _run(str(contacts_file), "--workspace", cast.workspace.slug, "--tag", "spring-fair", "--tag", "vip")

    maya = Contact.objects.get(workspace=cast.workspace, email_normalized="maya@example.com")
    assert sorted(maya.tags.values_list("name", flat=True)) == ["spring-fair", "vip"]


def test_mode_create_skips_existing_contacts(contacts_file: Path, cast: Cast) -> None:
    ContactFactory(workspace=cast.workspace, email="maya@example.com", city="Paris")

    summary = _run(str(contacts_file), "--workspace", cast.workspace.slug, "--mode", "create")

    assert (summary["created"], summary["skipped"]) == (2, 2)
    assert Contact.objects.get(workspace=cast.workspace, email_normalized="maya@example.com").city == "Paris"


def test_a_dry_run_stores_nothing(contacts_file: Path, cast: Cast) -> None:
    summary = _run(str(contacts_file), "--workspace", cast.workspace.slug, "--dry-run")

    assert summary["created"] == 3
    assert not Contact.objects.filter(workspace=cast.workspace).exists()


def test_a_file_that_cannot_be_read_fails_the_command(tmp_path: Path, cast: Cast) -> None:
    path = tmp_path / "contacts.csv"
    path.write_bytes(b"PK\x03\x04" + bytes(range(256)) * 4)

    with pytest.raises(CommandError):
        call_command("import_contacts", str(path), "--workspace", cast.workspace.slug, stdout=StringIO())


def test_an_empty_file_fails_the_command(tmp_path: Path, cast: Cast) -> None:
    path = tmp_path / "contacts.csv"
    path.write_bytes(b"")

    with pytest.raises(CommandError, match="empty"):
        call_command("import_contacts", str(path), "--workspace", cast.workspace.slug, stdout=StringIO())


def test_a_missing_file_fails_the_command(tmp_path: Path, cast: Cast) -> None:
    with pytest.raises(CommandError, match="not a file"):
        call_command(
            "import_contacts",
            str(tmp_path / "nope.csv"),
            "--workspace",
            cast.workspace.slug,
            stdout=StringIO(),
        )


def test_an_unknown_workspace_fails_the_command(contacts_file: Path, cast: Cast) -> None:
    with pytest.raises(CommandError, match="no workspace"):
        call_command("import_contacts", str(contacts_file), "--workspace", "nope", stdout=StringIO())
