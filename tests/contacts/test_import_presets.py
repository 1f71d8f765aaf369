"""Import presets: a saved mapping (by header) with its choices, saved from an import, applied to the
next file of the same kind in the browser, the API, the admin and `import_contacts`."""

from __future__ import annotations

import json
import re
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from rest_framework.test import APIClient

from apps.accounts.models import User
from apps.contacts.choices import ImportStatus
from apps.contacts.importing import pipeline, presets
from apps.contacts.importing.mapping import apply_preset
from apps.contacts.models import Contact, CustomField, ImportJob, ImportPreset
from apps.core.roles import Role
from tests.conftest import Cast
from tests.factories import CustomFieldFactory, ImportPresetFactory, MembershipFactory, issue_token

pytestmark = pytest.mark.django_db

IMPORTS = "/w/acme/contacts/imports/"
PRESETS_PAGE = f"{IMPORTS}presets/"
API = "/api/v1/import-presets/"
API_IMPORTS = "/api/v1/imports/"
HTMX = {"HTTP_HX_REQUEST": "true"}
# The shop's export: the columns come in a different order every month.
MARCH = "E-Mail;Vorname;Kundennummer;Notiz\nmaya@example.de;Maya;K-1;call back\n"
APRIL = "notiz;KUNDENNUMMER;Vorname;  e-mail \nanything;K-2;Jonas;jonas@example.de\n"
SHOP_MAPPING = {"E-Mail": "email", "Vorname": "first_name", "Kundennummer": "custom.customer_no", "Notiz": ""}


def _job(cast: Cast, text: str = MARCH, **options: Any) -> ImportJob:
    return pipeline.import_create(
        workspace=cast.workspace,
        upload=ContentFile(text.encode(), name="shop.csv"),
        actor=cast.owner,
        options=pipeline.ImportSettings(**options),
    )


def _values(**changes: Any) -> presets.PresetValues:
    return presets.PresetValues(**{"mapping": SHOP_MAPPING, **changes})


@pytest.fixture
def customer_no(cast: Cast) -> CustomField:
    return CustomFieldFactory(workspace=cast.workspace, key="customer_no", label="Customer number")


@pytest.fixture
def shop_preset(cast: Cast, customer_no: CustomField) -> ImportPreset:
    return presets.import_preset_create(
        workspace=cast.workspace,
        name="Shop export",
        values=_values(mode="create", tags=["shop"], tag_separator=";", date_order="dmy", decimal_comma=True),
        actor=cast.owner,
    )


@pytest.fixture
def viewer_client(cast: Cast) -> Client:
    client = Client()
    client.force_login(MembershipFactory(workspace=cast.workspace, role=Role.VIEWER).user)
    return client


@pytest.fixture
def viewer_api(cast: Cast) -> APIClient:
    _, key = issue_token(membership=cast.member_membership, role=Role.VIEWER)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


def _selected(page: str, index: int) -> str:
    select = re.search(rf'<select name="column_{index}".*?</select>', page, re.S)
    assert select, f"no select for column {index}"
    chosen = re.search(r'<option value="([^"]*)" selected>', select.group(0))
    return chosen.group(1) if chosen else ""


def _messages(response: Any) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


# --- Services: saving --------------------------------------------------------------------------------


def test_saving_a_preset_keeps_the_mapping_by_header_and_the_choices(
    cast: Cast, customer_no: CustomField
) -> None:
    job = _job(cast, mapping=["email", "first_name", "custom.customer_no", ""], mode="create", tags=["shop"])

    preset = presets.import_preset_save(job=job, name="  Shop   export ", actor=cast.owner)

    assert preset.name == "Shop export"
    assert preset.mapping == SHOP_MAPPING
    assert (preset.mode, preset.tags, preset.tag_separator, preset.created_by) == (
        "create", ["shop"], ",", cast.owner,
    )  # fmt: skip


def test_a_preset_name_is_unique_in_a_workspace_whatever_its_case(
    cast: Cast, shop_preset: ImportPreset
) -> None:
    with pytest.raises(ValidationError) as error:
        presets.import_preset_create(workspace=cast.workspace, name="SHOP EXPORT", values=_values())

    assert error.value.message_dict["name"] == ["There already is a preset named “Shop export”."]


