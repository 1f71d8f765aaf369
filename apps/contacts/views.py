"""Browser pages for contacts: the list (search, filters, columns, bulk actions), the contact page,
create and edit, GDPR erase, tags and custom fields.

Thin: forms check the input's shape, services write, selectors read. A service's ValidationError
lands next to the field it names. The list pages by keyset (`after=<id>`), never by OFFSET, and
counts only when asked (a lazy htmx fragment) or when the answer is already on the page.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, cast

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.forms import Form
from django.http import FileResponse, HttpResponse, QueryDict, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect, push_url
from django_stubs_ext import StrOrPromise

from apps.contacts import exporting, selectors, services
from apps.contacts.forms import (
    BulkAction,
    BulkActionForm,
    ColumnsForm,
    ContactFilterForm,
    ContactForm,
    ContactTagForm,
    CustomFieldForm,
    TagForm,
)
from apps.contacts.models import Contact, CustomField
from apps.core.http import WorkspaceHttpRequest, render_page
from apps.core.roles import Role
from apps.workspaces.decorators import workspace_view

PAGE_SIZES = (25, 50, 100)
DEFAULT_PAGE_SIZE = 50
COLUMNS: dict[str, StrOrPromise] = {
    "email": gettext_lazy("Email"),
    "phone": gettext_lazy("Phone"),
    "tags": gettext_lazy("Tags"),
    "city": gettext_lazy("City"),
    "country": gettext_lazy("Country"),
    "age": gettext_lazy("Age"),
    "gender": gettext_lazy("Gender"),
    "email_consent": gettext_lazy("Email consent"),
    "sms_consent": gettext_lazy("SMS consent"),
    "orders_count": gettext_lazy("Orders"),
    "total_spent": gettext_lazy("Total spent"),
    "last_purchase_at": gettext_lazy("Last purchase"),
    "customer_since": gettext_lazy("Customer since"),
    "language": gettext_lazy("Language"),
    "source": gettext_lazy("Source"),
    "created_at": gettext_lazy("Added"),
    "updated_at": gettext_lazy("Last changed"),
}
DEFAULT_COLUMNS = ["email", "phone", "city", "tags", "email_consent", "created_at"]
DISPLAYED_CHOICES = {"gender", "marital_status", "household_income_band", "education_level", "source"}
DETAIL_GROUPS: tuple[tuple[StrOrPromise, tuple[str, ...]], ...] = (
    (
        gettext_lazy("Identity"),
        ("email", "phone", "first_name", "last_name", "source", "created_at", "updated_at"),
    ),
    (
        gettext_lazy("Persona attributes"),
        (
            "birth_date",
            "age",
            "gender",
            "marital_status",
            "children_in_household",
            "city",
            "region",
            "country",
            "postal_code",
            "household_income_band",
            "education_level",
        ),
    ),
    (gettext_lazy("Purchases"), ("customer_since", "orders_count", "total_spent", "last_purchase_at")),
)


@dataclass(frozen=True)
class Cell:
    """One shown value; `kind` picks its rendering (text, date, datetime, money, tags, consent)."""

    kind: str
    value: Any
    raw: Any = None


def _cell(contact: Contact, key: str) -> Cell:
    if key == "tags":
        return Cell("tags", list(contact.tags.all()))
    if key.startswith("custom."):
        value = (contact.custom or {}).get(key.removeprefix("custom."))
        if isinstance(value, bool):
            value = _("Yes") if value else _("No")
        return Cell("text", value)
    if key in ("email_consent", "sms_consent"):
        return Cell("consent", getattr(contact, f"get_{key}_display")(), getattr(contact, key))
    if key in DISPLAYED_CHOICES:
        return Cell("text", getattr(contact, f"get_{key}_display")())
    if key == "phone":
        return Cell("text", contact.phone_e164 or contact.phone)
    value = getattr(contact, key)
    if isinstance(value, dt.datetime):
        return Cell("datetime", value)
    if isinstance(value, dt.date):
        return Cell("date", value)
    if isinstance(value, Decimal):
        return Cell("money", value)
    return Cell("text", value)


def _label(name: str) -> str:
    if name in COLUMNS:
        return str(COLUMNS[name])
    return capfirst(str(getattr(Contact._meta.get_field(name), "verbose_name", name)))


def _can(request: WorkspaceHttpRequest, role: Role) -> bool:
    return Role(request.membership.role).includes(role)


def _url(request: WorkspaceHttpRequest, name: str, query: str = "", **kwargs: Any) -> str:
    url = reverse(f"contacts:{name}", kwargs={"workspace_slug": request.workspace.slug, **kwargs})
    return f"{url}?{query}" if query else url


def _query(params: QueryDict, *, drop: tuple[str, ...] = ("after", "count")) -> str:
    """The list's query string without the paging parts and empty filters, for links and bulk forms."""
    kept = QueryDict(mutable=True)
    for name, values in params.lists():
        if name not in drop:
            kept.setlist(name, [value for value in values if value.strip()])
    if kept.get("size") == str(DEFAULT_PAGE_SIZE):
        kept.pop("size")
    return kept.urlencode()


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _wants_partial(request: WorkspaceHttpRequest) -> bool:
    # A history restore (back button after a cache miss) needs the whole page.
    return bool(request.htmx) and not request.htmx.history_restore_request


