"""One contact at a time: create, update, replace, validate, consent, erase, suppression.

Every write cleans values through `cleaning.clean_contact_values`, the one place for field rules.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from copy import copy
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from apps.contacts.choices import Channel, Consent, ContactSource, SuppressionReason
from apps.contacts.cleaning import (
    FIELD_NAMES,
    ContactRules,
    CustomFieldSpec,
    address_hash,
    age_on,
    clean_contact_values,
)
from apps.contacts.models import ConsentEvent, Contact, CustomField, Suppression
from apps.contacts.services.tagging import contact_set_tags
from apps.workspaces.models import Workspace

if TYPE_CHECKING:
    from apps.accounts.models import User


CONSENT_FIELDS = {"email_consent": Channel.EMAIL, "sms_consent": Channel.SMS}


def contact_rules(*, workspace: Workspace) -> ContactRules:
    """The workspace's phone region and custom fields, for cleaning values (one query)."""
    fields = {
        custom.key: CustomFieldSpec(
            key=custom.key,
            label=custom.label,
            field_type=custom.field_type,
            choices=tuple(custom.choices or ()),
        )
        for custom in CustomField.objects.filter(workspace=workspace)
    }
    return ContactRules(phone_region=workspace.default_phone_region, custom_fields=fields)


def is_suppressed(*, workspace: Workspace, channel: str, address: str) -> bool:
    if not address:
        return False
    return Suppression.objects.filter(
        workspace=workspace, channel=channel, address_hash=address_hash(channel, address)
    ).exists()


def _suppressed_channels(workspace: Workspace, email: str, phone: str) -> set[str]:
    hashes = {Channel.EMAIL: address_hash(Channel.EMAIL, email)} if email else {}
    if phone:
        hashes[Channel.SMS] = address_hash(Channel.SMS, phone)
    if not hashes:
        return set()
    found = Suppression.objects.filter(workspace=workspace, address_hash__in=hashes.values()).values_list(
        "channel", flat=True
    )
    return set(found)


@dataclass(frozen=True)
class ConsentChange:
    channel: str
    status: str
    source: str = ""
    text: str = ""


def _apply_values(contact: Contact, values: Mapping[str, Any]) -> list[str]:
    """Set plain fields and merge custom values; returns the changed field names."""
    changed: list[str] = []
    for name, value in values.items():
        if name in {"tags", "custom"} or name in CONSENT_FIELDS:
            continue
        if getattr(contact, name) != value:
            setattr(contact, name, value)
            changed.append(name)
    if "custom" in values:
        merged = {**contact.custom, **values["custom"]}
        merged = {key: value for key, value in merged.items() if value is not None}
        if merged != contact.custom:
            contact.custom = merged
            changed.append("custom")
    return changed


def _consent_changes(contact: Contact, values: Mapping[str, Any], source: str) -> list[ConsentChange]:
    return [
        ConsentChange(channel=channel, status=values[name], source=source)
        for name, channel in CONSENT_FIELDS.items()
        if name in values and values[name] != getattr(contact, name)
    ]


def _check_consent_allowed(contact: Contact, changes: Sequence[ConsentChange]) -> None:
    opting_in = {change.channel for change in changes if change.status == Consent.OPTED_IN}
    if not opting_in:
        return
    suppressed = (
        _suppressed_channels(contact.workspace, contact.email_normalized, contact.phone_e164) & opting_in
    )
    if suppressed:
        names = " and ".join(sorted(str(Channel(channel).label) for channel in suppressed))
        field_name = "email_consent" if Channel.EMAIL in suppressed else "sms_consent"
        raise ValidationError(
            {
                field_name: f"This {names} address is on the suppression list and cannot be opted in to marketing."
            }
        )


