"""Realistic generated contacts for demos, load tests and benchmarks (`seed_contacts`, `seed_demo`).

Speed is the point: a million contacts in about a minute on PostgreSQL. Faker only fills small
pools of names up front (per row it would be far too slow); rows are drawn from those pools and
from pre-built location and phone tables with `random`, and streamed chunk by chunk into
`COPY ... FROM STDIN` (bulk_create on other databases), so memory stays flat whatever the count.

Contact ids are taken from the table's own sequence before the rows are written: every email ends
with its contact's id, so emails are unique and a second run never collides with the first, and the
tag links can be written without reading the contacts back. Addresses use reserved `.example`
domains (RFC 2606); phone numbers are valid for their region, so they may exist: never point a
real SMS provider at seeded data. Normalised columns are derived exactly as `cleaning.py` derives
them (trimmed, lower-cased email; E.164 phone).
"""

from __future__ import annotations

import datetime as dt
import math
import random
import time
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import phonenumbers
from django.db import connection, transaction
from django.db.models.functions import Lower
from django.utils import timezone

from apps.contacts.choices import ContactSource
from apps.contacts.models import Contact, ContactTag, Tag
from apps.contacts.seed_data import (
    CITIES,
    CONSENT_SOURCES,
    COUNTRIES,
    DOMAINS,
    EDUCATION,
    EDUCATION_ODDS,
    FALLBACK_NAMES,
    FALLBACK_STREETS,
    INCOME,
    MARITAL,
    MARITAL_ODDS,
    MARKETS,
    SECOND_LINES,
    STREET_FORMATS,
    TAG_COLOURS,
    TAG_NAMES,
)
from apps.core.sequences import next_ids
from apps.workspaces.models import Workspace

COLUMNS = (
    "id", "workspace_id", "created_at", "updated_at", "email", "email_normalized", "phone", "phone_e164",
    "first_name", "last_name", "birth_date", "age", "gender", "marital_status", "children_in_household",
    "address_line1", "address_line2", "city", "region", "country", "postal_code", "household_income_band",
    "education_level", "customer_since", "orders_count", "total_spent", "last_purchase_at", "language",
    "timezone", "email_consent", "email_consent_at", "email_consent_source", "sms_consent", "sms_consent_at",
    "sms_consent_source", "source", "custom",
)  # fmt: skip


@dataclass(frozen=True)
class SeedResult:
    contacts: int
    links: int
    seconds: float

    @property
    def rows_per_second(self) -> float:
        return self.contacts / self.seconds if self.seconds else 0.0


Progress = Callable[[int, int, float], None]  # (contacts written, total, seconds so far)


# ---------------------------------------------------------------------------------------- pools
def _ascii(text: str) -> str:
    folded = text.lower().replace("ß", "ss").replace("ä", "ae").replace("ö", "oe").replace("ü", "ue")
    folded = unicodedata.normalize("NFKD", folded).encode("ascii", "ignore").decode()
    return "".join(ch for ch in folded if ch.isalpha()) or "contact"


def _name_pools(locale: str, rng: random.Random) -> tuple[list[str], list[str], list[str]]:
    """Female first names, male first names, last names: drawn with repeats, so popular names stay
    popular (Faker weights some locales by frequency)."""
    try:
        from faker import Faker
    except ImportError:  # pragma: no cover - Faker comes with the dev extras
        return tuple(list(pool) for pool in FALLBACK_NAMES)  # type: ignore[return-value]
    fake = Faker(locale)
    fake.seed_instance(rng.random())
    return (
        [fake.first_name_female() for _ in range(400)],
        [fake.first_name_male() for _ in range(400)],
        [fake.last_name() for _ in range(800)],
    )


def _street_pool(locale: str, rng: random.Random) -> list[str]:
    """Street names of the locale (Faker's are invented but look right), drawn once."""
    try:
        from faker import Faker
    except ImportError:  # pragma: no cover - Faker comes with the dev extras
        return list(FALLBACK_STREETS.get(locale[:2], FALLBACK_STREETS["en"]))
    fake = Faker(locale)
    fake.seed_instance(rng.random())
    return [fake.street_name() for _ in range(300)]


