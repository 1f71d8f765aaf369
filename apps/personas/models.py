"""Personas: the fictional ideal customers a workspace plans for, each with its matching segment."""

from __future__ import annotations

from typing import Any, ClassVar

from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from apps.contacts.choices import EducationLevel, Gender, IncomeBand, MaritalStatus
from apps.core.models import WorkspaceScopedModel
from apps.personas.choices import Children, Device, PersonaChannel
from apps.segments.models import Segment
from apps.workspaces.models import Team, Workspace

# The persona fields its segment's rules are generated from (`rules.rules_from_demographics`).
DEMOGRAPHIC_FIELDS = (
    "age_min",
    "age_max",
    "genders",
    "marital_statuses",
    "children",
    "locations",
    "income_bands",
    "education_levels",
)


# Lists of choices, stored as JSON lists (the embedded SQLite default has no array type); the services
# check every value against its choice set.
LIST_CHOICES: dict[str, type[models.TextChoices]] = {
    "genders": Gender,
    "marital_statuses": MaritalStatus,
    "income_bands": IncomeBand,
    "education_levels": EducationLevel,
    "preferred_channels": PersonaChannel,
    "devices": Device,
}


def _list(verbose_name: Any) -> models.JSONField:
    return models.JSONField(verbose_name, default=list, blank=True)


class Persona(WorkspaceScopedModel):
    """A fictional ideal customer with a short story (DOMAIN.md: teams usually write three). Its
    demographics generate the rules of its own segment, which counts the real contacts who fit.

    `generated_rules` keeps the rules last generated: when the segment's rules differ, someone edited
    them by hand, and new demographics no longer overwrite them (until "regenerate")."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="personas")
    name = models.CharField(_("name"), max_length=80)
    summary = models.CharField(_("short summary"), max_length=300, blank=True)
    owner_team = models.ForeignKey(
        Team,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="personas",
        verbose_name=_("owner team"),
    )
    # Demographics: each one left empty means "anyone".
    age_min = models.PositiveSmallIntegerField(
        _("age from"), null=True, blank=True, validators=[MaxValueValidator(130)]
    )
    age_max = models.PositiveSmallIntegerField(
        _("age to"), null=True, blank=True, validators=[MaxValueValidator(130)]
    )
    genders = _list(_("gender"))
    marital_statuses = _list(_("marital status"))
    children = models.CharField(
        _("children in household"), max_length=4, choices=Children.choices, blank=True
    )
    locations = _list(_("cities"))
    income_bands = _list(_("household income band"))
    education_levels = _list(_("education level"))
    # What they want and what keeps them up at night.
    goals = models.TextField(_("goals"), blank=True)
    pains = models.TextField(_("pains"), blank=True)
    motivations = models.TextField(_("motivations"), blank=True)
    objections = models.TextField(_("objections"), blank=True)
    preferred_channels = _list(_("preferred channels"))
    devices = _list(_("devices"))
    # Buying behaviour.
    purchase_history = models.TextField(_("purchase history"), blank=True)
    tenure = models.CharField(_("customer for"), max_length=120, blank=True)
    quote = models.CharField(_("representative quote"), max_length=300, blank=True)
    # The ideal-customer-profile questions.
    where_they_live = models.TextField(_("where do they live?"), blank=True)
    work_and_leisure = models.TextField(_("what do they do for work and leisure?"), blank=True)
    devices_and_apps = models.TextField(_("which devices and apps?"), blank=True)
    communities = models.TextField(_("which communities?"), blank=True)
    looks_for = models.TextField(_("what do they look for in a product?"), blank=True)

    segment = models.OneToOneField(Segment, on_delete=models.PROTECT, related_name="persona")
    generated_rules = models.JSONField(_("rules generated from the demographics"), default=dict)

    class Meta:
        ordering = ("name",)
        constraints: ClassVar = [
            models.UniqueConstraint("workspace", Lower("name"), name="personas_persona_name_ci_unique"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def segment_rules_edited(self) -> bool:
        """The segment's rules were changed by hand since they were last generated."""
        return self.segment.rules != self.generated_rules


def persona_field(name: str) -> models.Field[Any, Any]:
    """A concrete field of Persona (its label, default or choices), typed for callers."""
    field = Persona._meta.get_field(name)
    if not isinstance(field, models.Field):
        raise TypeError(f"Persona.{name} is not a concrete field")
    return field