def _record_consent(contact: Contact, changes: Sequence[ConsentChange], actor: User | None) -> None:
    now = timezone.now()
    for change in changes:
        prefix = "email" if change.channel == Channel.EMAIL else "sms"
        setattr(contact, f"{prefix}_consent", change.status)
        setattr(contact, f"{prefix}_consent_at", now)
        setattr(contact, f"{prefix}_consent_source", change.source[:120])
    ConsentEvent.objects.bulk_create(
        ConsentEvent(
            contact=contact,
            channel=change.channel,
            status=change.status,
            source=change.source[:120],
            text=change.text,
            actor=actor,
        )
        for change in changes
    )


def _check_unique(contact: Contact) -> None:
    if not contact.email_normalized:
        return
    clash = Contact.objects.filter(
        workspace_id=contact.workspace_id, email_normalized=contact.email_normalized
    )
    if contact.pk:
        clash = clash.exclude(pk=contact.pk)
    if clash.exists():
        raise ValidationError(
            {"email": f"A contact with the email {contact.email_normalized} already exists."}
        )


def _clean_or_raise(workspace: Workspace, values: Mapping[str, Any]) -> dict[str, Any]:
    result = clean_contact_values(values, rules=contact_rules(workspace=workspace))
    if result.errors:
        raise ValidationError(result.errors)
    return result.values


@transaction.atomic
def contact_create(
    *,
    workspace: Workspace,
    values: Mapping[str, Any],
    source: str = ContactSource.MANUAL,
    actor: User | None = None,
    consent_source: str = "",
) -> Contact:
    """A new contact from raw values (API names). Needs an email or a phone number."""
    cleaned = _clean_or_raise(workspace, values)
    if not cleaned.get("email_normalized") and not cleaned.get("phone_e164"):
        raise ValidationError({"email": "A contact needs an email address or a phone number."})
    contact = Contact(workspace=workspace, source=source)
    _apply_values(contact, cleaned)
    _check_unique(contact)
    changes = _consent_changes(contact, cleaned, consent_source or f"Added ({ContactSource(source).label})")
    _check_consent_allowed(contact, changes)
    try:
        with transaction.atomic():
            contact.save()
    except IntegrityError as error:  # a concurrent request stored the same email in between
        raise ValidationError(
            {"email": f"A contact with the email {contact.email_normalized} already exists."}
        ) from error
    if changes:
        _record_consent(contact, changes, actor)
        contact.save(
            update_fields=[
                "email_consent",
                "email_consent_at",
                "email_consent_source",
                "sms_consent",
                "sms_consent_at",
                "sms_consent_source",
            ]
        )
    if "tags" in cleaned:
        contact_set_tags(contact=contact, names=cleaned["tags"])
    return contact


@transaction.atomic
def contact_update(
    *,
    contact: Contact,
    values: Mapping[str, Any],
    actor: User | None = None,
    consent_source: str = "",
) -> Contact:
    """Change the given fields (others stay); `tags`, when given, replaces the contact's tags."""
    cleaned = _clean_or_raise(contact.workspace, values)
    changed = _apply_values(contact, cleaned)
    if not contact.email_normalized and not contact.phone_e164:
        raise ValidationError({"email": "A contact needs an email address or a phone number."})
    _check_unique(contact)
    changes = _consent_changes(contact, cleaned, consent_source or "Edited")
    _check_consent_allowed(contact, changes)
    if changes:
        _record_consent(contact, changes, actor)
        changed += [f"{c.channel}_consent{suffix}" for c in changes for suffix in ("", "_at", "_source")]
    if changed:
        contact.save(update_fields=[*dict.fromkeys(changed), "updated_at"])
    if "tags" in cleaned:
        contact_set_tags(contact=contact, names=cleaned["tags"])
    return contact


@transaction.atomic
def contact_replace(
    *,
    contact: Contact,
    values: Mapping[str, Any],
    actor: User | None = None,
    consent_source: str = "",
) -> Contact:
    """Make `values` the whole contact (HTTP PUT): every field left out is cleared, the tags and the
    custom values are replaced by the given ones.

    Consent is the exception: it changes only when stated. It is the person's recorded decision with
    its own history, and a client that leaves the field out must not reset an opt-out to "unknown".
    """
    full: dict[str, Any] = {name: None for name in FIELD_NAMES if name not in CONSENT_FIELDS}
    full.update(values)
    given_custom = full["custom"]
    if given_custom in (None, "") or isinstance(given_custom, Mapping):
        defined = contact_rules(workspace=contact.workspace).custom_fields
        cleared = {key: None for key in contact.custom if key in defined}
        full["custom"] = cleared | dict(given_custom or {})
    return contact_update(contact=contact, values=full, actor=actor, consent_source=consent_source)


