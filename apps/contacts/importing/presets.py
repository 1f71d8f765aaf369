"""Import presets: the mapping and choices of an import, saved under a name for the next file of the
same kind (the shop's or the CRM's monthly export).

A preset keeps its mapping by header text ({header: target}), so a file whose columns come in another
order still fits. Applying it matches headers whatever their case and spacing; columns it does not
know keep their suggestion, and a target whose custom field was deleted since is dropped with a note
naming the column. Reads (`import_preset_list`, `..._get`, `..._by_name`) sit beside the writes here,
as the import's own selectors.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.db.models.functions import Lower

from apps.contacts.choices import ImportMode, ImportStatus
from apps.contacts.importing import mapping as mapping_rules
from apps.contacts.importing.reading import DEFAULT_MAX_COLUMNS
from apps.contacts.importing.setup import (
    ImportSettings,
    _custom_keys,
    _custom_types,
    _guess_date_order,
    _guess_decimal_comma,
)
from apps.contacts.models import ImportJob, ImportPreset
from apps.core.scoping import get_scoped_or_404, scoped
from apps.workspaces.models import Workspace

if TYPE_CHECKING:
    from apps.accounts.models import User

MAX_NAME_LENGTH = 80
MAX_HEADER_LENGTH = 255
MAX_TAG_LENGTH = 80
EDITABLE = (ImportStatus.UPLOADED, ImportStatus.VALIDATED)


@dataclasses.dataclass(frozen=True)
class PresetValues:
    """What a preset holds besides its name."""

    mapping: Mapping[str, str]
    mode: str = ImportMode.UPSERT
    tags: Sequence[str] = ()
    tag_separator: str = ","
    date_order: str = ""
    decimal_comma: bool | None = None


# --- Reads ------------------------------------------------------------------------------------------


def import_preset_list(*, workspace: Workspace) -> QuerySet[ImportPreset]:
    return scoped(ImportPreset.objects.select_related("created_by"), workspace=workspace).order_by(
        Lower("name"), "id"
    )


def import_preset_get(*, workspace: Workspace, preset_id: int) -> ImportPreset:
    return get_scoped_or_404(ImportPreset.objects.all(), workspace=workspace, pk=preset_id)


def import_preset_by_name(*, workspace: Workspace, name: str) -> ImportPreset | None:
    """Names are unique whatever their case, as the constraint compares them."""
    presets = scoped(ImportPreset.objects.all(), workspace=workspace)
    return presets.alias(lower_name=Lower("name")).filter(lower_name=name.strip().lower()).first()


def import_preset_notes(*, job: ImportJob, preset: ImportPreset) -> list[str]:
    """What the preset could not apply to this job's file (deleted custom fields, clashes)."""
    _mapping, notes = mapping_rules.apply_preset(
        job.headers, job.mapping, preset.mapping, custom_keys=_custom_keys(job.workspace)
    )
    return notes


def preset_settings(preset: ImportPreset, base: ImportSettings | None = None) -> ImportSettings:
    """An upload's settings from a preset; callers then overlay what the importer chose explicitly."""
    return dataclasses.replace(
        base or ImportSettings(),
        preset=preset,
        mode=preset.mode,
        tags=tuple(preset.tags),
        tag_separator=preset.tag_separator,
        date_order=preset.date_order,
        decimal_comma=preset.decimal_comma,
    )


def preset_values(preset: ImportPreset) -> PresetValues:
    return PresetValues(
        mapping=preset.mapping,
        mode=preset.mode,
        tags=preset.tags,
        tag_separator=preset.tag_separator,
        date_order=preset.date_order,
        decimal_comma=preset.decimal_comma,
    )


def job_preset_values(job: ImportJob) -> PresetValues:
    """An import's current mapping and choices, as a preset keeps them."""
    return PresetValues(
        mapping=mapping_rules.mapping_to_preset(job.headers, job.mapping),
        mode=job.mode,
        tags=job.tags,
        tag_separator=job.tag_separator,
        date_order=job.date_order,
        decimal_comma=job.decimal_comma,
    )


# --- Rules ------------------------------------------------------------------------------------------


def _clean_name(name: str, *, workspace: Workspace, preset: ImportPreset | None) -> tuple[str, str | None]:
    name = " ".join(str(name or "").split())
    if not name:
        return name, "Give the preset a name."
    if len(name) > MAX_NAME_LENGTH:
        return name, f"A preset name has at most {MAX_NAME_LENGTH} characters."
    same = import_preset_by_name(workspace=workspace, name=name)
    if same is not None and (preset is None or same.pk != preset.pk):
        return name, f"There already is a preset named “{same.name}”."
    return name, None


def _target_problem(header: str, target: str, custom_keys: set[str]) -> str | None:
    if not target:
        return None
    if target.startswith(mapping_rules.NEW_PREFIX):
        return (
            f"{header}: a preset maps to existing fields only; create the custom field first "
            "(an import can create it), then save the preset."
        )
    problem = mapping_rules.target_problem(target, custom_keys)
    return f"{header}: {problem}" if problem else None


