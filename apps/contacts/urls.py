"""Contact pages, mounted at /w/<workspace_slug>/contacts/."""

from django.urls import path

from apps.contacts import views

app_name = "contacts"

urlpatterns = [
    path("", views.contact_list, name="list"),
    path("count/", views.contact_count, name="count"),
    path("columns/", views.contact_columns, name="columns"),
    path("bulk/", views.contact_bulk, name="bulk"),
    path("new/", views.contact_create, name="create"),
    path("<int:contact_id>/", views.contact_detail, name="detail"),
    path("<int:contact_id>/edit/", views.contact_edit, name="edit"),
    path("<int:contact_id>/erase/", views.contact_erase, name="erase"),
    path("<int:contact_id>/tags/", views.contact_tag_add, name="contact-tag-add"),
    path("<int:contact_id>/tags/<int:tag_id>/remove/", views.contact_tag_remove, name="contact-tag-remove"),
    path("tags/", views.tag_list, name="tags"),
    path("tags/<int:tag_id>/", views.tag_update, name="tag-update"),
    path("tags/<int:tag_id>/delete/", views.tag_delete, name="tag-delete"),
    path("fields/", views.custom_field_list, name="custom-fields"),
    path("fields/<int:custom_field_id>/delete/", views.custom_field_delete, name="custom-field-delete"),
]