def test_another_workspace_may_use_the_same_preset_name(cast: Cast, shop_preset: ImportPreset) -> None:
    theirs = presets.import_preset_create(
        workspace=cast.other_workspace,
        name="Shop export",
        values=presets.PresetValues(mapping={"Mail": "email"}),
    )

    assert theirs.workspace == cast.other_workspace


def test_saving_under_a_taken_name_is_refused_unless_replacing(cast: Cast, shop_preset: ImportPreset) -> None:
    job = _job(cast, mapping=["email", "first_name", "", ""])

    with pytest.raises(ValidationError):
        presets.import_preset_save(job=job, name="shop EXPORT")
    replaced = presets.import_preset_save(job=job, name="shop EXPORT", replace=True)

    assert replaced.pk == shop_preset.pk
    assert replaced.name == "shop EXPORT"
    assert replaced.mapping == {"E-Mail": "email", "Vorname": "first_name", "Kundennummer": "", "Notiz": ""}
    assert ImportPreset.objects.count() == 1


@pytest.mark.parametrize(
    ("mapping", "message"),
    [
        ({"E-Mail": "shoe_size"}, "E-Mail: “shoe_size” is not a contact field."),
        ({"Nr": "custom.loyalty"}, "Nr: There is no custom field “loyalty”: create it first."),
        ({"Nr": "new:text:Number"}, "Nr: a preset maps to existing fields only"),
        ({"E-Mail": "email", "e-mail ": "phone"}, "e-mail: “E-Mail” is the same column"),
        ({" ": "email"}, "Every column of a preset needs its header"),
        (["email"], "Give the mapping as an object of header -> target"),
    ],
)
def test_a_preset_with_a_bad_mapping_is_refused_naming_the_header(
    cast: Cast, mapping: Any, message: str
) -> None:
    with pytest.raises(ValidationError) as error:
        presets.import_preset_create(
            workspace=cast.workspace, name="Broken", values=presets.PresetValues(mapping=mapping)
        )

    assert any(problem.startswith(message) for problem in error.value.message_dict["mapping"])
    assert not ImportPreset.objects.exists()


def test_a_preset_names_every_other_bad_setting(cast: Cast) -> None:
    values = presets.PresetValues(
        mapping={}, mode="merge", tags=["x" * 81], tag_separator="", date_order="ymd"
    )

    with pytest.raises(ValidationError) as error:
        presets.import_preset_create(workspace=cast.workspace, name="", values=values)

    assert set(error.value.message_dict) == {"name", "mode", "tags", "tag_separator", "date_order"}


def test_deleting_a_preset_leaves_the_imports_made_with_it_as_they_are(
    cast: Cast, shop_preset: ImportPreset
) -> None:
    job = _job(cast, preset=shop_preset)

    presets.import_preset_delete(preset=shop_preset)

    job.refresh_from_db()
    assert job.mapping == ["email", "first_name", "custom.customer_no", ""]


# --- Services: applying ----------------------------------------------------------------------------


def test_a_preset_matches_headers_whatever_their_case_spacing_and_order() -> None:
    mapping, notes = apply_preset(
        ["notiz", "KUNDENNUMMER", "Vorname", "  e-mail "], ["", "", "first_name", "email"], SHOP_MAPPING,
        custom_keys=["customer_no"],
    )  # fmt: skip

    assert mapping == ["", "custom.customer_no", "first_name", "email"]
    assert notes == []


def test_columns_the_preset_does_not_know_keep_their_suggestion() -> None:
    mapping, _ = apply_preset(["E-Mail", "City", "Phone"], ["email", "city", "phone"], {"E-Mail": "email"})

    assert mapping == ["email", "city", "phone"]


def test_a_suggestion_never_takes_a_field_the_preset_gave_another_column() -> None:
    mapping, _ = apply_preset(["Mail", "E-Mail"], ["", "email"], {"Mail": "email", "Other": ""})

    assert mapping == ["email", ""]


def test_a_target_whose_custom_field_was_deleted_is_dropped_with_a_note_naming_the_column() -> None:
    mapping, notes = apply_preset(["E-Mail", "Kundennummer"], ["email", ""], SHOP_MAPPING, custom_keys=[])

    assert mapping == ["email", ""]
    assert notes == [
        "Kundennummer: the preset's target “custom.customer_no” is dropped (There is no custom field "
        "“customer_no”: create it first.); the column keeps its suggestion."
    ]


