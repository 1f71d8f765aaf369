"""How an import merges a file into the contacts: the same rules on both paths.

PostgreSQL imports stage the file and merge it set-based (`importing.staging`); the embedded SQLite
default goes chunk by chunk through `contacts_bulk_upsert`. Every test here runs on both paths (the
chunked one forced on PostgreSQL), so they cannot drift apart.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.db import connection

from apps.contacts import tasks
from apps.contacts.choices import Channel, Consent, ImportStatus
from apps.contacts.cleaning import address_hash
from apps.contacts.importing import cleaners, pipeline, staging
from apps.contacts.models import ConsentEvent, Contact, ContactTag, ImportJob, Suppression, Tag
from tests.conftest import Cast
from tests.factories import ContactFactory, CustomFieldFactory, TagFactory, WorkspaceFactory

pytestmark = pytest.mark.django_db

Run = Callable[..., ImportJob]


@pytest.fixture(params=["staged", "chunked"])
def run_import(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, cast: Cast) -> Run:
    if request.param == "chunked":
        monkeypatch.setattr(staging, "is_available", lambda: False)

    def run(text: str, *, dry_run: bool = False, workspace: Any = None, **options: Any) -> ImportJob:
        job = pipeline.import_create(
            workspace=workspace or cast.workspace,
            upload=ContentFile(text.encode(), name="list.csv"),
            actor=cast.owner,
            options=pipeline.ImportSettings(**options),
        )
        return pipeline.import_execute(job=job, dry_run=dry_run)

    return run


def _counts(job: ImportJob) -> tuple[int, int, int, int]:
    return (job.created_count, job.updated_count, job.unchanged_count, job.skipped_count)


def _contact(cast: Cast, email: str) -> Contact:
    return Contact.objects.get(workspace=cast.workspace, email_normalized=email)


def test_rows_of_one_person_merge_with_the_last_non_empty_value_winning(run_import: Run, cast: Cast) -> None:
    job = run_import(
        "email,first_name,city,orders_count\n"
        "maya@example.com,Maya,Berlin,3\n"
        "jonas@example.com,Jonas,,\n"
        " MAYA@Example.com ,,Hamburg,\n"
    )

    assert job.status == ImportStatus.COMPLETED
    assert _counts(job) == (2, 1, 0, 0)
    maya = _contact(cast, "maya@example.com")
    assert (maya.first_name, maya.city, maya.orders_count, maya.email) == (
        "Maya",
        "Hamburg",
        3,
        "MAYA@Example.com",
    )
    assert Contact.objects.filter(workspace=cast.workspace).count() == 2


def test_empty_cells_never_erase_stored_values(run_import: Run, cast: Cast) -> None:
    ContactFactory(workspace=cast.workspace, email="maya@example.com", first_name="Maya", city="Berlin")

    job = run_import("email,first_name,city\nmaya@example.com,,Köln\n")

    maya = _contact(cast, "maya@example.com")
    assert (maya.first_name, maya.city) == ("Maya", "Köln")
    assert _counts(job) == (0, 1, 0, 0)


def test_importing_the_same_file_again_reports_every_row_unchanged(run_import: Run, cast: Cast) -> None:
    text = (
        "email,first_name,phone,tags\n"
        "maya@example.com,Maya,+49 151 23456789,vip\n"
        " Maya@Example.COM ,,,newsletter\n"
        ",Lea,+49 151 98765432,\n"
    )
    run_import(text)
    before = dict(Contact.objects.filter(workspace=cast.workspace).values_list("id", "updated_at"))

    job = run_import(text)

    assert _counts(job) == (0, 0, 3, 0)
    after = dict(Contact.objects.filter(workspace=cast.workspace).values_list("id", "updated_at"))
    assert after == before


def test_a_row_without_email_is_matched_by_its_phone(run_import: Run, cast: Cast) -> None:
    lea = ContactFactory(
        workspace=cast.workspace,
        email="",
        phone="+49 151 98765432",
        phone_e164="+4915198765432",
        first_name="",
    )

    job = run_import("email,phone,first_name\n,+49 151 98765432,Lea\n")

    lea.refresh_from_db()
    assert lea.first_name == "Lea"
    assert _counts(job) == (0, 1, 0, 0)


def test_a_row_with_a_new_email_is_a_new_person_even_if_its_phone_is_known(
    run_import: Run, cast: Cast
) -> None:
    ContactFactory(
        workspace=cast.workspace,
        email="lea@example.com",
        phone="+49 151 98765432",
        phone_e164="+4915198765432",
    )

    job = run_import("email,phone\nlea.other@example.com,+49 151 98765432\n")

    assert _counts(job) == (1, 0, 0, 0)
    assert Contact.objects.filter(workspace=cast.workspace, phone_e164="+4915198765432").count() == 2


@pytest.mark.parametrize(
    ("mode", "expected"),
    [("create", (1, 0, 0, 1)), ("update", (0, 1, 0, 1)), ("upsert", (1, 1, 0, 0))],
)
def test_modes_decide_who_is_created_or_updated(
    run_import: Run, cast: Cast, mode: str, expected: tuple[int, int, int, int]
) -> None:
    ContactFactory(workspace=cast.workspace, email="maya@example.com", city="Berlin")

    job = run_import("email,city\nmaya@example.com,Köln\njonas@example.com,Bonn\n", mode=mode)

    assert _counts(job) == expected
    assert _contact(cast, "maya@example.com").city == ("Berlin" if mode == "create" else "Köln")
    assert Contact.objects.filter(
        workspace=cast.workspace, email_normalized="jonas@example.com"
    ).exists() == (mode != "update")


def test_file_tags_and_upload_tags_are_added_never_removed(run_import: Run, cast: Cast) -> None:
    maya = ContactFactory(workspace=cast.workspace, email="maya@example.com")
    maya.tags.add(TagFactory(workspace=cast.workspace, name="Churned"))

    job = run_import(
        "email,tags\nmaya@example.com,VIP;newsletter\njonas@example.com,\n",
        tags=["Spring fair"],
        tag_separator=";",
    )

    assert _counts(job) == (1, 1, 0, 0)
    assert set(maya.tags.values_list("name", flat=True)) == {"Churned", "VIP", "newsletter", "Spring fair"}
    jonas = _contact(cast, "jonas@example.com")
    assert list(jonas.tags.values_list("name", flat=True)) == ["Spring fair"]


def test_a_known_tag_in_another_case_is_reused(run_import: Run, cast: Cast) -> None:
    vip = TagFactory(workspace=cast.workspace, name="VIP")

    run_import("email,tags\nmaya@example.com,vip\n")

    assert list(Tag.objects.filter(workspace=cast.workspace).values_list("id", flat=True)) == [vip.id]


def test_a_contact_that_only_gains_a_tag_counts_as_updated_and_moves_updated_at(
    run_import: Run, cast: Cast
) -> None:
    maya = ContactFactory(workspace=cast.workspace, email="maya@example.com", first_name="Maya")
    before = maya.updated_at

    job = run_import("email,first_name,tags\nmaya@example.com,Maya,vip\n")

    maya.refresh_from_db()
    assert _counts(job) == (0, 1, 0, 0)
    assert maya.updated_at > before


def test_custom_values_merge_with_the_stored_ones(run_import: Run, cast: Cast) -> None:
    CustomFieldFactory(workspace=cast.workspace, key="shoe_size", label="Shoe size", field_type="number")
    CustomFieldFactory(workspace=cast.workspace, key="store", label="Store", field_type="text")
    ContactFactory(workspace=cast.workspace, email="maya@example.com", custom={"store": "Mitte"})

    job = run_import(
        "email,shoe size,store\nmaya@example.com,38,\nmaya@example.com,39,\n",
        mapping=["email", "custom.shoe_size", "custom.store"],
    )

    assert _contact(cast, "maya@example.com").custom == {"store": "Mitte", "shoe_size": 39}
    assert _counts(job) == (0, 2, 0, 0)


def test_an_import_never_resubscribes_anyone_who_opted_out_or_is_suppressed(
    run_import: Run, cast: Cast
) -> None:
    ContactFactory(workspace=cast.workspace, email="maya@example.com", email_consent=Consent.OPTED_OUT)
    Suppression.objects.create(
        workspace=cast.workspace,
        channel=Channel.EMAIL,
        address_hash=address_hash(Channel.EMAIL, "erased@example.com"),
        reason="erased",
    )

    job = run_import(
        "email,email_consent,city\nmaya@example.com,yes,Köln\nerased@example.com,yes,\njonas@example.com,yes,\n",
        consent_confirmed=True,
        consent_source="Spring fair sign-up form",
    )

    assert job.status == ImportStatus.COMPLETED
    assert _contact(cast, "maya@example.com").email_consent == Consent.OPTED_OUT
    assert _contact(cast, "erased@example.com").email_consent == Consent.UNKNOWN
    jonas = _contact(cast, "jonas@example.com")
    assert (jonas.email_consent, jonas.email_consent_source) == (Consent.OPTED_IN, "Spring fair sign-up form")
    assert jonas.email_consent_at is not None
    events = ConsentEvent.objects.filter(contact__workspace=cast.workspace)
    assert list(events.values_list("contact__email_normalized", "status", "source", "actor")) == [
        ("jonas@example.com", Consent.OPTED_IN, "Spring fair sign-up form", cast.owner.id)
    ]


def test_without_confirmation_opt_ins_are_dropped_but_opt_outs_recorded(run_import: Run, cast: Cast) -> None:
    ContactFactory(workspace=cast.workspace, email="jonas@example.com", email_consent=Consent.OPTED_IN)

    job = run_import("email,email_consent\nmaya@example.com,yes\njonas@example.com,no\n")

    assert _counts(job) == (1, 1, 0, 0)
    assert _contact(cast, "maya@example.com").email_consent == Consent.UNKNOWN
    jonas = _contact(cast, "jonas@example.com")
    assert jonas.email_consent == Consent.OPTED_OUT
    assert jonas.email_consent_source == "Import of list.csv"
    assert ConsentEvent.objects.filter(contact=jonas, status=Consent.OPTED_OUT).count() == 1


def test_rows_that_fail_cleaning_are_reported_and_the_rest_stored(run_import: Run, cast: Cast) -> None:
    job = run_import("email,phone,age\nmaya@example.com,,34\nnot-an-email,,\n,12,\njonas@example.com,,abc\n")

    assert _counts(job) == (1, 0, 0, 3)
    assert sorted((error["row"], error["column"]) for error in job.errors) == [
        (3, "email"),
        (4, "phone"),
        (5, "age"),
    ]
    assert job.report


def test_a_dry_run_counts_exactly_what_the_run_does_and_stores_nothing(run_import: Run, cast: Cast) -> None:
    ContactFactory(workspace=cast.workspace, email="maya@example.com", city="Berlin")
    text = "email,city,tags\nmaya@example.com,Köln,vip\njonas@example.com,Bonn,\nmaya@example.com,,\n"

    checked = run_import(text, dry_run=True)

    assert not Tag.objects.filter(workspace=cast.workspace).exists()
    assert _contact(cast, "maya@example.com").city == "Berlin"
    assert _counts(run_import(text)) == _counts(checked) == (1, 2, 0, 0)


def test_an_import_touches_no_other_workspace(run_import: Run, cast: Cast) -> None:
    other = WorkspaceFactory()
    theirs = ContactFactory(workspace=other, email="maya@example.com", city="Paris")
    TagFactory(workspace=other, name="vip")

    job = run_import("email,city,tags\nmaya@example.com,Köln,vip\n")

    assert _counts(job) == (1, 0, 0, 0)
    theirs.refresh_from_db()
    assert theirs.city == "Paris"
    assert not ContactTag.objects.filter(contact=theirs).exists()
    assert Tag.objects.filter(workspace=cast.workspace, name="vip").exists()


def test_a_cancelled_import_stops_after_merging_the_rows_read_so_far_whole(
    run_import: Run, cast: Cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    ContactFactory(workspace=cast.workspace, email="b@example.com", city="Berlin")
    monkeypatch.setattr(pipeline, "STAGE_ROWS", 2)
    monkeypatch.setattr(pipeline, "CHUNK_ROWS", 2)
    monkeypatch.setattr(pipeline, "_cancel_requested", lambda _job: True)

    job = run_import("email,city\na@example.com,Bonn\nb@example.com,Köln\nc@example.com,Ulm\n")

    assert job.status == ImportStatus.CANCELLED
    assert (job.committed_rows, _counts(job)) == (3, (1, 1, 0, 0))
    assert sorted(
        Contact.objects.filter(workspace=cast.workspace).values_list("email_normalized", "city")
    ) == [
        ("a@example.com", "Bonn"),
        ("b@example.com", "Köln"),
    ]


def test_a_crash_in_the_merge_leaves_the_contacts_as_before(
    cast: Cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    ContactFactory(workspace=cast.workspace, email="maya@example.com", city="Berlin")

    def fail(*args: Any, **kwargs: Any) -> int:
        raise RuntimeError("disk full")

    monkeypatch.setattr(staging.StagedImport, "_add_tags", fail)
    job = pipeline.import_create(
        workspace=cast.workspace,
        upload=ContentFile(
            b"email,city,tags\nmaya@example.com,Koln,vip\nnew@example.com,,\n", name="list.csv"
        ),
        actor=cast.owner,
        options=pipeline.ImportSettings(),
    )

    with pytest.raises(RuntimeError, match="disk full"):
        pipeline.import_execute(job=job)

    assert list(Contact.objects.filter(workspace=cast.workspace).values_list("email_normalized", "city")) == [
        ("maya@example.com", "Berlin")
    ]


@pytest.mark.django_db(transaction=True)
def test_a_contact_added_meanwhile_is_updated_not_doubled(
    cast: Cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Someone adds maya through another connection between the match and the insert: the merge
    rolls back and runs again, and updates her."""
    original = staging.StagedImport._insert_sql
    added: list[int] = []

    def someone_else_adds_maya() -> None:
        try:
            added.append(ContactFactory(workspace=cast.workspace, email="maya@example.com", city="Berlin").id)
        finally:
            connection.close()

    def insert_after_someone_else(self: staging.StagedImport, **kwargs: Any) -> tuple[str, dict[str, Any]]:
        # Once, in the merge lane that holds maya's row (the other lane may run at the same time).
        if not added and self.lane == staging.lane_of("maya@example.com", self.lanes):
            thread = threading.Thread(target=someone_else_adds_maya)
            thread.start()
            thread.join()
        return original(self, **kwargs)

    monkeypatch.setattr(staging.StagedImport, "_insert_sql", insert_after_someone_else)
    job = pipeline.import_create(
        workspace=cast.workspace,
        upload=ContentFile(b"email,city\nmaya@example.com,Koln\n", name="list.csv"),
        actor=cast.owner,
        options=pipeline.ImportSettings(),
    )

    job = pipeline.import_execute(job=job)

    assert _counts(job) == (0, 1, 0, 0)
    assert list(Contact.objects.filter(workspace=cast.workspace).values_list("id", "city")) == [
        (added[0], "Koln")
    ]


