"""Turning cells into contact values: dates, numbers, yes/no, consent, tags and custom fields."""

from __future__ import annotations

import datetime as dt
import pickle
from decimal import Decimal

import pytest

from apps.contacts.cleaning import ContactRules, FieldError, clean_contact_values
from apps.contacts.importing.values import (
    RowParser,
    guess_date_order,
    guess_decimal_comma,
    parse_bool,
    parse_date,
    parse_number,
    row_to_values,
)

# --- Dates -----------------------------------------------------------------------------------------


def test_guess_date_order_is_day_first_when_a_first_part_exceeds_12() -> None:
    assert guess_date_order(["03/04/2021", "", "25/12/2020"]) == "dmy"


def test_guess_date_order_is_month_first_when_a_second_part_exceeds_12() -> None:
    assert guess_date_order(["03/04/2021", "12/25/2020"]) == "mdy"


def test_guess_date_order_is_none_when_every_sample_fits_both_orders() -> None:
    assert guess_date_order(["03/04/2021", "01-02-99", "12/12/2012"]) is None


def test_guess_date_order_reads_dotted_dates_as_day_first() -> None:
    assert guess_date_order(["03.04.2021"]) == "dmy"


def test_guess_date_order_treats_iso_dates_as_neutral() -> None:
    assert guess_date_order(["2021-03-04", "2021-12-25T10:00:00"]) is None


def test_guess_date_order_is_none_when_samples_contradict_each_other() -> None:
    assert guess_date_order(["25/12/2020", "12/25/2020"]) is None


@pytest.mark.parametrize(
    ("text", "order", "expected"),
    [
        ("2021-03-04", None, dt.date(2021, 3, 4)),
        ("2021-03-04T14:30:00Z", None, dt.date(2021, 3, 4)),
        ("2021-03-04 14:30", None, dt.date(2021, 3, 4)),
        ("2021/03/04", None, dt.date(2021, 3, 4)),
        ("04.03.2021", "mdy", dt.date(2021, 3, 4)),
        ("4.3.21", None, dt.date(2021, 3, 4)),
        ("04/03/2021", "dmy", dt.date(2021, 3, 4)),
        ("03/04/2021", "mdy", dt.date(2021, 3, 4)),
        ("3-4-2021", "mdy", dt.date(2021, 3, 4)),
        ("25/12/2020", None, dt.date(2020, 12, 25)),
        ("12/25/2020 3:15 PM", None, dt.date(2020, 12, 25)),
        ("05/05/2020", None, dt.date(2020, 5, 5)),
        ("01/02/29", "dmy", dt.date(2029, 2, 1)),
        ("01/02/30", "dmy", dt.date(1930, 2, 1)),
        ("17.05.85", None, dt.date(1985, 5, 17)),
    ],
)
def test_parse_date_reads_common_formats(text: str, order, expected: dt.date) -> None:
    assert parse_date(text, order=order) == expected


def test_parse_date_refuses_a_date_that_reads_validly_both_ways_without_an_order() -> None:
    with pytest.raises(FieldError, match="ambiguous: tell whether dates are day/month or month/day"):
        parse_date("03/04/2021", order=None)


def test_parse_date_does_not_switch_order_for_a_date_invalid_in_the_chosen_one() -> None:
    with pytest.raises(FieldError, match="not a valid date read as month/day/year"):
        parse_date("25/12/2020", order="mdy")


@pytest.mark.parametrize("text", ["31.02.2021", "2021-13-01", "next tuesday", "2021", "03/04", ""])
def test_parse_date_rejects_what_is_no_date(text: str) -> None:
    with pytest.raises(FieldError):
        parse_date(text, order="dmy")


# --- Numbers ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1.234,56", Decimal("1234.56")),
        ("1,234.56", Decimal("1234.56")),
        ("1234,5", Decimal("1234.5")),
        ("1 234,56", Decimal("1234.56")),
        ("1\u00a0234,56", Decimal("1234.56")),
        ("€ 1.234,56", Decimal("1234.56")),
        ("1.234,56 €", Decimal("1234.56")),
        ("$1,234.56", Decimal("1234.56")),
        ("EUR 99,90", Decimal("99.90")),
        ("1'234.50", Decimal("1234.50")),
        ("1.234.567", Decimal("1234567")),
        ("1,234,567.8", Decimal("1234567.8")),
        ("0,125", Decimal("0.125")),
        ("1234.567", Decimal("1234.567")),
        ("12.50", Decimal("12.50")),
        (",5", Decimal("0.5")),
        ("-12,5", Decimal("-12.5")),
        ("42", Decimal("42")),
    ],
)
def test_parse_number_reads_common_locale_formats(text: str, expected: Decimal) -> None:
    assert parse_number(text) == expected


