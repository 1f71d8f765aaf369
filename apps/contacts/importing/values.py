"""Turning one row's cells into raw contact values for `cleaning.clean_contact_values`.

Only what depends on how a *file* writes a value is decided here: the order of day and month, the
decimal separator, yes/no in four languages, the tag separator. Whether a value is acceptable (an
email's form, a gender's word, a name's length) stays cleaning's rule, so text passes through as read.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import partial
from types import MappingProxyType
from typing import Any, Literal

from apps.contacts.choices import Consent, CustomFieldType
from apps.contacts.cleaning import CustomFieldSpec, FieldError, clean_custom_value
from apps.contacts.exporting import FORMULA_TRIGGERS

DateOrder = Literal["dmy", "mdy"]

CUSTOM_PREFIX = "custom."
DATE_FIELDS = frozenset({"birth_date", "customer_since", "last_purchase_at"})
WHOLE_NUMBER_FIELDS = frozenset({"orders_count", "children_in_household", "age"})
AMOUNT_FIELDS = frozenset({"total_spent"})
CONSENT_FIELDS = frozenset({"email_consent", "sms_consent"})

_NO_CUSTOM_TYPES: Mapping[str, str] = MappingProxyType({})

# --- Dates -----------------------------------------------------------------------------------------

_TIME = (
    r"(?:,?[T ]\s*(?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<sec>\d{2})(?:[.,](?P<fraction>\d{1,6})\d*)?)?"
    r"\s*(?P<ampm>[AaPp]\.?[Mm]\.?)?\s*(?P<tz>Z|[+-]\d{2}:?\d{2})?)?"
)
_YEAR_FIRST = re.compile(r"(?P<year>\d{4})(?P<sep>[-/.])(?P<month>\d{1,2})(?P=sep)(?P<day>\d{1,2})" + _TIME)
_DOTTED = re.compile(r"(?P<day>\d{1,2})\.(?P<month>\d{1,2})\.(?P<year>\d{4}|\d{2})" + _TIME)
_SLASHED = re.compile(
    r"(?P<first>\d{1,2})(?P<sep>[/-])(?P<second>\d{1,2})(?P=sep)(?P<year>\d{4}|\d{2})" + _TIME
)


def guess_date_order(samples: Iterable[str]) -> DateOrder | None:
    """Day first ("dmy") or month first ("mdy") when some sample decides it (a part above 12, or a
    dotted date, always day first) and none contradicts it; None when the importer must say."""
    day_first = month_first = False
    for sample in samples:
        text = sample.strip()
        if _DOTTED.fullmatch(text):
            day_first = True
        elif found := _SLASHED.fullmatch(text):
            first, second = int(found["first"]), int(found["second"])
            day_first |= first > 12 >= second
            month_first |= second > 12 >= first
    if day_first != month_first:
        return "dmy" if day_first else "mdy"
    return None


def _year(text: str) -> int:
    # Two-digit years: 00-29 are this century's (recent purchases), 30-99 the last's (birth dates).
    year = int(text)
    return year if len(text) == 4 else year + (2000 if year < 30 else 1900)


def _valid_date(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def _slashed_date(found: re.Match[str], text: str, order: DateOrder | None) -> dt.date:
    first, second, year = int(found["first"]), int(found["second"]), _year(found["year"])
    day_first, month_first = _valid_date(year, second, first), _valid_date(year, first, second)
    if order == "dmy" and day_first is None:
        raise FieldError(f"“{text}” is not a valid date read as day/month/year.")
    if order == "mdy" and month_first is None:
        raise FieldError(f"“{text}” is not a valid date read as month/day/year.")
    if order is None and day_first and month_first and day_first != month_first:
        raise FieldError(f"“{text}” is ambiguous: tell whether dates are day/month or month/day.")
    chosen = month_first if order == "mdy" else day_first or month_first
    if chosen is None:
        raise FieldError(f"“{text}” is not a valid date.")
    return chosen


def _time_zone(text: str | None) -> dt.tzinfo | None:
    if not text:
        return None
    if text == "Z":
        return dt.UTC
    digits = text[1:].replace(":", "")
    offset = dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    return dt.timezone(-offset if text[0] == "-" else offset)


def _with_time(day: dt.date, found: re.Match[str], text: str) -> dt.date | dt.datetime:
    if found["hour"] is None:
        return day
    hour = int(found["hour"])
    if found["ampm"]:
        if not 1 <= hour <= 12:
            raise FieldError(f"“{text}” has an invalid time.")
        hour = hour % 12 + (12 if found["ampm"][0] in "Pp" else 0)
    try:
        time = dt.time(
            hour, int(found["minute"]), int(found["sec"] or 0), int((found["fraction"] or "0").ljust(6, "0"))
        )
    except ValueError as error:
        raise FieldError(f"“{text}” has an invalid time.") from error
    # A time without an offset stays naive: cleaning decides which zone it is in.
    return dt.datetime.combine(day, time, tzinfo=_time_zone(found["tz"]))


def parse_moment(text: str, *, order: DateOrder | None) -> dt.date | dt.datetime:
    """A date, or a datetime when the text has a time part (kept for moments like a last purchase)."""
    text = text.strip()
    if found := _YEAR_FIRST.fullmatch(text):
        day = _valid_date(int(found["year"]), int(found["month"]), int(found["day"]))
    elif found := _DOTTED.fullmatch(text):
        day = _valid_date(_year(found["year"]), int(found["month"]), int(found["day"]))
    elif found := _SLASHED.fullmatch(text):
        day = _slashed_date(found, text, order)
    else:
        raise FieldError(f"“{text}” is not a date: write it as YYYY-MM-DD, DD.MM.YYYY or DD/MM/YYYY.")
    if day is None:
        raise FieldError(f"“{text}” is not a valid date.")
    return _with_time(day, found, text)


def parse_date(text: str, *, order: DateOrder | None) -> dt.date:
    """ISO (with or without a time), YYYY/MM/DD, DD.MM.YYYY (always day first), and DD/MM/YYYY or
    MM/DD/YYYY as `order` says; without an order, a date that reads validly both ways is refused."""
    moment = parse_moment(text, order=order)
    return moment.date() if isinstance(moment, dt.datetime) else moment


# --- Numbers ---------------------------------------------------------------------------------------

_AFFIX = re.compile(r"^(?:[€$£¥₹]|[A-Z]{3})\s*|\s*(?:[€$£¥₹]|[A-Z]{3})$")
_GROUPING = frozenset(" '\u00a0\u202f\u2019")  # never a decimal separator
_TOKENS = re.compile(r"\d+|\D")


def _number_parts(text: str) -> tuple[str, list[str], list[str]]:
    """(sign, digit runs, separators between them); FieldError when the text is not a number."""
    body, sign = text.strip(), ""
    for _ in range(2):  # "-€ 12", "€ -12", "12 €"
        body = _AFFIX.sub("", body)
        if body[:1] in ("-", "+", "\u2212"):
            sign, body = sign or body[0], body[1:].lstrip()
    if body[:1] in (".", ","):
        body = "0" + body  # ",5" and ".5"
    tokens = _TOKENS.findall(body)
    digits, separators = tokens[0::2], tokens[1::2]
    if (
        not tokens
        or len(tokens) % 2 == 0
        or not all(run.isdigit() and run.isascii() for run in digits)
        or not all(mark in ".," or mark in _GROUPING for mark in separators)
    ):
        raise FieldError(f"“{text.strip()}” is not a number.")
    return ("-" if sign in ("-", "\u2212") else ""), digits, separators


def _decimal_mark(digits: list[str], separators: list[str], decimal_comma: bool | None) -> str | None:
    """Which separator is the decimal one, or None for a whole number; "?" when it cannot be told."""
    marks = [mark for mark in separators if mark in ".,"]
    if len(set(marks)) == 2:
        return separators[-1]  # "1.234,56", "1,234.56": the last one
    if len(marks) != 1:
        return None  # no mark, or the same one repeated: thousands ("1.234.567")
    mark = marks[0]
    tail = digits[separators.index(mark) + 1]
    if len(tail) != 3 or len(separators) > 1 or digits[0] == "0" or len(digits[0]) > 3:
        return mark  # "1234,5", "1 234,567", "0,125", "1234.567": no thousands group fits
    if decimal_comma is None:
        return "?"
    return mark if (mark == ",") == decimal_comma else None


def _to_decimal(text: str, decimal_comma: bool | None, *, ambiguous: str = "error") -> Decimal:
    if text.isascii() and text.isdigit():  # most cells: no sign, separator or currency to read
        return Decimal(text)
    sign, digits, separators = _number_parts(text)
    decimal = _decimal_mark(digits, separators, decimal_comma)
    if decimal == "?":
        if ambiguous == "error":
            raise FieldError(
                f"“{text.strip()}” is ambiguous: tell whether the file uses a decimal comma or point."
            )
        decimal = None  # a whole-number column: 1.234 orders can only be 1234
    if decimal is not None and separators[-1] != decimal:
        raise FieldError(f"“{text.strip()}” is not a number: the decimal separator must come last.")
    whole, fraction = (digits[:-1], digits[-1]) if decimal else (digits, "")
    grouping = separators[:-1] if decimal else separators
    if grouping and (len(set(grouping)) > 1 or len(whole[0]) > 3 or any(len(g) != 3 for g in whole[1:])):
        raise FieldError(f"“{text.strip()}” is not a number: its digit groups are uneven.")
    return Decimal(f"{sign}{''.join(whole)}" + (f".{fraction}" if decimal else ""))


def parse_number(text: str, *, decimal_comma: bool | None = None) -> Decimal:
    """A number written in any common locale: "1.234,56", "1,234.56", "1 234,56", "€ 1.234,56".

    The rule: with two different separators, the last is the decimal one; one separator repeated is a
    thousands separator; a single separator is decimal unless exactly three digits follow it and a
    thousands group fits before it ("1,234", "1.234"). That case is decided by `decimal_comma`: True
    (the file writes 1.234,56) makes "1.234" a thousand and "1,234" one point something; False the
    reverse; None refuses it as ambiguous (use `guess_decimal_comma` on the column's samples).
    """
    return _to_decimal(text, decimal_comma)


def guess_decimal_comma(samples: Iterable[str]) -> bool | None:
    """True or False when some sample shows its decimal separator and none contradicts it, else None."""
    comma = point = False
    for sample in samples:
        try:
            _, digits, separators = _number_parts(sample)
        except FieldError:
            continue
        mark = _decimal_mark(digits, separators, None)
        if mark is None and len(set(separators) & {".", ","}) == 1:
            mark = "." if "," in separators else ","  # "1.234.567": the dot groups, so commas decide
        comma |= mark == ","
        point |= mark == "."
    return comma if comma != point else None


def _whole_number(text: str, decimal_comma: bool | None) -> int | str:
    number = _to_decimal(text, decimal_comma, ambiguous="thousands")
    # A fraction is passed on as written: "not a whole number" is cleaning's rule, in its words.
    return int(number) if number == number.to_integral_value() else text


# --- Yes/no ----------------------------------------------------------------------------------------

_BOOLEAN = CustomFieldSpec(key="", label="", field_type=CustomFieldType.BOOLEAN)
# Words cleaning's boolean rule does not know (yet): German, French and Spanish true/false.
_MORE_TRUE = frozenset({"wahr", "vrai", "verdadero"})
_MORE_FALSE = frozenset({"falsch", "faux", "falso"})
_OPTED_IN = frozenset({"opted_in", "optedin", "opt_in", "optin", "subscribed"})
_OPTED_OUT = frozenset({"opted_out", "optedout", "opt_out", "optout", "unsubscribed"})


def parse_bool(text: str) -> bool:
    """Yes/no, true/false, 1/0, y/n, x in English, German, French and Spanish; cleaning's words first."""
    word = text.strip().lower()
    if word in _MORE_TRUE or word in _MORE_FALSE:
        return word in _MORE_TRUE
    return bool(clean_custom_value(_BOOLEAN, text.strip()))


def parse_consent(text: str) -> str | None:
    """The consent a cell states (opted_in or opted_out); None for "unknown", which states nothing."""
    word = re.sub(r"[\s-]+", "_", text.strip().lower())
    if word in _OPTED_IN or word in _OPTED_OUT:
        return Consent.OPTED_IN.value if word in _OPTED_IN else Consent.OPTED_OUT.value
    if word == Consent.UNKNOWN:
        return None
    try:
        return Consent.OPTED_IN.value if parse_bool(text) else Consent.OPTED_OUT.value
    except FieldError as error:
        raise FieldError(
            f"“{text.strip()}” is not a consent: use yes or no (or opted_in, opted_out)."
        ) from error


# --- Rows ------------------------------------------------------------------------------------------


def _unescaped(text: str) -> str:
    # Our exports (and most tools) prefix cells that spreadsheets would run as formulas with a quote.
    return text[1:] if text[:1] == "'" and text[1:2] and text[1] in FORMULA_TRIGGERS else text


def _tag_names(text: str, separator: str) -> list[str] | None:
    names = [name.strip() for name in (text.split(separator) if separator else [text])]
    return [name for name in names if name] or None


def _field_parser(
    target: str, *, order: DateOrder | None, comma: bool | None, tags: str
) -> Callable[[str], Any] | None:
    """How a column mapped to `target` reads its text (None: the text as it is). Module functions
    and partials only: a parser travels to the cleaning helpers by pickle."""
    if target == "tags":
        return partial(_tag_names, separator=tags)
    if target == "last_purchase_at":
        return partial(parse_moment, order=order)
    if target in DATE_FIELDS:
        return partial(parse_date, order=order)
    if target in AMOUNT_FIELDS:
        return partial(_to_decimal, decimal_comma=comma)
    if target in WHOLE_NUMBER_FIELDS:
        return partial(_whole_number, decimal_comma=comma)
    if target in CONSENT_FIELDS:
        return parse_consent
    return None


def _custom_parser(
    field_type: str, *, order: DateOrder | None, comma: bool | None
) -> Callable[[str], Any] | None:
    if field_type == CustomFieldType.NUMBER:
        return partial(_to_decimal, decimal_comma=comma)
    if field_type == CustomFieldType.DATE:
        return partial(parse_date, order=order)
    if field_type == CustomFieldType.BOOLEAN:
        return parse_bool
    return None


@dataclass(frozen=True)
class RowParser:
    """A file's cells to values, each column's reading chosen once per file rather than once per
    cell (a million-row import reads millions of cells). Build it with `for_mapping`."""

    width: int
    # (column index, field name or custom key, is a custom key, parser or None for the text as is)
    columns: tuple[tuple[int, str, bool, Callable[[str], Any] | None], ...]
    extra_tags: tuple[str, ...] = ()

    @classmethod
    def for_mapping(
        cls,
        mapping: Sequence[str],
        *,
        date_order: DateOrder | None,
        tag_separator: str = ",",
        decimal_comma: bool | None = None,
        custom_types: Mapping[str, str] = _NO_CUSTOM_TYPES,
        extra_tags: Sequence[str] = (),
    ) -> RowParser:
        """`extra_tags`: tags every row gets (chosen at upload), after the row's own."""
        columns = []
        for index, target in enumerate(mapping):
            if not target:
                continue
            if target.startswith(CUSTOM_PREFIX):
                key = target.removeprefix(CUSTOM_PREFIX)
                parser = _custom_parser(custom_types.get(key, ""), order=date_order, comma=decimal_comma)
                columns.append((index, key, True, parser))
            else:
                parser = _field_parser(target, order=date_order, comma=decimal_comma, tags=tag_separator)
                columns.append((index, target, False, parser))
        return cls(width=len(mapping), columns=tuple(columns), extra_tags=tuple(extra_tags))

    def __call__(self, cells: Sequence[str]) -> tuple[dict[str, Any], dict[int, str]]:
        """(values by API field name, errors by column index). Empty cells are left out, so an
        import never erases a stored value; text is stripped and otherwise left for cleaning to
        judge."""
        if len(cells) != self.width:
            raise ValueError(f"{len(cells)} cells for a mapping of {self.width} columns.")
        values: dict[str, Any] = {}
        custom: dict[str, Any] = {}
        errors: dict[int, str] = {}
        for index, target, is_custom, parse in self.columns:
            text = cells[index].strip()
            if not text:
                continue
            if text[0] == "'":
                text = _unescaped(text)
            try:
                value = text if parse is None else parse(text)
            except FieldError as error:
                errors[index] = str(error)
                continue
            if is_custom:
                custom[target] = value
            elif value is not None:
                values[target] = value
        if custom:
            values["custom"] = custom
        if self.extra_tags:
            values["tags"] = [*values.get("tags", []), *self.extra_tags]
        return values, errors


def row_to_values(
    cells: Sequence[str],
    mapping: Sequence[str],
    *,
    date_order: DateOrder | None,
    tag_separator: str = ",",
    decimal_comma: bool | None = None,
    custom_types: Mapping[str, str] = _NO_CUSTOM_TYPES,
) -> tuple[dict[str, Any], dict[int, str]]:
    """One row's values (see `RowParser`; a whole file builds its parser once)."""
    parser = RowParser.for_mapping(
        mapping,
        date_order=date_order,
        tag_separator=tag_separator,
        decimal_comma=decimal_comma,
        custom_types=custom_types,
    )
    return parser(cells)
