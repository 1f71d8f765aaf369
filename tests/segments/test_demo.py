"""The demo data's segments: loaded once, named in the marketers' words, each one counts."""

from __future__ import annotations

import pytest

from apps.segments import selectors
from apps.segments.models import Segment
from apps.workspaces.demo import DEMO_SEGMENTS, seed_demo

pytestmark = pytest.mark.django_db


def test_seed_demo_gives_acme_its_segments_once() -> None:
    seed_demo()
    demo_segments = Segment.objects.filter(persona__isnull=True)  # personas have their own segments
    first = dict(demo_segments.values_list("name", "updated_at"))

    seed_demo()

    assert set(first) == {spec["name"] for spec in DEMO_SEGMENTS}
    assert dict(demo_segments.values_list("name", "updated_at")) == first
    for segment in Segment.objects.select_related("workspace"):
        assert selectors.segment_problems(segment=segment) == []
        assert 0 < selectors.segment_count(segment=segment) < 2000, segment.name
    snapshot = Segment.objects.get(name="Spring sale 2026 buyers (snapshot)")
    assert snapshot.is_static
    assert snapshot.frozen_count
    assert Segment.objects.get(name="Do not target: opted out, press, wholesale").is_exclusion
