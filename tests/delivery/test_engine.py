"""The delivery engine: launch by compare-and-set, the audience frozen into the ledger with the
reason each excluded recipient is left out, batches claimed and handed over one by one, retries,
the sweeper, the throttle and the automatic pause."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

from apps.campaigns import services as campaign_services
from apps.campaigns.choices import ItemStatus
from apps.campaigns.models import Campaign, ChannelItem
from apps.contacts.choices import Consent
from apps.contacts.cleaning import address_hash
from apps.contacts.models import Contact, Suppression
from apps.core.roles import Role
from apps.delivery import engine
from apps.delivery.channels import SendError
from apps.delivery.choices import DeliveryStatus, ExclusionReason
from apps.delivery.models import Delivery, Launch, TokenBucket
from apps.segments import services as segment_services
from tests.conftest import Cast
from tests.factories import ContactFactory, TagFactory

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 26, 12, 0, tzinfo=dt.UTC)


def _wall(*parts: int) -> dt.datetime:
    """A wall-clock time without a zone, as typed into the scheduling dialog."""
    return dt.datetime(*parts)  # noqa: DTZ001


@dataclass
class FakeSender:
    """Records hand-overs; `unrenderable` (preparing) and `fail` (the hand-over) decide per contact
    whether to raise."""

    sent: list[str] = field(default_factory=list)
    fail: Callable[[Contact], SendError | None] = lambda _contact: None
    unrenderable: Callable[[Contact], SendError | None] = lambda _contact: None
    opened: int = 0

    def open(self) -> None:
        self.opened += 1

    def close(self) -> None:
        pass

    def prepare(self, delivery: Delivery, contact: Contact) -> tuple[Delivery, Contact]:
        error = self.unrenderable(contact)
        if error is not None:
            raise error
        return delivery, contact

    def hand_over(self, prepared: tuple[Delivery, Contact]) -> str:
        delivery, contact = prepared
        error = self.fail(contact)
        if error is not None:
            raise error
        assert Delivery.objects.get(id=delivery.id).status == DeliveryStatus.SENDING  # committed first
        self.sent.append(delivery.address)
        return f"provider-{delivery.id}"


@pytest.fixture
def sender(monkeypatch: pytest.MonkeyPatch) -> FakeSender:
    fake = FakeSender()
    monkeypatch.setattr(engine, "sender_for", lambda _item, **_kwargs: fake)
    return fake


@pytest.fixture
def newsletter(cast: Cast) -> dict[str, Contact]:
    """Contacts tagged `newsletter`, one for each way of being in or out of an email send."""
    cast.workspace.postal_address = "Acme Outdoor GmbH, Torstraße 1, Berlin"
    cast.workspace.time_zone = "Europe/Berlin"
    cast.workspace.save()
    tag = TagFactory(workspace=cast.workspace, name="newsletter")

    def make(name: str, **values: object) -> Contact:
        values.setdefault("email_consent", Consent.OPTED_IN)
        return ContactFactory(workspace=cast.workspace, first_name=name, tags=[tag], **values)

    people = {
        "anna": make("Anna", email="anna@example.com", timezone="Europe/Berlin"),
        "ben": make("Ben", email="ben@example.com", timezone="Asia/Tokyo"),
        "olga": make("Olga", email="olga@example.com", email_consent=Consent.OPTED_OUT),
        "uwe": make("Uwe", email="uwe@example.com", email_consent=Consent.UNKNOWN),
        "pia": make("Pia", email="pia@example.com", email_consent=Consent.PENDING),
        "nora": make("Nora", email="", email_normalized=""),
        "sam": make("Sam", email="sam@example.com"),
    }
    Suppression.objects.create(
        workspace=cast.workspace, channel="email", address_hash=address_hash("email", "sam@example.com"),
        reason="bounced",
    )  # fmt: skip
    return people


@pytest.fixture
def campaign(cast: Cast) -> Campaign:
    return campaign_services.campaign_create(workspace=cast.workspace, name="Spring launch")


def _email(campaign: Campaign, **values: object) -> ChannelItem:
    segment = segment_services.segment_create(
        workspace=campaign.workspace,
        name=f"Newsletter {ChannelItem.objects.count()}",
        rules={"tag": "newsletter"},
    )
    return campaign_services.item_create(
        campaign=campaign, channel="email", name="Launch email", subject="Hi {{ first_name }}", body_text="Hello",
        from_email="shop@acme.example", segments=[segment], **values,
    )  # fmt: skip


def _schedule(cast: Cast, item: ChannelItem, **timing: object) -> ChannelItem:
    return campaign_services.item_schedule(
        item=item, actor=cast.owner, actor_role=Role.ADMIN, now=NOW - dt.timedelta(minutes=5), **timing
    )


def _by_first_name(item: ChannelItem) -> dict[str, Delivery]:
    names = dict(Contact.objects.values_list("id", "first_name"))
    return {names[row.contact_id]: row for row in Delivery.objects.filter(item=item)}


# --- Launch and freeze ------------------------------------------------------------------------------


def test_launch_freezes_the_audience_with_the_reason_for_everyone_left_out(
    cast: Cast, campaign: Campaign, newsletter: dict[str, Contact]
) -> None:
    item = _schedule(cast, _email(campaign))

    launched = engine.launch_due_items(now=NOW)

    rows = _by_first_name(item)
    assert launched == [item.id]
    assert {name: (row.status, row.reason) for name, row in rows.items()} == {
        "Anna": (DeliveryStatus.PENDING, ""),
        "Ben": (DeliveryStatus.PENDING, ""),
        "Olga": (DeliveryStatus.EXCLUDED, ExclusionReason.UNSUBSCRIBED),
        "Uwe": (DeliveryStatus.EXCLUDED, ExclusionReason.NO_CONSENT),
        "Pia": (DeliveryStatus.EXCLUDED, ExclusionReason.DOUBLE_OPT_IN),
        "Nora": (DeliveryStatus.EXCLUDED, ExclusionReason.MISSING_ADDRESS),
        "Sam": (DeliveryStatus.EXCLUDED, ExclusionReason.SUPPRESSED),
    }
    assert rows["Anna"].address == "anna@example.com"
    assert rows["Anna"].content_hash == item.cleared_hash
    item.refresh_from_db()
    assert item.status == ItemStatus.SENDING
    assert Launch.objects.get(item=item).counts == {
        "pending": 2, "unsubscribed": 1, "no_consent": 1, "double_opt_in": 1, "missing_address": 1, "suppressed": 1,
    }  # fmt: skip


def test_a_second_tick_launches_nothing_and_inserts_nothing(
    cast: Cast, campaign: Campaign, newsletter: dict[str, Contact]
) -> None:
    item = _schedule(cast, _email(campaign))

    first = engine.launch_due_items(now=NOW)
    second = engine.launch_due_items(now=NOW + dt.timedelta(minutes=1))
    engine.freeze(item=ChannelItem.objects.get(id=item.id), now=NOW)  # a repeated freeze, too

    assert (first, second) == ([item.id], [])
    assert Delivery.objects.filter(item=item).count() == len(newsletter)


def test_an_item_not_yet_due_waits(cast: Cast, campaign: Campaign, newsletter: dict[str, Contact]) -> None:
    item = _schedule(
        cast, _email(campaign), timing="at", send_at=dt.datetime(2026, 11, 26, 14, 0, tzinfo=dt.UTC)
    )

    assert engine.launch_due_items(now=NOW) == []
    assert engine.launch_due_items(now=dt.datetime(2026, 11, 26, 14, 0, tzinfo=dt.UTC)) == [item.id]


def test_exclusion_segments_never_enter_the_ledger(
    cast: Cast, campaign: Campaign, newsletter: dict[str, Contact]
) -> None:
    vip = TagFactory(workspace=cast.workspace, name="press")
    newsletter["anna"].tags.add(vip)
    press = segment_services.segment_create(workspace=cast.workspace, name="Press", rules={"tag": "press"})
    item = _schedule(cast, _email(campaign, exclusions=[press]))

    engine.launch_due_items(now=NOW)

    assert "Anna" not in _by_first_name(item)


def test_each_recipient_records_the_segments_they_qualified_through(
    cast: Cast, campaign: Campaign, newsletter: dict[str, Contact]
) -> None:
    berlin = segment_services.segment_create(
        workspace=cast.workspace,
        name="Berlin time",
        rules={"field": "timezone", "op": "eq", "value": "Europe/Berlin"},
    )
    item = _email(campaign)
    campaign_services.item_update(item=item, segments=[*item.segments.all(), berlin])
    _schedule(cast, item)

    engine.launch_due_items(now=NOW)

    launch = Launch.objects.get(item=item)
    rows = _by_first_name(item)
    newsletter_bit = 1 << launch.segment_ids.index(item.segments.exclude(id=berlin.id).get().id)
    berlin_bit = 1 << launch.segment_ids.index(berlin.id)
    assert rows["Anna"].segment_mask == newsletter_bit | berlin_bit
    assert rows["Ben"].segment_mask == newsletter_bit


def test_recipient_local_time_is_each_recipients_own(
    cast: Cast, campaign: Campaign, newsletter: dict[str, Contact]
) -> None:
    item = _schedule(cast, _email(campaign), timing="recipient_local", send_at=_wall(2026, 12, 1, 9, 0))

    engine.launch_due_items(now=dt.datetime(2026, 11, 30, 19, 0, tzinfo=dt.UTC))

    rows = _by_first_name(item)
    assert rows["Ben"].next_attempt_at == dt.datetime(2026, 12, 1, 0, 0, tzinfo=dt.UTC)  # 09:00 in Tokyo
    assert rows["Anna"].next_attempt_at == dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.UTC)  # 09:00 in Berlin
    assert rows["Uwe"].next_attempt_at == dt.datetime(
        2026, 12, 1, 8, 0, tzinfo=dt.UTC
    )  # no zone: the workspace's


def test_texts_to_a_shared_phone_number_go_once(cast: Cast, campaign: Campaign) -> None:
    cast.workspace.save()
    tag = TagFactory(workspace=cast.workspace, name="family")
    for name in ("Mum", "Dad"):
        ContactFactory(
            workspace=cast.workspace, first_name=name, phone="030 1234567", phone_e164="+49301234567",
            sms_consent=Consent.OPTED_IN, tags=[tag],
        )  # fmt: skip
    segment = segment_services.segment_create(
        workspace=cast.workspace, name="Family", rules={"tag": "family"}
    )
    item = campaign_services.item_create(
        campaign=campaign, channel="sms", name="Text", sms_text="Hi", segments=[segment],
        quiet_hours_start=None, quiet_hours_end=None,
    )  # fmt: skip
    _schedule(cast, item)

    engine.launch_due_items(now=NOW)

    rows = _by_first_name(item)
    assert (rows["Mum"].status, rows["Dad"].reason) == (
        DeliveryStatus.PENDING,
        ExclusionReason.DUPLICATE_ADDRESS,
    )


def test_contact_pressure_leaves_out_who_had_enough_messages_lately(
    cast: Cast, campaign: Campaign, newsletter: dict[str, Contact]
) -> None:
    cast.workspace.contact_pressure_limit, cast.workspace.contact_pressure_days = 1, 7
    cast.workspace.save()
    earlier = _schedule(cast, _email(campaign))
    engine.launch_due_items(now=NOW)
    Delivery.objects.filter(item=earlier, contact=newsletter["anna"]).update(
        status=DeliveryStatus.SENT, sent_at=NOW
    )
    Delivery.objects.filter(item=earlier, status=DeliveryStatus.PENDING).update(
        status=DeliveryStatus.CANCELLED
    )
    other = campaign_services.campaign_create(workspace=cast.workspace, name="Summer")
    item = _schedule(cast, _email(other))

    engine.launch_due_items(now=NOW + dt.timedelta(days=2))

    rows = _by_first_name(item)
    assert rows["Anna"].reason == ExclusionReason.CONTACT_PRESSURE
    assert rows["Ben"].status == DeliveryStatus.PENDING


def test_content_changed_behind_the_sign_off_pauses_instead_of_sending(
    cast: Cast, campaign: Campaign, newsletter: dict[str, Contact]
) -> None:
    item = _schedule(cast, _email(campaign))
    ChannelItem.objects.filter(id=item.id).update(subject="Changed by a raw data fix")

    assert engine.launch_due_items(now=NOW) == []

    item.refresh_from_db()
    assert item.status == ItemStatus.PAUSED
    assert "sign-off" in item.pause_reason
    assert not Delivery.objects.filter(item=item).exists()


# --- Batches ----------------------------------------------------------------------------------------


def _launched(cast: Cast, campaign: Campaign) -> ChannelItem:
    item = _schedule(cast, _email(campaign))
    engine.launch_due_items(now=NOW)
    return ChannelItem.objects.get(id=item.id)


def test_a_batch_hands_over_each_pending_recipient_once(
    cast: Cast, campaign: Campaign, newsletter: dict[str, Contact], sender: FakeSender
) -> None:
    item = _launched(cast, campaign)

    first = engine.deliver_batch(item_id=item.id, worker="w1")
    second = engine.deliver_batch(item_id=item.id, worker="w2")

    assert sorted(sender.sent) == ["anna@example.com", "ben@example.com"]
    assert (first.sent, second.claimed) == (2, 0)
    rows = _by_first_name(item)
    assert rows["Anna"].status == DeliveryStatus.SENT
    assert rows["Anna"].provider_id == f"provider-{rows['Anna'].id}"
    assert rows["Anna"].attempts == 1
    assert engine.finish_if_done(item_id=item.id)
    item.refresh_from_db()
    assert item.status == ItemStatus.SENT


def test_an_unsubscribe_after_the_freeze_is_honoured_before_sending(
    cast: Cast, campaign: Campaign, newsletter: dict[str, Contact], sender: FakeSender
) -> None:
    item = _launched(cast, campaign)
    Contact.objects.filter(id=newsletter["ben"].id).update(email_consent=Consent.OPTED_OUT)

    result = engine.deliver_batch(item_id=item.id, worker="w1")

    assert sender.sent == ["anna@example.com"]
    assert result.excluded == 1
    assert _by_first_name(item)["Ben"].reason == ExclusionReason.UNSUBSCRIBED


def test_a_suppression_after_the_freeze_is_honoured_before_sending(
    cast: Cast, campaign: Campaign, newsletter: dict[str, Contact], sender: FakeSender
) -> None:
    item = _launched(cast, campaign)
    Suppression.objects.create(
        workspace=cast.workspace, channel="email", address_hash=address_hash("email", "anna@example.com"),
        reason="complaint",
    )  # fmt: skip

    engine.deliver_batch(item_id=item.id, worker="w1")

    assert sender.sent == ["ben@example.com"]


def test_a_paused_item_sends_nothing_and_resumes_where_it_stopped(
    cast: Cast, campaign: Campaign, newsletter: dict[str, Contact], sender: FakeSender
) -> None:
    item = _launched(cast, campaign)
    paused = campaign_services.item_pause(item=item, actor=cast.member)

    nothing = engine.deliver_batch(item_id=item.id, worker="w1")
    campaign_services.item_resume(item=paused, actor=cast.owner, actor_role=Role.ADMIN)
    resumed = engine.deliver_batch(item_id=item.id, worker="w1")

    assert (nothing.claimed, resumed.sent) == (0, 2)
    assert sorted(sender.sent) == ["anna@example.com", "ben@example.com"]


def test_a_cancelled_item_drops_its_queue(
    cast: Cast, campaign: Campaign, newsletter: dict[str, Contact], sender: FakeSender
) -> None:
    item = _launched(cast, campaign)
    campaign_services.item_cancel(item=item)

    engine.deliver_batch(item_id=item.id, worker="w1")

    assert sender.sent == []
    assert set(Delivery.objects.filter(item=item).values_list("status", flat=True)) == {
        DeliveryStatus.CANCELLED, DeliveryStatus.EXCLUDED,
    }  # fmt: skip


def test_a_transient_error_waits_with_backoff_and_a_hard_bounce_suppresses(
    cast: Cast, campaign: Campaign, newsletter: dict[str, Contact], sender: FakeSender
) -> None:
    item = _launched(cast, campaign)
    sender.fail = lambda contact: {
        "Anna": SendError("421 try again later", transient=True),
        "Ben": SendError("550 no such user", transient=False, bounce=True),
    }.get(contact.first_name)

    engine.deliver_batch(item_id=item.id, worker="w1", now=NOW)

    rows = _by_first_name(item)
    assert rows["Anna"].status == DeliveryStatus.RETRY_WAIT
    assert rows["Anna"].next_attempt_at > NOW
    assert rows["Anna"].error == "421 try again later"
    assert rows["Ben"].status == DeliveryStatus.FAILED
    assert Suppression.objects.filter(address_hash=address_hash("email", "ben@example.com")).exists()


def test_a_message_that_cannot_be_prepared_fails_without_reaching_the_provider(
    cast: Cast, campaign: Campaign, newsletter: dict[str, Contact], sender: FakeSender
) -> None:
    item = _launched(cast, campaign)
    sender.unrenderable = lambda contact: (
        SendError("The subject does not compile: line 1", transient=False)
        if contact.first_name == "Anna"
        else None
    )

    result = engine.deliver_batch(item_id=item.id, worker="w1", now=NOW)

    anna = _by_first_name(item)["Anna"]
    assert (anna.status, anna.attempts) == (DeliveryStatus.FAILED, 0)  # never `sending`
    assert anna.error == "The subject does not compile: line 1"
    assert sender.sent == ["ben@example.com"]
    assert (result.sent, result.failed) == (1, 1)


def test_retries_stop_after_the_last_attempt(
    cast: Cast, campaign: Campaign, newsletter: dict[str, Contact], sender: FakeSender, settings
) -> None:
    settings.DELIVERY_MAX_ATTEMPTS = 2
    item = _launched(cast, campaign)
    sender.fail = lambda contact: (
        SendError("451 busy", transient=True) if contact.first_name == "Anna" else None
    )

    engine.deliver_batch(item_id=item.id, worker="w1", now=NOW)
    Delivery.objects.filter(item=item, status=DeliveryStatus.RETRY_WAIT).update(next_attempt_at=NOW)
    engine.deliver_batch(item_id=item.id, worker="w1", now=NOW + dt.timedelta(hours=1))

    anna = _by_first_name(item)["Anna"]
    assert (anna.status, anna.attempts) == (DeliveryStatus.FAILED, 2)


def test_too_many_failures_pause_the_send(
    cast: Cast, campaign: Campaign, newsletter: dict[str, Contact], sender: FakeSender, settings
) -> None:
    settings.DELIVERY_PAUSE_MIN_ATTEMPTS = 2
    item = _launched(cast, campaign)
    sender.fail = lambda _contact: SendError("401 bad API key", transient=False)

    engine.deliver_batch(item_id=item.id, worker="w1")

    item.refresh_from_db()
    assert item.status == ItemStatus.PAUSED
    assert "2 of 2 messages" in item.pause_reason


def test_the_throttle_is_one_bucket_for_every_worker(
    cast: Cast, campaign: Campaign, newsletter: dict[str, Contact]
) -> None:
    item = _email(campaign, throttle_per_minute=60)  # 1 a second, at most 10 at once

    first = engine.take_tokens(item=item, want=500, now=NOW)
    second = engine.take_tokens(item=item, want=500, now=NOW)
    later = engine.take_tokens(item=item, want=500, now=NOW + dt.timedelta(seconds=3))

    assert (first, second, later) == (10, 0, 3)
    assert TokenBucket.objects.count() == 1


# --- The sweeper ------------------------------------------------------------------------------------


def test_the_sweeper_releases_stale_claims_and_marks_stale_hand_overs_unknown(
    cast: Cast, campaign: Campaign, newsletter: dict[str, Contact]
) -> None:
    item = _launched(cast, campaign)
    stale = NOW - dt.timedelta(minutes=10)
    rows = _by_first_name(item)
    Delivery.objects.filter(id=rows["Anna"].id).update(status=DeliveryStatus.CLAIMED, claimed_at=stale)
    Delivery.objects.filter(id=rows["Ben"].id).update(
        status=DeliveryStatus.SENDING, claimed_at=stale, attempts=1
    )

    swept = engine.sweep(now=NOW)
    again = engine.sweep(now=NOW)

    rows = _by_first_name(item)
    assert rows["Anna"].status == DeliveryStatus.PENDING
    # An email whose hand-over may have happened is retried once, with the same Message-ID.
    assert rows["Ben"].status == DeliveryStatus.PENDING
    assert (swept["released"], swept["unknown"], swept["retried_unknown"]) == (1, 1, 1)
    assert again["retried_unknown"] == 0


def test_an_unknown_email_is_retried_only_once(
    cast: Cast, campaign: Campaign, newsletter: dict[str, Contact]
) -> None:
    item = _launched(cast, campaign)
    ben = _by_first_name(item)["Ben"]
    Delivery.objects.filter(id=ben.id).update(status=DeliveryStatus.UNKNOWN, attempts=2)

    engine.sweep(now=NOW)

    assert Delivery.objects.get(id=ben.id).status == DeliveryStatus.UNKNOWN


def test_an_unknown_text_is_left_for_review(cast: Cast, campaign: Campaign) -> None:
    tag = TagFactory(workspace=cast.workspace, name="texts")
    ContactFactory(
        workspace=cast.workspace, phone_e164="+49301234567", sms_consent=Consent.OPTED_IN, tags=[tag]
    )
    segment = segment_services.segment_create(workspace=cast.workspace, name="Texts", rules={"tag": "texts"})
    item = campaign_services.item_create(
        campaign=campaign, channel="sms", name="Text", sms_text="Hi", segments=[segment],
        quiet_hours_start=None, quiet_hours_end=None,
    )  # fmt: skip
    _schedule(cast, item)
    engine.launch_due_items(now=NOW)
    Delivery.objects.filter(item=item).update(
        status=DeliveryStatus.SENDING, claimed_at=NOW - dt.timedelta(minutes=10), attempts=1
    )

    engine.sweep(now=NOW)

    assert Delivery.objects.get(item=item).status == DeliveryStatus.UNKNOWN


def test_the_sweeper_finishes_an_item_with_nothing_open(
    cast: Cast, campaign: Campaign, newsletter: dict[str, Contact], sender: FakeSender
) -> None:
    item = _launched(cast, campaign)
    engine.deliver_batch(item_id=item.id, worker="w1")

    swept = engine.sweep()

    item.refresh_from_db()
    assert swept["finished"] == 1
    assert item.status == ItemStatus.SENT
    assert item.finished_at is not None


# --- Daylight saving time ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("zone_name", "wall", "fires_at"),
    [
        # Clocks jump 02:00 -> 03:00: 02:30 does not exist; it fires at 03:30 local.
        ("Europe/Berlin", _wall(2027, 3, 28, 2, 30), dt.datetime(2027, 3, 28, 1, 30, tzinfo=dt.UTC)),
        ("America/New_York", _wall(2027, 3, 14, 2, 30), dt.datetime(2027, 3, 14, 7, 30, tzinfo=dt.UTC)),
        # Clocks fall back 03:00 -> 02:00 (Berlin) / 02:00 -> 01:00 (New York): it fires once, the first time.
        ("Europe/Berlin", _wall(2027, 10, 31, 2, 30), dt.datetime(2027, 10, 31, 0, 30, tzinfo=dt.UTC)),
        ("America/New_York", _wall(2027, 11, 7, 1, 30), dt.datetime(2027, 11, 7, 5, 30, tzinfo=dt.UTC)),
    ],
)
def test_a_schedule_on_a_dst_change_day_fires_once_by_the_documented_rule(
    cast: Cast, campaign: Campaign, newsletter: dict[str, Contact], zone_name: str, wall: dt.datetime,
    fires_at: dt.datetime,
) -> None:  # fmt: skip
    cast.workspace.time_zone = zone_name
    cast.workspace.save()
    item = campaign_services.item_schedule(
        item=_email(campaign), actor=cast.owner, actor_role=Role.ADMIN, timing="at", send_at=wall,
        now=dt.datetime(2027, 1, 1, tzinfo=dt.UTC),
    )  # fmt: skip

    ticks = [fires_at + dt.timedelta(minutes=minute) for minute in range(-150, 151)]  # every minute, 5 hours
    launches = [tick for tick in ticks if engine.launch_due_items(now=tick)]

    assert launches == [fires_at]
    assert Launch.objects.get(item=item).launched_at == fires_at


def test_recipient_local_time_on_a_dst_change_day_follows_the_same_rule(
    cast: Cast, campaign: Campaign, newsletter: dict[str, Contact]
) -> None:
    item = _schedule(cast, _email(campaign), timing="recipient_local", send_at=_wall(2027, 3, 28, 2, 30))

    engine.launch_due_items(now=dt.datetime(2027, 3, 27, 13, 0, tzinfo=dt.UTC))  # 02:30 at UTC+14 has come

    rows = _by_first_name(item)
    assert rows["Anna"].next_attempt_at == dt.datetime(2027, 3, 28, 1, 30, tzinfo=dt.UTC)  # 03:30 CEST
    assert rows["Ben"].next_attempt_at == dt.datetime(2027, 3, 27, 17, 30, tzinfo=dt.UTC)  # Tokyo has no DST


def test_the_tick_launches_sweeps_and_wakes_workers(
    cast: Cast, campaign: Campaign, newsletter: dict[str, Contact], sender: FakeSender,
    django_capture_on_commit_callbacks,
) -> None:  # fmt: skip
    from apps.delivery.tasks import tick

    item = _schedule(cast, _email(campaign))

    with django_capture_on_commit_callbacks(execute=True):
        result = tick.apply().get()

    assert result["launched"] == 1
    assert sorted(sender.sent) == ["anna@example.com", "ben@example.com"]  # eager tasks in tests
    item.refresh_from_db()
    assert item.status == ItemStatus.SENT


def test_contact_pressure_counts_messages_still_queued_for_another_item(
    cast: Cast, campaign: Campaign, newsletter: dict[str, Contact]
) -> None:
    cast.workspace.contact_pressure_limit = 1
    cast.workspace.save()
    first = _schedule(cast, _email(campaign))
    other = campaign_services.campaign_create(workspace=cast.workspace, name="Summer")
    second = _schedule(cast, _email(other))

    engine.launch_due_items(now=NOW)  # both in the same tick

    assert _by_first_name(first)["Anna"].status == DeliveryStatus.PENDING
    assert _by_first_name(second)["Anna"].reason == ExclusionReason.CONTACT_PRESSURE
