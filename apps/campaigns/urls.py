"""Campaign pages, mounted at /w/<workspace_slug>/campaigns/."""

from django.urls import path

from apps.campaigns.views import campaigns, editing, items

app_name = "campaigns"

urlpatterns = [
    path("", campaigns.campaign_list, name="list"),
    path("new/", campaigns.campaign_create, name="create"),
    path("contacts/", editing.contact_search, name="contact-search"),
    path("<int:campaign_id>/", campaigns.campaign_detail, name="detail"),
    path("<int:campaign_id>/edit/", campaigns.campaign_edit, name="edit"),
    path("<int:campaign_id>/delete/", campaigns.campaign_delete, name="delete"),
    path("<int:campaign_id>/items/new/", editing.item_create, name="item-create"),
    path("<int:campaign_id>/items/preview/", editing.item_preview, name="item-preview"),
    path("items/<int:item_id>/", items.item_detail, name="item-detail"),
    path("items/<int:item_id>/edit/", editing.item_edit, name="item-edit"),
    path("items/<int:item_id>/delete/", editing.item_delete, name="item-delete"),
    path("items/<int:item_id>/render/", items.item_render, name="item-render"),
    path("items/<int:item_id>/test/", items.item_test_send, name="item-test-send"),
    path("items/<int:item_id>/progress/", items.item_progress, name="item-progress"),
    path("items/<int:item_id>/deliveries/", items.item_deliveries, name="item-deliveries"),
    path("items/<int:item_id>/schedule/", items.item_schedule, name="item-schedule"),
    path("items/<int:item_id>/send-now/", items.item_transition, {"verb": "send-now"}, name="item-send-now"),
    path("items/<int:item_id>/pause/", items.item_transition, {"verb": "pause"}, name="item-pause"),
    path("items/<int:item_id>/resume/", items.item_transition, {"verb": "resume"}, name="item-resume"),
    path(
        "items/<int:item_id>/unschedule/",
        items.item_transition,
        {"verb": "unschedule"},
        name="item-unschedule",
    ),
    path("items/<int:item_id>/cancel/", items.item_transition, {"verb": "cancel"}, name="item-cancel"),
    path("items/<int:item_id>/addresses.csv", items.item_addresses, name="item-addresses"),
    path("items/<int:item_id>/results/", items.result_add, name="result-add"),
    path("results/<int:result_id>/delete/", items.result_delete, name="result-delete"),
]
