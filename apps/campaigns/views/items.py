"""A channel item's page: its preview as any contact, test sends, the schedule checklist, the
scheduling panel and the state buttons; the address list of a direct mailing; results of planned
channels; the sending progress (polled while sending) and the per-recipient delivery log."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from apps.campaigns import scheduling, selectors, services
from apps.campaigns.choices import ChannelKind, ItemStatus, Timing
from apps.campaigns.forms import ResultForm, ScheduleForm, TestSendForm
from apps.campaigns.models import ChannelItem, ChannelResult
from apps.campaigns.views.common import can, refused, url
from apps.campaigns.views.editing import chosen_contact, preview_context, search_contacts
from apps.core.http import WorkspaceHttpRequest, render_page
from apps.core.roles import Role
from apps.core.scoping import get_scoped_or_404
from apps.delivery import selectors as delivery_selectors
from apps.delivery.choices import DeliveryStatus, ExclusionReason
from apps.workspaces.decorators import workspace_view

LIVE = (ItemStatus.SCHEDULED, ItemStatus.SENDING, ItemStatus.PAUSED)
DELIVERIES_PER_PAGE = 50


def _label(name: str) -> str:
    if name == "__all__":
        return ""
    return str(getattr(ChannelItem._meta.get_field(name), "verbose_name", name)).capitalize()


def _in_zone(moment: dt.datetime | None, item: ChannelItem) -> dt.datetime | None:
    if moment is None:
        return None
    # Naive wall-clock time: the template's date filter would convert an aware value back to UTC.
    return scheduling.utc_to_wall(moment, scheduling.zone(item.workspace.time_zone, fallback="UTC"))


def _due(item: ChannelItem) -> dict[str, Any]:
    """When it goes out, in the workspace's time zone (recipient-local: from the first zone that
    reaches the time to the last)."""
    if item.timing == Timing.RECIPIENT_LOCAL and item.local_send_date and item.local_send_time:
        wall = dt.datetime.combine(item.local_send_date, item.local_send_time)
        return {
            "local": True,
            "wall": wall,
            "earliest": _in_zone(scheduling.earliest_moment(wall), item),
            "latest": _in_zone(scheduling.latest_moment(wall), item),
        }
    return {"local": False, "at": _in_zone(item.send_at, item)}


def _buttons(item: ChannelItem, launched: bool) -> dict[str, bool]:
    status = item.status
    sent = item.is_sent
    return {
        "schedule": status in (ItemStatus.DRAFT, ItemStatus.SCHEDULED),
        "send_now": sent and status == ItemStatus.DRAFT,
        "pause": sent and status in (ItemStatus.SCHEDULED, ItemStatus.SENDING),
        "resume": sent and status == ItemStatus.PAUSED,
        "unschedule": not launched
        and (
            status == ItemStatus.SCHEDULED
            or (status == ItemStatus.PAUSED and item.paused_from == ItemStatus.SCHEDULED)
        ),
        "cancel": status not in (ItemStatus.SENT, ItemStatus.CANCELLED),
        "delete": status not in LIVE,
    }


def detail_context(request: WorkspaceHttpRequest, item: ChannelItem) -> dict[str, Any]:
    contact = chosen_contact(request.workspace, request.GET.get("contact"))
    if contact is None:
        contact = selectors.preview_contact(item=item)
    checklist = []
    if item.status == ItemStatus.DRAFT:
        checklist = [(_label(name), problems) for name, problems in services.schedule_problems(item).items()]
    context: dict[str, Any] = {
        "item": item,
        "campaign": item.campaign,
        "audience_count": selectors.item_audience_count(item=item),
        "preview": preview_context(item, contact),
        "checklist": checklist,
        "due": _due(item),
        "scheduled_at": _in_zone(item.scheduled_at, item),
        "zone_name": item.workspace.time_zone,
        "dst_rule": scheduling.describe_dst_rule(),
        "buttons": _buttons(item, item.launched_at is not None),
        "can_edit": can(request, Role.EDITOR),
        "can_approve": can(request, Role.APPROVER),
        "schedule_form": ScheduleForm(initial=_schedule_initial(item)),
        "test_form": TestSendForm(),
        "q": request.GET.get("q", "").strip(),
        "contacts": search_contacts(request.workspace, request.GET.get("q", "")),
        "picked": str(contact.id) if contact else "",
    }
    if item.channel == ChannelKind.DIRECT_MAIL:
        context["addresses"] = selectors.direct_mail_counts(item=item)
    if delivery_selectors.shows_progress(item=item):
        context |= progress_context(item)
    if not item.is_sent:
        context["results"] = list(selectors.item_results(item=item))
        context["totals"] = selectors.result_totals(item=item)
        context["result_form"] = ResultForm()
    return context


def progress_context(item: ChannelItem) -> dict[str, Any]:
    """The progress block: the ledger's counts; it polls itself while the item is sending."""
    return {
        "item": item,
        "counts": delivery_selectors.delivery_counts(item=item),
        "polling": item.status == ItemStatus.SENDING,
        "show_progress": True,
    }


