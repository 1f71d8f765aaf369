"""Merging an import in lanes (`staging.MergeLanes`): each person goes to one lane by key, the lanes
merge at once in connections and transactions of their own, with the results of one merge."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.db import connection

from apps.contacts import tasks
from apps.contacts.choices import Consent, ImportStatus
from apps.contacts.importing import pipeline, staging
from apps.contacts.models import ConsentEvent, Contact, ImportJob, Tag
from apps.workspaces.models import Workspace
from tests.conftest import Cast
from tests.factories import ContactFactory, WorkspaceFactory

pytestmark = pytest.mark.django_db(transaction=True)

PEOPLE = 60


def _file() -> str:
    """People on one row or several (case and spaces differ), phone-only people, a bad row, tags."""
    lines = ["email,phone,first_name,city,email_consent,tags"]
    for n in range(PEOPLE):
        lines.append(f"person{n}@example.com,,Name {n},City {n % 5},,t{n % 4}")
    lines += [f",+49 30 1234{n:03d},Phone {n},Bonn,,call" for n in range(8)]
    lines += [f" PERSON{n}@Example.com ,,,Köln {n},yes,late" for n in range(0, PEOPLE, 7)]
    lines.append("not-an-email,,X,Y,,")
    return "\n".join(lines) + "\n"


def _job(workspace: Workspace, cast: Cast, text: str, **options: Any) -> ImportJob:
    return pipeline.import_create(
        workspace=workspace,
        upload=ContentFile(text.encode(), name="list.csv"),
        actor=cast.owner,
        options=pipeline.ImportSettings(**options),
    )


def _import(workspace: Workspace, cast: Cast, text: str) -> ImportJob:
    options = {"tags": ["fair"], "consent_confirmed": True, "consent_source": "Spring fair form"}
    return pipeline.import_execute(job=_job(workspace, cast, text, **options))


def _stored(workspace: Workspace) -> list[tuple[Any, ...]]:
    contacts = (
        Contact.objects.filter(workspace=workspace).prefetch_related("tags").order_by("email_normalized")
    )
    return [
        (
            c.email_normalized,
            c.phone_e164,
            c.first_name,
            c.city,
            c.email_consent,
            sorted(t.name for t in c.tags.all()),
        )
        for c in contacts.order_by("email_normalized", "phone_e164")
    ]


def _counts(job: ImportJob) -> tuple[int, int, int, int]:
    return (job.created_count, job.updated_count, job.unchanged_count, job.skipped_count)


def _existing(workspace: Workspace) -> None:
    for n in range(0, PEOPLE, 5):
        ContactFactory(workspace=workspace, email=f"person{n}@example.com", city="Berlin", first_name="")
    ContactFactory(workspace=workspace, email="", phone="+49301234003", first_name="Known")


def test_two_lanes_merge_what_one_lane_merges(
    cast: Cast, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pipeline, "STAGE_ROWS", 9)
    other = WorkspaceFactory()
    _existing(cast.workspace)
    _existing(other)
    text = _file()

    settings.IMPORT_MERGE_LANES = 1
    one = _import(cast.workspace, cast, text)
    settings.IMPORT_MERGE_LANES = 2
    two = _import(other, cast, text)

    keys = [f"person{n}@example.com" for n in range(PEOPLE)]
    assert {staging.lane_of(key, 2) for key in keys} == {0, 1}  # both lanes had people
    assert (one.status, two.status) == (ImportStatus.COMPLETED, ImportStatus.COMPLETED)
    assert _counts(two) == _counts(one)
    assert two.errors == one.errors
    assert _stored(other) == _stored(cast.workspace)
    assert ConsentEvent.objects.filter(contact__workspace=other).count() == (
        ConsentEvent.objects.filter(contact__workspace=cast.workspace).count()
    )
    assert _counts(_import(other, cast, text)) == (0, 0, len(text.splitlines()) - 2, 1)


def test_the_lane_of_a_key_is_the_same_in_python_and_in_sql() -> None:
    keys = ["maya@example.com", "jürgen.müller@example.de", "tel:+493012345678", "a", "z@x.io"]
    for lanes in (2, 3):
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {staging.LANE_OF_KEY.format(key='k')} FROM unnest(%(keys)s::text[]) k",  # noqa: S608
                {"keys": keys, "lanes": lanes},
            )
            in_sql = [lane for (lane,) in cursor.fetchall()]
        assert in_sql == [staging.lane_of(key, lanes) for key in keys]


def test_a_lane_that_fails_while_staging_stores_nothing(
    cast: Cast, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.IMPORT_MERGE_LANES = 2
    monkeypatch.setattr(pipeline, "STAGE_ROWS", 9)
    original = staging.StagedImport.add

    def fail_in_lane_one(self: staging.StagedImport, rows: Any) -> None:
        if self.lane == 1 and rows:
            raise RuntimeError("disk full")
        original(self, rows)

    monkeypatch.setattr(staging.StagedImport, "add", fail_in_lane_one)
    job = _job(cast.workspace, cast, _file())

    with pytest.raises(RuntimeError, match="disk full"):
        tasks.run_import(job.id)

    job.refresh_from_db()
    assert (job.status, job.committed_rows) == (ImportStatus.FAILED, 0)
    assert not Contact.objects.filter(workspace=cast.workspace).exists()
    assert not Tag.objects.filter(workspace=cast.workspace).exists()


def test_a_lane_whose_merge_fails_names_what_the_other_lane_stored(
    cast: Cast, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.IMPORT_MERGE_LANES = 2
    monkeypatch.setattr(pipeline, "STAGE_ROWS", 9)
    original = staging.StagedImport._merge

    def fail_in_lane_one(self: staging.StagedImport) -> Any:
        if self.lane == 1:
            raise RuntimeError("connection lost")
        return original(self)

    monkeypatch.setattr(staging.StagedImport, "_merge", fail_in_lane_one)
    text = "email,city\n" + "".join(f"person{n}@example.com,Ulm\n" for n in range(PEOPLE))
    job = _job(cast.workspace, cast, text)

    with pytest.raises(staging.PartlyMergedError):
        tasks.run_import(job.id)

    job.refresh_from_db()
    in_lane_zero = sorted(
        f"person{n}@example.com" for n in range(PEOPLE) if staging.lane_of(f"person{n}@example.com", 2) == 0
    )
    assert job.status == ImportStatus.FAILED
    assert "connection lost" in job.failure
    assert (
        f"The people of 1 of the file's 2 parts were stored before that ({len(in_lane_zero)} rows created, 0 updated)"
    ) in job.failure
    assert sorted(
        Contact.objects.filter(workspace=cast.workspace).values_list("email_normalized", flat=True)
    ) == (in_lane_zero)

    monkeypatch.setattr(staging.StagedImport, "_merge", original)
    again = pipeline.import_execute(job=_job(cast.workspace, cast, text))
    assert _counts(again) == (PEOPLE - len(in_lane_zero), 0, len(in_lane_zero), 0)
    assert Contact.objects.filter(workspace=cast.workspace, email_consent=Consent.UNKNOWN).count() == PEOPLE
