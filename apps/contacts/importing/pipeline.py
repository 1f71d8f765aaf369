"""The import pipeline: upload -> settings -> dry run -> run, the same for browser, API and CLI.

Streaming end to end: rows are read one at a time and turned into values (`values.RowParser`).
On PostgreSQL they are cleaned (in helper processes for a file of more than one batch:
`cleaners`), staged by `COPY` and merged set-based (`staging`), each person's rows in one of
`IMPORT_MERGE_LANES` transactions that run at once: a crash while reading or staging stores nothing,
and one between the lanes' commits keeps the lanes that committed, which the job's failure names.
On SQLite they are written in chunks of `CHUNK_ROWS` through
`services.contacts_bulk_upsert`, each chunk in its own transaction: a crash leaves the database as
before the import plus whole committed chunks, and `ImportJob.committed_rows` says how far they
reach. A cancel merges the rows read so far, whole. Rejected rows go to a CSV report with a reason
column, ready to fix and import again.
"""

from __future__ import annotations

import csv
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import transaction
from django.utils import timezone

from apps.contacts.choices import ContactSource, ImportStatus
from apps.contacts.importing import cleaners, reading, staging
from apps.contacts.importing.setup import (  # the setup steps are part of the pipeline's interface
    ImportSettings,
    PreviewRow,
    _custom_types,
    _field_columns,
    _format,
    _path,
    import_check_ready,
    import_configure,
    import_create,
    import_preview,
    import_samples,
    needs_date_order,
    row_parser,
)
from apps.contacts.models import ImportJob
from apps.contacts.services import ConsentPolicy, contact_rules, contacts_bulk_upsert, tags_get_or_create

CHUNK_ROWS = 5000
# Rows per COPY into the staging table; progress and cancel are checked between them.
STAGE_ROWS = 20_000


MAX_STORED_ERRORS = 1000


def _max_rows() -> int:
    return int(getattr(settings, "IMPORT_MAX_ROWS", 2_000_000))


@dataclass
class _Chunk:
    numbers: list[int] = field(default_factory=list)
    cells: list[list[str]] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)


class _Report:
    """Rejected rows, written as they come to a temporary CSV: the file's columns plus `reason`."""

    def __init__(self, headers: Sequence[str], delimiter: str) -> None:
        self.handle: IO[str] = tempfile.TemporaryFile("w+", encoding="utf-8-sig", newline="")  # noqa: SIM115
        self.writer = csv.writer(self.handle, delimiter=delimiter or ",")
        self.writer.writerow([*headers, "reason"])
        self.rows = 0

    def add(self, number: int, cells: Sequence[str], reason: str) -> None:
        self.writer.writerow([*cells, f"Row {number:,}: {reason}"])
        self.rows += 1


class _Errors:
    def __init__(self, job: ImportJob) -> None:
        self.job = job
        self.stored: list[dict[str, Any]] = []

    def add(self, number: int, column: str, value: str, message: str) -> None:
        self.job.error_count += 1
        if len(self.stored) < MAX_STORED_ERRORS:
            self.stored.append({"row": number, "column": column, "value": value[:200], "message": message})


@dataclass
class _Run:
    """One pass over the file: where rejected rows go and how many rows the mode skipped."""

    job: ImportJob
    dry_run: bool
    errors: _Errors
    report: _Report
    custom_types: Mapping[str, str]
    field_columns: Mapping[str, int]
    mode_skipped: int = 0

    def reject(self, number: int, cells: Sequence[str], problems: Sequence[tuple[str, str, str]]) -> None:
        """`problems`: (column, value, message) for each bad cell of the row."""
        for column, value, message in problems:
            self.errors.add(number, column, value, message)
        reason = "; ".join(f"{column}: {message}" if column else message for column, _, message in problems)
        self.report.add(number, cells, reason)


def import_execute(*, job: ImportJob, dry_run: bool = False) -> ImportJob:
    """Run (or, with `dry_run`, check) the whole file. Idempotent per chunk: upserting a chunk again
    changes nothing, so re-running a crashed import is safe."""
    job.status = ImportStatus.VALIDATING if dry_run else ImportStatus.RUNNING
    job.started_at = timezone.now()
    if job.report:  # a new pass writes a new report
        job.report.delete(save=False)
    job.rows_processed = job.committed_rows = job.error_count = 0
    job.created_count = job.updated_count = job.unchanged_count = job.skipped_count = 0
    job.failure = ""
    job.save()
    if not dry_run and job.tags:
        tags_get_or_create(workspace=job.workspace, names=job.tags)
    run = _Run(
        job=job,
        dry_run=dry_run,
        errors=_Errors(job),
        report=_Report(job.headers, job.delimiter),
        custom_types=_custom_types(job.workspace),
        field_columns=_field_columns(job),
    )
    try:
        return _execute_staged(run) if staging.is_available() else _execute_chunked(run)
    finally:
        run.report.handle.close()  # `_finish` stored it; after a crash there is nothing to keep


