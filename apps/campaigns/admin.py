"""Admin for data fixes on campaigns and channel items, written through the campaign services.

Nothing here schedules or sends. The admin can fix a draft's content (merge tags checked as in the
app), stop sending (pause, cancel), record results of planned channels and import or export rows;
scheduling, resuming and sending need sign-off and happen in the app. An item that is not a draft
shows its content read-only: what was signed off goes out exactly as it was.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.options import IS_POPUP_VAR
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.db.models import Count, Prefetch, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html

from apps.accounts.models import User
from apps.campaigns import services
from apps.campaigns.choices import ChannelKind, is_sent_channel
from apps.campaigns.models import Campaign, ChannelItem, ChannelResult
from apps.campaigns.resources import CampaignResource, ChannelItemResource
from apps.contacts.admin import ImportValidRowsMixin, ServiceErrorsMixin
from apps.personas.models import Persona
from apps.segments.models import Segment
from apps.workspaces.models import Team


class _DryRunDoneError(Exception):
    """Rolls the savepoint of a dry run back."""


def service_errors(call: Callable[[], object]) -> dict[str, list[str]]:
    """The service's own checks, run in a savepoint that is always rolled back: the form shows its
    errors on their fields, and the real write happens in `save_model` (or `save_formset`)."""
    try:
        with transaction.atomic():
            call()
            raise _DryRunDoneError
    except _DryRunDoneError:
        return {}
    except ValidationError as error:
        return error.message_dict if hasattr(error, "error_dict") else {NON_FIELD_ERRORS: error.messages}
    except services.InvalidTransition as error:
        return {NON_FIELD_ERRORS: [error.message]}


def actor_of(request: HttpRequest) -> User | None:
    return request.user if isinstance(request.user, User) else None


def add_errors(form: forms.BaseForm, errors: dict[str, list[str]]) -> None:
    for name, problems in errors.items():
        form.add_error(name if name in form.fields else None, problems)


def locked_note(item: ChannelItem) -> str:
    if item.is_editable:
        return "Draft: its content can be fixed here. Scheduling needs sign-off and happens in the app."
    return (
        f"{item.get_status_display()}: the content is locked (what was signed off goes out as it was). "
        "Unschedule it in the app to change it; pause or cancel it from the list."
    )


# ------------------------------------------------------------------------------------- campaigns
class CampaignAdminForm(forms.ModelForm[Campaign]):
    class Meta:
        model = Campaign
        fields = ("workspace", *services.CAMPAIGN_FIELDS)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        workspace = self.instance.workspace if self.instance.pk else None
        if "owner_team" in self.fields:
            teams = Team.objects.select_related("workspace")
            self.fields["owner_team"].queryset = teams.filter(workspace=workspace) if workspace else teams  # type: ignore[attr-defined]
            if workspace is None:  # every workspace has a "Marketing": say whose
                self.fields["owner_team"].label_from_instance = lambda t: f"{t.name} ({t.workspace.slug})"  # type: ignore[attr-defined]
        if "personas" in self.fields:
            personas = Persona.objects.select_related("workspace").order_by("name")
            self.fields["personas"].queryset = personas.filter(workspace=workspace) if workspace else personas  # type: ignore[attr-defined]
            if workspace is None:
                self.fields["personas"].label_from_instance = lambda p: f"{p.name} ({p.workspace.slug})"  # type: ignore[attr-defined]
        self.service_values: dict[str, Any] = {}

    def clean(self) -> dict[str, Any]:
        """The service's own checks (name unique in any case, team and personas of the workspace)."""
        cleaned = super().clean() or {}
        workspace = cleaned.get("workspace") if self.instance.pk is None else self.instance.workspace
        if workspace is None or self.errors:
            return cleaned
        values = {name: cleaned.get(name) for name in services.CAMPAIGN_FIELDS if name in self.fields}
        if "personas" in values:
            values["personas"] = list(values["personas"] or [])
        values["goal"] = values.get("goal") or ""
        if self.instance.pk:
            stored = Campaign.objects.get(pk=self.instance.pk)
            add_errors(self, service_errors(lambda: services.campaign_update(campaign=stored, **values)))
        else:
            add_errors(self, service_errors(lambda: services.campaign_create(workspace=workspace, **values)))
        self.service_values = values
        return cleaned


