from csp.decorators import csp_update
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from apps.core.views import healthz
from apps.workspaces import views as workspaces_views

# Swagger UI sets a few inline styles; only this page relaxes style-src, scripts stay 'self'.
api_docs = csp_update({"style-src": ["'unsafe-inline'"]})(
    SpectacularSwaggerSplitView.as_view(url_name="api-schema")
)

urlpatterns = [
    path("", workspaces_views.home, name="home"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("workspaces/new/", workspaces_views.workspace_create, name="workspace-create"),
    path("invitations/<str:token>/", workspaces_views.invitation_accept, name="invitation-accept"),
    path("w/<slug:workspace_slug>/contacts/", include("apps.contacts.urls")),
    path("w/<slug:workspace_slug>/segments/", include("apps.segments.urls")),
    path("w/<slug:workspace_slug>/personas/", include("apps.personas.urls")),
    path("w/<slug:workspace_slug>/campaigns/", include("apps.campaigns.urls")),
    path("w/<slug:workspace_slug>/", include("apps.workspaces.urls")),
    path("d/", include("apps.delivery.urls")),
    path("api/v1/", include("config.api_router")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", api_docs, name="api-docs"),
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
]

admin.site.site_header = "Ensemble administration"
admin.site.site_title = "Ensemble admin"
admin.site.index_title = "Data fixes"