def _postal(kind: str, spec: str, rng: random.Random) -> str:
    letters = "ABDEFGHJLNPQRSTUWXYZ"
    if kind in {"gb", "ca"}:
        outward = rng.choice(spec.split())
        if kind == "gb":
            return f"{outward} {rng.randrange(10)}{rng.choice(letters)}{rng.choice(letters)}"
        return f"{outward} {rng.randrange(10)}{rng.choice(letters)}{rng.randrange(10)}"
    low, high = (int(part) for part in spec.split("-"))
    number = rng.randint(low, high)
    if kind == "nl":
        return f"{number:04d} {rng.choice(letters)}{rng.choice(letters)}"
    return f"{number:0{5 if kind == 'num5' else 4}d}"


def _locations(region: str, rng: random.Random, size: int = 20_000) -> list[tuple[str, ...]]:
    """(city, region, country, postal code, time zone, language) rows, weighted by market and city."""
    market = MARKETS.get(region) or ((region, 0.0),) + MARKETS["DE"]
    countries = [country for country, _ in market if country in CITIES]
    cities = [(country, city) for country in countries for city in CITIES[country]]
    share = dict(market)
    weights = [share[country] * city[3] / sum(c[3] for c in CITIES[country]) for country, city in cities]
    rows: list[tuple[str, ...]] = []
    for country, (city, city_region, postal, _, tz) in rng.choices(cities, weights, k=size):
        _, language, kind = COUNTRIES[country]
        if rng.random() < 0.08 and language != "en":
            language = "en"
        rows.append((city, city_region, country, _postal(kind, postal, rng), tz, language))
    return rows


def _phone_prefixes(region: str, rng: random.Random) -> tuple[str, list[tuple[str, int]]]:
    """(country code, [(national prefix, random digits)]) whose numbers all validate: found by
    trying random numbers after ever longer parts of the region's example mobile number."""
    region = region if phonenumbers.country_code_for_region(region) else "DE"
    code = str(phonenumbers.country_code_for_region(region))
    example = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
    national = str(example.national_number) if example else "15123456789"

    def always_valid(prefix: str, width: int) -> bool:
        return all(
            phonenumbers.is_valid_number(
                phonenumbers.parse(f"+{code}{prefix}{rng.randrange(10**width):0{width}d}")
            )
            for _ in range(60)
        )

    for keep in range(1, len(national)):
        prefix, width = national[:keep], len(national) - keep
        if always_valid(prefix, width):
            siblings = [prefix[:-1] + digit for digit in "0123456789"]
            return code, [(p, width) for p in siblings if p == prefix or always_valid(p, width)]
    raise ValueError(f"No phone numbers can be generated for the region {region}.")


def _dates_back(today: dt.date, years: int) -> dt.date:
    try:
        return today.replace(year=today.year - years)
    except ValueError:  # 29 February
        return today.replace(year=today.year - years, day=28)


