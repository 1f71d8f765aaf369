"""One contact: its page, tags, create and edit with inline errors, and the GDPR erase."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.contacts import selectors, services
from apps.contacts.forms import (
    ContactForm,
    ContactTagForm,
)
from apps.contacts.models import Contact
from apps.contacts.views.common import (
    DETAIL_GROUPS,
    _can,
    _cell,
    _form_errors_text,
    _label,
    _redirect,
    _url,
    _wants_partial,
)
from apps.core.http import WorkspaceHttpRequest, render_page
from apps.core.roles import Role
from apps.workspaces.decorators import workspace_view


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
