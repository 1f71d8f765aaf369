"""Contact list imports: the list of past imports, the upload (XMLHttpRequest with a progress bar, or a
plain form without JavaScript), the column mapping with a preview, and the run, polled by htmx.

Thin like the other pages: the forms shape the input, `importing.pipeline` decides and writes, the
Celery task runs the file. The job row holds the whole state, so a refresh, the API and the CLI
all show the same thing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import dateformat
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.contacts import selectors
from apps.contacts.choices import ImportStatus
from apps.contacts.forms_import import (
    ImportMappingForm,
    ImportPresetApplyForm,
    ImportUploadForm,
    target_label,
)
from apps.contacts.importing import pipeline, presets
from apps.contacts.importing.retention import retention_days
from apps.contacts.models import Contact, ImportJob
from apps.contacts.views.common import _add_service_errors, _can, _int, _redirect, _url, _wants_partial
from apps.core.http import WorkspaceHttpRequest, render_page
from apps.core.roles import Role
from apps.workspaces.decorators import workspace_view

LIST_SIZE = 25
SHOWN_ERRORS = 10
ACTIVE = frozenset({ImportStatus.QUEUED, ImportStatus.VALIDATING, ImportStatus.RUNNING})
EDITABLE = frozenset({ImportStatus.UPLOADED, ImportStatus.VALIDATED})
DETAIL = "contacts/imports/detail.html"
DELIMITER_NAMES = {
    ",": _lazy("commas"),
    ";": _lazy("semicolons"),
    "\t": _lazy("tabs"),
    "|": _lazy("vertical bars"),
}


def _job_url(request: WorkspaceHttpRequest, job: ImportJob, name: str = "import-detail") -> str:
    return _url(request, name, import_job_id=job.id)


def _tag_names(request: WorkspaceHttpRequest) -> list[str]:
    return list(selectors.tag_list(workspace=request.workspace).values_list("name", flat=True))


# --- The list -------------------------------------------------------------------------------------


@workspace_view()
@require_GET
def import_list(request: WorkspaceHttpRequest) -> HttpResponse:
    after = _int(request.GET.get("after"))
    jobs = selectors.import_job_list(workspace=request.workspace)
    if after:
        jobs = jobs.filter(id__lt=after)
    rows = list(jobs[: LIST_SIZE + 1])
    context = {
        "jobs": rows[:LIST_SIZE],
        "after": after,
        "next_after": rows[LIST_SIZE - 1].id if len(rows) > LIST_SIZE else None,
        "can_edit": _can(request, Role.EDITOR),
        "active": ACTIVE,
    }
    return render_page(request, "contacts/imports/list.html", context)


# --- Upload ----------------------------------------------------------------------------------------


def _is_script_upload(request: WorkspaceHttpRequest) -> bool:
    """import_upload.js sends the file with XMLHttpRequest and this header (for its progress bar)."""
    return request.headers.get("X-Requested-With") == "XMLHttpRequest"


@workspace_view(Role.EDITOR)
@require_http_methods(["GET", "POST"])
def import_upload(request: WorkspaceHttpRequest) -> HttpResponse:
    saved = presets.import_preset_list(workspace=request.workspace)
    form = (
        ImportUploadForm(request.POST, request.FILES, presets=saved)
        if request.method == "POST"
        else ImportUploadForm(presets=saved)
    )
    if request.method == "POST" and form.is_valid():
        try:
            job = pipeline.import_create(
                workspace=request.workspace,
                upload=form.cleaned_data["file"],
                actor=request.user,
                options=form.settings(),
            )
        except ValidationError as error:
            _add_service_errors(form, error)
        else:
            if form.cleaned_data.get("preset"):
                for note in presets.import_preset_notes(job=job, preset=form.cleaned_data["preset"]):
                    messages.warning(request, note)
            url = _job_url(request, job)
            if _is_script_upload(request):
                return JsonResponse({"location": url}, status=201, headers={"Location": url})
            return redirect(url)
    context = {
        "form": form,
        "has_presets": saved.exists(),
        "tag_names": _tag_names(request),
        "max_bytes": int(getattr(settings, "IMPORT_MAX_UPLOAD_BYTES", 0)),
    }
    status = 422 if form.errors else 200
    if _is_script_upload(request):
        return render(request, "contacts/imports/upload.html#upload-form", context, status=status)
    return render_page(request, "contacts/imports/upload.html", context, status=status)


# --- Mapping and preview ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PreviewCell:
    text: str
    error: str = ""


def _shown(name: str, value: Any) -> str:
    """A parsed value as the contact page would show it."""
    if value is None or value == "":
        return ""
    if isinstance(value, list | tuple):
        return ", ".join(str(item) for item in value)
    if isinstance(value, dt.datetime):
        return dateformat.format(value, "j M Y, H:i")
    if isinstance(value, dt.date):
        return dateformat.format(value, "j M Y")
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, Decimal):
        return f"{value:,.2f}"
    if name and not name.startswith("custom.") and name != "tags":
        try:
            choices = dict(Contact._meta.get_field(name).flatchoices)  # type: ignore[union-attr]
        except Exception:  # noqa: BLE001 - not a model field: shown as it is
            choices = {}
        if value in choices:
            return str(choices[value])
    return str(value)


def _parsed(values: dict[str, Any], target: str) -> Any:
    if target.startswith("custom."):
        key = target.removeprefix("custom.")
        return (values.get("custom") or {}).get(key, values.get(target))
    return values.get(target)


def _preview(job: ImportJob) -> dict[str, Any]:
    """The first rows as they will be stored: one column per target, errors on the cell they concern."""
    targets = list(dict.fromkeys(target for target in job.mapping if target))
    target_of_header = dict(zip(job.headers, job.mapping, strict=False))
    custom_labels = dict(selectors.custom_field_list(workspace=job.workspace).values_list("key", "label"))
    rows = []
    for row in pipeline.import_preview(job=job):
        by_target: dict[str, str] = {}
        row_errors = []
        for header, message in row.errors.items():
            target = target_of_header.get(header, "")
            if target in targets:
                by_target[target] = (
                    f"{by_target[target]} {message}".strip() if target in by_target else message
                )
            else:
                row_errors.append(f"{header}: {message}" if header else message)
        cells = [PreviewCell(_shown(t, _parsed(row.values, t)), by_target.get(t, "")) for t in targets]
        rows.append({"number": row.number, "cells": cells, "errors": row_errors, "bad": bool(row.errors)})
    return {
        "headings": [target_label(target, custom_labels) for target in targets],
        "rows": rows,
        "bad_rows": sum(1 for row in rows if row["bad"]),
    }


def mapping_form(
    request: WorkspaceHttpRequest, job: ImportJob, data: Any = None, custom_fields: Any = None
) -> ImportMappingForm:
    """Admins may also create custom fields for skipped columns, as on the custom fields page."""
    return ImportMappingForm(
        data,
        job=job,
        custom_fields=custom_fields or list(selectors.custom_field_list(workspace=request.workspace)),
        can_create_fields=_can(request, Role.ADMIN),
    )


def _column(form: ImportMappingForm | None, index: int) -> dict[str, Any]:
    """A column's select and, when it is skipped, its "Create custom field" inputs."""
    if form is None:
        return {"field": None, "new": None}
    field = form.columns()[index]
    new = form.new_field_parts(index)
    if new is not None and (field.value() or "") and not new["create"].value():
        new = None  # mapped: nothing to create
    return {"field": field, "new": new}


