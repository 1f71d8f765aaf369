"""Reading uploaded contact lists (CSV in any common dialect and encoding, or XLSX) one row at a time.

Why not django-import-export's readers: they load the whole file into memory and pad short rows, so a
misaligned row (a delimiter inside an unquoted value) is silently imported into the wrong fields.
Here a file is streamed (memory stays flat for a 1 GB file), a row of the wrong width is reported, and
whatever makes the rest of a file unreadable stops the import with a message naming the row.

Row numbers are the ones a spreadsheet shows: 1 is the header, blank lines count, and a quoted cell
spanning several lines is one row.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import datetime as dt
import io
import re
import warnings
import zipfile
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, TypeAlias

import openpyxl
from openpyxl.utils.exceptions import InvalidFileException

DEFAULT_MAX_COLUMNS = 500
DEFAULT_MAX_CELL_CHARS = 10_000
DEFAULT_MAX_UNZIPPED_BYTES = 200 * 1024 * 1024
DELIMITERS = (",", ";", "\t", "|")
SAMPLE_BYTES = 1024 * 1024  # enough rows to see the encoding and the delimiter, read once
SNIFF_LINES = 50

# csv's field limit is process-global, so it is set once here and only ever raised: other readers in
# the process keep working. 128 Ki characters (CPython's default) is four times Excel's own cell limit,
# and it bounds the memory a never-closed quote can take before the reader gives up.
CSV_FIELD_LIMIT = 131_072
csv.field_size_limit(max(csv.field_size_limit(), CSV_FIELD_LIMIT))

# Undecodable bytes become lone surrogates (which no valid decoding produces) instead of failing the
# whole buffered chunk, so the error can name the row that holds the byte, not the chunk around it.
_MARK_UNDECODABLE = "ensemble.mark_undecodable"
# A NUL character (U+0000) is no text either, and PostgreSQL refuses to store it.
_UNREADABLE = re.compile("[\x00\udc00-\udcff]")


def _mark_undecodable(error: UnicodeError) -> tuple[str, int]:
    if not isinstance(error, UnicodeDecodeError):
        raise error
    marks = "".join(chr(0xDC00 + byte) for byte in error.object[error.start : error.end])
    return marks, error.end


codecs.register_error(_MARK_UNDECODABLE, _mark_undecodable)

_SIGNATURES = (
    (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
        "This is an old Excel workbook (.xls) or a password-protected one: "
        "save it as .xlsx (without a password) or as CSV.",
    ),
    (b"%PDF", "This is a PDF document, not a CSV or Excel file."),
    (b"\x1f\x8b", "This is a gzip archive, not a CSV file: unpack it first."),
)
_LABELS = {"utf-8": "UTF-8", "utf-8-sig": "UTF-8", "cp1252": "Windows-1252", "iso8859-1": "Latin-1"}
# What openpyxl raises for a damaged workbook, in its own words or its XML parser's (SyntaxError).
_WORKBOOK_ERRORS: tuple[type[Exception], ...] = (zipfile.BadZipFile, InvalidFileException, KeyError)
_WORKBOOK_ERRORS += (ValueError, TypeError, IndexError, AttributeError, SyntaxError)


_Records: TypeAlias = Generator[tuple[int, list[str]], None, None]  # (row number, cells), blank rows too


class ImportFileError(Exception):
    """A problem with the whole file; the message is for the marketer who uploaded it."""


@dataclass(frozen=True)
class FileFormat:
    kind: str  # "csv" | "xlsx"
    encoding: str  # e.g. "utf-8-sig", "utf-16", "cp1252"; "" for xlsx
    delimiter: str  # "," ";" "\t" "|"; "" for xlsx


@dataclass(frozen=True)
class Row:
    number: int  # the file's row number: 1 is the header, data rows start at 2
    cells: list[str]
    error: str | None = None


# --- Sniffing --------------------------------------------------------------------------------------


def sniff(
    path: Path,
    *,
    encoding: str | None = None,
    delimiter: str | None = None,
    max_columns: int = DEFAULT_MAX_COLUMNS,
    max_unzipped_bytes: int = DEFAULT_MAX_UNZIPPED_BYTES,
) -> FileFormat:
    """The file's kind, encoding and delimiter, from its content (never its name); explicit choices win.

    This is the gate: a file that passes can be read by `read_header` and `iter_rows`, except for
    problems further down than the sample (they name their row when reached).
    """
    with path.open("rb") as handle:
        head = handle.read(SAMPLE_BYTES)
        whole = not handle.read(1)
    if not head:
        raise ImportFileError("The file is empty.")
    if head.startswith(b"PK"):
        return _sniff_zip(path, max_unzipped_bytes)
    for signature, message in _SIGNATURES:
        if head.startswith(signature):
            raise ImportFileError(message)
    chosen = _canonical_encoding(encoding, head) if encoding else _detect_encoding(head)
    text = codecs.getincrementaldecoder(chosen)("replace").decode(head, final=whole)
    if not text.strip("\ufeff \t\r\n"):
        raise ImportFileError("The file is empty.")
    sample = text[:65_536]
    # Text has few control characters (FileMaker writes \v for line breaks in cells); binary has many.
    if sum(1 for char in sample if char < " " and char not in "\t\n\v\f\r") > 8 + len(sample) // 100:
        raise ImportFileError("This is a binary file, not a CSV or Excel file.")
    lines = _sample_lines(text, whole)
    chosen_delimiter = _check_delimiter(delimiter) if delimiter else _guess_delimiter(lines)
    width = _first_width(lines, chosen_delimiter)
    if width > max_columns:
        raise ImportFileError(_too_many_columns(width, max_columns))
    return FileFormat(kind="csv", encoding=chosen, delimiter=chosen_delimiter)


def _sniff_zip(path: Path, max_unzipped_bytes: int) -> FileFormat:
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
            unzipped = sum(info.file_size for info in infos)
            content_types = next((i for i in infos if i.filename == "[Content_Types].xml"), None)
            # zipfile stops at an entry's declared size, so checking the sizes bounds the real work.
            types = archive.read(content_types) if content_types and content_types.file_size < 2**20 else b""
    except (zipfile.BadZipFile, OSError) as error:
        raise ImportFileError("This looks like a damaged ZIP archive, not a CSV or Excel file.") from error
    if b"spreadsheetml.sheet.main" not in types and b"sheet.macroEnabled.main" not in types:
        if b"ms-excel.sheet.binary" in types:
            raise ImportFileError("This is a binary Excel workbook (.xlsb): save it as .xlsx or CSV.")
        raise ImportFileError("This looks like a ZIP archive, not a CSV file: upload the CSV or XLSX inside.")
    if unzipped > max_unzipped_bytes:
        raise ImportFileError(
            f"This workbook unpacks to {unzipped / 1e6:,.0f} MB; the limit is "
            f"{max_unzipped_bytes / 1e6:,.0f} MB. Save it as CSV, or split it."
        )
    return FileFormat(kind="xlsx", encoding="", delimiter="")


def _canonical_encoding(name: str, head: bytes = b"") -> str:
    try:
        canonical = codecs.lookup(name).name
    except LookupError as error:
        raise ImportFileError(
            f"“{name}” is not an encoding we know: try UTF-8, Windows-1252 or UTF-16."
        ) from error
    # utf-8-sig reads files with and without a BOM; plain utf-8 would glue the BOM to the first header.
    return "utf-8-sig" if canonical == "utf-8" and head.startswith(codecs.BOM_UTF8) else canonical


def _detect_encoding(head: bytes) -> str:
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        return "utf-32"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"  # Excel's "Unicode Text"; NUL bytes are legitimate here
    if b"\x00" in head:
        odd, even = head[1::2], head[0::2]
        if max(odd.count(0), even.count(0)) > 0.9 * max(len(odd), 1):
            raise ImportFileError(
                "This looks like UTF-16 text without a byte-order mark: choose its encoding (UTF-16LE or UTF-16BE)."
            )
        raise ImportFileError("This is a binary file, not a CSV file (it contains NUL bytes).")
    for candidate in ("utf-8", "cp1252"):
        try:
            # final=False: the sample may end in the middle of a multi-byte character.
            codecs.getincrementaldecoder(candidate)().decode(head, final=False)
        except UnicodeDecodeError:
            continue
        return candidate
    return "iso8859-1"  # decodes every byte; cp1252 leaves five undefined


def _sample_lines(text: str, whole: bool) -> list[str]:
    lines = list(io.StringIO(text, newline=""))
    if not whole and len(lines) > 1:
        lines.pop()  # cut off by the sample's end
    return lines[:SNIFF_LINES]


def _check_delimiter(delimiter: str) -> str:
    if len(delimiter) != 1 or delimiter in '"\r\n' or delimiter.isalnum():
        raise ImportFileError("Choose a delimiter of one character, such as a comma, semicolon or tab.")
    return delimiter


def _widths(lines: list[str], delimiter: str) -> list[int]:
    try:
        return [len(r) for r in csv.reader(lines, delimiter=delimiter) if any(c.strip() for c in r)]
    except csv.Error:
        return []


def _guess_delimiter(lines: list[str]) -> str:
    """The candidate splitting every sampled row into as many cells as the header (quotes respected),
    with more than one column; csv.Sniffer, restricted to the candidates, only breaks ties."""
    scores: dict[str, tuple[float, int]] = {}
    for candidate in DELIMITERS:
        widths = _widths(lines, candidate)
        if widths and widths[0] > 1:
            scores[candidate] = (sum(w == widths[0] for w in widths) / len(widths), widths[0])
    if not scores:
        return ","  # a single column: any delimiter reads it
    best = max(scores.values())[0]
    tied = [candidate for candidate, (share, _) in scores.items() if share == best]
    if len(tied) > 1:
        with contextlib.suppress(csv.Error):
            sniffed = csv.Sniffer().sniff("".join(lines), delimiters="".join(tied)).delimiter
            if sniffed in tied:
                return sniffed
    return max(tied, key=lambda candidate: scores[candidate][1])


def _first_width(lines: list[str], delimiter: str) -> int:
    widths = _widths(lines[:1], delimiter)
    return widths[0] if widths else 0


def _too_many_columns(width: int, limit: int) -> str:
    return f"The header has {width:,} columns; at most {limit:,} are allowed. Is the delimiter right?"


# --- CSV records -----------------------------------------------------------------------------------


class _LineTooLongError(Exception):
    pass


class _Lines:
    """The file's physical lines for csv.reader, each at most `limit` characters, so a file without
    line breaks never loads whole; remembers the first undecodable byte or NUL it passes."""

    def __init__(self, handle: IO[str], limit: int) -> None:
        self.handle, self.limit = handle, limit
        self.undecodable: str | None = None

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        line = self.handle.readline(self.limit)
        if not line:
            raise StopIteration
        if len(line) >= self.limit and line[-1] not in "\r\n":
            raise _LineTooLongError
        if self.undecodable is None and (found := _UNREADABLE.search(line)):
            self.undecodable = found.group()
        return line


def _csv_records(path: Path, fmt: FileFormat, *, line_limit: int) -> _Records:
    """(row number, cells) for every row, blank ones too; whole-file problems raise, naming the row."""
    encoding = _canonical_encoding(fmt.encoding or "utf-8")
    with path.open(encoding=encoding, errors=_MARK_UNDECODABLE, newline="") as handle:
        lines = _Lines(handle, line_limit)
        reader = csv.reader(lines, delimiter=fmt.delimiter or ",", strict=True)
        number = 0
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as error:
                raise ImportFileError(_csv_problem(number + 1, str(error))) from None
            except _LineTooLongError:
                raise ImportFileError(
                    f"Row {number + 1:,}: a line is longer than {line_limit:,} characters, more than its cells "
                    "can hold. Is this really a CSV file, with the right delimiter?"
                ) from None
            number += 1
            if lines.undecodable is not None:
                raise ImportFileError(_undecodable(number, lines.undecodable, encoding))
            yield number, cells


def _csv_problem(number: int, message: str) -> str:
    if message.startswith("unexpected end of data"):
        problem = "a quoted cell never ends (unbalanced quotes)"
    elif message.startswith("field larger than field limit"):
        problem = f"a cell is longer than {CSV_FIELD_LIMIT:,} characters: most likely a quote is never closed"
    elif "expected after" in message:
        problem = "a quoted cell has more text after its closing quote (unbalanced quotes)"
    else:
        problem = f"the row cannot be read ({message})"
    return f"Row {number:,}: {problem}."


def _undecodable(number: int, mark: str, encoding: str) -> str:
    if mark == "\x00":
        return (
            f"Row {number:,}: the row contains a NUL byte: this is a binary file, or its encoding is wrong."
        )
    label = _LABELS.get(encoding, encoding.upper())
    hint = " (e.g. Windows-1252)" if label == "UTF-8" else ""
    return f"Row {number:,}: byte 0x{ord(mark) - 0xDC00:02x} cannot be read as {label}; choose the file's encoding{hint}."


def _line_limit(columns: int, max_cell_chars: int) -> int:
    # Every cell may be quoted with every character a doubled quote; one extra column still fits so
    # that such a row is reported as a row of the wrong width, not as an unreadable file.
    return (columns + 1) * (2 * max_cell_chars + 3)


# --- XLSX records ----------------------------------------------------------------------------------


def _open_workbook(path: Path) -> Any:
    try:
        with warnings.catch_warnings():
            # Workbooks written by other tools lack styles or use extensions: openpyxl says so, harmlessly.
            warnings.simplefilter("ignore", UserWarning)
            return openpyxl.load_workbook(path, read_only=True, data_only=True, keep_links=False)
    except _WORKBOOK_ERRORS as error:
        raise ImportFileError(
            "The Excel file cannot be read: it is damaged or not a real .xlsx workbook."
        ) from error


def _first_sheet(workbook: Any) -> Any:
    if not workbook.worksheets:
        raise ImportFileError("The workbook has no worksheet.")
    return workbook.worksheets[0]


def _xlsx_text(value: Any) -> str:
    """A cell as the text a CSV export would hold: ISO dates, integers without a trailing ".0"."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, dt.datetime):
        # Excel has no date type: a date is a datetime at midnight.
        return (
            value.date().isoformat() if value.time() == dt.time() and not value.tzinfo else value.isoformat()
        )
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else format(value, ".15g")
    return str(value)


