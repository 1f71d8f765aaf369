"""Reading uploaded files: sniffing, headers, streamed rows and every way a file can be broken."""

from __future__ import annotations

import codecs
import datetime as dt
import tracemalloc
import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook

from apps.contacts.importing.reading import (
    FileFormat,
    ImportFileError,
    Row,
    count_rows,
    iter_rows,
    read_header,
    sniff,
)

CSV = FileFormat(kind="csv", encoding="utf-8", delimiter=",")


@pytest.fixture
def write(tmp_path: Path):
    """Write bytes (or UTF-8 text) to a file in the test's directory and return its path."""

    def write(content: bytes | str, name: str = "contacts.csv") -> Path:
        path = tmp_path / name
        path.write_bytes(content.encode() if isinstance(content, str) else content)
        return path

    return write


def rows_of(path: Path, fmt: FileFormat = CSV, **options) -> list[Row]:
    return list(iter_rows(path, fmt, **{"expected_columns": 2, **options}))


def workbook_path(tmp_path: Path, rows: list[list[object]], name: str = "contacts.xlsx") -> Path:
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    workbook.create_sheet("Second").append(["ignored"])
    path = tmp_path / name
    workbook.save(path)
    return path


# --- sniff -----------------------------------------------------------------------------------------


def test_sniff_reads_a_comma_separated_utf8_file(write) -> None:
    path = write("email,first_name\nmaya@example.com,Maya\n")

    assert sniff(path) == FileFormat(kind="csv", encoding="utf-8", delimiter=",")


def test_sniff_reads_a_semicolon_cp1252_file_with_a_german_header(write) -> None:
    path = write("E-Mail;Straße;Größe\nmaya@example.com;Hauptstraße 1;1,5\n".encode("cp1252"))

    fmt = sniff(path)

    assert fmt == FileFormat(kind="csv", encoding="cp1252", delimiter=";")
    assert read_header(path, fmt) == ["E-Mail", "Straße", "Größe"]


def test_sniff_reads_a_utf8_bom_file_as_utf8_sig(write) -> None:
    path = write(codecs.BOM_UTF8 + b"email;name\nmaya@example.com;Maya\n")

    assert sniff(path) == FileFormat(kind="csv", encoding="utf-8-sig", delimiter=";")


def test_sniff_reads_excel_unicode_text_as_tab_delimited_utf16(write) -> None:
    path = write("email\tVorname\r\nmaya@example.com\tMaja\r\n".encode("utf-16"))

    assert sniff(path) == FileFormat(kind="csv", encoding="utf-16", delimiter="\t")


def test_sniff_reads_a_pipe_delimited_file(write) -> None:
    path = write("email|name|city\na@example.com|Ann|Köln\nb@example.com|Bo|Bonn\n")

    assert sniff(path).delimiter == "|"


def test_sniff_ignores_delimiters_inside_quoted_cells(write) -> None:
    path = write('email,note\na@example.com,"likes; semicolons; a lot"\nb@example.com,"x; y; z"\n')

    assert sniff(path).delimiter == ","


def test_sniff_prefers_the_delimiter_that_splits_every_row_alike(write) -> None:
    path = write("email;total\na@example.com;1,5\nb@example.com;2,75\nc@example.com;3\n")

    assert sniff(path).delimiter == ";"


def test_sniff_reads_a_single_column_file(write) -> None:
    path = write("email\na@example.com\nb@example.com\n")

    assert sniff(path) == FileFormat(kind="csv", encoding="utf-8", delimiter=",")


def test_sniff_falls_back_to_latin1_when_cp1252_cannot_decode_either(write) -> None:
    path = write(b"email,name\na@example.com,\x81bel\n")

    assert sniff(path).encoding == "iso8859-1"


def test_sniff_lets_an_explicit_encoding_and_delimiter_win(write) -> None:
    path = write("email,name\na@example.com,Ann\n")

    assert sniff(path, encoding="Windows-1252", delimiter=";") == FileFormat("csv", "cp1252", ";")


def test_sniff_reads_an_explicit_utf8_choice_of_a_bom_file_as_utf8_sig(write) -> None:
    path = write(codecs.BOM_UTF8 + b"email\na@example.com\n")

    assert sniff(path, encoding="utf-8").encoding == "utf-8-sig"


