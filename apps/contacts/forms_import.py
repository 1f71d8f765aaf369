"""Forms of the import pages: the upload, the mapping (with new custom fields for skipped columns
and saving a preset) and applying a preset. They check the input's shape and build an
`ImportSettings`; what a file or a mapping may contain is the pipeline's decision, and its
ValidationError lands next to the field it names (`add_service_errors`)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

from apps.contacts.choices import CustomFieldType, ImportMode
from apps.contacts.importing.mapping import (
    NewField,
    check_mapping,
    check_new_fields,
    column_label,
    custom_key_for,
)
from apps.contacts.importing.presets import preset_settings
from apps.contacts.importing.setup import DATE_FIELDS, ImportSettings, contact_fields
from apps.contacts.models import Contact, CustomField, ImportJob, ImportPreset

ACCEPTED_FILES = ".csv,.txt,.tsv,.xlsx,text/csv,text/plain,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

MODE_HELP: dict[str, StrOrPromise] = {
    ImportMode.CREATE: _(
        "Adds the people who are not in Ensemble yet. Anyone already here (same email, else same phone) "
        "is skipped and stays as it is."
    ),
    ImportMode.UPSERT: _(
        "Adds new people and updates the ones already here with the file's values. Empty cells never "
        "erase what is stored. The usual choice."
    ),
    ImportMode.UPDATE: _(
        "Only updates people already in Ensemble, e.g. to add a city or a tag. Rows for anyone else are skipped."
    ),
}

ENCODINGS = [
    ("", _("Detect automatically")),
    ("utf-8", _("UTF-8 (most programs today)")),
    ("cp1252", _("Windows-1252 (Excel on Windows, Western Europe)")),
    ("iso-8859-1", _("ISO-8859-1 (Latin-1)")),
    ("iso-8859-15", _("ISO-8859-15 (Latin-9)")),
    ("utf-16", _("UTF-16 (“Unicode text” from Excel)")),
    ("mac_roman", _("Mac Roman (older Mac programs)")),
]
DELIMITERS = [
    ("", _("Detect automatically")),
    (",", _("Comma ,")),
    (";", _("Semicolon ;")),
    ("\t", _("Tab")),
    ("|", _("Vertical bar |")),
]
TAG_SEPARATORS = [(",", _("Comma ,")), (";", _("Semicolon ;")), ("|", _("Vertical bar |"))]
DATE_ORDERS = [
    ("", _("Choose…")),
    ("dmy", _("Day first (31/12/1990)")),
    ("mdy", _("Month first (12/31/1990)")),
]
CONSENT_TARGETS = ("email_consent", "sms_consent")
MAX_TAG_LENGTH = 80

# Labels that read better than the model's verbose names in a list of targets.
TARGET_LABELS: dict[str, StrOrPromise] = {
    "email": _("Email"),
    "phone": _("Phone"),
    "tags": _("Tags"),
    "total_spent": _("Total spent"),
    "email_consent": _("Email consent (opted in / out)"),
    "sms_consent": _("SMS consent (opted in / out)"),
}


def target_label(name: str, custom_labels: dict[str, str] | None = None) -> str:
    """How a mapping target is named on the page: a contact field, a custom field or a tag column."""
    if not name:
        return str(_("Don't import"))
    if name.startswith("custom."):
        key = name.removeprefix("custom.")
        return str((custom_labels or {}).get(key, key))
    if name in TARGET_LABELS:
        return str(TARGET_LABELS[name])
    try:
        return capfirst(str(getattr(Contact._meta.get_field(name), "verbose_name", name)))
    except Exception:  # noqa: BLE001 - a field this page does not know yet still gets a name
        return name


def target_choices(custom_fields: Sequence[CustomField]) -> list[tuple[Any, Any]]:
    """The select's options, grouped: skip, contact fields, consent, tags, custom fields."""
    fields = [name for name in contact_fields() if name not in (*CONSENT_TARGETS, "tags")]
    groups: list[tuple[Any, Any]] = [
        ("", target_label("")),
        (_("Contact fields"), [(name, target_label(name)) for name in fields]),
        (_("Consent"), [(name, target_label(name)) for name in CONSENT_TARGETS]),
        (_("Tags"), [("tags", _("Tags (one or more per cell)"))]),
    ]
    if custom_fields:
        groups.append(
            (_("Custom fields"), [(f"custom.{custom.key}", custom.label) for custom in custom_fields])
        )
    return groups


