"""Segment services: create, update, freeze (set-based), delete; overlap and audiences."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.contacts import services as contact_services
from apps.segments import selectors, services
from apps.segments.models import Segment, SegmentKind, SegmentMember
from apps.segments.rules import RulesError
from tests.conftest import Cast
from tests.factories import ContactFactory, TagFactory

pytestmark = pytest.mark.django_db

BERLIN = {"field": "city", "op": "eq", "value": "Berlin"}


def _members(segment: Segment) -> set[int]:
    return set(SegmentMember.objects.filter(segment_id=segment.id).values_list("contact_id", flat=True))


def test_segment_create_refuses_a_name_taken_in_any_case_and_names_rule_problems_too(cast: Cast) -> None:
    services.segment_create(workspace=cast.workspace, name="Berliners", rules=BERLIN)

    with pytest.raises(RulesError) as raised:
        services.segment_create(workspace=cast.workspace, name="  berliners ", rules={"tag": "nope"})

    assert raised.value.message_dict == {
        "name": ["There is already a segment “berliners” in this workspace."],
        "rules": ["tag: There is no tag “nope” in this workspace."],
    }


def test_segment_create_strips_the_name_and_keeps_the_rules_as_given(cast: Cast) -> None:
    segment = services.segment_create(
        workspace=cast.workspace, name="  Berliners ", rules=BERLIN, actor=cast.owner
    )

    assert (segment.name, segment.rules, segment.kind, segment.created_by) == (
        "Berliners",
        BERLIN,
        SegmentKind.DYNAMIC,
        cast.owner,
    )


def test_a_static_segment_is_frozen_when_created(cast: Cast) -> None:
    berliners = {ContactFactory(workspace=cast.workspace, city="Berlin").id for _ in range(3)}
    ContactFactory(workspace=cast.workspace, city="Köln")

    segment = services.segment_create(workspace=cast.workspace, name="Berlin", rules=BERLIN, kind="static")

    assert segment.is_static
    assert segment.frozen_at is not None
    assert segment.frozen_count == 3
    assert _members(segment) == berliners
    assert selectors.segment_count(segment=segment) == 3


def test_freezing_is_two_set_based_statements_whatever_the_size(cast: Cast) -> None:
    ContactFactory.create_batch(60, workspace=cast.workspace, city="Berlin")
    segment = services.segment_create(workspace=cast.workspace, name="Berlin", rules=BERLIN)

    with CaptureQueriesContext(connection) as queries:
        services.segment_freeze(segment=segment)

    writes = [q["sql"] for q in queries.captured_queries if "segments_segmentmember" in q["sql"]]
    assert len(writes) == 2
    assert writes[0].startswith("DELETE FROM")
    assert writes[1].startswith("INSERT INTO segments_segmentmember (segment_id, contact_id) SELECT")
    assert len(_members(segment)) == 60


def test_freezing_a_copy_keeps_the_dynamic_segment_as_it_is(cast: Cast) -> None:
    first = ContactFactory(workspace=cast.workspace, city="Berlin").id
    dynamic = services.segment_create(workspace=cast.workspace, name="Berlin", rules=BERLIN)

    snapshot = services.segment_freeze(segment=dynamic, name="Berlin in March", actor=cast.member)
    later = ContactFactory(workspace=cast.workspace, city="Berlin").id
    dynamic.refresh_from_db()

    assert not dynamic.is_static
    assert (snapshot.kind, snapshot.rules, snapshot.created_by) == (SegmentKind.STATIC, BERLIN, cast.member)
    assert set(selectors.segment_contacts(segment=snapshot).values_list("id", flat=True)) == {first}
    assert set(selectors.segment_contacts(segment=dynamic).values_list("id", flat=True)) == {first, later}


def test_freezing_again_replaces_the_members(cast: Cast) -> None:
    first = ContactFactory(workspace=cast.workspace, city="Berlin")
    segment = services.segment_create(workspace=cast.workspace, name="Berlin", rules=BERLIN, kind="static")
    first.city = "Köln"
    first.save()
    second = ContactFactory(workspace=cast.workspace, city="Berlin").id

    services.segment_freeze(segment=segment)

    assert _members(segment) == {second}


def test_new_rules_refreeze_a_static_segment_and_turning_it_dynamic_drops_members(cast: Cast) -> None:
    berlin = ContactFactory(workspace=cast.workspace, city="Berlin").id
    cologne = ContactFactory(workspace=cast.workspace, city="Köln").id
    segment = services.segment_create(workspace=cast.workspace, name="City", rules=BERLIN, kind="static")

    services.segment_update(segment=segment, rules={"field": "city", "op": "eq", "value": "Köln"})
    assert _members(segment) == {cologne}

    updated = services.segment_update(segment=segment, kind="dynamic")
    assert (updated.kind, updated.frozen_at, updated.frozen_count, _members(segment)) == (
        "dynamic",
        None,
        None,
        set(),
    )
    assert berlin not in set(selectors.segment_contacts(segment=updated).values_list("id", flat=True))


def test_an_update_cannot_close_a_loop_between_segments(cast: Cast) -> None:
    first = services.segment_create(workspace=cast.workspace, name="First", rules={"all": []})
    second = services.segment_create(workspace=cast.workspace, name="Second", rules={"segment": first.id})

    with pytest.raises(RulesError) as raised:
        services.segment_update(segment=first, rules={"not": {"segment": second.id}})

    assert raised.value.message_dict["rules"] == [
        "not.segment: “Second” → this segment: including it here would make a loop."
    ]


def test_a_segment_included_by_another_cannot_be_deleted(cast: Cast) -> None:
    base = services.segment_create(workspace=cast.workspace, name="Base", rules={"all": []})
    services.segment_create(workspace=cast.workspace, name="Uses base", rules={"not": {"segment": base.id}})

    with pytest.raises(ValidationError, match="“Base” is included in “Uses base”"):
        services.segment_delete(segment=base)


def test_deleting_a_static_segment_deletes_its_members_but_no_contact(cast: Cast) -> None:
    ContactFactory.create_batch(2, workspace=cast.workspace, city="Berlin")
    segment = services.segment_create(workspace=cast.workspace, name="Berlin", rules=BERLIN, kind="static")

    services.segment_delete(segment=segment)

    assert not SegmentMember.objects.exists()
    assert cast.workspace.contacts.count() == 2


def test_erasing_a_contact_takes_it_out_of_every_snapshot(cast: Cast) -> None:
    leaving, staying = ContactFactory.create_batch(2, workspace=cast.workspace, city="Berlin")
    segment = services.segment_create(workspace=cast.workspace, name="Berlin", rules=BERLIN, kind="static")

    contact_services.contact_erase(contact=leaving)

    assert _members(segment) == {staying.id}


def test_overlap_counts_every_pair_in_one_statement(cast: Cast) -> None:
    vip = TagFactory(workspace=cast.workspace, name="vip")
    both = ContactFactory.create_batch(2, workspace=cast.workspace, city="Berlin", tags=[vip])
    ContactFactory.create_batch(3, workspace=cast.workspace, city="Berlin")
    ContactFactory(workspace=cast.workspace, city="Köln", tags=[vip])
    berlin = services.segment_create(workspace=cast.workspace, name="Berlin", rules=BERLIN)
    vips = services.segment_create(workspace=cast.workspace, name="VIP", rules={"tag": "vip"}, kind="static")
    nobody = services.segment_create(workspace=cast.workspace, name="Nobody", rules={"any": []})

    with CaptureQueriesContext(connection) as queries:
        overlap = selectors.segment_overlap(workspace=cast.workspace, segments=[berlin, vips, nobody])

    assert overlap.counts == [5, 3, 0]
    assert overlap.matrix == [[5, len(both), 0], [2, 3, 0], [0, 0, 0]]
    assert sum('"contacts_contact"' in q["sql"] for q in queries.captured_queries) == 1


def test_an_audience_is_any_included_segment_minus_every_exclusion(cast: Cast) -> None:
    complained = TagFactory(workspace=cast.workspace, name="complained")
    keep = ContactFactory(workspace=cast.workspace, city="Berlin").id
    ContactFactory(workspace=cast.workspace, city="Berlin", tags=[complained])
    ContactFactory(workspace=cast.workspace, city="Köln")
    berlin = services.segment_create(workspace=cast.workspace, name="Berlin", rules=BERLIN)
    excluded = services.segment_create(
        workspace=cast.workspace, name="Complaints", rules={"tag": "complained"}, is_exclusion=True
    )

    audience = selectors.audience_contacts(workspace=cast.workspace, include=[berlin], exclude=[excluded])

    assert set(audience.values_list("id", flat=True)) == {keep}
    assert excluded.is_exclusion


def test_a_member_whose_contact_vanished_outside_django_is_never_counted(cast: Cast) -> None:
    gone, kept = ContactFactory.create_batch(2, workspace=cast.workspace, city="Berlin")
    segment = services.segment_create(workspace=cast.workspace, name="Berlin", rules=BERLIN, kind="static")

    with connection.cursor() as cursor:  # no database constraint on the snapshot table: see the model
        cursor.execute("DELETE FROM contacts_contact WHERE id = %s", [gone.id])

    assert selectors.segment_count(segment=segment) == 1
    assert list(selectors.segment_contacts(segment=segment).values_list("id", flat=True)) == [kept.id]
