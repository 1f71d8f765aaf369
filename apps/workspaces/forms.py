from __future__ import annotations

import zoneinfo
from typing import Any

from django import forms
from django.contrib.auth import password_validation
from django.utils.translation import gettext_lazy as _

from apps.core.roles import Role
from apps.workspaces.models import ApiToken, Membership, Team, Workspace


def time_zone_field() -> forms.ChoiceField:
    zones = sorted(zoneinfo.available_timezones() - {"localtime", "Factory"})
    return forms.ChoiceField(
        label=_("Time zone"),
        choices=[(zone, zone) for zone in zones],
        initial="UTC",
        help_text=_("Schedules and reports use it unless a contact has their own."),
    )


class WorkspaceCreateForm(forms.ModelForm[Workspace]):
    time_zone = time_zone_field()

    class Meta:
        model = Workspace
        fields = ("name", "slug", "time_zone")
        help_texts = {"slug": _("Appears in addresses: /w/<slug>/. Lower-case letters, digits, hyphens.")}


class WorkspaceSettingsForm(forms.ModelForm[Workspace]):
    time_zone = time_zone_field()

    class Meta:
        model = Workspace
        fields = (
            "name",
            "time_zone",
            "default_phone_region",
            "currency",
            "default_sender_name",
            "default_sender_email",
            "postal_address",
            "contact_pressure_limit",
            "contact_pressure_days",
        )
        widgets = {"postal_address": forms.Textarea(attrs={"rows": 3})}


class TeamChoiceField(forms.TypedChoiceField):
    """A choice among the given teams (one query for a whole page of forms, not one per form)."""

    def __init__(self, *, teams: list[Team], **kwargs: Any) -> None:
        self.teams = {str(team.id): team for team in teams}
        choices = [("", _("No team")), *((key, team.name) for key, team in self.teams.items())]
        super().__init__(
            choices=choices, required=False, coerce=self.teams.__getitem__, empty_value=None, **kwargs
        )


class InviteForm(forms.Form):
    email = forms.EmailField(label=_("Email address"))
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices, initial=Role.EDITOR)

    def __init__(self, *args: Any, teams: list[Team], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["team"] = TeamChoiceField(teams=teams, label=_("Team"))


class MembershipForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices, label=_("Role"))

    def __init__(self, *args: Any, teams: list[Team], membership: Membership, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"role": membership.role, "team": membership.team_id or ""})
        super().__init__(*args, **kwargs)
        self.fields["team"] = TeamChoiceField(teams=teams, label=_("Team"))


class TeamForm(forms.ModelForm[Team]):
    class Meta:
        model = Team
        fields = ("name", "kind", "description")


class ApiTokenForm(forms.ModelForm[ApiToken]):
    class Meta:
        model = ApiToken
        fields = ("name", "role")
        help_texts = {"name": _("The integration that will use it, e.g. “Shop sync”.")}


class InvitationSignupForm(forms.Form):
    first_name = forms.CharField(label=_("First name"), max_length=150)
    last_name = forms.CharField(label=_("Last name"), max_length=150, required=False)
    password1 = forms.CharField(
        label=_("Password"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validation.password_validators_help_text_html(),
    )
    password2 = forms.CharField(
        label=_("Password again"), widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("password1") and cleaned.get("password1") != cleaned.get("password2"):
            self.add_error("password2", _("The two passwords differ."))
        return cleaned
