"""Workspaces (one per company), their teams, who belongs with which role, invitations, API tokens."""

from __future__ import annotations

import functools
import zoneinfo
from typing import ClassVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.core.models import TimeStampedModel, WorkspaceScopedModel
from apps.core.roles import Role


@functools.cache
def _known_time_zones() -> frozenset[str]:
    # `available_timezones()` walks the tzdata files (~15 ms): once per process, not once per value
    # (a bulk upsert of 10,000 contacts validates 10,000 time zones).
    return frozenset(zoneinfo.available_timezones())


def validate_time_zone(value: str) -> None:
    # Validated, not `choices`: the zone list comes from tzdata and would churn the migrations.
    if value not in _known_time_zones():
        raise ValidationError(
            _("“%(value)s” is not a known time zone, e.g. Europe/Berlin."), params={"value": value}
        )


slug_validator = RegexValidator(
    r"^[a-z0-9](?:[a-z0-9-]{0,48}[a-z0-9])?$",
    _("Use 1-50 lower-case letters, digits and hyphens, starting and ending with a letter or digit."),
)


class Workspace(TimeStampedModel):
    """One company. Everything a company owns hangs off its workspace and never leaks to another."""

    name = models.CharField(_("name"), max_length=120)
    slug = models.SlugField(_("slug"), max_length=50, unique=True, validators=[slug_validator])
    time_zone = models.CharField(
        _("time zone"), max_length=64, default="UTC", validators=[validate_time_zone]
    )
    default_sender_name = models.CharField(_("default sender name"), max_length=120, blank=True)
    default_sender_email = models.EmailField(_("default sender address"), blank=True)
    default_phone_region = models.CharField(
        _("default phone region"),
        max_length=2,
        default="DE",
        validators=[RegexValidator(r"^[A-Z]{2}$", _("Use a two-letter country code such as DE or US."))],
        help_text=_("Phone numbers written without a country code are read as this country's."),
    )
    currency = models.CharField(
        _("currency"),
        max_length=3,
        default="EUR",
        validators=[RegexValidator(r"^[A-Z]{3}$", _("Use a three-letter currency code such as EUR or USD."))],
        help_text=_("Money amounts such as a contact's total spent are in this currency."),
    )
    postal_address = models.TextField(
        _("postal address"),
        blank=True,
        help_text=_("Printed in every marketing email footer, as anti-spam laws require."),
    )
    # Contact pressure: omnichannel must never mean spam. Empty limit: no cap.
    contact_pressure_limit = models.PositiveSmallIntegerField(
        _("marketing messages per contact"),
        null=True,
        blank=True,
        default=3,
        help_text=_(
            "At most this many marketing messages reach one contact, across all channels, within the "
            "days below. Empty: no cap."
        ),
    )
    contact_pressure_days = models.PositiveSmallIntegerField(
        _("contact pressure window (days)"),
        default=7,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
    )

    class Meta:
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name


class TeamKind(models.TextChoices):
    PRODUCT = "product", _("Product")
    SALES = "sales", _("Sales")
    SUPPORT = "support", _("Support")
    MARKETING = "marketing", _("Marketing")
    CUSTOM = "custom", _("Custom")


class Team(WorkspaceScopedModel):
    """A department that shares the plan and, later, signs off the content it is responsible for."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="teams")
    kind = models.CharField(_("kind"), max_length=20, choices=TeamKind.choices, default=TeamKind.CUSTOM)
    name = models.CharField(_("name"), max_length=80)
    description = models.CharField(_("description"), max_length=255, blank=True)

    class Meta:
        ordering = ("name",)
        constraints: ClassVar = [
            models.UniqueConstraint("workspace", Lower("name"), name="workspaces_team_name_ci_unique"),
        ]
        permissions: ClassVar = [("import_team", "Can import teams")]

    def __str__(self) -> str:
        return self.name


class Membership(WorkspaceScopedModel):
    """A user's place in a workspace: one role, and optionally the team they work in."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    team = models.ForeignKey(
        Team, on_delete=models.SET_NULL, null=True, blank=True, related_name="memberships"
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.VIEWER)

    class Meta:
        ordering = ("user__email",)
        constraints: ClassVar = [
            models.UniqueConstraint("workspace", "user", name="workspaces_membership_unique"),
        ]
        permissions: ClassVar = [("import_membership", "Can import memberships")]

    def __str__(self) -> str:
        return f"{self.user} in {self.workspace} ({self.role})"

    @property
    def role_enum(self) -> Role:
        return Role(self.role)


def pending_invitation() -> models.Q:
    """Not accepted, not withdrawn, not expired: the link still works."""
    return models.Q(accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now())


class Invitation(WorkspaceScopedModel):
    """An emailed, signed, single-use offer to join a workspace with a given role and team."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField(_("email"))
    team = models.ForeignKey(Team, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.EDITOR)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    expires_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at",)
        indexes: ClassVar = [models.Index(Lower("email"), name="workspaces_invitation_email_ci")]

    def __str__(self) -> str:
        return f"{self.email} to {self.workspace}"

    @property
    def status(self) -> str:
        if self.accepted_at:
            return "accepted"
        if self.revoked_at:
            return "revoked"
        if self.expires_at <= timezone.now():
            return "expired"
        return "pending"


class ApiToken(WorkspaceScopedModel):
    """A key for integrations, bound to one workspace and one role. Only its SHA-256 is stored."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=80)
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.VIEWER)
    prefix = models.CharField(max_length=16, unique=True, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="api_tokens"
    )
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at",)

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