def _clean_mapping(mapping: Any, *, custom_keys: Sequence[str]) -> tuple[dict[str, str], list[str]]:
    if not isinstance(mapping, Mapping):
        return {}, [
            'Give the mapping as an object of header -> target, e.g. {"E-Mail": "email", "Notes": ""}.'
        ]
    if len(mapping) > DEFAULT_MAX_COLUMNS:
        return {}, [f"A preset maps at most {DEFAULT_MAX_COLUMNS} columns; this one has {len(mapping)}."]
    cleaned: dict[str, str] = {}
    errors: list[str] = []
    seen: dict[str, str] = {}
    known = set(custom_keys)
    for raw_header, raw_target in mapping.items():
        header, target = str(raw_header).strip(), str(raw_target or "").strip()
        key = mapping_rules.preset_header(header)
        if not key:
            errors.append("Every column of a preset needs its header; a blank header matches nothing.")
        elif len(header) > MAX_HEADER_LENGTH:
            errors.append(f"{header[:40]}…: a header has at most {MAX_HEADER_LENGTH} characters.")
        elif key in seen:
            errors.append(f"{header}: “{seen[key]}” is the same column (case and spaces do not count).")
        elif problem := _target_problem(header, target, known):
            errors.append(problem)
        else:
            seen[key] = header
            cleaned[header] = target
    return cleaned, errors


def _clean_tags(tags: Sequence[str]) -> tuple[list[str], str | None]:
    names: list[str] = []
    for name in (" ".join(str(tag).split()) for tag in tags):
        if name and name.casefold() not in {seen.casefold() for seen in names}:
            names.append(name)
    too_long = next((name for name in names if len(name) > MAX_TAG_LENGTH), None)
    if too_long:
        return names, f"A tag has at most {MAX_TAG_LENGTH} characters: shorten “{too_long[:40]}…”."
    return names, None


def import_preset_validate(
    *, workspace: Workspace, name: str, values: PresetValues, preset: ImportPreset | None = None
) -> tuple[str, PresetValues]:
    """The preset's name and values as they will be stored, or a ValidationError naming every
    problem (for forms that show them on their fields before saving)."""
    errors: dict[str, Any] = {}
    name, problem = _clean_name(name, workspace=workspace, preset=preset)
    if problem:
        errors["name"] = problem
    mapping, mapping_errors = _clean_mapping(values.mapping, custom_keys=_custom_keys(workspace))
    if mapping_errors:
        errors["mapping"] = mapping_errors
    if values.mode not in ImportMode.values:
        errors["mode"] = f"“{values.mode}” is not a mode: use one of {', '.join(ImportMode.values)}."
    tags, problem = _clean_tags(values.tags)
    if problem:
        errors["tags"] = problem
    if not values.tag_separator or len(values.tag_separator) > 3:
        errors["tag_separator"] = "Give the separator of tags in one cell: one to three characters, e.g. “,”."
    if values.date_order not in ("", "dmy", "mdy"):
        errors["date_order"] = "Use dmy (day first), mdy (month first), or leave it empty to guess per file."
    if errors:
        raise ValidationError(errors)
    return name, dataclasses.replace(values, mapping=mapping, tags=tags)


def _save(preset: ImportPreset, *, name: str, values: PresetValues) -> ImportPreset:
    preset.name = name
    preset.mapping = dict(values.mapping)
    preset.mode = values.mode
    preset.tags = list(values.tags)
    preset.tag_separator = values.tag_separator
    preset.date_order = values.date_order
    preset.decimal_comma = values.decimal_comma
    try:
        with transaction.atomic():
            preset.save()
    except IntegrityError as error:  # the same name saved meanwhile, in another tab
        raise ValidationError({"name": f"There already is a preset named “{name}”."}) from error
    return preset


# --- Writes -----------------------------------------------------------------------------------------


def import_preset_create(
    *, workspace: Workspace, name: str, values: PresetValues, actor: User | None = None
) -> ImportPreset:
    name, values = import_preset_validate(workspace=workspace, name=name, values=values, preset=None)
    return _save(ImportPreset(workspace=workspace, created_by=actor), name=name, values=values)


def import_preset_update(*, preset: ImportPreset, name: str, values: PresetValues) -> ImportPreset:
    name, values = import_preset_validate(workspace=preset.workspace, name=name, values=values, preset=preset)
    return _save(preset, name=name, values=values)


def import_preset_delete(*, preset: ImportPreset) -> None:
    """Imports made with it keep their settings: a job copies the preset, never links to it."""
    preset.delete()


def import_preset_save(
    *, job: ImportJob, name: str, actor: User | None = None, replace: bool = False
) -> ImportPreset:
    """Save an import's current mapping and choices as a preset; with `replace`, over the preset
    of the same name (whatever its case), else a taken name is refused."""
    values = job_preset_values(job)
    existing = import_preset_by_name(workspace=job.workspace, name=name) if replace else None
    if existing is not None:
        return import_preset_update(preset=existing, name=name, values=values)
    return import_preset_create(workspace=job.workspace, name=name, values=values, actor=actor)


def import_preset_apply(*, job: ImportJob, preset: ImportPreset) -> list[str]:
    """Give an import that has not started the preset's mapping and choices; returns the notes on
    what could not be applied. The mapping is checked when the import starts, as after upload."""
    if job.status not in EDITABLE:
        raise ValidationError(f"This import is {job.get_status_display().lower()}; its settings are fixed.")
    keys = _custom_keys(job.workspace)
    suggested = mapping_rules.suggest_mapping(job.headers, custom_keys=keys)
    job.mapping, notes = mapping_rules.apply_preset(job.headers, suggested, preset.mapping, custom_keys=keys)
    job.mode, job.tags, job.tag_separator = preset.mode, list(preset.tags), preset.tag_separator
    # Guessed again for the new mapping unless the preset says: its date columns may be other ones.
    job.date_order = preset.date_order or _guess_date_order(job) or ""
    job.decimal_comma = (
        preset.decimal_comma
        if preset.decimal_comma is not None
        else _guess_decimal_comma(job, custom_types=_custom_types(job.workspace))
    )
    job.status = ImportStatus.UPLOADED
    fields = ["mapping", "mode", "tags", "tag_separator", "date_order", "decimal_comma", "status"]
    job.save(update_fields=[*fields, "updated_at"])
    return notes
