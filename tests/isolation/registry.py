"""The isolation matrix's vocabulary. Each app lists its routes in `tests/<app>/isolation.py`.

An app's `isolation.py` provides:
- `make_objects(workspace) -> dict[str, int]`: one of each object the app owns, by name -> id;
- `PAGES`: `ScopedRoute`s for every browser URL under `/w/<workspace_slug>/`;
- `API`: `ScopedRoute`s for every `/api/v1/` URL;
- optionally `GLOBAL`: route names outside any workspace, each with the reason it is not scoped.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

ObjectIds = dict[str, int]


@dataclass(frozen=True)
class ScopedRoute:
    name: str  # the URL name, e.g. "workspaces:membership-update" or "api:team-detail"
    kwargs: Callable[[ObjectIds], dict[str, Any]] = field(default=lambda _ids: {})
    methods: tuple[str, ...] = ("get",)
    # For list endpoints: the object whose id must never appear in another workspace's results.
    must_not_list: str | None = None
    # For collection actions that answer neither a JSON list nor one object (an export, a bulk
    # write): `probe(client, their_ids)` checks, as an admin of another workspace, that the action
    # neither shows nor changes the objects `make_objects` created there.
    probe: Callable[[Any, ObjectIds], None] | None = None
