from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from import_export.admin import ImportExportModelAdmin

from apps.workspaces import invitations, tokens
from apps.workspaces.models import ApiToken, Invitation, Membership, Team, Workspace
from apps.workspaces.resources import MembershipResource, TeamResource


class TeamInline(admin.TabularInline[Team, Workspace]):
    model = Team
    extra = 0
    fields = ("name", "kind", "description")


@admin.register(Workspace)
class WorkspaceAdmin(admin.ModelAdmin[Workspace]):
    list_display = ("name", "slug", "time_zone", "member_count", "created_at")
    search_fields = ("name", "slug")
    list_filter = ("time_zone",)
    readonly_fields = ("created_at", "updated_at")
    inlines = (TeamInline,)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Workspace]:
        return super().get_queryset(request).annotate(member_count=Count("memberships", distinct=True))

    @admin.display(ordering="member_count", description="members")
    def member_count(self, obj: Workspace) -> int:
        return obj.member_count  # type: ignore[attr-defined]


@admin.register(Team)
class TeamAdmin(ImportExportModelAdmin):
    resource_classes = (TeamResource,)
    list_display = ("name", "kind", "workspace", "created_at")
    list_filter = ("kind", "workspace")
    search_fields = ("name", "workspace__name", "workspace__slug")
    list_select_related = ("workspace",)
    autocomplete_fields = ("workspace",)


@admin.register(Membership)
class MembershipAdmin(ImportExportModelAdmin):
    resource_classes = (MembershipResource,)
    list_display = ("user", "workspace", "team", "role", "created_at")
    list_filter = ("role", "workspace", "team__kind")
    search_fields = ("user__email", "user__first_name", "user__last_name", "workspace__slug")
    list_select_related = ("user", "workspace", "team")
    autocomplete_fields = ("user", "workspace", "team")


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin[Invitation]):
    list_display = ("email", "workspace", "role", "team", "status", "sent_at", "expires_at", "created_at")
    list_filter = ("role", "workspace")
    search_fields = ("email", "workspace__slug")
    list_select_related = ("workspace", "team")
    readonly_fields = ("accepted_at", "accepted_by", "sent_at", "invited_by", "created_at")
    autocomplete_fields = ("workspace", "team")
    actions = ("revoke",)

    @admin.action(description="Withdraw the selected invitations")
    def revoke(self, request: HttpRequest, queryset: QuerySet[Invitation]) -> None:
        for invitation in queryset:
            invitations.invitation_revoke(invitation=invitation)
        messages.success(request, f"{queryset.count()} invitation(s) withdrawn.")


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin[ApiToken]):
    list_display = ("name", "prefix", "workspace", "role", "created_by", "last_used_at", "revoked_at")
    list_filter = ("role", "workspace")
    search_fields = ("name", "prefix", "workspace__slug", "created_by__email")
    list_select_related = ("workspace", "created_by")
    # Keys are issued only in the app, the API or the create_api_token command (shown once there).
    fields = ("name", "workspace", "role", "prefix", "created_by", "last_used_at", "revoked_at", "created_at")
    readonly_fields = ("workspace", "prefix", "created_by", "last_used_at", "revoked_at", "created_at")
    actions = ("revoke",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description="Revoke the selected tokens")
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        for token in queryset:
            tokens.api_token_revoke(token=token)
        messages.success(request, f"{queryset.count()} token(s) revoked.")
