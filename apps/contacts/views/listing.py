"""The contact list: keyset pages, search and filters, lazy count, columns, bulk actions, exports."""

from __future__ import annotations

from typing import Any, cast

from django.contrib import messages
from django.db.models import QuerySet
from django.http import FileResponse, HttpResponse, QueryDict, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import push_url

from apps.contacts import exporting, selectors, services
from apps.contacts.forms import (
    BulkAction,
    BulkActionForm,
    ColumnsForm,
    ContactFilterForm,
)
from apps.contacts.models import Contact
from apps.contacts.views.common import (
    PAGE_SIZES,
    _can,
    _cell,
    _chosen_columns,
    _column_choices,
    _columns_key,
    _count,
    _form_errors_text,
    _int,
    _page_size,
    _query,
    _url,
    _wants_partial,
)
from apps.core.http import WorkspaceHttpRequest, render_page
from apps.core.roles import Role
from apps.workspaces.decorators import workspace_view


@workspace_view()
@require_GET
def contact_list(request: WorkspaceHttpRequest) -> HttpResponse:
    workspace = request.workspace
    custom_fields = list(selectors.custom_field_list(workspace=workspace))
    parsed = selectors.contact_filter_from_params(request.GET, custom_fields=custom_fields)
    after, size = _int(request.GET.get("after")), _page_size(request)
    contacts = selectors.contact_list(workspace=workspace, filters=parsed.filters)
    page = selectors.contact_page(contacts, after=after, size=size)
    count = _count(request, contacts, page, after)
    workspace_is_empty = not page.contacts and after is None
    if workspace_is_empty and not parsed.filters.is_empty:
        workspace_is_empty = not selectors.contact_list(workspace=workspace).exists()
    columns = _chosen_columns(request, custom_fields)
    tag_names = list(selectors.tag_list(workspace=workspace).values_list("name", flat=True))
    query = _query(request.GET)
    context = {
        "filter_form": ContactFilterForm(request.GET, tag_names=tag_names, custom_fields=custom_fields),
        "filter_errors": parsed.errors,
        "is_filtered": not parsed.filters.is_empty,
        "columns": columns,
        "columns_form": ColumnsForm(
            initial={"columns": [key for key, _label in columns]},
            choices=_column_choices(custom_fields),
        ),
        "rows": [(contact, [_cell(contact, key) for key, _label in columns]) for contact in page.contacts],
        "count": count,
        "count_display": f"{count:,}" if count is not None else "",
        "shown": len(page.contacts),
        "list_url": _url(request, "list"),
        "after": after,
        "query": query,
        "next_query": f"{query}&after={page.next_after}".lstrip("&") if page.next_after else "",
        "page_sizes": PAGE_SIZES,
        "size": size,
        "tag_names": tag_names,
        "bulk_form": BulkActionForm(initial={"filter": query}),
        "can_edit": _can(request, Role.EDITOR),
        "workspace_is_empty": workspace_is_empty,
        "oob_summary": _wants_partial(request),
    }
    return _list_response(request, context, f"{query}&after={after}".lstrip("&") if after else query)


def _list_response(request: WorkspaceHttpRequest, context: dict[str, Any], query: str) -> HttpResponse:
    partial = _wants_partial(request)
    response = render_page(request, "contacts/list.html", context, partial="results" if partial else None)
    patch_vary_headers(response, ["HX-Request"])  # one URL, two bodies: keep caches apart
    if partial:
        push_url(response, _url(request, "list", query))  # the address without empty filters
    return response


@workspace_view()
@require_GET
def contact_count(request: WorkspaceHttpRequest) -> HttpResponse:
    """How many contacts match: loaded lazily by htmx, so the list itself never waits for a count."""
    if not request.htmx:
        return redirect(_url(request, "list", f"{_query(request.GET)}&count=1".lstrip("&")))
    custom_fields = list(selectors.custom_field_list(workspace=request.workspace))
    parsed = selectors.contact_filter_from_params(request.GET, custom_fields=custom_fields)
    count = selectors.contact_list(workspace=request.workspace, filters=parsed.filters).count()
    context = {
        "count": count,
        "count_display": f"{count:,}",
        "is_filtered": not parsed.filters.is_empty,
        "in_total": True,
    }
    return render_page(request, "contacts/list.html", context, partial="count")


@workspace_view()
@require_POST
def contact_columns(request: WorkspaceHttpRequest) -> HttpResponse:
    """Remember which columns this person wants in this workspace (in the session)."""
    custom_fields = list(selectors.custom_field_list(workspace=request.workspace))
    form = ColumnsForm(request.POST, choices=_column_choices(custom_fields))
    if form.is_valid():
        request.session[_columns_key(request)] = form.cleaned_data["columns"]
    # Rebuilt from its parameters: `next` can only ever point back at the list.
    return redirect(_url(request, "list", _query(QueryDict(request.POST.get("next", "")))))


