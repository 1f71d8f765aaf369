"""Writes for personas. A persona and its segment are written in one transaction, the segment through
`apps.segments.services` (which checks its rules and name)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction

from apps.core.scoping import scoped
from apps.personas.models import DEMOGRAPHIC_FIELDS, LIST_CHOICES, Persona
from apps.personas.rules import rules_from_demographics
from apps.segments import selectors as segment_selectors
from apps.segments import services as segment_services
from apps.segments.models import Segment
from apps.workspaces.models import Team, Workspace

if TYPE_CHECKING:
    from apps.accounts.models import User

SEGMENT_PREFIX = "Persona: "
MAX_LIST = 50
MAX_TEXT_VALUE = 120  # a city, as long as a contact's
# Fields a caller may write (the segment and the generated rules are the service's own).
EDITABLE = tuple(
    field.name
    for field in Persona._meta.get_fields()
    if getattr(field, "concrete", False)
    and field.name not in {"id", "workspace", "segment", "generated_rules", "created_at", "updated_at"}
)
LIST_FIELDS = ("genders", "marital_statuses", "locations", "income_bands", "education_levels",
               "preferred_channels", "devices")  # fmt: skip


def demographic_rules(persona: Persona) -> dict[str, Any]:
    return rules_from_demographics(**{name: getattr(persona, name) for name in DEMOGRAPHIC_FIELDS})


def persona_values(persona: Persona) -> dict[str, Any]:
    """The editable values of an unsaved persona (the admin's form, an imported row)."""
    return {name: getattr(persona, "owner_team_id" if name == "owner_team" else name) for name in EDITABLE}


def apply_values(persona: Persona, values: dict[str, Any]) -> None:
    unknown = set(values) - set(EDITABLE)
    if unknown:
        raise TypeError(f"Not persona fields: {', '.join(sorted(unknown))}")
    for name, value in values.items():
        if name == "owner_team":
            name, value = "owner_team_id", value.id if isinstance(value, Team) else value
        elif name in LIST_FIELDS:
            value = _clean_list(value)
        elif isinstance(value, str):
            value = value.strip()
        setattr(persona, name, value)


def _clean_list(values: Any) -> Any:
    """Stripped, blanks and repeats dropped, in the order given; text is a comma-separated list.
    Anything else that is not a list is left for `persona_validate` to refuse."""
    if isinstance(values, str):
        values = values.split(",")
    if values is None:
        return []
    if not isinstance(values, list | tuple):
        return values
    return list(dict.fromkeys(str(value).strip() for value in values if str(value).strip()))


def persona_validate(*, persona: Persona) -> None:
    """Every problem at once, by field name."""
    errors: dict[str, list[str]] = {}
    try:
        persona.full_clean(
            exclude=["workspace", "owner_team", "segment", "generated_rules", *LIST_FIELDS],
            validate_constraints=False,
        )
    except ValidationError as error:
        errors = {name: list(messages) for name, messages in error.message_dict.items()}
    if not errors.get("name"):
        same = scoped(Persona.objects.all(), workspace=persona.workspace).filter(name__iexact=persona.name)
        if persona.pk:
            same = same.exclude(pk=persona.pk)
        if same.exists():
            errors["name"] = [f"There is already a persona “{persona.name}” in this workspace."]
    for name in LIST_FIELDS:
        problem = _list_problem(getattr(persona, name), LIST_CHOICES.get(name))
        if problem:
            errors[name] = [problem]
    if persona.age_min is not None and persona.age_max is not None and persona.age_min > persona.age_max:
        errors.setdefault("age_max", []).append("The age range ends before it starts.")
    if persona.owner_team_id is not None and "owner_team" not in errors:
        teams = scoped(Team.objects.all(), workspace=persona.workspace)
        if not teams.filter(pk=persona.owner_team_id).exists():
            errors["owner_team"] = [f"There is no team {persona.owner_team_id} in this workspace."]
    if any("\x00" in value for value in _texts(persona)):
        errors.setdefault("non_field_errors", []).append("Text cannot hold NUL characters.")
    if errors:
        raise ValidationError(errors)


def _list_problem(values: Any, choices: type[models.TextChoices] | None) -> str:
    if not isinstance(values, list):
        return "Give a list."
    if len(values) > MAX_LIST:
        return f"Give at most {MAX_LIST} values."
    if choices is None:
        too_long = [value for value in values if len(value) > MAX_TEXT_VALUE]
        return f"“{too_long[0][:20]}…” is longer than {MAX_TEXT_VALUE} characters." if too_long else ""
    unknown = [value for value in values if value not in choices.values]
    if unknown:
        return f"“{unknown[0]}” is not one of: {', '.join(choices.values)}."
    return ""


def _texts(persona: Persona) -> list[str]:
    texts = [getattr(persona, name) for name in EDITABLE if isinstance(getattr(persona, name), str)]
    lists = [getattr(persona, name) for name in LIST_FIELDS]
    return texts + [value for values in lists if isinstance(values, list) for value in values]


def _segment_name(workspace: Workspace, persona_name: str, segment: Segment | None = None) -> str:
    """ "Persona: <name>", numbered when a segment already has that name."""
    base = f"{SEGMENT_PREFIX}{persona_name}"[: segment_services.NAME_MAX - 4]
    taken = segment_selectors.segment_list(workspace=workspace).filter(name__istartswith=base)
    if segment is not None:
        taken = taken.exclude(pk=segment.pk)
    names = {name.lower() for name in taken.values_list("name", flat=True)}
    candidate, number = base, 2
    while candidate.lower() in names:
        candidate, number = f"{base} ({number})", number + 1
    return candidate


def _save(persona: Persona, fields: list[str] | None = None) -> None:
    try:
        with transaction.atomic():
            persona.save(update_fields=fields)
    except IntegrityError as error:  # a concurrent save took the name
        raise ValidationError({"name": [f"There is already a persona “{persona.name}”."]}) from error


@transaction.atomic
def persona_create(*, workspace: Workspace, actor: User | None = None, **values: Any) -> Persona:
    """A new persona and its matching segment, generated from its demographics."""
    persona = Persona(workspace=workspace)
    apply_values(persona, values)
    persona_validate(persona=persona)
    rules = demographic_rules(persona)
    persona.segment = segment_services.segment_create(
        workspace=workspace,
        name=_segment_name(workspace, persona.name),
        rules=rules,
        description=f"The contacts who fit the persona “{persona.name}”."[: segment_services.DESCRIPTION_MAX],
        actor=actor,
    )
    persona.generated_rules = rules
    _save(persona)
    return persona


@transaction.atomic
def persona_update(*, persona: Persona, **values: Any) -> Persona:
    """Change what is given. New demographics regenerate the segment's rules, unless someone edited
    them by hand (then `persona_regenerate_segment` does it on request)."""
    locked = (
        scoped(
            Persona.objects.select_related("workspace", "segment", "segment__workspace"),
            workspace=persona.workspace,
        )
        .select_for_update(of=("self",))
        .get(pk=persona.pk)
    )
    old_name, edited_by_hand = locked.name, locked.segment_rules_edited
    apply_values(locked, values)
    persona_validate(persona=locked)
    rules = demographic_rules(locked)
    segment_changes: dict[str, Any] = {}
    if rules != locked.generated_rules and not edited_by_hand:
        segment_changes["rules"] = rules
    if locked.name != old_name and locked.segment.name == _segment_name(
        locked.workspace, old_name, locked.segment
    ):
        segment_changes["name"] = _segment_name(locked.workspace, locked.name, locked.segment)
    if segment_changes:
        locked.segment = segment_services.segment_update(segment=locked.segment, **segment_changes)
    locked.generated_rules = rules
    _save(locked)
    return locked


@transaction.atomic
def persona_regenerate_segment(*, persona: Persona) -> Persona:
    """Replace the segment's rules with the ones the demographics give (dropping edits by hand)."""
    rules = demographic_rules(persona)
    persona.segment = segment_services.segment_update(segment=persona.segment, rules=rules)
    persona.generated_rules = rules
    _save(persona, ["generated_rules", "updated_at"])
    return persona


@transaction.atomic
def persona_delete(*, persona: Persona) -> None:
    """The persona and its segment; the segment stays when another segment's rules include it."""
    segment = persona.segment
    persona.delete()
    try:
        with transaction.atomic():
            segment_services.segment_delete(segment=segment)
    except ValidationError:
        return
