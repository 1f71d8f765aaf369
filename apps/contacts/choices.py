"""The closed vocabularies of a contact's persona attributes (stored values are stable API words)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Gender(models.TextChoices):
    FEMALE = "female", _("Female")
    MALE = "male", _("Male")
    NON_BINARY = "non_binary", _("Non-binary")
    OTHER = "other", _("Other")
    UNDISCLOSED = "undisclosed", _("Prefers not to say")


class MaritalStatus(models.TextChoices):
    SINGLE = "single", _("Single")
    PARTNERED = "partnered", _("In a partnership")
    MARRIED = "married", _("Married")
    DIVORCED = "divorced", _("Divorced")
    WIDOWED = "widowed", _("Widowed")


class IncomeBand(models.TextChoices):
    UNDER_25K = "under_25k", _("Under 25k")
    FROM_25K = "25k_50k", _("25k-50k")
    FROM_50K = "50k_75k", _("50k-75k")
    FROM_75K = "75k_100k", _("75k-100k")
    FROM_100K = "100k_150k", _("100k-150k")
    OVER_150K = "over_150k", _("Over 150k")


class EducationLevel(models.TextChoices):
    PRIMARY = "primary", _("Primary school")
    SECONDARY = "secondary", _("Secondary school")
    VOCATIONAL = "vocational", _("Vocational training")
    BACHELOR = "bachelor", _("Bachelor's degree")
    MASTER = "master", _("Master's degree")
    DOCTORATE = "doctorate", _("Doctorate")


class Consent(models.TextChoices):
    OPTED_IN = "opted_in", _("Opted in")
    # Signed up, but has not yet clicked the confirmation link (double opt-in): not sendable.
    PENDING = "pending", _("Double opt-in pending")
    UNKNOWN = "unknown", _("Unknown")
    OPTED_OUT = "opted_out", _("Opted out")


class Channel(models.TextChoices):
    EMAIL = "email", _("Email")
    SMS = "sms", _("SMS")


class ContactSource(models.TextChoices):
    MANUAL = "manual", _("Added by hand")
    IMPORT = "import", _("Import")
    API = "api", _("API")
    ADMIN = "admin", _("Admin")
    DEMO = "demo", _("Demo data")


class SuppressionReason(models.TextChoices):
    ERASED = "erased", _("Erased on request (GDPR)")
    UNSUBSCRIBED = "unsubscribed", _("Unsubscribed")
    BOUNCED = "bounced", _("Hard bounce")
    COMPLAINT = "complaint", _("Spam complaint")
    MANUAL = "manual", _("Added by hand")


class CustomFieldType(models.TextChoices):
    TEXT = "text", _("Text")
    NUMBER = "number", _("Number")
    DATE = "date", _("Date")
    BOOLEAN = "boolean", _("Yes/no")
    CHOICE = "choice", _("Choice")


class ImportMode(models.TextChoices):
    CREATE = "create", _("Create new contacts only")
    UPSERT = "upsert", _("Create new and update existing contacts")
    UPDATE = "update", _("Update existing contacts only")


class ImportStatus(models.TextChoices):
    UPLOADED = "uploaded", _("Uploaded: check the columns")
    VALIDATING = "validating", _("Checking every row")
    VALIDATED = "validated", _("Checked: ready to import")
    QUEUED = "queued", _("Waiting for a worker")
    RUNNING = "running", _("Importing")
    COMPLETED = "completed", _("Completed")
    CANCELLED = "cancelled", _("Cancelled")
    FAILED = "failed", _("Failed")
