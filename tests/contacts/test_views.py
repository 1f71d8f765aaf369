"""The contact pages in the browser: list, filters, columns, bulk actions, the contact page, create and
edit, erase, tags and custom fields, and who may do what."""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal

import pytest
from django.test import Client
from openpyxl import load_workbook

from apps.contacts import services
from apps.contacts.cleaning import address_hash
from apps.contacts.models import ConsentEvent, Contact, ContactTag, CustomField, Suppression, Tag
from apps.core.roles import Role
from tests.conftest import Cast
from tests.factories import ContactFactory, CustomFieldFactory, MembershipFactory, TagFactory

pytestmark = pytest.mark.django_db

LIST = "/w/acme/contacts/"
BULK = "/w/acme/contacts/bulk/"
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def viewer_client(cast: Cast) -> Client:
    client = Client()
    client.force_login(MembershipFactory(workspace=cast.workspace, role=Role.VIEWER).user)
    return client


def _page(client: Client, url: str, **extra: str) -> str:
    response = client.get(url, **extra)
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def _tags_of(contact: Contact) -> set[str]:
    return set(Tag.objects.filter(contacts=contact).values_list("name", flat=True))


# --- The list ------------------------------------------------------------------------------------


def test_the_contacts_section_of_the_navigation_opens_the_list(owner_client: Client, cast: Cast) -> None:
    page = _page(owner_client, "/w/acme/")

    assert f'href="{LIST}"' in page
    assert 'aria-current="page">Contacts<' in _page(owner_client, LIST)


def test_the_list_shows_the_newest_contacts_first_with_their_tags(owner_client: Client, cast: Cast) -> None:
    vip = TagFactory(workspace=cast.workspace, name="vip")
    older = ContactFactory(workspace=cast.workspace, first_name="Olga", last_name="Older")
    newer = ContactFactory(workspace=cast.workspace, first_name="Nina", last_name="Newer", tags=[vip])

    page = _page(owner_client, LIST)

    assert page.index(newer.display_name) < page.index(older.display_name)
    assert "vip</span>" in page
    assert f'href="/w/acme/contacts/{newer.id}/"' in page


def test_an_empty_workspace_explains_how_contacts_arrive(owner_client: Client, cast: Cast) -> None:
    page = _page(owner_client, LIST)

    assert "No contacts yet" in page
    assert 'href="/w/acme/contacts/new/"' in page
    assert "/api/v1/contacts/" in page
    assert "CSV import" in page


def test_search_finds_contacts_by_name_email_or_phone(owner_client: Client, cast: Cast) -> None:
    maya = ContactFactory(
        workspace=cast.workspace, first_name="Maya", last_name="Berg", email="mb@shop.example"
    )
    ContactFactory(
        workspace=cast.workspace, first_name="Jonas", last_name="Weber", phone_e164="+4915112345678"
    )
    ContactFactory(workspace=cast.other_workspace, first_name="Maya", last_name="Rival")

    by_name = _page(owner_client, f"{LIST}?q=maya")
    by_email = _page(owner_client, f"{LIST}?q=MB@shop")
    by_phone = _page(owner_client, f"{LIST}?q=%2B49 151 1234")

    assert "Maya Berg" in by_name
    assert "Jonas" not in by_name
    assert "Rival" not in by_name
    assert "Maya Berg" in by_email
    assert "Jonas" not in by_email
    assert "Jonas Weber" in by_phone
    assert maya.display_name not in by_phone


def test_htmx_search_answers_with_the_rows_only_and_a_clean_address(owner_client: Client, cast: Cast) -> None:
    ContactFactory(workspace=cast.workspace, first_name="Maya")

    response = owner_client.get(f"{LIST}?q=maya&first_name=&city=&size=50", **HTMX)

    page = response.content.decode()
    assert page.lstrip().startswith('<div id="contact-results">')
    assert "<html" not in page
    assert 'hx-swap-oob="innerHTML:#contact-summary"' in page
    assert re.search(r'"innerHTML:#columns-next">\s*<input type="hidden" name="next" value="q=maya">', page)
    assert response["HX-Push-Url"] == f"{LIST}?q=maya"
    assert "HX-Request" in response["Vary"]