def _bulk_contacts(request: WorkspaceHttpRequest, form: BulkActionForm) -> QuerySet[Contact]:
    workspace = request.workspace
    if form.cleaned_data["scope"] == BulkActionForm.ALL:
        custom_fields = list(selectors.custom_field_list(workspace=workspace))
        params = QueryDict(form.cleaned_data["filter"])
        parsed = selectors.contact_filter_from_params(params, custom_fields=custom_fields)
        return selectors.contact_list(workspace=workspace, filters=parsed.filters)
    return selectors.contacts_by_ids(workspace=workspace, ids=form.cleaned_data["ids"])


def _export(request: WorkspaceHttpRequest, contacts: QuerySet[Contact], action: str) -> HttpResponseBase:
    keys = list(selectors.custom_field_list(workspace=request.workspace).values_list("key", flat=True))
    columns = exporting.export_columns(keys)
    stem = f"contacts-{request.workspace.slug}-{timezone.now():%Y-%m-%d}"
    if action == BulkAction.EXPORT_XLSX:
        return FileResponse(
            exporting.write_xlsx(contacts, columns), as_attachment=True, filename=f"{stem}.xlsx"
        )
    response = StreamingHttpResponse(
        exporting.csv_lines(contacts, columns), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{stem}.csv"'
    return response


@workspace_view(Role.EDITOR)
@require_POST
def contact_bulk(request: WorkspaceHttpRequest) -> HttpResponse:
    """Tag, untag, export or erase the ticked contacts, or all that match the list's filter."""
    form = BulkActionForm(request.POST)
    back = _url(request, "list", _query(QueryDict(request.POST.get("filter", ""))))
    if not form.is_valid():
        messages.error(request, _form_errors_text(form))
        return redirect(back)
    contacts = _bulk_contacts(request, form)
    action = form.cleaned_data["action"]
    if action in (BulkAction.EXPORT_CSV, BulkAction.EXPORT_XLSX):
        # A file, streamed: `workspace_view` is typed for HttpResponse, which streaming responses are not.
        return cast(HttpResponse, _export(request, contacts, action))
    if action == BulkAction.ERASE:
        return _bulk_erase(request, form, contacts, back)
    name = form.cleaned_data["tag"].strip()
    if action == BulkAction.TAG:
        tag = services.tags_get_or_create(workspace=request.workspace, names=[name])[0]
        added = services.contacts_tag(contacts=contacts, tag=tag)
        messages.success(
            request,
            ngettext(
                "Tag “%(tag)s” added to %(count)s contact.",
                "Tag “%(tag)s” added to %(count)s contacts.",
                added,
            )
            % {"tag": tag.name, "count": f"{added:,}"},
        )
        return redirect(back)
    found = selectors.tag_by_name(workspace=request.workspace, name=name)
    if found is None:
        messages.error(request, _("There is no tag “%(tag)s”.") % {"tag": name})
        return redirect(back)
    removed = services.contacts_untag(contacts=contacts, tag=found)
    messages.success(
        request,
        ngettext(
            "Tag “%(tag)s” removed from %(count)s contact.",
            "Tag “%(tag)s” removed from %(count)s contacts.",
            removed,
        )
        % {"tag": found.name, "count": f"{removed:,}"},
    )
    return redirect(back)


def _bulk_erase(
    request: WorkspaceHttpRequest, form: BulkActionForm, contacts: QuerySet[Contact], back: str
) -> HttpResponse:
    """First a page that names how many contacts will go; erasing needs its confirmation."""
    if not form.cleaned_data["confirmed"]:
        count = contacts.count()
        if not count:
            messages.error(request, _("No contacts to erase."))
            return redirect(back)
        # Contacts that match only after this page was shown are not part of what was confirmed.
        upto = contacts.order_by("-id").values_list("id", flat=True).first()
        context = {"count": count, "count_display": f"{count:,}", "form": form, "back": back, "upto": upto}
        return render_page(request, "contacts/bulk_erase.html", context)
    if form.cleaned_data["upto"] is not None:
        contacts = contacts.filter(id__lte=form.cleaned_data["upto"])
    erased = services.contacts_erase(contacts=contacts)
    messages.success(
        request,
        ngettext(
            "%(count)s contact erased; their addresses stay on the suppression list.",
            "%(count)s contacts erased; their addresses stay on the suppression list.",
            erased,
        )
        % {"count": f"{erased:,}"},
    )
    return redirect(back)