def _execute_chunked(run: _Run) -> ImportJob:
    """SQLite: chunks of rows through `contacts_bulk_upsert`, each chunk committed on its own."""
    job = run.job
    chunk = _Chunk()
    parse = row_parser(job, run.custom_types)
    try:
        for row in reading.iter_rows(
            _path(job), _format(job), expected_columns=len(job.headers), max_rows=_max_rows()
        ):
            job.rows_processed += 1
            if row.error:
                run.reject(row.number, row.cells, [("", "", row.error)])
                continue
            parsed, column_errors = parse(row.cells)
            if column_errors:
                run.reject(
                    row.number,
                    row.cells,
                    [(job.headers[i], row.cells[i], message) for i, message in column_errors.items()],
                )
                continue
            chunk.numbers.append(row.number)
            chunk.cells.append(row.cells)
            chunk.rows.append(parsed)
            if len(chunk.rows) >= CHUNK_ROWS:
                _flush(run, chunk)
                chunk = _Chunk()
                if _cancel_requested(job):
                    return _finish(run, status=ImportStatus.CANCELLED)
        _flush(run, chunk)
    except reading.ImportFileError as error:
        return _finish(run, status=ImportStatus.FAILED, failure=str(error))
    if job.rows_processed == 0:
        return _finish(run, status=ImportStatus.FAILED, failure="The file has a header but no data rows.")
    return _finish(run, status=ImportStatus.VALIDATED if run.dry_run else ImportStatus.COMPLETED)


def _execute_staged(run: _Run) -> ImportJob:
    """PostgreSQL: rows cleaned here and in helper processes (`cleaners`), staged by `staging` in a
    thread of its own while the next batch is cleaned, then merged set-based in one transaction.
    A cancel or a file that stops being readable ends the reading, and the rows read so far are
    merged whole; a crash stores nothing."""
    job = run.job
    background = getattr(settings, "IMPORT_BACKGROUND_WRITER", True)
    # Lanes commit one by one: a dry run (rolled back) and writers in the caller's transaction
    # (tests) take one.
    lanes = max(1, getattr(settings, "IMPORT_MERGE_LANES", 2)) if background and not run.dry_run else 1
    stages = [
        staging.StagedImport(
            workspace=job.workspace,
            fields=staging.staged_fields(_mapped_fields(job)),
            mode=job.mode,
            consent_source=_consent_source(job),
            actor_id=job.created_by_id,
            lane=lane,
            lanes=lanes,
        )
        for lane in range(lanes)
    ]
    writer = staging.MergeLanes(stages, dry_run=run.dry_run, background=background)
    pool = cleaners.CleaningPool(
        cleaners.RowCleaner(
            job=job,
            custom_types=run.custom_types,
            field_columns=run.field_columns,
            rules=contact_rules(workspace=job.workspace),
        ),
        helpers=getattr(settings, "IMPORT_CLEANING_HELPERS", 1),
    )
    writer.start()
    status = ImportStatus.VALIDATED if run.dry_run else ImportStatus.COMPLETED
    failure = ""

    def stage_cleaned(batches: Iterator[cleaners.CleanedBatch]) -> None:
        for batch in batches:
            for number, cells, problems in batch.rejected:
                run.reject(number, cells, problems)
            writer.submit(batch.staged)

    try:
        rows: list[cleaners.RawRow] = []
        last_row = 0
        try:
            for row in reading.iter_rows(
                _path(job), _format(job), expected_columns=len(job.headers), max_rows=_max_rows()
            ):
                job.rows_processed += 1
                last_row = row.number
                rows.append((row.number, row.cells, row.error))
                if len(rows) >= STAGE_ROWS:
                    stage_cleaned(pool.submit(rows))
                    rows = []
                    _save_progress(run, writer.counts)
                    if _cancel_requested(job):
                        status = ImportStatus.CANCELLED
                        break
        except reading.ImportFileError as error:
            status, failure = ImportStatus.FAILED, str(error)
        stage_cleaned(pool.submit(rows, last=True))
        stage_cleaned(pool.drain())
        pool.close()
        if job.rows_processed == 0 and status != ImportStatus.FAILED:
            status, failure = ImportStatus.FAILED, "The file has a header but no data rows."
        job.total_rows = job.rows_processed  # exact now: the page shows the merge as under way
        _save_progress(run, writer.counts)
        counts = writer.finish()
    except BaseException:
        pool.close(kill=True)
        writer.abandon()
        raise
    _take_counts(run, counts)
    if not run.dry_run:
        job.committed_rows = last_row
    return _finish(run, status=status, failure=failure)


def _take_counts(run: _Run, counts: staging.MergeCounts) -> None:
    job = run.job
    job.created_count, job.updated_count = counts.created, counts.updated
    job.unchanged_count, run.mode_skipped = counts.unchanged, counts.skipped


def _mapped_fields(job: ImportJob) -> list[str]:
    return [target for target in job.mapping if target and target != "tags" and "." not in target]


def _consent_source(job: ImportJob) -> str:
    return job.consent_source or f"Import of {job.original_name}"