def test_parse_number_refuses_a_lone_separator_before_three_digits_when_the_locale_is_unknown() -> None:
    with pytest.raises(FieldError, match="ambiguous: tell whether the file uses a decimal comma or point"):
        parse_number("1,234")


@pytest.mark.parametrize(
    ("text", "decimal_comma", "expected"),
    [
        ("1.234", True, Decimal("1234")),
        ("1,234", True, Decimal("1.234")),
        ("1,234", False, Decimal("1234")),
        ("1.234", False, Decimal("1.234")),
    ],
)
def test_parse_number_lets_the_file_locale_decide_a_lone_separator_before_three_digits(
    text: str, decimal_comma: bool, expected: Decimal
) -> None:
    assert parse_number(text, decimal_comma=decimal_comma) == expected


@pytest.mark.parametrize("text", ["1.2.3", "12,34,567", "1.234 567,8", "1,234.5,6", "abc", "1e5", "", "€"])
def test_parse_number_rejects_what_is_no_number(text: str) -> None:
    with pytest.raises(FieldError):
        parse_number(text)


def test_guess_decimal_comma_finds_a_comma_with_other_than_three_digits_after_it() -> None:
    assert guess_decimal_comma(["1,234", "12,5", ""]) is True


def test_guess_decimal_comma_finds_a_point_file_from_repeated_thousands_commas() -> None:
    assert guess_decimal_comma(["1,234", "1,234,567"]) is False


def test_guess_decimal_comma_is_none_when_no_sample_decides() -> None:
    assert guess_decimal_comma(["1,234", "1.234", "42", "n/a"]) is None


# --- Yes/no ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        *[
            (word, True)
            for word in ["yes", "Y", "true", "1", "x", "ja", "J", "wahr", "oui", "vrai", "sí", "si"]
        ],
        *[(word, False) for word in ["no", "N", "FALSE", "0", "nein", "falsch", "non", "faux", "falso"]],
    ],
)
def test_parse_bool_reads_yes_and_no_in_four_languages(text: str, expected: bool) -> None:
    assert parse_bool(f" {text} ") is expected


def test_parse_bool_rejects_other_words() -> None:
    with pytest.raises(FieldError, match="“maybe” is not yes or no"):
        parse_bool("maybe")


# --- Rows ------------------------------------------------------------------------------------------

MAPPING = ["email", "first_name", "birth_date", "total_spent", "orders_count", "tags", "", "email_consent"]


def test_row_to_values_gives_typed_values_keyed_by_field() -> None:
    cells = [" a@example.com ", "Ann", "17.05.1985", "1.234,50", "12", "vip, newsletter ,", "x", "ja"]

    values, errors = row_to_values(cells, MAPPING, date_order="dmy", decimal_comma=True)

    assert errors == {}
    assert values == {
        "email": "a@example.com",
        "first_name": "Ann",
        "birth_date": dt.date(1985, 5, 17),
        "total_spent": Decimal("1234.50"),
        "orders_count": 12,
        "tags": ["vip", "newsletter"],
        "email_consent": "opted_in",
    }


def test_row_to_values_leaves_empty_cells_out_so_an_import_never_erases() -> None:
    values, errors = row_to_values(
        ["a@example.com", "", "  ", "", "", " , ", "", ""], MAPPING, date_order=None
    )

    assert (values, errors) == ({"email": "a@example.com"}, {})


def test_row_to_values_reports_errors_by_column_index() -> None:
    cells = ["a@example.com", "Ann", "03/04/2021", "lots", "12", "", "", "maybe"]

    values, errors = row_to_values(cells, MAPPING, date_order=None)

    assert set(errors) == {2, 3, 7}
    assert "ambiguous" in errors[2]
    assert errors[3] == "“lots” is not a number."
    assert errors[7] == "“maybe” is not a consent: use yes or no (or opted_in, opted_out)."
    assert values == {"email": "a@example.com", "first_name": "Ann", "orders_count": 12}


def test_row_to_values_splits_tags_on_the_chosen_separator() -> None:
    values, _ = row_to_values(
        ["a@example.com", "vip; Köln, Süd ;"], ["email", "tags"], date_order=None, tag_separator=";"
    )

    assert values["tags"] == ["vip", "Köln, Süd"]


@pytest.mark.parametrize(
    ("text", "consent"),
    [
        ("yes", "opted_in"),
        ("Opted in", "opted_in"),
        ("subscribed", "opted_in"),
        ("0", "opted_out"),
        ("nein", "opted_out"),
        ("opted_out", "opted_out"),
    ],
)
def test_row_to_values_reads_consent_words(text: str, consent: str) -> None:
    values, _ = row_to_values(["a@example.com", text], ["email", "sms_consent"], date_order=None)

    assert values["sms_consent"] == consent


