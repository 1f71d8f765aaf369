"""The import pipeline: upload -> settings -> dry run -> run, the same for browser, API and CLI.

Streaming end to end: rows are read one at a time, turned into values (`values.row_to_values`),
and written in chunks of `CHUNK_ROWS` through `services.contacts_bulk_upsert`, each chunk in its own
transaction. A crash or a cancel therefore leaves the database as before the import plus whole
committed chunks, and `ImportJob.committed_rows` says how far they reach. Rejected rows go to a CSV
report with a reason column, ready to fix and import again.
"""

from __future__ import annotations

import csv
import itertools
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from apps.contacts.choices import ContactSource, ImportMode, ImportStatus
from apps.contacts.cleaning import FIELD_NAMES, FieldError, clean_contact_values
from apps.contacts.importing import mapping as mapping_rules
from apps.contacts.importing import reading, values
from apps.contacts.models import CustomField, ImportJob
from apps.contacts.services import ConsentPolicy, contact_rules, contacts_bulk_upsert, tags_get_or_create
from apps.workspaces.models import Workspace

if TYPE_CHECKING:
    from apps.accounts.models import User

CHUNK_ROWS = 5000
MAX_STORED_ERRORS = 1000
DATE_FIELDS = ("birth_date", "customer_since", "last_purchase_at")


def _max_upload_bytes() -> int:
    return int(getattr(settings, "IMPORT_MAX_UPLOAD_BYTES", 200 * 1024 * 1024))


def _max_rows() -> int:
    return int(getattr(settings, "IMPORT_MAX_ROWS", 2_000_000))


def _custom_keys(workspace: Workspace) -> list[str]:
    return list(CustomField.objects.filter(workspace=workspace).values_list("key", flat=True))


def _custom_types(workspace: Workspace) -> dict[str, str]:
    return dict(CustomField.objects.filter(workspace=workspace).values_list("key", "field_type"))


def _path(job: ImportJob) -> Path:
    return Path(job.file.path)


# --- Upload and settings --------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportSettings:
    """What the importer chooses; every part is optional on upload (suggestions fill the gaps)."""

    mode: str = ImportMode.UPSERT
    tags: Sequence[str] = ()
    mapping: Sequence[str] | None = None
    encoding: str | None = None
    delimiter: str | None = None
    date_order: str = ""
    decimal_comma: bool | None = None
    tag_separator: str = ","
    consent_confirmed: bool = False
    consent_source: str = ""


def import_create(
    *, workspace: Workspace, upload: UploadedFile | File[Any], actor: User | None, options: ImportSettings
) -> ImportJob:
    """Store the file, read its format and header, suggest a mapping. Bad files are refused with a
    message naming the problem, and nothing stays stored."""
    size = upload.size or 0
    if size == 0:
        raise ValidationError({"file": "The file is empty."})
    if size > _max_upload_bytes():
        raise ValidationError(
            {"file": f"The file has {size / 1e6:,.1f} MB; the limit is {_max_upload_bytes() / 1e6:,.0f} MB."}
        )
    job = ImportJob(
        workspace=workspace,
        created_by=actor,
        original_name=Path(upload.name or "contacts.csv").name[:255],
        size=size,
    )
    job.file.save(job.original_name, upload, save=False)
    try:
        fmt = reading.sniff(_path(job), encoding=options.encoding, delimiter=options.delimiter)
        headers = reading.read_header(_path(job), fmt)
        total = reading.count_rows(_path(job), fmt)
    except reading.ImportFileError as error:
        job.file.delete(save=False)
        raise ValidationError({"file": str(error)}) from error
    job.kind, job.encoding, job.delimiter, job.headers = fmt.kind, fmt.encoding, fmt.delimiter, headers
    job.total_rows = max(total, 0)
    keys = _custom_keys(workspace)
    job.mapping = (
        list(options.mapping) if options.mapping else mapping_rules.suggest_mapping(headers, custom_keys=keys)
    )
    try:
        # A suggested mapping may still lack email or phone: the mapping page is where that is fixed,
        # so it is checked when the import starts. A mapping the caller gave is checked now.
        _apply_settings(job, options, custom_keys=keys, check_columns=bool(options.mapping))
    except ValidationError:
        job.file.delete(save=False)
        raise
    if not job.date_order:
        job.date_order = _guess_date_order(job) or ""
    if job.decimal_comma is None:
        job.decimal_comma = _guess_decimal_comma(job, custom_types=_custom_types(workspace))
    job.save()
    return job


