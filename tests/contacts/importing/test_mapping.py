"""Suggesting and checking which contact field each column fills."""

from __future__ import annotations

import pytest

from apps.contacts.cleaning import FIELD_NAMES
from apps.contacts.importing.mapping import SYNONYMS, check_mapping, header_key, suggest_mapping


def test_suggest_mapping_ignores_case_spaces_punctuation_and_accents() -> None:
    headers = ["E-MAIL", " first  name ", "PRENOM", "Tel.", "zip_code"]

    assert suggest_mapping(headers) == ["email", "first_name", "", "phone", "postal_code"]


@pytest.mark.parametrize(
    ("header", "target"),
    [
        ("E-mail", "email"),
        ("Email Address", "email"),
        ("mail", "email"),
        ("e_mail", "email"),
        ("Mobile", "phone"),
        ("Cell", "phone"),
        ("Telephone", "phone"),
        ("Tel.", "phone"),
        ("Phone number", "phone"),
        ("First Name", "first_name"),
        ("Given name", "first_name"),
        ("Forename", "first_name"),
        ("Surname", "last_name"),
        ("Family name", "last_name"),
        ("Zip", "postal_code"),
        ("Postcode", "postal_code"),
        ("DOB", "birth_date"),
        ("Date of birth", "birth_date"),
        ("Tags", "tags"),
        ("Labels", "tags"),
        ("Segments", "tags"),
        ("Time zone", "timezone"),
        ("Total spent", "total_spent"),
        ("customer_since", "customer_since"),
    ],
)
def test_suggest_mapping_reads_english_headers(header: str, target: str) -> None:
    assert suggest_mapping([header]) == [target]


@pytest.mark.parametrize(
    ("header", "target"),
    [
        ("E-Mail-Adresse", "email"),
        ("Vorname", "first_name"),
        ("Nachname", "last_name"),
        ("Telefon", "phone"),
        ("Handy", "phone"),
        ("Mobilnummer", "phone"),
        ("Geburtsdatum", "birth_date"),
        ("Geschlecht", "gender"),
        ("Familienstand", "marital_status"),
        ("Kinder", "children_in_household"),
        ("Ort", "city"),
        ("Stadt", "city"),
        ("Bundesland", "region"),
        ("Land", "country"),
        ("PLZ", "postal_code"),
        ("Postleitzahl", "postal_code"),
        ("Einkommen", "household_income_band"),
        ("Bildung", "education_level"),
        ("Kunde seit", "customer_since"),
        ("Bestellungen", "orders_count"),
        ("Umsatz", "total_spent"),
        ("Letzter Kauf", "last_purchase_at"),
        ("Sprache", "language"),
        ("Zeitzone", "timezone"),
        ("Newsletter", "email_consent"),
        ("E-Mail-Einwilligung", "email_consent"),
    ],
)
def test_suggest_mapping_reads_german_headers(header: str, target: str) -> None:
    assert suggest_mapping([header]) == [target]


@pytest.mark.parametrize(
    ("header", "target"),
    [
        ("Courriel", "email"),
        ("Adresse e-mail", "email"),
        ("Prénom", "first_name"),
        ("Nom", "last_name"),
        ("Téléphone", "phone"),
        ("Portable", "phone"),
        ("Date de naissance", "birth_date"),
        ("Sexe", "gender"),
        ("Ville", "city"),
        ("Code postal", "postal_code"),
        ("Pays", "country"),
    ],
)
def test_suggest_mapping_reads_french_headers(header: str, target: str) -> None:
    assert suggest_mapping([header]) == [target]


@pytest.mark.parametrize(
    ("header", "target"),
    [
        ("Correo", "email"),
        ("Correo electrónico", "email"),
        ("Nombre", "first_name"),
        ("Apellido", "last_name"),
        ("Apellidos", "last_name"),
        ("Teléfono", "phone"),
        ("Móvil", "phone"),
        ("Fecha de nacimiento", "birth_date"),
        ("Género", "gender"),
        ("Ciudad", "city"),
        ("Código postal", "postal_code"),
        ("País", "country"),
    ],
)
def test_suggest_mapping_reads_spanish_headers(header: str, target: str) -> None:
    assert suggest_mapping([header]) == [target]