# ------------------------------------------------------------------------------------ generator
class ContactGenerator:
    """Draws contact rows (tuples in `COLUMNS` order) and their tag ids from pre-built pools."""

    def __init__(self, *, workspace: Workspace, tag_ids: list[int], seed: int | None) -> None:
        self.rng = random.Random(seed)  # noqa: S311 - demo data, not secrets
        self.workspace_id = workspace.id
        self.locations = _locations(workspace.default_phone_region, self.rng)
        locales = {COUNTRIES[row[2]][0] for row in self.locations}
        self.names = {locale: _name_pools(locale, self.rng) for locale in sorted(locales)}
        self.locale_of = {country: spec[0] for country, spec in COUNTRIES.items()}
        # Addresses draw from their own stream, so a seed gives the same people as before they had one.
        self.address_rng = random.Random(  # noqa: S311 - demo data, not secrets
            None if seed is None else f"{seed}:addresses"
        )
        self.streets = {locale: _street_pool(locale, self.address_rng) for locale in sorted(locales)}
        self.phone_code, self.phone_prefixes = _phone_prefixes(workspace.default_phone_region, self.rng)
        self.today = timezone.now().date()
        ages = list(range(18, 81))  # more people in their thirties to fifties than at the edges
        self.ages = self.rng.choices(ages, [1.6 - abs(age - 42) / 40 for age in ages], k=5000)
        self.birth_ranges = {
            age: (
                _dates_back(self.today, age + 1).toordinal() + 1,
                _dates_back(self.today, age).toordinal(),
            )
            for age in ages
        }
        self.tag_ids = tag_ids
        rank_weights = [1 / (rank + 1) ** 0.8 for rank in range(len(tag_ids))]
        self.tag_cum = [sum(rank_weights[: i + 1]) for i in range(len(tag_ids))]

    def rows(self, ids: list[int]) -> Iterator[tuple[tuple[Any, ...], list[int]]]:
        """One (row, tag ids) per id; dates and amounts as ISO text, custom as "{}"."""
        rnd, now = self.rng.random, timezone.now()
        stamp, now_ts, locations = now.isoformat(), now.timestamp(), self.locations
        for contact_id in ids:
            city, region, country, postal, tz, language = locations[int(rnd() * len(locations))]
            first, last, gender = self._person(country)
            line1, line2 = self.address(country)
            email = self._email(first, last, contact_id)
            phone = self._phone() if rnd() < 0.30 else ""
            age, birth, marital, children, education, income = self._persona()
            since, orders, spent, last_purchase = self._purchases(age, now_ts)
            row = (
                contact_id, self.workspace_id, stamp, stamp, email, email.lower(), phone, phone,
                first, last, birth, age, gender, marital, children, line1, line2, city, region, country,
                postal, income, education, since, orders, spent, last_purchase, language, tz,
                *self._consent(rnd(), 0.58, since), *self._consent(rnd(), 0.45 if phone else -1, since),
                ContactSource.DEMO.value, "{}",
            )  # fmt: skip
            yield row, self._tags(rnd())

    def _person(self, country: str) -> tuple[str, str, str]:
        rnd = self.rng.random
        female_names, male_names, last_names = self.names[self.locale_of[country]]
        g = rnd()
        gender = (
            "female" if g < 0.48 else "male" if g < 0.94 else "non_binary" if g < 0.96 else
            "undisclosed" if g < 0.98 else "other" if g < 0.985 else ""
        )  # fmt: skip
        pool = female_names if gender == "female" or (gender != "male" and g < 0.97) else male_names
        return pool[int(rnd() * len(pool))], last_names[int(rnd() * len(last_names))], gender

    def address(self, country: str) -> tuple[str, str]:
        """Street line and second line, written as the country writes them."""
        rnd = self.address_rng.random
        locale = self.locale_of.get(country, "en_US")
        if locale not in self.streets:  # a country outside the workspace's market (backfills only)
            self.streets[locale] = _street_pool(locale, self.address_rng)
        streets = self.streets[locale]
        number = str(1 + int(-math.log(1 - rnd()) * (900 if country in {"US", "CA"} else 30)))
        if country in {"DE", "AT", "CH", "NL"} and rnd() < 0.06:
            number += "abc"[int(rnd() * 3)]
        street = STREET_FORMATS.get(country, "{number} {street}").format(
            street=streets[int(rnd() * len(streets))], number=number
        )
        second = ""
        seconds = SECOND_LINES.get(country, ())
        if seconds and rnd() < 0.12:
            template = seconds[int(rnd() * len(seconds))]
            second = template.format(n=1 + int(rnd() * 12), letter="ABCDEF"[int(rnd() * 6)])
        return street, second

    def _phone(self) -> str:
        rnd = self.rng.random
        prefix, width = self.phone_prefixes[int(rnd() * len(self.phone_prefixes))]
        return f"+{self.phone_code}{prefix}{int(rnd() * 10**width):0{width}d}"

    def _persona(self) -> tuple[int | None, str | None, str, int | None, str, str]:
        """Age (birth date for about 60%), then marital status, children, education and income,
        each depending on the age band (and income on education)."""
        rnd = self.rng.random
        age = self.ages[int(rnd() * len(self.ages))] if rnd() < 0.92 else None
        birth = None
        if age is not None and rnd() < 0.65:
            low, high = self.birth_ranges[age]
            birth = dt.date.fromordinal(low + int(rnd() * (high - low + 1))).isoformat()
        band = 0 if age is None or age < 25 else 1 if age < 35 else 2 if age < 50 else 3 if age < 65 else 4
        marital = _pick(MARITAL, MARITAL_ODDS[band], rnd()) if rnd() < 0.93 else ""
        children = None
        if rnd() < 0.85:
            children = 0 if band == 0 or rnd() < 0.35 else min(int(-math.log(1 - rnd()) * 1.4), 6)
        education = _pick(EDUCATION, EDUCATION_ODDS, rnd()) if rnd() < 0.9 else ""
        income = ""
        if rnd() < 0.88:
            level = EDUCATION.index(education) * 0.6 if education else 1.5
            level += (1.2 if band in (2, 3) else 0.4 if band == 1 else 0) + rnd() * 2.2 - 1
            income = INCOME[max(0, min(5, int(level)))]
        return age, birth, marital, children, education, income

    def _purchases(self, age: int | None, now_ts: float) -> tuple[str, int, str, str | None]:
        """Customer since (up to 12 years, mostly recent, never before 18), orders, spend, last order."""
        rnd = self.rng.random
        tenure = int(rnd() ** 1.6 * 4380)
        if age is not None:
            tenure = min(tenure, (age - 18) * 365)
        since = dt.date.fromordinal(self.today.toordinal() - tenure).isoformat()
        orders = 0 if rnd() < 0.15 else 1 + int(-math.log(1 - rnd()) * (1.5 + tenure / 500))
        spent = f"{orders * math.exp(3.9 + rnd() * 1.3):.2f}"
        last_purchase = None
        if orders:
            moment = now_ts - (tenure * rnd() ** 2) * 86400 - rnd() * 86400
            last_purchase = dt.datetime.fromtimestamp(moment, dt.UTC).isoformat()
        return since, orders, spent, last_purchase

    def _email(self, first: str, last: str, contact_id: int) -> str:
        """Unique because it ends with the contact's id (names never end in a digit)."""
        rnd = self.rng.random
        f, la = _ascii(first), _ascii(last)
        style = rnd()
        local = (
            f"{f}.{la}" if style < 0.45 else f"{f}{la}" if style < 0.6 else f"{f[0]}.{la}" if style < 0.8
            else f"{la}.{f}" if style < 0.9 else f"{f}_{la}"
        )  # fmt: skip
        if rnd() < 0.1:  # some people type their address capitalised; the normalised form is lower
            local = local.title()
        return f"{local}{contact_id}@{DOMAINS[int(rnd() * len(DOMAINS))]}"

    def _consent(self, draw: float, opted_in: float, since: str) -> tuple[str, str | None, str]:
        if draw < opted_in:
            return "opted_in", f"{since}T12:00:00+00:00", CONSENT_SOURCES[int(draw * 40) % 4]
        if opted_in >= 0 and draw > 0.85:
            return "opted_out", f"{since}T12:00:00+00:00", "Unsubscribe link"
        return "unknown", None, ""

    def _tags(self, draw: float) -> list[int]:
        """0-3 tags (about 1.5 on average), popular ones more often."""
        count = 0 if draw < 0.15 else 1 if draw < 0.5 else 2 if draw < 0.85 else 3
        if not count or not self.tag_ids:
            return []
        picked = self.rng.choices(self.tag_ids, cum_weights=self.tag_cum, k=count + 2)
        return list(dict.fromkeys(picked))[:count]


