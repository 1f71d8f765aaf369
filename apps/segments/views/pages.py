"""The segment list with the overlap matrix, a segment's page, its lazy count, freezing, deleting."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from apps.contacts import selectors as contact_selectors
from apps.core.http import WorkspaceHttpRequest, render_page
from apps.core.roles import Role
from apps.segments import builder, selectors, services
from apps.segments.forms import FreezeCopyForm
from apps.segments.models import Segment
from apps.segments.views.common import can, share, url, workspace_specs
from apps.workspaces.decorators import workspace_view


@workspace_view()
@require_GET
def segment_list(request: WorkspaceHttpRequest) -> HttpResponse:
    """Counts load lazily per row (a count at a million contacts takes a moment)."""
    context = {
        "segments": list(selectors.segment_list(workspace=request.workspace).select_related("created_by")),
        "can_edit": can(request, Role.EDITOR),
        "max_overlap": selectors.MAX_OVERLAP,
    }
    return render_page(request, "segments/list.html", context)


@workspace_view()
@require_GET
def segment_overlap(request: WorkspaceHttpRequest) -> HttpResponse:
    """How many contacts each pair of the ticked segments shares (htmx: the matrix only)."""
    ids = [int(value) for value in request.GET.getlist("ids") if value.isdigit()]
    segments = selectors.segments_by_ids(workspace=request.workspace, ids=ids)
    context: dict[str, object] = {"segments": segments, "max_overlap": selectors.MAX_OVERLAP}
    if 2 <= len(segments) <= selectors.MAX_OVERLAP:
        overlap = selectors.segment_overlap(workspace=request.workspace, segments=segments)
        total = selectors.contacts_total(workspace=request.workspace)
        context["rows"] = [
            {
                "segment": segment,
                "count": f"{overlap.counts[i]:,}",
                "share": share(overlap.counts[i], total),
                "cells": [
                    {"count": f"{both:,}", "share": share(both, overlap.counts[i]), "diagonal": i == j}
                    for j, both in enumerate(overlap.matrix[i])
                ],
            }
            for i, segment in enumerate(overlap.segments)
        ]
        context["total_display"] = f"{total:,}"
    else:
        context["problem"] = _("Tick 2 to %(most)s segments to compare.") % {"most": selectors.MAX_OVERLAP}
    return render_page(request, "segments/overlap.html", context, partial="matrix")


@workspace_view()
@require_GET
def segment_detail(request: WorkspaceHttpRequest, segment_id: int) -> HttpResponse:
    """The count loads after the page (htmx), or with it on `?count=1` (without JavaScript)."""
    segment = selectors.segment_get(workspace=request.workspace, segment_id=segment_id)
    names = {s.id: s.name for s in selectors.segment_list(workspace=request.workspace).only("id", "name")}
    context = {
        "segment": segment,
        "outline": builder.outline(segment.rules, workspace_specs(request), names),
        "problems": selectors.segment_problems(segment=segment),
        "including": selectors.segments_including(segment=segment),
        "can_edit": can(request, Role.EDITOR),
        "copy_form": FreezeCopyForm(initial={"name": _("%(name)s (snapshot)") % {"name": segment.name}}),
    }
    if request.GET.get("count"):
        context |= _count_context(request, segment, compact=False)
    return render_page(request, "segments/detail.html", context)


def _count_context(request: WorkspaceHttpRequest, segment: Segment, *, compact: bool) -> dict[str, object]:
    if compact:
        preview = selectors.Preview(count=selectors.segment_count(segment=segment), sample=[])
    else:
        preview = selectors.contacts_preview(selectors.segment_contacts(segment=segment), sample_size=10)
    total = selectors.contacts_total(workspace=request.workspace)
    return {
        "counted": True,
        "compact": compact,
        "count": preview.count,
        "count_display": f"{preview.count:,}",
        "total_display": f"{total:,}",
        "share": share(preview.count, total),
        "sample": preview.sample,
        "suppressed": contact_selectors.contact_ids_suppressed(
            workspace=request.workspace, contacts=preview.sample
        ),
    }


@workspace_view()
@require_GET
def segment_count(request: WorkspaceHttpRequest, segment_id: int) -> HttpResponse:
    """htmx: the count and the share of all contacts, with the newest members unless `compact`."""
    segment = selectors.segment_get(workspace=request.workspace, segment_id=segment_id)
    if not request.htmx:
        return redirect(f"{url(request, 'detail', segment_id=segment.id)}?count=1")
    context = _count_context(request, segment, compact=bool(request.GET.get("compact")))
    return render_page(request, "segments/_count.html", context)


@workspace_view(Role.EDITOR)
@require_POST
def segment_freeze(request: WorkspaceHttpRequest, segment_id: int) -> HttpResponse:
    """Freeze now (this segment becomes a snapshot) or freeze a copy (`name` given)."""
    segment = selectors.segment_get(workspace=request.workspace, segment_id=segment_id)
    name = None
    if "name" in request.POST:
        form = FreezeCopyForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("Give the snapshot a name."))
            return redirect(url(request, "detail", segment_id=segment.id))
        name = form.cleaned_data["name"]
    try:
        frozen = services.segment_freeze(segment=segment, name=name, actor=request.user)
    except ValidationError as error:
        messages.error(request, _("Not frozen: %(why)s") % {"why": " ".join(error.messages)})
        return redirect(url(request, "detail", segment_id=segment.id))
    when = timezone.localtime(frozen.frozen_at, ZoneInfo(request.workspace.time_zone))
    messages.success(
        request,
        _("“%(name)s” frozen with %(count)s contacts on %(when)s.")
        % {"name": frozen.name, "count": f"{frozen.frozen_count or 0:,}", "when": f"{when:%Y-%m-%d %H:%M}"},
    )
    return redirect(url(request, "detail", segment_id=frozen.id))


@workspace_view(Role.EDITOR)
@require_POST
def segment_delete(request: WorkspaceHttpRequest, segment_id: int) -> HttpResponse:
    segment = selectors.segment_get(workspace=request.workspace, segment_id=segment_id)
    try:
        services.segment_delete(segment=segment)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(url(request, "detail", segment_id=segment.id))
    messages.success(request, _("Segment “%(name)s” deleted; its contacts stay.") % {"name": segment.name})
    return redirect(url(request, "list"))