def _mapping_errors(job: ImportJob, *, custom_keys: Sequence[str]) -> list[str]:
    if len(job.mapping) != len(job.headers):
        return [f"Give one target per column: the file has {len(job.headers)} columns."]
    column_errors = mapping_rules.check_mapping(job.mapping, job.headers, custom_keys=custom_keys)
    # A nested dict cannot go into ValidationError: one message per column, named by it.
    return [f"{col}: {msg}" if col else msg for col, msg in column_errors.items()]


def import_check_ready(*, job: ImportJob) -> None:
    """What must hold before any pass over the file: a usable mapping and a known date order."""
    errors = _mapping_errors(job, custom_keys=_custom_keys(job.workspace))
    if errors:
        raise ValidationError({"mapping": errors})
    if needs_date_order(job):
        raise ValidationError(
            {"date_order": "The dates in this file could be day/month or month/day: choose one."}
        )


def _apply_settings(
    job: ImportJob, options: ImportSettings, *, custom_keys: Sequence[str], check_columns: bool = True
) -> None:
    errors: dict[str, Any] = {}
    if options.mode not in ImportMode.values:
        errors["mode"] = f"“{options.mode}” is not a mode: use one of {', '.join(ImportMode.values)}."
    if options.date_order not in ("", "dmy", "mdy"):
        errors["date_order"] = "Use dmy (day first) or mdy (month first)."
    if options.consent_confirmed and not options.consent_source.strip():
        errors["consent_source"] = (
            "Say where the opt-ins in this file were given (e.g. “Spring fair sign-up form”)."
        )
    mapping_errors = _mapping_errors(job, custom_keys=custom_keys) if check_columns else []
    if mapping_errors:
        errors["mapping"] = mapping_errors
    if errors:
        raise ValidationError(errors)
    job.mode = options.mode
    job.tags = [name.strip() for name in options.tags if name.strip()]
    job.date_order = options.date_order or job.date_order
    job.decimal_comma = options.decimal_comma
    job.tag_separator = options.tag_separator or ","
    job.consent_confirmed = options.consent_confirmed
    job.consent_source = options.consent_source.strip()[:120]


def import_configure(*, job: ImportJob, options: ImportSettings) -> ImportJob:
    """Change the mapping and choices of an import that has not started yet."""
    if job.status not in (ImportStatus.UPLOADED, ImportStatus.VALIDATED):
        raise ValidationError(f"This import is {job.get_status_display().lower()}; its settings are fixed.")
    if options.mapping is not None:
        job.mapping = list(options.mapping)
    _apply_settings(job, options, custom_keys=_custom_keys(job.workspace))
    job.status = ImportStatus.UPLOADED
    job.save()
    return job


def _date_samples(job: ImportJob) -> list[str]:
    columns = [index for index, target in enumerate(job.mapping) if target in DATE_FIELDS]
    samples: list[str] = []
    if not columns:
        return samples
    try:
        for row in _first_rows(job, 500):
            if row.error is None:
                samples.extend(row.cells[index] for index in columns if row.cells[index].strip())
    except reading.ImportFileError:
        pass  # the rows before it decide; the run reports the problem with its row
    return samples


def _guess_date_order(job: ImportJob) -> str | None:
    return values.guess_date_order(_date_samples(job))


def _reads_both_ways(text: str) -> bool:
    """03/04/1990 (two dates), unlike 1990-04-03 or 31.12.1990 (one whichever the order)."""
    try:
        return values.parse_moment(text, order="dmy") != values.parse_moment(text, order="mdy")
    except FieldError:
        return False


def _guess_decimal_comma(job: ImportJob, *, custom_types: Mapping[str, str]) -> bool | None:
    """ "1.234,56" or "1,234.56": decided once per file from its amount columns, like the date order."""
    amounts = {"total_spent"} | {f"custom.{key}" for key, kind in custom_types.items() if kind == "number"}
    columns = [index for index, target in enumerate(job.mapping) if target in amounts]
    if not columns:
        return None
    samples: list[str] = []
    for row in _first_rows(job, 500):
        if row.error is None:
            samples.extend(row.cells[index] for index in columns if row.cells[index].strip())
    return values.guess_decimal_comma(samples)


def _format(job: ImportJob) -> reading.FileFormat:
    return reading.FileFormat(kind=job.kind, encoding=job.encoding, delimiter=job.delimiter)


def _first_rows(job: ImportJob, count: int) -> Iterator[reading.Row]:
    """The first `count` data rows. Not `max_rows`: that is the import's cap and raises beyond it."""
    rows = reading.iter_rows(_path(job), _format(job), expected_columns=len(job.headers))
    return itertools.islice(rows, count)


