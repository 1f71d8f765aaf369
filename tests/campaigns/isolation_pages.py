"""Isolation rows for the campaign pages under /w/<workspace_slug>/campaigns/ (see
tests/isolation/registry.py; the ids come from `make_objects` in isolation.py)."""

from __future__ import annotations

from tests.isolation.registry import ScopedRoute

CAMPAIGN = lambda ids: {"campaign_id": ids["campaign"]}  # noqa: E731
EMAIL = lambda ids: {"item_id": ids["email_item"]}  # noqa: E731
SMS = lambda ids: {"item_id": ids["sms_item"]}  # noqa: E731
MAIL = lambda ids: {"item_id": ids["mail_item"]}  # noqa: E731
SOCIAL = lambda ids: {"item_id": ids["social_item"]}  # noqa: E731

PAGES: list[ScopedRoute] = [
    ScopedRoute("campaigns:list"),
    ScopedRoute("campaigns:create", methods=("get", "post")),
    ScopedRoute("campaigns:contact-search"),
    ScopedRoute("campaigns:detail", CAMPAIGN),
    ScopedRoute("campaigns:edit", CAMPAIGN, methods=("get", "post")),
    ScopedRoute("campaigns:delete", CAMPAIGN, methods=("post",)),
    ScopedRoute("campaigns:item-create", CAMPAIGN, methods=("get", "post")),
    ScopedRoute("campaigns:item-preview", CAMPAIGN, methods=("post",)),
    ScopedRoute("campaigns:item-detail", EMAIL),
    ScopedRoute("campaigns:item-edit", EMAIL, methods=("get", "post")),
    ScopedRoute("campaigns:item-delete", EMAIL, methods=("post",)),
    ScopedRoute("campaigns:item-render", EMAIL),
    ScopedRoute("campaigns:item-test-send", SMS, methods=("post",)),
    ScopedRoute("campaigns:item-progress", EMAIL),
    ScopedRoute("campaigns:item-deliveries", EMAIL),
    ScopedRoute("campaigns:item-schedule", EMAIL, methods=("post",)),
    ScopedRoute("campaigns:item-send-now", EMAIL, methods=("post",)),
    ScopedRoute("campaigns:item-pause", EMAIL, methods=("post",)),
    ScopedRoute("campaigns:item-resume", EMAIL, methods=("post",)),
    ScopedRoute("campaigns:item-unschedule", EMAIL, methods=("post",)),
    ScopedRoute("campaigns:item-cancel", EMAIL, methods=("post",)),
    ScopedRoute("campaigns:item-addresses", MAIL),
    ScopedRoute("campaigns:result-add", SOCIAL, methods=("post",)),
    ScopedRoute("campaigns:result-delete", lambda ids: {"result_id": ids["result"]}, methods=("post",)),
]
