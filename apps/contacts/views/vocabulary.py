"""The workspace's vocabulary for contacts: the tags page and the custom fields page."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST

from apps.contacts import selectors, services
from apps.contacts.forms import (
    CustomFieldForm,
    TagForm,
)
from apps.contacts.views.common import _add_service_errors, _can, _url
from apps.core.http import WorkspaceHttpRequest, render_page
from apps.core.roles import Role
from apps.workspaces.decorators import workspace_view


def _tags_page(
    request: WorkspaceHttpRequest,
    *,
    form: TagForm | None = None,
    bound: TagForm | None = None,
    status: int = 200,
) -> HttpResponse:
    can_edit = _can(request, Role.EDITOR)
    tags = list(selectors.tag_list(workspace=request.workspace, with_counts=True))
    rows = []
    for tag in tags:
        edit_form = None
        if can_edit:
            edit_form = (
                bound
                if bound is not None and bound.prefix == f"t{tag.id}"
                else TagForm(
                    prefix=f"t{tag.id}",
                    initial={"name": tag.name, "colour": tag.colour, "description": tag.description},
                )
            )
        rows.append((tag, edit_form))
    context = {"rows": rows, "form": form or TagForm(), "can_edit": can_edit}
    return render_page(request, "contacts/tags.html", context, status=status)


@workspace_view()
@require_http_methods(["GET", "POST"])
def tag_list(request: WorkspaceHttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _tags_page(request)
    if not _can(request, Role.EDITOR):
        raise PermissionDenied(_("Creating tags needs the Editor role."))
    form = TagForm(request.POST)
    if form.is_valid():
        try:
            tag = services.tag_create(workspace=request.workspace, **form.cleaned_data)
        except ValidationError as error:
            _add_service_errors(form, error)
        else:
            messages.success(request, _("Tag “%(tag)s” created.") % {"tag": tag.name})
            return redirect(_url(request, "tags"))
    return _tags_page(request, form=form, status=422)


@workspace_view(Role.EDITOR)
@require_POST
def tag_update(request: WorkspaceHttpRequest, tag_id: int) -> HttpResponse:
    tag = selectors.tag_get(workspace=request.workspace, tag_id=tag_id)
    form = TagForm(request.POST, prefix=f"t{tag.id}")
    if form.is_valid():
        try:
            services.tag_update(tag=tag, **form.cleaned_data)
        except ValidationError as error:
            _add_service_errors(form, error)
        else:
            messages.success(request, _("Tag “%(tag)s” saved.") % {"tag": tag.name})
            return redirect(_url(request, "tags"))
    return _tags_page(request, bound=form, status=422)


@workspace_view(Role.EDITOR)
@require_POST
def tag_delete(request: WorkspaceHttpRequest, tag_id: int) -> HttpResponse:
    tag = selectors.tag_get(workspace=request.workspace, tag_id=tag_id)
    services.tag_delete(tag=tag)
    messages.success(request, _("Tag “%(tag)s” deleted; its contacts stay.") % {"tag": tag.name})
    return redirect(_url(request, "tags"))


def _custom_fields_page(request: WorkspaceHttpRequest, form: CustomFieldForm | None = None) -> HttpResponse:
    context = {
        "custom_fields": selectors.custom_field_list(workspace=request.workspace),
        "form": form or CustomFieldForm(),
        "is_admin": _can(request, Role.ADMIN),
    }
    return render_page(
        request, "contacts/custom_fields.html", context, status=422 if form and form.errors else 200
    )


@workspace_view()
@require_http_methods(["GET", "POST"])
def custom_field_list(request: WorkspaceHttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _custom_fields_page(request)
    if not _can(request, Role.ADMIN):
        raise PermissionDenied(_("Managing custom fields needs the Admin role."))
    form = CustomFieldForm(request.POST)
    if form.is_valid():
        try:
            custom = services.custom_field_create(
                workspace=request.workspace,
                key=form.cleaned_data["key"],
                label=form.cleaned_data["label"],
                field_type=form.cleaned_data["field_type"],
                choices=form.choice_list(),
            )
        except ValidationError as error:
            _add_service_errors(form, error)
        else:
            messages.success(request, _("Custom field “%(label)s” created.") % {"label": custom.label})
            return redirect(_url(request, "custom-fields"))
    return _custom_fields_page(request, form)


@workspace_view(Role.ADMIN)
@require_POST
def custom_field_delete(request: WorkspaceHttpRequest, custom_field_id: int) -> HttpResponse:
    custom = selectors.custom_field_get(workspace=request.workspace, custom_field_id=custom_field_id)
    changed = services.custom_field_delete(custom_field=custom)
    messages.success(
        request,
        ngettext(
            "Custom field “%(label)s” deleted, with its value on %(count)s contact.",
            "Custom field “%(label)s” deleted, with its values on %(count)s contacts.",
            changed,
        )
        % {"label": custom.label, "count": f"{changed:,}"},
    )
    return redirect(_url(request, "custom-fields"))
