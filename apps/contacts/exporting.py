"""Exports of any filtered contact list as CSV (streamed) or XLSX (written to a temporary file).

Both walk the contacts in id order with a keyset cursor, a few thousand at a time, so memory stays
flat whatever the list's size. Every text cell is escaped against spreadsheet formula injection.
"""

from __future__ import annotations

import csv
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal
from typing import IO, Any

from django.db.models import QuerySet
from openpyxl import Workbook

from apps.contacts.cleaning import FIELD_NAMES
from apps.contacts.models import Contact
from apps.contacts.selectors import with_tags

CHUNK = 2000
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
CUSTOM_PREFIX = "custom."


def escape_cell(value: str) -> str:
    """Spreadsheets run cells starting with = + - @ (or tab, CR) as formulas: prefix a quote."""
    return f"'{value}" if value.startswith(FORMULA_TRIGGERS) else value


def export_columns(custom_keys: Sequence[str]) -> list[str]:
    """`id`, the contact fields in API order (custom expanded to one column per key), timestamps."""
    plain = [name for name in FIELD_NAMES if name != "custom"]
    return ["id", *plain, *(f"{CUSTOM_PREFIX}{key}" for key in custom_keys), "created_at", "updated_at"]


def _cell(contact: Contact, column: str) -> Any:
    if column == "workspace":
        return contact.workspace.slug
    if column == "tags":
        return ", ".join(tag.name for tag in contact.tags.all())
    if column.startswith(CUSTOM_PREFIX):
        return contact.custom.get(column.removeprefix(CUSTOM_PREFIX))
    return getattr(contact, column)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    return escape_cell(str(value))


def _chunks(contacts: QuerySet[Contact]) -> Iterator[list[Contact]]:
    last_id = 0
    ordered = with_tags(contacts.order_by("id"))
    while True:
        chunk = list(ordered.filter(id__gt=last_id)[:CHUNK])
        if not chunk:
            return
        yield chunk
        last_id = chunk[-1].id


def rows(contacts: QuerySet[Contact], columns: Sequence[str]) -> Iterator[list[str]]:
    for chunk in _chunks(contacts):
        for contact in chunk:
            yield [_text(_cell(contact, column)) for column in columns]


class _Echo:
    """A file-like object whose write returns the line, for csv.writer inside a generator."""

    def write(self, value: str) -> str:
        return value


def csv_stream(header: Sequence[str], data: Iterable[Sequence[str]]) -> Iterator[str]:
    """CSV lines for a StreamingHttpResponse, written as they are read. Starts with a BOM so Excel
    reads UTF-8; cells are the caller's to escape (`escape_cell`)."""
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow(list(header))
    for row in data:
        yield writer.writerow(row)


def csv_lines(contacts: QuerySet[Contact], columns: Sequence[str]) -> Iterator[str]:
    """The contacts as CSV lines."""
    return csv_stream(columns, rows(contacts, columns))


def _xlsx_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if hasattr(value, "tzinfo") and getattr(value, "tzinfo", None) is not None:
        return value.replace(tzinfo=None)  # Excel has no time zones: UTC, as stored
    if isinstance(value, str):
        return escape_cell(value)
    return value


def write_xlsx(contacts: QuerySet[Contact], columns: Sequence[str]) -> IO[bytes]:
    """An XLSX in a temporary file (openpyxl's write-only mode keeps memory flat), rewound."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Contacts")
    sheet.append(list(columns))
    for chunk in _chunks(contacts):
        for contact in chunk:
            sheet.append([_xlsx_value(_cell(contact, column)) for column in columns])
    handle = tempfile.TemporaryFile()  # noqa: SIM115 - handed to FileResponse, which closes it
    workbook.save(handle)
    handle.seek(0)
    return handle
