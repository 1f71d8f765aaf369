"""The values of field conditions: JSON values read as the field's type (ints, `Decimal` money, floats
for custom numbers, dates, `Moment`s for date-times), with a problem under the value's path for each
one that cannot be read. Pure: the parser in `rules.py` calls it."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.utils.dateparse import parse_date, parse_datetime

from apps.segments.fields import DAYS_OPS, LIST_OPS, FieldSpec, FieldType

Path = tuple[str | int, ...]
FIRST_DAY, LAST_DAY = dt.date(1900, 1, 1), dt.date(2999, 12, 31)
MAX_LIST = 500
MAX_TEXT = 1000
MAX_DAYS = 36_500


@dataclass(frozen=True)
class Moment:
    """A date-time value: one instant, or a whole day in the workspace's time zone [start, end)."""

    start: dt.datetime
    end: dt.datetime
    end_included: bool

    @classmethod
    def instant(cls, moment: dt.datetime) -> Moment:
        return cls(moment, moment, True)

    @classmethod
    def day(cls, day: dt.date, zone: ZoneInfo) -> Moment:
        start = dt.datetime.combine(day, dt.time(), tzinfo=zone)
        return cls(start, dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=zone), False)


class ValueReader:
    """Typed values of one condition; each problem is reported under the value's own path."""

    def __init__(
        self, spec: FieldSpec, path: Path, *, zone: ZoneInfo, report: Callable[[Path, str], None]
    ) -> None:
        self.spec, self.path, self.zone, self.report = spec, path, zone, report

    def fail(self, message: str, index: int | None = None) -> Any:
        """Record the problem; returns None, the value of a value that could not be read."""
        self.report(self.path if index is None else (*self.path, index), message)
        return None

    def parse(self, op: str, raw: Any) -> Any:
        if raw is None:
            return self.fail("Fill in a value.")
        if op in DAYS_OPS:
            if not isinstance(raw, int) or isinstance(raw, bool) or not 0 <= raw <= MAX_DAYS:
                return self.fail(f"Give a whole number of days from 0 to {MAX_DAYS}, e.g. 30.")
            return raw
        if op in LIST_OPS:
            if not isinstance(raw, list) or not raw or len(raw) > MAX_LIST:
                return self.fail(f'“{op}” takes a list of 1 to {MAX_LIST} values, e.g. ["Berlin", "Munich"].')
            items = [self.scalar(item, index) for index, item in enumerate(raw)]
            return None if any(item is None for item in items) else items
        if op == "between":
            if not isinstance(raw, list) or len(raw) != 2:
                return self.fail("“between” takes two values, lowest first, e.g. [25, 35].")
            low, high = self.scalar(raw[0], 0), self.scalar(raw[1], 1)
            if low is None or high is None:
                return None
            if _order_key(low) > _order_key(high):
                return self.fail("The first value of “between” must not be greater than the second.")
            return (low, high)
        return self.scalar(raw)

    def scalar(self, raw: Any, index: int | None = None) -> Any:
        kind = self.spec.type
        if raw is None or raw == "":
            return self.fail("Fill in a value.", index)
        if kind == FieldType.TEXT:
            return self._text(raw, index)
        if kind == FieldType.CHOICE:
            if raw not in self.spec.choice_values:
                return self.fail(f"“{raw}” is not one of: {', '.join(self.spec.choice_values)}.", index)
            return raw
        if kind == FieldType.NUMBER:
            return self._number(raw, index)
        if kind == FieldType.BOOLEAN:
            return raw if isinstance(raw, bool) else self.fail("Give true or false.", index)
        day = _date(raw)
        if kind == FieldType.DATE:
            return day or self.fail("Give a date from 1900 to 2999 as YYYY-MM-DD, e.g. 2026-03-01.", index)
        if day is not None:
            return Moment.day(day, self.zone)
        moment = _datetime(raw)
        if moment is None:
            return self.fail(
                "Give a date (2026-03-01) or an ISO date-time (2026-03-01T09:30:00+01:00).", index
            )
        if not FIRST_DAY <= moment.date() <= LAST_DAY:
            return self.fail(f"Use a moment between {FIRST_DAY} and {LAST_DAY}.", index)
        return Moment.instant(moment)

    def _text(self, raw: Any, index: int | None) -> str | None:
        if not isinstance(raw, str) or not raw.strip():
            return self.fail('Give the text to compare, e.g. "Berlin" (for no value use is_empty).', index)
        if len(raw) > MAX_TEXT:
            return self.fail(f"Compare with at most {MAX_TEXT} characters.", index)
        if "\x00" in raw:
            return self.fail("Text cannot hold NUL characters.", index)
        return raw.strip().lower() if self.spec.case_insensitive else raw

    def _number(self, raw: Any, index: int | None) -> int | Decimal | float | None:
        if not isinstance(raw, int | float) or isinstance(raw, bool) or not math.isfinite(raw):
            return self.fail("Give a number, e.g. 30 (a JSON number, not text).", index)
        if abs(raw) >= 1e15:
            return self.fail("Give a number below 1,000,000,000,000,000.", index)
        if self.spec.integer:
            if raw != int(raw):
                return self.fail(f"{self.spec.name} holds whole numbers: give one, e.g. 30.", index)
            return int(raw)
        if self.spec.decimals is not None:
            amount = Decimal(str(raw))
            if -amount.as_tuple().exponent > self.spec.decimals:  # type: ignore[operator]
                return self.fail(f"Give an amount with at most {self.spec.decimals} decimals.", index)
            return amount
        return float(raw)


def _date(raw: Any) -> dt.date | None:
    """A date from 1900 to 2999 written YYYY-MM-DD (wider ones overflow date-time arithmetic)."""
    if not isinstance(raw, str) or len(raw) != 10:
        return None
    try:
        day = parse_date(raw)
    except ValueError:
        return None
    return day if day is not None and FIRST_DAY <= day <= LAST_DAY else None


def _datetime(raw: Any) -> dt.datetime | None:
    if not isinstance(raw, str):
        return None
    try:
        moment = parse_datetime(raw)
    except ValueError:
        return None
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _order_key(value: Any) -> Any:
    return value.start if isinstance(value, Moment) else value
