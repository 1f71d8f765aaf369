"""Isolation rows for the campaigns app (see tests/isolation/registry.py): the pages are listed in
`isolation_pages.py`, the API in `isolation_api.py`."""

from __future__ import annotations

import datetime as dt

from apps.campaigns import services
from apps.campaigns.models import ChannelResult
from apps.segments import services as segment_services
from apps.workspaces.models import Workspace
from tests.campaigns.isolation_api import API
from tests.campaigns.isolation_pages import PAGES
from tests.factories import ContactFactory, TagFactory
from tests.isolation.registry import ObjectIds

__all__ = ["API", "PAGES", "make_objects"]


def make_objects(workspace: Workspace) -> ObjectIds:
    tag = TagFactory(workspace=workspace)
    contact = ContactFactory(workspace=workspace, tags=[tag], address_line1="1 Main Street", city="Berlin")
    segment = segment_services.segment_create(
        workspace=workspace, name=f"Has {tag.name}", rules={"tag": tag.name}
    )
    campaign = services.campaign_create(
        workspace=workspace, name="Spring launch", goal="Sell the spring range"
    )
    email = services.item_create(
        campaign=campaign,
        channel="email",
        name="Launch email",
        subject="Hello {{ first_name }}",
        body_text="Spring is here.",
        from_email="shop@example.com",
        segments=[segment],
    )
    sms = services.item_create(
        campaign=campaign, channel="sms", name="Launch text", sms_text="Hi!", segments=[segment]
    )
    mailer = services.item_create(
        campaign=campaign, channel="direct_mail", name="Postcard", segments=[segment]
    )
    social = services.item_create(campaign=campaign, channel="social", name="Launch post", content="Spring!")
    result = services.result_add(item=social, recorded_on=dt.date(2026, 3, 1), reach=100)
    assert isinstance(result, ChannelResult)
    return {
        "campaign": campaign.id,
        "email_item": email.id,
        "sms_item": sms.id,
        "mail_item": mailer.id,
        "social_item": social.id,
        "result": result.id,
        "segment": segment.id,
        "campaign_contact": contact.id,
    }
