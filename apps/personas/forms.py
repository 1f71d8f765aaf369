"""The persona form: shape only (the services check the rest). Demographics use the contact choice
sets; lists of choices are ticked, cities are typed comma-separated."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.postgres.forms import SimpleArrayField
from django.forms.models import fields_for_model, model_to_dict
from django.utils.translation import gettext_lazy as _

from apps.personas import services
from apps.personas.models import LIST_CHOICES, Persona, persona_field
from apps.workspaces.models import Workspace
from apps.workspaces.selectors import team_list

TICKED = ("genders", "marital_statuses", "income_bands", "education_levels", "preferred_channels", "devices")
TEXTAREAS = ("goals", "pains", "motivations", "objections", "purchase_history", "where_they_live",
             "work_and_leisure", "devices_and_apps", "communities", "looks_for")  # fmt: skip

# The form's sections, in the order the page shows them.
SECTIONS: tuple[tuple[Any, tuple[str, ...]], ...] = (
    (_("Who they are"), ("name", "summary", "owner_team", "quote")),
    (
        _("Demographics (they generate the matching segment)"),
        (
            "age_min",
            "age_max",
            "genders",
            "marital_statuses",
            "children",
            "locations",
            "income_bands",
            "education_levels",
        ),
    ),
    (_("What they want and what keeps them up at night"), ("goals", "pains", "motivations", "objections")),
    (
        _("Channels, devices and buying behaviour"),
        ("preferred_channels", "devices", "purchase_history", "tenure"),
    ),
    (
        _("Ideal-customer questions"),
        ("where_they_live", "work_and_leisure", "devices_and_apps", "communities", "looks_for"),
    ),
)


def list_fields() -> dict[str, forms.Field]:
    """Choice lists as ticks (the contact choice sets for demographics), cities comma-separated."""
    fields: dict[str, forms.Field] = {
        name: forms.MultipleChoiceField(
            choices=LIST_CHOICES[name].choices,
            required=False,
            label=str(persona_field(name).verbose_name).capitalize(),
            widget=forms.CheckboxSelectMultiple,
        )
        for name in TICKED
    }
    fields["locations"] = SimpleArrayField(
        forms.CharField(max_length=services.MAX_TEXT_VALUE),
        required=False,
        label=_("Cities"),
        help_text=_("Comma-separated, spelt as in the contacts: München, Hamburg."),
    )
    return fields


class PersonaForm(forms.Form):
    def __init__(self, *args: Any, workspace: Workspace, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields.update(fields_for_model(Persona, fields=services.EDITABLE))
        self.fields["owner_team"] = forms.ModelChoiceField(
            queryset=team_list(workspace=workspace),
            required=False,
            label=_("Owner team"),
            empty_label=_("No team"),
        )
        self.fields.update(list_fields())
        for name in TEXTAREAS:
            self.fields[name].widget = forms.Textarea(attrs={"rows": 3})
        self.fields["age_min"].widget.attrs["min"] = 0
        self.fields["age_max"].widget.attrs["min"] = 0

    @classmethod
    def initial_for(cls, persona: Persona) -> dict[str, Any]:
        return model_to_dict(persona, fields=services.EDITABLE)

    def sections(self) -> list[tuple[Any, list[forms.BoundField]]]:
        return [(title, [self[name] for name in names]) for title, names in SECTIONS]

    def values(self) -> dict[str, Any]:
        """What the services take: the team as an object or None, empty numbers as None."""
        return {name: self.cleaned_data.get(name) for name in services.EDITABLE} | {
            name: self.cleaned_data.get(name) or [] for name in (*TICKED, "locations")
        }
