"""Bulk upsert of up to 10,000 contacts per call (integrations), a few queries whatever its size."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.db.models import Field, JSONField
from django.utils import timezone

from apps.contacts.choices import Channel, Consent, ContactSource, ImportMode
from apps.contacts.cleaning import (
    address_hash,
    clean_contact_values,
)
from apps.contacts.models import ConsentEvent, Contact, ContactTag, Suppression
from apps.contacts.services.records import (
    CONSENT_FIELDS,
    ConsentChange,
    _apply_values,
    _consent_changes,
    contact_rules,
)
from apps.contacts.services.tagging import tags_get_or_create
from apps.core.sequences import next_ids
from apps.workspaces.models import Workspace

if TYPE_CHECKING:
    from apps.accounts.models import User


MAX_BULK_UPSERT = 10_000


@dataclass
class UpsertRow:
    index: int
    status: str  # created | updated | unchanged | error
    id: int | None = None
    errors: dict[str, str] = field(default_factory=dict)


@dataclass
class _Pending:
    row: UpsertRow
    contact: Contact
    consent: list[ConsentChange]
    tags: list[str]


@dataclass(frozen=True)
class ConsentPolicy:
    """What a bulk write may do to consent.

    The API records what the integration says. An import records a new opt-in only when the importer
    confirmed it (`allow_opt_in`), and never re-subscribes anyone who opted out or is suppressed
    (`keep_opt_outs`): such an opt-in is dropped and the rest of the row still applies.
    """

    allow_opt_in: bool = True
    keep_opt_outs: bool = False
    source: str = ""


API_CONSENT = ConsentPolicy()


def _apply_consent_policy(
    contact: Contact, values: dict[str, Any], policy: ConsentPolicy, suppressed: set[str]
) -> dict[str, Any]:
    drop = set()
    for name, channel in CONSENT_FIELDS.items():
        if values.get(name) != Consent.OPTED_IN:
            continue
        address = values.get("email_normalized" if channel == Channel.EMAIL else "phone_e164") or (
            contact.email_normalized if channel == Channel.EMAIL else contact.phone_e164
        )
        opted_out = getattr(contact, name) == Consent.OPTED_OUT
        is_suppressed = bool(address) and address_hash(channel, address) in suppressed
        if not policy.allow_opt_in or (policy.keep_opt_outs and (opted_out or is_suppressed)):
            drop.add(name)
    return {name: value for name, value in values.items() if name not in drop} if drop else values


@transaction.atomic
def contacts_bulk_upsert(
    *,
    workspace: Workspace,
    rows: Sequence[Mapping[str, Any]],
    source: str = ContactSource.API,
    actor: User | None = None,
    mode: str = ImportMode.UPSERT,
    consent_policy: ConsentPolicy | None = None,
) -> list[UpsertRow]:
    """Create or update up to 10,000 contacts, matched by email, else by phone. Per-row results.

    A row with errors is reported and skipped; the others are stored. Given fields overwrite,
    absent fields stay as they are; `tags` are added, never removed. `mode` may restrict the call to
    creating (existing contacts are `skipped`) or updating (unknown ones are `skipped`). Set-based: a
    few queries per call, whatever its size.
    """
    if len(rows) > MAX_BULK_UPSERT:
        raise ValidationError(f"Send at most {MAX_BULK_UPSERT:,} contacts per call (this has {len(rows):,}).")
    rules = contact_rules(workspace=workspace)
    policy = consent_policy or API_CONSENT
    results: list[UpsertRow] = []
    cleaned_rows: list[tuple[int, dict[str, Any]]] = []
    for index, raw in enumerate(rows):
        if not isinstance(raw, Mapping):
            results.append(
                UpsertRow(index=index, status="error", errors={"row": "Send each contact as an object."})
            )
            continue
        result = clean_contact_values(raw, rules=rules)
        if (
            not result.errors
            and not result.values.get("email_normalized")
            and not result.values.get("phone_e164")
        ):
            result.errors["email"] = "A contact needs an email address or a phone number."
        if result.errors:
            results.append(UpsertRow(index=index, status="error", errors=result.errors))
        else:
            cleaned_rows.append((index, result.values))
    suppressed = _suppressed_hashes(workspace, cleaned_rows)
    by_email, by_phone = _existing_contacts(workspace, cleaned_rows)
    pending: list[_Pending] = []
    seen: dict[str, Contact] = {}
    originals: dict[int, dict[str, Any]] = {}  # existing contacts as loaded, by pk
    for index, values in cleaned_rows:
        key = values.get("email_normalized") or f"tel:{values.get('phone_e164')}"
        # Matched by email; by phone only when the row has no email (a new address is a new person).
        contact = seen.get(key) or (
            by_email.get(values["email_normalized"])
            if values.get("email_normalized")
            else by_phone.get(values.get("phone_e164", ""))
        )
        exists = contact is not None and contact.pk is not None
        if (mode == ImportMode.CREATE and exists) or (mode == ImportMode.UPDATE and contact is None):
            results.append(UpsertRow(index=index, status="skipped"))
            continue
        target = contact or Contact(workspace=workspace, source=source)
        if target.pk is not None and target.pk not in originals:
            originals[target.pk] = _snapshot(target)
        values = _apply_consent_policy(target, values, policy, suppressed)
        consent_source = (
            policy.source or f"{'Updated' if contact else 'Added'} ({ContactSource(source).label})"
        )
        consent = _consent_changes(target, values, consent_source)
        blocked = _blocked_opt_in(target, values, consent, suppressed)
        if blocked:
            results.append(UpsertRow(index=index, status="error", errors=blocked))
            continue
        _apply_values(target, {name: value for name, value in values.items() if name != "tags"})
        seen[key] = target
        # One "created" per new person; later rows of the same person in the call merge into it.
        status = "unchanged" if target.pk is not None else ("updated" if contact is not None else "created")
        row = UpsertRow(index=index, status=status)
        results.append(row)
        pending.append(_Pending(row=row, contact=target, consent=consent, tags=values.get("tags", [])))
    update_fields = _settle_statuses(pending, originals)
    _store(workspace, pending, update_fields, actor)
    return sorted(results, key=lambda row: row.index)


def _snapshot(contact: Contact) -> dict[str, Any]:
    return {f.attname: getattr(contact, f.attname) for f in Contact._meta.concrete_fields}


def _settle_statuses(pending: Sequence[_Pending], originals: Mapping[int, dict[str, Any]]) -> set[str]:
    """A row's status compares the contact's final state with how it was loaded, so several rows for
    one person in a call (duplicates in a file) settle to one honest answer: a file imported twice
    reports unchanged. Returns the fields that need writing."""
    update_fields: set[str] = set()
    by_contact: dict[int, list[_Pending]] = {}
    for item in pending:
        if item.contact.pk is not None:
            by_contact.setdefault(item.contact.pk, []).append(item)
    for pk, items in by_contact.items():
        contact, original = items[0].contact, originals[pk]
        changed = {name for name, value in original.items() if getattr(contact, name) != value}
        update_fields |= changed
        status = "updated" if changed or any(item.consent for item in items) else "unchanged"
        for item in items:
            item.row.status = status
    return update_fields


def _suppressed_hashes(
    workspace: Workspace, cleaned_rows: Sequence[tuple[int, Mapping[str, Any]]]
) -> set[str]:
    hashes = {
        address_hash(channel, values[address])
        for _, values in cleaned_rows
        for field_name, channel, address in (
            ("email_consent", Channel.EMAIL, "email_normalized"),
            ("sms_consent", Channel.SMS, "phone_e164"),
        )
        if values.get(field_name) == Consent.OPTED_IN and values.get(address)
    }
    if not hashes:
        return set()
    return set(
        Suppression.objects.filter(workspace=workspace, address_hash__in=hashes).values_list(
            "address_hash", flat=True
        )
    )


def _blocked_opt_in(
    contact: Contact, values: Mapping[str, Any], consent: Sequence[ConsentChange], suppressed: set[str]
) -> dict[str, str]:
    errors: dict[str, str] = {}
    for change in consent:
        if change.status != Consent.OPTED_IN:
            continue
        address = values.get("email_normalized" if change.channel == Channel.EMAIL else "phone_e164") or (
            contact.email_normalized if change.channel == Channel.EMAIL else contact.phone_e164
        )
        if address and address_hash(change.channel, address) in suppressed:
            errors[f"{change.channel}_consent"] = (
                "This address is on the suppression list and cannot be opted in."
            )
    return errors


def _existing_contacts(
    workspace: Workspace, cleaned_rows: Sequence[tuple[int, Mapping[str, Any]]]
) -> tuple[dict[str, Contact], dict[str, Contact]]:
    emails = {values["email_normalized"] for _, values in cleaned_rows if values.get("email_normalized")}
    phones = {
        values["phone_e164"]
        for _, values in cleaned_rows
        if values.get("phone_e164") and not values.get("email_normalized")
    }
    by_email = {
        c.email_normalized: c
        for c in Contact.objects.filter(workspace=workspace, email_normalized__in=emails)
    }
    by_phone: dict[str, Contact] = {}
    for contact in Contact.objects.filter(workspace=workspace, phone_e164__in=phones).order_by("id"):
        by_phone.setdefault(contact.phone_e164, contact)
    return by_email, by_phone


def _insert_new(contacts: list[Contact], *, now: datetime) -> None:
    """Insert new contacts and give them their ids. On PostgreSQL by COPY with ids drawn from the
    sequence first: building a 36-column multi-row INSERT in Python was most of an import's time."""
    if not contacts:
        return
    if connection.vendor != "postgresql":
        Contact.objects.bulk_create(contacts, batch_size=1000)
        return
    table = Contact._meta.db_table
    fields = list(Contact._meta.concrete_fields)
    with connection.cursor() as cursor:
        for contact, contact_id in zip(contacts, next_ids(cursor, Contact, len(contacts)), strict=True):
            contact.pk, contact.created_at, contact.updated_at = contact_id, now, now
        columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
        with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for contact in contacts:
                copy.write_row([_copy_value(field, contact) for field in fields])
    for contact in contacts:
        contact._state.adding, contact._state.db = False, connection.alias


