"""Forms of the contact pages. They check the shape of the input only; the rules of a contact's fields
live in `cleaning.py` and reach the form through the services' ValidationError (`add_service_errors`).
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterator, Sequence
from typing import Any

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.utils import timezone
from django.utils.dateparse import parse_datetime
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
from apps.contacts.cleaning import IDENTITY_FIELDS, PERSONA_FIELDS, PREFERENCE_FIELDS, PURCHASE_FIELDS
from apps.contacts.models import Contact, CustomField
from apps.contacts.selectors import FILTERABLE_FIELDS

CUSTOM_PREFIX = "custom__"
YES_NO = [("", "—"), ("true", _("Yes")), ("false", _("No"))]


def _blank(choices: Any) -> list[tuple[str, Any]]:
    return [("", "—"), *choices]


def _text(label: StrOrPromise, **attrs: Any) -> forms.CharField:
    return forms.CharField(label=label, required=False, widget=forms.TextInput(attrs=attrs))


def _select(label: StrOrPromise, choices: Any) -> forms.CharField:
    # A CharField with a select: which values are allowed is the cleaning rules' decision.
    return forms.CharField(label=label, required=False, widget=forms.Select(choices=choices))


def _date(label: StrOrPromise) -> forms.CharField:
    return forms.CharField(label=label, required=False, widget=forms.DateInput(attrs={"type": "date"}))


def _number(label: StrOrPromise, **attrs: Any) -> forms.CharField:
    return forms.CharField(label=label, required=False, widget=forms.NumberInput(attrs=attrs))


def _time_zones() -> list[tuple[str, str]]:
    return _blank((zone, zone) for zone in sorted(zoneinfo.available_timezones() - {"localtime", "Factory"}))


# --- The contact form ----------------------------------------------------------------------------------

GROUPS: tuple[tuple[StrOrPromise, tuple[str, ...]], ...] = (
    (_("Identity"), IDENTITY_FIELDS),
    (
        _("Persona attributes"),
        PERSONA_FIELDS,
    ),
    (_("Purchases"), PURCHASE_FIELDS),
    (
        _("Preferences & consent"),
        (*PREFERENCE_FIELDS, "consent_source"),
    ),
)
CONSENT_FIELDS = ("email_consent", "sms_consent")


class ContactForm(forms.Form):
    """Every editable attribute of a contact, custom fields included, as raw text for the services."""

    email = forms.CharField(
        label=_("Email"), required=False, widget=forms.EmailInput(attrs={"autocomplete": "off"})
    )
    phone = forms.CharField(
        label=_("Phone"),
        required=False,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}),
        help_text=_("Numbers without a country code are read as this workspace's country."),
    )
    first_name = _text(_("First name"), autocomplete="off")
    last_name = _text(_("Last name"), autocomplete="off")
    birth_date = _date(_("Birth date"))
    age = _number(_("Age"), min=0, max=130)
    gender = _select(_("Gender"), _blank(Gender.choices))
    marital_status = _select(_("Marital status"), _blank(MaritalStatus.choices))
    children_in_household = _number(_("Children in household"), min=0, max=20)
    address_line1 = _text(_("Street address"), autocomplete="off")
    address_line2 = _text(_("Address line 2"), autocomplete="off")
    city = _text(_("City"))
    region = _text(_("Region"))
    country = _text(_("Country"), placeholder="DE", maxlength=2, size=2)
    postal_code = _text(_("Postal code"))
    household_income_band = _select(_("Household income"), _blank(IncomeBand.choices))
    education_level = _select(_("Education"), _blank(EducationLevel.choices))
    customer_since = _date(_("Customer since"))
    orders_count = _number(_("Orders"), min=0)
    total_spent = _number(_("Total spent"), min=0, step="0.01")
    last_purchase_at = forms.CharField(
        label=_("Last purchase"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    language = _text(_("Preferred language"), placeholder="de, en, pt-BR")
    timezone = forms.CharField(label=_("Time zone"), required=False, widget=forms.Select(choices=()))
    email_consent = forms.CharField(
        label=_("Email consent"),
        required=False,
        initial=Consent.UNKNOWN,
        widget=forms.Select(choices=Consent.choices),
    )
    sms_consent = forms.CharField(
        label=_("SMS consent"),
        required=False,
        initial=Consent.UNKNOWN,
        widget=forms.Select(choices=Consent.choices),
    )
    consent_source = forms.CharField(
        label=_("Source of the consent change"),
        required=False,
        max_length=120,
        help_text=_(
            "Needed when consent changes: where and how the person said so, e.g. “Spring fair sign-up”."
        ),
    )

    def __init__(
        self,
        *args: Any,
        custom_fields: Sequence[CustomField],
        time_zone: str,
        currency: str,
        contact: Contact | None = None,
        **kwargs: Any,
    ) -> None:
        self.zone = zoneinfo.ZoneInfo(time_zone)
        self.custom_fields = list(custom_fields)
        if contact is not None:
            kwargs.setdefault("initial", self._initial(contact))
        super().__init__(*args, **kwargs)
        self.is_new = contact is None
        self.fields["timezone"].widget.choices = _time_zones()
        self.fields["total_spent"].help_text = _("In %(currency)s.") % {"currency": currency}
        self.fields["last_purchase_at"].help_text = _("In %(zone)s time.") % {"zone": time_zone}
        self.fields["age"].help_text = _("Follows the birth date when there is one.")
        for custom in self.custom_fields:
            self.fields[f"{CUSTOM_PREFIX}{custom.key}"] = _custom_form_field(custom)
        if self.is_new:
            self.fields["tags"] = forms.CharField(
                label=_("Tags"),
                required=False,
                help_text=_("Separate tags with commas; new ones are created."),
                widget=forms.TextInput(attrs={"list": "tag-names", "autocomplete": "off"}),
            )

    def _initial(self, contact: Contact) -> dict[str, Any]:
        initial: dict[str, Any] = {}
        for _title, names in GROUPS:
            for name in names:
                if name == "consent_source":
                    continue
                value = getattr(contact, name)
                if isinstance(value, dt.datetime):
                    value = timezone.localtime(value, self.zone).strftime("%Y-%m-%dT%H:%M")
                elif isinstance(value, dt.date):
                    value = value.isoformat()
                initial[name] = "" if value is None else str(value)
        for key, value in (contact.custom or {}).items():
            if isinstance(value, bool):
                value = "true" if value else "false"
            initial[f"{CUSTOM_PREFIX}{key}"] = "" if value is None else str(value)
        return initial

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self._consent_changed(cleaned) and not cleaned.get("consent_source", "").strip():
            self.add_error(
                "consent_source",
                _("Say where this consent comes from, e.g. “Signed up at the spring fair”."),
            )
        return cleaned

    def _consent_changed(self, cleaned: dict[str, Any]) -> bool:
        for name in CONSENT_FIELDS:
            before = self.get_initial_for_field(self.fields[name], name) or Consent.UNKNOWN
            if cleaned.get(name) and cleaned[name] != before:
                return True
        return False

    def only_consent_source_missing(self) -> bool:
        return set(self.errors) == {"consent_source"}

    def groups(self) -> Iterator[tuple[StrOrPromise, list[forms.BoundField]]]:
        for title, names in GROUPS:
            yield title, [self[name] for name in names]
        if self.custom_fields:
            yield _("Custom fields"), [self[f"{CUSTOM_PREFIX}{custom.key}"] for custom in self.custom_fields]
        if self.is_new:
            yield _("Tags"), [self["tags"]]

    def values(self) -> dict[str, Any]:
        """The raw values in the services' (API) names."""
        data = self.cleaned_data
        values: dict[str, Any] = {
            name: data[name] for _title, names in GROUPS for name in names if name != "consent_source"
        }
        for name in CONSENT_FIELDS:
            if not values[name]:
                del values[name]  # not sent: consent stays as recorded (never reset to "unknown")
        moment = parse_datetime(values["last_purchase_at"]) if values["last_purchase_at"] else None
        if moment is not None and timezone.is_naive(moment):
            values["last_purchase_at"] = timezone.make_aware(moment, self.zone)  # typed in local time
        values["custom"] = {
            custom.key: data[f"{CUSTOM_PREFIX}{custom.key}"] or None for custom in self.custom_fields
        }
        if self.is_new:
            values["tags"] = data["tags"]
        return values

    def source_of_consent(self) -> str:
        return str(self.cleaned_data.get("consent_source", "")).strip()

    def add_service_errors(self, error: ValidationError) -> None:
        """Put each message of a service's ValidationError next to the field it names."""
        if not hasattr(error, "error_dict"):
            self.add_error(None, error)
            return
        for name, messages in error.message_dict.items():
            field_name = name.replace("custom.", CUSTOM_PREFIX, 1) if name.startswith("custom.") else name
            if field_name == "tags" and "tags" not in self.fields:
                field_name = NON_FIELD_ERRORS
            target = field_name if field_name in self.fields else None
            for message in messages:
                self.add_error(target, message if target else f"{name}: {message}")


