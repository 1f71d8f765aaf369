"""Results of planned channels, entered by the team that runs them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from apps.campaigns.choices import is_sent_channel
from apps.campaigns.models import ChannelItem, ChannelResult
from apps.campaigns.services.common import _apply, _number, _text_problem

if TYPE_CHECKING:
    from apps.accounts.models import User

RESULT_FIELDS = ("recorded_on", "reach", "responses", "conversions", "cost", "note")


@transaction.atomic
def result_add(*, item: ChannelItem, actor: User | None = None, **values: Any) -> ChannelResult:
    """Results of a planned channel, entered by the team that runs it."""
    result = ChannelResult(workspace=item.workspace, item=item, recorded_by=actor)
    _apply(result, values, RESULT_FIELDS)
    errors: dict[str, list[str]] = {}
    if is_sent_channel(item.channel):
        errors["__all__"] = [
            _("Ensemble measures the results of what it sends; enter results for planned channels.")
        ]
    if not result.recorded_on:
        errors["recorded_on"] = [_("Give the day the results are for.")]
    if all(getattr(result, name) in (None, "") for name in ("reach", "responses", "conversions", "cost")):
        errors.setdefault("__all__", []).append(
            _("Enter at least one figure: reach, responses, conversions or cost.")
        )
    for name in ("reach", "responses", "conversions", "cost"):
        try:
            value = _number(getattr(result, name), whole=name != "cost")
        except ValueError as error:
            errors[name] = [str(error)]
            continue
        setattr(result, name, value)
        if value is not None and value < 0:
            errors[name] = [_("It cannot be negative.")]
    if problem := _text_problem(result.note or "", 500, _("A note")):
        errors["note"] = [problem]
    if errors:
        raise ValidationError(errors)
    result.save()
    return result


@transaction.atomic
def result_delete(*, result: ChannelResult) -> None:
    result.delete()
