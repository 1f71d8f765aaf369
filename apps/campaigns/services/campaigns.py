"""Campaign writes: name unique in any case, dates in order, the team and personas of the same
workspace; a campaign with a live item is not deleted."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from apps.campaigns.models import Campaign
from apps.campaigns.services.common import (
    CAMPAIGN_FIELDS,
    LIVE_STATUSES,
    NAME_MAX,
    InvalidTransition,
    _apply,
    _text_problem,
)
from apps.core.scoping import scoped
from apps.personas.models import Persona
from apps.workspaces.models import Team, Workspace

if TYPE_CHECKING:
    from apps.accounts.models import User


def _campaign_errors(
    *,
    workspace: Workspace,
    campaign: Campaign,
    personas: Sequence[Persona] | None,
) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    campaign.name = (campaign.name or "").strip()
    if not campaign.name:
        errors["name"] = [_("Give the campaign a name.")]
    elif problem := _text_problem(campaign.name, NAME_MAX, _("A name")):
        errors["name"] = [problem]
    else:
        same = scoped(Campaign.objects.filter(name__iexact=campaign.name), workspace=workspace)
        if campaign.pk:
            same = same.exclude(pk=campaign.pk)
        if same.exists():
            errors["name"] = [
                _("There is already a campaign “%(name)s” in this workspace.") % {"name": campaign.name}
            ]
    if problem := _text_problem(campaign.goal or "", 5000, _("A goal")):
        errors["goal"] = [problem]
    if (
        campaign.owner_team_id
        and not Team.objects.filter(id=campaign.owner_team_id, workspace=workspace).exists()
    ):
        errors["owner_team"] = [_("Choose a team of this workspace.")]
    if campaign.starts_on and campaign.ends_on and campaign.ends_on < campaign.starts_on:
        errors["ends_on"] = [_("The campaign cannot end before it starts.")]
    if personas is not None and any(persona.workspace_id != workspace.id for persona in personas):
        errors["personas"] = [_("Choose personas of this workspace.")]
    return errors


@transaction.atomic
def campaign_create(*, workspace: Workspace, actor: User | None = None, **values: Any) -> Campaign:
    personas = values.pop("personas", None)
    campaign = Campaign(workspace=workspace, created_by=actor)
    _apply(campaign, values, CAMPAIGN_FIELDS)
    errors = _campaign_errors(workspace=workspace, campaign=campaign, personas=personas)
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            campaign.save()
    except IntegrityError as error:
        raise ValidationError({"name": [_("There is already a campaign with this name.")]}) from error
    if personas:
        campaign.personas.set(personas)
    return campaign


@transaction.atomic
def campaign_update(*, campaign: Campaign, actor: User | None = None, **values: Any) -> Campaign:
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    personas = values.pop("personas", None)
    _apply(campaign, values, CAMPAIGN_FIELDS)
    errors = _campaign_errors(workspace=campaign.workspace, campaign=campaign, personas=personas)
    if errors:
        raise ValidationError(errors)
    campaign.version += 1
    try:
        with transaction.atomic():
            campaign.save()
    except IntegrityError as error:
        raise ValidationError({"name": [_("There is already a campaign with this name.")]}) from error
    if personas is not None:
        campaign.personas.set(personas)
    return campaign


@transaction.atomic
def campaign_delete(*, campaign: Campaign) -> None:
    """Refused while one of its items is scheduled, sending or paused: cancel those first."""
    live = campaign.items.select_for_update().filter(status__in=LIVE_STATUSES).first()
    if live is not None:
        raise InvalidTransition(
            _("“%(item)s” is %(status)s: cancel or unschedule it before deleting the campaign.")
            % {"item": live.name, "status": live.get_status_display().lower()}
        )
    campaign.delete()
