"""Public endpoints, mounted at /d/: no login and no workspace in the URL (the token scopes them)."""

from django.urls import path

from apps.delivery import views

app_name = "delivery"

urlpatterns = [
    path("u/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("o/<str:token>.gif", views.open_pixel, name="open"),
    path("c/<str:token>/", views.click, name="click"),
    path("sms/inbound/<slug:workspace_slug>/", views.sms_inbound, name="sms-inbound"),
]
