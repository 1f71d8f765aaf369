"""The delivery ledger in the admin: to look, never to touch.

Every model here is read-only: no add, no change, no delete, no actions. A ledger row edited by
hand could send a message twice (back to `pending`) or hide a send (to `sent`); the engine, the
sweeper and the item's pause, resume and cancel (in the app) are the only writers. Lists are large
(a row per recipient): counts are estimated and the address search is exact."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from apps.contacts.admin import LargeListMixin
from apps.delivery.models import Delivery, Event, Launch, TokenBucket


class ReadOnlyAdmin(admin.ModelAdmin[Any]):
    actions = None

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Delivery)
class DeliveryAdmin(LargeListMixin, ReadOnlyAdmin):
    list_display = ("id", "item", "contact", "address", "status", "reason", "attempts", "sent_at")
    list_filter = ("status", "reason", "item__channel")
    list_select_related = ("item", "contact")
    # Exact (case-insensitive): a substring search would read the whole ledger.
    search_fields = ("=address",)
    search_help_text = "The exact email address or phone number (E.164, e.g. +4915112345678)."
    raw_id_fields = ("workspace", "item", "contact")
    ordering = ("-id",)


@admin.register(Event)
class EventAdmin(LargeListMixin, ReadOnlyAdmin):
    list_display = ("id", "type", "at", "delivery_ref", "contact_ref", "workspace_ref")
    list_filter = ("type",)
    search_fields = ("=key",)
    raw_id_fields = ("workspace", "delivery", "contact")

    @admin.display(description="delivery", ordering="delivery_id")
    def delivery_ref(self, event: Event) -> int | None:
        return event.delivery_id

    @admin.display(description="contact", ordering="contact_id")
    def contact_ref(self, event: Event) -> int | None:
        return event.contact_id

    @admin.display(description="workspace", ordering="workspace_id")
    def workspace_ref(self, event: Event) -> int:
        return event.workspace_id


@admin.register(Launch)
class LaunchAdmin(ReadOnlyAdmin):
    list_display = ("item", "launched_at", "segment_ids", "counts")
    list_select_related = ("item",)
    raw_id_fields = ("item",)
    date_hierarchy = "launched_at"


@admin.register(TokenBucket)
class TokenBucketAdmin(ReadOnlyAdmin):
    list_display = ("key", "tokens", "updated_at")
    search_fields = ("key",)