def _pick(values: tuple[str, ...], cumulative: tuple[float, ...], draw: float) -> str:
    for value, bound in zip(values, cumulative, strict=True):
        if draw < bound:
            return value
    return values[-1]


# -------------------------------------------------------------------------------------- writers
def seed_tags(*, workspace: Workspace) -> list[int]:
    """The pool of 50 tags in the workspace (existing ones, matched case-insensitively, are kept)."""
    Tag.objects.bulk_create(
        [
            Tag(workspace=workspace, name=name, colour=TAG_COLOURS[i % len(TAG_COLOURS)])
            for i, name in enumerate(TAG_NAMES)
        ],
        ignore_conflicts=True,
    )
    by_name = dict(
        Tag.objects.annotate(lower_name=Lower("name"))
        .filter(workspace=workspace, lower_name__in=[name.lower() for name in TAG_NAMES])
        .values_list("lower_name", "id")
    )
    return [by_name[name.lower()] for name in TAG_NAMES]


def _write_postgresql(generator: ContactGenerator, size: int) -> int:
    contact_table, link_table = Contact._meta.db_table, ContactTag._meta.db_table
    links: list[tuple[int, int]] = []
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL synchronous_commit TO OFF")  # a seed can be re-run after a crash
        ids = next_ids(cursor, Contact, size)
        with cursor.copy(f"COPY {contact_table} ({', '.join(COLUMNS)}) FROM STDIN") as copy:
            for row, tags in generator.rows(ids):
                copy.write_row(row)
                links.extend((row[0], tag_id) for tag_id in tags)
        with cursor.copy(f"COPY {link_table} (contact_id, tag_id) FROM STDIN") as copy:
            for link in links:
                copy.write_row(link)
    return len(links)


