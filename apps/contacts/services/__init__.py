"""Writes and business rules for contacts. Callers use `services.<name>`; each part lives in its
own module: one contact at a time (`records`), tags (`tagging`), bulk upserts (`bulk`) and custom
fields (`custom_fields`)."""

from apps.contacts.services.bulk import MAX_BULK_UPSERT, ConsentPolicy, UpsertRow, contacts_bulk_upsert
from apps.contacts.services.custom_fields import custom_field_create, custom_field_delete, custom_field_update
from apps.contacts.services.records import (
    ConsentChange,
    consent_set,
    contact_create,
    contact_erase,
    contact_replace,
    contact_rules,
    contact_update,
    contact_validate,
    contacts_erase,
    contacts_refresh_ages,
    is_suppressed,
    suppression_add,
)
from apps.contacts.services.tagging import (
    contact_set_tags,
    contacts_tag,
    contacts_untag,
    tag_create,
    tag_delete,
    tag_update,
    tags_get_or_create,
)

__all__ = [
    "MAX_BULK_UPSERT",
    "ConsentChange",
    "ConsentPolicy",
    "UpsertRow",
    "consent_set",
    "contact_create",
    "contact_erase",
    "contact_replace",
    "contact_rules",
    "contact_set_tags",
    "contact_update",
    "contact_validate",
    "contacts_bulk_upsert",
    "contacts_erase",
    "contacts_refresh_ages",
    "contacts_tag",
    "contacts_untag",
    "custom_field_create",
    "custom_field_delete",
    "custom_field_update",
    "is_suppressed",
    "suppression_add",
    "tag_create",
    "tag_delete",
    "tag_update",
    "tags_get_or_create",
]
