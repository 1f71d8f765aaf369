"""The contact record, its tags and custom fields, consent history and the suppression list."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from apps.contacts.choices import (
    Channel,
    Consent,
    ContactSource,
    CustomFieldType,
    EducationLevel,
    Gender,
    ImportMode,
    ImportStatus,
    IncomeBand,
    MaritalStatus,
    SuppressionReason,
)
from apps.core.models import TimeStampedModel, WorkspaceScopedModel
from apps.workspaces.models import Workspace, validate_time_zone

colour_validator = RegexValidator(r"^#[0-9a-fA-F]{6}$", _("Use a colour like #1f6f5c."))
custom_key_validator = RegexValidator(
    r"^[a-z][a-z0-9_]{0,49}$", _("Use lower-case letters, digits and underscores, starting with a letter.")
)


class Tag(WorkspaceScopedModel):
    """Marks contacts (signed up for offer A, came to the spring event...); segments build on tags."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="tags")
    name = models.CharField(_("name"), max_length=80)
    colour = models.CharField(_("colour"), max_length=7, default="#1f6f5c", validators=[colour_validator])
    description = models.CharField(_("description"), max_length=255, blank=True)

    class Meta:
        ordering = ("name",)
        constraints: ClassVar = [
            models.UniqueConstraint("workspace", Lower("name"), name="contacts_tag_name_ci_unique"),
        ]
        permissions: ClassVar = [("import_tag", "Can import tags")]

    def __str__(self) -> str:
        return self.name


