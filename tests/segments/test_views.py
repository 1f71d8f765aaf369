"""Segment pages: the list, the builder (with and without htmx), the live preview, the segment's page,
freezing, deleting, the overlap matrix, tag suggestions."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from apps.segments import services
from apps.segments.models import Segment
from tests.conftest import Cast
from tests.factories import ContactFactory, CustomFieldFactory, TagFactory

pytestmark = pytest.mark.django_db

BASE = "/w/acme/segments/"
HTMX = {"HTTP_HX_REQUEST": "true"}
BERLIN = {"field": "city", "op": "eq", "value": "Berlin"}


def _page(response) -> str:
    """The page's HTML with runs of white space as one space, so attributes read on one line."""
    return re.sub(r"\s+", " ", response.content.decode())


def _form(name: str = "Berliners", **rules: str) -> dict[str, str]:
    """The builder's fields for one condition: city is Berlin, unless given otherwise."""
    return {
        "name": name,
        "kind": "dynamic",
        "editing": "",
        "r:type": "all",
        "r-0:type": "field",
        "r-0:field": rules.get("field", "city"),
        "r-0:op": rules.get("op", "eq"),
        "r-0:value": rules.get("value", "Berlin"),
    }


def test_the_list_shows_segments_with_lazy_counts_and_bounded_queries(
    member_client: Client, cast: Cast, django_assert_max_num_queries
) -> None:
    for n in range(3):
        services.segment_create(workspace=cast.workspace, name=f"Segment {n}", rules={"all": []})
    with django_assert_max_num_queries(12) as few:
        member_client.get(BASE)
    for n in range(3, 25):
        services.segment_create(workspace=cast.workspace, name=f"Segment {n}", rules={"all": []})

    with django_assert_max_num_queries(len(few.captured_queries)):
        page = member_client.get(BASE).content.decode()

    assert page.count('name="ids"') == 25
    assert page.count('hx-trigger="revealed"') == 25
    assert "New segment" in page


def test_the_navigation_links_segments(member_client: Client, cast: Cast) -> None:
    page = member_client.get("/w/acme/").content.decode()

    assert f'href="{BASE}"' in page


def test_an_empty_workspace_explains_segments(member_client: Client, cast: Cast) -> None:
    page = member_client.get(BASE).content.decode()

    assert "No segments yet" in page
    assert "Build your first segment" in page


def test_saving_the_builder_form_creates_the_segment(member_client: Client, cast: Cast) -> None:
    response = member_client.post(f"{BASE}new/", _form())

    segment = Segment.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"{BASE}{segment.id}/"
    assert segment.rules == {"all": [BERLIN]}
    assert segment.created_by == cast.member


def test_a_bad_rule_comes_back_with_its_problem_beside_it(member_client: Client, cast: Cast) -> None:
    response = member_client.post(f"{BASE}new/", _form(field="age", op="gt", value="thirty"))

    page = response.content.decode()
    assert response.status_code == 422
    assert "Nothing was saved" in page
    assert "Give a number, e.g. 30" in page
    assert 'id="node-r-0"' in page
    assert not Segment.objects.exists()


def test_without_javascript_builder_buttons_change_the_rules_and_save_nothing(
    member_client: Client, cast: Cast
) -> None:
    ContactFactory.create_batch(2, workspace=cast.workspace, city="Berlin")

    response = member_client.post(f"{BASE}new/", {**_form(), "builder_action": "negate:r-0"})

    page = response.content.decode()
    assert response.status_code == 200
    assert 'name="r-0:type" value="not"' in page
    assert 'name="r-0-0:field"' in page
    assert "0</strong> contacts match" in page  # the preview, computed on the page
    assert not Segment.objects.exists()


def test_the_builder_adds_nests_and_removes_rules_with_htmx(member_client: Client, cast: Cast) -> None:
    added = member_client.post(f"{BASE}builder/", {**_form(), "builder_action": "add-any:r"}, **HTMX)
    assert 'name="r-1:type"' in added.content.decode()
    assert added["HX-Trigger-After-Settle"] == '{"rules-changed": {}}'

    nested = member_client.post(
        f"{BASE}builder/", {**_form(), "r-1:type": "any", "builder_action": "add-tag:r-1"}, **HTMX
    ).content.decode()
    assert 'name="r-1-0:tag"' in nested
    assert "Name a tag" in nested

    removed = member_client.post(
        f"{BASE}builder/", {**_form(), "r-1:type": "any", "builder_action": "remove:r-1"}, **HTMX
    ).content.decode()
    assert 'name="r-1:type"' not in removed


def test_changing_the_field_offers_its_operators_and_value_input(member_client: Client, cast: Cast) -> None:
    page = _page(member_client.post(f"{BASE}builder/", {**_form(field="gender", op="in", value="")}, **HTMX))

    assert 'value="in" selected' in page
    assert '<input type="checkbox" name="r-0:values" value="female" >' in page
    assert 'value="contains"' not in page


def test_the_preview_counts_the_posted_rules_and_shows_the_share(member_client: Client, cast: Cast) -> None:
    ContactFactory.create_batch(3, workspace=cast.workspace, city="Berlin")
    ContactFactory(workspace=cast.workspace, city="Köln", first_name="Kim", last_name="Roth")

    response = member_client.post(f"{BASE}preview/", _form(value="Köln"), **HTMX)

    page = response.content.decode()
    assert "<strong>1</strong> contact matches" in page
    assert "25% of all 4 contacts" in page
    assert "Kim Roth" in page