class ChannelItemInline(admin.TabularInline[ChannelItem, Campaign]):
    """The campaign's items, read-only: each links to its own page."""

    model = ChannelItem
    extra = 0
    can_delete = False
    fields = ("item", "channel", "status", "send_at", "updated_at")
    readonly_fields = fields
    ordering = ("id",)
    show_change_link = False

    @admin.display(description="item")
    def item(self, obj: ChannelItem) -> str:
        link = reverse("admin:campaigns_channelitem_change", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', link, obj.name)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def _live_items(items: QuerySet[ChannelItem]) -> list[str]:
    """Items whose state refuses deletion, as the delete page's "protected" lines."""
    live = items.filter(status__in=services.LIVE_STATUSES).select_related("campaign")
    return [
        f"{item.get_channel_display()} “{item.name}” in “{item.campaign.name}” is "
        f"{item.get_status_display().lower()}: cancel or unschedule it first"
        for item in live
    ]


class RefuseLiveDeletesMixin(admin.ModelAdmin[Any]):
    """Deletes go through the services, which refuse while an item is scheduled, sending or paused.
    The delete pages list those items up front (as Django lists protected objects); should one be
    scheduled meanwhile, the service's refusal becomes an error message, not a server error."""

    def items_of(self, objects: QuerySet[Any]) -> QuerySet[ChannelItem]:
        raise NotImplementedError

    def get_deleted_objects(self, objs: Any, request: HttpRequest) -> Any:
        to_delete, model_count, perms_needed, protected = super().get_deleted_objects(objs, request)
        queryset = (
            objs
            if isinstance(objs, QuerySet)
            else self.model._default_manager.filter(pk__in=[o.pk for o in objs])
        )
        return to_delete, model_count, perms_needed, [*protected, *_live_items(self.items_of(queryset))]

    def delete_view(self, request: HttpRequest, object_id: str, extra_context: Any = None) -> HttpResponse:
        try:
            return super().delete_view(request, object_id, extra_context)
        except services.InvalidTransition as error:  # the view's transaction has been rolled back
            messages.error(request, f"Not deleted: {error.message}")
            info = (self.model._meta.app_label, self.model._meta.model_name)
            return HttpResponseRedirect(reverse("admin:{}_{}_change".format(*info), args=[object_id]))


@admin.register(Campaign)
class CampaignAdmin(RefuseLiveDeletesMixin, ServiceErrorsMixin, ImportValidRowsMixin):
    resource_classes = (CampaignResource,)
    form = CampaignAdminForm
    list_display = ("name", "workspace", "owner_team", "starts_on", "ends_on", "item_count", "updated_at")
    list_filter = ("workspace", "owner_team__kind", "starts_on")
    list_select_related = ("workspace", "owner_team")
    search_fields = ("name", "workspace__slug")
    autocomplete_fields = ("workspace",)
    readonly_fields = ("version", "created_by", "created_at", "updated_at")
    fields = ("workspace", *services.CAMPAIGN_FIELDS, *readonly_fields)
    inlines = (ChannelItemInline,)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Campaign]:
        return super().get_queryset(request).annotate(item_count=Count("items"))

    @admin.display(description="items", ordering="item_count")
    def item_count(self, obj: Campaign) -> int:
        return obj.item_count  # type: ignore[attr-defined]

    def get_readonly_fields(self, request: HttpRequest, obj: Campaign | None = None) -> Any:
        return ("workspace", *self.readonly_fields) if obj else self.readonly_fields

    def get_export_queryset(self, request: HttpRequest) -> QuerySet[Campaign]:
        return (
            super()
            .get_export_queryset(request)
            .select_related("workspace", "owner_team")
            .prefetch_related("personas")
        )

    def save_model(self, request: HttpRequest, obj: Campaign, form: Any, change: bool) -> None:
        values = form.service_values
        if change:
            stored = Campaign.objects.get(pk=obj.pk)
            saved = services.campaign_update(campaign=stored, actor=actor_of(request), **values)
        else:
            saved = services.campaign_create(workspace=obj.workspace, actor=actor_of(request), **values)
        obj.pk, obj.version, obj._state.adding = saved.pk, saved.version, False

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        """The personas were set by the service; the item inline is read-only (saves nothing)."""
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def items_of(self, objects: QuerySet[Any]) -> QuerySet[ChannelItem]:
        return ChannelItem.objects.filter(campaign__in=objects)

    def delete_model(self, request: HttpRequest, obj: Campaign) -> None:
        services.campaign_delete(campaign=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Campaign]) -> None:
        for campaign in queryset:
            try:
                services.campaign_delete(campaign=campaign)
            except services.InvalidTransition as error:
                messages.error(request, f"“{campaign.name}” not deleted: {error.message}")


# ---------------------------------------------------------------------------------- channel items
ALWAYS_READONLY = (
    "workspace", "status", "locked", "timing", "send_at", "local_send_date", "local_send_time", "scheduled_at",
    "scheduled_by", "cleared_hash", "launched_at", "paused_from", "finished_at", "created_by", "version",
    "created_at", "updated_at",
)  # fmt: skip


