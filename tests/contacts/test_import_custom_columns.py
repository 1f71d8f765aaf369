"""Columns nobody mapped can become custom fields: on the mapping page ("Create custom field" on a
skipped column) and in the API (`new:<type>:<Label>` targets). Creating custom fields stays the
Admin's, as on the custom fields page and `/api/v1/custom-fields/`."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from rest_framework.test import APIClient

from apps.contacts.importing import pipeline
from apps.contacts.importing.mapping import NewField, custom_key_for, parse_new_target
from apps.contacts.models import Contact, CustomField, ImportJob
from tests.conftest import Cast
from tests.factories import CustomFieldFactory

pytestmark = pytest.mark.django_db

IMPORTS = "/w/acme/contacts/imports/"
API_IMPORTS = "/api/v1/imports/"
HTMX = {"HTTP_HX_REQUEST": "true"}
SHOP = (
    "E-Mail,Vorname,Kundennummer,Treuestufe,Kunde seit\n"
    "maya@example.de,Maya,1001,Gold,2020-05-01\n"
    "jonas@example.de,Jonas,1002,Silber,2021-06-02\n"
    "lea@example.de,Lea,1003,Gold,\n"
)


def _job(cast: Cast, text: str = SHOP) -> ImportJob:
    return pipeline.import_create(
        workspace=cast.workspace,
        upload=ContentFile(text.encode(), name="shop.csv"),
        actor=cast.owner,
        options=pipeline.ImportSettings(),
    )


def _configure(job: ImportJob, mapping: list[str], **new_fields: NewField) -> ImportJob:
    """`new_fields` by column index written as `column_<n>`."""
    fields = {int(name.removeprefix("column_")): new for name, new in new_fields.items()}
    return pipeline.import_configure(
        job=job, options=pipeline.ImportSettings(mapping=mapping, new_fields=fields)
    )


def _mapping_errors(error: pytest.ExceptionInfo[ValidationError]) -> list[str]:
    return error.value.message_dict["mapping"]


# --- Keys and the API's target -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("label", "key"),
    [
        ("Kundennummer", "kundennummer"),
        ("Loyalty tier", "loyalty_tier"),
        ("Straße (alt)", "strasse_alt"),
        ("Préférence", "preference"),
        ("2nd phone", "field_2nd_phone"),
        ("???", "field"),
        ("x" * 60, "x" * 50),
    ],
)
def test_a_key_is_made_from_the_label_in_lower_snake_case(label: str, key: str) -> None:
    assert custom_key_for(label) == key


def test_a_new_target_names_type_and_label() -> None:
    assert parse_new_target("new:number:Customer number") == NewField(
        label="Customer number", key="customer_number", field_type="number"
    )
    assert parse_new_target("new:text:Note: internal").label == "Note: internal"


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("new:colour:Eyes", "“colour” is not a custom field type: use text, number, date, boolean, choice."),
        ("new:text", "Write a new custom field as new:<type>:<Label>, e.g. new:text:Customer number."),
        ("new:text:  ", "Write a new custom field as new:<type>:<Label>, e.g. new:text:Customer number."),
    ],
)
def test_a_bad_new_target_says_what_is_wrong(target: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_new_target(target)


# --- Services --------------------------------------------------------------------------------------


def test_configuring_with_a_new_field_creates_it_and_maps_the_column(cast: Cast) -> None:
    job = _job(cast)

    _configure(
        job,
        ["email", "first_name", "", "", "customer_since"],
        column_2=NewField(label="Customer number", key="customer_no", field_type="number"),
    )

    created = CustomField.objects.get(workspace=cast.workspace)
    assert (created.key, created.label, created.field_type) == ("customer_no", "Customer number", "number")
    assert job.mapping == ["email", "first_name", "custom.customer_no", "", "customer_since"]


def test_a_new_target_creates_the_field_and_the_import_fills_it(cast: Cast) -> None:
    job = _job(cast)

    _configure(job, ["email", "first_name", "new:number:Customer number", "", "customer_since"])
    pipeline.import_execute(job=job)

    assert job.mapping[2] == "custom.customer_number"
    maya = Contact.objects.get(workspace=cast.workspace, email="maya@example.de")
    assert maya.custom == {"customer_number": 1001}


def test_a_choice_field_takes_the_columns_values_as_its_choices(cast: Cast) -> None:
    job = _job(cast)

    _configure(job, ["email", "", "", "new:choice:Loyalty tier", ""])

    assert CustomField.objects.get(key="loyalty_tier").choices == ["Gold", "Silber"]


def test_a_choice_field_from_a_column_with_too_many_values_is_refused(cast: Cast) -> None:
    rows = "".join(f"p{number}@example.de,Value {number}\n" for number in range(120))
    job = _job(cast, f"E-Mail,Notiz\n{rows}")

    with pytest.raises(ValidationError) as error:
        _configure(job, ["email", "new:choice:Notiz"])

    assert _mapping_errors(error) == [
        "Notiz: A choice field needs 1 to 100 choices; the first 1,000 rows of this column have 101 different "
        "values. Use text, or name the choices."
    ]
    assert not CustomField.objects.exists()


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("new:text:Customer no", "Kundennummer: There already is a custom field “customer_no”"),
        ("new:text:Email", "Kundennummer: “email” is a built-in contact field"),
        ("new:colour:Customer number", "Kundennummer: “colour” is not a custom field type"),
        ("new:Customer number", "Kundennummer: Write a new custom field as new:<type>:<Label>"),
    ],
)
def test_a_bad_new_field_is_refused_naming_the_column(cast: Cast, target: str, message: str) -> None:
    CustomFieldFactory(workspace=cast.workspace, key="customer_no", label="Customer no")
    job = _job(cast)

    with pytest.raises(ValidationError) as error:
        _configure(job, ["email", "first_name", target, "", ""])

    assert len(_mapping_errors(error)) == 1
    assert _mapping_errors(error)[0].startswith(message)
    assert CustomField.objects.count() == 1


def test_a_taken_key_in_another_workspace_is_free_here(cast: Cast) -> None:
    CustomFieldFactory(workspace=cast.other_workspace, key="customer_number")
    job = _job(cast)

    _configure(job, ["email", "", "new:text:Customer number", "", ""])

    assert CustomField.objects.filter(workspace=cast.workspace, key="customer_number").exists()


def test_two_columns_cannot_create_the_same_key(cast: Cast) -> None:
    job = _job(cast)

    with pytest.raises(ValidationError) as error:
        _configure(job, ["email", "", "new:text:Number", "new:number:number", ""])

    assert _mapping_errors(error) == [
        "Treuestufe: “Kundennummer” creates the custom field “number” already: name this one otherwise."
    ]
    assert not CustomField.objects.exists()


def test_nothing_is_created_when_another_part_of_the_mapping_is_wrong(cast: Cast) -> None:
    job = _job(cast)

    with pytest.raises(ValidationError) as error:
        _configure(job, ["", "first_name", "new:text:Customer number", "", ""])  # no email or phone

    assert _mapping_errors(error) == ["Map a column to email or phone: contacts are matched on them."]
    assert not CustomField.objects.exists()


def test_a_new_field_for_a_column_the_file_lacks_is_refused(cast: Cast) -> None:
    job = _job(cast)

    with pytest.raises(ValidationError) as error:
        _configure(
            job, ["email", "", "", "", ""], column_9=NewField(label="Ghost", key="ghost", field_type="text")
        )

    assert _mapping_errors(error) == ["The file has no column 10."]


# --- Browser -----------------------------------------------------------------------------------------


def _settings_post(job: ImportJob, action: str = "preview", **changes: str) -> dict[str, str]:
    data = {f"column_{index}": target for index, target in enumerate(job.mapping)}
    data.update(mode=job.mode, tags="", tag_separator=job.tag_separator, action=action)
    data.update(changes)
    return data


def _selected(page: str, index: int) -> str:
    select = re.search(rf'<select name="column_{index}".*?</select>', page, re.S)
    assert select, f"no select for column {index}"
    chosen = re.search(r'<option value="([^"]*)" selected>', select.group(0))
    return chosen.group(1) if chosen else ""


def test_an_admin_may_create_a_custom_field_for_each_skipped_column(owner_client: Client, cast: Cast) -> None:
    job = _job(cast)
    assert job.mapping == ["email", "first_name", "", "", "customer_since"]

    page = owner_client.get(f"{IMPORTS}{job.id}/").content.decode()

    assert page.count("<summary>Create custom field</summary>") == 2
    assert 'name="new_2_label" value="Kundennummer"' in page
    assert 'name="new_2_key" value="kundennummer"' in page
    assert 'name="new_3_key" value="treuestufe"' in page
    assert 'name="new_0_label"' not in page  # mapped columns have nothing to create


def test_an_editor_is_not_offered_to_create_custom_fields(member_client: Client, cast: Cast) -> None:
    job = _job(cast)

    page = member_client.get(f"{IMPORTS}{job.id}/").content.decode()
    response = member_client.post(
        f"{IMPORTS}{job.id}/",
        _settings_post(
            job, new_2="on", new_2_label="Customer number", new_2_key="customer_no", new_2_type="text"
        ),
        **HTMX,
    )

    assert "Create custom field" not in page
    assert response.status_code == 200
    assert not CustomField.objects.exists()
    job.refresh_from_db()
    assert job.mapping[2] == ""


def test_creating_a_field_on_the_mapping_page_maps_the_column_to_it(owner_client: Client, cast: Cast) -> None:
    job = _job(cast)
    data = _settings_post(
        job,
        new_2="on", new_2_label="Customer number", new_2_key="customer_no", new_2_type="number",
        new_3="on", new_3_label="Loyalty tier", new_3_key="", new_3_type="choice", new_3_choices="Gold, Silber, Bronze",
    )  # fmt: skip

    response = owner_client.post(f"{IMPORTS}{job.id}/", data, **HTMX)

    page = response.content.decode()
    job.refresh_from_db()
    assert response.status_code == 200, page[:3000]
    assert job.mapping == [
        "email",
        "first_name",
        "custom.customer_no",
        "custom.loyalty_tier",
        "customer_since",
    ]
    assert [_selected(page, index) for index in (2, 3)] == ["custom.customer_no", "custom.loyalty_tier"]
    assert "Custom fields created: “Customer number”, “Loyalty tier”." in page
    tier = CustomField.objects.get(key="loyalty_tier")
    assert (tier.label, tier.field_type, tier.choices) == (
        "Loyalty tier",
        "choice",
        ["Gold", "Silber", "Bronze"],
    )


def test_a_bad_new_field_is_shown_on_its_column_and_nothing_is_created(
    owner_client: Client, cast: Cast
) -> None:
    CustomFieldFactory(workspace=cast.workspace, key="customer_no")
    job = _job(cast)
    data = _settings_post(
        job,
        new_2="on", new_2_label="Customer number", new_2_key="customer_no", new_2_type="text",
        new_3="on", new_3_label="Tier", new_3_key="Tier!", new_3_type="text",
    )  # fmt: skip

    response = owner_client.post(f"{IMPORTS}{job.id}/", data, **HTMX)

    page = response.content.decode()
    assert response.status_code == 422
    assert "There already is a custom field “customer_no”: map the column to it" in page
    assert "“Tier!” cannot be a key: use lower-case letters, digits and underscores" in page
    assert re.search(r'<tr class="has-error[^"]*">\s*<th scope="row">\s*<label for="id_column_2">', page)
    assert CustomField.objects.count() == 1


def test_creating_a_field_without_javascript_redirects_with_a_message(
    owner_client: Client, cast: Cast
) -> None:
    job = _job(cast)
    data = _settings_post(job, new_2="on", new_2_label="Kundennummer", new_2_type="text")

    response = owner_client.post(f"{IMPORTS}{job.id}/", data, follow=True)

    assert response.redirect_chain == [(f"{IMPORTS}{job.id}/", 302)]
    assert "Custom fields created: “Kundennummer”." in response.content.decode()
    assert CustomField.objects.get().key == "kundennummer"


# --- API ---------------------------------------------------------------------------------------------


def test_an_admin_maps_a_column_to_a_new_custom_field_in_the_api(owner_api: APIClient, cast: Cast) -> None:
    job = _job(cast)

    response = owner_api.patch(
        f"{API_IMPORTS}{job.id}/",
        {"mapping": ["email", "first_name", "new:number:Customer number", "", ""]},
        format="json",
    )

    assert response.status_code == 200, response.content
    assert response.json()["mapping"][2] == "custom.customer_number"
    assert CustomField.objects.get(workspace=cast.workspace).field_type == "number"


def test_an_editor_token_may_not_create_custom_fields(member_api: APIClient, cast: Cast) -> None:
    job = _job(cast)

    response = member_api.patch(
        f"{API_IMPORTS}{job.id}/",
        {"mapping": ["email", "", "new:text:Customer number", "", ""]},
        format="json",
    )

    assert response.status_code == 403
    assert response.json()["error"]["message"].startswith(
        "Creating custom fields needs the Admin role: column 3 (“new:text:Customer number”)."
    )
    assert not CustomField.objects.exists()


def test_a_bad_new_target_in_the_api_is_a_400_naming_the_column(owner_api: APIClient, cast: Cast) -> None:
    job = _job(cast)

    response = owner_api.patch(
        f"{API_IMPORTS}{job.id}/",
        {"mapping": ["email", "", "new:colour:Nr", "new:text:Phone", ""]},
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["error"]["fields"]["mapping"] == [
        "Kundennummer: “colour” is not a custom field type: use text, number, date, boolean, choice.",
        "Treuestufe: “phone” is a built-in contact field: map the column to it, or name the new field otherwise.",
    ]
    assert not CustomField.objects.exists()


def test_an_api_upload_may_create_custom_fields_for_its_columns(
    owner_api: APIClient, cast: Cast, django_capture_on_commit_callbacks: Any
) -> None:
    upload = SimpleUploadedFile("shop.csv", SHOP.encode())
    mapping = '["email", "first_name", "new:text:Customer number", "new:choice:Loyalty tier", ""]'

    with django_capture_on_commit_callbacks(execute=True):
        response = owner_api.post(API_IMPORTS, {"file": upload, "mapping": mapping}, format="multipart")

    assert response.status_code == 202, response.content
    lea = Contact.objects.get(workspace=cast.workspace, email="lea@example.de")
    assert lea.custom == {"customer_number": "1003", "loyalty_tier": "Gold"}


def test_an_api_upload_by_an_editor_with_a_new_target_is_refused_and_stores_nothing(
    member_api: APIClient, cast: Cast
) -> None:
    upload = SimpleUploadedFile("shop.csv", SHOP.encode())

    response = member_api.post(
        API_IMPORTS, {"file": upload, "mapping": '["email", "", "new:text:Nr", "", ""]'}, format="multipart"
    )

    assert response.status_code == 403
    assert not ImportJob.objects.exists()
    assert not CustomField.objects.exists()
