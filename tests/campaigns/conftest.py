"""Fixtures of the campaign tests: a segment with contacts, a campaign, a viewer and an approver."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.test import Client
from rest_framework.test import APIClient

from apps.campaigns import services
from apps.campaigns.models import Campaign, ChannelItem
from apps.contacts.models import Contact
from apps.core.roles import Role
from apps.segments import services as segment_services
from apps.segments.models import Segment
from apps.workspaces.models import Membership
from tests.conftest import Cast
from tests.factories import ContactFactory, MembershipFactory, TagFactory, issue_token


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


@pytest.fixture
def approver_membership(cast: Cast) -> Membership:
    return MembershipFactory(workspace=cast.workspace, role=Role.APPROVER)


@pytest.fixture
def viewer_membership(cast: Cast) -> Membership:
    return MembershipFactory(workspace=cast.workspace, role=Role.VIEWER)


def _api(membership: Membership) -> APIClient:
    _, key = issue_token(membership=membership)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


@pytest.fixture
def approver_api(approver_membership: Membership) -> APIClient:
    return _api(approver_membership)


@pytest.fixture
def viewer_api(viewer_membership: Membership) -> APIClient:
    return _api(viewer_membership)


@pytest.fixture
def approver_client(approver_membership: Membership) -> Client:
    client = Client()
    client.force_login(approver_membership.user)
    return client


@pytest.fixture
def viewer_client(viewer_membership: Membership) -> Client:
    client = Client()
    client.force_login(viewer_membership.user)
    return client
