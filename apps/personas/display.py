"""A persona as people read it: choice values as their labels, the story in the form's order."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from apps.contacts.choices import EducationLevel, Gender, IncomeBand, MaritalStatus
from apps.personas.choices import Device, PersonaChannel
from apps.personas.models import Persona, persona_field

STORY = ("goals", "pains", "motivations", "objections", "purchase_history", "tenure", "where_they_live",
         "work_and_leisure", "devices_and_apps", "communities", "looks_for")  # fmt: skip


def _labels(values: list[str], choices: Any) -> str:
    labels = dict(choices.choices)
    return ", ".join(str(labels.get(value, value)) for value in values) or _("Any")


def _age(persona: Persona) -> str:
    if persona.age_min is not None and persona.age_max is not None:
        return f"{persona.age_min}-{persona.age_max}"
    if persona.age_min is not None:
        return _("%(age)s or older") % {"age": persona.age_min}
    if persona.age_max is not None:
        return _("up to %(age)s") % {"age": persona.age_max}
    return _("Any")


def persona_facts(persona: Persona) -> list[tuple[str, str]]:
    return [
        (_("Owner team"), persona.owner_team.name if persona.owner_team else "—"),
        (_("Age"), _age(persona)),
        (_("Gender"), _labels(persona.genders, Gender)),
        (_("Marital status"), _labels(persona.marital_statuses, MaritalStatus)),
        (_("Children in household"), str(persona.get_children_display())),
        (_("Cities"), ", ".join(persona.locations) or _("Any")),
        (_("Household income"), _labels(persona.income_bands, IncomeBand)),
        (_("Education"), _labels(persona.education_levels, EducationLevel)),
        (_("Preferred channels"), _labels(persona.preferred_channels, PersonaChannel).replace(_("Any"), "—")),
        (_("Devices"), _labels(persona.devices, Device).replace(_("Any"), "—")),
    ]


def persona_story(persona: Persona) -> list[tuple[str, str]]:
    return [(str(persona_field(name).verbose_name).capitalize(), getattr(persona, name)) for name in STORY]