class CustomField(WorkspaceScopedModel):
    """A workspace-defined attribute, stored in `Contact.custom[key]` and validated by its type."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="custom_fields")
    key = models.CharField(_("key"), max_length=50, validators=[custom_key_validator])
    label = models.CharField(_("label"), max_length=80)
    field_type = models.CharField(_("type"), max_length=10, choices=CustomFieldType.choices)
    choices = models.JSONField(_("choices"), default=list, blank=True, help_text=_("For the choice type."))

    class Meta:
        ordering = ("label",)
        constraints: ClassVar = [
            models.UniqueConstraint("workspace", "key", name="contacts_customfield_key_unique"),
        ]

    def __str__(self) -> str:
        return self.label


class Contact(WorkspaceScopedModel):
    """One person, one record: every channel, segment and report reads it."""

    # Indexed by `contacts_ws_id` and the other (workspace, ...) indexes: a workspace_id index of
    # its own would be one more to keep on every write (a million-row import) and never chosen.
    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, related_name="contacts", db_index=False
    )
    email = models.CharField(_("email"), max_length=254, blank=True)
    # Trimmed and lower-cased: duplicates are found on it, and it is unique per workspace.
    email_normalized = models.CharField(max_length=254, blank=True, editable=False)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    phone_e164 = models.CharField(max_length=16, blank=True, editable=False)
    first_name = models.CharField(_("first name"), max_length=150, blank=True)
    last_name = models.CharField(_("last name"), max_length=150, blank=True)

    birth_date = models.DateField(_("birth date"), null=True, blank=True)
    age = models.PositiveSmallIntegerField(
        _("age"), null=True, blank=True, validators=[MaxValueValidator(130)]
    )
    gender = models.CharField(_("gender"), max_length=12, choices=Gender.choices, blank=True)
    marital_status = models.CharField(
        _("marital status"), max_length=12, choices=MaritalStatus.choices, blank=True
    )
    children_in_household = models.PositiveSmallIntegerField(
        _("children in household"), null=True, blank=True, validators=[MaxValueValidator(20)]
    )
    # Street and house number, then an optional second line (flat, c/o, building): what a printed
    # address label needs besides postal code, city and country.
    address_line1 = models.CharField(_("street address"), max_length=200, blank=True)
    address_line2 = models.CharField(_("address line 2"), max_length=200, blank=True)
    city = models.CharField(_("city"), max_length=120, blank=True)
    region = models.CharField(_("region"), max_length=120, blank=True)
    country = models.CharField(_("country"), max_length=2, blank=True, help_text=_("ISO 3166 code, e.g. DE."))
    postal_code = models.CharField(_("postal code"), max_length=20, blank=True)
    household_income_band = models.CharField(
        _("household income band"), max_length=12, choices=IncomeBand.choices, blank=True
    )
    education_level = models.CharField(
        _("education level"), max_length=12, choices=EducationLevel.choices, blank=True
    )
    customer_since = models.DateField(_("customer since"), null=True, blank=True)
    orders_count = models.PositiveIntegerField(_("orders"), default=0)
    # In the workspace's currency (Workspace.currency).
    total_spent = models.DecimalField(
        _("total spent"), max_digits=12, decimal_places=2, default=0, validators=[MinValueValidator(0)]
    )
    last_purchase_at = models.DateTimeField(_("last purchase"), null=True, blank=True)
    language = models.CharField(_("preferred language"), max_length=10, blank=True)
    timezone = models.CharField(_("time zone"), max_length=64, blank=True, validators=[validate_time_zone])

    email_consent = models.CharField(
        _("email consent"), max_length=10, choices=Consent.choices, default=Consent.UNKNOWN
    )
    email_consent_at = models.DateTimeField(null=True, blank=True)
    email_consent_source = models.CharField(max_length=120, blank=True)
    sms_consent = models.CharField(
        _("SMS consent"), max_length=10, choices=Consent.choices, default=Consent.UNKNOWN
    )
    sms_consent_at = models.DateTimeField(null=True, blank=True)
    sms_consent_source = models.CharField(max_length=120, blank=True)

    source = models.CharField(
        _("source"), max_length=10, choices=ContactSource.choices, default=ContactSource.MANUAL
    )
    custom = models.JSONField(_("custom fields"), default=dict, blank=True)
    tags: models.ManyToManyField[Tag, ContactTag] = models.ManyToManyField(
        Tag, through="ContactTag", related_name="contacts", blank=True
    )

    class Meta:
        ordering = ("-id",)
        constraints: ClassVar = [
            # `text_pattern_ops`: the same index serves the list's email prefix search (`LIKE
            # 'anna%'` under any collation), so a write keeps one email index, not two.
            models.UniqueConstraint(
                fields=["workspace", "email_normalized"],
                opclasses=["int8_ops", "text_pattern_ops"],
                condition=~Q(email_normalized=""),
                name="contacts_email_unique",
            ),
        ]
        indexes: ClassVar = [
            # Keyset pagination walks (workspace, id); filters below are the common list filters.
            models.Index(fields=["workspace", "-id"], name="contacts_ws_id"),
            # Only contacts with a phone: most have none, and nobody looks up the empty number.
            models.Index(
                fields=["workspace", "phone_e164"], name="contacts_ws_phone", condition=~Q(phone_e164="")
            ),
            models.Index(fields=["workspace", "updated_at"], name="contacts_ws_updated"),
            models.Index(fields=["workspace", "city"], name="contacts_ws_city"),
            models.Index(fields=["workspace", "country"], name="contacts_ws_country"),
            models.Index(fields=["workspace", "age"], name="contacts_ws_age"),
            models.Index(fields=["workspace", "gender"], name="contacts_ws_gender"),
        ]
        permissions: ClassVar = [("import_contact", "Can import contacts")]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        name = f"{self.first_name} {self.last_name}".strip()
        return name or self.email or self.phone or f"Contact {self.id}"


class ContactTag(models.Model):
    """The contact-tag link. `(tag, contact)` is indexed for segment counts by tag, `(contact, tag)`
    by the unique constraint: they serve lookups by either column alone too, so neither foreign key
    has an index of its own (two fewer to keep for each of an import's links).

    No foreign-key constraints in the database, as for segment members and deliveries: their checks
    (two per link, each a `FOR KEY SHARE` lock) took 28 s of CPU for the 1.5 million links of a
    million-row import, a fifth of the whole import. Links are written only by the tagging services
    and the import, for contacts and tags they just read or wrote in the same workspace; deletes go
    through Django, which cascades as declared (erasing a contact, deleting a tag or a workspace);
    segments and filters reach links through the contacts."""

    contact = models.ForeignKey(
        Contact, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    tag = models.ForeignKey(
        Tag, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )

    class Meta:
        constraints: ClassVar = [models.UniqueConstraint("contact", "tag", name="contacts_contacttag_unique")]
        indexes: ClassVar = [models.Index(fields=["tag", "contact"], name="contacts_contacttag_tag")]

    def __str__(self) -> str:
        return f"{self.contact_id} - {self.tag_id}"


class ConsentEvent(TimeStampedModel):
    """Consent history: who, when, how, and the consent text, per channel."""

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="consent_events")
    channel = models.CharField(max_length=5, choices=Channel.choices)
    status = models.CharField(max_length=10, choices=Consent.choices)
    source = models.CharField(max_length=120, blank=True)
    text = models.TextField(blank=True, help_text=_("The consent wording the person agreed to, if any."))
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)

    class Meta:
        ordering = ("-created_at", "-id")

    def __str__(self) -> str:
        return f"{self.channel} {self.status} at {self.created_at:%Y-%m-%d}"


class Suppression(WorkspaceScopedModel):
    """An address never to be contacted for marketing again. Stored hashed, so erasure erases."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="suppressions")
    channel = models.CharField(max_length=5, choices=Channel.choices)
    address_hash = models.CharField(max_length=64)
    reason = models.CharField(max_length=12, choices=SuppressionReason.choices)

    class Meta:
        ordering = ("-created_at",)
        constraints: ClassVar = [
            models.UniqueConstraint(
                "workspace", "channel", "address_hash", name="contacts_suppression_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.channel} {self.address_hash[:10]}… ({self.reason})"


class ImportJob(WorkspaceScopedModel):
    """One uploaded contact list and everything about its import: settings, progress, counts, report.

    The job is the source of truth: the Celery task only reads it and writes progress into it, so a
    page refresh, the API and the CLI all show the same state.
    """

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="import_jobs")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    file = models.FileField(upload_to="imports/%Y/%m/", max_length=255)
    original_name = models.CharField(max_length=255)
    size = models.PositiveBigIntegerField(default=0)
    kind = models.CharField(max_length=4, default="csv")
    encoding = models.CharField(max_length=20, blank=True)
    delimiter = models.CharField(max_length=1, blank=True)
    headers = models.JSONField(default=list)
    mapping = models.JSONField(
        default=list, help_text=_("One target per column: a field, custom.<key>, or ''.")
    )
    mode = models.CharField(max_length=6, choices=ImportMode.choices, default=ImportMode.UPSERT)
    tags = models.JSONField(default=list, blank=True, help_text=_("Tags added to every imported contact."))
    tag_separator = models.CharField(max_length=3, default=",")
    date_order = models.CharField(
        max_length=3, blank=True, help_text=_("dmy or mdy when dates are ambiguous.")
    )
    decimal_comma = models.BooleanField(null=True, blank=True)
    consent_confirmed = models.BooleanField(
        default=False,
        help_text=_("The importer confirmed that opt-ins in the file were given, with their source."),
    )
    consent_source = models.CharField(max_length=120, blank=True)

    status = models.CharField(max_length=10, choices=ImportStatus.choices, default=ImportStatus.UPLOADED)
    total_rows = models.PositiveIntegerField(default=0, help_text=_("Estimated from the file, for progress."))
    rows_processed = models.PositiveIntegerField(default=0)
    committed_rows = models.PositiveIntegerField(
        default=0, help_text=_("Rows of the file whose chunks are stored (a crash keeps whole chunks).")
    )
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    unchanged_count = models.PositiveIntegerField(default=0)
    skipped_count = models.PositiveIntegerField(default=0)
    error_count = models.PositiveIntegerField(default=0)
    errors = models.JSONField(
        default=list, blank=True, help_text=_("The first row errors: row, column, value, message.")
    )
    report = models.FileField(upload_to="imports/reports/%Y/%m/", max_length=255, blank=True)
    cancel_requested = models.BooleanField(default=False)
    failure = models.TextField(blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at", "-id")

    def __str__(self) -> str:
        return f"{self.original_name} ({self.get_status_display()})"

    @property
    def is_finished(self) -> bool:
        return self.status in {ImportStatus.COMPLETED, ImportStatus.CANCELLED, ImportStatus.FAILED}

    @property
    def progress_percent(self) -> int:
        if self.is_finished:
            return 100
        return min(99, round(100 * self.rows_processed / self.total_rows)) if self.total_rows else 0


class ImportPreset(WorkspaceScopedModel):
    """A saved column mapping and the choices that go with it, for the export a shop or CRM sends
    every month. The mapping is keyed by header text, not position, so it still fits when the
    columns come in another order. Consent is not part of it: opt-ins are confirmed per file."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="import_presets")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    name = models.CharField(_("name"), max_length=80)
    mapping = models.JSONField(
        _("mapping"), default=dict, blank=True, help_text=_("Header -> target: a field, custom.<key>, or ''.")
    )
    mode = models.CharField(_("mode"), max_length=6, choices=ImportMode.choices, default=ImportMode.UPSERT)
    tags = models.JSONField(_("tags"), default=list, blank=True, help_text=_("Tags added to every contact."))
    tag_separator = models.CharField(_("tag separator"), max_length=3, default=",")
    date_order = models.CharField(
        _("date order"), max_length=3, blank=True, help_text=_("dmy or mdy; empty to guess per file.")
    )
    decimal_comma = models.BooleanField(
        _("decimal comma"), null=True, blank=True, help_text=_("Empty to guess per file.")
    )

    class Meta:
        ordering = ("name",)
        constraints: ClassVar = [
            models.UniqueConstraint("workspace", Lower("name"), name="contacts_importpreset_name_ci_unique"),
        ]
        permissions: ClassVar = [("import_importpreset", "Can import import presets")]

    def __str__(self) -> str:
        return self.name