def _custom_form_field(custom: CustomField) -> forms.Field:
    label = custom.label
    if custom.field_type == CustomFieldType.BOOLEAN:
        return _select(label, YES_NO)
    if custom.field_type == CustomFieldType.CHOICE:
        return _select(label, _blank((choice, choice) for choice in custom.choices or ()))
    if custom.field_type == CustomFieldType.DATE:
        return _date(label)
    if custom.field_type == CustomFieldType.NUMBER:
        return _number(label, step="any")
    return _text(label)


# --- The list: filters, columns and bulk actions -------------------------------------------------------

CHOICE_FILTERS: dict[str, Any] = {
    "gender": Gender.choices,
    "marital_status": MaritalStatus.choices,
    "household_income_band": IncomeBand.choices,
    "education_level": EducationLevel.choices,
    "email_consent": Consent.choices,
    "sms_consent": Consent.choices,
    "source": ContactSource.choices,
}
NUMBER_FILTERS = ("age", "children_in_household", "orders_count")


class ContactFilterForm(forms.Form):
    """Renders the list's filters from the query string; `selectors.contact_filter_from_params` reads
    them (this form never validates)."""

    q = forms.CharField(
        label=_("Search contacts"),
        required=False,
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": _("Name, email or phone"), "autocomplete": "off"}
        ),
    )

    def __init__(
        self, *args: Any, tag_names: Sequence[str], custom_fields: Sequence[CustomField], **kwargs: Any
    ):
        super().__init__(*args, **kwargs)
        self.fields["tag"] = forms.MultipleChoiceField(
            label=_("Tags"),
            required=False,
            choices=[(name, name) for name in tag_names],
            widget=forms.CheckboxSelectMultiple,
        )
        for name in FILTERABLE_FIELDS:
            label = capfirst(str(getattr(Contact._meta.get_field(name), "verbose_name", name)))
            if name in CHOICE_FILTERS:
                self.fields[name] = _select(label, _blank(CHOICE_FILTERS[name]))
            elif name == "customer_since":
                self.fields[name] = _date(label)
            elif name in NUMBER_FILTERS:
                self.fields[name] = _number(label, min=0)
            else:
                self.fields[name] = _text(label)
        for custom in custom_fields:
            self.fields[f"custom.{custom.key}"] = _custom_form_field(custom)
            self.fields[f"custom.{custom.key}"].widget.attrs["id"] = f"id_filter_{custom.key}"

    def field_filters(self) -> list[forms.BoundField]:
        return [self[name] for name in self.fields if name not in {"q", "tag"}]

    def active_field_count(self) -> int:
        return sum(1 for field in self.field_filters() if self.data.get(field.html_name))