def _write_generic(generator: ContactGenerator, size: int) -> int:
    """Other databases (the embedded SQLite): bulk_create with ids taken after the current maximum,
    inside one write transaction (SQLite runs them IMMEDIATE, so no one else takes those ids)."""
    with transaction.atomic():
        start = (Contact.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1
        contacts: list[Contact] = []
        links: list[ContactTag] = []
        for row, tags in generator.rows(list(range(start, start + size))):
            values = dict(zip(COLUMNS, row, strict=True))
            values["custom"] = {}
            contacts.append(Contact(**values))
            links.extend(ContactTag(contact_id=row[0], tag_id=tag_id) for tag_id in tags)
        Contact.objects.bulk_create(contacts, batch_size=500)
        ContactTag.objects.bulk_create(links, batch_size=2000)
    return len(links)


def contacts_seed(
    *,
    workspace: Workspace,
    count: int,
    seed: int | None = None,
    chunk_size: int = 50_000,
    progress: Progress | None = None,
) -> SeedResult:
    """Add `count` generated contacts with 0-3 tags each to the workspace; safe to run again."""
    started = time.perf_counter()
    generator = ContactGenerator(workspace=workspace, tag_ids=seed_tags(workspace=workspace), seed=seed)
    postgresql = connection.vendor == "postgresql"
    write = _write_postgresql if postgresql else _write_generic
    chunk_size = chunk_size if postgresql else min(chunk_size, 5000)
    done = links = 0
    while done < count:
        size = min(chunk_size, count - done)
        links += write(generator, size)
        done += size
        if progress:
            progress(done, count, time.perf_counter() - started)
    if postgresql:
        with connection.cursor() as cursor:  # fresh statistics, so the planner knows the new rows
            cursor.execute(f"ANALYZE {Contact._meta.db_table}, {ContactTag._meta.db_table}")
    return SeedResult(contacts=count, links=links, seconds=time.perf_counter() - started)


def contacts_seed_addresses(*, workspace: Workspace, seed: int | None = None) -> int:
    """Give generated contacts seeded before contacts had street addresses one each, so a demo
    workspace from an older database prints address labels too. Returns how many were filled."""
    contacts = list(
        Contact.objects.filter(workspace=workspace, source=ContactSource.DEMO, address_line1="")
        .only("id", "country")
        .order_by("id")
    )
    if not contacts:
        return 0
    generator = ContactGenerator(workspace=workspace, tag_ids=[], seed=seed)
    now = timezone.now()
    for contact in contacts:
        contact.address_line1, contact.address_line2 = generator.address(contact.country)
        contact.updated_at = now  # integrations syncing with `updated_since` see the new address
    Contact.objects.bulk_update(contacts, ["address_line1", "address_line2", "updated_at"], batch_size=1000)
    return len(contacts)
