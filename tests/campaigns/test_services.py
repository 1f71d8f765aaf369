"""Campaign and channel item services: content checks, the audience, sign-off, the state machine,
schedules in the recipients' time zones, test sends and results of planned channels."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.core.exceptions import ValidationError

from apps.campaigns import selectors, services
from apps.campaigns.choices import ItemStatus
from apps.campaigns.models import Campaign, ChannelItem
from apps.campaigns.rendering import render_for
from apps.core import sms
from apps.core.roles import Role
from tests.campaigns.conftest import Audience
from tests.conftest import Cast
from tests.factories import CustomFieldFactory, TeamFactory, WorkspaceFactory

pytestmark = pytest.mark.django_db

UTC = dt.UTC
NOW = dt.datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def _wall(*parts: int) -> dt.datetime:
    """A wall-clock time without a zone: what a person types into the scheduling dialog."""
    return dt.datetime(*parts)  # noqa: DTZ001


def _errors(raised: pytest.ExceptionInfo[ValidationError]) -> dict[str, list[str]]:
    return raised.value.message_dict


# --- Campaigns ------------------------------------------------------------------------------------


def test_campaign_names_are_unique_in_a_workspace_whatever_their_case(cast: Cast, campaign: Campaign) -> None:
    with pytest.raises(ValidationError) as raised:
        services.campaign_create(workspace=cast.workspace, name="SPRING LAUNCH")

    assert _errors(raised)["name"] == ["There is already a campaign “SPRING LAUNCH” in this workspace."]
    other = services.campaign_create(workspace=cast.other_workspace, name="Spring launch")
    assert other.workspace == cast.other_workspace


def test_campaign_refuses_an_end_before_its_start_and_another_workspaces_team(cast: Cast) -> None:
    foreign_team = TeamFactory(workspace=cast.other_workspace)

    with pytest.raises(ValidationError) as raised:
        services.campaign_create(
            workspace=cast.workspace,
            name="Autumn",
            starts_on=dt.date(2026, 10, 1),
            ends_on=dt.date(2026, 9, 1),
            owner_team=foreign_team,
        )

    assert _errors(raised)["ends_on"] == ["The campaign cannot end before it starts."]
    assert _errors(raised)["owner_team"] == ["Choose a team of this workspace."]


def test_campaign_update_bumps_its_version(campaign: Campaign) -> None:
    updated = services.campaign_update(campaign=campaign, goal="Sell more tents")

    assert updated.goal == "Sell more tents"
    assert updated.version == campaign.version + 1


def test_campaign_with_a_scheduled_item_cannot_be_deleted(cast: Cast, email_item: ChannelItem) -> None:
    services.item_schedule(item=email_item, actor=cast.owner, actor_role=Role.ADMIN)

    with pytest.raises(services.InvalidTransition, match="cancel or unschedule it"):
        services.campaign_delete(campaign=email_item.campaign)


# --- Content --------------------------------------------------------------------------------------


def test_email_item_starts_with_the_workspaces_sender_and_no_quiet_hours(
    cast: Cast, campaign: Campaign
) -> None:
    cast.workspace.default_sender_name = "Acme"
    cast.workspace.default_sender_email = "hello@acme.example"
    cast.workspace.save()

    item = services.item_create(campaign=campaign, channel="email", name="Welcome")

    assert (item.from_name, item.from_email) == ("Acme", "hello@acme.example")
    assert item.quiet_hours_start is None
    assert item.status == ItemStatus.DRAFT


def test_sms_item_has_default_quiet_hours(campaign: Campaign) -> None:
    item = services.item_create(campaign=campaign, channel="sms", name="Text", sms_text="Hi")

    assert (item.quiet_hours_start, item.quiet_hours_end) == (dt.time(21), dt.time(8))


def test_unknown_merge_tag_is_refused_with_its_line_and_column(campaign: Campaign) -> None:
    with pytest.raises(ValidationError) as raised:
        services.item_create(
            campaign=campaign,
            channel="email",
            name="Typo",
            subject="Hi",
            body_text="Hello\n  {{ frist_name }}",
        )

    (message,) = _errors(raised)["body_text"]
    assert message.startswith("line 2, column 3:")
    assert "frist_name" in message
    assert "first_name" in message


def test_custom_fields_of_the_workspace_are_merge_tags(cast: Cast, campaign: Campaign) -> None:
    CustomFieldFactory(workspace=cast.workspace, key="loyalty_tier", label="Loyalty tier", field_type="text")

    item = services.item_create(
        campaign=campaign, channel="sms", name="Tier", sms_text="You are {{ custom.loyalty_tier }}"
    )
    with pytest.raises(ValidationError) as raised:
        services.item_create(
            campaign=campaign, channel="sms", name="Other", sms_text="{{ custom.shoe_size }}"
        )

    assert item.pk
    assert "custom.shoe_size" in _errors(raised)["sms_text"][0]


def test_merge_tags_inside_a_webhook_payload_are_checked_with_their_path(campaign: Campaign) -> None:
    with pytest.raises(ValidationError) as raised:
        services.item_create(
            campaign=campaign,
            channel="webhook",
            name="Push",
            webhook_url="https://hooks.example.com/push",
            payload={"notification": {"title": "Hi {{ nickname }}"}},
        )

    assert _errors(raised)["payload"][0].startswith("notification.title: line 1, column 4:")


def test_a_field_of_another_channel_is_refused(campaign: Campaign) -> None:
    with pytest.raises(ValidationError) as raised:
        services.item_create(campaign=campaign, channel="sms", name="Text", sms_text="Hi", subject="Subject")

    assert _errors(raised)["subject"] == ["Subject is not part of an item of the channel SMS."]


def test_webhook_url_must_be_http_without_credentials(campaign: Campaign) -> None:
    with pytest.raises(ValidationError) as raised:
        services.item_create(
            campaign=campaign, channel="webhook", name="Hook", webhook_url="ftp://example.com/x"
        )
    with pytest.raises(ValidationError) as with_credentials:
        services.item_create(
            campaign=campaign, channel="webhook", name="Hook", webhook_url="https://user:pw@example.com/x"
        )

    assert "http or https" in _errors(raised)["webhook_url"][0]
    assert "credentials" in _errors(with_credentials)["webhook_url"][0]


def test_segments_of_another_workspace_are_refused(cast: Cast, campaign: Campaign) -> None:
    from apps.segments import services as segment_services

    theirs = segment_services.segment_create(workspace=cast.other_workspace, name="Theirs", rules={"all": []})

    with pytest.raises(ValidationError) as raised:
        services.item_create(campaign=campaign, channel="sms", name="Text", sms_text="Hi", segments=[theirs])

    assert _errors(raised)["segments"] == ["Choose segments of this workspace."]


def test_a_segment_cannot_be_audience_and_exclusion(campaign: Campaign, audience: Audience) -> None:
    with pytest.raises(ValidationError) as raised:
        services.item_create(
            campaign=campaign, channel="sms", name="Text", sms_text="Hi",
            segments=[audience.segment], exclusions=[audience.segment],
        )  # fmt: skip

    assert "Customers" in _errors(raised)["exclusions"][0]


def test_audience_is_the_segments_minus_the_exclusions(email_item: ChannelItem, audience: Audience) -> None:
    contacts = set(selectors.item_audience(item=email_item))

    assert contacts == {audience.anna, audience.ben}
    assert selectors.item_audience_count(item=email_item) == 2


def test_preview_renders_merge_tags_for_a_contact_and_defaults_when_empty(
    email_item: ChannelItem, audience: Audience
) -> None:
    as_anna = render_for(email_item, contact=audience.anna, custom_keys=[])
    as_ben = render_for(email_item, contact=audience.ben, custom_keys=[])

    assert as_anna.values["subject"] == "Anna, spring is here"
    assert as_ben.values["subject"] == "Hello, spring is here"
    assert as_anna.values["body_html"] == "<p>Hi Anna, our spring range is in.</p>"
    assert not as_anna.problems


def test_html_body_escapes_contact_values_but_text_does_not(
    email_item: ChannelItem, audience: Audience
) -> None:
    audience.anna.first_name = "<b>Anna</b> & co"

    rendered = render_for(email_item, contact=audience.anna, custom_keys=[])

    assert (
        rendered.values["body_html"] == "<p>Hi &lt;b&gt;Anna&lt;/b&gt; &amp; co, our spring range is in.</p>"
    )
    assert rendered.values["body_text"] == "Hi <b>Anna</b> & co, our spring range is in."


# --- Sign-off and scheduling ----------------------------------------------------------------------


def test_an_editor_cannot_schedule_without_sign_off(cast: Cast, email_item: ChannelItem) -> None:
    with pytest.raises(services.SignOffRequired, match="approver or an admin"):
        services.item_schedule(item=email_item, actor=cast.member, actor_role=Role.EDITOR)

    email_item.refresh_from_db()
    assert email_item.status == ItemStatus.DRAFT


def test_an_approver_schedules_and_the_signed_off_content_hash_is_kept(
    cast: Cast, email_item: ChannelItem
) -> None:
    item = services.item_schedule(
        item=email_item, actor=cast.owner, actor_role=Role.APPROVER, timing="at",
        send_at=_wall(2026, 12, 1, 9, 0), now=NOW,
    )  # fmt: skip

    assert item.status == ItemStatus.SCHEDULED
    assert item.send_at == dt.datetime(2026, 12, 1, 8, 0, tzinfo=UTC)  # 09:00 in Berlin (CET)
    assert item.cleared_hash == services.content_hash(item)
    assert item.scheduled_by == cast.owner


def test_scheduling_lists_what_the_item_still_lacks(cast: Cast, campaign: Campaign) -> None:
    cast.workspace.postal_address = ""
    cast.workspace.save()
    item = services.item_create(campaign=campaign, channel="email", name="Empty")

    with pytest.raises(ValidationError) as raised:
        services.item_schedule(item=item, actor=cast.owner, actor_role=Role.ADMIN)

    errors = _errors(raised)
    assert errors["subject"] == ["Write a subject line."]
    assert errors["segments"] == ["Choose at least one segment to send to."]
    assert "postal address" in errors["__all__"][0]


def test_a_time_in_the_past_is_refused(cast: Cast, email_item: ChannelItem) -> None:
    with pytest.raises(ValidationError) as raised:
        services.item_schedule(
            item=email_item, actor=cast.owner, actor_role=Role.ADMIN, timing="at",
            send_at=_wall(2026, 11, 26, 12, 30), now=NOW,
        )  # fmt: skip

    assert _errors(raised)["send_at"] == ["That moment has passed: choose a time in the future."]


def test_recipient_local_timing_is_due_when_the_first_zone_reaches_it(
    cast: Cast, email_item: ChannelItem
) -> None:
    item = services.item_schedule(
        item=email_item, actor=cast.owner, actor_role=Role.ADMIN, timing="recipient_local",
        send_at=_wall(2026, 12, 1, 9, 0), now=NOW,
    )  # fmt: skip

    assert (item.local_send_date, item.local_send_time) == (dt.date(2026, 12, 1), dt.time(9, 0))
    # 09:00 at UTC+14 (Kiritimati) is 19:00 UTC the day before.
    assert item.send_at == dt.datetime(2026, 11, 30, 19, 0, tzinfo=UTC)


def test_recipient_local_time_passed_everywhere_is_refused(cast: Cast, email_item: ChannelItem) -> None:
    with pytest.raises(ValidationError) as raised:
        services.item_schedule(
            item=email_item, actor=cast.owner, actor_role=Role.ADMIN, timing="recipient_local",
            send_at=_wall(2026, 11, 25, 9, 0), now=NOW,
        )  # fmt: skip

    assert "has passed in every time zone" in _errors(raised)["send_at"][0]


def test_a_schedule_across_a_dst_change_keeps_the_local_wall_time(
    cast: Cast, email_item: ChannelItem
) -> None:
    """Scheduled in winter for a day in summer time: 09:00 Berlin is 07:00 UTC then, not 08:00."""
    item = services.item_schedule(
        item=email_item, actor=cast.owner, actor_role=Role.ADMIN, timing="at",
        send_at=_wall(2027, 4, 1, 9, 0), now=NOW,
    )  # fmt: skip

    assert item.send_at == dt.datetime(2027, 4, 1, 7, 0, tzinfo=UTC)
    assert item.send_at.astimezone(ZoneInfo("Europe/Berlin")).hour == 9


def test_a_scheduled_item_cannot_be_edited_until_unscheduled(cast: Cast, email_item: ChannelItem) -> None:
    services.item_schedule(item=email_item, actor=cast.owner, actor_role=Role.ADMIN)

    with pytest.raises(services.InvalidTransition, match="unschedule it"):
        services.item_update(item=email_item, subject="Changed")
    draft = services.item_unschedule(item=email_item)
    changed = services.item_update(item=draft, subject="Changed")

    assert changed.subject == "Changed"
    assert changed.status == ItemStatus.DRAFT
    assert changed.cleared_hash == ""


def test_pause_resume_and_cancel_follow_the_state_machine(cast: Cast, email_item: ChannelItem) -> None:
    services.item_schedule(item=email_item, actor=cast.owner, actor_role=Role.ADMIN)

    paused = services.item_pause(item=email_item, actor=cast.member)
    with pytest.raises(services.SignOffRequired):
        services.item_resume(item=paused, actor=cast.member, actor_role=Role.EDITOR)
    resumed = services.item_resume(item=paused, actor=cast.owner, actor_role=Role.ADMIN)
    cancelled = services.item_cancel(item=resumed)

    assert paused.status == ItemStatus.PAUSED
    assert resumed.status == ItemStatus.SCHEDULED
    assert cancelled.status == ItemStatus.CANCELLED
    with pytest.raises(services.InvalidTransition, match="already cancelled"):
        services.item_cancel(item=cancelled)
    with pytest.raises(services.InvalidTransition, match="Only a draft or a scheduled item"):
        services.item_schedule(item=cancelled, actor=cast.owner, actor_role=Role.ADMIN)


def test_a_draft_cannot_be_paused(email_item: ChannelItem) -> None:
    with pytest.raises(services.InvalidTransition, match="this one is draft"):
        services.item_pause(item=email_item)


def test_resume_refuses_content_that_changed_after_sign_off(cast: Cast, email_item: ChannelItem) -> None:
    services.item_schedule(item=email_item, actor=cast.owner, actor_role=Role.ADMIN)
    services.item_pause(item=email_item)
    ChannelItem.objects.filter(pk=email_item.pk).update(subject="Sneaked in")  # a raw data fix

    with pytest.raises(services.SignOffRequired, match="changed after it was signed off"):
        services.item_resume(item=email_item, actor=cast.owner, actor_role=Role.ADMIN)


def test_planned_channels_are_booked_not_sent(cast: Cast, campaign: Campaign) -> None:
    post = services.item_create(
        campaign=campaign, channel="social", name="Launch post", content="Spring is here",
        placement="Instagram", budget="250.00", starts_on=dt.date(2026, 12, 1), ends_on=dt.date(2026, 12, 7),
    )  # fmt: skip

    booked = services.item_schedule(item=post, actor=cast.owner, actor_role=Role.ADMIN)

    assert booked.status == ItemStatus.SCHEDULED
    assert booked.send_at is None
    with pytest.raises(services.InvalidTransition, match="run by its team"):
        services.item_send_now(item=booked, actor=cast.owner, actor_role=Role.ADMIN)
    with pytest.raises(services.InvalidTransition, match="nothing to pause"):
        services.item_pause(item=booked)


def test_planned_fields_are_refused_on_sent_channels(campaign: Campaign) -> None:
    with pytest.raises(ValidationError) as raised:
        services.item_create(
            campaign=campaign, channel="sms", name="Text", sms_text="Hi", placement="Billboard"
        )

    assert "planned channels" in _errors(raised)["placement"][0]


def test_content_hash_covers_copy_audience_and_schedule_but_not_the_name(
    email_item: ChannelItem, audience: Audience
) -> None:
    before = services.content_hash(email_item)
    renamed = services.item_update(item=email_item, name="Renamed")
    after_rename = services.content_hash(renamed)
    retargeted = services.item_update(item=renamed, exclusions=[])

    assert after_rename == before
    assert services.content_hash(retargeted) != before


# --- Test sends, direct mail and results ------------------------------------------------------------


def test_test_send_emails_the_tester_as_the_chosen_contact(
    cast: Cast, email_item: ChannelItem, audience: Audience
) -> None:
    sent_to = services.item_test_send(item=email_item, actor=cast.member, contact=audience.anna)

    assert sent_to == "member@acme.example"
    (message,) = mail.outbox
    assert message.to == ["member@acme.example"]
    assert message.subject == "[Test] Anna, spring is here"
    assert message.alternatives[0][0] == "<p>Hi Anna, our spring range is in.</p>"


def test_test_send_texts_the_given_phone(
    cast: Cast, campaign: Campaign, audience: Audience, settings
) -> None:
    settings.SMS_BACKEND = "apps.core.sms.LocmemSmsBackend"
    sms.outbox.clear()
    item = services.item_create(
        campaign=campaign,
        channel="sms",
        name="Text",
        sms_text="Hi {{ first_name }}!",
        segments=[audience.segment],
    )

    sent_to = services.item_test_send(
        item=item, actor=cast.member, contact=audience.anna, phone="030 1234567"
    )

    assert sent_to == "+49301234567"
    assert [(message.to, message.body) for message in sms.outbox] == [("+49301234567", "Hi Anna!")]


def test_test_send_of_a_text_needs_a_valid_phone(cast: Cast, campaign: Campaign) -> None:
    item = services.item_create(campaign=campaign, channel="sms", name="Text", sms_text="Hi")

    with pytest.raises(ValidationError) as raised:
        services.item_test_send(item=item, actor=cast.member, phone="12")

    assert "phone" in _errors(raised)


def test_direct_mail_exports_the_print_ready_addresses_of_its_audience(
    campaign: Campaign, audience: Audience
) -> None:
    postcard = services.item_create(
        campaign=campaign, channel="direct_mail", name="Postcard",
        segments=[audience.segment], exclusions=[audience.exclusion],
    )  # fmt: skip

    lines = "".join(selectors.direct_mail_csv(item=postcard)).splitlines()
    counts = selectors.direct_mail_counts(item=postcard)

    assert (
        lines[0] == "\ufefffirst_name,last_name,address_line1,address_line2,postal_code,city,region,country"
    )
    assert lines[1:] == ["Anna,Schmidt,Torstraße 1,,10119,Berlin,,DE"]  # Ben has no street; Carl is excluded
    assert (counts.audience, counts.with_address, counts.missing_address) == (2, 1, 1)


def test_results_of_planned_channels_add_up(cast: Cast, campaign: Campaign) -> None:
    post = services.item_create(campaign=campaign, channel="outdoor", name="Billboard")
    services.result_add(
        item=post, actor=cast.member, recorded_on=dt.date(2026, 12, 1), reach=1000, cost="99.50"
    )
    services.result_add(item=post, recorded_on=dt.date(2026, 12, 2), reach=500, responses=12, conversions=3)

    totals = selectors.result_totals(item=post)

    assert (totals.reach, totals.responses, totals.conversions, str(totals.cost)) == (1500, 12, 3, "99.50")


def test_results_need_a_figure_and_are_not_for_sent_channels(cast: Cast, email_item: ChannelItem) -> None:
    with pytest.raises(ValidationError) as raised:
        services.result_add(item=email_item, recorded_on=dt.date(2026, 12, 1))

    messages = _errors(raised)["__all__"]
    assert "Ensemble measures the results of what it sends" in messages[0]
    assert "at least one figure" in messages[1]


def test_nothing_crosses_workspaces(cast: Cast, email_item: ChannelItem) -> None:
    stranger = WorkspaceFactory()

    assert not selectors.campaign_list(workspace=stranger).exists()
    with pytest.raises(Exception, match="No channel item matches"):
        selectors.item_get(workspace=stranger, item_id=email_item.id)


def test_a_payload_nested_too_deep_is_refused_not_crashed(campaign: Campaign) -> None:
    payload: dict[str, object] = {}
    for _ in range(2000):
        payload = {"a": payload}

    with pytest.raises(ValidationError) as raised:
        services.item_create(
            campaign=campaign,
            channel="webhook",
            name="Deep",
            webhook_url="https://hooks.example.com",
            payload=payload,
        )

    assert _errors(raised)["payload"] == ["The payload nests at most 20 levels deep."]


def test_rendered_copy_is_plain_text_that_our_pages_escape(
    email_item: ChannelItem, audience: Audience
) -> None:
    from django.template import Context, Template
    from django.utils.safestring import SafeData

    audience.anna.first_name = "<script>alert(1)</script>"

    rendered = render_for(email_item, contact=audience.anna, custom_keys=[])
    page = Template("{{ subject }}").render(Context({"subject": rendered.values["subject"]}))

    assert not isinstance(rendered.values["subject"], SafeData)
    assert not isinstance(rendered.values["body_html"], SafeData)
    assert page == "&lt;script&gt;alert(1)&lt;/script&gt;, spring is here"