def _tag_names(text: str) -> list[str]:
    names: list[str] = []
    for name in (part.strip() for part in text.split(",")):
        if name and name.casefold() not in {seen.casefold() for seen in names}:
            names.append(name)
    return names


class TagsField(forms.CharField):
    """Tags typed as “newsletter, spring fair”: a list of distinct names."""

    def clean(self, value: Any) -> list[str]:
        names = _tag_names(super().clean(value) or "")
        too_long = [name for name in names if len(name) > MAX_TAG_LENGTH]
        if too_long:
            raise ValidationError(
                _("A tag has at most %(max)s characters: shorten “%(tag)s”."),
                params={"max": MAX_TAG_LENGTH, "tag": too_long[0][:40] + "…"},
            )
        return names


def _tags_field() -> TagsField:
    return TagsField(
        label=_("Tags to add to every contact"),
        required=False,
        widget=forms.TextInput(
            attrs={"list": "tag-names", "autocomplete": "off", "placeholder": "spring-fair"}
        ),
        help_text=_("Separate several with commas. Handy to find this list again in segments."),
    )


def _mode_field() -> forms.ChoiceField:
    return forms.ChoiceField(
        label=_("What should the import do?"),
        choices=ImportMode.choices,
        initial=ImportMode.UPSERT,
        widget=forms.RadioSelect,
    )


class ModeMixin:
    def mode_options(self) -> Iterator[tuple[Any, StrOrPromise]]:
        """Each mode's radio with what it does, for the template."""
        for radio in self["mode"]:  # type: ignore[index]
            yield radio, MODE_HELP.get(radio.data["value"], "")