def _schedule_initial(item: ChannelItem) -> dict[str, Any]:
    if item.timing == Timing.RECIPIENT_LOCAL and item.local_send_date and item.local_send_time:
        return {
            "timing": item.timing,
            "send_at": dt.datetime.combine(item.local_send_date, item.local_send_time),
        }
    if item.status != ItemStatus.DRAFT and item.timing == Timing.AT and item.send_at:
        at = _in_zone(item.send_at, item)
        return {"timing": Timing.AT, "send_at": at.replace(tzinfo=None) if at else None}
    return {"timing": Timing.AT}


def _back(request: WorkspaceHttpRequest, item: ChannelItem) -> str:
    return url(request, "item-detail", item_id=item.id)


@workspace_view()
@require_GET
def item_detail(request: WorkspaceHttpRequest, item_id: int) -> HttpResponse:
    item = selectors.item_get(workspace=request.workspace, item_id=item_id)
    return render_page(request, "campaigns/item_detail.html", detail_context(request, item))


@workspace_view()
@require_GET
def item_render(request: WorkspaceHttpRequest, item_id: int) -> HttpResponse:
    """htmx: the saved copy as the contact chosen (without JavaScript: the page with `?contact=`)."""
    item = selectors.item_get(workspace=request.workspace, item_id=item_id)
    if not request.htmx:
        raw = request.GET.get("contact", "")
        return redirect(f"{_back(request, item)}?contact={raw}" if raw.isdigit() else _back(request, item))
    contact = chosen_contact(request.workspace, request.GET.get("contact")) or selectors.preview_contact(
        item=item
    )
    return render_page(
        request, "campaigns/item_detail.html", {"preview": preview_context(item, contact)}, partial="preview"
    )


@workspace_view()
@require_GET
def item_progress(request: WorkspaceHttpRequest, item_id: int) -> HttpResponse:
    """htmx: the progress block alone, every 2 s while sending (without JavaScript: the page)."""
    item = selectors.item_get(workspace=request.workspace, item_id=item_id)
    if not request.htmx:
        return redirect(_back(request, item))
    if not delivery_selectors.shows_progress(item=item):
        raise Http404(_("This item has no sending progress."))
    response = render_page(request, "delivery/progress.html", progress_context(item))
    if request.GET.get("seen", item.status) != item.status:
        response["HX-Refresh"] = "true"  # sent, paused or cancelled since: the page's buttons change too
    return response


def _choice(raw: str | None, choices: type[DeliveryStatus] | type[ExclusionReason]) -> str:
    return raw if raw in choices.values else ""


@workspace_view()
@require_GET
def item_deliveries(request: WorkspaceHttpRequest, item_id: int) -> HttpResponse:
    """The per-recipient delivery log, 50 a page, by status and exclusion reason. Viewers see it:
    they see the contacts' addresses already."""
    item = selectors.item_get(workspace=request.workspace, item_id=item_id)
    if not item.is_sent:
        raise Http404(_("Only email, SMS and webhook items have a delivery log."))
    status = _choice(request.GET.get("status"), DeliveryStatus)
    reason = _choice(request.GET.get("reason"), ExclusionReason)
    rows = delivery_selectors.delivery_list(item=item, status=status or None, reason=reason or None)
    page = Paginator(rows, DELIVERIES_PER_PAGE).get_page(request.GET.get("page"))
    filters = "&".join(f"{name}={value}" for name, value in (("status", status), ("reason", reason)) if value)
    context = {
        "item": item,
        "campaign": item.campaign,
        "page": page,
        "status": status,
        "reason": reason,
        "filters": filters,
        "statuses": DeliveryStatus.choices,
        "reasons": ExclusionReason.choices,
        "log_url": url(request, "item-deliveries", item_id=item.id),
        "zone_name": request.workspace.time_zone,
    }
    return render_page(request, "delivery/log.html", context, partial="rows")


@workspace_view(Role.EDITOR)
@require_POST
def item_test_send(request: WorkspaceHttpRequest, item_id: int) -> HttpResponse:
    item = selectors.item_get(workspace=request.workspace, item_id=item_id)
    form = TestSendForm(request.POST)
    form.is_valid()
    contact = chosen_contact(request.workspace, request.POST.get("contact"))
    try:
        where = services.item_test_send(
            item=item, actor=request.user, contact=contact, phone=form.cleaned_data.get("phone", "")
        )
    except ValidationError as error:
        return refused(
            request, _("Test not sent: %(why)s") % {"why": " ".join(error.messages)}, _back(request, item)
        )
    except services.InvalidTransition as error:
        return refused(request, error.message, _back(request, item))
    messages.success(request, _("Test sent to %(where)s.") % {"where": where})
    return redirect(_back(request, item))


