"""Before an import runs: store the upload, read its format and header, suggest and check the
mapping, guess date order and decimal comma, preview the first rows as they will be stored."""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.uploadedfile import UploadedFile

from apps.contacts.choices import ImportMode, ImportStatus
from apps.contacts.cleaning import FIELD_NAMES, FieldError, clean_contact_values
from apps.contacts.importing import mapping as mapping_rules
from apps.contacts.importing import reading, values
from apps.contacts.models import CustomField, ImportJob
from apps.contacts.services import contact_rules
from apps.workspaces.models import Workspace

if TYPE_CHECKING:
    from apps.accounts.models import User


DATE_FIELDS = ("birth_date", "customer_since", "last_purchase_at")


def _max_upload_bytes() -> int:
    return int(getattr(settings, "IMPORT_MAX_UPLOAD_BYTES", 200 * 1024 * 1024))


def _custom_keys(workspace: Workspace) -> list[str]:
    return list(CustomField.objects.filter(workspace=workspace).values_list("key", flat=True))


def _custom_types(workspace: Workspace) -> dict[str, str]:
    return dict(CustomField.objects.filter(workspace=workspace).values_list("key", "field_type"))


def _path(job: ImportJob) -> Path:
    return Path(job.file.path)


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


def _field_columns(job: ImportJob) -> dict[str, int]:
    """Which column each contact field came from, to name the column in a row error."""
    columns: dict[str, int] = {}
    for index, target in enumerate(job.mapping):
        if target:
            columns.setdefault(target, index)
            if target == "email":
                columns.setdefault("email_normalized", index)
    return columns


def contact_fields() -> list[str]:
    """Targets a column can map to, for forms and the API."""
    return [name for name in FIELD_NAMES if name != "custom"]
