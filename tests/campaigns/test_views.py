"""Campaign pages: the list, the campaign form, the channels side by side, the item editor with its
live preview, an item's page (preview as a contact, schedule, state buttons, address list, results);
the owner/member/approver/viewer matrix."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core import mail
from django.test import Client

from apps.campaigns import services
from apps.campaigns.choices import ItemStatus
from apps.campaigns.models import Campaign, ChannelItem, ChannelResult
from apps.core.roles import Role
from tests.campaigns.conftest import Audience
from tests.conftest import Cast
from tests.factories import TeamFactory

pytestmark = pytest.mark.django_db

BASE = "/w/acme/campaigns/"
FUTURE = (dt.datetime.now(tz=dt.UTC).date() + dt.timedelta(days=30)).isoformat()


def _page(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def _item(item: ChannelItem, suffix: str = "") -> str:
    return f"{BASE}items/{item.id}/{suffix}"


def _email_form(audience: Audience, **values: str | list[str]) -> dict[str, str | list[str]]:
    return {
        "channel": "email",
        "name": "Launch email",
        "from_name": "Acme Outdoor",
        "from_email": "shop@acme.example",
        "subject": '{{ first_name|default:"there" }}, spring is here',
        "preheader": "New boots and tents",
        "body_html": '<p>Hi {{ first_name|default:"there" }}</p>',
        "body_text": 'Hi {{ first_name|default:"there" }}',
        "segments": [str(audience.segment.id)],
        "exclusions": [str(audience.exclusion.id)],
        **values,
    }


# --- List and campaign form -----------------------------------------------------------------------


def test_the_list_shows_campaigns_newest_first_with_their_item_count(
    owner_client: Client, campaign: Campaign, email_item: ChannelItem, cast: Cast
) -> None:
    services.campaign_create(workspace=cast.workspace, name="Autumn sale", goal="Clear the stock")

    page = _page(owner_client.get(BASE))

    assert page.index("Autumn sale") < page.index("Spring launch")
    assert "Sell the spring range" in page
    assert "New campaign" in page
    assert '<td class="num">1</td>' in page


def test_the_list_reads_with_the_same_queries_for_many_campaigns(
    owner_client: Client, cast: Cast, campaign: Campaign, django_assert_max_num_queries
) -> None:
    owner_client.get(BASE)
    with django_assert_max_num_queries(12) as few:
        owner_client.get(BASE)
    team = TeamFactory(workspace=cast.workspace)
    for n in range(8):
        services.campaign_create(workspace=cast.workspace, name=f"Campaign {n}", owner_team=team)

    with django_assert_max_num_queries(len(few.captured_queries)):
        owner_client.get(BASE)


def test_an_editor_creates_a_campaign_with_personas_and_a_team(member_client: Client, cast: Cast) -> None:
    team = TeamFactory(workspace=cast.workspace, name="Retail marketing")

    response = member_client.post(
        f"{BASE}new/",
        {
            "name": "Winter",
            "goal": "Warm jackets",
            "owner_team": team.id,
            "starts_on": "2026-11-01",
            "ends_on": "2026-12-31",
        },
    )

    campaign = Campaign.objects.get(name="Winter")
    assert response.status_code == 302
    assert response["Location"] == f"{BASE}{campaign.id}/"
    assert campaign.owner_team == team
    assert campaign.created_by == cast.member


def test_the_campaign_form_shows_the_services_errors(member_client: Client, campaign: Campaign) -> None:
    response = member_client.post(
        f"{BASE}new/", {"name": "spring LAUNCH", "starts_on": "2026-05-01", "ends_on": "2026-04-01"}
    )

    page = _page(response)
    assert response.status_code == 422
    assert "There is already a campaign “spring LAUNCH” in this workspace." in page
    assert "The campaign cannot end before it starts." in page


def test_editing_and_deleting_a_campaign(member_client: Client, campaign: Campaign) -> None:
    assert member_client.get(f"{BASE}{campaign.id}/edit/").status_code == 200
    member_client.post(f"{BASE}{campaign.id}/edit/", {"name": "Spring launch 2026", "goal": "More"})
    campaign.refresh_from_db()
    assert campaign.name == "Spring launch 2026"

    response = member_client.post(f"{BASE}{campaign.id}/delete/")

    assert response["Location"] == BASE
    assert not Campaign.objects.filter(id=campaign.id).exists()


# --- Items through the pages, side by side ---------------------------------------------------------


def test_an_editor_builds_a_campaign_across_channels_through_the_pages(
    member_client: Client, campaign: Campaign, audience: Audience
) -> None:
    new = f"{BASE}{campaign.id}/items/new/"
    assert "Sent by Ensemble" in _page(member_client.get(new))
    assert member_client.get(f"{new}?channel=email").status_code == 200

    responses = [
        member_client.post(f"{new}?channel=email", _email_form(audience)),
        member_client.post(
            new,
            {"channel": "sms", "name": "Launch text", "sms_text": "Hi {{ first_name }}! Spring is here.",
             "quiet_hours_start": "21:00", "quiet_hours_end": "08:00", "segments": [str(audience.segment.id)]},
        ),
        member_client.post(
            new,
            {"channel": "social", "name": "Launch post", "content": "Spring is here", "placement": "Instagram",
             "budget": "250.00", "starts_on": "2026-04-01", "ends_on": "2026-04-07"},
        ),
        member_client.post(new, {"channel": "direct_mail", "name": "Postcard", "content": "A postcard",
                                 "segments": [str(audience.segment.id)]}),
    ]  # fmt: skip

    assert [r.status_code for r in responses] == [302, 302, 302, 302]
    assert sorted(campaign.items.values_list("channel", flat=True)) == [
        "direct_mail",
        "email",
        "sms",
        "social",
    ]
    page = _page(member_client.get(f"{BASE}{campaign.id}/"))
    for text in ("Launch email", "Launch text", "Launch post", "Postcard", "New boots and tents", "Instagram",
                 "250.00 EUR", "40 characters · GSM-7 · 1 part", "Complaints"):  # fmt: skip
        assert text in page, text


def test_the_campaign_page_reads_with_the_same_queries_for_many_items(
    owner_client: Client,
    campaign: Campaign,
    email_item: ChannelItem,
    audience: Audience,
    django_assert_max_num_queries,
) -> None:
    url = f"{BASE}{campaign.id}/"
    owner_client.get(url)
    with django_assert_max_num_queries(16) as few:
        owner_client.get(url)
    for n in range(6):
        services.item_create(
            campaign=campaign, channel="sms", name=f"Text {n}", sms_text="Hi", segments=[audience.segment]
        )
        services.item_create(campaign=campaign, channel="social", name=f"Post {n}", content="Spring")

    with django_assert_max_num_queries(len(few.captured_queries)):
        owner_client.get(url)


def test_the_live_preview_renders_the_unsaved_copy_as_the_chosen_contact(
    member_client: Client, campaign: Campaign, audience: Audience
) -> None:
    response = member_client.post(
        f"{BASE}{campaign.id}/items/preview/",
        {**_email_form(audience), "contact": str(audience.anna.id)},
        HTTP_HX_REQUEST="true",
    )

    page = _page(response)
    assert response.status_code == 200
    assert "Previewing as <strong>Anna Schmidt</strong>" in page
    assert "Anna, spring is here" in page
    assert 'sandbox srcdoc="&lt;p&gt;Hi Anna&lt;/p&gt;"' in page
    assert "allow-scripts" not in page


def test_the_live_preview_uses_the_fallback_for_an_empty_first_name(
    member_client: Client, campaign: Campaign, audience: Audience
) -> None:
    response = member_client.post(
        f"{BASE}{campaign.id}/items/preview/", {**_email_form(audience), "contact": str(audience.ben.id)}
    )

    assert "there, spring is here" in _page(response)


def test_the_live_preview_points_at_a_broken_merge_tag(
    member_client: Client, campaign: Campaign, audience: Audience
) -> None:
    response = member_client.post(
        f"{BASE}{campaign.id}/items/preview/", _email_form(audience, subject="Hi {{ frist_name }}")
    )

    page = _page(response)
    assert "line 1, column 4: Unknown merge tag “frist_name”. Did you mean “first_name”?" in page


def test_the_sms_preview_counts_characters_and_names_what_forces_ucs2(
    member_client: Client, campaign: Campaign, audience: Audience
) -> None:
    response = member_client.post(
        f"{BASE}{campaign.id}/items/preview/",
        {"channel": "sms", "name": "Text", "sms_text": "Spring is here ☀"},
    )

    page = _page(response)
    assert 'id="sms-counter"' in page
    assert 'hx-swap-oob="true"' in page
    assert "16 characters · UCS-2 · 1 part" in page
    assert '<code class="non-gsm">☀</code>' in page


def test_saving_a_broken_merge_tag_shows_its_position(
    member_client: Client, campaign: Campaign, audience: Audience
) -> None:
    response = member_client.post(
        f"{BASE}{campaign.id}/items/new/", _email_form(audience, body_text="Hello {{ first_name|upper:1 }}")
    )

    assert response.status_code == 422
    assert "line 1, column 7" in _page(response)
    assert not campaign.items.exists()


def test_editing_a_draft_item(member_client: Client, email_item: ChannelItem, audience: Audience) -> None:
    assert member_client.get(_item(email_item, "edit/")).status_code == 200

    response = member_client.post(_item(email_item, "edit/"), _email_form(audience, subject="Changed"))

    email_item.refresh_from_db()
    assert response.status_code == 302
    assert email_item.subject == "Changed"


def test_a_scheduled_item_must_be_unscheduled_to_edit(
    owner_client: Client, cast: Cast, email_item: ChannelItem
) -> None:
    services.item_schedule(item=email_item, actor=cast.owner, actor_role=Role.ADMIN)

    response = owner_client.get(_item(email_item, "edit/"), follow=True)

    assert "unschedule it to edit it" in _page(response)


# --- An item's page -------------------------------------------------------------------------------


def test_the_item_page_previews_as_a_searched_contact(
    owner_client: Client, email_item: ChannelItem, audience: Audience
) -> None:
    found = _page(owner_client.get(f"{BASE}contacts/", {"q": "ben@"}, HTTP_HX_REQUEST="true"))
    rendered = _page(
        owner_client.get(_item(email_item, "render/"), {"contact": audience.ben.id}, HTTP_HX_REQUEST="true")
    )
    page = _page(owner_client.get(_item(email_item), {"contact": audience.anna.id}))

    assert f'value="{audience.ben.id}"' in found
    assert "Anna" not in found
    assert "Previewing as <strong>Ito</strong>" in rendered
    assert "Hello, spring is here" in rendered
    assert "Anna, spring is here" in page
    assert "Send a test to me (owner@acme.example)" in page
    assert "Everything is in place: it can be scheduled." in page


def test_the_checklist_lists_what_an_item_still_lacks(owner_client: Client, campaign: Campaign) -> None:
    item = services.item_create(campaign=campaign, channel="sms", name="Empty text")

    page = _page(owner_client.get(_item(item)))

    assert "Write the text message." in page
    assert "Choose at least one segment to send to." in page


def test_a_test_email_goes_to_the_person_testing(
    owner_client: Client, email_item: ChannelItem, audience: Audience
) -> None:
    owner_client.post(_item(email_item, "test/"), {"contact": audience.anna.id})

    assert [m.to for m in mail.outbox] == [["owner@acme.example"]]
    assert mail.outbox[0].subject == "[Test] Anna, spring is here"


def test_an_approver_schedules_in_each_recipients_time_zone(
    approver_client: Client, email_item: ChannelItem
) -> None:
    response = approver_client.post(
        _item(email_item, "schedule/"), {"timing": "recipient_local", "send_at": f"{FUTURE}T09:00"}
    )

    email_item.refresh_from_db()
    assert response.status_code == 302
    assert email_item.status == ItemStatus.SCHEDULED
    assert email_item.local_send_time == dt.time(9, 0)
    page = _page(approver_client.get(_item(email_item)))
    assert "09:00 on" in page
    assert "in each recipient's time zone, from" in page
    assert "Europe/Berlin" in page


def test_an_editor_is_told_scheduling_needs_sign_off(member_client: Client, email_item: ChannelItem) -> None:
    assert "Scheduling needs sign-off by an approver or admin." in _page(member_client.get(_item(email_item)))

    response = member_client.post(
        _item(email_item, "schedule/"), {"timing": "at", "send_at": f"{FUTURE}T09:00"}, follow=True
    )

    email_item.refresh_from_db()
    assert email_item.status == ItemStatus.DRAFT
    assert (
        "Scheduling needs sign-off: ask an approver or an admin of this workspace to schedule it."
        in _page(response)
    )


def test_a_time_in_the_past_is_shown_on_the_schedule_form(
    owner_client: Client, email_item: ChannelItem
) -> None:
    response = owner_client.post(
        _item(email_item, "schedule/"), {"timing": "at", "send_at": "2020-01-01T09:00"}
    )

    assert response.status_code == 422
    assert "That moment has passed: choose a time in the future." in _page(response)


def test_pause_resume_unschedule_and_cancel_through_the_page(
    owner_client: Client, cast: Cast, email_item: ChannelItem
) -> None:
    services.item_schedule(item=email_item, actor=cast.owner, actor_role=Role.ADMIN, timing="at",
                           send_at=dt.datetime.fromisoformat(f"{FUTURE}T09:00"))  # fmt: skip
    statuses = []
    for verb in ("pause", "resume", "unschedule"):
        owner_client.post(_item(email_item, f"{verb}/"))
        email_item.refresh_from_db()
        statuses.append(email_item.status)
    owner_client.post(_item(email_item, "send-now/"))
    owner_client.post(_item(email_item, "cancel/"))
    email_item.refresh_from_db()

    assert statuses == [ItemStatus.PAUSED, ItemStatus.SCHEDULED, ItemStatus.DRAFT]
    assert email_item.status == ItemStatus.CANCELLED


def test_a_refused_step_is_explained(owner_client: Client, email_item: ChannelItem) -> None:
    response = owner_client.post(_item(email_item, "pause/"), follow=True)

    assert "Only a scheduled or sending item can be paused; this one is draft." in _page(response)


def test_direct_mail_counts_addresses_and_exports_them(
    owner_client: Client, campaign: Campaign, audience: Audience
) -> None:
    item = services.item_create(
        campaign=campaign, channel="direct_mail", name="Spring postcard", segments=[audience.segment],
        exclusions=[audience.exclusion],
    )  # fmt: skip

    page = _page(owner_client.get(_item(item)))
    response = owner_client.get(_item(item, "addresses.csv"))
    body = b"".join(response.streaming_content).decode()

    assert "1 of 2 contacts in the audience have a postal address." in page
    assert "2 contacts in the audience now." in page
    assert response["Content-Disposition"] == 'attachment; filename="spring-postcard-addresses.csv"'
    assert body.splitlines()[1] == "Anna,Schmidt,Torstraße 1,,10119,Berlin,,DE"
    assert "Köln" not in body


def test_a_viewer_sees_the_address_counts_but_cannot_export_them(
    viewer_client: Client, campaign: Campaign, audience: Audience
) -> None:
    item = services.item_create(
        campaign=campaign, channel="direct_mail", name="Spring postcard", segments=[audience.segment]
    )

    page = _page(viewer_client.get(_item(item)))
    response = viewer_client.get(_item(item, "addresses.csv"))

    assert "contacts in the audience have a postal address." in page
    assert "Export address list" not in page
    assert response.status_code == 403


def test_results_of_a_planned_channel_are_entered_totalled_and_deleted(
    member_client: Client, campaign: Campaign
) -> None:
    post = services.item_create(campaign=campaign, channel="social", name="Launch post", content="Spring!")
    member_client.post(
        _item(post, "results/"), {"recorded_on": "2026-04-01", "reach": "1000", "cost": "20.50"}
    )
    member_client.post(
        _item(post, "results/"), {"recorded_on": "2026-04-02", "reach": "500", "responses": "12"}
    )

    page = _page(member_client.get(_item(post)))
    refused = member_client.post(_item(post, "results/"), {"recorded_on": "2026-04-03"})

    assert '<td class="num">1500</td>' in page
    assert '<td class="num">20.50</td>' in page
    assert refused.status_code == 422
    assert "Enter at least one figure" in _page(refused)
    result = ChannelResult.objects.get(reach=500)
    member_client.post(f"{BASE}results/{result.id}/delete/")
    assert not ChannelResult.objects.filter(id=result.id).exists()


def test_deleting_a_draft_item(member_client: Client, email_item: ChannelItem) -> None:
    response = member_client.post(_item(email_item, "delete/"))

    assert response["Location"] == f"{BASE}{email_item.campaign_id}/"
    assert not ChannelItem.objects.filter(id=email_item.id).exists()


# --- Roles ----------------------------------------------------------------------------------------


def test_a_viewer_reads_without_edit_controls(
    viewer_client: Client, campaign: Campaign, email_item: ChannelItem
) -> None:
    pages = [_page(viewer_client.get(url)) for url in (BASE, f"{BASE}{campaign.id}/", _item(email_item))]

    for page in pages:
        assert "Spring launch" in page
        for control in (
            "New campaign",
            "Edit campaign",
            "Add channel item",
            "Schedule…",
            "Send a test",
            "Delete",
        ):
            assert control not in page


@pytest.mark.parametrize(
    "path",
    ["new/", "{campaign}/edit/", "{campaign}/delete/", "{campaign}/items/new/", "{campaign}/items/preview/",
     "items/{item}/edit/", "items/{item}/schedule/", "items/{item}/pause/", "items/{item}/delete/", "items/{item}/test/"],
)  # fmt: skip
def test_a_viewer_cannot_post(
    viewer_client: Client, campaign: Campaign, email_item: ChannelItem, path: str
) -> None:
    url = BASE + path.format(campaign=campaign.id, item=email_item.id)

    assert viewer_client.post(url, {"name": "x", "channel": "email"}).status_code == 403


def test_an_outsider_gets_not_found(outsider_client: Client, email_item: ChannelItem) -> None:
    assert outsider_client.get(_item(email_item)).status_code == 404


def test_the_due_time_shows_in_the_workspaces_time_zone(
    owner_client: Client, cast: Cast, email_item: ChannelItem
) -> None:
    services.item_schedule(
        item=email_item, actor=cast.owner, actor_role=Role.ADMIN, timing="at",
        send_at=dt.datetime(2030, 1, 15, 9, 30, tzinfo=dt.UTC),
    )  # fmt: skip

    page = _page(owner_client.get(_item(email_item)))

    assert "15 Jan 2030 10:30" in page  # Berlin is UTC+1 in January
