"""The segment builder: create and edit pages, the builder's htmx actions, the live preview (count,
share of all contacts, newest matches) and tag suggestions.

Without JavaScript the builder's buttons submit the whole page, which applies the action and shows
the page again (with the preview); with htmx the same buttons re-render only the builder and the
preview follows, debounced, as the rules change.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import trigger_client_event

from apps.contacts import selectors as contact_selectors
from apps.core.http import WorkspaceHttpRequest, render_page
from apps.core.roles import Role
from apps.segments import builder, selectors, services
from apps.segments.forms import SegmentForm
from apps.segments.models import Segment
from apps.segments.rules import Problem, RulesError
from apps.segments.views.common import share, url, workspace_specs
from apps.workspaces.decorators import workspace_view

TEMPLATE = "segments/form.html"
TAG_SUGGESTIONS = 20


def _editing_id(request: WorkspaceHttpRequest) -> int | None:
    value = request.POST.get("editing", "")
    return int(value) if value.isdigit() else None


def _check(request: WorkspaceHttpRequest, tree: Any) -> tuple[list[Problem], Any]:
    """The tree's problems, and the matching contacts when there are none."""
    try:
        contacts = selectors.rules_contacts(
            workspace=request.workspace, rules=tree, segment_id=_editing_id(request)
        )
    except RulesError as invalid:
        return invalid.problems, None
    return [], contacts


def _preview_context(request: WorkspaceHttpRequest, tree: Any) -> dict[str, Any]:
    problems, contacts = _check(request, tree)
    if contacts is None:
        return {"preview_problems": len(problems)}
    preview = selectors.contacts_preview(contacts, sample_size=10)
    total = selectors.contacts_total(workspace=request.workspace)
    return {
        "preview": preview,
        "count_display": f"{preview.count:,}",
        "total_display": f"{total:,}",
        "share": share(preview.count, total),
        "preview_checked": True,
    }


def _builder_context(
    request: WorkspaceHttpRequest, tree: Any, problems: list[Problem], segment: Segment | None
) -> dict[str, Any]:
    specs = workspace_specs(request)
    others = selectors.segment_list(workspace=request.workspace).only("id", "name", "kind")
    if segment is not None:
        others = others.exclude(id=segment.id)
    return {
        "root": builder.builder_nodes(tree, specs, problems),
        "field_choices": builder.field_choices(specs),
        "segment_choices": [(str(other.id), other.name) for other in others],
        "segment": segment,
    }


def _editor(
    request: WorkspaceHttpRequest,
    *,
    form: SegmentForm,
    tree: Any,
    segment: Segment | None,
    problems: list[Problem] | None = None,
    with_preview: bool = False,
    status: int = 200,
) -> HttpResponse:
    if problems is None:
        problems = _check(request, tree)[0] if request.method == "POST" else []
    context = {
        **_builder_context(request, tree, problems, segment),
        "not_saved": status == 422,
        "form": form,
        "editing": segment.id if segment is not None else "",
        "action_url": url(request, "edit", segment_id=segment.id) if segment else url(request, "create"),
    }
    if with_preview:
        context |= _preview_context(request, tree)
    return render_page(request, TEMPLATE, context, status=status)


def _save(request: WorkspaceHttpRequest, segment: Segment | None) -> HttpResponse:
    specs = workspace_specs(request)
    tree = builder.tree_from_post(request.POST, specs)
    action = request.POST.get("builder_action")
    if action:  # a builder button, submitted without JavaScript: apply it, save nothing
        tree = builder.apply_action(tree, action)
        form = SegmentForm(initial=request.POST.dict())
        return _editor(request, form=form, tree=tree, segment=segment, with_preview=True)
    form = SegmentForm(request.POST)
    problems: list[Problem] = []
    if form.is_valid():
        data = form.cleaned_data
        try:
            if segment is None:
                saved = services.segment_create(
                    workspace=request.workspace, rules=tree, actor=request.user, **data
                )
            else:
                saved = services.segment_update(segment=segment, rules=tree, **data)
        except RulesError as invalid:
            problems = invalid.problems
            _add_errors(form, invalid.others)
        except ValidationError as error:
            _add_errors(form, error.message_dict if hasattr(error, "error_dict") else {"": error.messages})
        else:
            messages.success(request, _("Segment “%(name)s” saved.") % {"name": saved.name})
            return redirect(url(request, "detail", segment_id=saved.id))
    return _editor(request, form=form, tree=tree, segment=segment, problems=problems, status=422)


def _add_errors(form: SegmentForm, errors: dict[str, list[str]]) -> None:
    for name, problems in errors.items():
        for problem in problems:
            form.add_error(name if name in form.fields else None, problem)


@workspace_view(Role.EDITOR)
@require_http_methods(["GET", "POST"])
def segment_create(request: WorkspaceHttpRequest) -> HttpResponse:
    if request.method == "POST":
        return _save(request, None)
    return _editor(request, form=SegmentForm(), tree={"all": []}, segment=None)


@workspace_view(Role.EDITOR)
@require_http_methods(["GET", "POST"])
def segment_edit(request: WorkspaceHttpRequest, segment_id: int) -> HttpResponse:
    segment = selectors.segment_get(workspace=request.workspace, segment_id=segment_id)
    if request.method == "POST":
        return _save(request, segment)
    form = SegmentForm(
        initial={
            "name": segment.name,
            "description": segment.description,
            "kind": segment.kind,
            "is_exclusion": segment.is_exclusion,
        }
    )
    return _editor(request, form=form, tree=segment.rules, segment=segment)


@workspace_view(Role.EDITOR)
@require_POST
def segment_builder(request: WorkspaceHttpRequest) -> HttpResponse:
    """htmx: apply one builder action to the posted rules and send the builder back; the preview
    hears `rules-changed` and refreshes."""
    specs = workspace_specs(request)
    tree = builder.apply_action(
        builder.tree_from_post(request.POST, specs), request.POST.get("builder_action", "")
    )
    editing = _editing_id(request)
    segment = (
        selectors.segment_list(workspace=request.workspace).filter(id=editing).first() if editing else None
    )
    context = _builder_context(request, tree, _check(request, tree)[0], segment)
    response = render_page(request, TEMPLATE, context, partial="builder")
    return trigger_client_event(response, "rules-changed", after="settle")  # count what is shown


@workspace_view()
@require_POST
def segment_preview(request: WorkspaceHttpRequest) -> HttpResponse:
    """htmx: the count, share and newest matches of the posted rules (nothing is saved)."""
    tree = builder.tree_from_post(request.POST, workspace_specs(request))
    return render_page(request, TEMPLATE, _preview_context(request, tree), partial="preview")


@workspace_view()
@require_GET
def tag_suggestions(request: WorkspaceHttpRequest) -> HttpResponse:
    """htmx: `<option>`s of the workspace's tags that contain what was typed (any case)."""
    typed = request.GET.get("q") or next((str(v) for k, v in request.GET.items() if k.endswith(":tag")), "")
    typed = typed.replace("\x00", "")
    tags = contact_selectors.tag_list(workspace=request.workspace)
    if typed.strip():
        tags = tags.filter(Q(name__icontains=typed.strip()))
    names = list(tags.values_list("name", flat=True)[:TAG_SUGGESTIONS])
    return render_page(request, TEMPLATE, {"tag_names": names}, partial="tag-options")
