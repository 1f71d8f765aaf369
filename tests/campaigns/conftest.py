"""Fixtures of the campaign tests: a segment with contacts, a campaign, an email item (viewers and
approvers come from tests/conftest.py)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from apps.campaigns import services
from apps.campaigns.models import Campaign, ChannelItem
from apps.contacts.models import Contact
from apps.segments import services as segment_services
from apps.segments.models import Segment
from tests.conftest import Cast
from tests.factories import ContactFactory, TagFactory


@dataclass
class Audience:
    segment: Segment
    exclusion: Segment
    anna: Contact
    ben: Contact
    complainer: Contact


@pytest.fixture
def audience(cast: Cast) -> Audience:
    """Anna (Berlin) and Ben (Tokyo) are customers; a complainer is a customer in the exclusion."""
    customer = TagFactory(workspace=cast.workspace, name="customer")
    complaint = TagFactory(workspace=cast.workspace, name="complaint")
    anna = ContactFactory(
        workspace=cast.workspace, email="anna@example.com", first_name="Anna", last_name="Schmidt",
        timezone="Europe/Berlin", address_line1="Torstraße 1", postal_code="10119", city="Berlin", country="DE",
        tags=[customer],
    )  # fmt: skip
    ben = ContactFactory(
        workspace=cast.workspace, email="ben@example.com", first_name="", last_name="Ito",
        timezone="Asia/Tokyo", address_line1="", city="Tokyo", tags=[customer],
    )  # fmt: skip
    complainer = ContactFactory(
        workspace=cast.workspace, email="c@example.com", first_name="Carl", address_line1="Weg 2", city="Köln",
        tags=[customer, complaint],
    )  # fmt: skip
    segment = segment_services.segment_create(
        workspace=cast.workspace, name="Customers", rules={"tag": "customer"}
    )
    exclusion = segment_services.segment_create(
        workspace=cast.workspace, name="Complaints", rules={"tag": "complaint"}, is_exclusion=True
    )
    return Audience(segment=segment, exclusion=exclusion, anna=anna, ben=ben, complainer=complainer)


@pytest.fixture
def campaign(cast: Cast) -> Campaign:
    cast.workspace.postal_address = "Acme Outdoor GmbH, Torstraße 1, 10119 Berlin"
    cast.workspace.time_zone = "Europe/Berlin"
    cast.workspace.save()
    return services.campaign_create(
        workspace=cast.workspace, actor=cast.owner, name="Spring launch", goal="Sell the spring range"
    )


@pytest.fixture
def email_item(campaign: Campaign, audience: Audience) -> ChannelItem:
    return services.item_create(
        campaign=campaign,
        channel="email",
        name="Launch email",
        from_email="shop@acme.example",
        subject='{{ first_name|default:"Hello" }}, spring is here',
        preheader="New boots and tents",
        body_html="<p>Hi {{ first_name }}, our spring range is in.</p>",
        body_text="Hi {{ first_name }}, our spring range is in.",
        segments=[audience.segment],
        exclusions=[audience.exclusion],
    )