def test_a_back_button_history_restore_gets_the_whole_page(owner_client: Client, cast: Cast) -> None:
    page = _page(owner_client, f"{LIST}?q=maya", HTTP_HX_HISTORY_RESTORE_REQUEST="true", **HTMX)

    assert "<html" in page


def test_the_list_filters_by_every_chosen_tag(owner_client: Client, cast: Cast) -> None:
    vip, runner = (
        TagFactory(workspace=cast.workspace, name="vip"),
        TagFactory(workspace=cast.workspace, name="runner"),
    )
    ContactFactory(workspace=cast.workspace, first_name="Both", tags=[vip, runner])
    ContactFactory(workspace=cast.workspace, first_name="Onlyvip", tags=[vip])

    page = _page(owner_client, f"{LIST}?tag=VIP&tag=runner")

    assert ">Both " in page
    assert "Onlyvip" not in page


def test_the_list_filters_by_fields_and_typed_custom_fields(owner_client: Client, cast: Cast) -> None:
    CustomFieldFactory(workspace=cast.workspace, key="shoe_size", label="Shoe size", field_type="number")
    ContactFactory(
        workspace=cast.workspace, first_name="Fits", city="Berlin", gender="female", custom={"shoe_size": 42}
    )
    ContactFactory(
        workspace=cast.workspace,
        first_name="Toobig",
        city="Berlin",
        gender="female",
        custom={"shoe_size": 44},
    )
    ContactFactory(workspace=cast.workspace, first_name="Elsewhere", city="Hamburg", custom={"shoe_size": 42})

    page = _page(owner_client, f"{LIST}?city=Berlin&gender=female&custom.shoe_size=42")

    assert ">Fits " in page
    assert "Toobig" not in page
    assert "Elsewhere" not in page


def test_a_filter_value_that_cannot_match_is_reported_instead_of_failing(
    owner_client: Client, cast: Cast
) -> None:
    ContactFactory(workspace=cast.workspace, first_name="Still")

    page = _page(owner_client, f"{LIST}?age=old")

    assert "Filter “age” ignored" in page
    assert ">Still " in page


def test_the_list_pages_by_keyset_with_a_next_link(owner_client: Client, cast: Cast) -> None:
    contacts = ContactFactory.create_batch(5, workspace=cast.workspace)

    first = _page(owner_client, f"{LIST}?size=2")
    third = _page(owner_client, f"{LIST}?size=2&after={contacts[2].id}")

    assert f"?size=2&amp;after={contacts[3].id}" in first
    assert contacts[4].display_name in first
    assert contacts[2].display_name not in first
    assert contacts[1].display_name in third
    assert contacts[0].display_name in third
    assert 'rel="next"' not in third


def test_the_count_is_shown_at_once_when_the_whole_list_fits_on_the_page(
    owner_client: Client, cast: Cast
) -> None:
    ContactFactory.create_batch(3, workspace=cast.workspace)

    page = _page(owner_client, LIST)

    assert "3 contacts" in page
    assert 'hx-trigger="load"' not in page


def test_the_count_of_a_longer_list_is_loaded_separately(owner_client: Client, cast: Cast) -> None:
    ContactFactory.create_batch(3, workspace=cast.workspace, city="Berlin")
    ContactFactory(workspace=cast.workspace, city="Hamburg")

    page = _page(owner_client, f"{LIST}?size=1&city=Berlin")
    fragment = _page(owner_client, "/w/acme/contacts/count/?city=Berlin", **HTMX)
    without_js = owner_client.get("/w/acme/contacts/count/?city=Berlin")

    assert 'hx-get="/w/acme/contacts/count/?size=1&amp;city=Berlin"' in page
    assert "3 contacts match the filters" in fragment
    assert without_js["Location"] == f"{LIST}?city=Berlin&count=1"
    assert "3 contacts match the filters" in _page(owner_client, f"{LIST}?size=1&city=Berlin&count=1")