def _redirect(request: WorkspaceHttpRequest, url: str) -> HttpResponse:
    """After a successful write: htmx navigates the whole page, a plain form follows a redirect."""
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


def _add_service_errors(form: Form, error: ValidationError) -> None:
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for name, errors in error.message_dict.items():
        for message in errors:
            form.add_error(name if name in form.fields else None, message)


def _form_errors_text(form: Form) -> str:
    return " ".join(str(message) for errors in form.errors.values() for message in errors)


# --- The list --------------------------------------------------------------------------------------


def _column_choices(custom_fields: list[CustomField]) -> list[tuple[str, StrOrPromise]]:
    return [*COLUMNS.items(), *((f"custom.{custom.key}", custom.label) for custom in custom_fields)]


def _columns_key(request: WorkspaceHttpRequest) -> str:
    return f"contacts.columns.{request.workspace.id}"


def _chosen_columns(request: WorkspaceHttpRequest, custom_fields: list[CustomField]) -> list[tuple[str, str]]:
    labels = {key: str(label) for key, label in _column_choices(custom_fields)}
    chosen = request.session.get(_columns_key(request), DEFAULT_COLUMNS)
    return [(key, labels[key]) for key in chosen if key in labels]


def _count(
    request: WorkspaceHttpRequest, contacts: QuerySet[Contact], page: selectors.ContactPage, after: int | None
) -> int | None:
    """How many match, only when it costs nothing (the whole list is on this page) or was asked for."""
    if after is None and page.next_after is None:
        return len(page.contacts)
    return contacts.count() if request.GET.get("count") else None


def _page_size(request: WorkspaceHttpRequest) -> int:
    return max(1, min(_int(request.GET.get("size")) or DEFAULT_PAGE_SIZE, max(PAGE_SIZES)))


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


# --- Bulk actions ------------------------------------------------------------------------------------


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


# --- One contact -------------------------------------------------------------------------------------


def _tags_context(request: WorkspaceHttpRequest, contact: Contact, **extra: Any) -> dict[str, Any]:
    can_edit = _can(request, Role.EDITOR)
    names = (
        list(selectors.tag_list(workspace=request.workspace).values_list("name", flat=True))
        if can_edit
        else []
    )
    return {
        "contact": contact,
        "tags": list(contact.tags.all()),
        "tag_form": extra.pop("tag_form", None) or ContactTagForm(),
        "tag_names": names,
        "can_edit": can_edit,
        **extra,
    }


@workspace_view()
@require_GET
def contact_detail(request: WorkspaceHttpRequest, contact_id: int) -> HttpResponse:
    contact = selectors.contact_get(workspace=request.workspace, contact_id=contact_id)
    custom_fields = list(selectors.custom_field_list(workspace=request.workspace))
    context = {
        **_tags_context(request, contact),
        "groups": [
            (title, [(_label(name), _cell(contact, name)) for name in names])
            for title, names in DETAIL_GROUPS
        ],
        "custom_values": [(custom.label, _cell(contact, f"custom.{custom.key}")) for custom in custom_fields],
        "consent": [
            (
                _("Email"),
                _cell(contact, "email_consent"),
                contact.email_consent_at,
                contact.email_consent_source,
            ),
            (_("SMS"), _cell(contact, "sms_consent"), contact.sms_consent_at, contact.sms_consent_source),
        ],
        "consent_history": list(selectors.contact_consent_history(contact=contact)),
        "suppressions": selectors.contact_suppressions(contact=contact),
        "preferences": [(_label(name), _cell(contact, name)) for name in ("language", "timezone")],
    }
    return render_page(request, "contacts/detail.html", context)


def _tags_response(request: WorkspaceHttpRequest, contact: Contact, **extra: Any) -> HttpResponse:
    if not request.htmx:
        if "tag_form" in extra and extra["tag_form"].errors:
            messages.error(request, _form_errors_text(extra["tag_form"]))
        elif extra.get("tag_message"):
            messages.success(request, extra["tag_message"])
        return redirect(_url(request, "detail", contact_id=contact.id))
    fresh = selectors.contact_get(workspace=request.workspace, contact_id=contact.id)
    status = 422 if "tag_form" in extra and extra["tag_form"].errors else 200
    return render_page(
        request, "contacts/detail.html", _tags_context(request, fresh, **extra), partial="tags", status=status
    )


