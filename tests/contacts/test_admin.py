from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from apps.accounts.models import User
from apps.contacts import services
from apps.contacts.admin import EstimatedCountPaginator
from apps.contacts.choices import Channel, SuppressionReason
from apps.contacts.cleaning import address_hash
from apps.contacts.models import ConsentEvent, Contact, ContactTag, CustomField, Suppression, Tag
from tests.conftest import Cast
from tests.factories import ContactFactory, CustomFieldFactory, TagFactory

pytestmark = pytest.mark.django_db

CONTACTS = "/admin/contacts/contact/"


@pytest.fixture
def superuser_client(db: None) -> Client:
    client = Client()
    client.force_login(User.objects.create_superuser(email="ops@ensemble.example", password="x"))
    return client


def _staff_client(*codenames: str) -> Client:
    staff = User.objects.create_user(email="staff@ensemble.example", password="x", is_staff=True)
    staff.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    client = Client()
    client.force_login(staff)
    return client


def _import(client: Client, url: str, csv: str) -> tuple[object, object]:
    """Upload, then confirm the preview; returns (preview response, confirm response)."""
    upload = SimpleUploadedFile("rows.csv", csv.encode(), content_type="text/csv")
    preview = client.post(f"{url}import/", {"format": "0", "import_file": upload, "resource": "0"})
    confirm_form = preview.context["confirm_form"]
    done = client.post(f"{url}process_import/", confirm_form.initial, follow=True)
    return preview, done


@pytest.mark.parametrize("model", [Contact, Tag, CustomField, ConsentEvent, Suppression])
def test_every_contacts_model_has_a_searchable_admin_list(
    superuser_client: Client, cast: Cast, model: type, django_assert_max_num_queries
) -> None:
    tag = TagFactory(workspace=cast.workspace, name="Hiking")
    contacts = [ContactFactory(workspace=cast.workspace, tags=[tag]) for _ in range(5)]
    CustomFieldFactory(workspace=cast.workspace)
    services.consent_set(contact=contacts[0], channel=Channel.EMAIL, status="opted_in", source="Form")
    services.contact_erase(contact=contacts[1])
    opts = model._meta

    with django_assert_max_num_queries(12):
        response = superuser_client.get(f"/admin/{opts.app_label}/{opts.model_name}/", {"q": "acme"})

    assert response.status_code == 200


def test_contact_search_finds_names_email_prefixes_and_phone_digits(
    superuser_client: Client, cast: Cast
) -> None:
    maya = services.contact_create(
        workspace=cast.workspace,
        values={"email": "Maya.Berg@example.com", "first_name": "Maya", "phone": "+49 151 23456789"},
    )
    ContactFactory(workspace=cast.workspace, first_name="Jonas", email="jonas@example.com")

    for term in ("maya", "maya.berg@exa", "23456789"):
        listed = superuser_client.get(CONTACTS, {"q": term}).context["cl"].result_list
        assert [contact.id for contact in listed] == [maya.id], term


def test_suppression_search_hashes_the_typed_address(superuser_client: Client, cast: Cast) -> None:
    services.suppression_add(
        workspace=cast.workspace, channel=Channel.EMAIL, address="gone@example.com", reason="unsubscribed"
    )
    services.suppression_add(
        workspace=cast.workspace, channel=Channel.EMAIL, address="other@example.com", reason="bounced"
    )

    response = superuser_client.get("/admin/contacts/suppression/", {"q": " Gone@Example.com "})

    listed = response.context["cl"].result_list
    assert [entry.address_hash for entry in listed] == [address_hash(Channel.EMAIL, "gone@example.com")]


def test_contact_import_reports_the_bad_row_by_field_and_stores_the_good_rows(
    superuser_client: Client, cast: Cast
) -> None:
    csv = (
        "workspace,email,phone,first_name,gender,tags\n"
        "acme,Anna@Example.com,030 1234567,Anna,female,Hiking\n"
        "acme,not-an-email,,Bert,male,\n"
        "acme,carla@example.com,,Carla,robot,\n"
        "acme,dora@example.com,,Dora,,Camping\n"
    )

    preview, done = _import(superuser_client, CONTACTS, csv)

    invalid = {row.number: row.field_specific_errors for row in preview.context["result"].invalid_rows}
    assert set(invalid) == {2, 3}
    assert "not a valid email address" in str(invalid[2]["email"])
    assert "gender" in invalid[3]
    anna = Contact.objects.get(workspace=cast.workspace, email_normalized="anna@example.com")
    assert anna.phone_e164 == "+49301234567"
    assert [tag.name for tag in anna.tags.all()] == ["Hiking"]
    assert set(Contact.objects.values_list("email_normalized", flat=True)) == {
        "anna@example.com",
        "dora@example.com",
    }
    assert "2 row(s) with errors were skipped" in done.content.decode()


