"""Street address lines (`address_line1`, `address_line2`) on every surface a contact's fields reach:
cleaning, the import (both merge paths), the API, exports, pages, the admin, segments and seeding."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.test import Client
from openpyxl import load_workbook
from rest_framework.test import APIClient
from tablib import Dataset

from apps.contacts import services
from apps.contacts.cleaning import ContactRules, clean_contact_values
from apps.contacts.importing import pipeline, staging
from apps.contacts.importing.mapping import suggest_mapping
from apps.contacts.models import Contact, ImportJob
from apps.contacts.resources import ContactResource
from apps.contacts.seeding import contacts_seed, contacts_seed_addresses
from apps.segments import selectors as segment_selectors
from tests.conftest import Cast
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db

CONTACTS = "/api/v1/contacts/"
LINES = ("address_line1", "address_line2")
Run = Callable[..., ImportJob]


@pytest.fixture(params=["staged", "chunked"])
def run_import(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, cast: Cast) -> Run:
    """The PostgreSQL staged merge, and the chunked bulk upsert that SQLite uses."""
    if request.param == "chunked":
        monkeypatch.setattr(staging, "is_available", lambda: False)

    def run(text: str, **options: Any) -> ImportJob:
        job = pipeline.import_create(
            workspace=cast.workspace,
            upload=ContentFile(text.encode(), name="list.csv"),
            actor=cast.owner,
            options=pipeline.ImportSettings(**options),
        )
        return pipeline.import_execute(job=job)

    return run


def _lines(cast: Cast, email: str) -> tuple[str, str]:
    contact = Contact.objects.get(workspace=cast.workspace, email_normalized=email)
    return contact.address_line1, contact.address_line2


def _counts(job: ImportJob) -> tuple[int, int, int]:
    return (job.created_count, job.updated_count, job.unchanged_count)


# --- Cleaning --------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", LINES)
def test_address_lines_are_trimmed(name: str) -> None:
    assert clean_contact_values({name: "  Torstraße 12 "}, rules=ContactRules()).values == {
        name: "Torstraße 12"
    }


@pytest.mark.parametrize("name", LINES)
def test_address_lines_hold_at_most_200_characters(name: str) -> None:
    assert clean_contact_values({name: "x" * 200}, rules=ContactRules()).errors == {}
    assert clean_contact_values({name: "x" * 201}, rules=ContactRules()).errors == {
        name: "Use at most 200 characters (this has 201)."
    }


@pytest.mark.parametrize("name", [*LINES, "first_name", "city", "postal_code"])
def test_text_fields_refuse_nul_characters(name: str) -> None:
    assert clean_contact_values({name: "Tor\x00straße"}, rules=ContactRules()).errors == {
        name: "Text cannot hold NUL characters."
    }


# --- Import ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "target"),
    [
        ("Street", "address_line1"),
        ("Street address", "address_line1"),
        ("Address", "address_line1"),
        ("Address 1", "address_line1"),
        ("Address line 1", "address_line1"),
        ("Straße", "address_line1"),
        ("Strasse", "address_line1"),
        ("Adresse", "address_line1"),
        ("Rue", "address_line1"),
        ("Dirección", "address_line1"),
        ("Direccion", "address_line1"),
        ("Calle", "address_line1"),
        ("Address 2", "address_line2"),
        ("Address line 2", "address_line2"),
        ("Adresszusatz", "address_line2"),
        ("Complément d'adresse", "address_line2"),
        ("Email address", "email"),
        ("E-Mail-Adresse", "email"),
        ("Adresse e-mail", "email"),
        ("Dirección de correo", "email"),
    ],
)
def test_address_headers_suggest_the_address_lines_and_email_addresses_stay_email(
    header: str, target: str
) -> None:
    assert suggest_mapping([header]) == [target]


def test_a_german_shop_export_maps_street_and_its_addition(cast: Cast) -> None:
    headers = ["E-Mail", "Vorname", "Straße", "Adresszusatz", "PLZ", "Ort"]

    assert suggest_mapping(headers) == [
        "email",
        "first_name",
        "address_line1",
        "address_line2",
        "postal_code",
        "city",
    ]


def test_an_import_stores_the_address_lines_from_a_strasse_column(run_import: Run, cast: Cast) -> None:
    job = run_import(
        "E-Mail,Straße,Adresszusatz,PLZ,Ort\n"
        "maya@example.com, Torstraße 12 ,Hinterhaus,10119,Berlin\n"
        "jonas@example.com,Hauptstraße 3,,20095,Hamburg\n"
    )

    assert job.mapping == ["email", "address_line1", "address_line2", "postal_code", "city"]
    assert _counts(job) == (2, 0, 0)
    assert _lines(cast, "maya@example.com") == ("Torstraße 12", "Hinterhaus")
    assert _lines(cast, "jonas@example.com") == ("Hauptstraße 3", "")


def test_importing_the_same_addresses_again_reports_every_row_unchanged(run_import: Run, cast: Cast) -> None:
    text = "email,street,address 2\nmaya@example.com,Torstraße 12,Hinterhaus\njonas@example.com,Weg 1,\n"
    run_import(text)

    again = run_import(text)

    assert _counts(again) == (0, 0, 2)


def test_an_imported_address_overwrites_but_an_empty_cell_never_erases(run_import: Run, cast: Cast) -> None:
    ContactFactory(
        workspace=cast.workspace,
        email="maya@example.com",
        address_line1="Alte Straße 1",
        address_line2="c/o Berg",
    )
    ContactFactory(
        workspace=cast.workspace, email="jonas@example.com", address_line1="Weg 1", address_line2="2. OG"
    )

    job = run_import(
        "email,address line 1,address line 2\nmaya@example.com,Torstraße 12,\njonas@example.com,,\n"
    )

    assert _counts(job) == (0, 1, 1)
    assert _lines(cast, "maya@example.com") == ("Torstraße 12", "c/o Berg")
    assert _lines(cast, "jonas@example.com") == ("Weg 1", "2. OG")


def test_a_row_whose_street_is_too_long_is_rejected_by_column(run_import: Run, cast: Cast) -> None:
    job = run_import(f"email,street\nmaya@example.com,{'x' * 201}\njonas@example.com,Weg 1\n")

    assert job.error_count == 1
    assert job.errors[0]["column"] == "street"
    assert _lines(cast, "jonas@example.com") == ("Weg 1", "")


# --- API -------------------------------------------------------------------------------------------


def test_the_api_round_trips_the_address_lines(member_api: APIClient, cast: Cast) -> None:
    created = member_api.post(
        CONTACTS,
        {"email": "maya@example.com", "address_line1": " Torstraße 12 ", "address_line2": "Hinterhaus"},
        format="json",
    )
    assert created.status_code == 201, created.content
    url = f"{CONTACTS}{created.json()['id']}/"

    fetched = member_api.get(url).json()
    assert (fetched["address_line1"], fetched["address_line2"]) == ("Torstraße 12", "Hinterhaus")
    assert member_api.put(url, fetched, format="json").json() == fetched

    cleared = member_api.patch(url, {"address_line2": ""}, format="json").json()
    assert (cleared["address_line1"], cleared["address_line2"]) == ("Torstraße 12", "")


def test_the_api_names_a_bad_address_line(member_api: APIClient, cast: Cast) -> None:
    response = member_api.post(
        CONTACTS, {"email": "maya@example.com", "address_line1": "Tor\x00straße 12"}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"address_line1": ["Text cannot hold NUL characters."]}


def test_bulk_upsert_reports_an_unchanged_address_as_unchanged(member_api: APIClient, cast: Cast) -> None:
    payload = {"contacts": [{"email": "maya@example.com", "address_line1": "Torstraße 12"}]}
    member_api.post(f"{CONTACTS}bulk/", payload, format="json")

    again = member_api.post(f"{CONTACTS}bulk/", payload, format="json").json()

    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 1)


def test_the_openapi_schema_documents_the_address_lines(member_api: APIClient) -> None:
    schema = member_api.get("/api/schema/", {"format": "json"}).json()

    for component in ("Contact", "ContactWriteRequest"):
        assert set(LINES) <= set(schema["components"]["schemas"][component]["properties"])


# --- Exports ---------------------------------------------------------------------------------------


def test_the_csv_export_has_the_address_columns_next_to_the_city(member_api: APIClient, cast: Cast) -> None:
    ContactFactory(workspace=cast.workspace, address_line1="Torstraße 12", address_line2="Hinterhaus")

    response = member_api.get(f"{CONTACTS}export/", {"format": "csv"})

    text = b"".join(response.streaming_content).decode("utf-8-sig")
    reader = csv.DictReader(io.StringIO(text))
    columns = list(reader.fieldnames or [])
    assert columns[columns.index("address_line1") :][:3] == ["address_line1", "address_line2", "city"]
    assert [(row["address_line1"], row["address_line2"]) for row in reader] == [
        ("Torstraße 12", "Hinterhaus")
    ]


def test_the_xlsx_export_has_the_address_columns(member_api: APIClient, cast: Cast) -> None:
    ContactFactory(workspace=cast.workspace, address_line1="Torstraße 12", address_line2="Hinterhaus")

    response = member_api.get(f"{CONTACTS}export/", {"format": "xlsx"})

    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    header, row = workbook["Contacts"].iter_rows(values_only=True)
    values = dict(zip(header, row, strict=True))
    assert (values["address_line1"], values["address_line2"]) == ("Torstraße 12", "Hinterhaus")


def test_the_admin_resource_exports_and_imports_the_address_lines(cast: Cast) -> None:
    ContactFactory(workspace=cast.workspace, email="maya@example.com", address_line1="Torstraße 12")
    exported = ContactResource().export()
    assert exported.dict[0]["address_line1"] == "Torstraße 12"

    rows = Dataset(headers=["workspace", "email", "address_line1", "address_line2"])
    rows.append(["acme", "maya@example.com", "", "Hinterhaus"])
    result = ContactResource().import_data(rows, dry_run=False)

    assert not result.has_errors()
    assert not result.has_validation_errors()
    assert _lines(cast, "maya@example.com") == (
        "Torstraße 12",
        "Hinterhaus",
    )  # the empty cell kept the street


# --- Pages and segments ----------------------------------------------------------------------------


def test_the_contact_page_and_form_show_the_address_lines(member_client: Client, cast: Cast) -> None:
    contact = ContactFactory(
        workspace=cast.workspace, address_line1="Torstraße 12", address_line2="Hinterhaus"
    )

    page = member_client.get(f"/w/acme/contacts/{contact.id}/").content.decode()
    form = member_client.get(f"/w/acme/contacts/{contact.id}/edit/").content.decode()

    assert "<dt>Street address</dt>" in page
    assert "Hinterhaus" in page
    assert 'name="address_line1" value="Torstraße 12"' in form
    assert 'name="address_line2" value="Hinterhaus"' in form


def test_editing_a_contact_saves_its_address_lines(member_client: Client, cast: Cast) -> None:
    contact = services.contact_create(workspace=cast.workspace, values={"email": "a@example.com"})

    response = member_client.post(
        f"/w/acme/contacts/{contact.id}/edit/",
        {
            "email": "a@example.com",
            "address_line1": "Torstraße 12 ",
            "address_line2": "Hinterhaus",
            "email_consent": "unknown",
            "sms_consent": "unknown",
        },
    )

    contact.refresh_from_db()
    assert response.status_code == 302
    assert (contact.address_line1, contact.address_line2) == ("Torstraße 12", "Hinterhaus")


def test_a_segment_rule_finds_contacts_by_street(cast: Cast) -> None:
    on_tor = ContactFactory(workspace=cast.workspace, address_line1="Torstraße 12")
    ContactFactory(workspace=cast.workspace, address_line1="Hauptstraße 3")
    no_line2 = {"field": "address_line2", "op": "is_empty"}
    rules = {"all": [{"field": "address_line1", "op": "startswith", "value": "Tor"}, no_line2]}

    found = segment_selectors.rules_contacts(workspace=cast.workspace, rules=rules)

    assert list(found.values_list("id", flat=True)) == [on_tor.id]


# --- Seeding ---------------------------------------------------------------------------------------


def test_seeded_contacts_have_street_addresses(cast: Cast) -> None:
    contacts_seed(workspace=cast.workspace, count=300, seed=5)

    contacts = list(Contact.objects.filter(workspace=cast.workspace))
    assert all(contact.address_line1 for contact in contacts)
    assert 0.04 <= sum(1 for contact in contacts if contact.address_line2) / len(contacts) <= 0.25
    rules = services.contact_rules(workspace=cast.workspace)
    for contact in contacts:
        values = {name: getattr(contact, name) for name in LINES}
        assert clean_contact_values(values, rules=rules).values == values  # already clean


def test_contacts_seeded_before_addresses_are_given_one(cast: Cast) -> None:
    contacts_seed(workspace=cast.workspace, count=50, seed=5)
    Contact.objects.filter(workspace=cast.workspace).update(address_line1="", address_line2="")
    own = ContactFactory(workspace=cast.workspace, address_line1="")

    assert contacts_seed_addresses(workspace=cast.workspace, seed=5) == 50

    assert not Contact.objects.filter(workspace=cast.workspace, source="demo", address_line1="").exists()
    own.refresh_from_db()
    assert own.address_line1 == ""  # only generated contacts are filled
