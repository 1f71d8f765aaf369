"""Campaigns and their channel items: one customer-centred message told across every channel."""

from __future__ import annotations

import datetime
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from apps.campaigns.choices import ChannelKind, ItemStatus, Timing, is_sent_channel
from apps.core.models import WorkspaceScopedModel
from apps.personas.models import Persona
from apps.segments.models import Segment
from apps.workspaces.models import Team, Workspace


class Campaign(WorkspaceScopedModel):
    """A campaign of the workspace's plan (the plan itself comes with the plan issue): a goal, the
    personas it speaks to, the team that owns it, and one channel item per touchpoint.

    `version` grows with every saved change, for the co-editing issue's stale-save checks."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="campaigns")
    name = models.CharField(_("name"), max_length=120)
    goal = models.TextField(_("goal"), blank=True)
    owner_team = models.ForeignKey(
        Team,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="campaigns",
        verbose_name=_("owner team"),
    )
    starts_on = models.DateField(_("starts on"), null=True, blank=True)
    ends_on = models.DateField(_("ends on"), null=True, blank=True)
    personas = models.ManyToManyField(
        Persona, related_name="campaigns", blank=True, verbose_name=_("personas addressed")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        ordering = ("-created_at", "-id")
        permissions: ClassVar = [("import_campaign", "Can import campaigns")]
        constraints: ClassVar = [
            models.UniqueConstraint("workspace", Lower("name"), name="campaigns_campaign_name_ci_unique"),
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True)
                | Q(starts_on__isnull=True)
                | Q(ends_on__gte=F("starts_on")),
                name="campaigns_campaign_dates_ordered",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ChannelItem(WorkspaceScopedModel):
    """One touchpoint of a campaign. Email, SMS and webhook items are sent by Ensemble to their
    audience (segments minus exclusion segments); the other channels are planned and tracked here
    (content, placement, budget, dates, results entered by hand).

    Schedules are stored in UTC. `send_at` is when the item becomes due: the moment itself for
    `at`, the moment of scheduling for `now`, and for `recipient_local` the moment the first time
    zone on earth reaches `local_send_date` `local_send_time` (each recipient then gets it at that
    wall-clock time in their own zone). `cleared_hash` is the content hash that was signed off when
    it was scheduled; the delivery engine re-checks it before every batch."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="channel_items")
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="items")
    channel = models.CharField(_("channel"), max_length=12, choices=ChannelKind.choices)
    name = models.CharField(_("name"), max_length=120)
    status = models.CharField(
        _("status"), max_length=9, choices=ItemStatus.choices, default=ItemStatus.DRAFT, editable=False
    )

    # Email.
    subject = models.CharField(_("subject"), max_length=255, blank=True)
    preheader = models.CharField(
        _("preheader"),
        max_length=255,
        blank=True,
        help_text=_("The preview line inboxes show after the subject."),
    )
    body_html = models.TextField(_("HTML body"), blank=True)
    body_text = models.TextField(_("text body"), blank=True)
    from_name = models.CharField(_("from name"), max_length=120, blank=True)
    from_email = models.EmailField(_("from address"), blank=True)
    reply_to = models.EmailField(_("reply-to address"), blank=True)
    # SMS.
    sms_text = models.TextField(_("SMS text"), blank=True)
    # Webhook.
    # A CharField, not URLField: services check the URL (http or https, no credentials), and the
    # forms' URLField would guess a scheme for a bare host name.
    webhook_url = models.CharField(_("integration URL"), max_length=500, blank=True)
    payload = models.JSONField(_("JSON payload"), default=dict, blank=True)
    # Planned channels.
    content = models.TextField(_("content"), blank=True)
    placement = models.CharField(
        _("placement"),
        max_length=200,
        blank=True,
        help_text=_("Where it runs: a page, a store, a billboard site."),
    )
    budget = models.DecimalField(_("budget"), max_digits=12, decimal_places=2, null=True, blank=True)
    starts_on = models.DateField(_("runs from"), null=True, blank=True)
    ends_on = models.DateField(_("runs until"), null=True, blank=True)
    owner_team = models.ForeignKey(
        Team, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("owner team")
    )

    # Audience.
    segments = models.ManyToManyField(Segment, related_name="+", blank=True, verbose_name=_("segments"))
    exclusions = models.ManyToManyField(
        Segment, related_name="+", blank=True, verbose_name=_("exclusion segments")
    )

    # Schedule.
    timing = models.CharField(_("timing"), max_length=15, choices=Timing.choices, default=Timing.NOW)
    send_at = models.DateTimeField(_("due at"), null=True, blank=True)
    local_send_date = models.DateField(_("local send date"), null=True, blank=True)
    local_send_time = models.TimeField(_("local send time"), null=True, blank=True)
    quiet_hours_start = models.TimeField(
        _("quiet hours from"), null=True, blank=True, default=datetime.time(21, 0)
    )
    quiet_hours_end = models.TimeField(
        _("quiet hours until"), null=True, blank=True, default=datetime.time(8, 0)
    )
    throttle_per_minute = models.PositiveIntegerField(
        _("messages per minute"), null=True, blank=True, help_text=_("Empty: the channel's default.")
    )
    scheduled_at = models.DateTimeField(null=True, blank=True, editable=False)
    scheduled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )
    cleared_hash = models.CharField(max_length=64, blank=True, editable=False)
    launched_at = models.DateTimeField(null=True, blank=True, editable=False)
    paused_from = models.CharField(max_length=9, blank=True, editable=False)
    pause_reason = models.CharField(max_length=300, blank=True, editable=False)
    finished_at = models.DateTimeField(null=True, blank=True, editable=False)

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        ordering = ("campaign", "id")
        permissions: ClassVar = [("import_channelitem", "Can import channel items")]
        indexes: ClassVar = [
            # The delivery engine's beat tick: due scheduled items.
            models.Index(fields=["status", "send_at"], name="campaigns_item_due"),
        ]
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True)
                | Q(starts_on__isnull=True)
                | Q(ends_on__gte=F("starts_on")),
                name="campaigns_item_dates_ordered",
            ),
            models.CheckConstraint(
                condition=Q(budget__isnull=True) | Q(budget__gte=0), name="campaigns_item_budget"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()}: {self.name}"

    @property
    def is_sent(self) -> bool:
        """Sent by Ensemble (email, SMS, webhook), not planned and run by a team."""
        return is_sent_channel(self.channel)

    @property
    def is_editable(self) -> bool:
        return self.status == ItemStatus.DRAFT


class ChannelResult(WorkspaceScopedModel):
    """Results of a planned channel entered by hand (a billboard's reach, calls a script brought,
    the cost so far). The KPI issue adds them up beside what Ensemble measures itself."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    item = models.ForeignKey(ChannelItem, on_delete=models.CASCADE, related_name="results")
    recorded_on = models.DateField(_("for the day"))
    reach = models.PositiveIntegerField(
        _("reach"), null=True, blank=True, help_text=_("People reached or impressions.")
    )
    responses = models.PositiveIntegerField(
        _("responses"), null=True, blank=True, help_text=_("Clicks, calls, visits, replies.")
    )
    conversions = models.PositiveIntegerField(_("conversions"), null=True, blank=True)
    cost = models.DecimalField(_("cost"), max_digits=12, decimal_places=2, null=True, blank=True)
    note = models.CharField(_("note"), max_length=500, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ("-recorded_on", "-id")
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(cost__isnull=True) | Q(cost__gte=0), name="campaigns_result_cost"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.item} on {self.recorded_on}"
