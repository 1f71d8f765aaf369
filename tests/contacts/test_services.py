from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from apps.contacts import selectors, services
from apps.contacts.choices import Channel, Consent
from apps.contacts.models import ConsentEvent, Contact, ContactTag, Suppression, Tag
from tests.conftest import Cast
from tests.factories import ContactFactory, CustomFieldFactory, TagFactory

pytestmark = pytest.mark.django_db


def test_contact_create_normalises_email_and_phone(cast: Cast) -> None:
    contact = services.contact_create(
        workspace=cast.workspace, values={"email": "  Maya.Berg@Example.COM ", "phone": "030 1234567"}
    )

    assert contact.email == "Maya.Berg@Example.COM"
    assert contact.email_normalized == "maya.berg@example.com"
    assert contact.phone_e164 == "+49301234567"


def test_contact_create_rejects_a_duplicate_email_in_any_case(cast: Cast) -> None:
    services.contact_create(workspace=cast.workspace, values={"email": "maya@example.com"})

    with pytest.raises(ValidationError) as error:
        services.contact_create(workspace=cast.workspace, values={"email": "MAYA@example.com"})

    assert "already exists" in error.value.message_dict["email"][0]


def test_the_same_email_may_exist_in_two_workspaces(cast: Cast) -> None:
    services.contact_create(workspace=cast.workspace, values={"email": "maya@example.com"})
    services.contact_create(workspace=cast.other_workspace, values={"email": "maya@example.com"})

    assert Contact.objects.filter(email_normalized="maya@example.com").count() == 2


def test_contact_create_reports_every_bad_field_by_name(cast: Cast) -> None:
    with pytest.raises(ValidationError) as error:
        services.contact_create(
            workspace=cast.workspace,
            values={"email": "not-an-email", "phone": "12", "gender": "robot", "age": 200, "shoe": 1},
        )

    assert set(error.value.message_dict) == {"email", "phone", "gender", "age", "shoe"}


def test_a_contact_needs_an_email_or_a_phone(cast: Cast) -> None:
    with pytest.raises(ValidationError, match="email address or a phone number"):
        services.contact_create(workspace=cast.workspace, values={"first_name": "Nobody"})


def test_age_follows_the_birth_date(cast: Cast) -> None:
    contact = services.contact_create(
        workspace=cast.workspace, values={"email": "a@example.com", "birth_date": "1990-01-01"}
    )

    assert contact.age is not None
    assert contact.age >= 36


def test_custom_fields_are_validated_by_type(cast: Cast) -> None:
    CustomFieldFactory(workspace=cast.workspace, key="shoe_size", field_type="number")
    CustomFieldFactory(workspace=cast.workspace, key="newsletter", field_type="boolean")

    contact = services.contact_create(
        workspace=cast.workspace,
        values={"email": "a@example.com", "custom": {"shoe_size": "42", "newsletter": "ja"}},
    )
    with pytest.raises(ValidationError) as error:
        services.contact_update(contact=contact, values={"custom": {"shoe_size": "large"}})

    assert contact.custom == {"shoe_size": 42, "newsletter": True}
    assert "custom.shoe_size" in error.value.message_dict


def test_consent_changes_are_recorded_with_their_source(cast: Cast) -> None:
    contact = services.contact_create(
        workspace=cast.workspace,
        values={"email": "a@example.com", "email_consent": "opted_in"},
        actor=cast.owner,
    )

    event = ConsentEvent.objects.get(contact=contact)
    assert (event.channel, event.status, event.actor) == (Channel.EMAIL, Consent.OPTED_IN, cast.owner)
    assert contact.email_consent_at is not None


def test_erasing_a_contact_keeps_only_hashed_suppression_entries(cast: Cast) -> None:
    contact = services.contact_create(
        workspace=cast.workspace, values={"email": "gone@example.com", "phone": "+4915112345678"}
    )

    services.contact_erase(contact=contact)

    assert not Contact.objects.filter(id=contact.id).exists()
    entries = Suppression.objects.filter(workspace=cast.workspace)
    assert {entry.channel for entry in entries} == {"email", "sms"}
    assert all("gone@" not in entry.address_hash for entry in entries)


def test_an_erased_address_cannot_be_opted_in_to_marketing_again(cast: Cast) -> None:
    services.contact_erase(
        contact=services.contact_create(workspace=cast.workspace, values={"email": "gone@example.com"})
    )

    readded = services.contact_create(workspace=cast.workspace, values={"email": "Gone@example.com"})
    with pytest.raises(ValidationError, match="suppression list"):
        services.contact_update(contact=readded, values={"email_consent": "opted_in"})
    with pytest.raises(ValidationError, match="suppression list"):
        services.contact_create(
            workspace=cast.workspace, values={"email": "x@example.com"}
        ) and services.consent_set(contact=readded, channel="email", status="opted_in", source="Form")


