"""The segment admin: rules checked by the services, counts on demand, freezing, import-export."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from apps.accounts.models import User
from apps.segments import services
from apps.segments.models import Segment
from tests.conftest import Cast
from tests.factories import ContactFactory, TagFactory

pytestmark = pytest.mark.django_db

SEGMENTS = "/admin/segments/segment/"
BERLIN = {"field": "city", "op": "eq", "value": "Berlin"}


@pytest.fixture
def superuser_client(db: None) -> Client:
    client = Client()
    client.force_login(User.objects.create_superuser(email="ops@ensemble.example", password="x"))
    return client


def test_the_segment_list_is_searchable_with_bounded_queries(
    superuser_client: Client, cast: Cast, django_assert_max_num_queries
) -> None:
    for n in range(20):
        services.segment_create(workspace=cast.workspace, name=f"Segment {n}", rules={"all": []})

    with django_assert_max_num_queries(12):
        response = superuser_client.get(SEGMENTS, {"q": "acme"})

    assert len(response.context["cl"].result_list) == 20


def test_adding_a_segment_checks_the_rules_and_names_the_bad_path(
    superuser_client: Client, cast: Cast
) -> None:
    data = {
        "workspace": cast.workspace.id,
        "name": "Broken",
        "kind": "dynamic",
        "rules": '{"all": [{"tag": "nope"}]}',
    }

    response = superuser_client.post(f"{SEGMENTS}add/", data)

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["rules"] == [
        "all[0].tag: There is no tag “nope” in this workspace."
    ]
    assert not Segment.objects.exists()


def test_adding_a_static_segment_in_the_admin_freezes_it_through_the_service(
    superuser_client: Client, cast: Cast
) -> None:
    ContactFactory.create_batch(2, workspace=cast.workspace, city="Berlin")
    data = {
        "workspace": cast.workspace.id,
        "name": "Berliners",
        "kind": "static",
        "rules": json.dumps(BERLIN),
    }

    superuser_client.post(f"{SEGMENTS}add/", data)

    segment = Segment.objects.get()
    assert (segment.kind, segment.frozen_count, segment.created_by.email) == (
        "static",
        2,
        "ops@ensemble.example",
    )


def test_counts_on_demand_from_the_list_and_the_segment(superuser_client: Client, cast: Cast) -> None:
    ContactFactory.create_batch(3, workspace=cast.workspace, city="Berlin")
    segment = services.segment_create(workspace=cast.workspace, name="Berliners", rules=BERLIN)

    listed = superuser_client.post(
        SEGMENTS, {"action": "count_contacts", "_selected_action": [segment.id]}, follow=True
    ).content.decode()
    linked = superuser_client.get(f"{SEGMENTS}{segment.id}/count/", follow=True).content.decode()

    assert "“Berliners” (acme): 3 contacts." in listed
    assert "“Berliners” (acme): 3 contacts." in linked


def test_the_freeze_action_stores_the_members(superuser_client: Client, cast: Cast) -> None:
    ContactFactory(workspace=cast.workspace, city="Berlin")
    segment = services.segment_create(workspace=cast.workspace, name="Berliners", rules=BERLIN)

    superuser_client.post(SEGMENTS, {"action": "freeze_now", "_selected_action": [segment.id]})

    segment.refresh_from_db()
    assert (segment.kind, segment.frozen_count) == ("static", 1)


def test_deleting_a_segment_that_another_includes_is_refused_with_a_message(
    superuser_client: Client, cast: Cast
) -> None:
    base = services.segment_create(workspace=cast.workspace, name="Base", rules={"all": []})
    services.segment_create(workspace=cast.workspace, name="Uses base", rules={"segment": base.id})

    response = superuser_client.post(f"{SEGMENTS}{base.id}/delete/", {"post": "yes"}, follow=True)

    assert "is included in “Uses base”" in response.content.decode()
    assert Segment.objects.filter(id=base.id).exists()


def test_export_then_import_into_another_workspace_checks_rules_there(
    superuser_client: Client, cast: Cast
) -> None:
    TagFactory(workspace=cast.workspace, name="Newsletter")
    TagFactory(workspace=cast.other_workspace, name="newsletter")
    services.segment_create(workspace=cast.workspace, name="Readers", rules={"tag": "Newsletter"})
    services.segment_create(workspace=cast.workspace, name="Berliners", rules=BERLIN, is_exclusion=True)
    fields = {
        f"segmentresource_{name}": "on" for name in ("workspace", "name", "kind", "is_exclusion", "rules")
    }
    exported = superuser_client.post(
        f"{SEGMENTS}export/", {"format": "0", "resource": "0", **fields}
    ).content.decode()
    rows = exported.replace("acme,", "rival,") + 'rival,Broken,dynamic,0,"{""tag"": ""nope""}"\n'

    upload = SimpleUploadedFile("segments.csv", rows.encode(), content_type="text/csv")
    preview = superuser_client.post(
        f"{SEGMENTS}import/", {"format": "0", "import_file": upload, "resource": "0"}
    )
    superuser_client.post(f"{SEGMENTS}process_import/", preview.context["confirm_form"].initial)

    invalid = {row.number: row.field_specific_errors for row in preview.context["result"].invalid_rows}
    assert "There is no tag “nope” in this workspace." in str(invalid[3]["rules"])
    imported = Segment.objects.filter(workspace=cast.other_workspace)
    assert sorted((s.name, s.is_exclusion, s.rules) for s in imported) == [
        ("Berliners", True, BERLIN),
        ("Readers", False, {"tag": "Newsletter"}),
    ]
