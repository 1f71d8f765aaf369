"""Base class for workspace-scoped API viewsets (kept apart from permissions.py, which DRF imports
while it is still initialising its views)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from rest_framework.generics import GenericAPIView

from apps.core.scoping import scoped
from apps.workspaces.permissions import api_context


class WorkspaceScopedViewSetMixin(GenericAPIView[Any]):
    """`get_queryset` is always restricted to the request's workspace: others' objects are 404.

    `HasWorkspaceRole` resolves the workspace before any lookup runs.
    """

    queryset: QuerySet[Any]

    def get_queryset(self) -> QuerySet[Any]:
        if getattr(self, "swagger_fake_view", False):  # schema generation has no workspace
            return self.queryset.none()
        return scoped(self.queryset.all(), workspace=api_context(self.request).workspace)
