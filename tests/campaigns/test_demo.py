"""The demo campaigns: one spring launch across seven channels and a small follow-up, all drafts,
loaded once."""

from __future__ import annotations

import pytest

from apps.campaigns import services
from apps.campaigns.demo import (
    ABANDONED_CART,
    DO_NOT_TARGET,
    HIGH_VALUE,
    HIKERS_NEAR_STORES,
    SPRING,
    YOUNG_FAMILIES,
)
from apps.campaigns.models import Campaign, ChannelItem
from apps.workspaces.demo import seed_demo

pytestmark = pytest.mark.django_db


def _names(related) -> list[str]:  # type: ignore[no-untyped-def]
    return sorted(obj.name for obj in related.all())


def test_seed_demo_loads_the_campaigns_once_and_leaves_them_drafts() -> None:
    seed_demo()
    first = dict(ChannelItem.objects.values_list("id", "updated_at"))

    seed_demo()

    assert dict(ChannelItem.objects.values_list("id", "updated_at")) == first
    assert sorted(Campaign.objects.values_list("name", flat=True)) == [ABANDONED_CART, SPRING]
    assert set(ChannelItem.objects.values_list("status", flat=True)) == {"draft"}


def test_the_spring_launch_tells_one_story_in_every_channel() -> None:
    seed_demo()

    spring = Campaign.objects.select_related("owner_team").get(name=SPRING)
    items = {item.channel: item for item in spring.items.all()}
    email, text, postcard = items["email"], items["sms"], items["direct_mail"]

    assert set(items) == {"email", "sms", "social", "direct_mail", "in_store", "call_centre"}
    assert spring.owner_team.kind == "marketing"
    assert spring.starts_on < spring.ends_on
    assert spring.personas.count() == 2
    assert email.subject == '{{ first_name|default:"Hello" }}, the spring collection is here'
    assert email.from_email == "hello@acme.example"
    assert _names(email.segments) == sorted([YOUNG_FAMILIES, HIKERS_NEAR_STORES])
    assert _names(email.exclusions) == [DO_NOT_TARGET]
    assert items["social"].placement == "Instagram"
    assert _names(postcard.segments) == [HIGH_VALUE]
    for item in (email, text, postcard):  # ready for sign-off: nothing missing, every merge tag known
        assert services.schedule_problems(item) == {}, item.name
