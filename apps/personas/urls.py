"""Persona pages, mounted at /w/<workspace_slug>/personas/."""

from django.urls import path

from apps.personas import views

app_name = "personas"

urlpatterns = [
    path("", views.persona_list, name="list"),
    path("compare/", views.persona_compare, name="compare"),
    path("new/", views.persona_create, name="create"),
    path("<int:persona_id>/", views.persona_detail, name="detail"),
    path("<int:persona_id>/edit/", views.persona_edit, name="edit"),
    path("<int:persona_id>/regenerate/", views.persona_regenerate, name="regenerate"),
    path("<int:persona_id>/delete/", views.persona_delete, name="delete"),
]