def test_of_two_columns_with_one_header_the_preset_maps_the_first() -> None:
    mapping, _ = apply_preset(["Vorname", "Vorname", "E-Mail"], ["first_name", "", "email"], SHOP_MAPPING)

    assert mapping == ["first_name", "", "email"]


def test_applying_a_preset_gives_the_import_its_mapping_and_choices(
    cast: Cast, shop_preset: ImportPreset
) -> None:
    job = _job(cast, APRIL)

    notes = presets.import_preset_apply(job=job, preset=shop_preset)

    job.refresh_from_db()
    assert notes == []
    assert job.mapping == ["", "custom.customer_no", "first_name", "email"]
    assert (job.mode, job.tags, job.tag_separator, job.date_order, job.decimal_comma) == (
        "create", ["shop"], ";", "dmy", True,
    )  # fmt: skip


def test_applying_a_preset_to_an_import_that_started_is_refused(
    cast: Cast, shop_preset: ImportPreset
) -> None:
    job = _job(cast)
    ImportJob.objects.filter(id=job.id).update(status=ImportStatus.RUNNING)
    job.refresh_from_db()

    with pytest.raises(ValidationError, match="its settings are fixed"):
        presets.import_preset_apply(job=job, preset=shop_preset)


def test_an_upload_with_a_preset_takes_its_mapping_but_a_given_mapping_wins(
    cast: Cast, shop_preset: ImportPreset
) -> None:
    with_preset = _job(cast, APRIL, preset=shop_preset)
    with_both = _job(cast, APRIL, preset=shop_preset, mapping=["", "", "last_name", "email"])

    assert with_preset.mapping == ["", "custom.customer_no", "first_name", "email"]
    assert with_both.mapping == ["", "", "last_name", "email"]


# --- Browser: upload page ------------------------------------------------------------------------------


def test_the_upload_page_offers_the_workspaces_presets_with_their_mode_and_tags(
    owner_client: Client, cast: Cast, shop_preset: ImportPreset
) -> None:
    ImportPresetFactory(workspace=cast.other_workspace, name="Rival secret preset")

    page = owner_client.get(f"{IMPORTS}new/").content.decode()

    assert re.search(
        rf'<option value="{shop_preset.id}" data-mode="create" data-tags="shop">Shop export</option>', page
    )
    assert "data-preset-select" in page
    assert "Rival secret preset" not in page


def test_the_upload_page_without_presets_does_not_ask_for_one(owner_client: Client, cast: Cast) -> None:
    page = owner_client.get(f"{IMPORTS}new/").content.decode()

    assert "data-preset-select" not in page


def test_uploading_with_a_preset_maps_the_columns_by_their_headers(
    owner_client: Client, cast: Cast, shop_preset: ImportPreset
) -> None:
    upload = SimpleUploadedFile("april.csv", APRIL.encode())

    response = owner_client.post(
        f"{IMPORTS}new/", {"file": upload, "preset": shop_preset.id, "mode": "upsert", "tags": "april"}
    )

    job = ImportJob.objects.get()
    assert response.status_code == 302
    assert job.mapping == ["", "custom.customer_no", "first_name", "email"]
    # What the form said when it was sent counts; the rest comes from the preset.
    assert (job.mode, job.tags, job.tag_separator, job.date_order) == ("upsert", ["april"], ";", "dmy")


def test_uploading_with_a_preset_warns_about_what_it_could_not_apply(
    owner_client: Client, cast: Cast, shop_preset: ImportPreset, customer_no: CustomField
) -> None:
    customer_no.delete()
    upload = SimpleUploadedFile("april.csv", APRIL.encode())

    response = owner_client.post(
        f"{IMPORTS}new/", {"file": upload, "preset": shop_preset.id, "mode": "upsert"}
    )

    assert response.status_code == 302
    assert any(
        "KUNDENNUMMER: the preset's target “custom.customer_no” is dropped" in m for m in _messages(response)
    )
    assert ImportJob.objects.get().mapping[1] == ""


def test_another_workspaces_preset_cannot_be_chosen_on_upload(owner_client: Client, cast: Cast) -> None:
    theirs = ImportPresetFactory(workspace=cast.other_workspace)
    upload = SimpleUploadedFile("april.csv", APRIL.encode())

    response = owner_client.post(f"{IMPORTS}new/", {"file": upload, "preset": theirs.id, "mode": "upsert"})

    assert response.status_code == 422
    assert "There is no such preset in this workspace." in response.content.decode()
    assert not ImportJob.objects.exists()


