"""Uploaded lists and their reports hold personal data: they are deleted on a schedule and with
their import or workspace, while the import's record stays."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.test import Client
from django.utils import timezone

from apps.contacts import tasks
from apps.contacts.choices import ImportStatus
from apps.contacts.importing import pipeline
from apps.contacts.models import ImportJob
from tests.conftest import Cast

pytestmark = pytest.mark.django_db


def _imported(cast: Cast, *, days_ago: int, dry_run: bool = False) -> ImportJob:
    job = pipeline.import_create(
        workspace=cast.workspace,
        upload=ContentFile(b"email\nmaya@example.com\nnot-an-email\n", name="list.csv"),
        actor=cast.owner,
        options=pipeline.ImportSettings(),
    )
    job = pipeline.import_execute(job=job, dry_run=dry_run)
    moment = timezone.now() - timedelta(days=days_ago)
    ImportJob.objects.filter(id=job.id).update(finished_at=moment, updated_at=moment)
    job.refresh_from_db()
    return job


def test_files_of_imports_older_than_the_retention_are_deleted_and_the_record_kept(cast: Cast) -> None:
    old, recent = _imported(cast, days_ago=31), _imported(cast, days_ago=29)
    old_files = [Path(old.file.path), Path(old.report.path)]

    purged = tasks.purge_import_files()

    old.refresh_from_db()
    recent.refresh_from_db()
    assert purged == 1
    assert not any(path.exists() for path in old_files)
    assert (old.file.name, old.report.name, old.created_count) == ("", "", 1)
    assert Path(recent.file.path).exists()
    assert Path(recent.report.path).exists()


def test_the_retention_is_a_setting(cast: Cast, settings: object) -> None:
    settings.IMPORT_RETENTION_DAYS = 3  # type: ignore[attr-defined]
    job = _imported(cast, days_ago=4)

    tasks.purge_import_files()

    job.refresh_from_db()
    assert not job.file


def test_an_upload_never_imported_goes_whole_after_the_retention(
    cast: Cast, django_capture_on_commit_callbacks: object
) -> None:
    job = pipeline.import_create(
        workspace=cast.workspace,
        upload=ContentFile(b"email\nmaya@example.com\n", name="list.csv"),
        actor=cast.owner,
        options=pipeline.ImportSettings(),
    )
    path = Path(job.file.path)
    ImportJob.objects.filter(id=job.id).update(updated_at=timezone.now() - timedelta(days=31))

    with django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
        tasks.purge_import_files()

    assert not ImportJob.objects.filter(id=job.id).exists()
    assert not path.exists()


def test_deleting_a_workspace_deletes_its_import_files(
    cast: Cast, django_capture_on_commit_callbacks: object
) -> None:
    job = _imported(cast, days_ago=0)
    paths = [Path(job.file.path), Path(job.report.path)]

    with django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
        cast.workspace.delete()  # as the admin deletes it

    assert not any(path.exists() for path in paths)


def test_the_import_page_says_the_files_were_deleted(cast: Cast, owner_client: Client) -> None:
    job = _imported(cast, days_ago=31)
    tasks.purge_import_files()

    page = owner_client.get(f"/w/{cast.workspace.slug}/contacts/imports/{job.id}/")
    download = owner_client.get(f"/w/{cast.workspace.slug}/contacts/imports/{job.id}/rejected.csv")

    assert page.status_code == 200
    assert "were deleted 30 days after the import" in page.content.decode()
    assert "Download rejected rows" not in page.content.decode()
    assert download.status_code == 404
    assert job.status == ImportStatus.COMPLETED