def contact_validate(
    *, workspace: Workspace, values: Mapping[str, Any], contact: Contact | None = None
) -> dict[str, Any]:
    """Check `values` as `contact_create` (no `contact`) or `contact_update` would, without writing:
    the cleaned values, or a `ValidationError` naming the fields to blame."""
    cleaned = _clean_or_raise(workspace, values)
    probe = Contact(workspace=workspace) if contact is None else copy(contact)
    _apply_values(probe, cleaned)
    if not probe.email_normalized and not probe.phone_e164:
        raise ValidationError({"email": "A contact needs an email address or a phone number."})
    _check_unique(probe)
    _check_consent_allowed(probe, _consent_changes(probe, cleaned, ""))
    return cleaned


@transaction.atomic
def contacts_erase(*, contacts: QuerySet[Contact]) -> int:
    """GDPR erase: personal data is deleted; hashed suppression entries keep the addresses unmailable."""
    ids = list(contacts.order_by().values_list("id", "workspace_id", "email_normalized", "phone_e164"))
    entries = [
        Suppression(
            workspace_id=ws,
            channel=channel,
            address_hash=address_hash(channel, address),
            reason=SuppressionReason.ERASED,
        )
        for _, ws, email, phone in ids
        for channel, address in ((Channel.EMAIL, email), (Channel.SMS, phone))
        if address
    ]
    Suppression.objects.bulk_create(entries, batch_size=2000, ignore_conflicts=True)
    _, per_model = Contact.objects.filter(id__in=[row[0] for row in ids]).delete()
    return per_model.get(Contact._meta.label, 0)


def contact_erase(*, contact: Contact) -> None:
    contacts_erase(contacts=Contact.objects.filter(id=contact.id))


def suppression_add(*, workspace: Workspace, channel: str, address: str, reason: str) -> Suppression:
    suppression, _ = Suppression.objects.get_or_create(
        workspace=workspace,
        channel=channel,
        address_hash=address_hash(channel, address),
        defaults={"reason": reason},
    )
    return suppression


@transaction.atomic
def consent_set(
    *, contact: Contact, channel: str, status: str, source: str, text: str = "", actor: User | None = None
) -> Contact:
    """Record a consent decision with who, when, how and the wording."""
    changes = [ConsentChange(channel=channel, status=status, source=source, text=text)]
    _check_consent_allowed(contact, changes)
    _record_consent(contact, changes, actor)
    prefix = "email" if channel == Channel.EMAIL else "sms"
    contact.save(
        update_fields=[f"{prefix}_consent", f"{prefix}_consent_at", f"{prefix}_consent_source", "updated_at"]
    )
    return contact


def contacts_refresh_ages(*, today: Any = None) -> int:
    """Keep `age` current from `birth_date` (beat runs this daily); only rows whose age changed, and
    their `updated_at` moves so integrations syncing with `updated_since` see the new age."""
    day = today or timezone.now().date()
    now = timezone.now()
    changed = 0
    batch: list[Contact] = []
    for contact in (
        Contact.objects.filter(birth_date__isnull=False)
        .only("id", "birth_date", "age", "updated_at")
        .iterator(chunk_size=5000)
    ):
        age = age_on(contact.birth_date, day)  # type: ignore[arg-type]
        if contact.age != age:
            contact.age, contact.updated_at = age, now
            batch.append(contact)
        if len(batch) >= 5000:
            changed += Contact.objects.bulk_update(batch, ["age", "updated_at"])
            batch = []
    if batch:
        changed += Contact.objects.bulk_update(batch, ["age", "updated_at"])
    return changed