def test_contact_import_updates_the_contact_with_the_same_normalised_email_and_ignores_derived_columns(
    superuser_client: Client, cast: Cast
) -> None:
    existing = ContactFactory(workspace=cast.workspace, email="maya@example.com", first_name="Maya")
    ContactFactory(workspace=cast.other_workspace, email="maya@example.com", first_name="Rival")
    csv = "workspace,email,email_normalized,phone_e164,city\nacme, MAYA@example.com ,forged@x.com,+1,Lyon\n"

    _import(superuser_client, CONTACTS, csv)

    existing.refresh_from_db()
    assert Contact.objects.filter(workspace=cast.workspace).count() == 1
    assert (existing.city, existing.email_normalized, existing.phone_e164) == ("Lyon", "maya@example.com", "")
    assert Contact.objects.get(workspace=cast.other_workspace).city == "Berlin"


def test_importing_contacts_needs_the_explicit_import_permission(cast: Cast) -> None:
    client = _staff_client("add_contact", "change_contact", "view_contact")
    assert client.get(f"{CONTACTS}import/").status_code == 403

    User.objects.get(email="staff@ensemble.example").user_permissions.add(
        Permission.objects.get(codename="import_contact")
    )
    assert client.get(f"{CONTACTS}import/").status_code == 200


def test_contacts_export_as_csv_with_workspace_slug_and_tag_names(
    superuser_client: Client, cast: Cast
) -> None:
    tags = [TagFactory(workspace=cast.workspace, name=name) for name in ("Hiking", "VIP")]
    ContactFactory(workspace=cast.workspace, email="maya@example.com", first_name="=cmd", tags=tags)
    fields = {f"contactresource_{name}": "on" for name in ("workspace", "email", "first_name", "tags")}

    response = superuser_client.post(f"{CONTACTS}export/", {"format": "0", "resource": "0", **fields})

    assert response.status_code == 200
    assert 'acme,maya@example.com,\'=cmd,"Hiking, VIP"' in response.content.decode()


def test_tag_import_matches_names_in_any_case_within_the_row_workspace(
    superuser_client: Client, cast: Cast
) -> None:
    hiking = TagFactory(workspace=cast.workspace, name="Hiking")
    csv = "workspace,name,colour,description\nacme,HIKING,#123456,Walks\nacme,Camping,#zzzzzz,\nacme,Climbing,,\n"

    preview, _ = _import(superuser_client, "/admin/contacts/tag/", csv)

    assert [row.number for row in preview.context["result"].invalid_rows] == [2]
    hiking.refresh_from_db()
    assert (hiking.name, hiking.colour, hiking.description) == ("HIKING", "#123456", "Walks")
    assert set(Tag.objects.filter(workspace=cast.workspace).values_list("name", flat=True)) == {
        "HIKING",
        "Climbing",
    }


def test_deleting_a_contact_in_the_admin_erases_it_and_keeps_its_addresses_suppressed(
    superuser_client: Client, cast: Cast
) -> None:
    contact = services.contact_create(
        workspace=cast.workspace, values={"email": "gone@example.com", "phone": "+4915123456789"}
    )

    superuser_client.post(f"{CONTACTS}{contact.id}/delete/", {"post": "yes"})

    assert not Contact.objects.filter(id=contact.id).exists()
    assert set(Suppression.objects.values_list("channel", "address_hash", "reason")) == {
        (Channel.EMAIL, address_hash(Channel.EMAIL, "gone@example.com"), SuppressionReason.ERASED),
        (Channel.SMS, address_hash(Channel.SMS, "+4915123456789"), SuppressionReason.ERASED),
    }


def test_the_bulk_delete_action_erases_the_selected_contacts(superuser_client: Client, cast: Cast) -> None:
    contacts = [ContactFactory(workspace=cast.workspace) for _ in range(3)]

    superuser_client.post(
        CONTACTS,
        {"action": "delete_selected", "_selected_action": [c.id for c in contacts[:2]], "post": "yes"},
    )

    assert list(Contact.objects.values_list("id", flat=True)) == [contacts[2].id]
    assert Suppression.objects.filter(reason=SuppressionReason.ERASED).count() == 2


