"""What a segment condition can name: every contact field, with its type, how an empty value is
stored, and the operators its type takes. Custom fields join as `custom.<key>`, typed by their
definition. The builder, the validator, the compiler and the API documentation all read this table."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from django.db import models
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

from apps.contacts.choices import (
    Consent,
    ContactSource,
    CustomFieldType,
    EducationLevel,
    Gender,
    IncomeBand,
    MaritalStatus,
)
from apps.contacts.models import Contact, CustomField

CUSTOM_PREFIX = "custom."


class FieldType(StrEnum):
    TEXT = "text"
    CHOICE = "choice"
    NUMBER = "number"
    DATE = "date"
    DATETIME = "datetime"
    BOOLEAN = "boolean"


class Empty(StrEnum):
    """How a field stores "no value": NULL, an empty string, or never (it always has one)."""

    NULL = "null"
    BLANK = "blank"
    NEVER = "never"


# Operators by the kind of value they take.
OPS_ANY_TYPE = ("eq", "neq", "in", "not_in", "is_empty", "is_not_empty")
OPS_TEXT = ("contains", "icontains", "startswith")
OPS_ORDERED = ("gt", "gte", "lt", "lte", "between")
OPS_DATE = ("before", "after", "within_last_days", "more_than_days_ago")
OPS_BY_TYPE: dict[FieldType, tuple[str, ...]] = {
    FieldType.TEXT: (*OPS_ANY_TYPE, *OPS_TEXT),
    FieldType.CHOICE: OPS_ANY_TYPE,
    FieldType.NUMBER: (*OPS_ANY_TYPE, *OPS_ORDERED),
    FieldType.DATE: (*OPS_ANY_TYPE, *OPS_ORDERED, *OPS_DATE),
    FieldType.DATETIME: (*OPS_ANY_TYPE, *OPS_ORDERED, *OPS_DATE),
    FieldType.BOOLEAN: OPS_ANY_TYPE,
}
ALL_OPS: tuple[str, ...] = (*OPS_ANY_TYPE, *OPS_TEXT, *OPS_ORDERED, *OPS_DATE)
# neq, not_in and is_not_empty are the complements of eq, in and is_empty: a contact without a
# value matches them. Every other operator never matches an empty value.
COMPLEMENTS = {"neq": "eq", "not_in": "in", "is_not_empty": "is_empty"}
NO_VALUE_OPS = ("is_empty", "is_not_empty")
LIST_OPS = ("in", "not_in")
DAYS_OPS = ("within_last_days", "more_than_days_ago")

OP_LABELS: dict[str, StrOrPromise] = {
    "eq": _("is"),
    "neq": _("is not"),
    "in": _("is one of"),
    "not_in": _("is none of"),
    "is_empty": _("is empty"),
    "is_not_empty": _("is not empty"),
    "contains": _("contains"),
    "icontains": _("contains (any case)"),
    "startswith": _("starts with"),
    "gt": _("is more than"),
    "gte": _("is at least"),
    "lt": _("is less than"),
    "lte": _("is at most"),
    "between": _("is between"),
    "before": _("is before"),
    "after": _("is after"),
    "within_last_days": _("is within the last … days"),
    "more_than_days_ago": _("is more than … days ago"),
}
DATE_OP_LABELS: dict[str, StrOrPromise] = {
    "gt": _("is later than"),
    "gte": _("is on or after"),
    "lt": _("is earlier than"),
    "lte": _("is on or before"),
}


@dataclass(frozen=True)
class FieldSpec:
    name: str  # as rules write it: "city", "custom.shoe_size"
    label: StrOrPromise
    type: FieldType
    empty: Empty
    column: str = ""  # the Contact column for built-in fields
    custom_key: str = ""  # the key in Contact.custom for custom fields
    choices: tuple[tuple[str, StrOrPromise], ...] = ()
    integer: bool = False  # whole numbers only (the column is an integer)
    decimals: int | None = None  # at most this many decimals (money)
    case_insensitive: bool = False  # email: compared lower-cased

    @property
    def ops(self) -> tuple[str, ...]:
        return OPS_BY_TYPE[self.type]

    @property
    def choice_values(self) -> tuple[str, ...]:
        return tuple(value for value, _label in self.choices)


def _label(column: str) -> StrOrPromise:
    return capfirst(getattr(Contact._meta.get_field(column), "verbose_name", column))


def _text(name: str, column: str = "", **extra: object) -> FieldSpec:
    return FieldSpec(name, _label(column or name), FieldType.TEXT, Empty.BLANK, column or name, **extra)  # type: ignore[arg-type]


def _choice(name: str, choices: type[models.TextChoices], empty: Empty = Empty.BLANK) -> FieldSpec:
    return FieldSpec(name, _label(name), FieldType.CHOICE, empty, name, choices=tuple(choices.choices))


def _typed(name: str, type_: FieldType, empty: Empty, **extra: object) -> FieldSpec:
    return FieldSpec(name, _label(name), type_, empty, name, **extra)  # type: ignore[arg-type]


BUILT_IN: tuple[FieldSpec, ...] = (
    FieldSpec("email", _("Email"), FieldType.TEXT, Empty.BLANK, "email_normalized", case_insensitive=True),
    FieldSpec("phone", _("Phone (E.164, e.g. +4930…)"), FieldType.TEXT, Empty.BLANK, "phone_e164"),
    _text("first_name"),
    _text("last_name"),
    _typed("birth_date", FieldType.DATE, Empty.NULL),
    _typed("age", FieldType.NUMBER, Empty.NULL, integer=True),
    _choice("gender", Gender),
    _choice("marital_status", MaritalStatus),
    _typed("children_in_household", FieldType.NUMBER, Empty.NULL, integer=True),
    _text("address_line1"),
    _text("address_line2"),
    _text("city"),
    _text("region"),
    _text("country"),
    _text("postal_code"),
    _choice("household_income_band", IncomeBand),
    _choice("education_level", EducationLevel),
    _typed("customer_since", FieldType.DATE, Empty.NULL),
    _typed("orders_count", FieldType.NUMBER, Empty.NEVER, integer=True),
    _typed("total_spent", FieldType.NUMBER, Empty.NEVER, decimals=2),
    _typed("last_purchase_at", FieldType.DATETIME, Empty.NULL),
    _text("language"),
    _text("timezone"),
    _choice("email_consent", Consent, Empty.NEVER),
    _choice("sms_consent", Consent, Empty.NEVER),
    _choice("source", ContactSource, Empty.NEVER),
    FieldSpec("created_at", _("Added"), FieldType.DATETIME, Empty.NEVER, "created_at"),
    FieldSpec("updated_at", _("Last changed"), FieldType.DATETIME, Empty.NEVER, "updated_at"),
)
BUILT_IN_BY_NAME: dict[str, FieldSpec] = {spec.name: spec for spec in BUILT_IN}

_CUSTOM_TYPES = {
    CustomFieldType.TEXT: FieldType.TEXT,
    CustomFieldType.NUMBER: FieldType.NUMBER,
    CustomFieldType.DATE: FieldType.DATE,
    CustomFieldType.BOOLEAN: FieldType.BOOLEAN,
    CustomFieldType.CHOICE: FieldType.CHOICE,
}


def custom_spec(custom_field: CustomField) -> FieldSpec:
    """A custom field as a condition sees it: missing, null and "" all count as empty."""
    return FieldSpec(
        name=f"{CUSTOM_PREFIX}{custom_field.key}",
        label=custom_field.label,
        type=_CUSTOM_TYPES[CustomFieldType(custom_field.field_type)],
        empty=Empty.NULL,
        custom_key=custom_field.key,
        choices=tuple((str(choice), str(choice)) for choice in custom_field.choices or ()),
    )


def field_specs(custom_fields: Iterable[CustomField]) -> Mapping[str, FieldSpec]:
    return BUILT_IN_BY_NAME | {spec.name: spec for spec in map(custom_spec, custom_fields)}