def test_sniff_rejects_an_unknown_encoding_name(write) -> None:
    path = write("email\na@example.com\n")

    with pytest.raises(ImportFileError, match="“klingon” is not an encoding we know"):
        sniff(path, encoding="klingon")


def test_sniff_rejects_an_empty_file(write) -> None:
    with pytest.raises(ImportFileError, match=r"^The file is empty\.$"):
        sniff(write(b""))


def test_sniff_rejects_a_file_of_only_blank_lines_as_empty(write) -> None:
    with pytest.raises(ImportFileError, match=r"^The file is empty\.$"):
        sniff(write(codecs.BOM_UTF8 + b"\r\n\r\n  \n"))


def test_sniff_rejects_a_zip_renamed_to_csv(write, tmp_path: Path) -> None:
    path = tmp_path / "contacts.csv"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("contacts.csv", "email\na@example.com\n")

    with pytest.raises(ImportFileError, match="This looks like a ZIP archive, not a CSV file"):
        sniff(path)


def test_sniff_rejects_a_binary_file_renamed_to_csv(write) -> None:
    path = write(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00" * 20)

    with pytest.raises(ImportFileError, match="This is a binary file"):
        sniff(path)


def test_sniff_rejects_binary_content_without_nul_bytes(write) -> None:
    path = write(bytes(range(1, 32)) * 50)

    with pytest.raises(ImportFileError, match="This is a binary file"):
        sniff(path)


def test_sniff_rejects_an_old_excel_workbook(write) -> None:
    path = write(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512, name="contacts.xls")

    with pytest.raises(ImportFileError, match=r"old Excel workbook \(\.xls\)"):
        sniff(path)


def test_sniff_points_out_utf16_without_a_byte_order_mark(write) -> None:
    path = write("email\tname\r\na@example.com\tAnn\r\n".encode("utf-16-le"))

    with pytest.raises(ImportFileError, match="UTF-16 text without a byte-order mark"):
        sniff(path)


def test_sniff_reads_utf16_without_a_byte_order_mark_when_told(write) -> None:
    path = write("email\tname\r\na@example.com\tAnn\r\n".encode("utf-16-le"))

    fmt = sniff(path, encoding="utf-16-le")

    assert fmt == FileFormat("csv", "utf-16-le", "\t")
    assert rows_of(path, fmt) == [Row(2, ["a@example.com", "Ann"])]


def test_sniff_rejects_thousands_of_columns(write) -> None:
    path = write(",".join(f"column {n}" for n in range(3000)) + "\n")

    with pytest.raises(ImportFileError, match="The header has 3,000 columns; at most 500 are allowed"):
        sniff(path)


def test_sniff_recognises_a_real_xlsx_whatever_its_name(tmp_path: Path) -> None:
    path = workbook_path(tmp_path, [["email"], ["a@example.com"]], name="contacts.csv")

    assert sniff(path) == FileFormat(kind="xlsx", encoding="", delimiter="")


def test_sniff_rejects_a_workbook_that_unpacks_beyond_the_limit(tmp_path: Path) -> None:
    path = workbook_path(tmp_path, [["email"], ["a@example.com"]])
    with zipfile.ZipFile(path, "a", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/media/padding.bin", b"\x00" * 30_000_000)  # ~30 KB on disk
    assert path.stat().st_size < 1_000_000

    with pytest.raises(ImportFileError, match="This workbook unpacks to 30 MB; the limit is 20 MB"):
        sniff(path, max_unzipped_bytes=20_000_000)


# --- read_header -----------------------------------------------------------------------------------


def test_read_header_strips_cells_and_never_glues_a_bom_to_the_first_name(write) -> None:
    path = write(codecs.BOM_UTF8 + b" email , First Name \na@example.com,Ann\n")

    assert read_header(path, CSV) == ["email", "First Name"]


def test_read_header_rejects_duplicate_names_case_insensitively_naming_their_columns(write) -> None:
    path = write("Email,Name,email,Phone,NAME\n")

    with pytest.raises(ImportFileError) as error:
        read_header(path, CSV)

    assert str(error.value) == (
        "Each column needs its own name; these repeat: “Email” (columns 1, 3); “Name” (columns 2, 5)."
    )


def test_read_header_allows_several_unnamed_columns(write) -> None:
    path = write("email,,name,,\n")

    assert read_header(path, CSV) == ["email", "", "name", "", ""]


def test_read_header_rejects_more_columns_than_the_limit(write) -> None:
    path = write(",".join(f"c{n}" for n in range(12)) + "\n")

    with pytest.raises(ImportFileError, match="The header has 12 columns; at most 10 are allowed"):
        read_header(path, CSV, max_columns=10)


def test_read_header_rejects_an_empty_first_row(write) -> None:
    path = write(",,\na@example.com,Ann,\n")

    with pytest.raises(ImportFileError, match="The first row is empty"):
        read_header(path, CSV)


def test_read_header_rejects_a_header_cell_longer_than_the_cell_limit(write) -> None:
    path = write("x" * 20_000 + "\n")

    with pytest.raises(ImportFileError, match="Row 1: the cell in column 1 has 20,000 characters"):
        read_header(path, CSV)


def test_read_header_rejects_an_enormous_single_line_without_reading_it_whole(write) -> None:
    path = write("a," * 3_000_000)

    with pytest.raises(ImportFileError, match="Row 1: a line is longer than 2,000,300 characters"):
        read_header(path, CSV, max_columns=99, max_cell_chars=10_000)


def test_read_header_reads_a_file_with_cr_only_line_endings(write) -> None:
    path = write("email,name\ra@example.com,Ann\r")

    assert read_header(path, CSV) == ["email", "name"]


# --- iter_rows: CSV --------------------------------------------------------------------------------


def test_iter_rows_numbers_rows_as_a_spreadsheet_does(write) -> None:
    path = write("email,name\na@example.com,Ann\nb@example.com,Bo\n")

    assert rows_of(path) == [Row(2, ["a@example.com", "Ann"]), Row(3, ["b@example.com", "Bo"])]


def test_iter_rows_yields_nothing_for_a_header_only_file(write) -> None:
    assert rows_of(write("email,name\n")) == []


def test_iter_rows_skips_blank_lines_but_counts_them(write) -> None:
    path = write("email,name\n\na@example.com,Ann\n,\n  ,  \nb@example.com,Bo\n\n")

    assert [row.number for row in rows_of(path)] == [3, 6]


def test_iter_rows_rejects_a_short_row_instead_of_padding_it(write) -> None:
    path = write("a,b,c,d,e,f,g,h,i\n1,2,3,4,5,6,7\n")

    rows = rows_of(path, expected_columns=9)

    assert rows == [Row(2, ["1", "2", "3", "4", "5", "6", "7"], "Row has 7 cells but the header has 9.")]


def test_iter_rows_rejects_a_long_row(write) -> None:
    path = write("email,name\na@example.com,Doe, Jane\n")

    assert rows_of(path)[0].error == "Row has 3 cells but the header has 2."


def test_iter_rows_keeps_delimiters_newlines_and_doubled_quotes_in_quoted_cells(write) -> None:
    path = write('email,note\r\na@example.com,"one, two\r\nthree ""quoted"""\r\nb@example.com,x\r\n')

    assert rows_of(path) == [
        Row(2, ["a@example.com", 'one, two\r\nthree "quoted"']),
        Row(3, ["b@example.com", "x"]),
    ]


def test_iter_rows_reads_cr_only_line_endings(write) -> None:
    path = write('email,note\ra@example.com,"two\rlines"\rb@example.com,x\r')

    assert rows_of(path) == [Row(2, ["a@example.com", "two\rlines"]), Row(3, ["b@example.com", "x"])]


def test_iter_rows_reads_tab_delimited_utf16_with_its_bom(write) -> None:
    path = write("email\tVorname\r\nmaya@example.com\tMaja Groß\r\n".encode("utf-16"))
    fmt = sniff(path)

    assert read_header(path, fmt) == ["email", "Vorname"]
    assert rows_of(path, fmt) == [Row(2, ["maya@example.com", "Maja Groß"])]


def test_iter_rows_reads_a_utf8_bom_file(write) -> None:
    path = write(codecs.BOM_UTF8 + "email,name\nä@example.com,Jörg\n".encode())

    assert rows_of(path, sniff(path)) == [Row(2, ["ä@example.com", "Jörg"])]


def test_iter_rows_raises_on_unbalanced_quotes_naming_the_row_they_start_in(write) -> None:
    path = write('email,note\na@example.com,fine\nb@example.com,"never closed\nc@example.com,x\n')

    with pytest.raises(ImportFileError, match=r"^Row 3: a quoted cell never ends \(unbalanced quotes\)\.$"):
        rows_of(path)


def test_iter_rows_raises_on_text_after_a_closing_quote(write) -> None:
    path = write('email,note\na@example.com,"quoted"trailing\n')

    with pytest.raises(ImportFileError, match="Row 2: a quoted cell has more text after its closing quote"):
        rows_of(path)


def test_iter_rows_raises_on_an_undecodable_byte_naming_its_row_and_the_byte(write) -> None:
    padding = "x" * 200  # row 5,003 lies beyond the part sniff samples, which is valid UTF-8
    lines = [b"email,name"] + [f"user{n}@example.com,Jörg {padding}".encode() for n in range(2, 5003)]
    lines += [b"bad@example.com,J\x9frg", b"after@example.com,x"]
    path = write(b"\n".join(lines) + b"\n")

    with pytest.raises(ImportFileError) as error:
        rows_of(path, sniff(path))

    assert str(error.value) == (
        "Row 5,003: byte 0x9f cannot be read as UTF-8; choose the file's encoding (e.g. Windows-1252)."
    )


def test_iter_rows_yields_every_row_before_an_undecodable_one(write) -> None:
    path = write(b"email,name\na@example.com,Ann\nb@example.com,B\xffo\n")
    seen: list[int] = []

    with pytest.raises(ImportFileError, match="Row 3: byte 0xff"):
        seen.extend(row.number for row in iter_rows(path, CSV, expected_columns=2))

    assert seen == [2]


def test_iter_rows_raises_on_a_cell_longer_than_the_limit(write) -> None:
    path = write("email,note\na@example.com," + "x" * 501 + "\n")

    with pytest.raises(
        ImportFileError, match="Row 2: the cell in column 2 has 501 characters; the limit is 500"
    ):
        rows_of(path, max_cell_chars=500)


def test_iter_rows_suspects_an_unclosed_quote_in_an_overlong_multiline_cell(write) -> None:
    path = write('email,note\na@example.com,"opened\n' + "b@example.com,x\n" * 50 + 'c,closed"\n')

    with pytest.raises(ImportFileError, match="most likely a quote is never closed"):
        rows_of(path, max_cell_chars=200)


def test_iter_rows_raises_on_an_enormous_single_line(write) -> None:
    path = write("email,name\n" + "a@example.com;" * 2_000_000 + "\n")

    with pytest.raises(ImportFileError, match="Row 2: a line is longer than 60,009 characters"):
        rows_of(path)


def test_iter_rows_raises_when_the_file_has_more_rows_than_allowed(write) -> None:
    path = write("email,name\n" + "a@example.com,Ann\n" * 4)

    with pytest.raises(ImportFileError, match="The file has more than 3 rows"):
        rows_of(path, max_rows=3)


def test_iter_rows_reads_exactly_the_allowed_number_of_rows(write) -> None:
    path = write("email,name\n" + "a@example.com,Ann\n" * 3 + "\n\n")

    assert len(rows_of(path, max_rows=3)) == 3


def test_iter_rows_raises_on_a_nul_byte_in_the_middle(write) -> None:
    path = write(b"email,name\na@example.com,Ann\nb@example.com,B\x00o\n")

    with pytest.raises(ImportFileError, match="Row 3: the row contains a NUL byte"):
        rows_of(path)


def test_iter_rows_leaves_too_long_values_to_the_cleaning_rules(write) -> None:
    path = write("email,first_name\na@example.com," + "x" * 400 + "\n")

    assert rows_of(path)[0].cells[1] == "x" * 400


def test_iter_rows_streams_a_50_mb_file_in_flat_memory(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    line = "user{:07d}@example.com,Firstname,Lastname,+49 151 2345678,Berlin,10115,2021-03-04,129.90\n"
    with path.open("w", encoding="utf-8") as handle:
        handle.write("email,first,last,phone,city,zip,date,total\n")
        for start in range(0, 560_000, 10_000):
            handle.write("".join(line.format(n) for n in range(start, start + 10_000)))
    assert path.stat().st_size > 50_000_000

    tracemalloc.start()
    try:
        count = sum(1 for _ in iter_rows(path, sniff(path), expected_columns=8))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert count == 560_000
    assert peak < 20_000_000


# --- XLSX ------------------------------------------------------------------------------------------


def test_iter_rows_reads_the_first_sheet_of_an_xlsx_as_text(tmp_path: Path) -> None:
    born = dt.datetime(1990, 5, 17)  # noqa: DTZ001 - Excel's datetimes are naive
    visit = dt.datetime(2024, 3, 1, 14, 30)  # noqa: DTZ001
    path = workbook_path(
        tmp_path,
        [
            ["email", "born", "orders", "total", "member", "last visit"],
            ["a@example.com", born, 12, 129.9, True, visit],
            [],
            ["b@example.com", dt.date(2001, 1, 2), 3.0, None],
        ],
    )
    fmt = sniff(path)

    assert read_header(path, fmt) == ["email", "born", "orders", "total", "member", "last visit"]
    assert list(iter_rows(path, fmt, expected_columns=6)) == [
        Row(2, ["a@example.com", "1990-05-17", "12", "129.9", "TRUE", "2024-03-01T14:30:00"]),
        Row(4, ["b@example.com", "2001-01-02", "3", "", "", ""]),
    ]


def test_read_header_of_an_xlsx_ignores_trailing_empty_columns(tmp_path: Path) -> None:
    path = workbook_path(tmp_path, [["email", "name", None, "  "], ["a@example.com", "Ann"]])

    assert read_header(path, sniff(path)) == ["email", "name"]


def test_iter_rows_of_an_xlsx_reports_values_beyond_the_header(tmp_path: Path) -> None:
    path = workbook_path(tmp_path, [["email", "name"], ["a@example.com", "Ann", None, "stray"]])

    rows = list(iter_rows(path, sniff(path), expected_columns=2))

    assert rows == [Row(2, ["a@example.com", "Ann", "", "stray"], "Row has 4 cells but the header has 2.")]


def test_read_header_rejects_a_damaged_workbook(tmp_path: Path) -> None:
    path = tmp_path / "broken.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(
            "[Content_Types].xml",
            '<Types><Override ContentType="application/vnd.openxmlformats-officedocument.'
            'spreadsheetml.sheet.main+xml" PartName="/xl/workbook.xml"/></Types>',
        )
        archive.writestr("xl/workbook.xml", "<not a workbook")

    with pytest.raises(ImportFileError, match="The Excel file cannot be read"):
        read_header(path, sniff(path))


def test_read_header_refuses_xml_entities_in_a_workbook(tmp_path: Path) -> None:
    source = workbook_path(tmp_path, [["email"], ["a@example.com"]])
    laughs = b'<!DOCTYPE x [<!ENTITY a "lol"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
    path = tmp_path / "laughs.xlsx"
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(path, "w") as archive:
        for info in original.infolist():
            data = original.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = laughs + data.split(b"?>", 1)[-1]
            archive.writestr(info, data)

    with pytest.raises(ImportFileError, match="The Excel file cannot be read"):
        read_header(path, sniff(path))


# --- count_rows ------------------------------------------------------------------------------------


def test_count_rows_estimates_the_data_rows_of_a_csv(write) -> None:
    assert count_rows(write("email\na\nb\nc"), CSV) == 3


def test_count_rows_counts_cr_only_line_endings(write) -> None:
    assert count_rows(write("email\ra\rb\r"), CSV) == 2


def test_count_rows_reads_the_size_of_an_xlsx_sheet(tmp_path: Path) -> None:
    path = workbook_path(tmp_path, [["email"], ["a@example.com"], ["b@example.com"]])

    assert count_rows(path, sniff(path)) == 2
