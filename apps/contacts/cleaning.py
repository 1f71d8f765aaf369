"""The one place for the rules of a contact's fields: normalising and validating raw values.

The API, the browser forms, the admin's import-export and the CSV import all clean values through
`clean_contact_values`, so a rule changes in one place. Pure functions: no database access except
what the caller passes in (`ContactRules`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

import phonenumbers
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import models
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from apps.contacts.choices import Consent, CustomFieldType, EducationLevel, Gender, IncomeBand, MaritalStatus
from apps.workspaces.models import validate_time_zone

# A contact's fields in the groups every surface shows them in (form, page, export, API order).
IDENTITY_FIELDS: tuple[str, ...] = ("email", "phone", "first_name", "last_name")
PERSONA_FIELDS: tuple[str, ...] = (
    "birth_date",
    "age",
    "gender",
    "marital_status",
    "children_in_household",
    "address_line1",
    "address_line2",
    "city",
    "region",
    "country",
    "postal_code",
    "household_income_band",
    "education_level",
)
PURCHASE_FIELDS: tuple[str, ...] = ("customer_since", "orders_count", "total_spent", "last_purchase_at")
PREFERENCE_FIELDS: tuple[str, ...] = ("language", "timezone", "email_consent", "sms_consent")
# The public names of a contact's fields, in the API, the CLI, exports and segment rules.
FIELD_NAMES: tuple[str, ...] = (
    *IDENTITY_FIELDS,
    *PERSONA_FIELDS,
    *PURCHASE_FIELDS,
    *PREFERENCE_FIELDS,
    "tags",
    "custom",
)

EMPTY = (None, "")


class FieldError(ValueError):
    """A value that cannot be stored; the message says why, in words a marketer understands."""


@dataclass(frozen=True)
class CustomFieldSpec:
    key: str
    label: str
    field_type: str
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class ContactRules:
    """Per-workspace context for cleaning: the phone region and the custom fields."""

    phone_region: str = "DE"
    custom_fields: Mapping[str, CustomFieldSpec] = field(default_factory=dict)


@dataclass
class CleanResult:
    values: dict[str, Any]
    errors: dict[str, str]


# A strict subset of what Django's EmailValidator accepts: ASCII dot-atoms at a domain of letter,
# digit and inner-hyphen labels with a letters-only top level. Nearly every address is one, and
# checking it first spares the validator's lazy regexes, which were most of an import's cleaning.
_PLAIN_EMAIL = re.compile(
    r"[A-Za-z0-9_+-]+(?:\.[A-Za-z0-9_+-]+)*@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}"
)


def normalise_email(value: str) -> str:
    email = value.strip()
    if len(email) > 254:
        raise FieldError("An email address has at most 254 characters.")
    if not _PLAIN_EMAIL.fullmatch(email):
        try:
            validate_email(email)
        except ValidationError as error:
            raise FieldError(f"“{email}” is not a valid email address.") from error
    return email.lower()


def normalise_phone(value: str, *, region: str) -> str:
    """E.164 form of a phone number written in any common way; national numbers use `region`."""
    text = value.strip()
    if len(text) > 40:
        raise FieldError("A phone number has at most 40 characters.")
    try:
        number = phonenumbers.parse(text, region.upper() or None)
    except phonenumbers.NumberParseException as error:
        raise FieldError(f"“{text}” is not a phone number.") from error
    if not phonenumbers.is_valid_number(number):
        raise FieldError(f"“{text}” is not a valid phone number (national numbers are read as {region}).")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def address_hash(channel: str, address: str) -> str:
    """How suppressed addresses are stored: a hash of the normalised address, never the address."""
    return hashlib.sha256(f"{channel}:{address}".encode()).hexdigest()


def _text(max_length: int) -> Callable[[Any], str]:
    def clean(value: Any) -> str:
        text = str(value).strip()
        if "\x00" in text:  # PostgreSQL refuses it in text: a field error, not a failed write
            raise FieldError("Text cannot hold NUL characters.")
        if len(text) > max_length:
            raise FieldError(f"Use at most {max_length} characters (this has {len(text)}).")
        return text

    return clean


# Words people write in German, French and Spanish lists for the persona choices (lower case).
CHOICE_SYNONYMS: dict[str, str] = {
    # gender
    "f": "female", "w": "female", "weiblich": "female", "frau": "female", "femme": "female", "féminin": "female",
    "mujer": "female", "femenino": "female", "m": "male", "männlich": "male", "mann": "male", "homme": "male",
    "masculin": "male", "hombre": "male", "masculino": "male", "divers": "non_binary", "d": "non_binary",
    "non-binary": "non_binary", "nonbinary": "non_binary", "non binaire": "non_binary", "no binario": "non_binary",
    # marital status
    "ledig": "single", "célibataire": "single", "soltero": "single", "soltera": "single", "verheiratet": "married",
    "marié": "married", "mariée": "married", "casado": "married", "casada": "married", "geschieden": "divorced",
    "divorcé": "divorced", "divorcée": "divorced", "divorciado": "divorced", "divorciada": "divorced",
    "verwitwet": "widowed", "veuf": "widowed", "veuve": "widowed", "viudo": "widowed", "viuda": "widowed",
    "partnerschaft": "partnered", "in partnerschaft": "partnered", "pacsé": "partnered", "pareja": "partnered",
}  # fmt: skip


def _choice(choices: type[models.TextChoices]) -> Callable[[Any], str]:
    lookup = {str(value): str(value) for value in choices.values}
    lookup |= {str(label).lower(): str(value) for value, label in choices.choices}
    lookup |= {word: value for word, value in CHOICE_SYNONYMS.items() if value in choices.values}

    def clean(value: Any) -> str:
        text = str(value).strip()
        found = lookup.get(text) or lookup.get(text.lower())
        if found is None:
            raise FieldError(f"“{text}” is not one of: {', '.join(choices.values)}.")
        return found

    return clean


def _integer(minimum: int, maximum: int) -> Callable[[Any], int]:
    def clean(value: Any) -> int:
        if isinstance(value, bool):
            raise FieldError("Use a whole number.")
        try:
            number = int(str(value).strip()) if not isinstance(value, int) else value
        except ValueError as error:
            raise FieldError(f"“{value}” is not a whole number.") from error
        if not minimum <= number <= maximum:
            raise FieldError(f"Use a number from {minimum} to {maximum}.")
        return number

    return clean


def _money(value: Any) -> Decimal:
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation as error:
        raise FieldError(f"“{value}” is not an amount (use a dot for decimals, e.g. 129.90).") from error
    if not amount.is_finite() or amount < 0 or amount >= Decimal("10000000000"):
        raise FieldError("Use an amount from 0 to 9,999,999,999.99.")
    return amount.quantize(Decimal("0.01"))


def _date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    try:
        parsed = parse_date(text)
    except ValueError:
        parsed = None
    if parsed is None:
        raise FieldError(f"“{text}” is not a date: use YYYY-MM-DD.")
    return parsed


def _past_date(value: Any) -> dt.date:
    date = _date(value)
    if date > timezone.now().date():
        raise FieldError("This date lies in the future.")
    if date.year < 1900:
        raise FieldError("Use a date after 1900.")
    return date


def _datetime(value: Any) -> dt.datetime:
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, dt.date):
        moment = dt.datetime.combine(value, dt.time(12))
    else:
        text = str(value).strip()
        try:
            parsed = parse_datetime(text)
        except ValueError:
            parsed = None
        if parsed is None:
            as_date = parse_date(text) if len(text) == 10 else None
            if as_date is None:
                raise FieldError(f"“{text}” is not a date and time: use ISO 8601, e.g. 2026-03-01T14:30:00Z.")
            parsed = dt.datetime.combine(as_date, dt.time(12))
        moment = parsed
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, dt.UTC)
    return moment


def _country(value: Any) -> str:
    code = str(value).strip().upper()
    if len(code) != 2 or not code.isalpha():
        raise FieldError(f"“{value}” is not a two-letter country code such as DE or US.")
    return code


def _language(value: Any) -> str:
    code = str(value).strip().replace("_", "-")
    parts = code.split("-")
    if not (2 <= len(parts[0]) <= 3 and parts[0].isalpha()) or len(code) > 10:
        raise FieldError(f"“{value}” is not a language code such as de, en or pt-BR.")
    return "-".join([parts[0].lower(), *parts[1:]])


def _time_zone(value: Any) -> str:
    name = str(value).strip()
    try:
        validate_time_zone(name)
    except ValidationError as error:
        raise FieldError(f"“{name}” is not a time zone such as Europe/Berlin.") from error
    return name


PARSERS: dict[str, Callable[[Any], Any]] = {
    "first_name": _text(150),
    "last_name": _text(150),
    "birth_date": _past_date,
    "age": _integer(0, 130),
    "gender": _choice(Gender),
    "marital_status": _choice(MaritalStatus),
    "children_in_household": _integer(0, 20),
    "address_line1": _text(200),
    "address_line2": _text(200),
    "city": _text(120),
    "region": _text(120),
    "country": _country,
    "postal_code": _text(20),
    "household_income_band": _choice(IncomeBand),
    "education_level": _choice(EducationLevel),
    "customer_since": _past_date,
    "orders_count": _integer(0, 2_147_483_647),
    "total_spent": _money,
    "last_purchase_at": _datetime,
    "language": _language,
    "timezone": _time_zone,
    "email_consent": _choice(Consent),
    "sms_consent": _choice(Consent),
}
# What an empty value stores for each field (None for nullable ones).
EMPTY_VALUES: dict[str, Any] = {
    "birth_date": None,
    "age": None,
    "children_in_household": None,
    "customer_since": None,
    "last_purchase_at": None,
    "orders_count": 0,
    "total_spent": Decimal("0.00"),
    "email_consent": Consent.UNKNOWN,
    "sms_consent": Consent.UNKNOWN,
}

_TRUE = {"true", "yes", "y", "1", "ja", "j", "wahr", "oui", "vrai", "si", "sí", "verdadero", "x"}
_FALSE = {"false", "no", "n", "0", "nein", "falsch", "non", "faux", "falso"}


def clean_custom_value(spec: CustomFieldSpec, value: Any) -> Any:
    """A custom field's value as JSON: text, number, ISO date, boolean or one of the choices."""
    if spec.field_type == CustomFieldType.TEXT:
        return _text(1000)(value)
    if spec.field_type == CustomFieldType.NUMBER:
        if isinstance(value, bool):
            raise FieldError("Use a number.")
        try:
            number = float(str(value).strip())
        except ValueError as error:
            raise FieldError(f"“{value}” is not a number.") from error
        if number != number or number in (float("inf"), float("-inf")):
            raise FieldError("Use a finite number.")
        return int(number) if number.is_integer() and abs(number) < 2**53 else number
    if spec.field_type == CustomFieldType.DATE:
        return _date(value).isoformat()
    if spec.field_type == CustomFieldType.BOOLEAN:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise FieldError(f"“{value}” is not yes or no.")
    text = str(value).strip()
    if text not in spec.choices:
        raise FieldError(f"“{text}” is not one of: {', '.join(spec.choices)}.")
    return text