def test_the_chosen_columns_are_remembered_for_this_workspace(owner_client: Client, cast: Cast) -> None:
    CustomFieldFactory(workspace=cast.workspace, key="shoe_size", label="Shoe size")
    ContactFactory(workspace=cast.workspace, city="Leipzig", custom={"shoe_size": "43"})

    response = owner_client.post(
        "/w/acme/contacts/columns/", {"columns": ["custom.shoe_size", "age"], "next": "q=&city=Leipzig"}
    )
    page = _page(owner_client, LIST)

    assert response["Location"] == f"{LIST}?city=Leipzig"
    assert '<th scope="col">Shoe size</th>' in page
    assert '<th scope="col">Age</th>' in page
    assert '<th scope="col">Email</th>' not in page
    assert owner_client.session[f"contacts.columns.{cast.workspace.id}"] == ["custom.shoe_size", "age"]


def test_the_list_query_count_does_not_grow_with_the_page_size(
    owner_client: Client, cast: Cast, django_assert_max_num_queries
) -> None:
    tags = TagFactory.create_batch(3, workspace=cast.workspace)
    CustomFieldFactory(workspace=cast.workspace, key="tier", label="Tier")
    ContactFactory.create_batch(110, workspace=cast.workspace, tags=tags, custom={"tier": "gold"})
    owner_client.post(
        "/w/acme/contacts/columns/", {"columns": ["email", "tags", "custom.tier", "email_consent"]}
    )

    with django_assert_max_num_queries(12) as small:
        _page(owner_client, f"{LIST}?size=10")
    with django_assert_max_num_queries(len(small.captured_queries)):
        page = _page(owner_client, f"{LIST}?size=100")

    assert page.count('name="ids"') == 100


def test_a_viewer_sees_the_list_without_bulk_actions_or_add_button(viewer_client: Client, cast: Cast) -> None:
    ContactFactory(workspace=cast.workspace)

    page = _page(viewer_client, LIST)

    assert "Bulk actions" not in page
    assert 'name="ids"' not in page
    assert "Add a contact" not in page


# --- Bulk actions ---------------------------------------------------------------------------------


def test_bulk_tag_tags_the_ticked_contacts(member_client: Client, cast: Cast) -> None:
    ticked, other = ContactFactory.create_batch(2, workspace=cast.workspace)

    response = member_client.post(
        BULK,
        {"action": "tag", "scope": "selected", "ids": [ticked.id], "tag": "Spring sale", "filter": "q=x"},
    )

    assert response["Location"] == f"{LIST}?q=x"
    assert _tags_of(ticked) == {"Spring sale"}
    assert _tags_of(other) == set()


def test_bulk_tagging_all_that_match_is_one_set_based_statement(
    member_client: Client, cast: Cast, django_assert_max_num_queries
) -> None:
    ContactFactory.create_batch(300, workspace=cast.workspace, city="Berlin")
    ContactFactory(workspace=cast.workspace, city="Hamburg")

    with django_assert_max_num_queries(16) as queries:
        member_client.post(BULK, {"action": "tag", "scope": "all", "filter": "city=Berlin", "tag": "berlin"})

    inserts = [
        q["sql"] for q in queries.captured_queries if q["sql"].startswith("INSERT INTO contacts_contacttag")
    ]
    assert len(inserts) == 1
    assert ContactTag.objects.filter(tag__name="berlin").count() == 300


def test_bulk_untag_removes_the_tag_from_the_ticked_contacts(member_client: Client, cast: Cast) -> None:
    vip = TagFactory(workspace=cast.workspace, name="vip")
    ticked, kept = ContactFactory.create_batch(2, workspace=cast.workspace, tags=[vip])

    member_client.post(BULK, {"action": "untag", "scope": "selected", "ids": [ticked.id], "tag": "VIP"})

    assert _tags_of(ticked) == set()
    assert _tags_of(kept) == {"vip"}


def test_bulk_actions_never_touch_another_workspaces_contacts(member_client: Client, cast: Cast) -> None:
    theirs = ContactFactory(workspace=cast.other_workspace)

    member_client.post(BULK, {"action": "tag", "scope": "selected", "ids": [theirs.id], "tag": "stolen"})
    member_client.post(
        BULK, {"action": "erase", "scope": "selected", "ids": [theirs.id], "confirmed": "true"}
    )

    assert Contact.objects.filter(id=theirs.id).exists()
    assert _tags_of(theirs) == set()


