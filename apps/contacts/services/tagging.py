"""Tags: the workspace's vocabulary, and putting them on many contacts set-based."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import QuerySet
from django.db.models.functions import Lower
from django.utils import timezone

from apps.contacts.models import Contact, ContactTag, Tag
from apps.workspaces.models import Workspace

if TYPE_CHECKING:
    pass


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
    held = set(ContactTag.objects.filter(contact=contact).values_list("tag_id", flat=True))
    wanted = {tag.id for tag in tags}
    if held == wanted:
        return tags
    ContactTag.objects.filter(contact=contact, tag_id__in=held - wanted).delete()
    ContactTag.objects.bulk_create(
        [ContactTag(contact=contact, tag_id=tag_id) for tag_id in wanted - held], ignore_conflicts=True
    )
    _touch(Contact.objects.filter(id=contact.id))
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
        added = cursor.rowcount
    if added:
        _touch(contacts)
    return added


def _touch(contacts: QuerySet[Contact]) -> None:
    """Tag changes move `updated_at`, so integrations syncing with `updated_since` see them."""
    Contact.objects.filter(id__in=contacts.order_by().values("id")).update(updated_at=timezone.now())


@transaction.atomic
def contacts_untag(*, contacts: QuerySet[Contact], tag: Tag) -> int:
    links = ContactTag.objects.filter(tag=tag, contact__in=contacts.order_by().values("id"))
    _touch(Contact.objects.filter(id__in=links.values("contact_id")))
    deleted, _ = links.delete()
    return deleted


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
