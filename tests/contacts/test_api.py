"""The contacts REST API: contacts, bulk upserts, exports, tags and custom fields."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from openpyxl import load_workbook
from rest_framework.test import APIClient

from apps.contacts.choices import Channel
from apps.contacts.cleaning import FIELD_NAMES, address_hash
from apps.contacts.models import Contact, ContactTag, CustomField, Suppression, Tag
from apps.core.roles import Role
from tests.conftest import Cast
from tests.factories import ContactFactory, CustomFieldFactory, TagFactory, issue_token

pytestmark = pytest.mark.django_db

CONTACTS = "/api/v1/contacts/"
TAGS = "/api/v1/tags/"
CUSTOM_FIELDS = "/api/v1/custom-fields/"


@pytest.fixture
def viewer_api(cast: Cast) -> APIClient:
    _, key = issue_token(membership=cast.member_membership, role=Role.VIEWER)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


def _fields(response: Any) -> dict[str, list[str]]:
    assert response.status_code == 400, response.content
    return response.json()["error"]["fields"]


def _ids(response: Any) -> list[int]:
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()["results"]]


def _csv_rows(response: Any) -> list[dict[str, str]]:
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def _xlsx_rows(response: Any) -> list[tuple[Any, ...]]:
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    return list(workbook["Contacts"].iter_rows(values_only=True))


# --- Contacts: create, read, update, erase ---------------------------------------------------------


def test_creating_a_contact_answers_201_with_exactly_the_public_field_names(
    member_api: APIClient, cast: Cast
) -> None:
    response = member_api.post(CONTACTS, {"email": "maya@example.com"}, format="json")

    assert response.status_code == 201
    assert set(response.json()) == {*FIELD_NAMES, "id", "created_at", "updated_at", "suppressed"}


def test_a_created_contact_keeps_its_values_tags_and_custom_fields(member_api: APIClient, cast: Cast) -> None:
    CustomFieldFactory(workspace=cast.workspace, key="shoe_size", field_type="number")

    body = member_api.post(
        CONTACTS,
        {
            "email": "Maya@Example.com",
            "phone": "030 1234567",
            "gender": "Female",
            "total_spent": 129.9,
            "tags": ["newsletter", "VIP"],
            "custom": {"shoe_size": "39"},
        },
        format="json",
    ).json()

    assert (body["email"], body["phone"], body["gender"]) == ("Maya@Example.com", "030 1234567", "female")
    assert (body["total_spent"], sorted(body["tags"]), body["custom"]) == (
        "129.90",
        sorted(["newsletter", "VIP"]),
        {"shoe_size": 39},
    )
    assert body["suppressed"] is False


def test_age_is_an_integer_kept_from_the_birth_date(member_api: APIClient, cast: Cast) -> None:
    today = timezone.now().date()
    birth_date = today.replace(year=today.year - 30) - dt.timedelta(days=1)

    body = member_api.post(
        CONTACTS, {"email": "a@example.com", "birth_date": birth_date.isoformat(), "age": 99}, format="json"
    ).json()

    assert body["age"] == 30


def test_a_contact_is_read_by_id(member_api: APIClient, cast: Cast) -> None:
    contact = ContactFactory(workspace=cast.workspace, first_name="Maya")

    body = member_api.get(f"{CONTACTS}{contact.id}/").json()

    assert (body["id"], body["first_name"]) == (contact.id, "Maya")


def test_patch_changes_only_the_given_fields(member_api: APIClient, cast: Cast) -> None:
    contact = ContactFactory(workspace=cast.workspace, first_name="Maya", city="Berlin")

    body = member_api.patch(f"{CONTACTS}{contact.id}/", {"city": "Hamburg"}, format="json").json()

    assert (body["first_name"], body["city"]) == ("Maya", "Hamburg")


def test_put_replaces_the_contact_clearing_the_fields_it_leaves_out(
    member_api: APIClient, cast: Cast
) -> None:
    contact = ContactFactory(
        workspace=cast.workspace,
        first_name="Maya",
        city="Berlin",
        tags=[TagFactory(workspace=cast.workspace)],
    )

    body = member_api.put(
        f"{CONTACTS}{contact.id}/", {"email": contact.email, "city": "Hamburg"}, format="json"
    ).json()

    assert (body["first_name"], body["city"], body["country"], body["tags"]) == ("", "Hamburg", "", [])


def test_put_keeps_a_consent_it_does_not_mention(member_api: APIClient, cast: Cast) -> None:
    contact_id = member_api.post(
        CONTACTS, {"email": "a@example.com", "email_consent": "opted_out"}, format="json"
    ).json()["id"]

    body = member_api.put(f"{CONTACTS}{contact_id}/", {"email": "a@example.com"}, format="json").json()

    assert body["email_consent"] == "opted_out"


def test_put_without_email_or_phone_is_rejected_naming_email(member_api: APIClient, cast: Cast) -> None:
    contact = ContactFactory(workspace=cast.workspace)

    response = member_api.put(f"{CONTACTS}{contact.id}/", {"first_name": "Maya"}, format="json")

    assert "email" in _fields(response)


def test_a_fetched_contact_can_be_put_back_unchanged(member_api: APIClient, cast: Cast) -> None:
    contact = ContactFactory(
        workspace=cast.workspace, tags=[TagFactory(workspace=cast.workspace, name="vip")]
    )
    fetched = member_api.get(f"{CONTACTS}{contact.id}/").json()

    response = member_api.put(f"{CONTACTS}{contact.id}/", fetched, format="json")

    assert response.status_code == 200
    assert {**response.json(), "updated_at": None} == {**fetched, "updated_at": None}


def test_validation_errors_name_every_bad_field_in_the_error_format(
    member_api: APIClient, cast: Cast
) -> None:
    response = member_api.post(
        CONTACTS, {"email": "not-an-email", "gender": "robot", "age": 200}, format="json"
    )

    error = response.json()["error"]
    assert (response.status_code, error["code"]) == (400, "invalid")
    assert set(error["fields"]) == {"email", "gender", "age"}


def test_unknown_field_names_are_rejected_by_name(member_api: APIClient, cast: Cast) -> None:
    response = member_api.post(CONTACTS, {"email": "a@example.com", "shoe_size": 42}, format="json")

    assert set(_fields(response)) == {"shoe_size"}


def test_a_duplicate_email_in_any_case_is_rejected(member_api: APIClient, cast: Cast) -> None:
    member_api.post(CONTACTS, {"email": "maya@example.com"}, format="json")

    response = member_api.post(CONTACTS, {"email": "MAYA@example.com"}, format="json")

    assert "already exists" in _fields(response)["email"][0]


def test_deleting_a_contact_erases_it_and_leaves_only_a_hashed_suppression(
    member_api: APIClient, cast: Cast
) -> None:
    contact = ContactFactory(workspace=cast.workspace, email="maya@example.com")

    response = member_api.delete(f"{CONTACTS}{contact.id}/")

    assert response.status_code == 204
    assert not Contact.objects.filter(id=contact.id).exists()
    assert Suppression.objects.get(workspace=cast.workspace).address_hash == address_hash(
        Channel.EMAIL, "maya@example.com"
    )


def test_an_erased_address_added_again_cannot_be_opted_in(member_api: APIClient, cast: Cast) -> None:
    contact = ContactFactory(workspace=cast.workspace, email="maya@example.com")
    member_api.delete(f"{CONTACTS}{contact.id}/")

    response = member_api.post(
        CONTACTS, {"email": "Maya@example.com", "email_consent": "opted_in"}, format="json"
    )

    assert "suppression list" in _fields(response)["email_consent"][0]


def test_an_erased_address_added_again_is_shown_as_suppressed(member_api: APIClient, cast: Cast) -> None:
    contact = ContactFactory(workspace=cast.workspace, email="maya@example.com")
    member_api.delete(f"{CONTACTS}{contact.id}/")

    body = member_api.post(CONTACTS, {"email": "maya@example.com"}, format="json").json()

    assert body["suppressed"] is True


def test_another_workspaces_contact_is_not_found(member_api: APIClient, cast: Cast) -> None:
    theirs = ContactFactory(workspace=cast.other_workspace)

    response = member_api.patch(f"{CONTACTS}{theirs.id}/", {"city": "Paris"}, format="json")

    assert (response.status_code, response.json()["error"]["code"]) == (404, "not_found")


# --- The list: pages and filters -------------------------------------------------------------------


def test_the_list_is_paginated_newest_first(member_api: APIClient, cast: Cast) -> None:
    older, newer = ContactFactory(workspace=cast.workspace), ContactFactory(workspace=cast.workspace)

    body = member_api.get(CONTACTS, {"page_size": 1}).json()

    assert set(body) == {"count", "next", "previous", "results"}
    assert (body["count"], body["results"][0]["id"], body["previous"]) == (2, newer.id, None)
    assert "page=2" in body["next"]
    assert older.id != newer.id


def test_listing_takes_the_same_number_of_queries_whatever_the_page_size(
    member_api: APIClient, cast: Cast, django_assert_max_num_queries: Any
) -> None:
    tags = TagFactory.create_batch(3, workspace=cast.workspace)
    ContactFactory.create_batch(40, workspace=cast.workspace, tags=tags)
    member_api.get(CONTACTS, {"page_size": 1})  # the token's last use is recorded once a minute

    # token + role, count, page, tags of the page, suppressions of the page
    with django_assert_max_num_queries(6):
        response = member_api.get(CONTACTS, {"page_size": 40})

    assert len(response.json()["results"]) == 40


def test_the_list_filters_by_tags_all_of_which_must_match(member_api: APIClient, cast: Cast) -> None:
    vip, newsletter = TagFactory(workspace=cast.workspace, name="VIP"), TagFactory(workspace=cast.workspace)
    both = ContactFactory(workspace=cast.workspace, tags=[vip, newsletter])
    ContactFactory(workspace=cast.workspace, tags=[vip])

    response = member_api.get(f"{CONTACTS}?tag=vip&tag={newsletter.name}")

    assert _ids(response) == [both.id]


def test_the_list_filters_by_email_in_any_case(member_api: APIClient, cast: Cast) -> None:
    maya = ContactFactory(workspace=cast.workspace, email="maya@example.com")
    ContactFactory(workspace=cast.workspace)

    assert _ids(member_api.get(CONTACTS, {"email": "MAYA@example.com"})) == [maya.id]


def test_the_list_filters_by_phone(member_api: APIClient, cast: Cast) -> None:
    maya = ContactFactory(workspace=cast.workspace, phone="030 1234567", phone_e164="+49301234567")
    ContactFactory(workspace=cast.workspace)

    assert _ids(member_api.get(CONTACTS, {"phone": "+49301234567"})) == [maya.id]


def test_the_list_filters_by_updated_since(member_api: APIClient, cast: Cast) -> None:
    old, recent = ContactFactory(workspace=cast.workspace), ContactFactory(workspace=cast.workspace)
    Contact.objects.filter(id=old.id).update(updated_at=timezone.now() - dt.timedelta(days=30))
    since = (timezone.now() - dt.timedelta(days=1)).isoformat()

    assert _ids(member_api.get(CONTACTS, {"updated_since": since})) == [recent.id]


@pytest.mark.parametrize("term", ["Berg", "maya.b", "1234567"])
def test_q_searches_names_emails_and_phones(member_api: APIClient, cast: Cast, term: str) -> None:
    maya = ContactFactory(
        workspace=cast.workspace,
        last_name="Berg",
        email="maya.b@example.com",
        phone="030 1234567",
        phone_e164="+49301234567",
    )
    ContactFactory(workspace=cast.workspace, last_name="Other", first_name="Jonas")

    assert _ids(member_api.get(CONTACTS, {"q": term})) == [maya.id]


def test_the_list_filters_by_any_filterable_field(member_api: APIClient, cast: Cast) -> None:
    match = ContactFactory(workspace=cast.workspace, city="Berlin", gender="female")
    ContactFactory(workspace=cast.workspace, city="Berlin", gender="male")
    ContactFactory(workspace=cast.workspace, city="Hamburg", gender="female")

    assert _ids(member_api.get(CONTACTS, {"city": "Berlin", "gender": "female"})) == [match.id]


def test_the_list_filters_by_a_custom_field_value_of_its_type(member_api: APIClient, cast: Cast) -> None:
    CustomFieldFactory(workspace=cast.workspace, key="shoe_size", field_type="number")
    match = ContactFactory(workspace=cast.workspace, custom={"shoe_size": 42})
    ContactFactory(workspace=cast.workspace, custom={"shoe_size": 39})

    assert _ids(member_api.get(f"{CONTACTS}?custom.shoe_size=42")) == [match.id]


@pytest.mark.parametrize(
    ("parameter", "value"),
    [
        ("age", "old"),
        ("updated_since", "yesterday"),
        ("gender", "robot"),
        ("custom.shoe_size", "large"),
        ("custom.no_such_field", "1"),
    ],
)
def test_a_bad_filter_value_is_a_400_naming_the_parameter(
    member_api: APIClient, cast: Cast, parameter: str, value: str
) -> None:
    CustomFieldFactory(workspace=cast.workspace, key="shoe_size", field_type="number")

    response = member_api.get(CONTACTS, {parameter: value})

    assert set(_fields(response)) == {parameter}


# --- Bulk upsert -------------------------------------------------------------------------------------


def test_bulk_upsert_counts_created_updated_unchanged_and_errors(member_api: APIClient, cast: Cast) -> None:
    ContactFactory(workspace=cast.workspace, email="same@example.com", first_name="Same", city="Berlin")
    ContactFactory(workspace=cast.workspace, email="moved@example.com", city="Berlin")

    body = member_api.post(
        f"{CONTACTS}bulk/",
        {
            "contacts": [
                {"email": "new@example.com"},
                {"email": "moved@example.com", "city": "Hamburg"},
                {"email": "same@example.com", "first_name": "Same"},
                {"email": "broken"},
            ]
        },
        format="json",
    ).json()

    assert {key: body[key] for key in ("created", "updated", "unchanged", "errors")} == {
        "created": 1,
        "updated": 1,
        "unchanged": 1,
        "errors": 1,
    }
    assert [row["status"] for row in body["results"]] == ["created", "updated", "unchanged", "error"]


def test_bulk_upsert_reports_each_bad_row_by_index_and_field(member_api: APIClient, cast: Cast) -> None:
    body = member_api.post(
        f"{CONTACTS}bulk/",
        {"contacts": [{"email": "ok@example.com"}, {"email": "ok2@example.com", "age": "old"}, "not a row"]},
        format="json",
    ).json()

    bad = [
        (row["index"], sorted(row["errors"]), row["id"])
        for row in body["results"]
        if row["status"] == "error"
    ]
    assert bad == [(1, ["age"], None), (2, ["row"], None)]
    assert Contact.objects.filter(workspace=cast.workspace).count() == 1


def test_bulk_upsert_of_the_same_payload_twice_changes_nothing_the_second_time(
    member_api: APIClient, cast: Cast
) -> None:
    CustomFieldFactory(workspace=cast.workspace, key="shoe_size", field_type="number")
    payload = {
        "contacts": [
            {
                "email": f"person{n}@example.com",
                "phone": f"0151 2345678{n}",
                "birth_date": "1990-05-17",
                "total_spent": "12.5",
                "last_purchase_at": "2026-03-01T14:30:00Z",
                "email_consent": "opted_in",
                "tags": ["spring", "VIP"],
                "custom": {"shoe_size": 40 + n},
            }
            for n in range(5)
        ]
    }
    first = member_api.post(f"{CONTACTS}bulk/", payload, format="json").json()

    second = member_api.post(f"{CONTACTS}bulk/", payload, format="json").json()

    assert first["created"] == 5
    assert (second["unchanged"], second["created"], second["updated"], second["errors"]) == (5, 0, 0, 0)


def test_bulk_upsert_stores_the_consent_it_records(member_api: APIClient, cast: Cast) -> None:
    rows = [{"email": "maya@example.com", "email_consent": "opted_in", "sms_consent": "opted_out"}]

    member_api.post(f"{CONTACTS}bulk/", {"contacts": rows}, format="json")

    contact = Contact.objects.get(workspace=cast.workspace)
    assert (contact.email_consent, contact.sms_consent) == ("opted_in", "opted_out")


def test_bulk_upsert_rejects_more_than_10000_contacts_naming_the_field(
    member_api: APIClient, cast: Cast
) -> None:
    rows = [{"email": f"p{n}@example.com"} for n in range(10_001)]

    response = member_api.post(f"{CONTACTS}bulk/", {"contacts": rows}, format="json")

    assert "contacts" in _fields(response)
    assert not Contact.objects.exists()


def test_a_body_of_10000_full_contacts_fits_the_request_size_limit(settings: Any) -> None:
    row = {
        "email": "firstname.lastname+newsletter@example-company.com",
        "phone": "+49 151 23456789",
        "first_name": "Maximiliane",
        "last_name": "Mustermann-Schmidt",
        "birth_date": "1988-04-12",
        "age": 37,
        "gender": "non_binary",
        "marital_status": "partnered",
        "children_in_household": 2,
        "city": "Frankfurt am Main",
        "region": "Hessen",
        "country": "DE",
        "postal_code": "60311",
        "household_income_band": "100k_150k",
        "education_level": "vocational",
        "customer_since": "2019-11-02",
        "orders_count": 12345,
        "total_spent": "123456.78",
        "last_purchase_at": "2026-03-01T14:30:00+01:00",
        "language": "de-DE",
        "timezone": "Europe/Berlin",
        "email_consent": "opted_in",
        "sms_consent": "opted_out",
        "tags": ["spring-event-2026", "newsletter", "vip-customer", "store-berlin-mitte"],
        "custom": {"shoe_size": 39, "loyalty_tier": "gold", "favourite_store": "Berlin Mitte"},
    }

    size = len(json.dumps({"contacts": [row] * 10_000}).encode())

    assert 2_621_440 < size < settings.DATA_UPLOAD_MAX_MEMORY_SIZE  # above Django's 2.5 MB default


def test_a_bulk_body_beyond_djangos_default_limit_is_read(member_api: APIClient, cast: Cast) -> None:
    rows = [{"first_name": "M" * 300} for _ in range(10_000)]  # rejected row by row: cheap to process
    body = json.dumps({"contacts": rows})

    response = member_api.generic("POST", f"{CONTACTS}bulk/", body, content_type="application/json")

    assert len(body) > 2_621_440
    assert (response.status_code, response.json()["errors"]) == (200, 10_000)


def test_a_body_over_the_size_limit_is_413_in_the_error_format(
    member_api: APIClient, cast: Cast, settings: Any
) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    rows = [{"email": f"p{n}@example.com"} for n in range(100)]

    response = member_api.post(f"{CONTACTS}bulk/", {"contacts": rows}, format="json")

    assert (response.status_code, response.json()["error"]["code"]) == (413, "payload_too_large")


# --- Export ------------------------------------------------------------------------------------------


def test_the_csv_export_is_an_attachment_named_after_the_workspace_and_its_date(
    member_api: APIClient, cast: Cast
) -> None:
    response = member_api.get(f"{CONTACTS}export/", {"format": "csv"})

    today = timezone.localdate(timezone=ZoneInfo(cast.workspace.time_zone)).isoformat()
    assert (response.status_code, response["Content-Type"]) == (200, "text/csv; charset=utf-8")
    assert response["Content-Disposition"] == f'attachment; filename="acme-contacts-{today}.csv"'


def test_the_csv_export_has_every_column_and_only_the_filtered_contacts(
    member_api: APIClient, cast: Cast
) -> None:
    CustomFieldFactory(workspace=cast.workspace, key="shoe_size", field_type="number")
    vip = TagFactory(workspace=cast.workspace, name="vip")
    maya = ContactFactory(workspace=cast.workspace, first_name="Maya", custom={"shoe_size": 39}, tags=[vip])
    ContactFactory(workspace=cast.workspace, first_name="Jonas")

    rows = _csv_rows(member_api.get(f"{CONTACTS}export/", {"format": "csv", "tag": "vip"}))

    assert list(rows[0]) == [
        "id",
        *(name for name in FIELD_NAMES if name != "custom"),
        "custom.shoe_size",
        "created_at",
        "updated_at",
    ]
    assert [(row["id"], row["first_name"], row["tags"], row["custom.shoe_size"]) for row in rows] == [
        (str(maya.id), "Maya", "vip", "39")
    ]


def test_the_csv_export_escapes_cells_that_a_spreadsheet_would_run(member_api: APIClient, cast: Cast) -> None:
    ContactFactory(workspace=cast.workspace, first_name='=HYPERLINK("http://evil")', last_name="@SUM(A1)")

    row = _csv_rows(member_api.get(f"{CONTACTS}export/"))[0]

    assert (row["first_name"], row["last_name"]) == ('\'=HYPERLINK("http://evil")', "'@SUM(A1)")


def test_the_xlsx_export_opens_with_custom_field_columns(member_api: APIClient, cast: Cast) -> None:
    CustomFieldFactory(workspace=cast.workspace, key="shoe_size", field_type="number")
    maya = ContactFactory(workspace=cast.workspace, first_name="Maya", custom={"shoe_size": 39})

    response = member_api.get(f"{CONTACTS}export/", {"format": "xlsx"})

    header, row = _xlsx_rows(response)
    assert response["Content-Disposition"].startswith('attachment; filename="acme-contacts-')
    assert (
        dict(zip(header, row, strict=True)).items()
        >= {
            "id": maya.id,
            "first_name": "Maya",
            "custom.shoe_size": 39,
        }.items()
    )


def test_the_xlsx_export_escapes_formula_cells(member_api: APIClient, cast: Cast) -> None:
    ContactFactory(workspace=cast.workspace, first_name="=1+2", last_name="+cmd|' /C calc'!A0")

    header, row = _xlsx_rows(member_api.get(f"{CONTACTS}export/", {"format": "xlsx"}))

    cells = dict(zip(header, row, strict=True))
    assert (cells["first_name"], cells["last_name"]) == ("'=1+2", "'+cmd|' /C calc'!A0")


def test_the_export_rejects_an_unknown_format_naming_it(member_api: APIClient, cast: Cast) -> None:
    response = member_api.get(f"{CONTACTS}export/", {"format": "pdf"})

    assert set(_fields(response)) == {"format"}


# --- Tags --------------------------------------------------------------------------------------------


def test_creating_a_tag(member_api: APIClient, cast: Cast) -> None:
    response = member_api.post(TAGS, {"name": "Spring event", "colour": "#aa3300"}, format="json")

    assert response.status_code == 201
    assert {key: response.json()[key] for key in ("name", "colour", "contact_count")} == {
        "name": "Spring event",
        "colour": "#aa3300",
        "contact_count": 0,
    }


def test_tag_names_are_unique_in_any_case_naming_the_field(member_api: APIClient, cast: Cast) -> None:
    TagFactory(workspace=cast.workspace, name="VIP")

    response = member_api.post(TAGS, {"name": "vip"}, format="json")

    assert "already exists" in _fields(response)["name"][0]


def test_the_same_tag_name_may_exist_in_another_workspace(member_api: APIClient, cast: Cast) -> None:
    TagFactory(workspace=cast.other_workspace, name="VIP")

    assert member_api.post(TAGS, {"name": "VIP"}, format="json").status_code == 201


def test_the_tag_list_shows_how_many_contacts_have_each_tag(member_api: APIClient, cast: Cast) -> None:
    vip = TagFactory(workspace=cast.workspace, name="vip")
    ContactFactory.create_batch(2, workspace=cast.workspace, tags=[vip])

    body = member_api.get(TAGS).json()

    assert [(tag["name"], tag["contact_count"]) for tag in body["results"]] == [("vip", 2)]


def test_renaming_a_tag_keeps_its_contacts(member_api: APIClient, cast: Cast) -> None:
    tag = TagFactory(workspace=cast.workspace, name="vip", description="Best customers")
    ContactFactory(workspace=cast.workspace, tags=[tag])

    body = member_api.patch(f"{TAGS}{tag.id}/", {"name": "VIP customers"}, format="json").json()

    assert (body["name"], body["description"], body["contact_count"]) == (
        "VIP customers",
        "Best customers",
        1,
    )


def test_deleting_a_tag_keeps_its_contacts(member_api: APIClient, cast: Cast) -> None:
    tag = TagFactory(workspace=cast.workspace)
    contact = ContactFactory(workspace=cast.workspace, tags=[tag])

    assert member_api.delete(f"{TAGS}{tag.id}/").status_code == 204
    assert not Tag.objects.filter(id=tag.id).exists()
    assert Contact.objects.filter(id=contact.id).exists()


def test_applying_a_tag_to_contacts_by_id_ignores_other_workspaces(member_api: APIClient, cast: Cast) -> None:
    tag = TagFactory(workspace=cast.workspace)
    mine = ContactFactory.create_batch(2, workspace=cast.workspace)
    theirs = ContactFactory(workspace=cast.other_workspace)

    response = member_api.post(
        f"{TAGS}{tag.id}/apply/", {"contact_ids": [c.id for c in [*mine, theirs]]}, format="json"
    )

    assert response.json() == {"added": 2}
    assert set(ContactTag.objects.filter(tag=tag).values_list("contact_id", flat=True)) == {
        c.id for c in mine
    }


def test_applying_a_tag_to_the_contacts_matching_filters(member_api: APIClient, cast: Cast) -> None:
    tag, vip = TagFactory(workspace=cast.workspace), TagFactory(workspace=cast.workspace, name="vip")
    match = ContactFactory(workspace=cast.workspace, city="Berlin", tags=[vip])
    ContactFactory(workspace=cast.workspace, city="Berlin")
    ContactFactory(workspace=cast.workspace, city="Hamburg", tags=[vip])

    response = member_api.post(
        f"{TAGS}{tag.id}/apply/", {"filters": {"city": "Berlin", "tag": ["vip"]}}, format="json"
    )

    assert response.json() == {"added": 1}
    assert list(ContactTag.objects.filter(tag=tag).values_list("contact_id", flat=True)) == [match.id]


def test_removing_a_tag_from_the_contacts_matching_filters(member_api: APIClient, cast: Cast) -> None:
    tag = TagFactory(workspace=cast.workspace)
    ContactFactory(workspace=cast.workspace, city="Berlin", tags=[tag])
    hamburg = ContactFactory(workspace=cast.workspace, city="Hamburg", tags=[tag])

    response = member_api.post(f"{TAGS}{tag.id}/remove/", {"filters": {"city": "Berlin"}}, format="json")

    assert response.json() == {"removed": 1}
    assert list(ContactTag.objects.filter(tag=tag).values_list("contact_id", flat=True)) == [hamburg.id]


@pytest.mark.parametrize("body", [{}, {"contact_ids": [1], "filters": {}}])
def test_applying_a_tag_needs_either_contact_ids_or_filters(
    member_api: APIClient, cast: Cast, body: dict[str, Any]
) -> None:
    tag = TagFactory(workspace=cast.workspace)

    response = member_api.post(f"{TAGS}{tag.id}/apply/", body, format="json")

    assert response.status_code == 400
    assert "either" in response.json()["error"]["message"]


def test_applying_a_tag_refuses_a_misspelt_filter_instead_of_tagging_everyone(
    member_api: APIClient, cast: Cast
) -> None:
    tag = TagFactory(workspace=cast.workspace)
    ContactFactory(workspace=cast.workspace)

    response = member_api.post(f"{TAGS}{tag.id}/apply/", {"filters": {"citty": "Berlin"}}, format="json")

    assert _fields(response) == {"filters": {"citty": ["This is not a filter."]}}
    assert not ContactTag.objects.filter(tag=tag).exists()


# --- Custom fields -----------------------------------------------------------------------------------


def test_an_admin_creates_a_choice_custom_field(owner_api: APIClient, cast: Cast) -> None:
    response = owner_api.post(
        CUSTOM_FIELDS,
        {"key": "loyalty_tier", "label": "Loyalty tier", "type": "choice", "choices": ["silver", "gold"]},
        format="json",
    )

    assert response.status_code == 201
    assert {key: response.json()[key] for key in ("key", "label", "type", "choices")} == {
        "key": "loyalty_tier",
        "label": "Loyalty tier",
        "type": "choice",
        "choices": ["silver", "gold"],
    }


def test_a_choice_field_needs_choices(owner_api: APIClient, cast: Cast) -> None:
    response = owner_api.post(
        CUSTOM_FIELDS, {"key": "tier", "label": "Tier", "type": "choice", "choices": []}, format="json"
    )

    assert set(_fields(response)) == {"choices"}


def test_other_custom_field_types_ignore_choices(owner_api: APIClient, cast: Cast) -> None:
    response = owner_api.post(
        CUSTOM_FIELDS, {"key": "note", "label": "Note", "type": "text", "choices": ["a"]}, format="json"
    )

    assert response.json()["choices"] == []


def test_custom_field_keys_are_unique_per_workspace(owner_api: APIClient, cast: Cast) -> None:
    CustomFieldFactory(workspace=cast.workspace, key="shoe_size")

    response = owner_api.post(
        CUSTOM_FIELDS, {"key": "shoe_size", "label": "Size", "type": "number"}, format="json"
    )

    assert set(_fields(response)) == {"key"}


def test_a_custom_fields_key_cannot_change(owner_api: APIClient, cast: Cast) -> None:
    custom_field = CustomFieldFactory(workspace=cast.workspace, key="shoe_size")

    response = owner_api.patch(f"{CUSTOM_FIELDS}{custom_field.id}/", {"key": "size"}, format="json")

    assert set(_fields(response)) == {"key"}


def test_a_custom_fields_type_cannot_change(owner_api: APIClient, cast: Cast) -> None:
    custom_field = CustomFieldFactory(workspace=cast.workspace, field_type="text")

    response = owner_api.patch(f"{CUSTOM_FIELDS}{custom_field.id}/", {"type": "number"}, format="json")

    assert set(_fields(response)) == {"type"}


def test_a_custom_fields_label_can_change(owner_api: APIClient, cast: Cast) -> None:
    custom_field = CustomFieldFactory(workspace=cast.workspace, key="shoe_size", label="Size")

    body = owner_api.put(
        f"{CUSTOM_FIELDS}{custom_field.id}/",
        {"key": "shoe_size", "label": "Shoe size", "type": "text"},
        format="json",
    ).json()

    assert (body["key"], body["label"]) == ("shoe_size", "Shoe size")


def test_a_choice_that_contacts_still_hold_cannot_be_removed(owner_api: APIClient, cast: Cast) -> None:
    tier = CustomFieldFactory(
        workspace=cast.workspace, key="tier", field_type="choice", choices=["silver", "gold"]
    )
    ContactFactory(workspace=cast.workspace, custom={"tier": "gold"})

    response = owner_api.patch(f"{CUSTOM_FIELDS}{tier.id}/", {"choices": ["silver"]}, format="json")

    assert "gold" in _fields(response)["choices"][0]


def test_deleting_a_custom_field_removes_its_value_from_every_contact(
    owner_api: APIClient, cast: Cast
) -> None:
    custom_field = CustomFieldFactory(workspace=cast.workspace, key="shoe_size", field_type="number")
    mine = ContactFactory(workspace=cast.workspace, custom={"shoe_size": 39, "tier": "gold"})
    theirs = ContactFactory(workspace=cast.other_workspace, custom={"shoe_size": 44})

    response = owner_api.delete(f"{CUSTOM_FIELDS}{custom_field.id}/")

    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert response.status_code == 204
    assert not CustomField.objects.filter(id=custom_field.id).exists()
    assert (mine.custom, theirs.custom) == ({"tier": "gold"}, {"shoe_size": 44})


def test_editors_read_custom_fields_but_cannot_manage_them(member_api: APIClient, cast: Cast) -> None:
    custom_field = CustomFieldFactory(workspace=cast.workspace)

    assert member_api.get(CUSTOM_FIELDS).status_code == 200
    assert member_api.post(CUSTOM_FIELDS, {"key": "x", "label": "X", "type": "text"}).status_code == 403
    assert member_api.delete(f"{CUSTOM_FIELDS}{custom_field.id}/").status_code == 403


# --- Roles -------------------------------------------------------------------------------------------


def test_exporting_contacts_needs_the_editor_role(
    viewer_api: APIClient, member_api: APIClient, cast: Cast
) -> None:
    ContactFactory(workspace=cast.workspace)

    assert viewer_api.get(f"{CONTACTS}export/").status_code == 403
    assert member_api.get(f"{CONTACTS}export/").status_code == 200


def test_a_viewer_reads_contacts_but_cannot_create_change_or_erase_them(
    viewer_api: APIClient, cast: Cast
) -> None:
    contact = ContactFactory(workspace=cast.workspace)

    assert viewer_api.get(CONTACTS).status_code == 200
    assert viewer_api.post(CONTACTS, {"email": "a@example.com"}, format="json").status_code == 403
    assert viewer_api.patch(f"{CONTACTS}{contact.id}/", {"city": "X"}, format="json").status_code == 403
    assert viewer_api.delete(f"{CONTACTS}{contact.id}/").status_code == 403


def test_a_viewer_cannot_bulk_upsert_or_manage_tags(viewer_api: APIClient, cast: Cast) -> None:
    tag = TagFactory(workspace=cast.workspace)
    contact = ContactFactory(workspace=cast.workspace)

    assert viewer_api.post(f"{CONTACTS}bulk/", {"contacts": []}, format="json").status_code == 403
    assert viewer_api.post(TAGS, {"name": "x"}, format="json").status_code == 403
    response = viewer_api.post(f"{TAGS}{tag.id}/apply/", {"contact_ids": [contact.id]}, format="json")
    assert response.status_code == 403
    assert not ContactTag.objects.filter(tag=tag).exists()


# --- The schema --------------------------------------------------------------------------------------


def test_the_schema_documents_the_contact_endpoints_with_examples(client: Any) -> None:
    paths = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()["paths"]

    create = paths["/api/v1/contacts/"]["post"]["requestBody"]["content"]["application/json"]
    bulk = paths["/api/v1/contacts/bulk/"]["post"]["requestBody"]["content"]["application/json"]
    assert create["examples"]
    assert bulk["examples"]
    assert {"/api/v1/contacts/export/", "/api/v1/tags/{id}/apply/", "/api/v1/custom-fields/{id}/"} <= set(
        paths
    )