# --- Browser: mapping page -----------------------------------------------------------------------------


def _settings_post(job: ImportJob, action: str = "preview", **changes: str) -> dict[str, str]:
    data = {f"column_{index}": target for index, target in enumerate(job.mapping)}
    data.update(mode=job.mode, tags=", ".join(job.tags), tag_separator=job.tag_separator, action=action)
    data.update(changes)
    return data


def test_the_mapping_page_saves_its_settings_as_a_preset(
    member_client: Client, cast: Cast, customer_no: CustomField
) -> None:
    job = _job(cast)
    data = _settings_post(
        job, "save_preset", column_2="custom.customer_no", preset_name="Shop export", tags="shop"
    )

    response = member_client.post(f"{IMPORTS}{job.id}/", data, **HTMX)

    preset = ImportPreset.objects.get()
    assert response.status_code == 200
    assert "Preset “Shop export” saved." in response.content.decode()
    assert (preset.name, preset.mapping, preset.tags, preset.created_by) == (
        "Shop export", SHOP_MAPPING, ["shop"], cast.member,
    )  # fmt: skip


def test_saving_a_preset_without_a_name_says_so_next_to_the_name(member_client: Client, cast: Cast) -> None:
    job = _job(cast)

    response = member_client.post(f"{IMPORTS}{job.id}/", _settings_post(job, "save_preset"), **HTMX)

    field = re.search(
        r'<div class="field has-error">\s*<label for="id_preset_name">.*?</div>',
        response.content.decode(),
        re.S,
    )
    assert response.status_code == 422
    assert field
    assert "Give the preset a name." in field.group(0)
    assert not ImportPreset.objects.exists()


def test_saving_a_preset_under_a_taken_name_replaces_it_only_when_asked(
    member_client: Client, cast: Cast, shop_preset: ImportPreset
) -> None:
    job = _job(cast)
    url = f"{IMPORTS}{job.id}/"

    refused = member_client.post(url, _settings_post(job, "save_preset", preset_name="shop export"), **HTMX)
    replaced = member_client.post(
        url, _settings_post(job, "save_preset", preset_name="shop export", preset_replace="on"), **HTMX
    )

    assert refused.status_code == 422
    assert "There already is a preset named “Shop export”." in refused.content.decode()
    assert replaced.status_code == 200
    shop_preset.refresh_from_db()
    assert shop_preset.mapping["Kundennummer"] == ""


def test_the_mapping_page_applies_a_preset_in_place(
    member_client: Client, cast: Cast, shop_preset: ImportPreset
) -> None:
    job = _job(cast, APRIL)
    page = member_client.get(f"{IMPORTS}{job.id}/").content.decode()
    assert "Apply preset" in page
    assert f'<option value="{shop_preset.id}">Shop export</option>' in page

    response = member_client.post(f"{IMPORTS}{job.id}/preset/", {"preset": shop_preset.id}, **HTMX)

    fragment = response.content.decode()
    assert response.status_code == 200
    assert fragment.lstrip().startswith('<section id="import-settings"')
    assert "Preset “Shop export” applied" in fragment
    assert [_selected(fragment, index) for index in range(4)] == [
        "",
        "custom.customer_no",
        "first_name",
        "email",
    ]


def test_the_applied_preset_says_in_place_what_it_could_not_apply(
    member_client: Client, cast: Cast, shop_preset: ImportPreset, customer_no: CustomField
) -> None:
    customer_no.delete()
    job = _job(cast, APRIL)

    response = member_client.post(f"{IMPORTS}{job.id}/preset/", {"preset": shop_preset.id}, **HTMX)

    notes = re.search(
        r'<ul class="flash flash-warning preset-notes" role="status">.*?</ul>',
        response.content.decode(),
        re.S,
    )
    assert notes
    assert "KUNDENNUMMER: the preset&#x27;s target “custom.customer_no” is dropped" in notes.group(0)


def test_applying_a_preset_without_htmx_redirects_with_its_notes(
    member_client: Client, cast: Cast, shop_preset: ImportPreset, customer_no: CustomField
) -> None:
    customer_no.delete()
    job = _job(cast, APRIL)

    response = member_client.post(f"{IMPORTS}{job.id}/preset/", {"preset": shop_preset.id})

    assert response.status_code == 302
    assert response["Location"] == f"{IMPORTS}{job.id}/"
    notes = _messages(response)
    assert notes[0] == "Preset “Shop export” applied: check the columns and the preview."
    assert notes[1].startswith("KUNDENNUMMER: the preset's target “custom.customer_no” is dropped")