def test_row_to_values_leaves_an_unknown_consent_out() -> None:
    values, errors = row_to_values(["a@example.com", "unknown"], ["email", "email_consent"], date_order=None)

    assert (values, errors) == ({"email": "a@example.com"}, {})


def test_row_to_values_keeps_the_time_of_a_last_purchase() -> None:
    values, _ = row_to_values(
        ["a@example.com", "01.03.2024 14:30"], ["email", "last_purchase_at"], date_order=None
    )

    assert values["last_purchase_at"] == dt.datetime(2024, 3, 1, 14, 30)  # noqa: DTZ001 - naive on purpose


def test_row_to_values_reads_a_whole_number_with_a_lone_thousands_separator() -> None:
    values, errors = row_to_values(["a@example.com", "1.234"], ["email", "orders_count"], date_order=None)

    assert (values["orders_count"], errors) == (1234, {})


def test_row_to_values_leaves_a_fraction_in_a_whole_number_column_to_the_cleaning_rules() -> None:
    values, errors = row_to_values(
        ["a@example.com", "2,5"], ["email", "children_in_household"], date_order=None
    )
    cleaned = clean_contact_values(values, rules=ContactRules())

    assert (values["children_in_household"], errors) == ("2,5", {})
    assert cleaned.errors == {"children_in_household": "“2,5” is not a whole number."}


def test_row_to_values_parses_custom_fields_by_their_type() -> None:
    mapping = ["email", "custom.size", "custom.since", "custom.vip", "custom.note", "custom.colour"]
    cells = ["a@example.com", "42,5", "25/12/2020", "wahr", " blue ", "Rot"]
    types = {"size": "number", "since": "date", "vip": "boolean", "note": "text", "colour": "choice"}

    values, errors = row_to_values(cells, mapping, date_order=None, custom_types=types)

    assert errors == {}
    assert values["custom"] == {
        "size": Decimal("42.5"),
        "since": dt.date(2020, 12, 25),
        "vip": True,
        "note": "blue",
        "colour": "Rot",
    }


def test_row_to_values_unescapes_cells_our_exports_protect_against_formulas() -> None:
    values, _ = row_to_values(["a@example.com", "'+49 151 2345678"], ["email", "phone"], date_order=None)

    assert values["phone"] == "+49 151 2345678"


def test_row_to_values_leaves_too_long_text_to_the_cleaning_rules() -> None:
    values, errors = row_to_values(["a@example.com", "x" * 400], ["email", "first_name"], date_order=None)
    cleaned = clean_contact_values(values, rules=ContactRules())

    assert errors == {}
    assert values["first_name"] == "x" * 400
    assert cleaned.errors == {"first_name": "Use at most 150 characters (this has 400)."}


def test_row_to_values_output_cleans_without_errors() -> None:
    cells = ["A@Example.com", "Ann", "17.05.1985", "1.234,50", "12", "vip", "", "ja"]
    values, _ = row_to_values(cells, MAPPING, date_order="dmy", decimal_comma=True)

    cleaned = clean_contact_values(values, rules=ContactRules())

    assert cleaned.errors == {}
    assert cleaned.values["total_spent"] == Decimal("1234.50")


def test_row_to_values_refuses_cells_that_do_not_match_the_mapping() -> None:
    with pytest.raises(ValueError, match="2 cells for a mapping of 3 columns"):
        row_to_values(["a", "b"], ["email", "", ""], date_order=None)


def test_a_row_parser_reads_the_same_after_travelling_to_a_cleaning_helper() -> None:
    """Cleaning helpers get the parser by pickle: every kind of column must survive the trip."""
    mapping = [*MAPPING, "last_purchase_at", "custom.size", "custom.since", "custom.vip", "custom.note"]
    types = {"size": "number", "since": "date", "vip": "boolean", "note": "text"}
    parser = RowParser.for_mapping(
        mapping, date_order="dmy", decimal_comma=True, custom_types=types, extra_tags=["Fair 2026"]
    )
    cells = [
        "a@example.com", "Ann", "17.05.1985", "1.234,50", "12", "vip", "x", "ja",
        "01.02.2026 10:30", "42,5", "25/12/2020", "wahr", " blue ",
    ]  # fmt: skip

    travelled = pickle.loads(pickle.dumps(parser))  # noqa: S301 - our own bytes

    assert travelled(cells) == parser(cells)
    assert parser(cells)[0]["tags"] == ["vip", "Fair 2026"]
    assert parser(cells)[0]["custom"]["size"] == Decimal("42.5")
