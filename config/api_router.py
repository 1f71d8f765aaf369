"""The REST API at /api/v1/: one router, each app registers its viewsets here."""

from django.urls import path
from rest_framework.routers import DefaultRouter

from apps.campaigns import api as campaigns_api
from apps.contacts.api import contacts as contacts_api
from apps.contacts.api import import_presets as import_presets_api
from apps.contacts.api import imports as imports_api
from apps.contacts.api import vocabulary as contact_vocabulary_api
from apps.personas import api as personas_api
from apps.segments import api as segments_api
from apps.workspaces import api as workspaces_api

router = DefaultRouter()
router.register("teams", workspaces_api.TeamViewSet, basename="team")
router.register("memberships", workspaces_api.MembershipViewSet, basename="membership")
router.register("invitations", workspaces_api.InvitationViewSet, basename="invitation")
router.register("tokens", workspaces_api.ApiTokenViewSet, basename="apitoken")
router.register("contacts", contacts_api.ContactViewSet, basename="contact")
router.register("tags", contact_vocabulary_api.TagViewSet, basename="tag")
router.register("custom-fields", contact_vocabulary_api.CustomFieldViewSet, basename="custom-field")
router.register("imports", imports_api.ImportJobViewSet, basename="import")
router.register("import-presets", import_presets_api.ImportPresetViewSet, basename="import-preset")
router.register("segments", segments_api.SegmentViewSet, basename="segment")
router.register("personas", personas_api.PersonaViewSet, basename="persona")
router.register("campaigns", campaigns_api.CampaignViewSet, basename="campaign")
router.register("channel-items", campaigns_api.ChannelItemViewSet, basename="channel-item")

app_name = "api"
urlpatterns = [
    path("workspace/", workspaces_api.CurrentWorkspaceView.as_view(), name="workspace"),
    *router.urls,
]