def test_another_workspaces_preset_cannot_be_applied(member_client: Client, cast: Cast) -> None:
    theirs = ImportPresetFactory(workspace=cast.other_workspace, mapping={"notiz": "email"})
    job = _job(cast, APRIL)

    response = member_client.post(f"{IMPORTS}{job.id}/preset/", {"preset": theirs.id}, **HTMX)

    assert response.status_code == 422
    assert "There is no such preset in this workspace." in response.content.decode()
    job.refresh_from_db()
    assert job.mapping[0] == ""


@pytest.mark.parametrize(
    ("data", "message"),
    [({}, "Choose a preset."), ({"preset": "abc"}, "There is no such preset in this workspace.")],
)
def test_applying_nothing_or_garbage_says_what_is_wrong(
    member_client: Client, cast: Cast, shop_preset: ImportPreset, data: Any, message: str
) -> None:
    job = _job(cast)

    response = member_client.post(f"{IMPORTS}{job.id}/preset/", data, **HTMX)

    assert response.status_code == 422
    assert message in response.content.decode()


def test_a_preset_cannot_change_an_import_that_started(
    member_client: Client, cast: Cast, shop_preset: ImportPreset
) -> None:
    job = _job(cast)
    ImportJob.objects.filter(id=job.id).update(status=ImportStatus.COMPLETED)

    response = member_client.post(f"{IMPORTS}{job.id}/preset/", {"preset": shop_preset.id})

    assert response.status_code == 302
    assert "its settings can no longer change" in _messages(response)[0]


def test_viewers_neither_apply_nor_save_presets(
    viewer_client: Client, cast: Cast, shop_preset: ImportPreset
) -> None:
    job = _job(cast)

    page = viewer_client.get(f"{IMPORTS}{job.id}/").content.decode()
    applied = viewer_client.post(f"{IMPORTS}{job.id}/preset/", {"preset": shop_preset.id})
    saved = viewer_client.post(f"{IMPORTS}{job.id}/", _settings_post(job, "save_preset", preset_name="Mine"))

    assert "Apply preset" not in page
    assert "Save these settings as a preset" not in page
    assert (applied.status_code, saved.status_code) == (403, 403)
    assert ImportPreset.objects.count() == 1


# --- Browser: the presets page -------------------------------------------------------------------------


def test_the_presets_page_lists_the_workspaces_presets(
    viewer_client: Client, cast: Cast, django_assert_max_num_queries: Any
) -> None:
    for number in range(5):
        ImportPresetFactory(workspace=cast.workspace, name=f"Export {number}", created_by=cast.owner)
    ImportPresetFactory(workspace=cast.other_workspace, name="Rival secret preset")

    with django_assert_max_num_queries(8):
        response = viewer_client.get(PRESETS_PAGE)

    page = response.content.decode()
    assert response.status_code == 200
    assert page.count('<th scope="row">Export ') == 5
    assert cast.owner.display_name in page
    assert "Rival secret preset" not in page
    assert "Delete" not in page  # viewers read


def test_an_editor_deletes_a_preset_from_its_page(
    member_client: Client, cast: Cast, shop_preset: ImportPreset
) -> None:
    response = member_client.post(f"{PRESETS_PAGE}{shop_preset.id}/delete/")

    assert response.status_code == 302
    assert not ImportPreset.objects.exists()
    assert _messages(response) == ["Preset “Shop export” deleted; imports made with it keep their settings."]


def test_a_viewer_cannot_delete_a_preset(viewer_client: Client, shop_preset: ImportPreset) -> None:
    assert viewer_client.post(f"{PRESETS_PAGE}{shop_preset.id}/delete/").status_code == 403
    assert ImportPreset.objects.exists()


def test_the_imports_list_links_to_the_presets(owner_client: Client, cast: Cast) -> None:
    assert f'href="{PRESETS_PAGE}"' in owner_client.get(IMPORTS).content.decode()


# --- API ---------------------------------------------------------------------------------------------


