"""Serializers of the contacts API: the public field names, exactly as documented."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from drf_spectacular.utils import (
    extend_schema_field,
    inline_serializer,
)
from rest_framework import serializers
from rest_framework.settings import api_settings

from apps.contacts import services
from apps.contacts.choices import (
    Consent,
    CustomFieldType,
    EducationLevel,
    Gender,
    IncomeBand,
    MaritalStatus,
)
from apps.contacts.cleaning import FIELD_NAMES
from apps.contacts.models import Contact, CustomField, Tag

READ_ONLY_FIELDS = ("id", "suppressed", "created_at", "updated_at")


EXPORT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


FIXED_FILTERS = ("q", "tag", "email", "phone", "updated_since")


CUSTOM_FILTER_PREFIX = "custom."


def _shown_choice(choices: Any) -> serializers.ChoiceField:
    # Declared so the schema says "" is possible (a read-only model field loses `allow_blank`).
    return serializers.ChoiceField(choices=choices, allow_blank=True, read_only=True)


class ContactSerializer(serializers.ModelSerializer[Contact]):
    """A contact as the API shows it: the public field names of `cleaning.FIELD_NAMES`."""

    tags: serializers.RelatedField[Tag, str, str] | serializers.ManyRelatedField = (
        serializers.SlugRelatedField(many=True, read_only=True, slug_field="name")
    )
    custom = serializers.DictField(read_only=True, help_text="Custom field values by key.")
    gender = _shown_choice(Gender.choices)
    marital_status = _shown_choice(MaritalStatus.choices)
    household_income_band = _shown_choice(IncomeBand.choices)
    education_level = _shown_choice(EducationLevel.choices)
    suppressed = serializers.SerializerMethodField(
        help_text="The email or phone is on the suppression list: no marketing, whatever the consent."
    )

    class Meta:
        model = Contact
        fields = ("id", *FIELD_NAMES, "suppressed", "created_at", "updated_at")
        read_only_fields = fields

    def get_suppressed(self, contact: Contact) -> bool:
        return contact.id in self.context["suppressed_ids"]


def _text(help_text: str = "") -> serializers.CharField:
    return serializers.CharField(required=False, allow_blank=True, allow_null=True, help_text=help_text)


def _choice(choices: Any, help_text: str = "") -> serializers.ChoiceField:
    return serializers.ChoiceField(
        choices=choices, required=False, allow_blank=True, allow_null=True, help_text=help_text
    )


class ContactWriteSerializer(serializers.Serializer):
    """A contact as a client sends it. The declared fields document the API; the values go to the
    service as sent, which cleans them with `cleaning.clean_contact_values` and names every bad field.
    An empty value (`""` or `null`) clears a field. Unknown names are reported as errors; the
    read-only fields of a response (`id`, `suppressed`, timestamps) are ignored, so a fetched
    contact can be sent back as it is."""

    email = _text("An email address or a phone number is required.")
    phone = _text("Any common notation; national numbers are read in the workspace's phone region.")
    first_name = _text()
    last_name = _text()
    birth_date = serializers.DateField(required=False, allow_null=True, help_text="Sets `age`.")
    age = serializers.IntegerField(
        required=False, allow_null=True, help_text="Taken from `birth_date` when that is known."
    )
    gender = _choice(Gender.choices)
    marital_status = _choice(MaritalStatus.choices)
    children_in_household = serializers.IntegerField(required=False, allow_null=True)
    address_line1 = _text("Street and house number, as printed on a letter.")
    address_line2 = _text("Flat, building, c/o: the line below the street, if any.")
    city = _text()
    region = _text()
    country = _text("ISO 3166 code, e.g. DE.")
    postal_code = _text()
    household_income_band = _choice(IncomeBand.choices)
    education_level = _choice(EducationLevel.choices)
    customer_since = serializers.DateField(required=False, allow_null=True)
    orders_count = serializers.IntegerField(required=False, allow_null=True)
    total_spent = serializers.DecimalField(
        max_digits=12,
        decimal_places=2,
        required=False,
        allow_null=True,
        help_text="In the workspace's currency.",
    )
    last_purchase_at = serializers.DateTimeField(required=False, allow_null=True)
    language = _text("e.g. de, en, pt-BR.")
    timezone = _text("e.g. Europe/Berlin.")
    email_consent = _choice(Consent.choices, "An address on the suppression list cannot be opted in.")
    sms_consent = _choice(Consent.choices, "A number on the suppression list cannot be opted in.")
    tags = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        allow_null=True,
        help_text="Tag names; they replace the contact's tags. Unknown names are created.",
    )
    custom = serializers.DictField(
        required=False,
        allow_null=True,
        help_text="Custom field values by key; `null` removes a value, keys left out stay (PATCH).",
    )

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        if not isinstance(data, Mapping):
            raise serializers.ValidationError(
                {api_settings.NON_FIELD_ERRORS_KEY: ["Send the contact as a JSON object."]}
            )
        return {str(name): value for name, value in data.items() if name not in READ_ONLY_FIELDS}


@extend_schema_field(ContactWriteSerializer)
class RawContactField(serializers.Field):
    """One contact of a bulk call, handed to the service as sent: it reports a bad row in that row's
    result instead of failing the whole call."""

    def to_internal_value(self, data: Any) -> Any:
        return data

    def to_representation(self, value: Any) -> Any:
        return value


class ContactBulkSerializer(serializers.Serializer):
    contacts = serializers.ListField(
        child=RawContactField(),
        max_length=services.MAX_BULK_UPSERT,
        help_text=f"Up to {services.MAX_BULK_UPSERT:,} contacts, matched by email, else by phone.",
    )


# Documentation only (the view builds the answer directly); inline because `errors` is a field here
# and a property of every serializer.
BulkResultSerializer = inline_serializer(
    "ContactBulkResult",
    fields={
        "created": serializers.IntegerField(),
        "updated": serializers.IntegerField(),
        "unchanged": serializers.IntegerField(),
        "errors": serializers.IntegerField(help_text="Rows not stored; see their `errors`."),
        "results": inline_serializer(
            "ContactBulkRow",
            many=True,
            fields={
                "index": serializers.IntegerField(help_text="Position in the request's `contacts`."),
                "status": serializers.ChoiceField(choices=["created", "updated", "unchanged", "error"]),
                "id": serializers.IntegerField(allow_null=True),
                "errors": serializers.DictField(
                    child=serializers.CharField(), help_text="Field name -> message."
                ),
            },
        ),
    },
)


class TagSerializer(serializers.ModelSerializer[Tag]):
    contact_count = serializers.SerializerMethodField()

    class Meta:
        model = Tag
        fields = ("id", "name", "colour", "description", "contact_count", "created_at", "updated_at")
        read_only_fields = ("id", "contact_count", "created_at", "updated_at")

    def get_contact_count(self, tag: Tag) -> int:
        return getattr(tag, "contact_count", 0)  # a tag just created has no contacts yet


class TagTargetSerializer(serializers.Serializer):
    contact_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        required=False,
        max_length=services.MAX_BULK_UPSERT,
        help_text="Contacts by id; ids of other workspaces are ignored.",
    )
    filters = serializers.DictField(
        required=False,
        help_text=(
            "The contact list's filters (`q`, `tag`, `email`, `phone`, `updated_since`, any filterable "
            "field, `custom.<key>`); `{}` means every contact."
        ),
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("contact_ids" in attrs) == ("filters" in attrs):
            raise serializers.ValidationError("Send either `contact_ids` or `filters`.")
        return attrs


class TagAppliedSerializer(serializers.Serializer):
    added = serializers.IntegerField(help_text="Contacts that did not have the tag before.")


class TagRemovedSerializer(serializers.Serializer):
    removed = serializers.IntegerField(help_text="Contacts that had the tag.")


class CustomFieldSerializer(serializers.ModelSerializer[CustomField]):
    type = serializers.ChoiceField(choices=CustomFieldType.choices, source="field_type")
    choices = serializers.ListField(
        child=serializers.CharField(), required=False, help_text="For the choice type only."
    )

    class Meta:
        model = CustomField
        fields = ("id", "key", "label", "type", "choices", "created_at", "updated_at")
        read_only_fields = ("id", "created_at", "updated_at")
        extra_kwargs = {"key": {"help_text": "Where contacts store the value; cannot change later."}}