def _settings_context(
    request: WorkspaceHttpRequest,
    job: ImportJob,
    form: ImportMappingForm | None = None,
    apply_form: ImportPresetApplyForm | None = None,
) -> dict[str, Any]:
    custom_fields = list(selectors.custom_field_list(workspace=request.workspace))
    editable = _can(request, Role.EDITOR) and job.status in EDITABLE
    if editable and form is None:
        form = mapping_form(request, job, custom_fields=custom_fields)
    if editable and apply_form is None:
        saved = presets.import_preset_list(workspace=request.workspace)
        apply_form = ImportPresetApplyForm(presets=saved) if saved.exists() else None
    samples = pipeline.import_samples(job=job)
    custom_labels = {custom.key: custom.label for custom in custom_fields}
    columns = [
        {
            "header": header,
            "samples": samples[index] if index < len(samples) else [],
            "target": target_label(job.mapping[index] if index < len(job.mapping) else "", custom_labels),
            **_column(form if editable else None, index),
        }
        for index, header in enumerate(job.headers)
    ]
    return {
        "job": job,
        "form": form if editable else None,
        "apply_form": apply_form if editable else None,
        "columns": columns,
        "preview": _preview(job) if job.status in EDITABLE else None,
        "date_question": bool(form and form.maps_dates()),
        "date_required": job.status in EDITABLE and pipeline.needs_date_order(job),
        "tag_names": _tag_names(request) if editable else [],
        "delimiter_name": DELIMITER_NAMES.get(job.delimiter, f"“{job.delimiter}”"),
    }


def _run_context(request: WorkspaceHttpRequest, job: ImportJob) -> dict[str, Any]:
    polling = job.status in ACTIVE
    return {
        "job": job,
        "polling": polling,
        "percent": job.progress_percent if polling else 100,
        "dry_run": job.status in (ImportStatus.VALIDATING, ImportStatus.VALIDATED),
        "shown_errors": sorted(job.errors, key=lambda error: error.get("row", 0))[:SHOWN_ERRORS],
        "can_edit": _can(request, Role.EDITOR),
        "can_cancel": job.status in ACTIVE,
        "has_report": bool(job.report) and job.error_count > 0,
        # Kept `IMPORT_RETENTION_DAYS`, then deleted: they hold personal data (importing.retention).
        "files_deleted": job.is_finished and not job.file,
        "retention_days": retention_days(),
    }


def _detail_context(
    request: WorkspaceHttpRequest,
    job: ImportJob,
    form: ImportMappingForm | None = None,
    apply_form: ImportPresetApplyForm | None = None,
) -> dict[str, Any]:
    return {**_settings_context(request, job, form, apply_form), **_run_context(request, job)}


