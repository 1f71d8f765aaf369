"""Cleaning an import's rows in helper processes (`importing.cleaners`): the same results as cleaning
them in the importing process, in file order, and a helper that dies fails the import whole."""

from __future__ import annotations

import io
import pickle
from typing import Any

import pytest
from django.core.files.base import ContentFile

from apps.contacts import tasks
from apps.contacts.choices import ImportStatus
from apps.contacts.importing import cleaners, pipeline
from apps.contacts.models import Contact, ImportJob
from apps.contacts.services import contact_rules
from apps.workspaces.models import Workspace
from tests.conftest import Cast
from tests.factories import ContactFactory, WorkspaceFactory

pytestmark = pytest.mark.django_db

# Valid rows, rows a helper must reject (email, date, short row) and one person on rows far apart.
FILE = (
    "email,first_name,birth_date,city,tags\n"
    + "".join(
        f"person{n}@example.com,Name {n},{1950 + n % 50}-0{1 + n % 9}-1{n % 10},City {n % 4},t{n % 3}\n"
        for n in range(40)
    )
    + "not-an-email,Ann,1990-01-01,Bonn,\n"
    + "ben@example.com,Ben,31.02.1990,Köln,\n"
    + "short@example.com,Short\n"
    + "PERSON7@example.com ,Seven,,Hamburg,late\n"
)


def _job(workspace: Workspace, cast: Cast, **options: Any) -> ImportJob:
    return pipeline.import_create(
        workspace=workspace,
        upload=ContentFile(FILE.encode(), name="list.csv"),
        actor=cast.owner,
        options=pipeline.ImportSettings(**options),
    )


def _import(workspace: Workspace, cast: Cast) -> ImportJob:
    return pipeline.import_execute(job=_job(workspace, cast, tags=["fair"]))


def _outcome(job: ImportJob) -> dict[str, Any]:
    job.report.open("rb")
    with job.report:
        report = job.report.read().decode("utf-8-sig")
    contacts = Contact.objects.filter(workspace=job.workspace).order_by("email_normalized")
    return {
        "status": job.status,
        "counts": (job.created_count, job.updated_count, job.unchanged_count, job.skipped_count),
        "errors": job.errors,
        "report": report,
        "contacts": [
            (
                c.email_normalized,
                c.first_name,
                c.birth_date,
                c.age,
                c.city,
                sorted(t.name for t in c.tags.all()),
            )
            for c in contacts.prefetch_related("tags")
        ],
    }


@pytest.fixture
def helper_batches(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The first row number of each batch a helper process was given."""
    given: list[int] = []
    original = cleaners._Helper.start

    def start(self: cleaners._Helper, rows: Any) -> None:
        given.append(rows[0][0])
        original(self, rows)

    monkeypatch.setattr(cleaners._Helper, "start", start)
    return given


def test_helper_processes_clean_with_the_same_results_in_file_order(
    cast: Cast, settings: Any, monkeypatch: pytest.MonkeyPatch, helper_batches: list[int]
) -> None:
    monkeypatch.setattr(pipeline, "STAGE_ROWS", 4)
    ContactFactory(workspace=cast.workspace, email="person3@example.com", city="Berlin")
    other = WorkspaceFactory()
    ContactFactory(workspace=other, email="person3@example.com", city="Berlin")

    settings.IMPORT_CLEANING_HELPERS = 0
    here = _outcome(_import(cast.workspace, cast))
    assert helper_batches == []
    settings.IMPORT_CLEANING_HELPERS = 2
    helped = _outcome(_import(other, cast))

    assert helper_batches == list(range(6, 46, 4))  # the first batch (rows 2-5) is cleaned here
    assert helped == here
    assert here["status"] == ImportStatus.COMPLETED
    assert here["counts"] == (39, 2, 0, 3)  # person3 existed; PERSON7 came again
    assert [(error["row"], error["column"]) for error in here["errors"]] == [
        (42, "email"),
        (43, "birth_date"),
        (44, ""),
    ]
    seven = next(contact for contact in here["contacts"] if contact[0] == "person7@example.com")
    assert (seven[1], seven[4], seven[5]) == ("Seven", "Hamburg", ["fair", "late", "t1"])


def test_a_file_of_one_batch_starts_no_helper(cast: Cast, settings: Any, helper_batches: list[int]) -> None:
    settings.IMPORT_CLEANING_HELPERS = 2

    job = _import(cast.workspace, cast)

    assert (job.status, job.created_count) == (ImportStatus.COMPLETED, 40)
    assert helper_batches == []


def test_a_helper_that_dies_fails_the_import_and_stores_nothing(
    cast: Cast, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.IMPORT_CLEANING_HELPERS = 1
    monkeypatch.setattr(pipeline, "STAGE_ROWS", 4)
    original = cleaners._Helper.start

    def start_and_die(self: cleaners._Helper, rows: Any) -> None:
        original(self, rows)
        self.process.kill()  # the kernel's OOM killer, say

    monkeypatch.setattr(cleaners._Helper, "start", start_and_die)
    job = _job(cast.workspace, cast)

    with pytest.raises(cleaners.CleaningHelperError, match="A cleaning helper stopped"):
        tasks.run_import(job.id)

    job.refresh_from_db()
    assert (job.status, job.committed_rows) == (ImportStatus.FAILED, 0)
    assert "A cleaning helper stopped" in job.failure
    assert not Contact.objects.filter(workspace=cast.workspace).exists()


def test_a_helper_reports_an_unexpected_error_with_its_traceback(cast: Cast) -> None:
    job = _job(cast.workspace, cast)
    cleaner = cleaners.RowCleaner(
        job=job, custom_types={}, field_columns={}, rules=contact_rules(workspace=cast.workspace)
    )
    batches = io.BytesIO()
    pickle.dump(cleaner, batches)
    pickle.dump([(2, ["a@example.com", "A", "", "Bonn", ""], None)], batches)
    pickle.dump([(3, ["too", "few"], None)], batches)  # the reader never passes such a row on
    batches.seek(0)
    results = io.BytesIO()

    cleaners.serve(batches, results)

    results.seek(0)
    first, second = pickle.load(results), pickle.load(results)  # noqa: S301 - written just above
    assert first[0] == "ok"
    assert [row[:2] for row in first[1].staged] == [(2, "a@example.com")]
    assert second[0] == "error"
    assert "ValueError: 2 cells for a mapping of 5 columns." in second[1]