def needs_date_order(job: ImportJob) -> bool:
    """True when date columns are mapped and their samples fit both day/month and month/day (ISO
    or dotted dates, or an empty column, need no choice)."""
    if job.date_order or not any(target in DATE_FIELDS for target in job.mapping):
        return False
    samples = _date_samples(job)
    return values.guess_date_order(samples) is None and any(map(_reads_both_ways, samples))


# --- Preview -------------------------------------------------------------------------------------


def import_samples(*, job: ImportJob, limit: int = 3) -> list[list[str]]:
    """Up to `limit` non-empty cells per column, as the file has them, for the mapping page."""
    samples: list[list[str]] = [[] for _ in job.headers]
    try:
        for row in _first_rows(job, limit * 5):
            for index, cell in enumerate(row.cells[: len(samples)]):
                if cell.strip() and len(samples[index]) < limit:
                    samples[index].append(cell.strip())
    except reading.ImportFileError:
        pass  # the preview names the problem
    return samples


@dataclass
class PreviewRow:
    number: int
    values: dict[str, Any]
    errors: dict[str, str]


def import_preview(*, job: ImportJob, limit: int = 10) -> list[PreviewRow]:
    """The first rows as they will be stored (mapped, parsed and cleaned by the same rules as the
    run: email normalised, phone in E.164), with their errors named by the file's column."""
    preview: list[PreviewRow] = []
    custom_types = _custom_types(job.workspace)
    rules = contact_rules(workspace=job.workspace)
    columns = _field_columns(job)
    try:
        for row in _first_rows(job, limit):
            if row.error:
                preview.append(PreviewRow(row.number, {}, {"": row.error}))
                continue
            parsed, column_errors = _row_values(job, row.cells, custom_types)
            errors = {job.headers[index]: message for index, message in column_errors.items()}
            cleaned = clean_contact_values(parsed, rules=rules)
            for name, message in cleaned.errors.items():
                index = columns.get(name)
                errors.setdefault(job.headers[index] if index is not None else name, message)
            shown = {name: value for name, value in cleaned.values.items() if name not in {"email", "phone"}}
            preview.append(PreviewRow(row.number, {**parsed, **shown}, errors))
    except reading.ImportFileError as error:
        preview.append(PreviewRow(0, {}, {"": str(error)}))
    return preview


def _row_values(
    job: ImportJob, cells: Sequence[str], custom_types: Mapping[str, str]
) -> tuple[dict[str, Any], dict[int, str]]:
    parsed, errors = values.row_to_values(
        cells,
        job.mapping,
        date_order=job.date_order or None,  # type: ignore[arg-type]
        tag_separator=job.tag_separator,
        decimal_comma=job.decimal_comma,
        custom_types=custom_types,
    )
    if job.tags:
        parsed["tags"] = [*parsed.get("tags", []), *job.tags]
    return parsed, errors


# --- Running ---------------------------------------------------------------------------------------


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


def _field_columns(job: ImportJob) -> dict[str, int]:
    """Which column each contact field came from, to name the column in a row error."""
    columns: dict[str, int] = {}
    for index, target in enumerate(job.mapping):
        if target:
            columns.setdefault(target, index)
            if target == "email":
                columns.setdefault("email_normalized", index)
    return columns


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
    chunk = _Chunk()
    try:
        for row in reading.iter_rows(
            _path(job), _format(job), expected_columns=len(job.headers), max_rows=_max_rows()
        ):
            job.rows_processed += 1
            if row.error:
                run.reject(row.number, row.cells, [("", "", row.error)])
                continue
            parsed, column_errors = _row_values(job, row.cells, run.custom_types)
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
    return _finish(run, status=ImportStatus.VALIDATED if dry_run else ImportStatus.COMPLETED)


def _flush(run: _Run, chunk: _Chunk) -> None:
    job = run.job
    if chunk.rows:
        policy = ConsentPolicy(
            allow_opt_in=job.consent_confirmed,
            keep_opt_outs=True,
            source=job.consent_source or f"Import of {job.original_name}",
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
    job.skipped_count = run.report.rows + run.mode_skipped
    job.errors = run.errors.stored
    ImportJob.objects.filter(id=job.id).update(
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


def _problem(run: _Run, cells: Sequence[str], name: str, message: str) -> tuple[str, str, str]:
    """A service error on a field, named by the file's column it came from."""
    index = run.field_columns.get(name)
    if index is None:
        return (name, "", message)
    return (run.job.headers[index], cells[index], message)


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
    run.report.handle.close()
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


def contact_fields() -> list[str]:
    """Targets a column can map to, for forms and the API."""
    return [name for name in FIELD_NAMES if name != "custom"]