def item_fieldsets(channel: str) -> list[tuple[str | None, dict[str, Any]]]:
    """The fields of one channel, so a text message's page shows no subject line."""
    sets: list[tuple[str | None, dict[str, Any]]] = [
        (None, {"fields": ("workspace", "campaign", "channel", "name", "status", "locked", "owner_team")}),
        ("Audience", {"fields": ("segments", "exclusions")}),
    ]
    if channel == ChannelKind.EMAIL:
        copy = ("subject", "preheader", ("from_name", "from_email"), "reply_to", "body_html", "body_text")
        sets.append(("Email", {"fields": copy}))
    elif channel == ChannelKind.SMS:
        sets.append(("Text message", {"fields": ("sms_text", ("quiet_hours_start", "quiet_hours_end"))}))
    elif channel == ChannelKind.WEBHOOK:
        sets.append(("Webhook", {"fields": ("webhook_url", "payload")}))
    if is_sent_channel(channel):
        schedule = (
            "throttle_per_minute", "timing", "send_at", ("local_send_date", "local_send_time"),
            ("scheduled_at", "scheduled_by"), "cleared_hash", "launched_at", "paused_from", "finished_at",
        )  # fmt: skip
        sets.append(("Sending (read-only: scheduled in the app, with sign-off)", {"fields": schedule}))
    else:
        sets.append(("Plan", {"fields": ("content", "placement", "budget", ("starts_on", "ends_on"))}))
        booking = (("scheduled_at", "scheduled_by"), "cleared_hash", "finished_at")
        sets.append(("Booking (read-only: booked in the app, with sign-off)", {"fields": booking}))
    sets.append(("Record", {"fields": ("created_by", "version", "created_at", "updated_at")}))
    return sets


class ChannelItemAdminForm(forms.ModelForm[ChannelItem]):
    class Meta:
        model = ChannelItem
        fields = ("campaign", "channel", *services.ITEM_FIELDS)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        workspace = self.instance.workspace if self.instance.pk else None
        if workspace is not None:
            for name in ("segments", "exclusions"):
                if name in self.fields:
                    self.fields[name].queryset = Segment.objects.filter(workspace=workspace).order_by("name")  # type: ignore[attr-defined]
            if "owner_team" in self.fields:
                self.fields["owner_team"].queryset = Team.objects.filter(workspace=workspace)  # type: ignore[attr-defined]
        self.service_values: dict[str, Any] = {}

    def clean(self) -> dict[str, Any]:
        """The service's checks (merge tags with line and column, fields of the channel, segments of
        the workspace). A page loaded while the item was a draft cannot change it once scheduled."""
        cleaned = super().clean() or {}
        item = self.instance
        if item.pk and not item.is_editable:
            posted = set(self.data) & set(services.ITEM_FIELDS)
            if posted:
                self.add_error(None, f"Not saved: {locked_note(item)}")
            return cleaned
        if self.errors:
            return cleaned
        values = {name: cleaned.get(name) for name in services.ITEM_FIELDS if name in self.fields}
        for name in ("segments", "exclusions"):
            if name in values:
                values[name] = list(values[name] or [])
        if item.pk:
            stored = ChannelItem.objects.get(pk=item.pk)
            add_errors(self, service_errors(lambda: services.item_update(item=stored, **values)))
        elif cleaned.get("campaign") is not None:
            campaign, channel = cleaned["campaign"], cleaned.get("channel") or ""
            add_errors(
                self,
                service_errors(lambda: services.item_create(campaign=campaign, channel=channel, **values)),
            )
        self.service_values = values
        return cleaned


class ChannelResultForm(forms.ModelForm[ChannelResult]):
    class Meta:
        model = ChannelResult
        fields = services.RESULT_FIELDS

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.instance.pk is None and not self.errors and self.has_changed():
            values = {name: cleaned.get(name) for name in services.RESULT_FIELDS}
            values["note"] = values.get("note") or ""
            item = self.instance.item
            add_errors(self, service_errors(lambda: services.result_add(item=item, **values)))
        return cleaned