def test_bulk_erase_first_asks_naming_how_many(member_client: Client, cast: Cast) -> None:
    ContactFactory.create_batch(3, workspace=cast.workspace, city="Berlin")

    page = member_client.post(
        BULK, {"action": "erase", "scope": "all", "filter": "city=Berlin"}
    ).content.decode()

    assert "Erase 3 contacts?" in page
    assert 'name="confirmed" value="true"' in page
    assert Contact.objects.count() == 3


def test_bulk_erase_spares_contacts_that_matched_only_after_the_confirmation(
    member_client: Client, cast: Cast
) -> None:
    confirmed = ContactFactory(workspace=cast.workspace, city="Berlin")
    page = member_client.post(
        BULK, {"action": "erase", "scope": "all", "filter": "city=Berlin"}
    ).content.decode()
    upto = re.search(r'name="upto" value="(\d+)"', page)
    assert upto is not None
    newcomer = ContactFactory(workspace=cast.workspace, city="Berlin")

    member_client.post(
        BULK,
        {
            "action": "erase",
            "scope": "all",
            "filter": "city=Berlin",
            "confirmed": "true",
            "upto": upto.group(1),
        },
    )

    assert not Contact.objects.filter(id=confirmed.id).exists()
    assert Contact.objects.filter(id=newcomer.id).exists()


def test_confirmed_bulk_erase_erases_and_keeps_the_addresses_suppressed(
    member_client: Client, cast: Cast
) -> None:
    gone = ContactFactory(workspace=cast.workspace, email="gone@example.com")
    kept = ContactFactory(workspace=cast.workspace)

    member_client.post(BULK, {"action": "erase", "scope": "selected", "ids": [gone.id], "confirmed": "true"})

    assert list(Contact.objects.all()) == [kept]
    assert Suppression.objects.filter(address_hash=address_hash("email", "gone@example.com")).exists()


def test_bulk_export_csv_streams_the_contacts_that_match(member_client: Client, cast: Cast) -> None:
    CustomFieldFactory(workspace=cast.workspace, key="tier", label="Tier")
    ContactFactory(workspace=cast.workspace, email="b@example.com", city="Berlin", custom={"tier": "gold"})
    ContactFactory(workspace=cast.workspace, email="h@example.com", city="Hamburg")

    response = member_client.post(BULK, {"action": "export_csv", "scope": "all", "filter": "city=Berlin"})

    assert response.streaming
    assert response["Content-Disposition"].startswith('attachment; filename="contacts-acme-')
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert [(row["email"], row["custom.tier"]) for row in rows] == [("b@example.com", "gold")]


def test_bulk_export_xlsx_is_a_workbook_of_the_ticked_contacts(member_client: Client, cast: Cast) -> None:
    ticked = ContactFactory(workspace=cast.workspace, email="t@example.com")
    ContactFactory(workspace=cast.workspace)

    response = member_client.post(BULK, {"action": "export_xlsx", "scope": "selected", "ids": [ticked.id]})
    try:
        workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True)
        rows = list(workbook["Contacts"].iter_rows(values_only=True))
        workbook.close()
    finally:
        response.close()

    assert response["Content-Disposition"].endswith('.xlsx"')
    assert len(rows) == 2
    assert rows[1][rows[0].index("email")] == "t@example.com"


def test_a_bulk_action_without_ticked_contacts_says_what_to_do(member_client: Client, cast: Cast) -> None:
    response = member_client.post(BULK, {"action": "tag", "scope": "selected", "tag": "x"}, follow=True)

    assert "Tick at least one contact" in response.content.decode()
    assert not Tag.objects.exists()


def test_a_viewer_cannot_run_bulk_actions(viewer_client: Client, cast: Cast) -> None:
    contact = ContactFactory(workspace=cast.workspace)

    for action in ("tag", "export_csv", "erase"):
        data = {"action": action, "scope": "selected", "ids": [contact.id], "tag": "x", "confirmed": "true"}
        assert viewer_client.post(BULK, data).status_code == 403
    assert Contact.objects.filter(id=contact.id).exists()


