"""What the campaign viewsets share: the answers for the state machine's errors."""

from __future__ import annotations

from rest_framework import exceptions, viewsets
from rest_framework.response import Response

from apps.campaigns import services
from apps.campaigns.api.serializers import StateConflict
from apps.workspaces.viewsets import WorkspaceScopedViewSetMixin


class CampaignsViewSetBase(WorkspaceScopedViewSetMixin, viewsets.ModelViewSet):
    """Answers the state machine's errors: a wrong state 409 `invalid_state`, no sign-off 403."""

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, RecursionError):  # a payload nested hundreds deep: parsed, but not checkable
            exc = exceptions.ParseError("The JSON nests too deeply to check; keep the payload shallower.")
        elif isinstance(exc, services.InvalidTransition):
            exc = StateConflict(exc.message)
        elif isinstance(exc, services.SignOffRequired):
            exc = exceptions.PermissionDenied(exc.message, code="sign_off_required")
        return super().handle_exception(exc)