class ChannelResultInline(admin.TabularInline[ChannelResult, ChannelItem]):
    """Results of a planned channel, entered by hand (added through `services.result_add`; a
    result is corrected by deleting it and adding it again)."""

    model = ChannelResult
    form = ChannelResultForm
    extra = 1
    fields = (*services.RESULT_FIELDS, "recorded_by")
    readonly_fields = ("recorded_by",)
    ordering = ("-recorded_on", "-id")

    def get_queryset(self, request: HttpRequest) -> QuerySet[ChannelResult]:
        return super().get_queryset(request).select_related("recorded_by")

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ChannelItem)
class ChannelItemAdmin(RefuseLiveDeletesMixin, ServiceErrorsMixin, ImportValidRowsMixin):
    resource_classes = (ChannelItemResource,)
    form = ChannelItemAdminForm
    list_display = ("name", "campaign", "channel", "status", "send_at", "workspace")
    list_filter = ("workspace", "channel", "status")
    list_select_related = ("campaign", "workspace")
    search_fields = ("name", "campaign__name", "workspace__slug")
    autocomplete_fields = ("campaign",)
    ordering = ("-id",)
    actions = ("pause_items", "cancel_items")

    @admin.display(description="state")
    def locked(self, obj: ChannelItem) -> str:
        return locked_note(obj) if obj.pk else ""

    def get_fieldsets(self, request: HttpRequest, obj: ChannelItem | None = None) -> Any:
        if obj is None:  # the channel decides which fields exist: ask for it first
            return [
                (
                    None,
                    {
                        "fields": ("campaign", "channel", "name"),
                        "description": "Saving opens the item's content.",
                    },
                )
            ]
        return item_fieldsets(obj.channel)

    def get_readonly_fields(self, request: HttpRequest, obj: ChannelItem | None = None) -> Any:
        if obj is None:
            return ()
        locked = () if obj.is_editable else services.ITEM_FIELDS
        return (*ALWAYS_READONLY, "campaign", "channel", *locked)

    def get_inlines(self, request: HttpRequest, obj: ChannelItem | None) -> Any:
        return (ChannelResultInline,) if obj is not None and not obj.is_sent else ()

    def get_queryset(self, request: HttpRequest) -> QuerySet[ChannelItem]:
        return super().get_queryset(request).select_related("workspace", "campaign", "owner_team")

    def get_export_queryset(self, request: HttpRequest) -> QuerySet[ChannelItem]:
        segments = Segment.objects.order_by("name")
        return (
            super()
            .get_export_queryset(request)
            .prefetch_related(
                Prefetch("segments", queryset=segments), Prefetch("exclusions", queryset=segments)
            )
        )

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        """Only the two that stop sending: items are deleted one at a time, from their page."""
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def response_add(
        self, request: HttpRequest, obj: ChannelItem, post_url_continue: str | None = None
    ) -> HttpResponse:
        if "_addanother" not in request.POST and IS_POPUP_VAR not in request.POST:
            post = request.POST.copy()
            post["_continue"] = "1"  # straight on to the channel's content
            request.POST = post  # type: ignore[assignment]
        return super().response_add(request, obj, post_url_continue)

    def save_model(self, request: HttpRequest, obj: ChannelItem, form: Any, change: bool) -> None:
        values = form.service_values
        if change and not values:  # not a draft: only results were entered
            return
        if change:
            try:
                stored = ChannelItem.objects.get(pk=obj.pk)
                saved = services.item_update(item=stored, actor=actor_of(request), **values)
            except services.InvalidTransition as error:  # scheduled since the form was checked
                raise ValidationError(error.message) from error
        else:
            saved = services.item_create(
                campaign=obj.campaign,
                channel=obj.channel,
                actor=actor_of(request),
                **values,
            )
        for field in ChannelItem._meta.concrete_fields:  # the admin logs and redirects with `obj`
            setattr(obj, field.attname, getattr(saved, field.attname))
        obj._state.adding, obj._state.db = False, saved._state.db

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        """Segments were set by the service; results go through `result_add` / `result_delete`."""
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        item = form.instance
        for result in formset.save(commit=False):
            values = {name: getattr(result, name) for name in services.RESULT_FIELDS}
            services.result_add(item=item, actor=actor_of(request), **values)
        for result in formset.deleted_objects:
            services.result_delete(result=result)

    def items_of(self, objects: QuerySet[Any]) -> QuerySet[ChannelItem]:
        return objects

    def delete_model(self, request: HttpRequest, obj: ChannelItem) -> None:
        services.item_delete(item=obj)

    def _stop(
        self,
        request: HttpRequest,
        queryset: QuerySet[ChannelItem],
        step: Callable[..., ChannelItem],
        done: str,
    ) -> None:
        changed, skipped = [], []
        for item in queryset.select_related("workspace"):
            try:
                step(item=item, actor=actor_of(request))
            except services.InvalidTransition as error:
                skipped.append(f"“{item.name}” ({error.message})")
            else:
                changed.append(f"“{item.name}”")
        if changed:
            messages.success(request, f"{done}: {', '.join(changed)}.")
        if skipped:
            messages.warning(request, f"Skipped, in the wrong state: {'; '.join(skipped)}")

    @admin.action(description="Pause the selected items")
    def pause_items(self, request: HttpRequest, queryset: QuerySet[ChannelItem]) -> None:
        """The emergency brake; resuming needs sign-off and happens in the app."""
        self._stop(request, queryset, services.item_pause, "Paused")

    @admin.action(description="Cancel the selected items")
    def cancel_items(self, request: HttpRequest, queryset: QuerySet[ChannelItem]) -> None:
        """Final: nothing more of these items goes out."""
        self._stop(request, queryset, services.item_cancel, "Cancelled")
