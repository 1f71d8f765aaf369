"""Pages inside one workspace, mounted at /w/<workspace_slug>/."""

from django.urls import path

from apps.workspaces import views

app_name = "workspaces"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("team/", views.team, name="team"),
    path("team/invitations/", views.invitation_create, name="invitation-create"),
    path("team/invitations/<int:invitation_id>/resend/", views.invitation_resend, name="invitation-resend"),
    path("team/invitations/<int:invitation_id>/revoke/", views.invitation_revoke, name="invitation-revoke"),
    path("team/members/<int:membership_id>/", views.membership_update, name="membership-update"),
    path("team/members/<int:membership_id>/remove/", views.membership_remove, name="membership-remove"),
    path("team/teams/", views.team_create, name="team-create"),
    path("team/teams/<int:team_id>/delete/", views.team_delete, name="team-delete"),
    path("settings/", views.settings_page, name="settings"),
    path("settings/api-tokens/", views.api_tokens, name="api-tokens"),
    path("settings/api-tokens/<int:token_id>/revoke/", views.api_token_revoke, name="api-token-revoke"),
]
