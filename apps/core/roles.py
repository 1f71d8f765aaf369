"""Roles a member (or an API token) holds in a workspace, ordered: each includes the ones below."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    VIEWER = "viewer", _("Viewer")
    EDITOR = "editor", _("Editor")
    APPROVER = "approver", _("Approver")
    ADMIN = "admin", _("Admin")

    @property
    def rank(self) -> int:
        return _RANKS[self]

    def includes(self, other: Role) -> bool:
        """True when this role may do everything `other` may do."""
        return self.rank >= other.rank


_RANKS = {Role.VIEWER: 1, Role.EDITOR: 2, Role.APPROVER: 3, Role.ADMIN: 4}

ROLE_HELP = {
    Role.VIEWER: _("Reads the plan, contacts, campaigns and KPIs."),
    Role.EDITOR: _("Also edits the plan, contacts, segments and campaigns."),
    Role.APPROVER: _("Also signs off content for their team."),
    Role.ADMIN: _("Also manages members, teams, API tokens and workspace settings."),
}
