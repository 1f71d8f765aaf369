from __future__ import annotations

from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile

from apps.contacts import tasks
from apps.contacts.choices import ImportStatus
from apps.contacts.importing import pipeline
from apps.contacts.models import Contact
from tests.conftest import Cast

pytestmark = pytest.mark.django_db


def _upload(cast: Cast, text: str, **options: object) -> object:
    return pipeline.import_create(
        workspace=cast.workspace,
        upload=ContentFile(text.encode(), name="list.csv"),
        actor=cast.owner,
        options=pipeline.ImportSettings(**options),  # type: ignore[arg-type]
    )


def test_a_file_whose_columns_are_not_recognised_is_kept_so_the_mapping_can_be_fixed(cast: Cast) -> None:
    job = _upload(cast, "Kontakt,Stadt\nmaya@example.com,Berlin\n")

    with pytest.raises(ValidationError) as error:
        pipeline.import_enqueue(job=job)
    pipeline.import_configure(job=job, options=pipeline.ImportSettings(mapping=["email", "city"]))
    pipeline.import_execute(job=job)

    assert "mapping" in error.value.message_dict
    assert Contact.objects.get(email_normalized="maya@example.com").city == "Berlin"


def test_a_mapping_given_at_upload_is_checked_at_once(cast: Cast) -> None:
    with pytest.raises(ValidationError) as error:
        _upload(cast, "Kontakt,Stadt\nmaya@example.com,Berlin\n", mapping=["city", ""])

    assert "mapping" in error.value.message_dict


def test_an_unexpected_failure_marks_the_job_failed_and_keeps_committed_chunks(cast: Cast) -> None:
    job = _upload(cast, "email\nmaya@example.com\n")

    with (
        mock.patch.object(pipeline, "import_execute", side_effect=OSError("disk gone")),
        pytest.raises(OSError, match="disk gone"),
    ):
        tasks.run_import(job.id)

    job.refresh_from_db()
    assert job.status == ImportStatus.FAILED
    assert "disk gone" in job.failure


def test_a_dry_run_of_a_file_stores_nothing_but_counts_what_would_happen(cast: Cast) -> None:
    job = _upload(cast, "email,city\nmaya@example.com,Berlin\nnot-an-email,Köln\n")

    job = pipeline.import_execute(job=job, dry_run=True)

    assert (job.status, job.created_count, job.skipped_count) == (ImportStatus.VALIDATED, 1, 1)
    assert not Contact.objects.exists()
