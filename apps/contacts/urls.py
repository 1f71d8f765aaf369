"""Contact pages, mounted at /w/<workspace_slug>/contacts/."""

from django.urls import path

from apps.contacts.views import contact, import_presets, imports, listing, vocabulary

app_name = "contacts"

urlpatterns = [
    path("", listing.contact_list, name="list"),
    path("count/", listing.contact_count, name="count"),
    path("columns/", listing.contact_columns, name="columns"),
    path("bulk/", listing.contact_bulk, name="bulk"),
    path("new/", contact.contact_create, name="create"),
    path("<int:contact_id>/", contact.contact_detail, name="detail"),
    path("<int:contact_id>/edit/", contact.contact_edit, name="edit"),
    path("<int:contact_id>/erase/", contact.contact_erase, name="erase"),
    path("<int:contact_id>/tags/", contact.contact_tag_add, name="contact-tag-add"),
    path("<int:contact_id>/tags/<int:tag_id>/remove/", contact.contact_tag_remove, name="contact-tag-remove"),
    path("tags/", vocabulary.tag_list, name="tags"),
    path("tags/<int:tag_id>/", vocabulary.tag_update, name="tag-update"),
    path("tags/<int:tag_id>/delete/", vocabulary.tag_delete, name="tag-delete"),
    path("fields/", vocabulary.custom_field_list, name="custom-fields"),
    path("fields/<int:custom_field_id>/delete/", vocabulary.custom_field_delete, name="custom-field-delete"),
    path("imports/", imports.import_list, name="imports"),
    path("imports/new/", imports.import_upload, name="import-new"),
    path("imports/presets/", import_presets.import_preset_list, name="import-presets"),
    path(
        "imports/presets/<int:preset_id>/delete/",
        import_presets.import_preset_delete,
        name="import-preset-delete",
    ),
    path("imports/<int:import_job_id>/", imports.import_detail, name="import-detail"),
    path("imports/<int:import_job_id>/progress/", imports.import_progress, name="import-progress"),
    path("imports/<int:import_job_id>/start/", imports.import_start, name="import-start"),
    path("imports/<int:import_job_id>/cancel/", imports.import_cancel, name="import-cancel"),
    path("imports/<int:import_job_id>/rejected.csv", imports.import_rejected, name="import-rejected"),
    path(
        "imports/<int:import_job_id>/preset/", import_presets.import_preset_apply, name="import-preset-apply"
    ),
]
