"""Compliance endpoints: one-click unsubscribe, open pixel, click redirects, SMS STOP/START."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
from django.test import Client
from django.urls import reverse

from apps.campaigns import services as campaign_services
from apps.campaigns.models import Campaign, ChannelItem
from apps.contacts.choices import Channel, Consent, SuppressionReason
from apps.contacts.cleaning import address_hash
from apps.contacts.models import ConsentEvent, Contact, Suppression
from apps.core import sms
from apps.delivery import tokens
from apps.delivery.choices import DeliveryStatus, EventType, ExclusionReason
from apps.delivery.models import Delivery, Event
from apps.delivery.views import inbound_signature
from apps.segments import services as segment_services
from apps.segments.models import Segment
from tests.conftest import Cast
from tests.factories import ContactFactory, TagFactory

PHONE = "+4915123456789"
SECRET = "inbound-test-secret"
STOP_CONFIRMATION = "You are unsubscribed from Acme Outdoor texts. Reply START to subscribe again."


def _path(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def _deliver(item: ChannelItem, contact: Contact, status: str = DeliveryStatus.PENDING) -> Delivery:
    address = contact.phone_e164 if item.channel == "sms" else contact.email_normalized
    return Delivery.objects.create(
        workspace_id=item.workspace_id, item=item, contact=contact, address=address, status=status
    )


def _tampered(path: str) -> str:
    """The same link with one character of its token changed (in the middle: a changed last
    character of base64 can decode to the same bytes)."""
    segments = path.split("/")  # ["", "d", "u", "<token>", ""] or ["", "d", "o", "<token>.gif"]
    token = segments[3]
    middle = len(token.removesuffix(".gif")) // 2
    segments[3] = token[:middle] + ("x" if token[middle] != "x" else "y") + token[middle + 1 :]
    return "/".join(segments)


@pytest.fixture
def campaign(cast: Cast) -> Campaign:
    cast.workspace.postal_address = "Acme Outdoor GmbH, Torstraße 1, 10119 Berlin"
    cast.workspace.save(update_fields=["postal_address"])
    return campaign_services.campaign_create(workspace=cast.workspace, name="Spring launch", goal="Sell")


@pytest.fixture
def segment(cast: Cast) -> Segment:
    TagFactory(workspace=cast.workspace, name="customer")
    return segment_services.segment_create(
        workspace=cast.workspace, name="Customers", rules={"tag": "customer"}
    )


@pytest.fixture
def anna(cast: Cast) -> Contact:
    return ContactFactory(workspace=cast.workspace, email="anna@example.com", email_consent=Consent.OPTED_IN)


@pytest.fixture
def ben(cast: Cast) -> Contact:
    return ContactFactory(workspace=cast.workspace, email="ben@example.com", email_consent=Consent.OPTED_IN)


def _email_item(campaign: Campaign, segment: Segment, name: str = "Launch email") -> ChannelItem:
    return campaign_services.item_create(
        campaign=campaign,
        channel="email",
        name=name,
        from_email="shop@acme.example",
        subject="Spring is here",
        body_text="Hi {{ first_name }}, our spring range is in.",
        segments=[segment],
    )


def _sms_item(campaign: Campaign, segment: Segment) -> ChannelItem:
    return campaign_services.item_create(
        campaign=campaign, channel="sms", name="Launch text", sms_text="Spring is here!", segments=[segment]
    )


@pytest.fixture
def email_item(campaign: Campaign, segment: Segment) -> ChannelItem:
    return _email_item(campaign, segment)


@pytest.fixture
def delivery(email_item: ChannelItem, anna: Contact) -> Delivery:
    return _deliver(email_item, anna)


@pytest.fixture
def unsubscribe_path(delivery: Delivery) -> str:
    return _path(tokens.unsubscribe_url(delivery.id))


# --- Unsubscribe -----------------------------------------------------------------------------------


def test_unsubscribe_page_asks_and_never_unsubscribes_on_get(unsubscribe_path: str, anna: Contact) -> None:
    response = Client().get(unsubscribe_path)

    assert response.status_code == 200
    assert "Unsubscribe an•••@example.com from Acme Outdoor emails?" in response.content.decode()
    anna.refresh_from_db()
    assert anna.email_consent == Consent.OPTED_IN
    assert not ConsentEvent.objects.filter(contact=anna).exists()
    assert not Suppression.objects.exists()
    assert Delivery.objects.get(contact=anna).status == DeliveryStatus.PENDING


def test_one_click_post_without_csrf_token_unsubscribes(unsubscribe_path: str, anna: Contact) -> None:
    client = Client(enforce_csrf_checks=True)

    response = client.post(
        unsubscribe_path, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )

    assert response.status_code == 200
    assert "You are unsubscribed" in response.content.decode()
    anna.refresh_from_db()
    assert anna.email_consent == Consent.OPTED_OUT
    event = ConsentEvent.objects.get(contact=anna)
    assert (event.channel, event.status) == (Channel.EMAIL, Consent.OPTED_OUT)
    assert "one-click" in event.source
    assert event.text == "List-Unsubscribe=One-Click"
    assert event.created_at is not None


def test_unsubscribe_adds_the_address_to_the_suppression_list(unsubscribe_path: str, anna: Contact) -> None:
    Client().post(unsubscribe_path, {"List-Unsubscribe": "One-Click"})

    suppression = Suppression.objects.get(workspace=anna.workspace)
    assert suppression.channel == Channel.EMAIL
    assert suppression.address_hash == address_hash(Channel.EMAIL, "anna@example.com")
    assert suppression.reason == SuppressionReason.UNSUBSCRIBED


def test_unsubscribe_records_an_event_for_the_delivery(unsubscribe_path: str, delivery: Delivery) -> None:
    Client().post(unsubscribe_path, {"List-Unsubscribe": "One-Click"})

    event = Event.objects.get(type=EventType.UNSUBSCRIBED)
    assert (event.delivery_id, event.contact_id, event.workspace_id) == (
        delivery.id,
        delivery.contact_id,
        delivery.workspace_id,
    )


def test_unsubscribe_excludes_the_contacts_queued_deliveries_of_the_channel(
    unsubscribe_path: str,
    delivery: Delivery,
    anna: Contact,
    ben: Contact,
    campaign: Campaign,
    segment: Segment,
) -> None:
    reminder = _email_item(campaign, segment, "Reminder")
    queued = _deliver(reminder, anna, DeliveryStatus.RETRY_WAIT)
    bens = _deliver(reminder, ben)
    anna.phone, anna.phone_e164 = PHONE, PHONE
    anna.save(update_fields=["phone", "phone_e164"])
    text = _deliver(_sms_item(campaign, segment), anna)

    Client().post(unsubscribe_path, {"List-Unsubscribe": "One-Click"})

    for row in (delivery, queued):
        row.refresh_from_db()
        assert (row.status, row.reason) == (DeliveryStatus.EXCLUDED, ExclusionReason.UNSUBSCRIBED)
    assert Delivery.objects.get(pk=bens.pk).status == DeliveryStatus.PENDING
    assert Delivery.objects.get(pk=text.pk).status == DeliveryStatus.PENDING


def test_unsubscribe_excludes_a_row_a_worker_claimed_but_leaves_sent_rows(
    email_item: ChannelItem, anna: Contact, campaign: Campaign, segment: Segment
) -> None:
    claimed = _deliver(email_item, anna, DeliveryStatus.CLAIMED)
    sent = _deliver(_email_item(campaign, segment, "Reminder"), anna, DeliveryStatus.SENT)

    Client().post(_path(tokens.unsubscribe_url(sent.id)), {"List-Unsubscribe": "One-Click"})

    assert Delivery.objects.get(pk=claimed.pk).status == DeliveryStatus.EXCLUDED
    assert Delivery.objects.get(pk=sent.pk).status == DeliveryStatus.SENT


def test_second_unsubscribe_post_changes_nothing_more(unsubscribe_path: str, anna: Contact) -> None:
    client = Client()
    client.post(unsubscribe_path, {"List-Unsubscribe": "One-Click"})

    response = client.post(unsubscribe_path, {"List-Unsubscribe": "One-Click"})

    assert response.status_code == 200
    assert ConsentEvent.objects.filter(contact=anna).count() == 1
    assert Suppression.objects.count() == 1
    assert Event.objects.filter(type=EventType.UNSUBSCRIBED).count() == 1


def test_unsubscribe_button_records_the_pages_wording(unsubscribe_path: str, anna: Contact) -> None:
    response = Client().post(unsubscribe_path)

    assert response.status_code == 200
    event = ConsentEvent.objects.get(contact=anna)
    assert event.source == "unsubscribe link"
    assert "Unsubscribe an•••@example.com from Acme Outdoor emails?" in event.text


@pytest.mark.parametrize("method", ["get", "post"])
def test_tampered_unsubscribe_token_is_not_found(unsubscribe_path: str, anna: Contact, method: str) -> None:
    response = getattr(Client(), method)(_tampered(unsubscribe_path))

    assert response.status_code == 404
    assert "This link is not valid" in response.content.decode()
    anna.refresh_from_db()
    assert anna.email_consent == Consent.OPTED_IN


def test_a_token_for_another_purpose_does_not_unsubscribe(delivery: Delivery, anna: Contact) -> None:
    open_token = _path(tokens.open_url(delivery.id)).rstrip("/").rsplit("/", 1)[1].removesuffix(".gif")

    response = Client().post(reverse("delivery:unsubscribe", kwargs={"token": open_token}))

    assert response.status_code == 404
    assert not ConsentEvent.objects.filter(contact=anna).exists()


# --- Open pixel and clicks -------------------------------------------------------------------------


def test_open_pixel_answers_a_gif_and_records_one_open_however_often_fetched(delivery: Delivery) -> None:
    client, path = Client(), _path(tokens.open_url(delivery.id))

    first, second = client.get(path), client.get(path)

    for response in (first, second):
        assert response.status_code == 200
        assert response["Content-Type"] == "image/gif"
        assert "no-store" in response["Cache-Control"]
        assert response.content.startswith(b"GIF89a")
    event = Event.objects.get(type=EventType.OPENED)
    assert (event.delivery_id, event.contact_id) == (delivery.id, delivery.contact_id)


def test_open_pixel_with_a_bad_token_is_still_a_gif_and_records_nothing(delivery: Delivery) -> None:
    client = Client()
    for path in (
        _tampered(_path(tokens.open_url(delivery.id))),
        reverse("delivery:open", kwargs={"token": "not-a-token"}),
    ):
        response = client.get(path)

        assert response.status_code == 200
        assert response["Content-Type"] == "image/gif"
    assert not Event.objects.exists()


def test_click_redirects_to_the_signed_target_and_records_a_unique_click(delivery: Delivery) -> None:
    target = "https://shop.acme.example/spring?utm_source=email"
    client, path = Client(), _path(tokens.click_url(delivery.id, target))

    first, second = client.get(path), client.get(path)

    for response in (first, second):
        assert response.status_code == 302
        assert response["Location"] == target
    click = Event.objects.get(type=EventType.CLICKED)
    assert click.delivery_id == delivery.id
    assert click.data == {"url": target}


def test_clicks_on_two_links_are_two_unique_clicks(delivery: Delivery) -> None:
    client = Client()
    for target in ("https://acme.example/a", "https://acme.example/b"):
        client.get(_path(tokens.click_url(delivery.id, target)))

    assert Event.objects.filter(type=EventType.CLICKED).count() == 2
    assert Event.objects.filter(type=EventType.OPENED).count() == 1  # a click proves an open


def test_click_ignores_a_target_named_in_the_request(delivery: Delivery) -> None:
    path = _path(tokens.click_url(delivery.id, "https://acme.example/a"))

    response = Client().get(path, {"url": "https://evil.example/", "next": "https://evil.example/"})

    assert response["Location"] == "https://acme.example/a"


def test_tampered_click_token_is_not_found(delivery: Delivery) -> None:
    path = _path(tokens.click_url(delivery.id, "https://acme.example/a"))

    response = Client().get(_tampered(path))

    assert response.status_code == 404
    assert not Event.objects.exists()


def test_click_never_redirects_to_a_non_web_url(delivery: Delivery) -> None:
    try:
        url = tokens.click_url(delivery.id, "javascript:alert(1)")
    except ValueError:
        return  # refused when signing already
    response = Client().get(_path(url))

    assert response.status_code == 404


# --- SMS STOP / START ------------------------------------------------------------------------------


@pytest.fixture
def texter(cast: Cast) -> Contact:
    return ContactFactory(
        workspace=cast.workspace,
        email="tex@example.com",
        phone=PHONE,
        phone_e164=PHONE,
        sms_consent=Consent.OPTED_IN,
    )


@pytest.fixture
def inbound_secret(settings) -> str:
    settings.SMS_INBOUND_SECRET = SECRET
    return SECRET


def _inbound(
    cast: Cast,
    text: str,
    *,
    message_id: str = "msg-1",
    sender: str = PHONE,
    secret: str = SECRET,
    as_json: bool = False,
) -> Any:
    payload = {"from": sender, "text": text, "id": message_id}
    body = json.dumps(payload) if as_json else urlencode(payload)
    signature = inbound_signature(secret, cast.workspace.slug, body.encode())
    return Client(enforce_csrf_checks=True).post(
        reverse("delivery:sms-inbound", kwargs={"workspace_slug": cast.workspace.slug}),
        body,
        content_type="application/json" if as_json else "application/x-www-form-urlencoded",
        headers={"X-Ensemble-Signature": signature},
    )


STOP_TEXTS = [
    "STOP", "QUIT", "END", "REVOKE", "OPT OUT", "CANCEL", "UNSUBSCRIBE",
    "stop", "quit", "end", "revoke", "opt out", "cancel", "unsubscribe",
    "  Stop  ", "\tOpt   Out\n", "STOP.",
]  # fmt: skip


@pytest.mark.usefixtures("inbound_secret")
@pytest.mark.parametrize("text", STOP_TEXTS)
def test_sms_stop_word_opts_the_sender_out_with_one_confirmation(
    cast: Cast, texter: Contact, text: str, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = _inbound(cast, text)

    assert response.status_code == 200
    assert response.json() == {"reply": STOP_CONFIRMATION}
    texter.refresh_from_db()
    assert texter.sms_consent == Consent.OPTED_OUT
    event = ConsentEvent.objects.get(contact=texter)
    assert event.source.startswith("SMS ")
    assert STOP_CONFIRMATION in event.text
    assert Suppression.objects.filter(
        workspace=cast.workspace, channel=Channel.SMS, address_hash=address_hash(Channel.SMS, PHONE)
    ).exists()
    assert [(m.to, m.body) for m in sms.outbox] == [(PHONE, STOP_CONFIRMATION)]


@pytest.mark.usefixtures("inbound_secret")
def test_sms_stop_excludes_queued_texts_but_not_emails(
    cast: Cast, texter: Contact, campaign: Campaign, segment: Segment, email_item: ChannelItem
) -> None:
    text = _deliver(_sms_item(campaign, segment), texter)
    email = _deliver(email_item, texter)

    _inbound(cast, "STOP")

    text.refresh_from_db()
    assert (text.status, text.reason) == (DeliveryStatus.EXCLUDED, ExclusionReason.UNSUBSCRIBED)
    assert Delivery.objects.get(pk=email.pk).status == DeliveryStatus.PENDING


@pytest.mark.usefixtures("inbound_secret")
def test_sms_start_opts_back_in_and_lifts_the_suppression(
    cast: Cast, texter: Contact, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        _inbound(cast, "STOP", message_id="msg-1")
        response = _inbound(cast, " start ", message_id="msg-2")

    reply = response.json()["reply"]
    assert reply.startswith("You are subscribed again to Acme Outdoor texts.")
    texter.refresh_from_db()
    assert texter.sms_consent == Consent.OPTED_IN
    assert [e.source for e in ConsentEvent.objects.filter(contact=texter)] == ["SMS START", "SMS STOP"]
    assert not Suppression.objects.filter(channel=Channel.SMS).exists()
    assert [m.body for m in sms.outbox] == [STOP_CONFIRMATION, reply]


@pytest.mark.usefixtures("inbound_secret")
def test_sms_start_keeps_an_erased_number_suppressed(cast: Cast, django_capture_on_commit_callbacks) -> None:
    Suppression.objects.create(
        workspace=cast.workspace,
        channel=Channel.SMS,
        address_hash=address_hash(Channel.SMS, PHONE),
        reason=SuppressionReason.ERASED,
    )

    with django_capture_on_commit_callbacks(execute=True):
        response = _inbound(cast, "START")

    assert response.json() == {"reply": None}
    assert Suppression.objects.filter(reason=SuppressionReason.ERASED).exists()
    assert not sms.outbox


@pytest.mark.usefixtures("inbound_secret")
@pytest.mark.parametrize("text", ["Hello", "STOP sending me offers", "stopp", ""])
def test_other_texts_are_ignored(
    cast: Cast, texter: Contact, text: str, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = _inbound(cast, text)

    assert response.status_code == 200
    assert response.json() == {"reply": None}
    texter.refresh_from_db()
    assert texter.sms_consent == Consent.OPTED_IN
    assert not Suppression.objects.exists()
    assert not sms.outbox


@pytest.mark.usefixtures("inbound_secret")
def test_retried_webhook_sends_the_confirmation_exactly_once(
    cast: Cast, texter: Contact, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        _inbound(cast, "STOP", message_id="provider-42")
        retry = _inbound(cast, "STOP", message_id="provider-42")

    assert retry.status_code == 200
    assert len(sms.outbox) == 1
    assert ConsentEvent.objects.filter(contact=texter).count() == 1


@pytest.mark.usefixtures("inbound_secret")
def test_sms_inbound_accepts_json_and_a_sender_without_plus(
    cast: Cast, texter: Contact, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = _inbound(cast, "STOP", sender=PHONE.removeprefix("+"), as_json=True)

    assert response.json() == {"reply": STOP_CONFIRMATION}
    assert [m.to for m in sms.outbox] == [PHONE]


@pytest.mark.usefixtures("inbound_secret")
def test_sms_stop_from_an_unknown_number_still_suppresses_it(cast: Cast) -> None:
    _inbound(cast, "STOP")

    assert Suppression.objects.filter(address_hash=address_hash(Channel.SMS, PHONE)).exists()


@pytest.mark.usefixtures("inbound_secret")
def test_sms_inbound_with_a_bad_signature_is_forbidden(cast: Cast, texter: Contact) -> None:
    response = _inbound(cast, "STOP", secret="wrong-secret")

    assert response.status_code == 403
    texter.refresh_from_db()
    assert texter.sms_consent == Consent.OPTED_IN


def test_sms_inbound_without_a_secret_is_not_configured(cast: Cast, texter: Contact, settings) -> None:
    settings.SMS_INBOUND_SECRET = ""

    response = _inbound(cast, "STOP")

    assert response.status_code == 503
    texter.refresh_from_db()
    assert texter.sms_consent == Consent.OPTED_IN


@pytest.mark.usefixtures("inbound_secret")
def test_sms_inbound_answers_get_with_method_not_allowed(cast: Cast) -> None:
    response = Client().get(reverse("delivery:sms-inbound", kwargs={"workspace_slug": cast.workspace.slug}))

    assert response.status_code == 405


def test_sms_inbound_signed_for_one_workspace_is_refused_for_another(cast: Cast, settings) -> None:
    settings.SMS_INBOUND_SECRET = SECRET
    body = urlencode({"from": PHONE, "text": "STOP", "id": "msg-replayed"})

    response = Client().post(
        reverse("delivery:sms-inbound", kwargs={"workspace_slug": cast.other_workspace.slug}),
        body,
        content_type="application/x-www-form-urlencoded",
        headers={"X-Ensemble-Signature": inbound_signature(SECRET, cast.workspace.slug, body.encode())},
    )

    assert response.status_code == 403