def _copy_value(field: Field[Any, Any], contact: Contact) -> Any:
    value = getattr(contact, field.attname)
    if isinstance(field, JSONField):
        return json.dumps(value, cls=DjangoJSONEncoder)  # COPY's text form of jsonb
    return value


def _store(
    workspace: Workspace, pending: Sequence[_Pending], update_fields: set[str], actor: User | None
) -> None:
    now = timezone.now()
    for item in pending:
        for change in item.consent:
            prefix = "email" if change.channel == Channel.EMAIL else "sms"
            setattr(item.contact, f"{prefix}_consent", change.status)
            setattr(item.contact, f"{prefix}_consent_at", now)
            setattr(item.contact, f"{prefix}_consent_source", change.source[:120])
            update_fields.update({f"{prefix}_consent", f"{prefix}_consent_at", f"{prefix}_consent_source"})
    new = list({id(item.contact): item.contact for item in pending if item.contact.pk is None}.values())
    _insert_new(new, now=now)
    changed = list(
        {item.contact.pk: item.contact for item in pending if item.row.status == "updated"}.values()
    )
    if changed and update_fields:
        for contact in changed:
            contact.updated_at = now
        Contact.objects.bulk_update(changed, [*sorted(update_fields), "updated_at"], batch_size=1000)
    ConsentEvent.objects.bulk_create(
        [
            ConsentEvent(
                contact=item.contact, channel=c.channel, status=c.status, source=c.source[:120], actor=actor
            )
            for item in pending
            for c in item.consent
        ],
        batch_size=1000,
    )
    for item in pending:
        item.row.id = item.contact.pk
    _add_tags(workspace, pending)


