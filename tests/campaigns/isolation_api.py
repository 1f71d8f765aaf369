"""Isolation rows for the campaigns API (see tests/isolation/registry.py): another workspace's
campaigns, items and results are 404 on every route, and never listed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.isolation.registry import ObjectIds, ScopedRoute


def _pk(key: str) -> Callable[[ObjectIds], dict[str, Any]]:
    return lambda ids: {"pk": ids[key]}


ALL = ("get", "put", "patch", "delete")

# Endpoints under /api/v1/campaigns/ and /api/v1/channel-items/.
API: list[ScopedRoute] = [
    ScopedRoute("api:campaign-list", must_not_list="campaign"),
    ScopedRoute("api:campaign-detail", _pk("campaign"), methods=ALL),
    ScopedRoute("api:channel-item-list", must_not_list="email_item"),
    ScopedRoute("api:channel-item-detail", _pk("email_item"), methods=ALL),
    ScopedRoute("api:channel-item-schedule", _pk("email_item"), methods=("post",)),
    ScopedRoute("api:channel-item-send-now", _pk("sms_item"), methods=("post",)),
    ScopedRoute("api:channel-item-pause", _pk("email_item"), methods=("post",)),
    ScopedRoute("api:channel-item-resume", _pk("email_item"), methods=("post",)),
    ScopedRoute("api:channel-item-cancel", _pk("email_item"), methods=("post",)),
    ScopedRoute("api:channel-item-unschedule", _pk("email_item"), methods=("post",)),
    ScopedRoute("api:channel-item-test-send", _pk("email_item"), methods=("post",)),
    ScopedRoute("api:channel-item-preview", _pk("email_item"), methods=("get", "post")),
    ScopedRoute("api:channel-item-audience", _pk("sms_item")),
    ScopedRoute("api:channel-item-addresses", _pk("mail_item")),
    ScopedRoute("api:channel-item-deliveries", _pk("email_item")),
    ScopedRoute("api:channel-item-results", _pk("social_item"), methods=("get", "post")),
    ScopedRoute(
        "api:channel-item-result",
        lambda ids: {"pk": ids["social_item"], "result_id": ids["result"]},
        methods=("delete",),
    ),
]
