"""The channel item editor: create and edit a draft with the fields of its channel, a live preview
of the unsaved copy as one contact, and deleting an item."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.campaigns import selectors, services
from apps.campaigns.choices import ChannelKind, is_sent_channel
from apps.campaigns.forms import ChannelItemForm
from apps.campaigns.models import Campaign, ChannelItem
from apps.campaigns.personalization import merge_fields
from apps.campaigns.rendering import render_for
from apps.campaigns.sms_text import sms_info
from apps.campaigns.views.campaigns import channel_groups
from apps.campaigns.views.common import add_errors, refused, sms_summary, url
from apps.contacts import selectors as contact_selectors
from apps.contacts.models import Contact
from apps.core.http import WorkspaceHttpRequest, render_page
from apps.core.roles import Role
from apps.workspaces.decorators import workspace_view
from apps.workspaces.models import Workspace

CONTACT_MATCHES = 8


def chosen_contact(workspace: Workspace, raw: str | None) -> Contact | None:
    """The contact picked in a chooser (an id of this workspace), if any."""
    if not raw or not str(raw).isdigit():
        return None
    return contact_selectors.contact_list(workspace=workspace).filter(id=int(raw)).first()


def _draft_contact(workspace: Workspace, form: ChannelItemForm, raw: str | None) -> Contact | None:
    """Who the unsaved copy is previewed as: the contact picked, else the newest of the chosen
    audience, else the newest contact of the workspace."""
    picked = chosen_contact(workspace, raw)
    if picked is not None:
        return picked
    return selectors.audience_preview_contact(
        workspace=workspace,
        segments=list(form.cleaned_data.get("segments") or []),
        exclusions=list(form.cleaned_data.get("exclusions") or []),
    )


FIELD_LABELS = {
    "subject": gettext_lazy("Subject"),
    "preheader": gettext_lazy("Preheader"),
    "body_html": gettext_lazy("HTML body"),
    "body_text": gettext_lazy("Text body"),
    "sms_text": gettext_lazy("SMS text"),
    "payload": gettext_lazy("JSON payload"),
}


def preview_context(item: ChannelItem, contact: Contact | None) -> dict[str, Any]:
    """The item's copy as `contact` gets it, and every merge-tag problem with its position."""
    rendered = render_for(item, contact=contact, custom_keys=selectors.custom_keys(workspace=item.workspace))
    return {
        "item": item,
        "contact": contact,
        "rendered": rendered,
        "problems": [
            (FIELD_LABELS.get(name, name), problems) for name, problems in rendered.problems.items()
        ],
        "sms_summary": sms_summary(rendered.sms) if rendered.sms else "",
        "payload_json": json.dumps(rendered.payload, indent=2, ensure_ascii=False)
        if rendered.payload
        else "",
    }


def _editor_context(
    request: WorkspaceHttpRequest, form: ChannelItemForm, campaign: Campaign, item: ChannelItem | None
) -> dict[str, Any]:
    channel = form.channel
    text = form["sms_text"].value() if "sms_text" in form.fields else ""
    return {
        "form": form,
        "campaign": campaign,
        "item": item,
        "channel": channel,
        "channel_label": ChannelKind(channel).label,
        "is_sent": is_sent_channel(channel),
        "action_url": url(request, "item-edit", item_id=item.id)
        if item
        else f"{url(request, 'item-create', campaign_id=campaign.id)}?channel={channel}",
        "preview_url": url(request, "item-preview", campaign_id=campaign.id),
        "merge_fields": merge_fields(custom_keys=selectors.custom_keys(workspace=request.workspace)),
        "counter": _counter(text or ""),
    }


def _counter(text: str) -> dict[str, Any]:
    info = sms_info(text)
    return {"info": info, "summary": sms_summary(info)}


def _editor(
    request: WorkspaceHttpRequest,
    form: ChannelItemForm,
    campaign: Campaign,
    item: ChannelItem | None,
    status: int = 200,
) -> HttpResponse:
    return render_page(
        request, "campaigns/item_form.html", _editor_context(request, form, campaign, item), status=status
    )


def _save(
    request: WorkspaceHttpRequest, campaign: Campaign, item: ChannelItem | None, channel: str
) -> HttpResponse:
    form = ChannelItemForm(request.POST, workspace=request.workspace, channel=channel)
    if form.is_valid():
        try:
            if item is None:
                saved = services.item_create(
                    campaign=campaign, channel=channel, actor=request.user, **form.values()
                )
            else:
                saved = services.item_update(item=item, actor=request.user, **form.values())
        except ValidationError as error:
            add_errors(form, error)
        except services.InvalidTransition as error:
            return refused(
                request, error.message, url(request, "item-detail", item_id=item.id if item else 0)
            )
        else:
            messages.success(request, _("“%(name)s” saved.") % {"name": saved.name})
            return redirect(url(request, "item-detail", item_id=saved.id))
    return _editor(request, form, campaign, item, status=422)