# --- The contact page ----------------------------------------------------------------------------


def test_the_contact_page_groups_attributes_and_shows_custom_fields(owner_client: Client, cast: Cast) -> None:
    CustomFieldFactory(workspace=cast.workspace, key="shoe_size", label="Shoe size", field_type="number")
    contact = ContactFactory(
        workspace=cast.workspace,
        first_name="Maya",
        gender="female",
        orders_count=4,
        total_spent=Decimal("129.90"),
        custom={"shoe_size": 39},
    )

    page = _page(owner_client, f"/w/acme/contacts/{contact.id}/")

    for heading in (
        "Identity",
        "Persona attributes",
        "Purchases",
        "Preferences & consent",
        "Custom fields",
    ):
        assert f">{heading}</h2>" in page
    assert "Female" in page
    assert "129.90 EUR" in page
    assert "<dt>Shoe size</dt>" in page
    assert "39" in page


def test_the_contact_page_shows_consent_history_and_suppression(owner_client: Client, cast: Cast) -> None:
    contact = services.contact_create(
        workspace=cast.workspace,
        values={"email": "maya@example.com", "email_consent": "opted_in"},
        consent_source="Spring fair sign-up",
        actor=cast.owner,
    )
    services.suppression_add(
        workspace=cast.workspace, channel="email", address="maya@example.com", reason="bounced"
    )

    page = _page(owner_client, f"/w/acme/contacts/{contact.id}/")

    assert "Spring fair sign-up" in page
    assert cast.owner.display_name in page
    assert "Hard bounce" in page
    assert "No marketing goes to this address" in page


def test_the_contact_page_says_imports_and_messages_are_not_tracked_yet(
    owner_client: Client, cast: Cast
) -> None:
    contact = ContactFactory(workspace=cast.workspace)

    page = _page(owner_client, f"/w/acme/contacts/{contact.id}/")

    assert "once CSV import and campaigns arrive" in page


def test_adding_a_tag_with_htmx_swaps_only_the_tag_section(member_client: Client, cast: Cast) -> None:
    contact = ContactFactory(workspace=cast.workspace)

    response = member_client.post(f"/w/acme/contacts/{contact.id}/tags/", {"name": "Newsletter"}, **HTMX)

    page = response.content.decode()
    assert page.lstrip().startswith('<section id="contact-tags"')
    assert "Newsletter</span>" in page
    assert 'hx-swap-oob="innerHTML:#contact-tags-status"' in page
    assert _tags_of(contact) == {"Newsletter"}


def test_an_empty_tag_name_answers_422_with_the_error(member_client: Client, cast: Cast) -> None:
    contact = ContactFactory(workspace=cast.workspace)

    response = member_client.post(f"/w/acme/contacts/{contact.id}/tags/", {"name": ""}, **HTMX)

    assert response.status_code == 422
    assert 'aria-invalid="true"' in response.content.decode()


def test_removing_a_tag_without_javascript_returns_to_the_contact(member_client: Client, cast: Cast) -> None:
    vip = TagFactory(workspace=cast.workspace, name="vip")
    contact = ContactFactory(workspace=cast.workspace, tags=[vip])

    response = member_client.post(f"/w/acme/contacts/{contact.id}/tags/{vip.id}/remove/")

    assert response["Location"] == f"/w/acme/contacts/{contact.id}/"
    assert _tags_of(contact) == set()
    assert Tag.objects.filter(id=vip.id).exists()


def test_another_workspaces_tag_cannot_be_removed_through_my_contact(
    member_client: Client, cast: Cast
) -> None:
    contact = ContactFactory(workspace=cast.workspace)
    theirs = TagFactory(workspace=cast.other_workspace)

    assert member_client.post(f"/w/acme/contacts/{contact.id}/tags/{theirs.id}/remove/").status_code == 404


# --- Create and edit ------------------------------------------------------------------------------