def test_the_api_lists_the_workspaces_presets_with_few_queries(
    viewer_api: APIClient, cast: Cast, shop_preset: ImportPreset, django_assert_max_num_queries: Any
) -> None:
    for number in range(5):
        ImportPresetFactory(workspace=cast.workspace, name=f"Export {number}", created_by=cast.member)
    theirs = ImportPresetFactory(workspace=cast.other_workspace)

    with django_assert_max_num_queries(8):
        response = viewer_api.get(API)

    body = response.json()
    assert response.status_code == 200
    ids = (
        {item["id"] for item in body["results"]} if isinstance(body, dict) else {item["id"] for item in body}
    )
    assert shop_preset.id in ids
    assert theirs.id not in ids


def test_the_api_shows_a_preset(viewer_api: APIClient, shop_preset: ImportPreset) -> None:
    body = viewer_api.get(f"{API}{shop_preset.id}/").json()

    assert {key: body[key] for key in ("name", "mapping", "mode", "tags", "tag_separator", "date_order")} == {
        "name": "Shop export", "mapping": SHOP_MAPPING, "mode": "create", "tags": ["shop"],
        "tag_separator": ";", "date_order": "dmy",
    }  # fmt: skip
    assert (body["decimal_comma"], body["created_by"]) == (True, "owner@acme.example")


def test_an_editor_creates_a_preset_through_the_api(
    member_api: APIClient, cast: Cast, customer_no: CustomField
) -> None:
    response = member_api.post(
        API,
        {"name": "Shop export", "mapping": SHOP_MAPPING, "tags": ["shop"], "date_order": "dmy"},
        format="json",
    )

    assert response.status_code == 201, response.content
    preset = ImportPreset.objects.get()
    assert (preset.workspace, preset.mapping, preset.created_by) == (
        cast.workspace,
        SHOP_MAPPING,
        cast.member,
    )
    assert response.json()["id"] == preset.id


def test_a_preset_can_copy_an_imports_settings(
    member_api: APIClient, cast: Cast, customer_no: CustomField
) -> None:
    job = _job(cast, mapping=["email", "first_name", "custom.customer_no", ""], mode="update")

    response = member_api.post(API, {"name": "From March", "import_id": job.id, "tags": ["x"]}, format="json")

    assert response.status_code == 201, response.content
    assert (response.json()["mapping"], response.json()["mode"], response.json()["tags"]) == (
        SHOP_MAPPING, "update", ["x"],
    )  # fmt: skip


def test_a_preset_cannot_copy_another_workspaces_import(member_api: APIClient, cast: Cast) -> None:
    theirs = pipeline.import_create(
        workspace=cast.other_workspace,
        upload=ContentFile(MARCH.encode(), name="rival.csv"),
        actor=None,
        options=pipeline.ImportSettings(),
    )

    response = member_api.post(API, {"name": "Stolen", "import_id": theirs.id}, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"import_id": ["There is no such import in this workspace."]}


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"name": "shop EXPORT", "mapping": {}}, "name", "There already is a preset named “Shop export”."),
        (
            {"name": "Bad", "mapping": {"E-Mail": "shoe_size"}},
            "mapping",
            "E-Mail: “shoe_size” is not a contact field.",
        ),
        (
            {"name": "Bad", "mapping": ["email"]},
            "mapping",
            'Expected a dictionary of items but got type "list".',
        ),
        ({"name": "Bad", "mode": "merge"}, "mode", '"merge" is not a valid choice.'),
        ({"mapping": {}}, "name", "This field is required."),
    ],
)
def test_a_bad_preset_is_a_400_naming_the_field(
    member_api: APIClient, shop_preset: ImportPreset, body: dict[str, Any], field: str, message: str
) -> None:
    response = member_api.post(API, body, format="json")

    assert response.status_code == 400, response.content
    assert response.json()["error"]["fields"][field] == [message]


def test_patch_changes_some_settings_and_put_replaces_them(
    member_api: APIClient, shop_preset: ImportPreset
) -> None:
    patched = member_api.patch(f"{API}{shop_preset.id}/", {"tags": ["monthly"]}, format="json").json()
    put = member_api.put(
        f"{API}{shop_preset.id}/", {"name": "Renamed", "mapping": {"Mail": "email"}}, format="json"
    )

    assert (patched["tags"], patched["mode"], patched["mapping"]) == (["monthly"], "create", SHOP_MAPPING)
    assert put.status_code == 200, put.content
    assert (put.json()["name"], put.json()["mapping"], put.json()["mode"], put.json()["tags"]) == (
        "Renamed", {"Mail": "email"}, "upsert", [],
    )  # fmt: skip


