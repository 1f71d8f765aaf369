"""Writes and rules for segments. Pages, the API, the admin, the demo seed and later apps (a persona
generates its matching segment) all go through these functions."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import ProtectedError, RestrictedError
from django.utils import timezone

from apps.core.scoping import scoped
from apps.segments import selectors
from apps.segments.models import Segment, SegmentKind, SegmentMember
from apps.segments.rules import RulesError, references
from apps.workspaces.models import Workspace

if TYPE_CHECKING:
    from apps.accounts.models import User

NAME_MAX = 120
DESCRIPTION_MAX = 500


def segment_validate(
    *,
    workspace: Workspace,
    name: str,
    rules: Any,
    kind: str = SegmentKind.DYNAMIC,
    description: str = "",
    segment: Segment | None = None,
) -> str:
    """Every problem at once (`RulesError` when the rules have some); returns the name to store."""
    errors: dict[str, list[str]] = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = ["Give the segment a name."]
    elif "\x00" in name:
        errors["name"] = ["Text cannot hold NUL characters."]
    elif len(name) > NAME_MAX:
        errors["name"] = [f"A name has at most {NAME_MAX} characters."]
    else:
        same = selectors.segment_list(workspace=workspace).filter(name__iexact=name)
        if segment is not None:
            same = same.exclude(id=segment.id)
        if same.exists():
            errors["name"] = [f"There is already a segment “{name}” in this workspace."]
    if kind not in SegmentKind.values:
        errors["kind"] = [f"“{kind}” is not a kind of segment: use dynamic or static."]
    if len(description or "") > DESCRIPTION_MAX:
        errors["description"] = [f"A description has at most {DESCRIPTION_MAX} characters."]
    if "\x00" in (description or ""):
        errors["description"] = ["Text cannot hold NUL characters."]
    try:
        selectors.rules_compile(
            workspace=workspace, rules=rules, segment_id=segment.id if segment is not None else None
        )
    except RulesError as invalid:
        raise RulesError(invalid.problems, errors) from invalid
    if errors:
        raise ValidationError(errors)
    return name


@transaction.atomic
def segment_create(
    *,
    workspace: Workspace,
    name: str,
    rules: Any,
    kind: str = SegmentKind.DYNAMIC,
    description: str = "",
    is_exclusion: bool = False,
    actor: User | None = None,
) -> Segment:
    """A new segment; a static one is frozen at once (its members are the rules' matches now)."""
    name = segment_validate(workspace=workspace, name=name, rules=rules, kind=kind, description=description)
    segment = Segment(
        workspace=workspace,
        name=name,
        description=(description or "").strip(),
        rules=rules,
        kind=SegmentKind.DYNAMIC,
        is_exclusion=bool(is_exclusion),
        created_by=actor,
    )
    _save(segment)
    if kind == SegmentKind.STATIC:
        _freeze(segment)
    return segment


@transaction.atomic
def segment_update(
    *,
    segment: Segment,
    name: str | None = None,
    rules: Any = None,
    kind: str | None = None,
    description: str | None = None,
    is_exclusion: bool | None = None,
) -> Segment:
    """Change what is given. A static segment whose rules change is frozen again; turning a static
    segment dynamic drops its members."""
    locked = _lock(segment, rules)
    was_static, old_rules = locked.is_static, locked.rules
    new_rules = locked.rules if rules is None else rules
    new_kind = locked.kind if kind is None else kind
    locked.name = segment_validate(
        workspace=locked.workspace,
        name=locked.name if name is None else name,
        rules=new_rules,
        kind=new_kind,
        description=locked.description if description is None else description,
        segment=locked,
    )
    if description is not None:
        locked.description = description.strip()
    if is_exclusion is not None:
        locked.is_exclusion = bool(is_exclusion)
    locked.rules = new_rules
    fields = ["name", "description", "rules", "is_exclusion", "updated_at"]
    if new_kind == SegmentKind.DYNAMIC and was_static:
        SegmentMember.objects.filter(segment_id=locked.id).delete()
        locked.kind, locked.frozen_at, locked.frozen_count = SegmentKind.DYNAMIC, None, None
        fields += ["kind", "frozen_at", "frozen_count"]
    _save(locked, fields)
    if new_kind == SegmentKind.STATIC and (not was_static or new_rules != old_rules):
        _freeze(locked)
    return locked


@transaction.atomic
def segment_freeze(*, segment: Segment, name: str | None = None, actor: User | None = None) -> Segment:
    """Store who matches the rules now, with the date. Without `name` the segment itself becomes
    (or stays) static with fresh members; with a name, a new static segment keeps the snapshot and
    this one stays as it is."""
    if name is not None:
        return segment_create(
            workspace=segment.workspace,
            name=name,
            rules=segment.rules,
            kind=SegmentKind.STATIC,
            description=f"Snapshot of “{segment.name}” on {timezone.now():%Y-%m-%d}.",
            is_exclusion=segment.is_exclusion,
            actor=actor,
        )
    locked = _lock(segment, None)
    _freeze(locked)
    return locked


@transaction.atomic
def segment_delete(*, segment: Segment) -> None:
    including = selectors.segments_including(segment=segment)
    if including:
        names = ", ".join(f"“{other.name}”" for other in including)
        raise ValidationError(f"“{segment.name}” is included in {names}: remove it from their rules first.")
    try:
        segment.delete()
    except (ProtectedError, RestrictedError) as error:  # e.g. a persona or a campaign uses it
        users = ", ".join(sorted({str(obj) for obj in error.args[1]}))
        raise ValidationError(f"“{segment.name}” is in use ({users}).") from error


def _lock(segment: Segment, rules: Any) -> Segment:
    """The segment's row, locked. When the new rules include other segments, the workspace row is
    locked too, so two writers cannot close a loop between their segments at the same moment."""
    if rules is not None and references(rules).segments:
        Workspace.objects.select_for_update().filter(pk=segment.workspace_id).exists()
    return (
        scoped(Segment.objects.select_related("workspace"), workspace=segment.workspace)
        .select_for_update(of=("self",))
        .get(pk=segment.pk)
    )


def _save(segment: Segment, fields: list[str] | None = None) -> None:
    try:
        with transaction.atomic():
            segment.save(update_fields=fields)
    except IntegrityError as error:  # a concurrent save took the name
        raise ValidationError({"name": [f"There is already a segment “{segment.name}”."]}) from error


def _freeze(segment: Segment) -> None:
    """Members in two set-based statements: the old snapshot deleted, the new one inserted from the
    compiled rules (`INSERT ... SELECT`), whatever its size."""
    contacts = selectors.rules_contacts(workspace=segment.workspace, rules=segment.rules, strict=False)
    SegmentMember.objects.filter(segment_id=segment.id).delete()
    selected = selectors.contacts_sql(contacts)
    inserted = 0
    if selected is not None:
        sql, params = selected
        table = SegmentMember._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (segment_id, contact_id) SELECT %s, member.id FROM ({sql}) member",  # noqa: S608
                [segment.id, *params],
            )
            inserted = cursor.rowcount
    segment.kind, segment.frozen_at, segment.frozen_count = SegmentKind.STATIC, timezone.now(), inserted
    segment.save(update_fields=["kind", "frozen_at", "frozen_count", "updated_at"])