def test_adding_a_contact_opens_its_page(member_client: Client, cast: Cast) -> None:
    response = member_client.post(
        "/w/acme/contacts/new/",
        {
            "email": "Maya@Example.com",
            "first_name": "Maya",
            "email_consent": "unknown",
            "tags": "vip, runner",
        },
    )

    contact = Contact.objects.get(email_normalized="maya@example.com")
    assert response["Location"] == f"/w/acme/contacts/{contact.id}/"
    assert _tags_of(contact) == {"vip", "runner"}
    assert contact.source == "manual"


def test_errors_are_shown_next_to_each_field_with_status_422(member_client: Client, cast: Cast) -> None:
    CustomFieldFactory(workspace=cast.workspace, key="shoe_size", label="Shoe size", field_type="number")

    response = member_client.post(
        "/w/acme/contacts/new/",
        {
            "email": "not-an-email",
            "phone": "12",
            "age": "200",
            "custom__shoe_size": "large",
            "email_consent": "unknown",
        },
    )

    page = response.content.decode()
    assert response.status_code == 422
    for field, message in (
        ("email", "is not a valid email address"),
        ("phone", "is not a valid phone number"),
        ("age", "Use a number from 0 to 130"),
        ("custom__shoe_size", "is not a number"),
    ):
        error_list = re.search(rf'<ul class="errorlist" id="id_{field}_error"><li>([^<]*)</li>', page)
        assert error_list is not None, field
        assert message in error_list.group(1)
        assert re.search(rf'aria-invalid="true" aria-describedby="[^"]*id_{field}_error"', page), field
    assert not Contact.objects.exists()


def test_with_htmx_an_invalid_form_swaps_only_the_form(member_client: Client, cast: Cast) -> None:
    response = member_client.post("/w/acme/contacts/new/", {"email": "", "phone": ""}, **HTMX)

    page = response.content.decode()
    assert response.status_code == 422
    assert page.lstrip().startswith('<form id="contact-form"')
    assert "needs an email address or a phone number" in page


def test_with_htmx_a_saved_contact_navigates_to_its_page(member_client: Client, cast: Cast) -> None:
    response = member_client.post("/w/acme/contacts/new/", {"phone": "+4915112345678"}, **HTMX)

    contact = Contact.objects.get()
    assert response["HX-Redirect"] == f"/w/acme/contacts/{contact.id}/"


def test_editing_changes_the_given_fields_and_keeps_the_rest(member_client: Client, cast: Cast) -> None:
    contact = services.contact_create(
        workspace=cast.workspace, values={"email": "a@example.com", "first_name": "Ann", "city": "Berlin"}
    )
    form = _page(member_client, f"/w/acme/contacts/{contact.id}/edit/")
    assert 'value="Berlin"' in form

    response = member_client.post(
        f"/w/acme/contacts/{contact.id}/edit/",
        {
            "email": "a@example.com",
            "first_name": "Anna",
            "city": "Berlin",
            "email_consent": "unknown",
            "sms_consent": "unknown",
        },
    )

    contact.refresh_from_db()
    assert response.status_code == 302
    assert (contact.first_name, contact.city) == ("Anna", "Berlin")


def test_a_consent_change_asks_for_its_source(member_client: Client, cast: Cast) -> None:
    contact = services.contact_create(workspace=cast.workspace, values={"email": "a@example.com"})

    response = member_client.post(
        f"/w/acme/contacts/{contact.id}/edit/",
        {"email": "a@example.com", "email_consent": "opted_in", "sms_consent": "unknown"},
    )

    assert response.status_code == 422
    assert 'id="id_consent_source_error"' in response.content.decode()
    contact.refresh_from_db()
    assert contact.email_consent == "unknown"


def test_a_missing_consent_source_is_reported_with_every_other_error(
    member_client: Client, cast: Cast
) -> None:
    contact = services.contact_create(workspace=cast.workspace, values={"email": "a@example.com"})

    response = member_client.post(
        f"/w/acme/contacts/{contact.id}/edit/",
        {"email": "broken", "age": "300", "email_consent": "opted_in", "sms_consent": "unknown"},
    )

    page = response.content.decode()
    assert response.status_code == 422
    for field in ("consent_source", "email", "age"):
        assert f'id="id_{field}_error"' in page