def test_tagging_a_filtered_list_is_one_set_based_statement(
    cast: Cast, django_assert_max_num_queries
) -> None:
    ContactFactory.create_batch(30, workspace=cast.workspace)
    tag = TagFactory(workspace=cast.workspace, name="spring-sale")

    with django_assert_max_num_queries(5):  # check workspaces, insert links, move updated_at
        added = services.contacts_tag(contacts=Contact.objects.filter(workspace=cast.workspace), tag=tag)

    assert added == 30
    assert services.contacts_tag(contacts=Contact.objects.filter(workspace=cast.workspace), tag=tag) == 0


def test_tagging_moves_updated_at_so_syncing_integrations_see_it(cast: Cast) -> None:
    contact = ContactFactory(workspace=cast.workspace)
    before = Contact.objects.get(id=contact.id).updated_at
    tag = TagFactory(workspace=cast.workspace)

    services.contacts_tag(contacts=Contact.objects.filter(id=contact.id), tag=tag)
    tagged_at = Contact.objects.get(id=contact.id).updated_at
    services.contacts_untag(contacts=Contact.objects.filter(id=contact.id), tag=tag)

    assert before < tagged_at < Contact.objects.get(id=contact.id).updated_at


def test_searching_a_nationally_written_phone_number_finds_the_contact(cast: Cast) -> None:
    contact = services.contact_create(workspace=cast.workspace, values={"phone": "+49 30 1234567"})

    found = selectors.contact_list(
        workspace=cast.workspace, filters=selectors.ContactFilter(search="030 1234567")
    )
    by_filter = selectors.contact_list(
        workspace=cast.workspace, filters=selectors.ContactFilter(phone="030 1234567")
    )

    assert list(found) == [contact]
    assert list(by_filter) == [contact]


@pytest.mark.parametrize(
    ("term", "indexes"),
    [
        ("maya@exam", {"contacts_email_unique"}),
        ("1234567", {"contacts_phone_trgm", "contacts_ws_phone"}),
        ("030 1234567", {"contacts_phone_trgm", "contacts_ws_phone"}),
    ],
)
def test_search_can_use_the_partial_email_and_phone_indexes(cast: Cast, term: str, indexes: set[str]) -> None:
    """The email index is partial (`<> ''`) and serves prefixes; the phone indexes leave out the
    empty number: the search must say `<> ''` for the planner to prove they fit. Enough contacts
    that a workspace-wide index is not the planner's cheapest way."""
    Contact.objects.bulk_create(
        Contact(workspace=cast.workspace, email=f"p{n}@example.org", email_normalized=f"p{n}@example.org")
        for n in range(3000)
    )
    search = selectors.contact_list(workspace=cast.workspace, filters=selectors.ContactFilter(search=term))

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE contacts_contact")
        cursor.execute("SET LOCAL enable_seqscan = off")
        plan = search.explain()

    assert any(index in plan for index in indexes), plan


def test_filtering_by_a_tag_nobody_has_finds_nobody(cast: Cast) -> None:
    ContactFactory(workspace=cast.workspace)

    assert not selectors.contact_list(
        workspace=cast.workspace, filters=selectors.ContactFilter(tags=["ghost"])
    ).exists()


def test_tags_from_another_workspace_are_refused(cast: Cast) -> None:
    ContactFactory(workspace=cast.workspace)
    foreign = TagFactory(workspace=cast.other_workspace)

    with pytest.raises(ValidationError):
        services.contacts_tag(contacts=Contact.objects.filter(workspace=cast.workspace), tag=foreign)


def test_tag_names_are_matched_case_insensitively_and_created_when_missing(cast: Cast) -> None:
    TagFactory(workspace=cast.workspace, name="VIP")

    contact = services.contact_create(
        workspace=cast.workspace, values={"email": "a@example.com", "tags": ["vip", "Newsletter"]}
    )

    assert sorted(Tag.objects.filter(workspace=cast.workspace).values_list("name", flat=True)) == [
        "Newsletter",
        "VIP",
    ]
    assert ContactTag.objects.filter(contact=contact).count() == 2


def test_erasing_contacts_and_deleting_tags_and_workspaces_leaves_no_links(cast: Cast) -> None:
    """The links have no foreign-key constraints in the database: Django's cascade is what removes
    them, on every way a contact, a tag or a workspace goes."""
    erased, kept = (
        services.contact_create(workspace=cast.workspace, values={"email": email, "tags": ["VIP", "Fair"]})
        for email in ("erased@example.com", "kept@example.com")
    )
    elsewhere = services.contact_create(
        workspace=cast.other_workspace, values={"email": "x@example.com", "tags": ["VIP"]}
    )

    services.contact_erase(contact=erased)
    services.tag_delete(tag=Tag.objects.get(workspace=cast.workspace, name="Fair"))

    assert list(
        ContactTag.objects.filter(tag__workspace=cast.workspace).values_list("contact_id", "tag__name")
    ) == [(kept.id, "VIP")]
    assert ContactTag.objects.filter(contact_id__in=[erased.id]).count() == 0

    cast.other_workspace.delete()

    assert not ContactTag.objects.filter(contact_id=elsewhere.id).exists()


