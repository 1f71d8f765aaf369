"""Nothing leaks across workspaces: every scoped route answers 404 for another company's objects.

The matrix is data: each app lists its routes in `tests/<app>/isolation.py` (see registry.py). A
route that nobody listed fails `test_every_route_has_a_row_in_the_isolation_matrix`, so the proof
grows with the product.
"""

from __future__ import annotations

import importlib
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from rest_framework.test import APIClient

from apps.core.roles import Role
from apps.workspaces.models import Workspace
from tests.factories import MembershipFactory, WorkspaceFactory, issue_token
from tests.isolation.registry import ObjectIds, ScopedRoute

TESTS_DIR = Path(__file__).resolve().parent.parent
# Django's own log-in/password views and the admin (a superuser tool that spans workspaces by design).
EXEMPT_NAMESPACES = {"admin"}
EXEMPT_NAMES = {
    "login",
    "logout",
    "password_change",
    "password_change_done",
    "password_reset",
    "password_reset_done",
    "password_reset_confirm",
    "password_reset_complete",
}


def _isolation_modules() -> list[ModuleType]:
    return [
        importlib.import_module(f"tests.{path.parent.name}.isolation")
        for path in sorted(TESTS_DIR.glob("*/isolation.py"))
    ]


MODULES = _isolation_modules()
PAGES: list[ScopedRoute] = [row for module in MODULES for row in getattr(module, "PAGES", [])]
API: list[ScopedRoute] = [row for module in MODULES for row in getattr(module, "API", [])]
# Pages that address one object by id (any id will do to find out).
OBJECT_PAGES = [row for row in PAGES if row.kwargs(defaultdict(int))]
GLOBAL: dict[str, str] = {
    name: why for module in MODULES for name, why in getattr(module, "GLOBAL", {}).items()
}


def _routes(patterns: list[Any], prefix: str = "", namespace: str = "") -> dict[str, str]:
    """Every named URL in the project: full name -> route text."""
    found: dict[str, str] = {}
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            found.update(_routes(pattern.url_patterns, route, inner))
        elif isinstance(pattern, URLPattern) and pattern.name:
            found.setdefault(f"{namespace}{pattern.name}", route)
    return found


def test_every_route_has_a_row_in_the_isolation_matrix() -> None:
    listed = {row.name for row in PAGES} | {row.name for row in API} | set(GLOBAL)
    missing = []
    for name, route in _routes(get_resolver().url_patterns).items():
        if name.split(":")[0] in EXEMPT_NAMESPACES or name in EXEMPT_NAMES:
            continue
        if name not in listed:
            missing.append(f"{name} ({route})")

    assert not missing, "Routes without a row in tests/<app>/isolation.py: " + ", ".join(missing)


def test_every_row_names_an_existing_route() -> None:
    names = set(_routes(get_resolver().url_patterns))

    stale = [row.name for row in [*PAGES, *API] if row.name not in names] + [
        n for n in GLOBAL if n not in names
    ]

    assert not stale


def test_workspace_pages_are_all_under_the_workspace_prefix() -> None:
    routes = _routes(get_resolver().url_patterns)

    assert all(routes[row.name].startswith("w/<slug:workspace_slug>/") for row in PAGES)
    assert all(routes[row.name].startswith("api/v1/") for row in API)


@dataclass
class World:
    """Workspace A, whose admin attacks; workspace B, whose objects must stay invisible."""

    mine: Workspace
    theirs: Workspace
    their_ids: ObjectIds
    browser: Client
    token_client: APIClient
    session_api: APIClient


@pytest.fixture
def world(db: None) -> World:
    mine, theirs = WorkspaceFactory(slug="mine"), WorkspaceFactory(slug="theirs")
    attacker = MembershipFactory(workspace=mine, role=Role.ADMIN)
    their_ids: ObjectIds = {}
    for module in MODULES:
        module.make_objects(mine)  # the attacker's own workspace is just as full
        their_ids.update(module.make_objects(theirs))
    browser = Client()
    browser.force_login(attacker.user)
    _, key = issue_token(membership=attacker)
    token_client = APIClient()
    token_client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    session_api = APIClient()
    session_api.force_login(attacker.user)
    return World(mine, theirs, their_ids, browser, token_client, session_api)


@pytest.mark.parametrize("row", PAGES, ids=lambda row: row.name)
def test_pages_of_another_workspace_are_not_found(world: World, row: ScopedRoute) -> None:
    for method in row.methods:
        url = reverse(row.name, kwargs={"workspace_slug": world.theirs.slug, **row.kwargs(world.their_ids)})
        assert getattr(world.browser, method)(url).status_code == 404, f"{method.upper()} {url}"


@pytest.mark.parametrize("row", OBJECT_PAGES, ids=lambda row: row.name)
def test_another_workspaces_objects_are_not_found_through_my_workspace(
    world: World, row: ScopedRoute
) -> None:
    kwargs = row.kwargs(world.their_ids)
    for method in row.methods:
        url = reverse(row.name, kwargs={"workspace_slug": world.mine.slug, **kwargs})
        assert getattr(world.browser, method)(url).status_code == 404, f"{method.upper()} {url}"


def _result_ids(body: Any) -> set[int]:
    results = body.get("results", body) if isinstance(body, dict) else body
    return {item["id"] for item in results}


@pytest.mark.parametrize("row", API, ids=lambda row: row.name)
def test_api_never_shows_another_workspaces_objects(world: World, row: ScopedRoute) -> None:
    if row.probe is not None:
        row.probe(world.token_client, world.their_ids)
        return
    kwargs = row.kwargs(world.their_ids)
    url = reverse(row.name, kwargs=kwargs)
    if kwargs:
        for method in row.methods:
            response = getattr(world.token_client, method)(url, {}, format="json")
            assert response.status_code == 404, f"{method.upper()} {url}"
            assert response.json()["error"]["code"] == "not_found"
    else:
        response = world.token_client.get(url)
        assert response.status_code == 200
        if row.must_not_list:
            assert world.their_ids[row.must_not_list] not in _result_ids(response.json())
        else:
            assert response.json()["slug"] == world.mine.slug


@pytest.mark.parametrize("row", API, ids=lambda row: row.name)
def test_a_browser_session_cannot_name_another_workspace_in_the_api(world: World, row: ScopedRoute) -> None:
    url = reverse(row.name, kwargs=row.kwargs(world.their_ids))

    response = world.session_api.get(url, HTTP_X_WORKSPACE=world.theirs.slug)

    assert response.status_code == 404