def test_the_preview_of_unfinished_rules_asks_to_finish_them(member_client: Client, cast: Cast) -> None:
    page = member_client.post(f"{BASE}preview/", _form(value=""), **HTMX).content.decode()

    assert "Finish the highlighted rule to see who matches." in page


def test_custom_fields_are_offered_in_the_builder(member_client: Client, cast: Cast) -> None:
    CustomFieldFactory(workspace=cast.workspace, key="shoe_size", label="Shoe size", field_type="number")

    page = _page(member_client.post(f"{BASE}builder/", {**_form(), "builder_action": "add-field:r"}, **HTMX))

    assert '<optgroup label="Custom fields"> <option value="custom.shoe_size" >Shoe size</option>' in page


def test_tag_suggestions_match_any_case(member_client: Client, cast: Cast) -> None:
    for name in ("Newsletter", "News 2026", "Hiking"):
        TagFactory(workspace=cast.workspace, name=name)
    TagFactory(workspace=cast.other_workspace, name="Newsroom")

    page = member_client.get(f"{BASE}tags/", {"r-0:tag": "NEWS"}, **HTMX).content.decode()

    assert '<option value="News 2026"></option>' in page
    assert '<option value="Newsletter"></option>' in page
    assert "Hiking" not in page
    assert "Newsroom" not in page


def test_the_segment_page_shows_the_rules_in_words_and_counts_lazily(
    member_client: Client, cast: Cast
) -> None:
    ContactFactory(workspace=cast.workspace, city="Berlin", first_name="Ada", last_name="Berg")
    segment = services.segment_create(
        workspace=cast.workspace,
        name="Berliners",
        rules={"all": [BERLIN, {"not": {"field": "age", "op": "lt", "value": 18}}]},
    )

    page = member_client.get(f"{BASE}{segment.id}/").content.decode()
    count = member_client.get(f"{BASE}{segment.id}/count/", **HTMX).content.decode()
    without_js = member_client.get(f"{BASE}{segment.id}/?count=1").content.decode()

    assert "City is Berlin" in page
    assert "Not this" in page
    assert "Age is less than 18" in page
    assert "<strong>1</strong> contact" in count
    assert "Ada Berg" in count
    assert "100% of all 1 contacts" in without_js


def test_freezing_from_the_segment_page(member_client: Client, cast: Cast) -> None:
    ContactFactory(workspace=cast.workspace, city="Berlin")
    segment = services.segment_create(workspace=cast.workspace, name="Berliners", rules=BERLIN)

    copy = member_client.post(f"{BASE}{segment.id}/freeze/", {"name": "Berliners, March"}, follow=True)
    in_place = member_client.post(f"{BASE}{segment.id}/freeze/", follow=True)

    snapshot = Segment.objects.get(name="Berliners, March")
    assert "“Berliners, March” frozen with 1 contacts" in copy.content.decode()
    assert (snapshot.kind, snapshot.frozen_count) == ("static", 1)
    assert "“Berliners” frozen with 1 contacts" in in_place.content.decode()
    segment.refresh_from_db()
    assert segment.is_static


def test_deleting_a_segment_included_elsewhere_explains_why_not(member_client: Client, cast: Cast) -> None:
    base = services.segment_create(workspace=cast.workspace, name="Base", rules={"all": []})
    services.segment_create(workspace=cast.workspace, name="Uses base", rules={"segment": base.id})

    page = member_client.post(f"{BASE}{base.id}/delete/", follow=True).content.decode()

    assert "is included in “Uses base”" in page
    assert Segment.objects.filter(id=base.id).exists()


def test_the_overlap_matrix_of_ticked_segments(member_client: Client, cast: Cast) -> None:
    vip = TagFactory(workspace=cast.workspace, name="vip")
    ContactFactory.create_batch(2, workspace=cast.workspace, city="Berlin", tags=[vip])
    ContactFactory(workspace=cast.workspace, city="Berlin")
    berlin = services.segment_create(workspace=cast.workspace, name="Berliners", rules=BERLIN)
    vips = services.segment_create(workspace=cast.workspace, name="VIPs", rules={"tag": "vip"})

    partial = member_client.get(f"{BASE}overlap/", {"ids": [berlin.id, vips.id]}, **HTMX).content.decode()
    alone = member_client.get(f"{BASE}overlap/", {"ids": [berlin.id]}).content.decode()

    assert '<div id="overlap-matrix">' in partial
    assert "<h1>" not in partial
    assert "out of 3 contacts" in partial
    assert "66.7%" in partial  # 2 of the 3 Berliners are VIPs
    assert "Tick 2 to 10 segments to compare." in alone


def test_another_workspaces_segments_never_reach_the_overlap(member_client: Client, cast: Cast) -> None:
    theirs = services.segment_create(workspace=cast.other_workspace, name="Rival secret", rules={"all": []})
    mine = services.segment_create(workspace=cast.workspace, name="Mine", rules={"all": []})

    page = member_client.get(f"{BASE}overlap/", {"ids": [mine.id, theirs.id]}).content.decode()

    assert "Rival secret" not in page
    assert "Tick 2 to 10 segments to compare." in page


def test_viewers_see_segments_but_cannot_build_or_freeze(viewer_client: Client, cast: Cast) -> None:
    segment = services.segment_create(workspace=cast.workspace, name="All", rules={"all": []})

    page = viewer_client.get(BASE).content.decode()

    assert "New segment" not in page
    assert viewer_client.get(f"{BASE}{segment.id}/").status_code == 200
    assert viewer_client.get(f"{BASE}new/").status_code == 403
    assert viewer_client.post(f"{BASE}{segment.id}/freeze/").status_code == 403
    assert viewer_client.post(f"{BASE}{segment.id}/delete/").status_code == 403