class PresetSelect(forms.Select):
    """Each preset's mode and tags on its option, for import_upload.js to fill them in when the
    preset is chosen (what the form shows is what the import uses)."""

    def create_option(self, name: str, value: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
        option = super().create_option(name, value, *args, **kwargs)
        preset = getattr(value, "instance", None)
        if isinstance(preset, ImportPreset):
            option["attrs"].update({"data-mode": preset.mode, "data-tags": ", ".join(preset.tags)})
        return option


def _preset_field(presets: QuerySet[ImportPreset] | None, **kwargs: Any) -> forms.ModelChoiceField:
    return forms.ModelChoiceField(
        queryset=presets if presets is not None else ImportPreset.objects.none(),
        error_messages={
            "required": _("Choose a preset."),
            "invalid_choice": _("There is no such preset in this workspace."),
        },
        **kwargs,
    )


class ImportUploadForm(ModeMixin, forms.Form):
    file = forms.FileField(
        label=_("Contact list"),
        help_text=_("CSV, TXT or Excel (.xlsx). The first row names the columns."),
        widget=forms.FileInput(attrs={"accept": ACCEPTED_FILES}),
        allow_empty_file=True,  # the pipeline says "The file is empty.", as for the API and the CLI
        error_messages={"required": _("Choose the file to import.")},
    )
    mode = _mode_field()
    tags = _tags_field()
    encoding = forms.ChoiceField(
        label=_("Character encoding"),
        choices=ENCODINGS,
        required=False,
        help_text=_("Only for CSV and TXT. Change it when names show odd characters like “MÃ¼ller”."),
    )
    delimiter = forms.ChoiceField(
        label=_("Columns separated by"),
        choices=DELIMITERS,
        required=False,
        help_text=_("Only for CSV and TXT. Change it when the preview shows everything in one column."),
    )

    def __init__(self, *args: Any, presets: QuerySet[ImportPreset] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["preset"] = _preset_field(
            presets,
            required=False,
            label=_("Preset"),
            empty_label=_("None: suggest the columns from their names"),
            widget=PresetSelect(attrs={"data-preset-select": ""}),
            help_text=_(
                "Saved settings of an earlier import: its column mapping, separators and date order are "
                "used. Choosing one fills in the mode and tags below; what they say when you upload counts."
            ),
        )
        self.order_fields(["file", "preset"])

    def settings(self) -> ImportSettings:
        data = self.cleaned_data
        preset: ImportPreset | None = data.get("preset")
        return replace(
            preset_settings(preset) if preset else ImportSettings(),
            mode=data["mode"],
            tags=data["tags"],
            encoding=data["encoding"] or None,
            delimiter=data["delimiter"] or None,
        )

    def has_advanced(self) -> bool:
        """Keep "Advanced" open when something in it was chosen or is wrong."""
        return any(self[name].value() or self[name].errors for name in ("encoding", "delimiter"))


class ImportMappingForm(ModeMixin, forms.Form):
    """One select per column of the file, and the choices that depend on what the columns hold."""

    mode = _mode_field()
    tags = _tags_field()
    tag_separator = forms.ChoiceField(
        label=_("Several tags in one cell are separated by"), choices=TAG_SEPARATORS, required=False
    )
    date_order = forms.ChoiceField(label=_("How are the dates written?"), choices=DATE_ORDERS, required=False)
    consent_confirmed = forms.BooleanField(
        label=_("The people in this file agreed to receive marketing; record their opt-in"),
        required=False,
    )
    consent_source = forms.CharField(
        label=_("Where and how did they agree?"),
        max_length=120,
        required=False,
        help_text=_("Kept with each opt-in as proof, e.g. “Spring fair 2025 sign-up sheet”."),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    preset_name = forms.CharField(
        label=_("Preset name"),
        max_length=80,
        required=False,
        help_text=_("e.g. “Shop export”. Saves the mapping, mode, tags, separators and date order."),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    preset_replace = forms.BooleanField(label=_("Replace the preset of that name"), required=False)

    def __init__(
        self,
        data: Any = None,
        *,
        job: ImportJob,
        custom_fields: Sequence[CustomField],
        can_create_fields: bool = False,
        **kwargs: Any,
    ) -> None:
        initial = {
            "mode": job.mode,
            "tags": ", ".join(job.tags),
            "tag_separator": job.tag_separator,
            "date_order": job.date_order,
            "consent_confirmed": job.consent_confirmed,
            "consent_source": job.consent_source,
        }
        super().__init__(data, initial=initial, **kwargs)
        self.job = job
        self.custom_keys = [custom.key for custom in custom_fields]
        choices = target_choices(custom_fields)
        self.can_create_fields = can_create_fields
        self.new_fields: dict[int, NewField] = {}
        for index, header in enumerate(job.headers):
            self.fields[self.column_name(index)] = forms.ChoiceField(
                label=header or _("Column %(number)s") % {"number": index + 1},
                choices=choices,
                required=False,
                initial=job.mapping[index] if index < len(job.mapping) else "",
            )
            if can_create_fields:
                self.fields.update(_new_field_fields(index, column_label(header, index)))

    @staticmethod
    def column_name(index: int) -> str:
        return f"column_{index}"

    def columns(self) -> list[forms.BoundField]:
        return [self[self.column_name(index)] for index in range(len(self.job.headers))]

    def new_field_parts(self, index: int) -> dict[str, forms.BoundField] | None:
        """The "Create custom field" inputs of a column, for admins (who manage custom fields)."""
        if not self.can_create_fields:
            return None
        return {part: self[f"new_{index}{suffix}"] for part, suffix in NEW_FIELD_PARTS.items()}

    def _new_fields(self, cleaned: dict[str, Any]) -> dict[int, NewField]:
        found: dict[int, NewField] = {}
        for index in range(len(self.job.headers)):
            if not cleaned.get(f"new_{index}"):
                continue
            label = (cleaned.get(f"new_{index}_label") or "").strip()
            choices = [part.strip() for part in (cleaned.get(f"new_{index}_choices") or "").split(",")]
            found[index] = NewField(
                label=label,
                key=(cleaned.get(f"new_{index}_key") or "").strip() or custom_key_for(label),
                field_type=cleaned.get(f"new_{index}_type") or CustomFieldType.TEXT,
                choices=tuple(choice for choice in choices if choice),
            )
        return found

    def current_mapping(self) -> list[str]:
        """The targets as submitted (or as saved): decides which questions the page asks."""
        return [str(field.value() or "") for field in self.columns()]

    def asks_tag_separator(self) -> bool:
        return "tags" in self.current_mapping()

    def asks_consent(self) -> bool:
        return any(target in CONSENT_TARGETS for target in self.current_mapping())

    def maps_dates(self) -> bool:
        return any(target in DATE_FIELDS for target in self.current_mapping())

    def clean(self) -> dict[str, Any]:
        """Put the mapping's problems next to the column they concern (the pipeline's own check)."""
        cleaned = super().clean() or {}
        if any(self.column_name(index) in self.errors for index in range(len(self.job.headers))):
            return cleaned
        mapping = [cleaned.get(self.column_name(index)) or "" for index in range(len(self.job.headers))]
        fields = {
            column_label(header, index): self.column_name(index)
            for index, header in enumerate(self.job.headers)
        }
        self.new_fields = self._new_fields(cleaned)
        problems = check_new_fields(self.new_fields, self.job.headers, custom_keys=self.custom_keys)
        if not problems:
            for index, new in self.new_fields.items():
                mapping[index] = f"custom.{new.key}"
            keys = [*self.custom_keys, *(new.key for new in self.new_fields.values())]
            problems = check_mapping(mapping, self.job.headers, custom_keys=keys)
        for column, message in problems.items():
            self.add_error(fields.get(column), message)
        return cleaned

    def settings(self) -> ImportSettings:
        data = self.cleaned_data
        mapping = [
            "" if index in self.new_fields else data[self.column_name(index)] or ""
            for index in range(len(self.job.headers))
        ]
        consent = any(target in CONSENT_TARGETS for target in mapping)
        return ImportSettings(
            mode=data["mode"],
            tags=data["tags"],
            mapping=mapping,
            date_order=data["date_order"] or self.job.date_order,
            decimal_comma=self.job.decimal_comma,
            tag_separator=data["tag_separator"] or self.job.tag_separator,
            consent_confirmed=consent and data["consent_confirmed"],
            consent_source=data["consent_source"] if consent else "",
            new_fields=self.new_fields,
        )

    def add_service_errors(self, error: ValidationError, *, renamed: dict[str, str] | None = None) -> None:
        if not hasattr(error, "error_dict"):
            self.add_error(None, error)
            return
        for name, messages in error.message_dict.items():
            field = (renamed or {}).get(name, name)
            for message in messages:
                self.add_error(field if field in self.fields else None, message)


NEW_FIELD_PARTS = {"create": "", "label": "_label", "key": "_key", "type": "_type", "choices": "_choices"}


def _new_field_fields(index: int, label: str) -> dict[str, forms.Field]:
    """A skipped column's "Create custom field" inputs: label and key default from its header."""
    return {
        f"new_{index}": forms.BooleanField(label=_("Create a custom field from this column"), required=False),
        f"new_{index}_label": forms.CharField(label=_("Label"), max_length=80, required=False, initial=label),
        f"new_{index}_key": forms.CharField(
            label=_("Key"),
            max_length=50,
            required=False,
            initial=custom_key_for(label),
            help_text=_("Lower-case letters, digits and _; cannot change later."),
        ),
        f"new_{index}_type": forms.ChoiceField(
            label=_("Type"), choices=CustomFieldType.choices, initial=CustomFieldType.TEXT, required=False
        ),
        f"new_{index}_choices": forms.CharField(
            label=_("Choices"),
            required=False,
            help_text=_("For the choice type, separated by commas; empty takes the column's values."),
        ),
    }


class ImportPresetApplyForm(forms.Form):
    def __init__(self, data: Any = None, *, presets: QuerySet[ImportPreset], **kwargs: Any) -> None:
        super().__init__(data, **kwargs)
        self.fields["preset"] = _preset_field(presets, label=_("Preset"), empty_label=None)