def _save_progress(run: _Run, counts: staging.MergeCounts | None = None) -> None:
    job = run.job
    if counts is not None:
        _take_counts(run, counts)
    job.skipped_count = run.report.rows + run.mode_skipped
    job.errors = run.errors.stored
    ImportJob.objects.filter(id=job.id).update(
        total_rows=job.total_rows,
        rows_processed=job.rows_processed,
        committed_rows=job.committed_rows,
        created_count=job.created_count,
        updated_count=job.updated_count,
        unchanged_count=job.unchanged_count,
        skipped_count=job.skipped_count,
        error_count=job.error_count,
        errors=job.errors,
        updated_at=timezone.now(),
    )


def _flush(run: _Run, chunk: _Chunk) -> None:
    job = run.job
    if chunk.rows:
        policy = ConsentPolicy(
            allow_opt_in=job.consent_confirmed,
            keep_opt_outs=True,
            source=_consent_source(job),
        )
        with transaction.atomic():
            results = contacts_bulk_upsert(
                workspace=job.workspace,
                rows=chunk.rows,
                source=ContactSource.IMPORT,
                actor=job.created_by,
                mode=job.mode,
                consent_policy=policy,
            )
            if run.dry_run:
                transaction.set_rollback(True)  # a dry run counts exactly what a run would do
        for result in results:
            number, cells = chunk.numbers[result.index], chunk.cells[result.index]
            if result.status == "error":
                run.reject(
                    number,
                    cells,
                    [_problem(run, cells, name, message) for name, message in result.errors.items()],
                )
            elif result.status == "skipped":
                run.mode_skipped += 1
            else:
                attribute = f"{result.status}_count"
                setattr(job, attribute, getattr(job, attribute) + 1)
        if not run.dry_run:
            job.committed_rows = chunk.numbers[-1]
    _save_progress(run)


def _problem(run: _Run, cells: Sequence[str], name: str, message: str) -> tuple[str, str, str]:
    """A service error on a field, named by the file's column it came from."""
    return cleaners.field_problem(run.job.headers, run.field_columns, cells, name, message)


def _cancel_requested(job: ImportJob) -> bool:
    return bool(ImportJob.objects.filter(id=job.id).values_list("cancel_requested", flat=True).first())


def _finish(run: _Run, *, status: str, failure: str = "") -> ImportJob:
    job = run.job
    job.skipped_count = run.report.rows + run.mode_skipped
    job.status = status
    job.failure = failure
    job.errors = run.errors.stored
    job.finished_at = timezone.now()
    if run.report.rows:
        run.report.handle.seek(0)
        job.report.save(f"{Path(job.original_name).stem}-rejected.csv", File(run.report.handle), save=False)
    job.save()
    return job


def import_cancel(*, job: ImportJob) -> ImportJob:
    """Ask a running import to stop after its current chunk; a waiting one stops at once."""
    if job.is_finished:
        return job
    if job.status in (ImportStatus.UPLOADED, ImportStatus.VALIDATED, ImportStatus.QUEUED):
        job.status = ImportStatus.CANCELLED
        job.finished_at = timezone.now()
    job.cancel_requested = True
    job.save(update_fields=["status", "finished_at", "cancel_requested", "updated_at"])
    return job


@transaction.atomic
def import_mark_failed(*, job: ImportJob, failure: str) -> ImportJob:
    job.status = ImportStatus.FAILED
    job.failure = failure[:2000]
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "failure", "finished_at", "updated_at"])
    return job


def import_mark_cancelled(*, job: ImportJob) -> ImportJob:
    job.status = ImportStatus.CANCELLED
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "finished_at", "updated_at"])
    return job


@transaction.atomic
def import_enqueue(*, job: ImportJob, dry_run: bool = False) -> ImportJob:
    """Hand the job to a worker once the transaction commits. The row is locked, so two quick
    clicks on Import start one run."""
    job.status = ImportJob.objects.select_for_update().values_list("status", flat=True).get(id=job.id)
    if job.status not in (ImportStatus.UPLOADED, ImportStatus.VALIDATED):
        raise ValidationError(f"This import is {job.get_status_display().lower()}; it cannot start again.")
    import_check_ready(job=job)
    job.status = ImportStatus.VALIDATING if dry_run else ImportStatus.QUEUED
    job.save(update_fields=["status", "updated_at"])
    from apps.contacts.tasks import run_import

    job_id = job.id
    transaction.on_commit(lambda: run_import.delay(job_id, dry_run))
    return job


def import_summary(job: ImportJob) -> dict[str, Any]:
    """The CLI's and API's summary: counts and row errors (row, column, message)."""
    return {
        "created": job.created_count,
        "updated": job.updated_count,
        "unchanged": job.unchanged_count,
        "skipped": job.skipped_count,
        "errors": [{"row": e["row"], "column": e["column"], "message": e["message"]} for e in job.errors],
    }


__all__ = [
    "ImportSettings",
    "PreviewRow",
    "import_cancel",
    "import_check_ready",
    "import_configure",
    "import_create",
    "import_enqueue",
    "import_execute",
    "import_mark_cancelled",
    "import_mark_failed",
    "import_preview",
    "import_samples",
    "import_summary",
    "needs_date_order",
]