# --- The writer thread: the same merge, run while the next batch is cleaned ---------------------


def _file(rows: int, *, start: int = 0) -> str:
    lines = [f"person{n}@example.com,City {n % 7},t{n % 3}" for n in range(start, start + rows)]
    return "email,city,tags\n" + "\n".join(lines) + "\n"


@pytest.mark.django_db(transaction=True)
def test_the_writer_thread_merges_batch_by_batch_with_the_same_results(
    cast: Cast, monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    assert settings.IMPORT_BACKGROUND_WRITER
    monkeypatch.setattr(pipeline, "STAGE_ROWS", 7)
    ContactFactory(workspace=cast.workspace, email="person3@example.com", city="Berlin")
    text = _file(40) + "PERSON5@example.com,Hamburg,\n"

    first = _import(cast, text)
    again = _import(cast, text)

    assert (first.status, _counts(first)) == (ImportStatus.COMPLETED, (39, 2, 0, 0))
    assert _counts(again) == (0, 0, 41, 0)
    assert _contact(cast, "person5@example.com").city == "Hamburg"
    assert _contact(cast, "person3@example.com").city == "City 3"
    assert ContactTag.objects.filter(contact__workspace=cast.workspace).count() == 40


@pytest.mark.django_db(transaction=True)
def test_a_dry_run_in_the_writer_thread_stores_nothing(cast: Cast, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pipeline, "STAGE_ROWS", 7)

    checked = _import(cast, _file(20), dry_run=True)

    assert (checked.status, _counts(checked)) == (ImportStatus.VALIDATED, (20, 0, 0, 0))
    assert not Contact.objects.filter(workspace=cast.workspace).exists()
    assert not Tag.objects.filter(workspace=cast.workspace).exists()


@pytest.mark.django_db(transaction=True)
def test_a_failure_in_the_writer_thread_fails_the_import_and_stores_nothing(
    cast: Cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pipeline, "STAGE_ROWS", 5)
    original = staging.StagedImport.add

    def fail_on_the_third_batch(self: staging.StagedImport, rows: Any) -> None:
        if rows[0][0] > 11:
            raise RuntimeError("disk full")
        original(self, rows)

    monkeypatch.setattr(staging.StagedImport, "add", fail_on_the_third_batch)
    job = pipeline.import_create(
        workspace=cast.workspace,
        upload=ContentFile(_file(30).encode(), name="list.csv"),
        actor=cast.owner,
        options=pipeline.ImportSettings(),
    )

    with pytest.raises(RuntimeError, match="disk full"):
        tasks.run_import(job.id)

    job.refresh_from_db()
    assert (job.status, job.committed_rows) == (ImportStatus.FAILED, 0)
    assert "disk full" in job.failure
    assert not Contact.objects.filter(workspace=cast.workspace).exists()


def _import(cast: Cast, text: str, *, dry_run: bool = False) -> ImportJob:
    job = pipeline.import_create(
        workspace=cast.workspace,
        upload=ContentFile(text.encode(), name="list.csv"),
        actor=cast.owner,
        options=pipeline.ImportSettings(),
    )
    return pipeline.import_execute(job=job, dry_run=dry_run)


def test_a_dry_run_that_breaks_off_stores_nothing(cast: Cast, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pipeline, "STAGE_ROWS", 2)
    calls: list[int] = []
    original = cleaners.RowCleaner.clean_row

    def break_off_at_the_fourth_row(*args: Any) -> Any:
        calls.append(1)
        if len(calls) == 4:
            raise RuntimeError("worker lost")
        return original(*args)

    monkeypatch.setattr(cleaners.RowCleaner, "clean_row", break_off_at_the_fourth_row)

    with pytest.raises(RuntimeError, match="worker lost"):
        _import(cast, _file(6), dry_run=True)

    assert not Contact.objects.filter(workspace=cast.workspace).exists()