def test_a_consent_change_is_recorded_with_its_source_and_author(member_client: Client, cast: Cast) -> None:
    contact = services.contact_create(workspace=cast.workspace, values={"email": "a@example.com"})

    member_client.post(
        f"/w/acme/contacts/{contact.id}/edit/",
        {
            "email": "a@example.com",
            "email_consent": "opted_in",
            "sms_consent": "unknown",
            "consent_source": "Phone call",
        },
    )

    event = ConsentEvent.objects.get(contact=contact)
    assert (event.status, event.source, event.actor) == ("opted_in", "Phone call", cast.member)


def test_a_duplicate_email_is_reported_on_the_email_field(member_client: Client, cast: Cast) -> None:
    ContactFactory(workspace=cast.workspace, email="taken@example.com")
    contact = ContactFactory(workspace=cast.workspace, email="mine@example.com")

    response = member_client.post(
        f"/w/acme/contacts/{contact.id}/edit/",
        {"email": "TAKEN@example.com", "email_consent": "unknown", "sms_consent": "unknown"},
    )

    page = response.content.decode()
    assert response.status_code == 422
    assert 'id="id_email_error"' in page
    assert "already exists" in page
    assert f"Edit {contact.display_name}" in page


def test_the_last_purchase_is_typed_in_the_workspace_time_zone(member_client: Client, cast: Cast) -> None:
    contact = ContactFactory(workspace=cast.workspace, email="a@example.com")  # workspace: Europe/Berlin

    member_client.post(
        f"/w/acme/contacts/{contact.id}/edit/",
        {
            "email": "a@example.com",
            "last_purchase_at": "2026-01-15T10:30",
            "email_consent": "unknown",
            "sms_consent": "unknown",
        },
    )

    contact.refresh_from_db()
    assert contact.last_purchase_at is not None
    assert contact.last_purchase_at.isoformat() == "2026-01-15T09:30:00+00:00"
    assert 'value="2026-01-15T10:30"' in _page(member_client, f"/w/acme/contacts/{contact.id}/edit/")


# --- Erase ---------------------------------------------------------------------------------------


def test_the_erase_page_explains_what_is_deleted_and_what_is_kept(member_client: Client, cast: Cast) -> None:
    contact = ContactFactory(workspace=cast.workspace)

    page = _page(member_client, f"/w/acme/contacts/{contact.id}/erase/")

    assert "cannot be undone" in page
    assert "one-way hash" in page
    assert Contact.objects.filter(id=contact.id).exists()


def test_erasing_deletes_the_contact_and_keeps_a_hashed_suppression_entry(
    member_client: Client, cast: Cast
) -> None:
    contact = ContactFactory(workspace=cast.workspace, email="gone@example.com")

    response = member_client.post(f"/w/acme/contacts/{contact.id}/erase/")

    assert response["Location"] == LIST
    assert not Contact.objects.filter(id=contact.id).exists()
    entry = Suppression.objects.get(workspace=cast.workspace)
    assert (entry.channel, entry.reason) == ("email", "erased")
    assert "gone@" not in entry.address_hash


# --- Tags and custom fields -----------------------------------------------------------------------


def test_the_tags_page_lists_tags_with_their_contact_counts(viewer_client: Client, cast: Cast) -> None:
    vip = TagFactory(workspace=cast.workspace, name="vip")
    ContactFactory.create_batch(2, workspace=cast.workspace, tags=[vip])
    TagFactory(workspace=cast.other_workspace, name="rival-tag")

    page = _page(viewer_client, "/w/acme/contacts/tags/")

    assert f'href="{LIST}?tag=vip">2</a>' in page
    assert "rival-tag" not in page
    assert "Create tag" not in page


def test_an_editor_creates_renames_recolours_and_deletes_a_tag(member_client: Client, cast: Cast) -> None:
    member_client.post("/w/acme/contacts/tags/", {"name": "Spring", "colour": "#aa3300", "description": ""})
    tag = Tag.objects.get(workspace=cast.workspace)

    member_client.post(
        f"/w/acme/contacts/tags/{tag.id}/",
        {f"t{tag.id}-name": "Spring 2026", f"t{tag.id}-colour": "#0055aa", f"t{tag.id}-description": "Sale"},
    )
    tag.refresh_from_db()
    renamed = (tag.name, tag.colour, tag.description)
    member_client.post(f"/w/acme/contacts/tags/{tag.id}/delete/")

    assert renamed == ("Spring 2026", "#0055aa", "Sale")
    assert not Tag.objects.exists()


