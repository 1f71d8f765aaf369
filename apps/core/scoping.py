"""The one scoping mechanism: every read of workspace data goes through these helpers.

An object of another workspace does not exist for the caller: it is a 404, never a 403, so that
ids and slugs of other companies leak nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

from django.core.exceptions import ObjectDoesNotExist
from django.db import models
from django.http import Http404

if TYPE_CHECKING:
    from apps.workspaces.models import Workspace

M = TypeVar("M", bound=models.Model)


def scoped(queryset: models.QuerySet[M], *, workspace: Workspace) -> models.QuerySet[M]:
    """Restrict any query set of a workspace-owned model to one workspace."""
    return queryset.filter(workspace=workspace)


def get_scoped_or_404(queryset: models.QuerySet[M], *, workspace: Workspace, **lookup: Any) -> M:
    try:
        return scoped(queryset, workspace=workspace).get(**lookup)
    except (ObjectDoesNotExist, ValueError, TypeError) as error:
        raise Http404(f"No {queryset.model._meta.verbose_name} matches the given query.") from error