def _xlsx_records(path: Path, width: int | None) -> _Records:
    """Rows of the first sheet. A missing cell in a workbook is an empty cell (there is no delimiter
    to get wrong), so rows are trimmed of trailing empty cells and padded to `width`."""
    workbook = _open_workbook(path)
    try:
        sheet = _first_sheet(workbook)
        sheet.reset_dimensions()  # a stale <dimension> would cut rows short or pad them to column XFD
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            cells = [_xlsx_text(value) for value in values]
            while cells and not cells[-1].strip():
                cells.pop()
            if width is not None and len(cells) < width:
                cells.extend([""] * (width - len(cells)))
            yield number, cells
    except _WORKBOOK_ERRORS as error:
        raise ImportFileError(
            "The Excel file cannot be read: it is damaged or not a real .xlsx workbook."
        ) from error
    finally:
        workbook.close()


# --- Public readers --------------------------------------------------------------------------------


def _check_cells(number: int, cells: list[str], max_cell_chars: int) -> None:
    if not cells or max(map(len, cells)) <= max_cell_chars:  # every row once: the loop only to name it
        return
    for index, cell in enumerate(cells):
        if len(cell) > max_cell_chars:
            hint = " (most likely a quote is never closed)" if "\n" in cell or "\r" in cell else ""
            raise ImportFileError(
                f"Row {number:,}: the cell in column {index + 1} has {len(cell):,} characters; "
                f"the limit is {max_cell_chars:,}{hint}."
            )


