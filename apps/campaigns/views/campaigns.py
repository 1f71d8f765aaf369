"""Campaign pages: the list, create, edit, delete, and a campaign's page with every channel item side
by side, so the team sees at a glance whether the message stays the same across channels."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.campaigns import selectors, services
from apps.campaigns.choices import SENT_CHANNELS, ChannelKind
from apps.campaigns.forms import CampaignForm
from apps.campaigns.models import Campaign, ChannelItem
from apps.campaigns.views.common import add_errors, can, refused, sms_line, url
from apps.core.http import WorkspaceHttpRequest, render_page
from apps.core.roles import Role
from apps.workspaces.decorators import workspace_view

PAYLOAD_EXCERPT = 240


def channel_groups() -> list[tuple[Any, list[tuple[str, Any]]]]:
    """The channel picker: what Ensemble sends, then what teams run and track here."""
    sent = [(value, label) for value, label in ChannelKind.choices if value in SENT_CHANNELS]
    planned = [(value, label) for value, label in ChannelKind.choices if value not in SENT_CHANNELS]
    return [(gettext_lazy("Sent by Ensemble"), sent), (gettext_lazy("Planned and tracked"), planned)]


def item_card(item: ChannelItem) -> dict[str, Any]:
    payload = json.dumps(item.payload, ensure_ascii=False) if item.payload else ""
    return {
        "item": item,
        "sms": sms_line(item),
        "payload": payload[:PAYLOAD_EXCERPT] + ("…" if len(payload) > PAYLOAD_EXCERPT else ""),
    }


@workspace_view()
@require_GET
def campaign_list(request: WorkspaceHttpRequest) -> HttpResponse:
    context = {
        "campaigns": list(selectors.campaign_list(workspace=request.workspace)),
        "can_edit": can(request, Role.EDITOR),
    }
    return render_page(request, "campaigns/list.html", context)


@workspace_view()
@require_GET
def campaign_detail(request: WorkspaceHttpRequest, campaign_id: int) -> HttpResponse:
    campaign = selectors.campaign_get(workspace=request.workspace, campaign_id=campaign_id)
    context = {
        "campaign": campaign,
        "personas": list(campaign.personas.all()),
        "cards": [item_card(item) for item in selectors.campaign_items(campaign=campaign)],
        "channel_groups": channel_groups(),
        "can_edit": can(request, Role.EDITOR),
    }
    return render_page(request, "campaigns/detail.html", context)


def _form_page(
    request: WorkspaceHttpRequest, form: CampaignForm, campaign: Campaign | None, status: int = 200
) -> HttpResponse:
    context = {
        "form": form,
        "campaign": campaign,
        "action_url": url(request, "edit", campaign_id=campaign.id) if campaign else url(request, "create"),
    }
    return render_page(request, "campaigns/form.html", context, status=status)


def _save(request: WorkspaceHttpRequest, campaign: Campaign | None) -> HttpResponse:
    form = CampaignForm(request.POST, workspace=request.workspace)
    if form.is_valid():
        try:
            if campaign is None:
                saved = services.campaign_create(
                    workspace=request.workspace, actor=request.user, **form.values()
                )
            else:
                saved = services.campaign_update(campaign=campaign, actor=request.user, **form.values())
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, _("Campaign “%(name)s” saved.") % {"name": saved.name})
            return redirect(url(request, "detail", campaign_id=saved.id))
    return _form_page(request, form, campaign, status=422)


@workspace_view(Role.EDITOR)
@require_http_methods(["GET", "POST"])
def campaign_create(request: WorkspaceHttpRequest) -> HttpResponse:
    if request.method == "POST":
        return _save(request, None)
    return _form_page(request, CampaignForm(workspace=request.workspace), None)


@workspace_view(Role.EDITOR)
@require_http_methods(["GET", "POST"])
def campaign_edit(request: WorkspaceHttpRequest, campaign_id: int) -> HttpResponse:
    campaign = selectors.campaign_get(workspace=request.workspace, campaign_id=campaign_id)
    if request.method == "POST":
        return _save(request, campaign)
    form = CampaignForm(initial=CampaignForm.initial_for(campaign), workspace=request.workspace)
    return _form_page(request, form, campaign)


@workspace_view(Role.EDITOR)
@require_POST
def campaign_delete(request: WorkspaceHttpRequest, campaign_id: int) -> HttpResponse:
    campaign = selectors.campaign_get(workspace=request.workspace, campaign_id=campaign_id)
    try:
        services.campaign_delete(campaign=campaign)
    except services.InvalidTransition as error:
        return refused(request, error.message, url(request, "detail", campaign_id=campaign.id))
    messages.success(request, _("Campaign “%(name)s” deleted.") % {"name": campaign.name})
    return redirect(url(request, "list"))