def _insert_links(links: set[tuple[int, int]]) -> None:
    if connection.vendor != "postgresql":
        ContactTag.objects.bulk_create(
            [ContactTag(contact_id=contact_id, tag_id=tag_id) for contact_id, tag_id in links],
            ignore_conflicts=True,
            batch_size=5000,
        )
        return
    # Links already held were subtracted in this transaction, so COPY meets no duplicate.
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {ContactTag._meta.db_table} (contact_id, tag_id) FROM STDIN") as copy,
    ):
        for link in links:
            copy.write_row(link)


def _add_tags(workspace: Workspace, pending: Sequence[_Pending]) -> None:
    """Add the rows' tags; a row whose contact gains a tag counts as updated."""
    tagged = [item for item in pending if item.tags]
    if not tagged:
        return
    tags = {
        tag.name.lower(): tag
        for tag in tags_get_or_create(
            workspace=workspace, names={name for item in tagged for name in item.tags}
        )
    }
    wanted = {(item.contact.pk, tags[name.lower()].pk) for item in tagged for name in item.tags}
    created = {item.contact.pk for item in tagged if item.row.status == "created"}
    # Contacts created in this call hold no links yet: only the others need looking up.
    existing = set(
        ContactTag.objects.filter(
            contact_id__in={contact_id for contact_id, _ in wanted if contact_id not in created},
            tag_id__in={tag.pk for tag in tags.values()},
        ).values_list("contact_id", "tag_id")
    )
    new_links = wanted - existing
    _insert_links(new_links)
    gained = {contact_id for contact_id, _ in new_links} - created
    if gained:  # tag changes move updated_at, so syncing integrations see them
        Contact.objects.filter(id__in=gained).update(updated_at=timezone.now())
    for item in tagged:
        if item.row.status == "unchanged" and item.contact.pk in gained:
            item.row.status = "updated"
