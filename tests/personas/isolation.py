"""Isolation rows for the personas app (see tests/isolation/registry.py)."""

from __future__ import annotations

from apps.personas import services
from apps.workspaces.models import Workspace
from tests.factories import TeamFactory
from tests.isolation.registry import ObjectIds, ScopedRoute


def make_objects(workspace: Workspace) -> ObjectIds:
    team = TeamFactory(workspace=workspace)
    persona = services.persona_create(
        workspace=workspace, name=f"Persona of {workspace.slug}", owner_team=team, genders=["female"]
    )
    return {"persona": persona.id, "persona_team": team.id, "persona_segment": persona.segment_id}


PERSONA = lambda ids: {"persona_id": ids["persona"]}  # noqa: E731


# Browser pages under /w/<workspace_slug>/personas/.
PAGES: list[ScopedRoute] = [
    ScopedRoute("personas:list"),
    ScopedRoute("personas:compare"),
    ScopedRoute("personas:create", methods=("get", "post")),
    ScopedRoute("personas:detail", PERSONA),
    ScopedRoute("personas:edit", PERSONA, methods=("get", "post")),
    ScopedRoute("personas:regenerate", PERSONA, methods=("post",)),
    ScopedRoute("personas:delete", PERSONA, methods=("post",)),
]

# Endpoints under /api/v1/.
API: list[ScopedRoute] = [
    ScopedRoute("api:persona-list", must_not_list="persona"),
    ScopedRoute(
        "api:persona-detail", lambda ids: {"pk": ids["persona"]}, methods=("get", "patch", "put", "delete")
    ),
    ScopedRoute("api:persona-regenerate-segment", lambda ids: {"pk": ids["persona"]}, methods=("post",)),
]
