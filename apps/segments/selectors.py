"""Reads for segments, always scoped to one workspace.

Evaluating rules costs a few small look-ups (the tag ids, custom field types and included segments
the rules name, each only when named) and then one SQL statement for the count, the page or the
overlap: the rules compile to `Q` and `EXISTS` expressions, never to Python-side filtering.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.db.models.functions import Lower
from django.utils import timezone

from apps.contacts import selectors as contact_selectors
from apps.contacts.models import Contact, CustomField, Tag
from apps.core.scoping import get_scoped_or_404, scoped
from apps.segments.compiler import EVERYONE, NOBODY, Compiler, all_of, any_of, none_of
from apps.segments.fields import field_specs
from apps.segments.models import Segment, SegmentMember
from apps.segments.rules import (
    Node,
    References,
    RulesError,
    SegmentInfo,
    Vocabulary,
    parse,
    references,
)
from apps.workspaces.models import Workspace

SAMPLE_SIZE = 20
MAX_OVERLAP = 10


# --- Segments ---------------------------------------------------------------------------------------


def segment_list(*, workspace: Workspace) -> QuerySet[Segment]:
    return scoped(Segment.objects.all(), workspace=workspace).order_by(Lower("name"), "id")


def segment_get(*, workspace: Workspace, segment_id: int) -> Segment:
    return get_scoped_or_404(Segment.objects.select_related("workspace"), workspace=workspace, id=segment_id)


def segments_by_ids(*, workspace: Workspace, ids: Iterable[int]) -> list[Segment]:
    """The workspace's segments with these ids, in the order asked; unknown ids are left out."""
    wanted = list(dict.fromkeys(ids))
    found = {segment.id: segment for segment in segment_list(workspace=workspace).filter(id__in=wanted)}
    return [found[segment_id] for segment_id in wanted if segment_id in found]


def segments_including(*, segment: Segment) -> list[Segment]:
    """The workspace's segments whose rules include this one (`{"segment": id}` anywhere)."""
    others = segment_list(workspace=segment.workspace).exclude(id=segment.id).only("id", "name", "rules")
    return [other for other in others if segment.id in references(other.rules).segments]


# --- Vocabulary: what rules name, resolved to ids ------------------------------------------------------


def rules_vocabulary(*, workspace: Workspace, rules: Any, now: dt.datetime | None = None) -> Vocabulary:
    """Tags, custom fields and segments the rules name (and the segments they include name), read
    with one query each, only for what is named."""
    named = references(rules)
    segments = _included_segments(workspace, named)
    for info in segments.values():
        references(info.rules, named)
    tags: dict[str, int] = {}
    if named.tags:
        tags = dict(
            scoped(Tag.objects.all(), workspace=workspace)
            .annotate(lower_name=Lower("name"))
            .filter(lower_name__in=named.tags)
            .values_list("lower_name", "id")
        )
    custom_fields: list[CustomField] = []
    if named.custom_keys:
        custom_fields = list(
            scoped(CustomField.objects.all(), workspace=workspace).filter(key__in=named.custom_keys)
        )
    return Vocabulary(
        fields=field_specs(custom_fields),
        tags=tags,
        segments=segments,
        time_zone=ZoneInfo(workspace.time_zone),
        now=now or timezone.now(),
    )


def _included_segments(workspace: Workspace, named: References) -> dict[int, SegmentInfo]:
    found: dict[int, SegmentInfo] = {}
    asked: set[int] = set()
    wanted = set(named.segments)
    while wanted and len(asked) < 1000:
        asked |= wanted
        rows = scoped(Segment.objects.all(), workspace=workspace).filter(id__in=wanted)
        for row in rows.values("id", "name", "kind", "rules"):
            found[row["id"]] = SegmentInfo(row["id"], row["name"], row["kind"] == "static", row["rules"])
        wanted = {i for info in found.values() for i in references(info.rules).segments} - asked
    return found


# --- Evaluating rules -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CompiledRules:
    tree: Node
    condition: Q
    vocabulary: Vocabulary


def rules_compile(
    *,
    workspace: Workspace,
    rules: Any,
    strict: bool = True,
    segment_id: int | None = None,
    now: dt.datetime | None = None,
) -> CompiledRules:
    """Check and compile rules (`RulesError` names each problem by its path); see `rules.parse`
    for `strict`."""
    vocabulary = rules_vocabulary(workspace=workspace, rules=rules, now=now)
    tree = parse(rules, vocabulary, strict=strict, segment_id=segment_id)
    return CompiledRules(tree, Compiler(vocabulary).compile(tree), vocabulary)


def _contacts(workspace: Workspace, condition: Q) -> QuerySet[Contact]:
    contacts = scoped(Contact.objects.all(), workspace=workspace)
    if condition == NOBODY:
        return contacts.none()
    return contacts if condition == EVERYONE else contacts.filter(condition)


