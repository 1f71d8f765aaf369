"""Before an import runs: store the upload, read its format and header, suggest and check the
mapping (or take it from a preset), create the custom fields it asks for, guess date order and
decimal comma, preview the first rows as they will be stored."""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from apps.contacts.choices import CustomFieldType, ImportMode, ImportStatus
from apps.contacts.cleaning import FIELD_NAMES, FieldError, clean_contact_values
from apps.contacts.importing import mapping as mapping_rules
from apps.contacts.importing import reading, values
from apps.contacts.importing.mapping import NEW_PREFIX, NewField
from apps.contacts.models import CustomField, ImportJob, ImportPreset
from apps.contacts.services import contact_rules, custom_field_create
from apps.workspaces.models import Workspace

if TYPE_CHECKING:
    from apps.accounts.models import User


DATE_FIELDS = ("birth_date", "customer_since", "last_purchase_at")
# A choice field made from a column takes the column's distinct values in its first rows.
CHOICE_SAMPLE_ROWS = 1000
MAX_NEW_CHOICES = 100


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
    # Custom fields to create, by column index (the mapping page); the API writes them as
    # "new:<type>:<Label>" targets in `mapping` instead.
    new_fields: Mapping[int, NewField] = field(default_factory=dict)
    # On upload, when no mapping is given: the preset's mapping over the suggestion. The preset's
    # other choices are the caller's to copy (`presets.preset_settings`), as they may override them.
    preset: ImportPreset | None = None


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
    job.mapping = _initial_mapping(headers, options, custom_keys=keys)
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


def _initial_mapping(
    headers: Sequence[str], options: ImportSettings, *, custom_keys: Sequence[str]
) -> list[str]:
    if options.mapping:
        return list(options.mapping)
    suggested = mapping_rules.suggest_mapping(headers, custom_keys=custom_keys)
    if options.preset is None:
        return suggested
    mapping, _notes = mapping_rules.apply_preset(
        headers, suggested, options.preset.mapping, custom_keys=custom_keys
    )
    return mapping  # the notes are read again where they are shown (`presets.import_preset_notes`)


def _column_messages(column_errors: Mapping[str, str]) -> list[str]:
    # A nested dict cannot go into ValidationError: one message per column, named by it.
    return [f"{col}: {msg}" if col else msg for col, msg in column_errors.items()]


def _mapping_errors(
    job: ImportJob, *, custom_keys: Sequence[str], mapping: Sequence[str] | None = None
) -> list[str]:
    mapping = job.mapping if mapping is None else mapping
    if len(mapping) != len(job.headers):
        return [f"Give one target per column: the file has {len(job.headers)} columns."]
    return _column_messages(mapping_rules.check_mapping(mapping, job.headers, custom_keys=custom_keys))


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
    new_fields, mapping_errors = _new_fields(job, options, custom_keys=custom_keys)
    planned = _planned_mapping(job.mapping, new_fields)
    if check_columns and not mapping_errors:
        keys = [*custom_keys, *(new.key for new in new_fields.values())]
        mapping_errors = _mapping_errors(job, custom_keys=keys, mapping=planned)
    if mapping_errors:
        errors["mapping"] = mapping_errors
    if errors:
        raise ValidationError(errors)
    _create_fields(job, new_fields)
    job.mapping = planned
    job.mode = options.mode
    job.tags = [name.strip() for name in options.tags if name.strip()]
    job.date_order = options.date_order or job.date_order
    job.decimal_comma = options.decimal_comma
    job.tag_separator = options.tag_separator or ","
    job.consent_confirmed = options.consent_confirmed
    job.consent_source = options.consent_source.strip()[:120]


