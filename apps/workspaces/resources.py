"""django-import-export resources: teams and memberships, addressed by workspace slug and names."""

from __future__ import annotations

from typing import Any

from import_export import fields, resources
from import_export.widgets import ForeignKeyWidget

from apps.accounts.models import User
from apps.workspaces.models import Membership, Team, Workspace


class TeamOfRowWorkspaceWidget(ForeignKeyWidget):
    """Looks a team up by name inside the row's own workspace, never across workspaces."""

    def get_queryset(self, value: Any, row: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        return Team.objects.filter(workspace__slug=row.get("workspace"))

    def clean(self, value: Any, row: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        if value:
            return self.get_queryset(value, row or {}).filter(name__iexact=str(value).strip()).get()
        return None


class TeamResource(resources.ModelResource):
    workspace = fields.Field(
        attribute="workspace", column_name="workspace", widget=ForeignKeyWidget(Workspace, field="slug")
    )

    class Meta:
        model = Team
        fields = ("workspace", "name", "kind", "description")
        import_id_fields = ("workspace", "name")
        skip_unchanged = True
        report_skipped = True


class MembershipResource(resources.ModelResource):
    workspace = fields.Field(
        attribute="workspace", column_name="workspace", widget=ForeignKeyWidget(Workspace, field="slug")
    )
    user = fields.Field(
        attribute="user", column_name="email", widget=ForeignKeyWidget(User, field="email__iexact")
    )
    team = fields.Field(
        attribute="team", column_name="team", widget=TeamOfRowWorkspaceWidget(Team, field="name")
    )

    class Meta:
        model = Membership
        fields = ("workspace", "user", "team", "role")
        import_id_fields = ("workspace", "user")
        skip_unchanged = True
        report_skipped = True