@workspace_view(Role.EDITOR)
@require_POST
def item_schedule(request: WorkspaceHttpRequest, item_id: int) -> HttpResponse:
    """Any editor may ask; the service lets approvers and admins through (sign-off)."""
    item = selectors.item_get(workspace=request.workspace, item_id=item_id)
    form = ScheduleForm(request.POST)
    if form.is_valid():
        try:
            services.item_schedule(
                item=item,
                actor=request.user,
                actor_role=request.membership.role,
                timing=form.cleaned_data["timing"],
                send_at=form.cleaned_data.get("send_at"),
            )
        except ValidationError as error:
            for name, problems in error.message_dict.items():
                if name in form.fields:
                    form.add_error(name, problems)
                else:
                    label = _label(name)
                    form.add_error(
                        None, [f"{label}: {problem}" if label else problem for problem in problems]
                    )
        except services.SignOffRequired as error:
            return refused(request, error.message, _back(request, item))
        except services.InvalidTransition as error:
            return refused(request, error.message, _back(request, item))
        else:
            messages.success(request, _("“%(name)s” is scheduled.") % {"name": item.name})
            return redirect(_back(request, item))
    context = detail_context(request, item) | {"schedule_form": form, "schedule_open": True}
    return render_page(request, "campaigns/item_detail.html", context, status=422)


def _send_now(item: ChannelItem, request: WorkspaceHttpRequest) -> ChannelItem:
    return services.item_send_now(item=item, actor=request.user, actor_role=request.membership.role)


def _pause(item: ChannelItem, request: WorkspaceHttpRequest) -> ChannelItem:
    return services.item_pause(item=item, actor=request.user)


def _resume(item: ChannelItem, request: WorkspaceHttpRequest) -> ChannelItem:
    return services.item_resume(item=item, actor=request.user, actor_role=request.membership.role)


def _unschedule(item: ChannelItem, request: WorkspaceHttpRequest) -> ChannelItem:
    return services.item_unschedule(item=item, actor=request.user)


def _cancel(item: ChannelItem, request: WorkspaceHttpRequest) -> ChannelItem:
    return services.item_cancel(item=item, actor=request.user)


TRANSITIONS = {
    "send-now": (
        _send_now,
        gettext_lazy("“%(name)s” is due now: the delivery engine sends it on its next round."),
    ),
    "pause": (_pause, gettext_lazy("“%(name)s” is paused.")),
    "resume": (_resume, gettext_lazy("“%(name)s” is running again.")),
    "unschedule": (_unschedule, gettext_lazy("“%(name)s” is a draft again.")),
    "cancel": (_cancel, gettext_lazy("“%(name)s” is cancelled.")),
}


@workspace_view(Role.EDITOR)
@require_POST
def item_transition(request: WorkspaceHttpRequest, item_id: int, verb: str) -> HttpResponse:
    """Send now, pause, resume, unschedule, cancel: the state machine refuses what does not apply."""
    item = selectors.item_get(workspace=request.workspace, item_id=item_id)
    step, done = TRANSITIONS[verb]
    try:
        step(item, request)
    except ValidationError as error:
        return refused(request, " ".join(error.messages), _back(request, item))
    except (services.SignOffRequired, services.InvalidTransition) as error:
        return refused(request, error.message, _back(request, item))
    messages.success(request, str(done) % {"name": item.name})
    return redirect(_back(request, item))


@workspace_view(Role.EDITOR)
@require_GET
def item_addresses(request: WorkspaceHttpRequest, item_id: int) -> HttpResponse:
    """The direct mailing's print-ready address list, streamed. Editors only: it exports personal
    data, like the contact export."""
    item = selectors.item_get(workspace=request.workspace, item_id=item_id)
    if item.channel != ChannelKind.DIRECT_MAIL:
        raise Http404(_("Only direct-mail items have an address list."))
    response = StreamingHttpResponse(
        selectors.direct_mail_csv(item=item), content_type="text/csv; charset=utf-8"
    )
    name = slugify(item.name) or f"item-{item.id}"
    response["Content-Disposition"] = f'attachment; filename="{name}-addresses.csv"'
    return cast(HttpResponse, response)  # workspace_view's type: any response of a view


@workspace_view(Role.EDITOR)
@require_POST
def result_add(request: WorkspaceHttpRequest, item_id: int) -> HttpResponse:
    item = selectors.item_get(workspace=request.workspace, item_id=item_id)
    form = ResultForm(request.POST)
    if form.is_valid():
        try:
            services.result_add(item=item, actor=request.user, **form.values())
        except ValidationError as error:
            for name, problems in error.message_dict.items():
                form.add_error(name if name in form.fields else None, problems)
        else:
            messages.success(request, _("Results saved."))
            return redirect(f"{_back(request, item)}#results")
    context = detail_context(request, item) | {"result_form": form}
    return render_page(request, "campaigns/item_detail.html", context, status=422)


@workspace_view(Role.EDITOR)
@require_POST
def result_delete(request: WorkspaceHttpRequest, result_id: int) -> HttpResponse:
    result = get_scoped_or_404(
        ChannelResult.objects.select_related("item"), workspace=request.workspace, id=result_id
    )
    services.result_delete(result=result)
    messages.success(request, _("Results for %(day)s deleted.") % {"day": f"{result.recorded_on:%Y-%m-%d}"})
    return redirect(f"{_back(request, result.item)}#results")