@workspace_view()
@require_http_methods(["GET", "POST"])
def import_detail(request: WorkspaceHttpRequest, import_job_id: int) -> HttpResponse:
    job = selectors.import_job_get(workspace=request.workspace, import_job_id=import_job_id)
    if request.method == "POST":
        if not _can(request, Role.EDITOR):
            raise PermissionDenied(_("Importing contacts needs the Editor role."))
        return _configure(request, job)
    return render_page(request, DETAIL, _detail_context(request, job))


def _saved_message(form: ImportMappingForm, preset: Any) -> str:
    created = ", ".join(f"“{new.label}”" for new in form.new_fields.values())
    parts = [_("Custom fields created: %(labels)s.") % {"labels": created}] if created else []
    if preset is not None:
        parts.append(_("Preset “%(name)s” saved.") % {"name": preset.name})
    return " ".join(parts)


def _configure(request: WorkspaceHttpRequest, job: ImportJob) -> HttpResponse:
    """Save the mapping and choices (creating the custom fields asked for); with `action=check` or
    `action=import` start the run too, with `action=save_preset` also save them as a preset."""
    if job.status not in EDITABLE:  # a second tab, or a second click: the run has started already
        messages.error(request, _("This import has started; its settings can no longer change."))
        return _redirect(request, _job_url(request, job))
    form = mapping_form(request, job, request.POST)
    action = request.POST.get("action", "preview")
    preset, saved_message = None, ""
    if form.is_valid():
        try:
            pipeline.import_configure(job=job, options=form.settings())
            if action in ("check", "import"):
                pipeline.import_enqueue(job=job, dry_run=action == "check")
            if action == "save_preset":
                preset = presets.import_preset_save(
                    job=job,
                    name=form.cleaned_data["preset_name"],
                    actor=request.user,
                    replace=form.cleaned_data["preset_replace"],
                )
        except ValidationError as error:
            form.add_service_errors(error, renamed={"name": "preset_name"})
            job.refresh_from_db()
        else:
            if action in ("check", "import"):
                return _redirect(request, _job_url(request, job))
            if not request.htmx:
                saved = _("Settings saved. The preview shows the first rows as they will be stored.")
                messages.success(request, f"{_saved_message(form, preset)} {saved}".strip())
                return redirect(_job_url(request, job))
            saved_message = _saved_message(form, preset)
            form = mapping_form(request, job)  # with the custom fields just created
    context = {
        **_detail_context(request, job, form),
        "saved": not form.errors,
        "saved_message": saved_message,
    }
    return render_page(
        request,
        DETAIL,
        context,
        partial="settings" if _wants_partial(request) else None,
        status=422 if form.errors else 200,
    )


# --- The run: start, progress, cancel, rejected rows --------------------------------------------------


@workspace_view(Role.EDITOR)
@require_POST
def import_start(request: WorkspaceHttpRequest, import_job_id: int) -> HttpResponse:
    """“Import now” after a dry run: the settings are saved already."""
    job = selectors.import_job_get(workspace=request.workspace, import_job_id=import_job_id)
    try:
        pipeline.import_enqueue(job=job, dry_run=False)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return _redirect(request, _job_url(request, job))


@workspace_view()
@require_GET
def import_progress(request: WorkspaceHttpRequest, import_job_id: int) -> HttpResponse:
    """The polled fragment. When the status changed since the last poll (`seen`), it also brings the
    parts of the page that depend on it (announcement, buttons, settings) as out-of-band swaps."""
    job = selectors.import_job_get(workspace=request.workspace, import_job_id=import_job_id)
    if not request.htmx:
        return redirect(_job_url(request, job))
    context = _run_context(request, job)
    context["changed"] = request.GET.get("seen", "") != job.status
    if context["changed"]:
        context.update(_settings_context(request, job))
    return render(request, f"{DETAIL}#progress-update", context)


@workspace_view(Role.EDITOR)
@require_POST
def import_cancel(request: WorkspaceHttpRequest, import_job_id: int) -> HttpResponse:
    job = selectors.import_job_get(workspace=request.workspace, import_job_id=import_job_id)
    job = pipeline.import_cancel(job=job)
    if job.status == ImportStatus.CANCELLED:
        messages.success(request, _("Import cancelled."))
    elif not job.is_finished:
        messages.info(
            request,
            _("Stopping: the import ends after the rows it is writing now. Rows already imported stay."),
        )
    return _redirect(request, _job_url(request, job))


@workspace_view(Role.EDITOR)
@require_GET
def import_rejected(request: WorkspaceHttpRequest, import_job_id: int) -> HttpResponse:
    """The rejected rows as the file had them, plus a `reason` column: fix them and import again.
    Editors only, like every export of contact data."""
    job = selectors.import_job_get(workspace=request.workspace, import_job_id=import_job_id)
    if not job.report:
        raise Http404("This import has no rejected rows.")
    filename = f"{Path(job.original_name).stem}-rejected.csv"
    response = FileResponse(
        job.report.open("rb"), as_attachment=True, filename=filename, content_type="text/csv; charset=utf-8"
    )
    return cast(HttpResponse, response)  # a streaming response; `workspace_view` types views as HttpResponse