def test_an_editor_deletes_a_preset_through_the_api(member_api: APIClient, shop_preset: ImportPreset) -> None:
    assert member_api.delete(f"{API}{shop_preset.id}/").status_code == 204
    assert not ImportPreset.objects.exists()


def test_viewers_read_presets_but_do_not_write_them(viewer_api: APIClient, shop_preset: ImportPreset) -> None:
    assert viewer_api.get(f"{API}{shop_preset.id}/").status_code == 200
    assert viewer_api.post(API, {"name": "Mine", "mapping": {}}, format="json").status_code == 403
    assert viewer_api.patch(f"{API}{shop_preset.id}/", {"tags": []}, format="json").status_code == 403
    assert viewer_api.delete(f"{API}{shop_preset.id}/").status_code == 403


def _upload(client: APIClient, capture: Any, text: str = APRIL, **fields: Any) -> Any:
    with capture(execute=True):
        return client.post(
            API_IMPORTS,
            {"file": SimpleUploadedFile("april.csv", text.encode()), **fields},
            format="multipart",
        )


def test_an_api_upload_with_a_preset_imports_with_its_mapping(
    member_api: APIClient, cast: Cast, shop_preset: ImportPreset, django_capture_on_commit_callbacks: Any
) -> None:
    response = _upload(member_api, django_capture_on_commit_callbacks, preset=shop_preset.id, mode="upsert")

    assert response.status_code == 202, response.content
    assert response.json()["notes"] == []
    job = ImportJob.objects.get(id=response.json()["id"])
    assert job.mapping == ["", "custom.customer_no", "first_name", "email"]
    assert (job.mode, job.tags) == ("upsert", ["shop"])  # the field sent wins over the preset's
    contact = Contact.objects.get(workspace=cast.workspace)
    assert (contact.first_name, contact.custom) == ("Jonas", {"customer_no": "K-2"})


def test_an_api_upload_tells_what_the_preset_could_not_apply(
    member_api: APIClient,
    shop_preset: ImportPreset,
    customer_no: CustomField,
    django_capture_on_commit_callbacks: Any,
) -> None:
    customer_no.delete()

    response = _upload(member_api, django_capture_on_commit_callbacks, preset=shop_preset.id, dry_run="true")

    assert response.status_code == 202, response.content
    assert response.json()["notes"][0].startswith(
        "KUNDENNUMMER: the preset's target “custom.customer_no” is dropped"
    )


def test_an_api_upload_cannot_use_another_workspaces_preset(
    member_api: APIClient, cast: Cast, django_capture_on_commit_callbacks: Any
) -> None:
    theirs = ImportPresetFactory(workspace=cast.other_workspace)

    response = _upload(member_api, django_capture_on_commit_callbacks, preset=theirs.id)

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "preset": [f"There is no import preset {theirs.id} in this workspace."]
    }
    assert not ImportJob.objects.exists()


# --- Admin -------------------------------------------------------------------------------------------


@pytest.fixture
def superuser_client(db: None) -> Client:
    client = Client()
    client.force_login(User.objects.create_superuser(email="ops@ensemble.example", password="x"))
    return client


ADMIN = "/admin/contacts/importpreset/"


def test_the_admin_lists_and_searches_presets(
    superuser_client: Client, cast: Cast, shop_preset: ImportPreset, django_assert_max_num_queries: Any
) -> None:
    ImportPresetFactory(workspace=cast.other_workspace, name="Rival export")

    with django_assert_max_num_queries(12):
        response = superuser_client.get(ADMIN, {"q": "acme"})

    page = response.content.decode()
    assert response.status_code == 200
    assert "Shop export" in page
    assert "Rival export" not in page


def test_the_admin_adds_a_preset_through_the_service_rules(
    superuser_client: Client, cast: Cast, shop_preset: ImportPreset
) -> None:
    form = {
        "workspace": cast.workspace.id, "name": "SHOP export", "mapping": '{"Mail": "email"}', "mode": "upsert",
        "tags": "[]", "tag_separator": ",", "date_order": "", "decimal_comma": "unknown",
    }  # fmt: skip

    refused = superuser_client.post(f"{ADMIN}add/", form)
    bad_target = superuser_client.post(
        f"{ADMIN}add/", {**form, "name": "Other", "mapping": '{"Mail": "mail"}'}
    )
    added = superuser_client.post(f"{ADMIN}add/", {**form, "name": "Other"})

    assert "There already is a preset named “Shop export”." in refused.content.decode()
    assert "Mail: “mail” is not a contact field." in bad_target.content.decode()
    assert added.status_code == 302
    assert ImportPreset.objects.get(name="Other").mapping == {"Mail": "email"}


