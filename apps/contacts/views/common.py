"""What the contact pages share: columns, cells, query-string helpers, role checks."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.forms import Form
from django.http import HttpResponse, QueryDict
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_htmx.http import HttpResponseClientRedirect
from django_stubs_ext import StrOrPromise

from apps.contacts import selectors
from apps.contacts.cleaning import IDENTITY_FIELDS, PERSONA_FIELDS, PURCHASE_FIELDS
from apps.contacts.models import Contact, CustomField
from apps.core.http import WorkspaceHttpRequest
from apps.core.roles import Role

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
        (*IDENTITY_FIELDS, "source", "created_at", "updated_at"),
    ),
    (
        gettext_lazy("Persona attributes"),
        PERSONA_FIELDS,
    ),
    (gettext_lazy("Purchases"), PURCHASE_FIELDS),
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