class ColumnsForm(forms.Form):
    columns = forms.MultipleChoiceField(
        label=_("Columns"), required=False, widget=forms.CheckboxSelectMultiple, choices=()
    )
    next = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, choices: Sequence[tuple[str, StrOrPromise]], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["columns"].choices = choices  # type: ignore[attr-defined]


class BulkAction:
    TAG = "tag"
    UNTAG = "untag"
    EXPORT_CSV = "export_csv"
    EXPORT_XLSX = "export_xlsx"
    ERASE = "erase"
    CHOICES = (
        (TAG, _("Add tag")),
        (UNTAG, _("Remove tag")),
        (EXPORT_CSV, _("Export CSV")),
        (EXPORT_XLSX, _("Export Excel")),
        (ERASE, _("Erase")),
    )


class IdListField(forms.Field):
    """The ids of the ticked rows (`ids=1&ids=2`)."""

    widget = forms.MultipleHiddenInput
    MAX = 1000

    def to_python(self, value: Any) -> list[int]:
        if not value:
            return []
        try:
            ids = [int(item) for item in value]
        except (TypeError, ValueError) as error:
            raise ValidationError(
                _("The selection is not valid: reload the page."), code="invalid"
            ) from error
        if len(ids) > self.MAX:
            raise ValidationError(
                _("Select at most %(max)s contacts, or apply the action to all that match the filter."),
                params={"max": self.MAX},
            )
        return ids