def test_the_admin_imports_preset_rows_and_reports_the_bad_ones(superuser_client: Client, cast: Cast) -> None:
    rows = (
        "workspace,name,mapping,mode,tags,tag_separator,date_order,decimal_comma\n"
        'acme,Shop,"{""E-Mail"": ""email""}",create,"shop,monthly",;,dmy,\n'
        'acme,Broken,"{""E-Mail"": ""custom.nope""}",upsert,,",",,\n'
        'nowhere,Lost,"{}",upsert,,",",,\n'
    )
    upload = SimpleUploadedFile("presets.csv", rows.encode(), content_type="text/csv")

    preview = superuser_client.post(
        f"{ADMIN}import/", {"format": "0", "import_file": upload, "resource": "0"}
    )
    confirm = preview.context["confirm_form"]
    superuser_client.post(f"{ADMIN}process_import/", confirm.initial, follow=True)

    assert [row.number for row in preview.context["result"].invalid_rows] == [2, 3]
    preset = ImportPreset.objects.get()
    assert (preset.workspace, preset.name, preset.mapping, preset.tags, preset.tag_separator) == (
        cast.workspace, "Shop", {"E-Mail": "email"}, ["shop", "monthly"], ";",
    )  # fmt: skip


def test_the_admin_exports_presets(superuser_client: Client, shop_preset: ImportPreset) -> None:
    fields = {f"importpresetresource_{name}": "on" for name in ("workspace", "name", "mapping")}

    response = superuser_client.post(f"{ADMIN}export/", {"format": "0", "resource": "0", **fields})

    assert response.status_code == 200
    assert "acme,Shop export," in response.content.decode()
    assert "custom.customer_no" in response.content.decode()


# --- import_contacts ---------------------------------------------------------------------------------


@pytest.fixture
def april_file(tmp_path: Path) -> Path:
    path = tmp_path / "april.csv"
    path.write_text(APRIL)
    return path


def _run(*args: str) -> tuple[dict[str, Any], str]:
    out, err = StringIO(), StringIO()
    call_command("import_contacts", *args, stdout=out, stderr=err)
    return json.loads(out.getvalue().strip().splitlines()[-1]), err.getvalue()


def test_the_command_imports_with_a_preset_named_in_any_case(
    april_file: Path, cast: Cast, shop_preset: ImportPreset
) -> None:
    summary, _ = _run(str(april_file), "--workspace", "acme", "--preset", "SHOP EXPORT", "--mode", "upsert")

    contact = Contact.objects.get(workspace=cast.workspace)
    job = ImportJob.objects.get()
    assert summary["created"] == 1
    assert (contact.email, contact.custom) == ("jonas@example.de", {"customer_no": "K-2"})
    assert (job.mode, job.tags) == ("upsert", ["shop"])


def test_the_command_adds_its_tags_to_the_presets(
    april_file: Path, cast: Cast, shop_preset: ImportPreset
) -> None:
    _run(str(april_file), "--workspace", "acme", "--preset", "Shop export", "--tag", "april", "--tag", "shop")

    assert ImportJob.objects.get().tags == ["shop", "april"]


def test_the_command_names_the_presets_when_one_is_unknown(
    april_file: Path, shop_preset: ImportPreset
) -> None:
    with pytest.raises(CommandError) as error:
        _run(str(april_file), "--workspace", "acme", "--preset", "Shop")

    assert str(error.value) == "There is no import preset “Shop” in acme; its presets are “Shop export”."


def test_the_command_never_uses_another_workspaces_preset(april_file: Path, cast: Cast) -> None:
    ImportPresetFactory(workspace=cast.other_workspace, name="Rival")

    with pytest.raises(CommandError, match="it has none yet"):
        _run(str(april_file), "--workspace", "acme", "--preset", "Rival")


def test_the_command_says_what_the_preset_could_not_apply(
    april_file: Path, shop_preset: ImportPreset, customer_no: CustomField
) -> None:
    customer_no.delete()

    _, err = _run(str(april_file), "--workspace", "acme", "--preset", "Shop export")

    assert "Preset “Shop export”: KUNDENNUMMER: the preset's target “custom.customer_no” is dropped" in err
