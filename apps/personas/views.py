"""Persona pages: the list (with how many the plan still needs), create, edit, a persona's page,
side-by-side comparison, regenerating the segment, deleting."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.core.http import WorkspaceHttpRequest, render_page
from apps.core.roles import Role
from apps.personas import display, selectors, services
from apps.personas.forms import PersonaForm
from apps.personas.models import Persona
from apps.segments import selectors as segment_selectors
from apps.segments.views.common import share
from apps.workspaces.decorators import workspace_view


def _url(request: WorkspaceHttpRequest, name: str, **kwargs: Any) -> str:
    return reverse(f"personas:{name}", kwargs={"workspace_slug": request.workspace.slug, **kwargs})


def _can_edit(request: WorkspaceHttpRequest) -> bool:
    return Role(request.membership.role).includes(Role.EDITOR)


def _cards(request: WorkspaceHttpRequest, personas: list[Persona]) -> list[dict[str, Any]]:
    """Each persona with how many contacts fit it (one count each, the total once)."""
    total = segment_selectors.contacts_total(workspace=request.workspace)
    cards = []
    for persona in personas:
        fit = selectors.persona_fit(persona=persona, total=total)
        cards.append(
            {
                "persona": persona,
                "count": fit.count,
                "count_display": f"{fit.count:,}",
                "share": share(fit.count, total),
                "total_display": f"{total:,}",
                "facts": display.persona_facts(persona),
                "story": display.persona_story(persona),
            }
        )
    return cards


@workspace_view()
@require_GET
def persona_list(request: WorkspaceHttpRequest) -> HttpResponse:
    """Counts load lazily per row, through the segment's count (a count takes a moment at scale)."""
    personas = list(selectors.persona_list(workspace=request.workspace))
    context = {
        "personas": personas,
        "progress": selectors.persona_progress(workspace=request.workspace, count=len(personas)),
        "can_edit": _can_edit(request),
        "max_compare": selectors.MAX_COMPARE,
    }
    return render_page(request, "personas/list.html", context)


@workspace_view()
@require_GET
def persona_compare(request: WorkspaceHttpRequest) -> HttpResponse:
    """The ticked personas side by side (all of them, up to the most, when none is ticked)."""
    ids = [int(value) for value in request.GET.getlist("ids") if value.isdigit()]
    if ids:
        personas = selectors.personas_by_ids(workspace=request.workspace, ids=ids)
    else:
        personas = list(selectors.persona_list(workspace=request.workspace))
    cards = _cards(request, personas[: selectors.MAX_COMPARE])
    context = {
        "cards": cards,
        "rows": _compare_rows(cards),
        "left_out": max(len(personas) - selectors.MAX_COMPARE, 0),
        "can_edit": _can_edit(request),
    }
    return render_page(request, "personas/compare.html", context)


def _compare_rows(cards: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per attribute, one cell per persona, so the personas line up side by side; story rows
    nobody filled in are left out."""
    if not cards:
        return []
    rows = [
        {"label": label, "cells": [card["facts"][i][1] for card in cards], "story": False}
        for i, (label, _value) in enumerate(cards[0]["facts"])
    ]
    for i, (label, _value) in enumerate(cards[0]["story"]):
        cells = [card["story"][i][1] for card in cards]
        if any(cells):
            rows.append({"label": label, "cells": cells, "story": True})
    return rows


@workspace_view()
@require_GET
def persona_detail(request: WorkspaceHttpRequest, persona_id: int) -> HttpResponse:
    persona = selectors.persona_get(workspace=request.workspace, persona_id=persona_id)
    context = {"card": _cards(request, [persona])[0], "can_edit": _can_edit(request)}
    return render_page(request, "personas/detail.html", context)


def _form_page(
    request: WorkspaceHttpRequest, form: PersonaForm, persona: Persona | None, status: int = 200
) -> HttpResponse:
    context = {
        "form": form,
        "persona": persona,
        "action_url": _url(request, "edit", persona_id=persona.id) if persona else _url(request, "create"),
    }
    return render_page(request, "personas/form.html", context, status=status)


def _save(request: WorkspaceHttpRequest, persona: Persona | None) -> HttpResponse:
    form = PersonaForm(request.POST, workspace=request.workspace)
    if form.is_valid():
        try:
            if persona is None:
                saved = services.persona_create(
                    workspace=request.workspace, actor=request.user, **form.values()
                )
            else:
                saved = services.persona_update(persona=persona, **form.values())
        except ValidationError as error:
            for name, problems in error.message_dict.items():
                form.add_error(name if name in form.fields else None, problems)
        else:
            messages.success(request, _("Persona “%(name)s” saved.") % {"name": saved.name})
            return redirect(_url(request, "detail", persona_id=saved.id))
    return _form_page(request, form, persona, status=422)


@workspace_view(Role.EDITOR)
@require_http_methods(["GET", "POST"])
def persona_create(request: WorkspaceHttpRequest) -> HttpResponse:
    if request.method == "POST":
        return _save(request, None)
    return _form_page(request, PersonaForm(workspace=request.workspace), None)


@workspace_view(Role.EDITOR)
@require_http_methods(["GET", "POST"])
def persona_edit(request: WorkspaceHttpRequest, persona_id: int) -> HttpResponse:
    persona = selectors.persona_get(workspace=request.workspace, persona_id=persona_id)
    if request.method == "POST":
        return _save(request, persona)
    form = PersonaForm(initial=PersonaForm.initial_for(persona), workspace=request.workspace)
    return _form_page(request, form, persona)


@workspace_view(Role.EDITOR)
@require_POST
def persona_regenerate(request: WorkspaceHttpRequest, persona_id: int) -> HttpResponse:
    persona = selectors.persona_get(workspace=request.workspace, persona_id=persona_id)
    try:
        services.persona_regenerate_segment(persona=persona)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("The segment's rules were generated again from the demographics."))
    return redirect(_url(request, "detail", persona_id=persona.id))


@workspace_view(Role.EDITOR)
@require_POST
def persona_delete(request: WorkspaceHttpRequest, persona_id: int) -> HttpResponse:
    persona = selectors.persona_get(workspace=request.workspace, persona_id=persona_id)
    services.persona_delete(persona=persona)
    messages.success(request, _("Persona “%(name)s” deleted.") % {"name": persona.name})
    return redirect(_url(request, "list"))
