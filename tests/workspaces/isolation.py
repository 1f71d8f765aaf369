"""Isolation rows for the workspaces app: every page and endpoint, pointed at another company."""

from __future__ import annotations

from apps.workspaces.models import Workspace
from tests.factories import InvitationFactory, MembershipFactory, TeamFactory, issue_token
from tests.isolation.registry import ObjectIds, ScopedRoute


def make_objects(workspace: Workspace) -> ObjectIds:
    team = TeamFactory(workspace=workspace)
    membership = MembershipFactory(workspace=workspace, team=team)
    token, _ = issue_token(membership=membership)
    return {
        "team": team.id,
        "membership": membership.id,
        "invitation": InvitationFactory(workspace=workspace, team=team).id,
        "token": token.id,
    }


PAGES = [
    ScopedRoute("workspaces:dashboard"),
    ScopedRoute("workspaces:team"),
    ScopedRoute("workspaces:settings", methods=("get", "post")),
    ScopedRoute("workspaces:api-tokens", methods=("get", "post")),
    ScopedRoute("workspaces:invitation-create", methods=("post",)),
    ScopedRoute(
        "workspaces:invitation-resend", lambda ids: {"invitation_id": ids["invitation"]}, methods=("post",)
    ),
    ScopedRoute(
        "workspaces:invitation-revoke", lambda ids: {"invitation_id": ids["invitation"]}, methods=("post",)
    ),
    ScopedRoute(
        "workspaces:membership-update", lambda ids: {"membership_id": ids["membership"]}, methods=("post",)
    ),
    ScopedRoute(
        "workspaces:membership-remove", lambda ids: {"membership_id": ids["membership"]}, methods=("post",)
    ),
    ScopedRoute("workspaces:team-create", methods=("post",)),
    ScopedRoute("workspaces:team-delete", lambda ids: {"team_id": ids["team"]}, methods=("post",)),
    ScopedRoute("workspaces:api-token-revoke", lambda ids: {"token_id": ids["token"]}, methods=("post",)),
]

API = [
    ScopedRoute("api:workspace", methods=("get", "patch")),
    ScopedRoute("api:team-list", must_not_list="team"),
    ScopedRoute(
        "api:team-detail", lambda ids: {"pk": ids["team"]}, methods=("get", "patch", "put", "delete")
    ),
    ScopedRoute("api:membership-list", must_not_list="membership"),
    ScopedRoute(
        "api:membership-detail",
        lambda ids: {"pk": ids["membership"]},
        methods=("get", "patch", "put", "delete"),
    ),
    ScopedRoute("api:invitation-list", must_not_list="invitation"),
    ScopedRoute("api:invitation-detail", lambda ids: {"pk": ids["invitation"]}, methods=("get", "delete")),
    ScopedRoute("api:invitation-resend", lambda ids: {"pk": ids["invitation"]}, methods=("post",)),
    ScopedRoute("api:apitoken-list", must_not_list="token"),
    ScopedRoute("api:apitoken-detail", lambda ids: {"pk": ids["token"]}),
    ScopedRoute("api:apitoken-revoke", lambda ids: {"pk": ids["token"]}, methods=("post",)),
]

GLOBAL = {
    "home": "redirects to one of the caller's own workspaces",
    "workspace-create": "creates a new workspace owned by the caller",
    "invitation-accept": "the signed token names the workspace; the row decides validity",
    "api-schema": "the public OpenAPI schema, no data",
    "api-docs": "the interactive API reference, no data",
    "healthz": "infrastructure health, no workspace data",
    "api:api-root": "DRF's browsable index of endpoint URLs, no data",
}
