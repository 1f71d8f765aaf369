"""Writes and business rules for contacts: create, update, erase, consent, tags, bulk upserts.

Every write cleans values through `cleaning.clean_contact_values` (the one place for field rules).
Bulk operations work set-based, so tagging 10,000 contacts is a handful of statements.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Func, JSONField, QuerySet, TextField, Value
from django.db.models.functions import Cast, Lower
from django.utils import timezone

from apps.contacts.choices import Channel, Consent, ContactSource, CustomFieldType, SuppressionReason
from apps.contacts.cleaning import (
    FIELD_NAMES,
    ContactRules,
    CustomFieldSpec,
    address_hash,
    age_on,
    clean_contact_values,
)
from apps.contacts.models import ConsentEvent, Contact, ContactTag, CustomField, Suppression, Tag
from apps.workspaces.models import Workspace

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper
    from django.db.models.sql.compiler import SQLCompiler

    from apps.accounts.models import User

CONSENT_FIELDS = {"email_consent": Channel.EMAIL, "sms_consent": Channel.SMS}
MAX_BULK_UPSERT = 10_000


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
    contact.save()
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


def tags_get_or_create(*, workspace: Workspace, names: Iterable[str]) -> list[Tag]:
    """Tags by name (case-insensitive), creating the missing ones; in the order given."""
    wanted = {name.strip().lower(): name.strip() for name in names if name.strip()}
    if not wanted:
        return []

    def existing() -> dict[str, Tag]:
        found = Tag.objects.annotate(lower_name=Lower("name")).filter(
            workspace=workspace, lower_name__in=wanted
        )
        return {tag.name.lower(): tag for tag in found}

    tags = existing()
    missing = [Tag(workspace=workspace, name=wanted[key]) for key in wanted.keys() - tags.keys()]
    if missing:
        Tag.objects.bulk_create(missing, ignore_conflicts=True)  # a concurrent creator may win: re-read
        tags = existing()
    return [tags[key] for key in wanted if key in tags]


def contact_set_tags(*, contact: Contact, names: Sequence[str]) -> list[Tag]:
    tags = tags_get_or_create(workspace=contact.workspace, names=names)
    ContactTag.objects.filter(contact=contact).exclude(tag__in=tags).delete()
    ContactTag.objects.bulk_create(
        [ContactTag(contact=contact, tag=tag) for tag in tags], ignore_conflicts=True
    )
    return tags


def _insert_links_sql(contacts: QuerySet[Contact], tag: Tag) -> tuple[str, tuple[Any, ...]]:
    select_sql, params = contacts.values("id").query.sql_with_params()
    table = ContactTag._meta.db_table
    return (
        # `WHERE true`: SQLite cannot parse INSERT ... SELECT ... ON CONFLICT without a WHERE clause.
        f"INSERT INTO {table} (contact_id, tag_id) SELECT sub.id, %s FROM ({select_sql}) sub WHERE true "  # noqa: S608
        "ON CONFLICT (contact_id, tag_id) DO NOTHING",
        (tag.id, *params),
    )


@transaction.atomic
def contacts_tag(*, contacts: QuerySet[Contact], tag: Tag) -> int:
    """Tag every contact of the query set in one statement; returns how many links were added."""
    if contacts.exclude(workspace_id=tag.workspace_id).exists():
        raise ValidationError("Contacts and tag must belong to the same workspace.")
    sql, params = _insert_links_sql(contacts.order_by(), tag)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


@transaction.atomic
def contacts_untag(*, contacts: QuerySet[Contact], tag: Tag) -> int:
    deleted, _ = ContactTag.objects.filter(tag=tag, contact__in=contacts.order_by().values("id")).delete()
    return deleted


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
    """Keep `age` current from `birth_date` (beat runs this daily); only rows whose age changed."""
    day = today or timezone.now().date()
    changed = 0
    batch: list[Contact] = []
    for contact in (
        Contact.objects.filter(birth_date__isnull=False)
        .only("id", "birth_date", "age")
        .iterator(chunk_size=5000)
    ):
        age = age_on(contact.birth_date, day)  # type: ignore[arg-type]
        if contact.age != age:
            contact.age = age
            batch.append(contact)
        if len(batch) >= 5000:
            changed += Contact.objects.bulk_update(batch, ["age"])
            batch = []
    if batch:
        changed += Contact.objects.bulk_update(batch, ["age"])
    return changed


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


@transaction.atomic
def contacts_bulk_upsert(
    *,
    workspace: Workspace,
    rows: Sequence[Mapping[str, Any]],
    source: str = ContactSource.API,
    actor: User | None = None,
) -> list[UpsertRow]:
    """Create or update up to 10,000 contacts, matched by email, else by phone. Per-row results.

    A row with errors is reported and skipped; the others are stored. Given fields overwrite,
    absent fields stay as they are; `tags` are added, never removed. Set-based: a few queries per
    call, whatever its size.
    """
    if len(rows) > MAX_BULK_UPSERT:
        raise ValidationError(f"Send at most {MAX_BULK_UPSERT:,} contacts per call (this has {len(rows):,}).")
    rules = contact_rules(workspace=workspace)
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
    update_fields: set[str] = set()
    for index, values in cleaned_rows:
        key = values.get("email_normalized") or f"tel:{values.get('phone_e164')}"
        contact = (
            seen.get(key)
            or by_email.get(values.get("email_normalized", ""))
            or by_phone.get(values.get("phone_e164", ""))
        )
        target = contact or Contact(workspace=workspace, source=source)
        consent = _consent_changes(
            target, values, f"{'Updated' if contact else 'Added'} ({ContactSource(source).label})"
        )
        blocked = _blocked_opt_in(target, values, consent, suppressed)
        if blocked:
            results.append(UpsertRow(index=index, status="error", errors=blocked))
            continue
        changed = _apply_values(target, {name: value for name, value in values.items() if name != "tags"})
        status = "created" if contact is None else ("updated" if changed or consent else "unchanged")
        if contact is not None and contact.pk and (changed or consent):
            update_fields.update(changed)
        seen[key] = target
        row = UpsertRow(index=index, status=status)
        results.append(row)
        pending.append(_Pending(row=row, contact=target, consent=consent, tags=values.get("tags", [])))
    _store(workspace, pending, update_fields, actor)
    return sorted(results, key=lambda row: row.index)


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
    Contact.objects.bulk_create(new, batch_size=1000)
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
    existing = set(
        ContactTag.objects.filter(
            contact_id__in={contact_id for contact_id, _ in wanted},
            tag_id__in={tag.pk for tag in tags.values()},
        ).values_list("contact_id", "tag_id")
    )
    new_links = wanted - existing
    ContactTag.objects.bulk_create(
        [ContactTag(contact_id=contact_id, tag_id=tag_id) for contact_id, tag_id in new_links],
        ignore_conflicts=True,
        batch_size=5000,
    )
    gained = {contact_id for contact_id, _ in new_links}
    for item in tagged:
        if item.row.status == "unchanged" and item.contact.pk in gained:
            item.row.status = "updated"


# --- Tags and custom fields: the workspace's own vocabulary ------------------------------------------


def _tag_name_taken(workspace: Workspace, name: str, *, exclude_id: int | None = None) -> bool:
    clash = Tag.objects.filter(workspace=workspace, name__iexact=name)
    if exclude_id is not None:
        clash = clash.exclude(id=exclude_id)
    return clash.exists()


def _tag_save(tag: Tag) -> Tag:
    tag.name = tag.name.strip()
    tag.description = tag.description.strip()
    if tag.name and _tag_name_taken(tag.workspace, tag.name, exclude_id=tag.pk):
        raise ValidationError({"name": f"A tag named “{tag.name}” already exists."})
    tag.full_clean(exclude=["workspace"])
    try:
        with transaction.atomic():
            tag.save()
    except IntegrityError as error:  # a concurrent request took the name between check and save
        raise ValidationError({"name": f"A tag named “{tag.name}” already exists."}) from error
    return tag


def tag_create(*, workspace: Workspace, name: str, colour: str = "#1f6f5c", description: str = "") -> Tag:
    """A new tag; names are unique per workspace, whatever their case."""
    return _tag_save(Tag(workspace=workspace, name=name, colour=colour or "#1f6f5c", description=description))


def tag_update(*, tag: Tag, name: str, colour: str, description: str = "") -> Tag:
    """Rename or recolour a tag; its contacts keep it (links point at the tag, not its name)."""
    tag.name, tag.colour, tag.description = name, colour or tag.colour, description
    return _tag_save(tag)


def tag_delete(*, tag: Tag) -> None:
    """Delete the tag and its links; the contacts stay."""
    tag.delete()


def _clean_choices(field_type: str, choices: Iterable[str]) -> list[str]:
    if field_type != CustomFieldType.CHOICE:
        return []
    cleaned = list(dict.fromkeys(str(choice).strip() for choice in choices if str(choice).strip()))
    if not cleaned:
        raise ValidationError({"choices": "A choice field needs at least one choice."})
    if any(len(choice) > 80 for choice in cleaned):
        raise ValidationError({"choices": "Each choice has at most 80 characters."})
    return cleaned


@transaction.atomic
def custom_field_create(
    *, workspace: Workspace, key: str, label: str, field_type: str, choices: Sequence[str] = ()
) -> CustomField:
    """A workspace-defined contact attribute, stored under `Contact.custom[key]`."""
    custom_field = CustomField(
        workspace=workspace,
        key=key.strip(),
        label=label.strip(),
        field_type=field_type,
        choices=_clean_choices(field_type, choices),
    )
    if CustomField.objects.filter(workspace=workspace, key=custom_field.key).exists():
        raise ValidationError({"key": f"There already is a custom field with the key “{custom_field.key}”."})
    custom_field.full_clean(exclude=["workspace"], validate_constraints=False)
    custom_field.save()
    return custom_field


def custom_field_delete(*, custom_field: CustomField) -> None:
    """Remove the field definition. Stored values stay in `Contact.custom` (creating the field again
    with the same key shows them again); they are no longer shown, filtered or exported."""
    custom_field.delete()


# --- API: replace a contact (PUT); edit and delete custom fields with their values ----------------


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


@transaction.atomic
def custom_field_update(
    *,
    custom_field: CustomField,
    label: str,
    choices: Sequence[str] = (),
    key: str | None = None,
    field_type: str | None = None,
) -> CustomField:
    """Relabel a custom field or change its choices. Key and type stay as created: contacts store
    their values under the key, typed by the type. A choice that contacts still hold stays."""
    errors: dict[str, str] = {}
    if key is not None and key.strip() != custom_field.key:
        errors["key"] = "The key cannot change: contacts store their values under it."
    if field_type is not None and field_type != custom_field.field_type:
        errors["field_type"] = "The type cannot change: delete the field and create it again."
    if errors:
        raise ValidationError(errors)
    cleaned = _clean_choices(custom_field.field_type, choices)
    removed = set(custom_field.choices or ()) - set(cleaned)
    held = (
        Contact.objects.filter(workspace_id=custom_field.workspace_id)
        .filter(**{f"custom__{custom_field.key}__in": sorted(removed)})
        .exists()
        if removed
        else False
    )
    if held:
        raise ValidationError(
            {"choices": f"Contacts still hold {', '.join(sorted(removed))}: change their values first."}
        )
    custom_field.label = label.strip()
    custom_field.choices = cleaned
    custom_field.full_clean(exclude=["workspace"], validate_constraints=False)
    custom_field.save(update_fields=["label", "choices", "updated_at"])
    return custom_field


class _JSONWithoutKey(Func):
    """A JSON column minus one top-level key, computed inside the UPDATE: JSON_REMOVE on SQLite
    (and MySQL), the jsonb `-` operator on PostgreSQL."""

    function = "JSON_REMOVE"
    output_field = JSONField()

    def __init__(self, field_name: str, *, key: str) -> None:
        super().__init__(F(field_name), Value(f'$."{key}"'))
        self.key = key

    def as_postgresql(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra_context: Any
    ) -> tuple[str, Sequence[Any]]:
        clone = self.copy()
        clone.set_source_expressions([self.get_source_expressions()[0], Cast(Value(self.key), TextField())])
        return Func.as_sql(
            clone, compiler, connection, template="(%(expressions)s)", arg_joiner=" - ", **extra_context
        )


@transaction.atomic
def custom_field_delete_with_values(*, custom_field: CustomField) -> int:
    """Delete a custom field and remove its key from every contact of the workspace in one statement
    (no personal data left behind that nobody can see or export). Returns the contacts changed."""
    changed = Contact.objects.filter(
        workspace_id=custom_field.workspace_id, custom__has_key=custom_field.key
    ).update(custom=_JSONWithoutKey("custom", key=custom_field.key), updated_at=timezone.now())
    custom_field_delete(custom_field=custom_field)
    return changed


# --- Checking values before a write (the admin's form shows the errors on its fields) -------------


def contact_validate(
    *, workspace: Workspace, values: Mapping[str, Any], contact: Contact | None = None
) -> dict[str, Any]:
    """Check `values` as `contact_create` (no `contact`) or `contact_update` would, without writing:
    the cleaned values, or a `ValidationError` naming the fields to blame."""
    from copy import copy  # here, not at the top: this block was appended to a shared module

    cleaned = _clean_or_raise(workspace, values)
    probe = Contact(workspace=workspace) if contact is None else copy(contact)
    _apply_values(probe, cleaned)
    if not probe.email_normalized and not probe.phone_e164:
        raise ValidationError({"email": "A contact needs an email address or a phone number."})
    _check_unique(probe)
    _check_consent_allowed(probe, _consent_changes(probe, cleaned, ""))
    return cleaned