@workspace_view(Role.EDITOR)
@require_POST
def contact_tag_add(request: WorkspaceHttpRequest, contact_id: int) -> HttpResponse:
    contact = selectors.contact_get(workspace=request.workspace, contact_id=contact_id)
    form = ContactTagForm(request.POST)
    if not form.is_valid():
        return _tags_response(request, contact, tag_form=form)
    tag = services.tags_get_or_create(workspace=request.workspace, names=[form.cleaned_data["name"]])[0]
    services.contacts_tag(
        contacts=selectors.contacts_by_ids(workspace=request.workspace, ids=[contact.id]), tag=tag
    )
    return _tags_response(request, contact, tag_message=_("Tag “%(tag)s” added.") % {"tag": tag.name})


@workspace_view(Role.EDITOR)
@require_POST
def contact_tag_remove(request: WorkspaceHttpRequest, contact_id: int, tag_id: int) -> HttpResponse:
    contact = selectors.contact_get(workspace=request.workspace, contact_id=contact_id)
    tag = selectors.tag_get(workspace=request.workspace, tag_id=tag_id)
    services.contacts_untag(
        contacts=selectors.contacts_by_ids(workspace=request.workspace, ids=[contact.id]), tag=tag
    )
    return _tags_response(request, contact, tag_message=_("Tag “%(tag)s” removed.") % {"tag": tag.name})


def _contact_form(request: WorkspaceHttpRequest, contact: Contact | None = None) -> ContactForm:
    workspace = request.workspace
    return ContactForm(
        request.POST if request.method == "POST" else None,
        custom_fields=list(selectors.custom_field_list(workspace=workspace)),
        time_zone=workspace.time_zone,
        currency=workspace.currency,
        contact=contact,
    )


def _form_page(request: WorkspaceHttpRequest, form: ContactForm, contact: Contact | None) -> HttpResponse:
    names = (
        list(selectors.tag_list(workspace=request.workspace).values_list("name", flat=True))
        if form.is_new
        else []
    )
    context = {"form": form, "contact": contact, "tag_names": names}
    status = 422 if form.errors else 200
    return render_page(
        request,
        "contacts/form.html",
        context,
        partial="contact-form" if _wants_partial(request) else None,
        status=status,
    )


def _save_contact(
    request: WorkspaceHttpRequest, form: ContactForm, contact: Contact | None
) -> Contact | None:
    """Create or update from the bound form; None when the form now shows errors."""
    if not form.is_valid():
        if form.only_consent_source_missing():
            # Name every problem at once: check the other fields too, without writing.
            try:
                services.contact_validate(workspace=request.workspace, values=form.values(), contact=contact)
            except ValidationError as error:
                form.add_service_errors(error)
        return None
    try:
        if contact is None:
            return services.contact_create(
                workspace=request.workspace,
                values=form.values(),
                actor=request.user,
                consent_source=form.source_of_consent(),
            )
        return services.contact_update(
            contact=contact, values=form.values(), actor=request.user, consent_source=form.source_of_consent()
        )
    except ValidationError as error:
        if contact is not None:
            contact.refresh_from_db()  # the service may have changed the instance before refusing
        form.add_service_errors(error)
        return None


@workspace_view(Role.EDITOR)
@require_http_methods(["GET", "POST"])
def contact_create(request: WorkspaceHttpRequest) -> HttpResponse:
    form = _contact_form(request)
    if request.method == "POST" and (contact := _save_contact(request, form, None)):
        messages.success(request, _("Contact “%(name)s” added.") % {"name": contact.display_name})
        return _redirect(request, _url(request, "detail", contact_id=contact.id))
    return _form_page(request, form, None)


@workspace_view(Role.EDITOR)
@require_http_methods(["GET", "POST"])
def contact_edit(request: WorkspaceHttpRequest, contact_id: int) -> HttpResponse:
    contact = selectors.contact_get(workspace=request.workspace, contact_id=contact_id)
    form = _contact_form(request, contact)
    if request.method == "POST" and _save_contact(request, form, contact):
        messages.success(request, _("Changes to “%(name)s” saved.") % {"name": contact.display_name})
        return _redirect(request, _url(request, "detail", contact_id=contact.id))
    return _form_page(request, form, contact)


@workspace_view(Role.EDITOR)
@require_http_methods(["GET", "POST"])
def contact_erase(request: WorkspaceHttpRequest, contact_id: int) -> HttpResponse:
    """GDPR erase: a page that says what happens, then the erase itself on POST."""
    contact = selectors.contact_get(workspace=request.workspace, contact_id=contact_id)
    if request.method == "POST":
        services.contact_erase(contact=contact)
        messages.success(
            request,
            _("The contact was erased. Its addresses stay on the suppression list, stored only as hashes."),
        )
        return redirect(_url(request, "list"))
    return render_page(request, "contacts/erase.html", {"contact": contact})


# --- Tags and custom fields ------------------------------------------------------------------------


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