def test_a_duplicate_tag_name_is_refused_next_to_the_field(member_client: Client, cast: Cast) -> None:
    TagFactory(workspace=cast.workspace, name="VIP")

    response = member_client.post("/w/acme/contacts/tags/", {"name": "vip", "colour": "#1f6f5c"})

    assert response.status_code == 422
    assert 'id="id_name_error"' in response.content.decode()
    assert Tag.objects.count() == 1


def test_an_admin_creates_a_choice_custom_field(owner_client: Client, cast: Cast) -> None:
    response = owner_client.post(
        "/w/acme/contacts/fields/",
        {
            "label": "Loyalty tier",
            "key": "loyalty_tier",
            "field_type": "choice",
            "choices": "Bronze\nSilver\n\nGold",
        },
    )

    field = CustomField.objects.get(workspace=cast.workspace)
    assert response.status_code == 302
    assert (field.key, field.choices) == ("loyalty_tier", ["Bronze", "Silver", "Gold"])


def test_a_bad_custom_field_key_is_shown_inline(owner_client: Client, cast: Cast) -> None:
    response = owner_client.post(
        "/w/acme/contacts/fields/", {"label": "Shoe size", "key": "Shoe Size", "field_type": "number"}
    )

    assert response.status_code == 422
    assert 'id="id_key_error"' in response.content.decode()


def test_an_editor_reads_custom_fields_but_cannot_create_them(member_client: Client, cast: Cast) -> None:
    CustomFieldFactory(workspace=cast.workspace, label="Shoe size")

    page = _page(member_client, "/w/acme/contacts/fields/")
    response = member_client.post(
        "/w/acme/contacts/fields/", {"label": "X", "key": "x", "field_type": "text"}
    )

    assert "Shoe size" in page
    assert "Create custom field" not in page
    assert response.status_code == 403
    assert CustomField.objects.count() == 1


def test_deleting_a_custom_field_removes_its_values_from_contacts(owner_client: Client, cast: Cast) -> None:
    field = CustomFieldFactory(workspace=cast.workspace, key="shoe_size")
    contact = ContactFactory(workspace=cast.workspace, custom={"shoe_size": "42", "other": "x"})

    owner_client.post(f"/w/acme/contacts/fields/{field.id}/delete/")

    contact.refresh_from_db()
    assert not CustomField.objects.exists()
    assert contact.custom == {"other": "x"}


# --- Roles ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["", "{id}/", "tags/", "fields/"])
def test_a_viewer_reads_the_contact_pages(viewer_client: Client, cast: Cast, path: str) -> None:
    contact = ContactFactory(workspace=cast.workspace)

    assert viewer_client.get(f"{LIST}{path.format(id=contact.id)}").status_code == 200


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "new/"),
        ("post", "new/"),
        ("get", "{id}/edit/"),
        ("post", "{id}/edit/"),
        ("get", "{id}/erase/"),
        ("post", "{id}/erase/"),
        ("post", "{id}/tags/"),
        ("post", "tags/"),
    ],
)
def test_a_viewer_cannot_change_contacts(viewer_client: Client, cast: Cast, method: str, path: str) -> None:
    contact = ContactFactory(workspace=cast.workspace)

    response = getattr(viewer_client, method)(
        f"{LIST}{path.format(id=contact.id)}", {"name": "x", "email": "x@y.z"}
    )

    assert response.status_code == 403
    assert Contact.objects.filter(id=contact.id).exists()


def test_a_viewer_does_not_see_edit_controls_on_the_contact_page(viewer_client: Client, cast: Cast) -> None:
    contact = ContactFactory(workspace=cast.workspace, tags=[TagFactory(workspace=cast.workspace)])

    page = _page(viewer_client, f"{LIST}{contact.id}/")

    assert "/edit/" not in page
    assert "/erase/" not in page
    assert "Add a tag" not in page
