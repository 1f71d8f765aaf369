"""Contact pages, mounted at /w/<workspace_slug>/contacts/."""

from django.urls import path  # noqa: F401 - the browser pages add their routes here

app_name = "contacts"

urlpatterns: list = []
