"""Segment pages, mounted at /w/<workspace_slug>/segments/."""

from django.urls import path

from apps.segments.views import editing, pages

app_name = "segments"

urlpatterns = [
    path("", pages.segment_list, name="list"),
    path("overlap/", pages.segment_overlap, name="overlap"),
    path("new/", editing.segment_create, name="create"),
    path("builder/", editing.segment_builder, name="builder"),
    path("preview/", editing.segment_preview, name="preview"),
    path("tags/", editing.tag_suggestions, name="tag-suggestions"),
    path("<int:segment_id>/", pages.segment_detail, name="detail"),
    path("<int:segment_id>/count/", pages.segment_count, name="count"),
    path("<int:segment_id>/edit/", editing.segment_edit, name="edit"),
    path("<int:segment_id>/freeze/", pages.segment_freeze, name="freeze"),
    path("<int:segment_id>/delete/", pages.segment_delete, name="delete"),
]
