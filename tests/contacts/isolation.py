"""Isolation rows for the contacts app (see tests/isolation/registry.py)."""

from __future__ import annotations

from apps.workspaces.models import Workspace
from tests.factories import ContactFactory, CustomFieldFactory, TagFactory
from tests.isolation.registry import ObjectIds, ScopedRoute


def make_objects(workspace: Workspace) -> ObjectIds:
    tag = TagFactory(workspace=workspace)
    contact = ContactFactory(workspace=workspace, tags=[tag])
    return {
        "contact": contact.id,
        "tag": tag.id,
        "custom_field": CustomFieldFactory(workspace=workspace).id,
    }


# Browser pages under /w/<workspace_slug>/contacts/.
PAGES: list[ScopedRoute] = []

# Endpoints under /api/v1/.
API: list[ScopedRoute] = []