def test_bulk_upsert_creates_updates_and_reports_bad_rows(cast: Cast) -> None:
    ContactFactory(workspace=cast.workspace, email="known@example.com", city="Hamburg")

    results = services.contacts_bulk_upsert(
        workspace=cast.workspace,
        rows=[
            {"email": "KNOWN@example.com", "city": "Berlin"},
            {"email": "new@example.com", "tags": ["vip"]},
            {"email": "broken"},
            {"email": "new@example.com", "first_name": "Nia"},
        ],
    )

    assert [row.status for row in results] == ["updated", "created", "error", "updated"]
    assert results[2].errors == {"email": "“broken” is not a valid email address."}
    assert Contact.objects.get(email_normalized="known@example.com").city == "Berlin"
    assert Contact.objects.get(email_normalized="new@example.com").first_name == "Nia"


def test_bulk_upsert_of_the_same_rows_again_changes_nothing(cast: Cast) -> None:
    rows = [{"email": f"c{i}@example.com", "city": "Berlin", "tags": ["vip"]} for i in range(50)]
    services.contacts_bulk_upsert(workspace=cast.workspace, rows=rows)

    again = services.contacts_bulk_upsert(workspace=cast.workspace, rows=rows)

    assert {row.status for row in again} == {"unchanged"}


def test_bulk_upsert_refuses_more_than_ten_thousand_rows(cast: Cast) -> None:
    with pytest.raises(ValidationError, match="at most 10,000"):
        services.contacts_bulk_upsert(workspace=cast.workspace, rows=[{}] * 10_001)


def test_contact_list_filters_by_search_tags_and_fields(cast: Cast) -> None:
    vip = TagFactory(workspace=cast.workspace, name="vip")
    maya = ContactFactory(workspace=cast.workspace, first_name="Maya", city="Berlin", tags=[vip])
    ContactFactory(workspace=cast.workspace, first_name="Mayan", city="Hamburg")
    ContactFactory(workspace=cast.other_workspace, first_name="Maya", city="Berlin")

    found = selectors.contact_list(
        workspace=cast.workspace,
        filters=selectors.ContactFilter(search="maya", tags=["VIP"], fields={"city": "Berlin"}),
    )

    assert list(found) == [maya]


def test_contact_pages_are_keyset_paginated_newest_first(cast: Cast) -> None:
    contacts = ContactFactory.create_batch(5, workspace=cast.workspace)

    first = selectors.contact_page(selectors.contact_list(workspace=cast.workspace), after=None, size=3)
    second = selectors.contact_page(
        selectors.contact_list(workspace=cast.workspace), after=first.next_after, size=3
    )

    assert [c.id for c in first.contacts + second.contacts] == sorted((c.id for c in contacts), reverse=True)
    assert second.next_after is None


def test_bulk_upsert_never_matches_a_row_with_a_new_email_by_its_phone(cast: Cast) -> None:
    existing = services.contact_create(
        workspace=cast.workspace, values={"email": "old@example.com", "phone": "+4915112345678"}
    )

    results = services.contacts_bulk_upsert(
        workspace=cast.workspace,
        rows=[
            {"phone": "+4915112345678", "city": "Köln"},
            {"email": "new@example.com", "phone": "+4915112345678"},
        ],
    )

    existing.refresh_from_db()
    assert [row.status for row in results] == ["updated", "created"]
    assert existing.email_normalized == "old@example.com"


def test_bulk_upsert_moves_updated_at_when_a_row_only_adds_a_tag(cast: Cast) -> None:
    contact = ContactFactory(workspace=cast.workspace, email="a@example.com")
    before = Contact.objects.get(id=contact.id).updated_at

    results = services.contacts_bulk_upsert(
        workspace=cast.workspace, rows=[{"email": "a@example.com", "tags": ["vip"]}]
    )

    assert results[0].status == "updated"
    assert Contact.objects.get(id=contact.id).updated_at > before


def test_refreshing_ages_follows_birthdays_and_moves_updated_at(cast: Cast) -> None:
    import datetime as dt

    contact = services.contact_create(
        workspace=cast.workspace, values={"email": "a@example.com", "birth_date": "1990-06-15"}
    )
    before = Contact.objects.get(id=contact.id).updated_at

    changed = services.contacts_refresh_ages(today=dt.date(2030, 6, 15))

    refreshed = Contact.objects.get(id=contact.id)
    assert changed == 1
    assert refreshed.age == 40
    assert refreshed.updated_at > before
    assert services.contacts_refresh_ages(today=dt.date(2030, 6, 15)) == 0


def test_bulk_upsert_of_rows_with_a_duplicate_person_again_reports_every_row_unchanged(cast: Cast) -> None:
    rows = [
        {"email": "maya@example.com", "city": "Berlin"},
        {"email": "  MAYA@example.com ", "city": "Hamburg", "first_name": "Maya"},
    ]
    services.contacts_bulk_upsert(workspace=cast.workspace, rows=rows)

    again = services.contacts_bulk_upsert(workspace=cast.workspace, rows=rows)

    assert [row.status for row in again] == ["unchanged", "unchanged"]
    assert Contact.objects.get(email_normalized="maya@example.com").city == "Hamburg"