@workspace_view(Role.EDITOR)
@require_http_methods(["GET", "POST"])
def item_create(request: WorkspaceHttpRequest, campaign_id: int) -> HttpResponse:
    """Without a channel: the channel picker. With one: the editor for that channel."""
    campaign = selectors.campaign_get(workspace=request.workspace, campaign_id=campaign_id)
    channel = request.POST.get("channel") or request.GET.get("channel") or ""
    if channel not in ChannelKind.values:
        context = {"campaign": campaign, "channel_groups": channel_groups()}
        return render_page(request, "campaigns/item_picker.html", context)
    if request.method == "POST":
        return _save(request, campaign, None, channel)
    form = ChannelItemForm(
        workspace=request.workspace, channel=channel, initial=_new_item_initial(request.workspace, channel)
    )
    return _editor(request, form, campaign, None)


def _new_item_initial(workspace: Workspace, channel: str) -> dict[str, Any]:
    """What `item_create` starts an item with: the workspace's sender for an email."""
    if channel == ChannelKind.EMAIL:
        return {
            "from_name": workspace.default_sender_name or workspace.name,
            "from_email": workspace.default_sender_email,
        }
    return {}


@workspace_view(Role.EDITOR)
@require_http_methods(["GET", "POST"])
def item_edit(request: WorkspaceHttpRequest, item_id: int) -> HttpResponse:
    item = selectors.item_get(workspace=request.workspace, item_id=item_id)
    if not item.is_editable:
        return refused(
            request,
            _("“%(name)s” is %(status)s: unschedule it to edit it.")
            % {"name": item.name, "status": item.get_status_display().lower()},
            url(request, "item-detail", item_id=item.id),
        )
    if request.method == "POST":
        return _save(request, item.campaign, item, item.channel)
    form = ChannelItemForm(
        initial=ChannelItemForm.initial_for(item), workspace=request.workspace, channel=item.channel
    )
    return _editor(request, form, item.campaign, item)


@workspace_view(Role.EDITOR)
@require_POST
def item_preview(request: WorkspaceHttpRequest, campaign_id: int) -> HttpResponse:
    """htmx: the unsaved values rendered as one contact (nothing is saved), with the SMS counter
    swapped in beside the text box out of band."""
    campaign = selectors.campaign_get(workspace=request.workspace, campaign_id=campaign_id)
    channel = request.POST.get("channel", "")
    if channel not in ChannelKind.values:
        channel = ChannelKind.EMAIL
    form = ChannelItemForm(request.POST, workspace=request.workspace, channel=channel)
    draft = ChannelItem(
        workspace=request.workspace, campaign=campaign, channel=channel, **form.draft_values()
    )
    context = preview_context(draft, _draft_contact(request.workspace, form, request.POST.get("contact")))
    context["payload_error"] = form.errors.get("payload")
    if channel == ChannelKind.SMS:
        context["counter"] = _counter(draft.sms_text or "")
    return render(request, "campaigns/item_form.html#preview", context)


def search_contacts(workspace: Workspace, text: str) -> list[Contact]:
    """Contacts of the workspace matching a name, an email or a phone number, newest first."""
    if not text.strip():
        return []
    contacts = contact_selectors.contact_search(
        contact_selectors.contact_list(workspace=workspace), text=text, region=workspace.default_phone_region
    )
    return list(contacts.order_by("-id")[:CONTACT_MATCHES])


@workspace_view()
@require_GET
def contact_search(request: WorkspaceHttpRequest) -> HttpResponse:
    """htmx: the contacts to preview as, picked with a radio button."""
    text = request.GET.get("q", "").strip()
    context = {
        "contacts": search_contacts(request.workspace, text),
        "q": text,
        "picked": request.GET.get("contact", ""),
    }
    return render(request, "campaigns/item_detail.html#contact-matches", context)


@workspace_view(Role.EDITOR)
@require_POST
def item_delete(request: WorkspaceHttpRequest, item_id: int) -> HttpResponse:
    item = selectors.item_get(workspace=request.workspace, item_id=item_id)
    try:
        services.item_delete(item=item)
    except services.InvalidTransition as error:
        return refused(request, error.message, url(request, "item-detail", item_id=item.id))
    messages.success(request, _("“%(name)s” deleted.") % {"name": item.name})
    return redirect(url(request, "detail", campaign_id=item.campaign_id))
