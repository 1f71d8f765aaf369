"""Which contact field each column of an uploaded file fills: suggested from the headers, then checked.

A target is a contact field's public name (cleaning.FIELD_NAMES, except "custom"), "custom.<key>" for a
workspace custom field, or "" to ignore the column. Before the import is configured a target may also
be "new:<type>:<Label>", a custom field to create for the column (`parse_new_target`). Headers are compared by `header_key`: case,
accents, spaces and punctuation removed, so "E-Mail-Adresse", "e_mail adresse" and "EMAIL ADRESSE" are
one name, and the synonym table below needs one spelling per word in English, German, French, Spanish.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from apps.contacts.choices import CustomFieldType
from apps.contacts.cleaning import FIELD_NAMES

CUSTOM_PREFIX = "custom."
NEW_PREFIX = "new:"
NEW_FIELD_SYNTAX = "new:<type>:<Label>"
# A new custom field may not take the name of a built-in one: "custom.email" beside "email" misleads.
RESERVED_KEYS = frozenset(
    {*FIELD_NAMES, "id", "workspace", "email_normalized", "phone_e164", "source", "created_at", "updated_at"}
)
CUSTOM_KEY_PATTERN = re.compile(r"[a-z][a-z0-9_]{0,49}")
MAX_LABEL_LENGTH = 80
TARGETS: tuple[str, ...] = tuple(name for name in FIELD_NAMES if name != "custom")
NO_MATCH_KEY = "Map a column to email or phone: contacts are matched on them."

# Per target, " | "-separated: English, German, French, Spanish. The target's own name always counts.
SYNONYMS: Mapping[str, str] = {
    "email": (
        "E-mail | Email Address | E-mail address | Mail | Mail address | Email addr | e_mail | "
        "E-Mail-Adresse | Mailadresse | Emailadresse | Courriel | Adresse e-mail | Adresse mail | "
        "Adresse électronique | Mél | Correo | Correo electrónico | Dirección de correo | "
        "Dirección de correo electrónico"
    ),
    "phone": (
        "Phone number | Telephone | Telephone number | Tel | Tel. no | Mobile | Mobile phone | "
        "Mobile number | Cell | Cell phone | Cellphone | Phone no | MSISDN | Telefon | "
        "Telefonnummer | Tel.-Nr. | Handy | Handynummer | Mobil | Mobilnummer | Mobiltelefon | "
        "Rufnummer | Téléphone | Numéro de téléphone | Portable | Numéro de portable | Teléfono | "
        "Número de teléfono | Móvil | Celular | Teléfono móvil"
    ),
    "first_name": (
        "First Name | Firstname | Given name | Forename | Fname | Vorname | Prénom | Nombre | Nombre de pila"
    ),
    "last_name": (
        "Last Name | Lastname | Surname | Family name | Lname | Nachname | Familienname | Nom | "
        "Nom de famille | Apellido | Apellidos"
    ),
    "birth_date": (
        "Birth date | Birthdate | Date of birth | DOB | Birthday | Geburtsdatum | Geburtstag | "
        "Geboren am | Date de naissance | Fecha de nacimiento"
    ),
    "age": "Alter | Âge | Edad",
    "gender": "Sex | Geschlecht | Sexe | Genre | Género | Sexo",
    "marital_status": (
        "Marital status | Relationship status | Civil status | Familienstand | État civil | "
        "Situation familiale | Situation matrimoniale | Estado civil"
    ),
    "children_in_household": (
        "Children | Kids | Number of children | Children in household | Kinder | Anzahl Kinder | "
        "Kinder im Haushalt | Enfants | Nombre d'enfants | Hijos | Número de hijos"
    ),
    "address_line1": (
        "Street | Street address | Address | Address 1 | Address line 1 | Straße | Strasse | "
        "Straße und Hausnummer | Adresse | Anschrift | Rue | Adresse postale | Dirección | Calle | "
        "Dirección postal"
    ),
    "address_line2": (
        "Address 2 | Address line 2 | Street 2 | Adresszusatz | Adresse 2 | Complément d'adresse | "
        "Dirección 2 | Dirección línea 2"
    ),
    "city": "Town | Locality | Ort | Stadt | Wohnort | Ville | Localité | Ciudad | Localidad",
    "region": "State | Province | County | Bundesland | Région | Département | Provincia | Región",
    "country": "Country code | Land | Pays | País",
    "postal_code": (
        "Zip | Zip code | Zipcode | Postcode | Postal code | Post code | PLZ | Postleitzahl | "
        "Code postal | CP | Código postal"
    ),
    "household_income_band": (
        "Income | Household income | Income band | Einkommen | Haushaltseinkommen | Revenu | "
        "Revenus | Ingresos"
    ),
    "education_level": (
        "Education | Education level | Bildung | Bildungsabschluss | Schulabschluss | Éducation | "
        "Niveau d'études | Educación | Nivel educativo | Estudios"
    ),
    "customer_since": (
        "Customer since | Client since | Member since | Signup date | Date joined | Kunde seit | "
        "Kundin seit | Client depuis | Cliente desde"
    ),
    "orders_count": (
        "Orders | Order count | Number of orders | Bestellungen | Anzahl Bestellungen | "
        "Commandes | Nombre de commandes | Pedidos | Número de pedidos"
    ),
    "total_spent": (
        "Total spent | Revenue | Total revenue | Lifetime value | LTV | Umsatz | Gesamtumsatz | "
        "Chiffre d'affaires | Montant total | Total dépensé | Total gastado | Gasto total"
    ),
    "last_purchase_at": (
        "Last purchase | Last order | Last purchase date | Last order date | Letzter Kauf | "
        "Letzte Bestellung | Dernier achat | Dernière commande | Última compra | Último pedido"
    ),
    "language": "Lang | Locale | Preferred language | Sprache | Langue | Idioma",
    "timezone": "Time zone | TZ | Zeitzone | Fuseau horaire | Zona horaria",
    "email_consent": (
        "Email consent | Newsletter | Email opt-in | Accepts marketing | Marketing emails | "
        "E-Mail-Einwilligung | Einwilligung E-Mail | Newsletter-Einwilligung | "
        "Consentement e-mail | Inscrit newsletter | Consentimiento email | Boletín"
    ),
    "sms_consent": (
        "SMS consent | SMS opt-in | SMS marketing | SMS-Einwilligung | Consentement SMS | Consentimiento SMS"
    ),
    "tags": (
        "Tag | Labels | Label | Segments | Segment | Groups | Schlagwörter | Stichwörter | "
        "Etiketten | Gruppen | Étiquettes | Libellés | Etiquetas"
    ),
}
# "Name" beside a first-name column is the surname (German lists: Vorname, Name); alone it is usually
# the full name, which no field holds, so it is left for the importer to choose.
SURNAME_BESIDE_FIRST_NAME = ("Name",)
# "Customer Email", "Kunden-Telefon": a leading qualifier that does not change the field.
QUALIFIERS = ("customer", "contact", "client", "primary", "main", "kunden", "kontakt", "cliente")


def header_key(text: str) -> str:
    """A header reduced to lower-case letters and digits, accents dropped ("Prénom" -> "prenom")."""
    return "".join(char for char in unicodedata.normalize("NFKD", text.casefold()) if char.isalnum())


def _index(table: Mapping[str, str]) -> dict[str, str]:
    index: dict[str, str] = {}
    for target, phrases in table.items():
        for phrase in (target, *phrases.split(" | ")):
            key = header_key(phrase)
            if index.setdefault(key, target) != target:
                raise ValueError(f"“{phrase}” is a synonym of both {index[key]} and {target}.")
    return index


_SYNONYM_INDEX = _index(SYNONYMS)
_SURNAME_KEYS = frozenset(header_key(phrase) for phrase in SURNAME_BESIDE_FIRST_NAME)


def _candidate_keys(header: str) -> list[str]:
    keys = [header_key(header), header_key(re.sub(r"\(.*?\)|\[.*?\]", "", header))]
    keys += [
        key.removeprefix(qualifier)
        for key in keys[:2]
        for qualifier in QUALIFIERS
        if key.startswith(qualifier)
    ]
    return [key for key in keys if key]


def _guess(header: str, custom: Mapping[str, str]) -> str:
    for key in _candidate_keys(header):
        # The workspace named its custom fields on purpose: an exact custom key beats a synonym.
        if key in custom:
            return custom[key]
        if key in _SYNONYM_INDEX:
            return _SYNONYM_INDEX[key]
    return ""


def suggest_mapping(headers: Sequence[str], *, custom_keys: Sequence[str] = ()) -> list[str]:
    """One target per column; "" where nothing fits, and for any later column guessing a taken field."""
    custom = {header_key(key): f"{CUSTOM_PREFIX}{key}" for key in custom_keys}
    guesses = [_guess(header, custom) for header in headers]
    if "first_name" in guesses:
        guesses = [
            "last_name" if not guess and header_key(header) in _SURNAME_KEYS else guess
            for header, guess in zip(headers, guesses, strict=True)
        ]
    taken: set[str] = set()
    mapping: list[str] = []
    for guess in guesses:
        mapping.append("" if guess in taken else guess)
        taken.add(guess)
    return mapping


def column_label(header: str, index: int) -> str:
    """How a column is named in messages: its header, or its position when the header is blank."""
    return header.strip() or f"Column {index + 1}"


def target_problem(target: str, custom_keys: set[str]) -> str | None:
    """What is wrong with a (non-empty) target, or None."""
    if target in TARGETS:
        return None
    if target.startswith(CUSTOM_PREFIX):
        key = target.removeprefix(CUSTOM_PREFIX)
        return None if key in custom_keys else f"There is no custom field “{key}”: create it first."
    return f"“{target}” is not a contact field."


def check_mapping(
    mapping: Sequence[str], headers: Sequence[str], *, custom_keys: Sequence[str] = ()
) -> dict[str, str]:
    """Errors keyed by column (`column_label`); the key "" holds problems of the mapping as a whole."""
    if len(mapping) != len(headers):
        return {"": f"Give one target per column: the file has {len(headers)}, the mapping {len(mapping)}."}
    errors: dict[str, str] = {}
    known_custom = set(custom_keys)
    mapped_by: dict[str, str] = {}
    for index, (target, header) in enumerate(zip(mapping, headers, strict=True)):
        if not target:
            continue
        label = column_label(header, index)
        problem = target_problem(target, known_custom)
        if problem is None and target in mapped_by:
            problem = f"“{mapped_by[target]}” already fills {target}: map each field from one column."
        if problem:
            errors[label] = problem
        else:
            mapped_by[target] = label
    if "email" not in mapped_by and "phone" not in mapped_by:
        errors[""] = NO_MATCH_KEY
    return errors


# --- Presets: a saved mapping keyed by header text -----------------------------------------------------


def preset_header(text: str) -> str:
    """How a preset recognises a header: case and runs of spaces do not matter, punctuation does
    ("E-Mail" and "e-mail " are one column, "Email" another)."""
    return " ".join(text.split()).casefold()


def mapping_to_preset(headers: Sequence[str], mapping: Sequence[str]) -> dict[str, str]:
    """{header: target} for a preset, skipped columns included (so they stay skipped); blank
    headers are left out, and of two columns with one header the first counts."""
    saved: dict[str, str] = {}
    seen: set[str] = set()
    for header, target in zip(headers, mapping, strict=False):
        key = preset_header(header)
        if key and key not in seen:
            seen.add(key)
            saved[header.strip()] = target
    return saved


def apply_preset(
    headers: Sequence[str],
    suggested: Sequence[str],
    preset: Mapping[str, str],
    *,
    custom_keys: Sequence[str] = (),
) -> tuple[list[str], list[str]]:
    """(mapping, notes). Columns the preset knows get its target, the others keep the suggestion
    unless the preset gave that field to another column. A target that is no longer valid (its
    custom field was deleted) is dropped, and a note says so, naming the column."""
    by_header = {preset_header(header): target for header, target in preset.items()}
    known_custom = set(custom_keys)
    mapping = list(suggested)
    from_preset: dict[int, str] = {}
    notes: list[str] = []
    seen: set[str] = set()
    for index, header in enumerate(headers):
        key = preset_header(header)
        if key not in by_header or key in seen:
            continue
        seen.add(key)
        target = by_header[key]
        problem = target_problem(target, known_custom) if target else None
        if problem:
            notes.append(
                f"{column_label(header, index)}: the preset's target “{target}” is dropped ({problem}); "
                "the column keeps its suggestion."
            )
            continue
        if target and target in from_preset.values():
            notes.append(
                f"{column_label(header, index)}: the preset maps another column to {target} already."
            )
            target = ""
        mapping[index] = from_preset[index] = target
    taken = {target for target in from_preset.values() if target}
    for index, target in enumerate(mapping):
        if index not in from_preset and target in taken:
            mapping[index] = ""
    return mapping, notes


# --- Custom fields created for a column -------------------------------------------------------------


@dataclass(frozen=True)
class NewField:
    """A custom field to create for a column when the import is configured."""

    label: str
    key: str
    field_type: str
    choices: tuple[str, ...] = ()


def custom_key_for(label: str) -> str:
    """A custom field key from a label: "Kundennummer (alt)" -> "kundennummer_alt", "Straße" ->
    "strasse"; lower_snake ASCII starting with a letter, at most 50 characters."""
    text = unicodedata.normalize("NFKD", label.casefold()).encode("ascii", "ignore").decode()
    key = re.sub(r"[^a-z0-9]+", "_", text).strip("_") or "field"
    if not key[0].isalpha():
        key = f"field_{key}"
    return key[:50].rstrip("_")


def parse_new_target(target: str) -> NewField:
    """`new:<type>:<Label>` (the key is made from the label); ValueError says what is wrong."""
    field_type, separator, label = target.removeprefix(NEW_PREFIX).partition(":")
    field_type, label = field_type.strip().lower(), label.strip()
    if not separator or not label:
        raise ValueError(f"Write a new custom field as {NEW_FIELD_SYNTAX}, e.g. new:text:Customer number.")
    if field_type not in CustomFieldType.values:
        raise ValueError(
            f"“{field_type}” is not a custom field type: use {', '.join(CustomFieldType.values)}."
        )
    return NewField(label=label, key=custom_key_for(label), field_type=field_type)


def _new_field_problem(field: NewField, existing: set[str]) -> str | None:
    if field.field_type not in CustomFieldType.values:
        return f"“{field.field_type}” is not a custom field type: use {', '.join(CustomFieldType.values)}."
    if not field.label.strip():
        return "Give the new custom field a label."
    if len(field.label) > MAX_LABEL_LENGTH:
        return f"A custom field label has at most {MAX_LABEL_LENGTH} characters."
    if not CUSTOM_KEY_PATTERN.fullmatch(field.key):
        return (
            f"“{field.key}” cannot be a key: use lower-case letters, digits and underscores, "
            "starting with a letter, at most 50."
        )
    if field.key in RESERVED_KEYS:
        return f"“{field.key}” is a built-in contact field: map the column to it, or name the new field otherwise."
    if field.key in existing:
        return (
            f"There already is a custom field “{field.key}”: map the column to it, or name the new "
            "field otherwise."
        )
    return None


def check_new_fields(
    new_fields: Mapping[int, NewField], headers: Sequence[str], *, custom_keys: Sequence[str] = ()
) -> dict[str, str]:
    """Errors keyed by column (`column_label`), before anything is created."""
    errors: dict[str, str] = {}
    existing = set(custom_keys)
    claimed: dict[str, str] = {}
    for index, field in sorted(new_fields.items()):
        if not 0 <= index < len(headers):
            errors[""] = f"The file has no column {index + 1}."
            continue
        label = column_label(headers[index], index)
        problem = _new_field_problem(field, existing)
        if problem is None and field.key in claimed:
            problem = f"“{claimed[field.key]}” creates the custom field “{field.key}” already: name this one otherwise."
        if problem:
            errors[label] = problem
        else:
            claimed[field.key] = label
    return errors