class BulkActionForm(forms.Form):
    SELECTED = "selected"
    ALL = "all"

    action = forms.ChoiceField(choices=BulkAction.CHOICES)
    scope = forms.ChoiceField(
        label=_("Apply to"),
        choices=((SELECTED, _("the ticked contacts")), (ALL, _("all contacts that match the filter"))),
        initial=SELECTED,
        widget=forms.RadioSelect,
    )
    ids = IdListField(required=False)
    tag = forms.CharField(label=_("Tag"), required=False, max_length=80)
    filter = forms.CharField(required=False, widget=forms.HiddenInput)
    confirmed = forms.BooleanField(required=False, widget=forms.HiddenInput)
    upto = forms.IntegerField(required=False, widget=forms.HiddenInput)  # newest contact confirmed

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        action = cleaned.get("action")
        if action in (BulkAction.TAG, BulkAction.UNTAG) and not cleaned.get("tag", "").strip():
            self.add_error("tag", _("Choose the tag to add or remove."))
        if cleaned.get("scope") == self.SELECTED and not cleaned.get("ids") and "ids" not in self.errors:
            self.add_error("ids", _("Tick at least one contact, or choose “all contacts that match”."))
        return cleaned


class ContactTagForm(forms.Form):
    name = forms.CharField(
        label=_("Add a tag"),
        max_length=80,
        widget=forms.TextInput(attrs={"list": "tag-names", "autocomplete": "off"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "id_tag_%s")
        super().__init__(*args, **kwargs)


class TagForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=80)
    colour = forms.CharField(
        label=_("Colour"), max_length=7, initial="#1f6f5c", widget=forms.TextInput(attrs={"type": "color"})
    )
    description = forms.CharField(label=_("Description"), max_length=255, required=False)


class CustomFieldForm(forms.Form):
    label = forms.CharField(
        label=_("Label"), max_length=80, help_text=_("What people see, e.g. “Shoe size”.")
    )
    key = forms.CharField(
        label=_("Key"),
        max_length=50,
        help_text=_("Used in the API, imports and exports, e.g. shoe_size. Cannot change later."),
    )
    field_type = forms.ChoiceField(label=_("Type"), choices=CustomFieldType.choices)
    choices = forms.CharField(
        label=_("Choices"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("For the choice type: one choice per line."),
    )

    def choice_list(self) -> list[str]:
        return [line.strip() for line in self.cleaned_data.get("choices", "").splitlines() if line.strip()]
