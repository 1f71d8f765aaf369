"""Base classes for workspace-scoped API endpoints."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from rest_framework import viewsets

from apps.core.scoping import scoped


class WorkspaceScopedViewSetMixin:
    """`get_queryset` is always restricted to the request's workspace: others' objects are 404.

    The workspace is resolved by the `HasWorkspaceRole` permission, which runs before any lookup.
    """

    queryset: QuerySet[Any]
    request: Any

    def get_queryset(self) -> QuerySet[Any]:
        if getattr(self, "swagger_fake_view", False):  # schema generation has no workspace
            return self.queryset.none()
        return scoped(self.queryset.all(), workspace=self.request.workspace)


class WorkspaceScopedModelViewSet(WorkspaceScopedViewSetMixin, viewsets.ModelViewSet):  # type: ignore[type-arg]
    pass
