"""Abstract base models and the scoped query set every workspace-owned model uses."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Self

from django.db import models

if TYPE_CHECKING:
    from apps.workspaces.models import Workspace


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(auto_now_add=True, db_index=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class WorkspaceScopedQuerySet(models.QuerySet[Any]):
    def for_workspace(self, workspace: Workspace) -> Self:
        return self.filter(workspace=workspace)


class WorkspaceScopedModel(TimeStampedModel):
    """A row that belongs to exactly one workspace. Read it only through `for_workspace`."""

    workspace = models.ForeignKey("workspaces.Workspace", on_delete=models.CASCADE, related_name="+")

    objects: ClassVar[models.Manager[Any]] = WorkspaceScopedQuerySet.as_manager()

    class Meta:
        abstract = True


class Heartbeat(models.Model):
    """The last time a named background component proved it was alive (beat and a worker)."""

    name = models.CharField(max_length=50, unique=True)
    at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} at {self.at:%Y-%m-%d %H:%M:%S}"