def clean_custom(values: Any, *, rules: ContactRules) -> tuple[dict[str, Any], dict[str, str]]:
    if not isinstance(values, Mapping):
        return {}, {"custom": 'Send custom fields as an object, e.g. {"shoe_size": 42}.'}
    cleaned: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for key, value in values.items():
        spec = rules.custom_fields.get(str(key))
        if spec is None:
            errors[f"custom.{key}"] = f"There is no custom field “{key}”: create it first."
        elif value in EMPTY:
            cleaned[spec.key] = None
        else:
            try:
                cleaned[spec.key] = clean_custom_value(spec, value)
            except FieldError as error:
                errors[f"custom.{key}"] = str(error)
    return cleaned, errors


def clean_tag_names(value: Any) -> list[str]:
    names = value.split(",") if isinstance(value, str) else value
    if not isinstance(names, list | tuple):
        raise FieldError("Send tags as a list of names.")
    cleaned: dict[str, str] = {}
    for name in names:
        text = str(name).strip()
        if not text:
            continue
        if len(text) > 80:
            raise FieldError(f"The tag “{text[:20]}…” is longer than 80 characters.")
        cleaned.setdefault(text.lower(), text)
    return list(cleaned.values())


def clean_contact_values(values: Mapping[str, Any], *, rules: ContactRules) -> CleanResult:
    """Clean every given field; unknown names and bad values are reported per field, never raised.

    An empty value ("" or None) means "no value" and cleans to the field's empty value; whether it
    may overwrite a stored value is the caller's rule (imports never erase, the API may).
    """
    cleaned: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name, raw in values.items():
        try:
            if name == "email":
                cleaned["email"] = "" if raw in EMPTY else str(raw).strip()
                cleaned["email_normalized"] = "" if raw in EMPTY else normalise_email(str(raw))
            elif name == "phone":
                cleaned["phone"] = "" if raw in EMPTY else str(raw).strip()
                cleaned["phone_e164"] = (
                    "" if raw in EMPTY else normalise_phone(str(raw), region=rules.phone_region)
                )
            elif name == "tags":
                cleaned["tags"] = [] if raw in EMPTY else clean_tag_names(raw)
            elif name == "custom":
                custom, custom_errors = clean_custom({} if raw in EMPTY else raw, rules=rules)
                cleaned["custom"] = custom
                errors |= custom_errors
            elif name in PARSERS:
                cleaned[name] = EMPTY_VALUES.get(name, "") if raw in EMPTY else PARSERS[name](raw)
            else:
                errors[name] = f"“{name}” is not a contact field."
        except FieldError as error:
            errors[name] = str(error)
    if cleaned.get("birth_date"):
        cleaned["age"] = age_on(cleaned["birth_date"], timezone.now().date())
    return CleanResult(values=cleaned, errors=errors)


def age_on(birth_date: dt.date, today: dt.date) -> int:
    return today.year - birth_date.year - ((today.month, today.day) < (birth_date.month, birth_date.day))