def test_editing_a_contact_in_the_admin_goes_through_the_service(
    superuser_client: Client, cast: Cast
) -> None:
    contact = services.contact_create(workspace=cast.workspace, values={"email": "maya@example.com"})
    change = superuser_client.get(f"{CONTACTS}{contact.id}/change/")
    data = {**change.context["adminform"].form.initial, **_inline_management()}
    data = {key: ("" if value is None else value) for key, value in data.items()}
    data.update(
        email=" Maya.Neu@Example.com ", email_consent="opted_in", tag_names="Hiking, VIP", custom="{}"
    )

    response = superuser_client.post(f"{CONTACTS}{contact.id}/change/", data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    contact.refresh_from_db()
    assert contact.email_normalized == "maya.neu@example.com"
    assert sorted(tag.name for tag in contact.tags.all()) == ["Hiking", "VIP"]
    assert ConsentEvent.objects.get(contact=contact).source == "Admin"


def _add_contact(client: Client, cast: Cast, **values: str) -> dict[str, object]:
    data = {"workspace": cast.workspace.id, "email_consent": "unknown", "sms_consent": "unknown"}
    data |= {"orders_count": "0", "total_spent": "0", **values, **_inline_management()}
    return client.post(f"{CONTACTS}add/", data).context["adminform"].form.errors


def test_the_contact_form_shows_the_cleaning_rules_errors_on_their_fields(
    superuser_client: Client, cast: Cast
) -> None:
    errors = _add_contact(superuser_client, cast, email="maya@", phone="12", country="D1")

    assert set(errors) == {"email", "phone", "country"}
    assert "two-letter country code" in str(errors["country"])


def test_the_contact_form_refuses_an_email_that_another_contact_has_in_any_case(
    superuser_client: Client, cast: Cast
) -> None:
    ContactFactory(workspace=cast.workspace, email="taken@example.com")

    errors = _add_contact(superuser_client, cast, email="TAKEN@example.com")

    assert "already exists" in str(errors["email"])


def _inline_management() -> dict[str, str]:
    prefix = "consent_events"
    return {f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0", f"{prefix}-MAX_NUM_FORMS": "0"}


def test_admin_lists_use_the_planner_estimate_instead_of_counting_big_tables(cast: Cast, monkeypatch) -> None:
    for _ in range(3):
        ContactFactory(workspace=cast.workspace)
    monkeypatch.setattr(EstimatedCountPaginator, "EXACT_BELOW", 0)

    with CaptureQueriesContext(connection) as queries:
        count = EstimatedCountPaginator(Contact.objects.all(), 50).count

    assert count >= 1
    assert not any("COUNT(" in query["sql"].upper() for query in queries.captured_queries)


def test_small_lists_are_counted_exactly(cast: Cast) -> None:
    for _ in range(3):
        ContactFactory(workspace=cast.workspace)

    assert EstimatedCountPaginator(Contact.objects.all(), 50).count == 3


def test_contact_links_survive_only_for_existing_tags(superuser_client: Client, cast: Cast) -> None:
    tag = TagFactory(workspace=cast.workspace, name="Old")
    ContactFactory(workspace=cast.workspace, tags=[tag])

    superuser_client.post(f"/admin/contacts/tag/{tag.id}/delete/", {"post": "yes"})

    assert not Tag.objects.filter(id=tag.id).exists()
    assert not ContactTag.objects.exists()
    assert Contact.objects.count() == 1


@pytest.mark.parametrize("model", [Contact, Tag, CustomField])
def test_add_pages_load(superuser_client: Client, cast: Cast, model: type) -> None:
    opts = model._meta

    assert superuser_client.get(f"/admin/{opts.app_label}/{opts.model_name}/add/").status_code == 200


def test_a_tag_rename_that_clashes_in_another_case_is_refused_with_a_message(
    superuser_client: Client, cast: Cast
) -> None:
    TagFactory(workspace=cast.workspace, name="Hiking")
    camping = TagFactory(workspace=cast.workspace, name="Camping")

    response = superuser_client.post(
        f"/admin/contacts/tag/{camping.id}/change/",
        {"name": "HIKING", "colour": "#1f6f5c", "description": ""},
        follow=True,
    )

    camping.refresh_from_db()
    assert camping.name == "Camping"
    assert "already exists" in response.content.decode()


def test_the_streamed_csv_action_exports_the_selected_contacts_with_their_workspace(
    superuser_client: Client, cast: Cast
) -> None:
    kept = ContactFactory(workspace=cast.workspace, first_name="=HYPERLINK()")
    ContactFactory(workspace=cast.workspace)

    response = superuser_client.post(
        "/admin/contacts/contact/", {"action": "export_csv_streamed", "_selected_action": [kept.id]}
    )

    lines = b"".join(response.streaming_content).decode().splitlines()
    assert lines[0].lstrip("\ufeff").startswith("workspace,id,email")
    assert len(lines) == 2
    assert lines[1].startswith(f"acme,{kept.id},")
    assert "'=HYPERLINK()" in lines[1]