def _new_fields(
    job: ImportJob, options: ImportSettings, *, custom_keys: Sequence[str]
) -> tuple[dict[int, NewField], list[str]]:
    """The custom fields the settings ask for, checked before any is created: `new_fields`, and
    "new:<type>:<Label>" targets (the API's way to say the same)."""
    fields = dict(options.new_fields)
    errors: dict[str, str] = {}
    for index, target in enumerate(job.mapping):
        if index in fields or not target.startswith(NEW_PREFIX):
            continue
        label = mapping_rules.column_label(job.headers[index] if index < len(job.headers) else "", index)
        try:
            fields[index] = mapping_rules.parse_new_target(target)
        except ValueError as error:
            errors[label] = str(error)
    errors |= mapping_rules.check_new_fields(fields, job.headers, custom_keys=custom_keys)
    for index, new in fields.items():
        label = mapping_rules.column_label(job.headers[index], index) if index < len(job.headers) else ""
        if new.field_type == CustomFieldType.CHOICE and not new.choices and label not in errors:
            choices = _column_values(job, index)
            if not choices or len(choices) > MAX_NEW_CHOICES:
                errors[label] = (
                    f"A choice field needs 1 to {MAX_NEW_CHOICES} choices; the first {CHOICE_SAMPLE_ROWS:,} "
                    f"rows of this column have {len(choices)} different values. Use text, or name the choices."
                )
            fields[index] = replace(new, choices=tuple(choices))
    return fields, _column_messages(errors)


def _column_values(job: ImportJob, index: int) -> list[str]:
    """The distinct values of a column in its first rows, in order of appearance."""
    found: dict[str, None] = {}
    try:
        for row in _first_rows(job, CHOICE_SAMPLE_ROWS):
            text = row.cells[index].strip() if row.error is None and index < len(row.cells) else ""
            if text:
                found.setdefault(text, None)
                if len(found) > MAX_NEW_CHOICES:
                    break
    except reading.ImportFileError:
        pass  # the preview names the problem
    return list(found)


def _planned_mapping(mapping: Sequence[str], new_fields: Mapping[int, NewField]) -> list[str]:
    """The mapping once the new custom fields exist; an unreadable "new:" target maps nothing."""
    return [
        f"{mapping_rules.CUSTOM_PREFIX}{new_fields[index].key}"
        if index in new_fields
        else ("" if target.startswith(NEW_PREFIX) else target)
        for index, target in enumerate(mapping)
    ]


@transaction.atomic
def _create_fields(job: ImportJob, new_fields: Mapping[int, NewField]) -> None:
    """Through the custom-field service, like the custom fields page; a rule it still refuses (a
    field made meanwhile in another tab) is reported on the column, and none is kept."""
    for index, new in sorted(new_fields.items()):
        try:
            custom_field_create(
                workspace=job.workspace,
                key=new.key,
                label=new.label,
                field_type=new.field_type,
                choices=new.choices,
            )
        except ValidationError as error:
            label = mapping_rules.column_label(job.headers[index], index)
            raise ValidationError({"mapping": [f"{label}: {' '.join(error.messages)}"]}) from error


@transaction.atomic
def import_configure(*, job: ImportJob, options: ImportSettings) -> ImportJob:
    """Change the mapping and choices of an import that has not started yet, creating the custom
    fields the mapping asks for (all or none)."""
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
    try:
        for row in _first_rows(job, 500):
            if row.error is None:
                samples.extend(row.cells[index] for index in columns if row.cells[index].strip())
    except reading.ImportFileError:
        pass  # the rows before it decide; the run reports the problem with its row
    return values.guess_decimal_comma(samples)


def _format(job: ImportJob) -> reading.FileFormat:
    return reading.FileFormat(kind=job.kind, encoding=job.encoding, delimiter=job.delimiter)


def _first_rows(job: ImportJob, count: int) -> Iterator[reading.Row]:
    """The first `count` data rows. Not `max_rows`: that is the import's cap and raises beyond it.
    None once the file was deleted after the retention (`importing.retention`)."""
    if not job.file:
        return iter(())
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
        parse = row_parser(job, custom_types)
        for row in _first_rows(job, limit):
            if row.error:
                preview.append(PreviewRow(row.number, {}, {"": row.error}))
                continue
            parsed, column_errors = parse(row.cells)
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


def row_parser(job: ImportJob, custom_types: Mapping[str, str]) -> values.RowParser:
    """How this job reads a row: its mapping, date order, separators and the tags chosen at upload."""
    return values.RowParser.for_mapping(
        job.mapping,
        date_order=job.date_order or None,  # type: ignore[arg-type]
        tag_separator=job.tag_separator,
        decimal_comma=job.decimal_comma,
        custom_types=custom_types,
        extra_tags=job.tags or (),
    )


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
