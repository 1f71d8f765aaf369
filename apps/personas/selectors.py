"""Reads for personas, always scoped to one workspace."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import QuerySet
from django.db.models.functions import Lower

from apps.core.scoping import get_scoped_or_404, scoped
from apps.personas.models import Persona
from apps.segments import selectors as segment_selectors
from apps.workspaces.models import Workspace

PLANNED = 3  # personas a plan asks for (DOMAIN.md: teams usually write three)
MAX_COMPARE = 6


def persona_list(*, workspace: Workspace) -> QuerySet[Persona]:
    return (
        scoped(Persona.objects.all(), workspace=workspace)
        .select_related("segment", "segment__workspace", "owner_team", "workspace")
        .order_by(Lower("name"), "id")
    )


def persona_get(*, workspace: Workspace, persona_id: int) -> Persona:
    return get_scoped_or_404(
        Persona.objects.select_related("segment", "segment__workspace", "owner_team", "workspace"),
        workspace=workspace,
        id=persona_id,
    )


def personas_by_ids(*, workspace: Workspace, ids: Iterable[int]) -> list[Persona]:
    """The workspace's personas with these ids, in the order asked; unknown ids are left out."""
    wanted = list(dict.fromkeys(ids))
    found = {persona.id: persona for persona in persona_list(workspace=workspace).filter(id__in=wanted)}
    return [found[persona_id] for persona_id in wanted if persona_id in found]


@dataclass(frozen=True)
class PlanProgress:
    count: int
    planned: int

    @property
    def missing(self) -> int:
        return max(self.planned - self.count, 0)


def persona_progress(*, workspace: Workspace, count: int | None = None) -> PlanProgress:
    if count is None:
        count = scoped(Persona.objects.all(), workspace=workspace).count()
    return PlanProgress(count=count, planned=PLANNED)


@dataclass(frozen=True)
class Fit:
    """How many real contacts fit a persona, and their share of all the workspace's contacts."""

    count: int
    total: int

    @property
    def share(self) -> float:
        return self.count / self.total if self.total else 0.0


def persona_fit(*, persona: Persona, total: int | None = None) -> Fit:
    """The count of the persona's segment (one query; `total` is counted once for many personas)."""
    if total is None:
        total = segment_selectors.contacts_total(workspace=persona.workspace)
    return Fit(count=segment_selectors.segment_count(segment=persona.segment), total=total)