def read_header(
    path: Path,
    fmt: FileFormat,
    *,
    max_columns: int = DEFAULT_MAX_COLUMNS,
    max_cell_chars: int = DEFAULT_MAX_CELL_CHARS,
) -> list[str]:
    """The column names (row 1), stripped; refuses an empty, oversized or ambiguous header."""
    records: _Records = (
        _xlsx_records(path, None)
        if fmt.kind == "xlsx"
        else _csv_records(path, fmt, line_limit=_line_limit(max_columns, max_cell_chars))
    )
    with contextlib.closing(records):
        first = next(records, None)
    if first is None:
        raise ImportFileError("The file is empty.")
    cells = first[1]
    _check_cells(1, cells, max_cell_chars)
    # A BOM glued to the first name hides the "email" column (django-import-export issue #965).
    headers = [cell.lstrip("\ufeff").strip() for cell in cells]
    if not any(headers):
        raise ImportFileError("The first row is empty: it must name the columns (email, phone, …).")
    if len(headers) > max_columns:
        raise ImportFileError(_too_many_columns(len(headers), max_columns))
    _check_unique(headers)
    return headers


def _check_unique(headers: list[str]) -> None:
    columns: dict[str, list[int]] = {}
    for index, name in enumerate(headers):
        if name:  # unnamed columns (trailing delimiters) are common, and simply left unmapped
            columns.setdefault(name.casefold(), []).append(index + 1)
    repeated = [
        f"“{headers[found[0] - 1]}” (columns {', '.join(map(str, found))})"
        for found in columns.values()
        if len(found) > 1
    ]
    if repeated:
        raise ImportFileError(f"Each column needs its own name; these repeat: {'; '.join(repeated)}.")


