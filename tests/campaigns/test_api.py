"""`/api/v1/campaigns/` and `/api/v1/channel-items/`: CRUD with ids of this workspace only, the
state machine's actions and their 409/403 answers, previews, test sends, direct-mail addresses,
results of planned channels, roles and bounded queries."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone
from rest_framework.test import APIClient

from apps.campaigns import services
from apps.campaigns.choices import ItemStatus
from apps.campaigns.models import Campaign, ChannelItem, ChannelResult
from apps.core import sms
from apps.personas import services as persona_services
from apps.segments import services as segment_services
from tests.campaigns.conftest import Audience
from tests.conftest import Cast
from tests.factories import ContactFactory, TagFactory, TeamFactory

pytestmark = pytest.mark.django_db

CAMPAIGNS = "/api/v1/campaigns/"
ITEMS = "/api/v1/channel-items/"
NEXT_YEAR = timezone.now().year + 1


def _item(item: ChannelItem | int, action: str = "") -> str:
    pk = item if isinstance(item, int) else item.id
    return f"{ITEMS}{pk}/{action + '/' if action else ''}"


def _error(response: Any) -> dict[str, Any]:
    return response.json()["error"]


def _schedule(client: APIClient, item: ChannelItem, **body: Any) -> Any:
    return client.post(_item(item, "schedule"), body or {"timing": "now"}, format="json")


@pytest.fixture
def scheduled(email_item: ChannelItem, cast: Cast) -> ChannelItem:
    return services.item_schedule(
        item=email_item, actor=cast.owner, actor_role="admin", timing="at",
        send_at=dt.datetime(NEXT_YEAR, 12, 1, 9, 0),  # noqa: DTZ001 - the workspace's wall-clock time
    )  # fmt: skip


@pytest.fixture
def postcard(campaign: Campaign, audience: Audience) -> ChannelItem:
    return services.item_create(
        campaign=campaign, channel="direct_mail", name="Postcard",
        segments=[audience.segment], exclusions=[audience.exclusion],
    )  # fmt: skip


@pytest.fixture
def billboard(campaign: Campaign) -> ChannelItem:
    return services.item_create(
        campaign=campaign, channel="outdoor", name="Billboard", placement="Alexanderplatz"
    )


# --- Campaigns ------------------------------------------------------------------------------------


def test_create_campaign_returns_it_with_its_team_and_personas(member_api: APIClient, cast: Cast) -> None:
    team = TeamFactory(workspace=cast.workspace, name="Marketing")
    persona = persona_services.persona_create(
        workspace=cast.workspace, name="Weekend family", genders=["female"]
    )

    response = member_api.post(
        CAMPAIGNS,
        {"name": "Spring launch", "goal": "Sell the spring range", "owner_team": team.id,
         "starts_on": "2026-03-01", "ends_on": "2026-04-15", "personas": [persona.id]},
        format="json",
    )  # fmt: skip

    body = response.json()
    assert response.status_code == 201
    assert {key: body[key] for key in ("name", "owner_team", "personas", "items", "version")} == {
        "name": "Spring launch", "owner_team": team.id, "personas": [persona.id], "items": [], "version": 1,
    }  # fmt: skip
    assert Campaign.objects.get().created_by == cast.member


def test_a_persona_of_another_workspace_is_a_400_naming_its_id(member_api: APIClient, cast: Cast) -> None:
    theirs = persona_services.persona_create(workspace=cast.other_workspace, name="Their persona")

    response = member_api.post(CAMPAIGNS, {"name": "Spring", "personas": [theirs.id]}, format="json")

    assert response.status_code == 400
    assert _error(response)["fields"] == {"personas": [f"There is no persona {theirs.id} in this workspace."]}
    assert not Campaign.objects.exists()


def test_campaign_names_clash_whatever_their_case(member_api: APIClient, campaign: Campaign) -> None:
    response = member_api.post(CAMPAIGNS, {"name": "SPRING LAUNCH"}, format="json")

    assert response.status_code == 400
    assert _error(response)["fields"]["name"] == [
        "There is already a campaign “SPRING LAUNCH” in this workspace."
    ]


def test_patch_changes_the_fields_sent_and_put_resets_the_rest(
    member_api: APIClient, campaign: Campaign, email_item: ChannelItem
) -> None:
    patched = member_api.patch(f"{CAMPAIGNS}{campaign.id}/", {"starts_on": "2026-03-01"}, format="json")
    put = member_api.put(f"{CAMPAIGNS}{campaign.id}/", {"name": "Spring launch 2"}, format="json")

    assert patched.status_code == 200
    assert (patched.json()["goal"], patched.json()["starts_on"], patched.json()["version"]) == (
        "Sell the spring range", "2026-03-01", 2,
    )  # fmt: skip
    assert put.status_code == 200
    assert (put.json()["name"], put.json()["goal"], put.json()["starts_on"]) == ("Spring launch 2", "", None)
    assert put.json()["items"] == [email_item.id]


def test_a_campaign_with_a_scheduled_item_cannot_be_deleted(
    member_api: APIClient, campaign: Campaign, scheduled: ChannelItem
) -> None:
    response = member_api.delete(f"{CAMPAIGNS}{campaign.id}/")

    assert response.status_code == 409
    assert _error(response) == {
        "code": "invalid_state",
        "message": "“Launch email” is scheduled: cancel or unschedule it before deleting the campaign.",
        "fields": {},
    }
    assert Campaign.objects.filter(id=campaign.id).exists()


def test_campaign_list_costs_the_same_queries_for_many_campaigns(
    viewer_api: APIClient, cast: Cast, django_assert_max_num_queries: Any
) -> None:
    team = TeamFactory(workspace=cast.workspace)
    persona = persona_services.persona_create(workspace=cast.workspace, name="Weekend family")
    for number in range(8):
        campaign = services.campaign_create(
            workspace=cast.workspace, name=f"Campaign {number}", owner_team=team, personas=[persona]
        )
        services.item_create(campaign=campaign, channel="social", name="Post", content="Hello")

    with django_assert_max_num_queries(7):
        response = viewer_api.get(CAMPAIGNS)

    assert response.json()["count"] == 8
    assert all(
        len(row["items"]) == 1 and row["personas"] == [persona.id] for row in response.json()["results"]
    )


# --- Channel items: content -----------------------------------------------------------------------


def test_create_email_item_returns_a_draft_with_the_workspace_sender(
    member_api: APIClient, cast: Cast, campaign: Campaign, audience: Audience
) -> None:
    cast.workspace.default_sender_name = "Acme Outdoor"
    cast.workspace.save()

    response = member_api.post(
        ITEMS,
        {"campaign": campaign.id, "channel": "email", "name": "Launch", "subject": "Hi {{ first_name }}",
         "body_html": "<p>Spring</p>\n", "from_email": "shop@acme.example",
         "segments": [audience.segment.id], "exclusions": [audience.exclusion.id]},
        format="json",
    )  # fmt: skip

    body = response.json()
    assert response.status_code == 201
    assert {key: body[key] for key in ("campaign", "channel", "status", "timing", "send_at", "sms", "from_name")} == {
        "campaign": campaign.id, "channel": "email", "status": "draft", "timing": "now", "send_at": None,
        "sms": None, "from_name": "Acme Outdoor",
    }  # fmt: skip
    assert (body["segments"], body["exclusions"], body["body_html"]) == (
        [audience.segment.id], [audience.exclusion.id], "<p>Spring</p>\n",
    )  # fmt: skip


def test_status_timing_and_send_at_cannot_be_written(member_api: APIClient, campaign: Campaign) -> None:
    response = member_api.post(
        ITEMS,
        {"campaign": campaign.id, "channel": "social", "name": "Post", "content": "Spring!",
         "status": "sent", "timing": "at", "send_at": "2026-12-01T09:00:00Z"},
        format="json",
    )  # fmt: skip

    item = ChannelItem.objects.get()
    assert response.status_code == 201
    assert (item.status, item.timing, item.send_at) == (ItemStatus.DRAFT, "now", None)


def test_a_segment_of_another_workspace_is_a_400_naming_its_id(
    member_api: APIClient, cast: Cast, campaign: Campaign
) -> None:
    tag = TagFactory(workspace=cast.other_workspace)
    theirs = segment_services.segment_create(
        workspace=cast.other_workspace, name="Theirs", rules={"tag": tag.name}
    )

    response = member_api.post(
        ITEMS,
        {"campaign": campaign.id, "channel": "sms", "name": "Text", "exclusions": [theirs.id]},
        format="json",
    )

    assert response.status_code == 400
    assert _error(response)["fields"] == {
        "exclusions": [f"There is no segment {theirs.id} in this workspace."]
    }


def test_a_campaign_of_another_workspace_is_a_400_naming_its_id(member_api: APIClient, cast: Cast) -> None:
    theirs = services.campaign_create(workspace=cast.other_workspace, name="Theirs")

    response = member_api.post(
        ITEMS, {"campaign": theirs.id, "channel": "sms", "name": "Text"}, format="json"
    )

    assert response.status_code == 400
    assert _error(response)["fields"] == {
        "campaign": [f"There is no campaign {theirs.id} in this workspace."]
    }


def test_a_broken_merge_tag_is_a_400_with_its_line_and_column(
    member_api: APIClient, campaign: Campaign
) -> None:
    response = member_api.post(
        ITEMS,
        {"campaign": campaign.id, "channel": "email", "name": "Launch", "subject": "Hi {{ frist_name }}"},
        format="json",
    )

    (problem,) = _error(response)["fields"]["subject"]
    assert response.status_code == 400
    assert "line 1, column 4" in problem
    assert "first_name" in problem  # did you mean


def test_a_field_of_another_channel_is_refused(member_api: APIClient, campaign: Campaign) -> None:
    response = member_api.post(
        ITEMS,
        {"campaign": campaign.id, "channel": "email", "name": "Launch", "sms_text": "Hi"},
        format="json",
    )

    assert response.status_code == 400
    assert list(_error(response)["fields"]) == ["sms_text"]
    assert "is not part of" in _error(response)["fields"]["sms_text"][0]


def test_a_payload_nested_too_deep_to_check_is_a_400_never_a_500(
    member_api: APIClient, campaign: Campaign
) -> None:
    depth = 880  # below what the JSON parser refuses, beyond what the checks can recurse through
    payload = '{"a": ' * depth + '"x"' + "}" * depth
    body = f'{{"campaign": {campaign.id}, "channel": "webhook", "name": "Hook", "payload": {payload}}}'

    response = member_api.post(ITEMS, body, content_type="application/json")

    assert response.status_code == 400
    assert _error(response)["fields"]["payload"] == ["The payload nests at most 20 levels deep."]
    assert not ChannelItem.objects.exists()


def test_an_sms_item_shows_its_length_encoding_and_parts(member_api: APIClient, campaign: Campaign) -> None:
    response = member_api.post(
        ITEMS,
        {"campaign": campaign.id, "channel": "sms", "name": "Text", "sms_text": "Spring is here ☀"},
        format="json",
    )

    assert response.status_code == 201
    assert response.json()["sms"] == {
        "encoding": "UCS-2", "length": 16, "parts": 1, "per_part": 70, "remaining": 54, "non_gsm": ["☀"],
    }  # fmt: skip
    assert (response.json()["quiet_hours_start"], response.json()["quiet_hours_end"]) == (
        "21:00:00",
        "08:00:00",
    )


def test_patch_changes_a_draft_but_never_its_channel(member_api: APIClient, email_item: ChannelItem) -> None:
    patched = member_api.patch(
        _item(email_item), {"subject": "Spring sale", "channel": "email"}, format="json"
    )
    moved = member_api.patch(_item(email_item), {"channel": "sms"}, format="json")

    assert patched.status_code == 200
    assert (patched.json()["subject"], patched.json()["version"]) == ("Spring sale", 2)
    assert moved.status_code == 400
    assert list(_error(moved)["fields"]) == ["channel"]


def test_a_scheduled_item_cannot_be_changed(member_api: APIClient, scheduled: ChannelItem) -> None:
    response = member_api.patch(_item(scheduled), {"subject": "Changed"}, format="json")

    assert response.status_code == 409
    assert _error(response)["code"] == "invalid_state"
    assert "unschedule it" in _error(response)["message"]
    scheduled.refresh_from_db()
    assert scheduled.subject != "Changed"


def test_a_scheduled_item_cannot_be_deleted_but_a_draft_can(
    member_api: APIClient, scheduled: ChannelItem, billboard: ChannelItem
) -> None:
    assert member_api.delete(_item(scheduled)).status_code == 409
    assert member_api.delete(_item(billboard)).status_code == 204
    assert list(ChannelItem.objects.values_list("id", flat=True)) == [scheduled.id]


def test_list_filters_by_campaign_channel_and_status(
    viewer_api: APIClient, cast: Cast, scheduled: ChannelItem, billboard: ChannelItem
) -> None:
    other = services.campaign_create(workspace=cast.workspace, name="Autumn")
    services.item_create(campaign=other, channel="social", name="Autumn post")

    def ids(**params: Any) -> list[int]:
        return [row["id"] for row in viewer_api.get(ITEMS, params).json()["results"]]

    assert ids(campaign=scheduled.campaign_id) == [scheduled.id, billboard.id]
    assert ids(campaign=scheduled.campaign_id, channel="outdoor") == [billboard.id]
    assert ids(status="scheduled") == [scheduled.id]
    assert viewer_api.get(ITEMS, {"channel": "fax"}).status_code == 400


def test_item_list_costs_the_same_queries_for_many_items(
    viewer_api: APIClient, campaign: Campaign, audience: Audience, django_assert_max_num_queries: Any
) -> None:
    for number in range(6):
        services.item_create(
            campaign=campaign, channel=("email", "sms", "outdoor")[number % 3], name=f"Item {number}",
            segments=[audience.segment], exclusions=[audience.exclusion],
        )  # fmt: skip

    with django_assert_max_num_queries(7):
        response = viewer_api.get(ITEMS)

    assert response.json()["count"] == 6
    assert all(row["segments"] == [audience.segment.id] for row in response.json()["results"])


# --- Roles ----------------------------------------------------------------------------------------


def test_a_viewer_reads_previews_and_counts_but_cannot_write(
    viewer_api: APIClient, campaign: Campaign, email_item: ChannelItem
) -> None:
    reads = [
        viewer_api.get(CAMPAIGNS), viewer_api.get(ITEMS), viewer_api.get(_item(email_item)),
        viewer_api.get(_item(email_item, "preview")), viewer_api.post(_item(email_item, "preview")),
        viewer_api.get(_item(email_item, "audience")), viewer_api.get(_item(email_item, "results")),
    ]  # fmt: skip
    writes = [
        viewer_api.post(CAMPAIGNS, {"name": "Mine"}, format="json"),
        viewer_api.patch(f"{CAMPAIGNS}{campaign.id}/", {"goal": "x"}, format="json"),
        viewer_api.post(ITEMS, {"campaign": campaign.id, "channel": "sms", "name": "x"}, format="json"),
        viewer_api.patch(_item(email_item), {"subject": "x"}, format="json"),
        viewer_api.delete(_item(email_item)),
        *(viewer_api.post(_item(email_item, verb)) for verb in ("schedule", "send-now", "pause", "resume",
                                                                  "cancel", "unschedule", "test-send")),
        viewer_api.post(_item(email_item, "results"), {"recorded_on": "2026-03-01", "reach": 1}, format="json"),
    ]  # fmt: skip

    assert [response.status_code for response in reads] == [200] * len(reads)
    assert [response.status_code for response in writes] == [403] * len(writes)
    assert ChannelItem.objects.get().status == ItemStatus.DRAFT


# --- Schedule and the state machine ---------------------------------------------------------------


def test_an_approver_schedules_at_a_moment_of_the_workspace_time_zone(
    approver_api: APIClient, email_item: ChannelItem
) -> None:
    response = _schedule(approver_api, email_item, timing="at", send_at=f"{NEXT_YEAR}-12-01T09:00:00")

    body = response.json()
    assert response.status_code == 200
    assert (body["status"], body["timing"]) == ("scheduled", "at")
    assert body["send_at"] == f"{NEXT_YEAR}-12-01T08:00:00Z"  # 09:00 in Berlin, in UTC
    assert body["scheduled_by"] is not None


def test_an_editor_who_schedules_gets_403_sign_off_required(
    member_api: APIClient, email_item: ChannelItem
) -> None:
    response = _schedule(member_api, email_item, timing="at", send_at=f"{NEXT_YEAR}-12-01T09:00:00")

    assert response.status_code == 403
    assert _error(response) == {
        "code": "sign_off_required",
        "message": "Scheduling needs sign-off: ask an approver or an admin of this workspace to schedule it.",
        "fields": {},
    }
    email_item.refresh_from_db()
    assert email_item.status == ItemStatus.DRAFT


def test_recipient_local_timing_answers_the_naive_local_time(
    approver_api: APIClient, email_item: ChannelItem
) -> None:
    response = _schedule(
        approver_api, email_item, timing="recipient_local", send_at=f"{NEXT_YEAR}-12-01T09:00"
    )

    assert response.status_code == 200
    assert (response.json()["timing"], response.json()["send_at"]) == (
        "recipient_local", f"{NEXT_YEAR}-12-01T09:00:00",
    )  # fmt: skip
    email_item.refresh_from_db()
    assert (email_item.local_send_date, email_item.local_send_time) == (
        dt.date(NEXT_YEAR, 12, 1),
        dt.time(9, 0),
    )


def test_a_moment_in_the_past_is_a_400(approver_api: APIClient, email_item: ChannelItem) -> None:
    response = _schedule(approver_api, email_item, timing="at", send_at="2020-01-01T09:00:00Z")

    assert response.status_code == 400
    assert _error(response)["fields"] == {"send_at": ["That moment has passed: choose a time in the future."]}


def test_a_sent_channel_needs_a_timing(approver_api: APIClient, email_item: ChannelItem) -> None:
    response = approver_api.post(_item(email_item, "schedule"), {}, format="json")

    assert response.status_code == 400
    assert list(_error(response)["fields"]) == ["timing"]


def test_what_an_item_lacks_before_scheduling_answers_400_by_field(
    approver_api: APIClient, campaign: Campaign
) -> None:
    item = services.item_create(campaign=campaign, channel="email", name="Empty")

    response = _schedule(approver_api, item)

    assert response.status_code == 400
    assert {"subject", "from_email", "body_html", "segments"} <= set(_error(response)["fields"])


def test_send_now_schedules_for_now_and_a_planned_channel_is_booked(
    approver_api: APIClient, email_item: ChannelItem, billboard: ChannelItem
) -> None:
    now = approver_api.post(_item(email_item, "send-now"))
    booked = approver_api.post(_item(billboard, "schedule"), {}, format="json")  # no send time

    assert now.status_code == 200
    assert (now.json()["status"], now.json()["timing"], now.json()["send_at"]) == ("scheduled", "now", None)
    assert (booked.status_code, booked.json()["status"], booked.json()["send_at"]) == (200, "scheduled", None)
    assert approver_api.post(_item(billboard, "send-now")).status_code == 409


def test_pause_and_resume_bring_a_scheduled_item_back(
    member_api: APIClient, approver_api: APIClient, scheduled: ChannelItem
) -> None:
    paused = member_api.post(_item(scheduled, "pause"))
    by_editor = member_api.post(_item(scheduled, "resume"))
    resumed = approver_api.post(_item(scheduled, "resume"))

    assert (paused.status_code, paused.json()["status"]) == (200, "paused")
    assert (by_editor.status_code, _error(by_editor)["code"]) == (403, "sign_off_required")
    assert (resumed.status_code, resumed.json()["status"]) == (200, "scheduled")


def test_unschedule_returns_a_draft_and_cancel_is_final(
    member_api: APIClient, scheduled: ChannelItem
) -> None:
    unscheduled = member_api.post(_item(scheduled, "unschedule"))
    cancelled = member_api.post(_item(scheduled, "cancel"))
    again = member_api.post(_item(scheduled, "cancel"))

    assert (unscheduled.status_code, unscheduled.json()["status"], unscheduled.json()["send_at"]) == (
        200, "draft", None,
    )  # fmt: skip
    assert (cancelled.status_code, cancelled.json()["status"]) == (200, "cancelled")
    assert again.status_code == 409
    assert _error(again) == {
        "code": "invalid_state",
        "message": "This item is already cancelled.",
        "fields": {},
    }


@pytest.mark.parametrize("verb", ["pause", "resume", "unschedule"])
def test_a_step_the_draft_status_does_not_allow_is_a_409(
    approver_api: APIClient, email_item: ChannelItem, verb: str
) -> None:
    response = approver_api.post(_item(email_item, verb))

    assert response.status_code == 409
    assert _error(response)["code"] == "invalid_state"
    assert "draft" in _error(response)["message"]


# --- Test sends and previews ----------------------------------------------------------------------


def test_test_send_emails_the_callers_own_address_with_merge_tags_filled(
    member_api: APIClient, email_item: ChannelItem, audience: Audience
) -> None:
    response = member_api.post(_item(email_item, "test-send"), {"contact": audience.anna.id}, format="json")

    assert response.status_code == 200
    assert response.json() == {"sent_to": "member@acme.example"}  # the token's creator
    (message,) = mail.outbox
    assert (message.to, message.subject) == (["member@acme.example"], "[Test] Anna, spring is here")
    assert message.body == "Hi Anna, our spring range is in."


def test_test_send_texts_the_phone_given(
    member_api: APIClient, campaign: Campaign, audience: Audience, settings: Any
) -> None:
    settings.SMS_BACKEND = "apps.core.sms.LocmemSmsBackend"
    sms.outbox.clear()
    item = services.item_create(
        campaign=campaign, channel="sms", name="Text", sms_text="Hi {{ first_name }}!"
    )

    response = member_api.post(
        _item(item, "test-send"), {"contact": audience.anna.id, "phone": "+49 30 1234567"}, format="json"
    )

    assert response.json() == {"sent_to": "+49301234567"}
    assert [(message.to, message.body) for message in sms.outbox] == [("+49301234567", "Hi Anna!")]


def test_test_send_as_a_contact_of_another_workspace_is_a_400(
    member_api: APIClient, cast: Cast, email_item: ChannelItem
) -> None:
    theirs = ContactFactory(workspace=cast.other_workspace)

    response = member_api.post(_item(email_item, "test-send"), {"contact": theirs.id}, format="json")

    assert response.status_code == 400
    assert _error(response)["fields"] == {"contact": [f"There is no contact {theirs.id} in this workspace."]}
    assert not mail.outbox


def test_preview_renders_the_item_as_the_contact_asked_for(
    viewer_api: APIClient, email_item: ChannelItem, audience: Audience
) -> None:
    response = viewer_api.get(_item(email_item, "preview"), {"contact": audience.anna.id})

    assert response.status_code == 200
    assert response.json() == {
        "contact": {
            "id": audience.anna.id,
            "email": "anna@example.com",
            "first_name": "Anna",
            "last_name": "Schmidt",
        },
        "subject": "Anna, spring is here",
        "preheader": "New boots and tents",
        "body_html": "<p>Hi Anna, our spring range is in.</p>",
        "body_text": "Hi Anna, our spring range is in.",
        "sms_text": "",
        "sms": None,
        "payload": None,
        "problems": {},
    }


def test_preview_without_a_contact_uses_the_newest_in_the_audience(
    viewer_api: APIClient, email_item: ChannelItem, audience: Audience
) -> None:
    response = viewer_api.post(_item(email_item, "preview"))

    assert response.json()["contact"]["id"] == audience.ben.id  # the complainer is excluded
    assert response.json()["subject"] == "Hello, spring is here"  # Ben has no first name


def test_preview_as_an_unknown_contact_is_a_400(viewer_api: APIClient, email_item: ChannelItem) -> None:
    assert viewer_api.get(_item(email_item, "preview"), {"contact": "abc"}).status_code == 400
    assert viewer_api.get(_item(email_item, "preview"), {"contact": 999_999}).status_code == 400


def test_audience_counts_the_segments_minus_the_exclusions(
    viewer_api: APIClient, email_item: ChannelItem
) -> None:
    response = viewer_api.get(_item(email_item, "audience"))

    assert response.json() == {"count": 2}


# --- Direct mail and results ----------------------------------------------------------------------


def test_direct_mail_addresses_stream_as_a_csv_attachment(
    member_api: APIClient, postcard: ChannelItem
) -> None:
    response = member_api.get(_item(postcard, "addresses"))

    text = b"".join(response.streaming_content).decode()
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="postcard-{postcard.id}-addresses.csv"'
    assert text.lstrip("\ufeff").splitlines() == [
        "first_name,last_name,address_line1,address_line2,postal_code,city,region,country",
        "Anna,Schmidt,Torstraße 1,,10119,Berlin,,DE",  # Ben has no street; the complainer is excluded
    ]


def test_a_viewer_cannot_export_addresses(viewer_api: APIClient, postcard: ChannelItem) -> None:
    assert viewer_api.get(_item(postcard, "addresses")).status_code == 403


def test_only_a_direct_mail_item_has_addresses(member_api: APIClient, email_item: ChannelItem) -> None:
    response = member_api.get(_item(email_item, "addresses"))

    assert response.status_code == 400
    assert list(_error(response)["fields"]) == ["channel"]


def test_results_of_a_planned_channel_are_added_and_listed(
    member_api: APIClient, billboard: ChannelItem
) -> None:
    first = member_api.post(
        _item(billboard, "results"),
        {"recorded_on": "2026-03-01", "reach": 40000, "cost": "1200.00"},
        format="json",
    )
    member_api.post(
        _item(billboard, "results"), {"recorded_on": "2026-03-08", "responses": 12}, format="json"
    )

    listed = member_api.get(_item(billboard, "results")).json()
    assert first.status_code == 201
    assert (first.json()["reach"], first.json()["cost"], first.json()["recorded_by"]) == (
        40000, "1200.00", "member@acme.example",
    )  # fmt: skip
    assert [row["recorded_on"] for row in listed] == ["2026-03-08", "2026-03-01"]


def test_results_need_a_figure_and_a_planned_channel(
    member_api: APIClient, billboard: ChannelItem, email_item: ChannelItem
) -> None:
    empty = member_api.post(_item(billboard, "results"), {"recorded_on": "2026-03-01"}, format="json")
    sent = member_api.post(
        _item(email_item, "results"), {"recorded_on": "2026-03-01", "reach": 5}, format="json"
    )

    assert empty.status_code == sent.status_code == 400
    assert "at least one figure" in _error(empty)["message"]
    assert "planned channels" in _error(sent)["message"]


def test_a_result_is_deleted_only_through_its_own_item(
    member_api: APIClient, campaign: Campaign, billboard: ChannelItem
) -> None:
    poster = services.item_create(campaign=campaign, channel="print", name="Poster")
    result = services.result_add(item=billboard, recorded_on=dt.date(2026, 3, 1), reach=10)

    wrong_item = member_api.delete(f"{_item(poster)}results/{result.id}/")
    deleted = member_api.delete(f"{_item(billboard)}results/{result.id}/")

    assert wrong_item.status_code == 404
    assert deleted.status_code == 204
    assert not ChannelResult.objects.exists()