def rules_contacts(
    *,
    workspace: Workspace,
    rules: Any,
    strict: bool = True,
    segment_id: int | None = None,
    now: dt.datetime | None = None,
) -> QuerySet[Contact]:
    """The contacts the rules match (`RulesError` when they cannot be read)."""
    compiled = rules_compile(workspace=workspace, rules=rules, strict=strict, segment_id=segment_id, now=now)
    return _contacts(workspace, compiled.condition)


def segment_condition(*, segment: Segment, now: dt.datetime | None = None) -> Q:
    """Membership as a condition on contacts: a static segment's frozen members, a dynamic one's
    rules as they read now (lenient: a tag deleted since is held by nobody)."""
    if segment.is_static:
        return Q(Exists(SegmentMember.objects.filter(segment_id=segment.id, contact_id=OuterRef("pk"))))
    return rules_compile(
        workspace=segment.workspace, rules=segment.rules, strict=False, segment_id=segment.id, now=now
    ).condition


def segment_contacts(*, segment: Segment, now: dt.datetime | None = None) -> QuerySet[Contact]:
    return _contacts(segment.workspace, segment_condition(segment=segment, now=now))


def segment_count(*, segment: Segment) -> int:
    return segment_contacts(segment=segment).count()


def segment_problems(*, segment: Segment) -> list[str]:
    """What no longer holds in a saved segment's rules (a tag or custom field deleted since), to
    show beside it; the segment still counts, reading those parts as empty."""
    try:
        rules_compile(workspace=segment.workspace, rules=segment.rules, segment_id=segment.id)
    except RulesError as error:
        return [str(problem) for problem in error.problems]
    return []


def contacts_total(*, workspace: Workspace) -> int:
    return scoped(Contact.objects.all(), workspace=workspace).count()


@dataclass(frozen=True)
class Preview:
    count: int
    sample: list[Contact]


def contacts_preview(contacts: QuerySet[Contact], *, sample_size: int = SAMPLE_SIZE) -> Preview:
    """How many match and the newest few of them (tags prefetched): two statements."""
    count = contacts.count()
    sample = (
        contact_selectors.contact_page(contacts, after=None, size=sample_size).contacts
        if count and sample_size
        else []
    )
    return Preview(count=count, sample=sample)


def contacts_sql(contacts: QuerySet[Contact]) -> tuple[str, tuple[Any, ...]] | None:
    """`SELECT id ...` of a contact query set, to wrap in a set-based statement; None when it
    cannot match anyone (Django refuses to write such a query)."""
    try:
        return contacts.order_by().values_list("id").query.sql_with_params()
    except EmptyResultSet:
        return None


# --- Overlap and audiences ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Overlap:
    segments: list[Segment]
    counts: list[int]  # contacts in each segment
    matrix: list[list[int]]  # [i][j]: contacts in both i and j (the diagonal repeats `counts`)
    regions: dict[int, int]  # bit mask of segments -> contacts in exactly those


def segment_overlap(*, workspace: Workspace, segments: Sequence[Segment]) -> Overlap:
    """How many contacts each pair of segments shares, in one statement: each segment's members (by
    its best plan, semi-joins and all) tagged with its bit, summed per contact, then counted per
    combination of bits."""
    branches: list[str] = []
    params: list[Any] = []
    for bit, segment in enumerate(segments[:MAX_OVERLAP]):
        selected = contacts_sql(segment_contacts(segment=segment))
        if selected is not None:
            sql, branch_params = selected
            branches.append(f"SELECT member.id, {1 << bit} AS bit FROM ({sql}) member")  # noqa: S608 - compiled SQL
            params.extend(branch_params)
    regions: dict[int, int] = {}
    if branches:
        union = " UNION ALL ".join(branches)
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT mask, COUNT(*) FROM (SELECT id, SUM(bit) AS mask FROM ({union}) branch GROUP BY id) "  # noqa: S608
                "per_contact GROUP BY mask",
                params,
            )
            regions = {int(mask): int(count) for mask, count in cursor.fetchall()}
    size = len(segments[:MAX_OVERLAP])
    matrix = [
        [
            sum(count for mask, count in regions.items() if mask >> i & 1 and mask >> j & 1)
            for j in range(size)
        ]
        for i in range(size)
    ]
    return Overlap(list(segments[:MAX_OVERLAP]), [matrix[i][i] for i in range(size)], matrix, regions)


def audience_contacts(
    *, workspace: Workspace, include: Sequence[Segment], exclude: Sequence[Segment] = ()
) -> QuerySet[Contact]:
    """Contacts in any of `include` and in none of `exclude` (exclusion segments, typically): what a
    campaign will send to."""
    wanted = any_of(segment_condition(segment=segment) for segment in include)
    unwanted = any_of(segment_condition(segment=segment) for segment in exclude)
    return _contacts(workspace, all_of([wanted, none_of(unwanted)]))