def iter_rows(
    path: Path,
    fmt: FileFormat,
    *,
    expected_columns: int,
    max_cell_chars: int = DEFAULT_MAX_CELL_CHARS,
    max_rows: int | None = None,
) -> Iterator[Row]:
    """The data rows, streamed, without blank ones. A row of the wrong width comes with an error and
    its cells as read (never padded); problems that make the rest unreadable raise ImportFileError."""
    if max_cell_chars > CSV_FIELD_LIMIT:
        raise ValueError(f"max_cell_chars can be at most {CSV_FIELD_LIMIT:,}.")
    records: _Records = (
        _xlsx_records(path, expected_columns)
        if fmt.kind == "xlsx"
        else _csv_records(path, fmt, line_limit=_line_limit(expected_columns, max_cell_chars))
    )
    data_rows = 0
    with contextlib.closing(records):
        for number, cells in records:
            if number == 1 or not "".join(cells).strip():
                continue
            _check_cells(number, cells, max_cell_chars)
            data_rows += 1
            if max_rows is not None and data_rows > max_rows:
                raise ImportFileError(
                    f"The file has more than {max_rows:,} rows, the most one import takes: split it."
                )
            if len(cells) != expected_columns:
                noun = "cell" if len(cells) == 1 else "cells"
                error = f"Row has {len(cells)} {noun} but the header has {expected_columns}."
                yield Row(number, cells, error)
            else:
                yield Row(number, cells)


def count_rows(path: Path, fmt: FileFormat) -> int:
    """An estimate of the data rows, for progress bars: line breaks for CSV (a quoted cell spanning
    lines counts more than once), the sheet's recorded size for XLSX."""
    if fmt.kind == "xlsx":
        workbook = _open_workbook(path)
        try:
            sheet = _first_sheet(workbook)
            rows = sheet.max_row or sum(1 for _ in sheet.iter_rows(values_only=True))
        finally:
            workbook.close()
        return max(rows - 1, 0)
    line_feeds = returns = 0
    last = b""
    with path.open("rb") as handle:
        while chunk := handle.read(SAMPLE_BYTES):
            line_feeds += chunk.count(b"\n")
            returns += chunk.count(b"\r")
            last = chunk[-1:]
    lines = max(line_feeds, returns) + (0 if last in (b"\n", b"\r", b"") else 1)
    return max(lines - 1, 0)
