"""Import presets in the browser: applying one to an import's mapping page, and the list of the
workspace's presets (to see and delete them). Saving one is a button of the mapping form
(`imports._configure`); the upload page picks one too."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from apps.contacts import selectors
from apps.contacts.forms_import import ImportPresetApplyForm
from apps.contacts.importing import presets
from apps.contacts.views.common import _can, _redirect, _url, _wants_partial
from apps.contacts.views.imports import DETAIL, EDITABLE, _detail_context, _job_url
from apps.core.http import WorkspaceHttpRequest, render_page
from apps.core.roles import Role
from apps.workspaces.decorators import workspace_view


@workspace_view(Role.EDITOR)
@require_POST
def import_preset_apply(request: WorkspaceHttpRequest, import_job_id: int) -> HttpResponse:
    """Replace the mapping and choices with a preset's; the page shows what it could not apply."""
    job = selectors.import_job_get(workspace=request.workspace, import_job_id=import_job_id)
    if job.status not in EDITABLE:  # a second tab: the run has started already
        messages.error(request, _("This import has started; its settings can no longer change."))
        return _redirect(request, _job_url(request, job))
    form = ImportPresetApplyForm(
        request.POST, presets=presets.import_preset_list(workspace=request.workspace)
    )
    applied, notes = "", []
    if form.is_valid():
        preset = form.cleaned_data["preset"]
        try:
            notes = presets.import_preset_apply(job=job, preset=preset)
        except ValidationError as error:  # the run started meanwhile
            messages.error(request, " ".join(error.messages))
            return _redirect(request, _job_url(request, job))
        applied = _("Preset “%(name)s” applied: check the columns and the preview.") % {"name": preset.name}
        if not request.htmx:
            messages.success(request, applied)
            for note in notes:
                messages.warning(request, note)
            return redirect(_job_url(request, job))
    context = {
        **_detail_context(request, job, apply_form=form if form.errors else None),
        "preset_applied": applied,
        "preset_notes": notes,
    }
    return render_page(
        request,
        DETAIL,
        context,
        partial="settings" if _wants_partial(request) else None,
        status=422 if form.errors else 200,
    )


@workspace_view()
@require_GET
def import_preset_list(request: WorkspaceHttpRequest) -> HttpResponse:
    context = {
        "presets": presets.import_preset_list(workspace=request.workspace),
        "can_edit": _can(request, Role.EDITOR),
    }
    return render_page(request, "contacts/imports/presets.html", context)


@workspace_view(Role.EDITOR)
@require_POST
def import_preset_delete(request: WorkspaceHttpRequest, preset_id: int) -> HttpResponse:
    preset = presets.import_preset_get(workspace=request.workspace, preset_id=preset_id)
    presets.import_preset_delete(preset=preset)
    messages.success(
        request,
        _("Preset “%(name)s” deleted; imports made with it keep their settings.") % {"name": preset.name},
    )
    return _redirect(request, _url(request, "import-presets"))
