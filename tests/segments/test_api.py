"""`/api/v1/segments/`: CRUD, counts, members, previews, snapshots, overlap; errors by JSON path."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from apps.segments import services
from apps.segments.models import Segment
from tests.conftest import Cast
from tests.factories import ContactFactory, TagFactory

pytestmark = pytest.mark.django_db

LIST = "/api/v1/segments/"
YOUNG_FAMILIES = {
    "all": [
        {"field": "gender", "op": "eq", "value": "female"},
        {"field": "age", "op": "between", "value": [25, 35]},
        {"field": "children_in_household", "op": "gte", "value": 1},
        {"tag": "newsletter"},
        {"not": {"tag": "churned"}},
    ]
}


@pytest.fixture
def families(cast: Cast) -> dict[str, Any]:
    newsletter = TagFactory(workspace=cast.workspace, name="Newsletter")
    churned = TagFactory(workspace=cast.workspace, name="Churned")
    mum = ContactFactory(
        workspace=cast.workspace, gender="female", age=31, children_in_household=2, tags=[newsletter]
    )
    ContactFactory(
        workspace=cast.workspace, gender="female", age=31, children_in_household=2, tags=[newsletter, churned]
    )
    ContactFactory(
        workspace=cast.workspace, gender="female", age=40, children_in_household=1, tags=[newsletter]
    )
    ContactFactory(
        workspace=cast.workspace, gender="male", age=30, children_in_household=1, tags=[newsletter]
    )
    return {"mum": mum}


def test_create_returns_the_rules_exactly_as_sent(owner_api: APIClient, families: dict[str, Any]) -> None:
    response = owner_api.post(
        LIST,
        {"name": "Young families", "rules": YOUNG_FAMILIES, "description": "For the spring catalogue"},
        format="json",
    )

    body = response.json()
    assert response.status_code == 201
    assert body["rules"] == YOUNG_FAMILIES
    assert (body["kind"], body["is_exclusion"], body["frozen_at"], body["created_by"]) == (
        "dynamic",
        False,
        None,
        "owner@acme.example",
    )


def test_bad_rules_answer_400_naming_each_path_and_why(
    owner_api: APIClient, families: dict[str, Any]
) -> None:
    rules = {
        "all": [
            {"tag": "vip"},
            {"any": [{"tag": "newsletter"}, {"field": "town", "op": "eq", "value": "Berlin"}]},
            {"field": "age", "op": "contains", "value": "3"},
            {"field": "age", "op": "between", "value": [25]},
        ]
    }

    response = owner_api.post(LIST, {"name": "Broken", "rules": rules}, format="json")

    error = response.json()["error"]
    assert response.status_code == 400
    assert error["code"] == "invalid"
    assert error["message"].startswith(
        "The rules are not valid. all[0].tag: There is no tag “vip” in this workspace."
    )
    assert error["fields"]["rules"] == {
        "all": {
            "0": {"tag": ["There is no tag “vip” in this workspace."]},
            "1": {
                "any": {
                    "1": {
                        "field": [
                            "There is no field “town”. Fields are contact fields, custom.<key>, created_at, updated_at."
                        ]
                    }
                }
            },
            "2": {
                "op": [
                    "“contains” does not apply to age (number field); use one of: eq, neq, in, not_in, is_empty, "
                    "is_not_empty, gt, gte, lt, lte, between."
                ]
            },
            "3": {"value": ["“between” takes two values, lowest first, e.g. [25, 35]."]},
        }
    }
    assert not Segment.objects.exists()


@pytest.mark.parametrize("rules", [None, "all", [], 3])
def test_rules_that_are_not_a_tree_are_a_400_never_a_500(
    owner_api: APIClient, cast: Cast, rules: Any
) -> None:
    response = owner_api.post(LIST, {"name": "Odd", "rules": rules}, format="json")

    assert response.status_code == 400
    assert "rules" in response.json()["error"]["fields"]


def test_json_nested_too_deep_to_parse_is_a_400(owner_api: APIClient, cast: Cast) -> None:
    body = '{"rules": ' + '{"not": ' * 5000 + "{}" + "}" * 5000 + "}"

    response = owner_api.post(f"{LIST}preview/", body, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "parse_error"


def test_count_and_contacts_of_a_segment(owner_api: APIClient, cast: Cast, families: dict[str, Any]) -> None:
    segment = services.segment_create(workspace=cast.workspace, name="Young families", rules=YOUNG_FAMILIES)

    count = owner_api.get(f"{LIST}{segment.id}/count/")
    contacts = owner_api.get(f"{LIST}{segment.id}/contacts/", {"page_size": 10})

    assert count.json() == {"count": 1}
    assert contacts.json()["count"] == 1
    assert [row["id"] for row in contacts.json()["results"]] == [families["mum"].id]
    assert contacts.json()["results"][0]["tags"] == ["Newsletter"]


def test_preview_counts_unsaved_rules_with_a_sample(viewer_api: APIClient, families: dict[str, Any]) -> None:
    response = viewer_api.post(f"{LIST}preview/", {"rules": YOUNG_FAMILIES}, format="json")

    assert response.status_code == 200
    assert response.json()["count"] == 1
    assert [row["email"] for row in response.json()["sample"]] == [families["mum"].email]


def test_preview_of_bad_rules_names_the_problem(owner_api: APIClient, cast: Cast) -> None:
    response = owner_api.post(
        f"{LIST}preview/", {"rules": {"not": {"field": "age", "op": "gt"}}}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["error"]["fields"]["rules"] == {"not": {"value": ["Fill in a value."]}}


def test_freeze_in_place_and_as_a_named_copy(
    owner_api: APIClient, cast: Cast, families: dict[str, Any]
) -> None:
    segment = services.segment_create(workspace=cast.workspace, name="Young families", rules=YOUNG_FAMILIES)

    copy = owner_api.post(f"{LIST}{segment.id}/freeze/", {"name": "Young families, March"}, format="json")
    in_place = owner_api.post(f"{LIST}{segment.id}/freeze/", {}, format="json")

    assert copy.status_code == 201
    assert (copy.json()["kind"], copy.json()["frozen_count"], copy.json()["name"]) == (
        "static",
        1,
        "Young families, March",
    )
    assert in_place.status_code == 200
    assert (in_place.json()["id"], in_place.json()["kind"], in_place.json()["frozen_count"]) == (
        segment.id,
        "static",
        1,
    )


def test_patch_changes_what_is_sent_and_put_resets_what_is_left_out(owner_api: APIClient, cast: Cast) -> None:
    segment = services.segment_create(
        workspace=cast.workspace, name="All", rules={"all": []}, description="Everyone", is_exclusion=True
    )

    patched = owner_api.patch(f"{LIST}{segment.id}/", {"name": "Everyone"}, format="json").json()
    put = owner_api.put(
        f"{LIST}{segment.id}/", {"name": "Everyone", "rules": {"any": []}}, format="json"
    ).json()

    assert (patched["name"], patched["description"], patched["is_exclusion"]) == (
        "Everyone",
        "Everyone",
        True,
    )
    assert (put["rules"], put["description"], put["is_exclusion"]) == ({"any": []}, "", False)


def test_deleting_an_included_segment_is_refused_with_the_reason(owner_api: APIClient, cast: Cast) -> None:
    base = services.segment_create(workspace=cast.workspace, name="Base", rules={"all": []})
    services.segment_create(workspace=cast.workspace, name="Uses base", rules={"segment": base.id})

    response = owner_api.delete(f"{LIST}{base.id}/")

    assert response.status_code == 400
    assert (
        response.json()["error"]["message"]
        == "“Base” is included in “Uses base”: remove it from their rules first."
    )


def test_overlap_of_segments(owner_api: APIClient, cast: Cast, families: dict[str, Any]) -> None:
    young = services.segment_create(workspace=cast.workspace, name="Young families", rules=YOUNG_FAMILIES)
    news = services.segment_create(workspace=cast.workspace, name="Newsletter", rules={"tag": "newsletter"})

    response = owner_api.get(f"{LIST}overlap/", {"ids": f"{young.id},{news.id}"})

    assert response.json() == {
        "total": 4,
        "segments": [
            {"id": young.id, "name": "Young families", "count": 1},
            {"id": news.id, "name": "Newsletter", "count": 4},
        ],
        "matrix": [[1, 1], [1, 4]],
    }


@pytest.mark.parametrize(
    ("ids", "message"),
    [("1", "Give 2 to 10 different segment ids."), ("1,x", "Give segment ids as whole numbers: ?ids=1,2,3.")],
)
def test_overlap_explains_bad_ids(owner_api: APIClient, cast: Cast, ids: str, message: str) -> None:
    response = owner_api.get(f"{LIST}overlap/", {"ids": ids})

    assert response.status_code == 400
    assert response.json()["error"]["fields"]["ids"] == [message]


def test_viewers_read_count_and_preview_but_never_write(viewer_api: APIClient, cast: Cast) -> None:
    segment = services.segment_create(workspace=cast.workspace, name="All", rules={"all": []})

    assert viewer_api.get(LIST).status_code == 200
    assert viewer_api.get(f"{LIST}{segment.id}/count/").status_code == 200
    assert viewer_api.post(f"{LIST}preview/", {"rules": {"all": []}}, format="json").status_code == 200
    assert viewer_api.post(LIST, {"name": "Mine", "rules": {"all": []}}, format="json").status_code == 403
    assert viewer_api.post(f"{LIST}{segment.id}/freeze/", {}, format="json").status_code == 403
    assert viewer_api.delete(f"{LIST}{segment.id}/").status_code == 403


def test_the_list_query_count_does_not_grow_with_the_segments(
    owner_api: APIClient, cast: Cast, django_assert_max_num_queries
) -> None:
    for n in range(3):
        services.segment_create(
            workspace=cast.workspace, name=f"Segment {n}", rules={"all": []}, actor=cast.owner
        )
    with django_assert_max_num_queries(8) as few:
        owner_api.get(LIST)
    for n in range(3, 30):
        services.segment_create(
            workspace=cast.workspace, name=f"Segment {n}", rules={"all": []}, actor=cast.owner
        )

    with django_assert_max_num_queries(len(few.captured_queries)):
        response = owner_api.get(LIST)

    assert response.json()["count"] == 30