def test_suggest_mapping_reads_name_beside_a_first_name_as_the_surname() -> None:
    assert suggest_mapping(["Vorname", "Name", "E-Mail"]) == ["first_name", "last_name", "email"]


def test_suggest_mapping_leaves_a_lone_name_column_to_the_importer() -> None:
    assert suggest_mapping(["Name", "Email"]) == ["", "email"]


def test_suggest_mapping_looks_past_qualifiers_and_parentheses() -> None:
    headers = ["Customer Email", "Phone (mobile)", "Kunden-Nachname"]

    assert suggest_mapping(headers) == ["email", "phone", "last_name"]


def test_suggest_mapping_maps_a_custom_field_key_or_its_spelling_as_words() -> None:
    headers = ["email", "shoe_size", "Favourite Colour"]

    mapping = suggest_mapping(headers, custom_keys=["shoe_size", "favourite_colour"])

    assert mapping == ["email", "custom.shoe_size", "custom.favourite_colour"]


def test_suggest_mapping_prefers_a_custom_field_named_exactly_like_the_header() -> None:
    assert suggest_mapping(["Newsletter"], custom_keys=["newsletter"]) == ["custom.newsletter"]


def test_suggest_mapping_never_maps_two_columns_to_one_field() -> None:
    assert suggest_mapping(["Phone", "Mobile", "E-mail", "Email"]) == ["phone", "", "email", ""]


def test_suggest_mapping_leaves_unknown_headers_unmapped() -> None:
    assert suggest_mapping(["Kundennummer", "", "Notes"]) == ["", "", ""]


def test_every_synonym_targets_a_contact_field() -> None:
    assert set(SYNONYMS) <= set(FIELD_NAMES) - {"custom"}


def test_header_key_drops_case_accents_spaces_and_punctuation() -> None:
    assert header_key(" Numéro de Téléphone (Straße) ") == "numerodetelephonestrasse"


def test_check_mapping_accepts_a_valid_mapping() -> None:
    headers = ["E-Mail", "Vorname", "Schuhgröße", "Notiz"]

    errors = check_mapping(
        ["email", "first_name", "custom.shoe_size", ""], headers, custom_keys=["shoe_size"]
    )

    assert errors == {}


def test_check_mapping_requires_an_email_or_phone_column() -> None:
    errors = check_mapping(["first_name", ""], ["Vorname", "Notiz"])

    assert errors == {"": "Map a column to email or phone: contacts are matched on them."}


def test_check_mapping_accepts_phone_without_email() -> None:
    assert check_mapping(["phone"], ["Handy"]) == {}


def test_check_mapping_rejects_an_unknown_target() -> None:
    errors = check_mapping(["email", "shoe_size", "custom"], ["E-Mail", "Size", "Extra"])

    assert errors == {
        "Size": "“shoe_size” is not a contact field.",
        "Extra": "“custom” is not a contact field.",
    }


def test_check_mapping_rejects_an_unknown_custom_field() -> None:
    errors = check_mapping(["email", "custom.shoe_size"], ["E-Mail", "Size"], custom_keys=["hat_size"])

    assert errors == {"Size": "There is no custom field “shoe_size”: create it first."}


def test_check_mapping_rejects_a_field_mapped_twice() -> None:
    errors = check_mapping(["email", "phone", "phone"], ["E-Mail", "Telefon", "Handy"])

    assert errors == {"Handy": "“Telefon” already fills phone: map each field from one column."}


def test_check_mapping_names_unnamed_columns_by_their_position() -> None:
    errors = check_mapping(["email", "nickname"], ["E-Mail", ""])

    assert errors == {"Column 2": "“nickname” is not a contact field."}


def test_check_mapping_rejects_a_mapping_of_the_wrong_length() -> None:
    errors = check_mapping(["email"], ["E-Mail", "Vorname"])

    assert errors == {"": "Give one target per column: the file has 2, the mapping 1."}
