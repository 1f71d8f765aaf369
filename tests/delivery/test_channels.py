"""The channel senders: email built as bytes with every compliance header, SMS through the SMS
backend (and the HTTP provider), signed webhooks through the guarded HTTP client."""

from __future__ import annotations

import email
import json
import smtplib
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.core import mail
from django.core.mail.backends.smtp import EmailBackend as SmtpBackend

from apps.campaigns import services as campaign_services
from apps.campaigns.models import Campaign, ChannelItem
from apps.core import sms as sms_backends
from apps.delivery import tokens
from apps.delivery.channels import SendError, net, sender_for
from apps.delivery.channels import email as email_channel
from apps.delivery.channels.email import EmailBuilder, EmailSender, smtp_error
from apps.delivery.channels.sms import HttpSmsBackend, SmsSender
from apps.delivery.channels.webhook import WebhookSender, verify_signature, webhook_secret
from apps.delivery.choices import DeliveryStatus
from apps.delivery.models import Delivery
from tests.campaigns import conftest as campaign_fixtures
from tests.campaigns.conftest import Audience

pytestmark = pytest.mark.django_db

# The campaign tests' fixtures, used here as they are.
audience = campaign_fixtures.audience
campaign = campaign_fixtures.campaign
email_item = campaign_fixtures.email_item

HTML = (
    '<p onclick="steal()">Hi {{ first_name }}, <b>our spring range</b> is in.</p>'
    '<p><a href="https://shop.example/boots?size=42&amp;colour=red">Boots</a> '
    '<a href="mailto:help@acme.example">Write to us</a> '
    '<a href="javascript:alert(1)">Click</a> '
    '<a href="{{ unsubscribe_url }}">Leave the list</a></p>'
    "<script>alert('x')</script><style>p{color:red}</style>"
)


def _delivery(item: ChannelItem, contact: Any, address: str) -> Delivery:
    return Delivery.objects.create(
        workspace=item.workspace, item=item, contact=contact, address=address, status=DeliveryStatus.SENDING
    )


@pytest.fixture(autouse=True)
def _site(settings) -> None:
    settings.SITE_URL = "https://ensemble.example"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture
def newsletter(email_item: ChannelItem) -> ChannelItem:
    # Written through the ORM: `{{ unsubscribe_url }}` is a merge tag only the delivery engine offers.
    ChannelItem.objects.filter(pk=email_item.pk).update(
        body_html=HTML, from_name="Acme Outdoor", reply_to="help@acme.example"
    )
    email_item.refresh_from_db()
    return email_item


@pytest.fixture
def to_anna(newsletter: ChannelItem, audience: Audience) -> Delivery:
    return _delivery(newsletter, audience.anna, "anna@example.com")


def _parsed(builder: EmailBuilder, delivery: Delivery) -> EmailMessage:
    built = builder.build(delivery, delivery.contact)
    message = email.message_from_bytes(built.message().as_bytes(linesep="\r\n"), policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message


def _parts(message: EmailMessage) -> tuple[str, str]:
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None
    assert html is not None
    return text.get_content(), html.get_content()


# --- Email ----------------------------------------------------------------------------------------


def test_email_carries_one_click_unsubscribe_headers(newsletter: ChannelItem, to_anna: Delivery) -> None:
    message = _parsed(EmailBuilder(newsletter, custom_keys=()), to_anna)

    https, mailto = (part.strip().strip("<>") for part in str(message["List-Unsubscribe"]).split(","))
    assert https.startswith("https://ensemble.example/d/u/")
    assert tokens.read("unsubscribe", https.split("/")[-2]).delivery_id == to_anna.id
    assert mailto.startswith("mailto:unsubscribe+")
    assert mailto.endswith("@acme.example")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["X-Ensemble-Delivery"] == str(to_anna.id)


def test_email_headers_name_sender_recipient_and_subject(newsletter: ChannelItem, to_anna: Delivery) -> None:
    message = _parsed(EmailBuilder(newsletter, custom_keys=()), to_anna)

    assert message["From"] == "Acme Outdoor <shop@acme.example>"
    assert message["To"] == "anna@example.com"
    assert message["Reply-To"] == "help@acme.example"
    assert message["Subject"] == "Anna, spring is here"
    assert message.get_content_type() == "multipart/alternative"


def test_message_id_derives_from_the_ledger_row(newsletter: ChannelItem, to_anna: Delivery) -> None:
    first = _parsed(EmailBuilder(newsletter, custom_keys=()), to_anna)
    retry = _parsed(EmailBuilder(newsletter, custom_keys=()), to_anna)

    assert first["Message-ID"] == retry["Message-ID"] == f"<d{to_anna.id}.i{newsletter.id}@acme.example>"


def test_html_is_sanitised(newsletter: ChannelItem, to_anna: Delivery) -> None:
    _text, html = _parts(_parsed(EmailBuilder(newsletter, custom_keys=()), to_anna))

    for removed in ("<script", "alert", "onclick", "javascript:"):
        assert removed not in html
    assert "<style" not in html
    assert "<b>our spring range</b>" in html


def test_links_go_through_signed_click_redirects(newsletter: ChannelItem, to_anna: Delivery) -> None:
    _text, html = _parts(_parsed(EmailBuilder(newsletter, custom_keys=()), to_anna))

    click_token = html.split('href="https://ensemble.example/d/c/', 1)[1].split("/", 1)[0]
    target = tokens.read("click", click_token).target
    assert target == "https://shop.example/boots?size=42&colour=red"
    assert 'href="mailto:help@acme.example"' in html
    assert f'<a href="{tokens.unsubscribe_url(to_anna.id)}">Leave the list</a>' in html


def test_email_has_open_pixel_and_footer(newsletter: ChannelItem, to_anna: Delivery) -> None:
    text, html = _parts(_parsed(EmailBuilder(newsletter, custom_keys=()), to_anna))
    unsubscribe_url = tokens.unsubscribe_url(to_anna.id)

    assert f'<img src="{tokens.open_url(to_anna.id)}" width="1" height="1"' in html
    assert "Acme Outdoor GmbH, Torstraße 1, 10119 Berlin" in html
    assert "You receive this because" in html
    assert f"Unsubscribe: {unsubscribe_url}" in text
    assert "Acme Outdoor GmbH, Torstraße 1, 10119 Berlin" in text


def test_merge_tags_are_filled(newsletter: ChannelItem, to_anna: Delivery) -> None:
    text, html = _parts(_parsed(EmailBuilder(newsletter, custom_keys=()), to_anna))

    assert text.startswith("Hi Anna, our spring range is in.")
    assert "Hi Anna," in html


def test_html_only_item_gets_a_text_part(newsletter: ChannelItem, to_anna: Delivery) -> None:
    ChannelItem.objects.filter(pk=newsletter.pk).update(body_text="")
    newsletter.refresh_from_db()

    text, _html = _parts(_parsed(EmailBuilder(newsletter, custom_keys=()), to_anna))

    assert "Hi Anna, our spring range is in." in text
    assert "Boots (https://shop.example/boots?size=42&colour=red)" in text


def test_non_ascii_subject_and_sender_are_encoded(newsletter: ChannelItem, to_anna: Delivery) -> None:
    ChannelItem.objects.filter(pk=newsletter.pk).update(
        subject="Grüße, {{ first_name }}! Frühling ist da", from_name="Äpfel & Birnen"
    )
    newsletter.refresh_from_db()
    built = EmailBuilder(newsletter, custom_keys=()).build(to_anna, to_anna.contact)
    raw = built.message().as_bytes(linesep="\r\n")

    raw.decode("ascii")  # 8-bit free: encoded words and quoted-printable only
    message = email.message_from_bytes(raw, policy=policy.default)
    assert message["Subject"] == "Grüße, Anna! Frühling ist da"
    assert message["From"].addresses[0].display_name == "Äpfel & Birnen"
    assert built.subject == "Grüße, Anna! Frühling ist da"


def test_unusable_sender_address_fails_each_message_not_the_batch(
    newsletter: ChannelItem, to_anna: Delivery
) -> None:
    ChannelItem.objects.filter(pk=newsletter.pk).update(from_email="jürgen@acme.example")
    newsletter.refresh_from_db()
    builder = EmailBuilder(newsletter, custom_keys=())

    with pytest.raises(SendError, match="sender") as raised:
        builder.build(to_anna, to_anna.contact)

    assert not raised.value.transient


def test_merge_tag_cannot_inject_headers(newsletter: ChannelItem, to_anna: Delivery) -> None:
    contact = to_anna.contact
    contact.first_name = "Anna\r\nBcc: victim@example.com"
    message = _parsed(EmailBuilder(newsletter, custom_keys=()), to_anna)

    assert message["Bcc"] is None
    assert message["Subject"] == "Anna Bcc: victim@example.com, spring is here"


def test_email_bytes_have_crlf_lines_within_limits(newsletter: ChannelItem, to_anna: Delivery) -> None:
    ChannelItem.objects.filter(pk=newsletter.pk).update(body_html="<p>" + "lang " * 2000 + "</p>")
    newsletter.refresh_from_db()
    raw = (
        EmailBuilder(newsletter, custom_keys=())
        .build(to_anna, to_anna.contact)
        .message()
        .as_bytes(linesep="\r\n")
    )

    assert b"\n" not in raw.replace(b"\r\n", b"")
    assert max(len(line) for line in raw.split(b"\r\n")) <= 998


def test_locmem_backend_receives_the_message(newsletter: ChannelItem, to_anna: Delivery) -> None:
    sender = sender_for(newsletter, custom_keys=())
    sender.open()
    provider_id = sender.send(to_anna, to_anna.contact)
    sender.close()

    [sent] = mail.outbox
    assert provider_id == f"<d{to_anna.id}.i{newsletter.id}@acme.example>"
    assert sent.subject == "Anna, spring is here"
    assert sent.to == ["anna@example.com"]
    assert sent.extra_headers["X-Ensemble-Delivery"] == str(to_anna.id)
    assert sent.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "Unsubscribe:" in sent.body
    assert 'width="1" height="1"' in sent.alternatives[0].content


def test_an_email_service_provider_through_anymail_gets_the_same_message(
    newsletter: ChannelItem, to_anna: Delivery, settings
) -> None:
    """django-anymail's test backend goes through an ESP backend's whole payload building."""
    settings.EMAIL_BACKEND = "anymail.backends.test.EmailBackend"
    sender = sender_for(newsletter, custom_keys=())
    sender.open()
    sender.send(to_anna, to_anna.contact)
    sender.close()

    [sent] = mail.outbox
    params = sent.anymail_test_params
    assert params["subject"] == "Anna, spring is here"
    assert [str(to) for to in params["to"]] == ["anna@example.com"]
    assert params["extra_headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert params["extra_headers"]["Message-ID"] == f"<d{to_anna.id}.i{newsletter.id}@acme.example>"
    assert "Unsubscribe:" in params["text_body"]
    assert 'width="1" height="1"' in params["html_body"]


def test_file_backend_writes_parseable_bytes(
    newsletter: ChannelItem, to_anna: Delivery, settings, tmp_path
) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = tmp_path
    sender = EmailSender(newsletter, custom_keys=())
    sender.open()
    sender.send(to_anna, to_anna.contact)
    sender.close()

    [written] = tmp_path.iterdir()
    message = email.message_from_bytes(written.read_bytes(), policy=policy.default)
    assert message["X-Ensemble-Delivery"] == str(to_anna.id)


@dataclass
class FakeSmtp:
    """Stands in for `smtplib.SMTP` inside Django's SMTP backend."""

    sent: list[tuple[str, list[str], bytes]] = field(default_factory=list)
    error: Exception | None = None

    def sendmail(self, from_addr: str, to_addrs: list[str], msg: bytes) -> dict[str, Any]:
        if self.error is not None:
            raise self.error
        self.sent.append((from_addr, to_addrs, msg))
        return {}

    def quit(self) -> None:
        pass

    def close(self) -> None:
        pass


@dataclass
class FakeConnection:
    """A Django email backend that counts opens and raises what it is given."""

    errors: list[Exception] = field(default_factory=list)
    opened: int = 0
    closed: int = 0
    sent: int = 0

    def open(self) -> bool:
        self.opened += 1
        return True

    def close(self) -> None:
        self.closed += 1

    def send_messages(self, messages: list[Any]) -> int:
        if self.errors:
            raise self.errors.pop(0)
        self.sent += len(messages)
        return len(messages)


def test_smtp_backend_sends_the_prebuilt_bytes(
    newsletter: ChannelItem, to_anna: Delivery, monkeypatch: pytest.MonkeyPatch
) -> None:
    backend = SmtpBackend(host="mail.invalid")
    backend.connection = FakeSmtp()  # type: ignore[assignment]
    monkeypatch.setattr(email_channel, "get_connection", lambda: backend)
    sender = EmailSender(newsletter, custom_keys=())
    sender.open()
    sender.send(to_anna, to_anna.contact)

    [(from_addr, to_addrs, raw)] = backend.connection.sent  # type: ignore[attr-defined]
    assert from_addr == "shop@acme.example"
    assert to_addrs == ["anna@example.com"]
    assert email.message_from_bytes(raw)["X-Ensemble-Delivery"] == str(to_anna.id)


def test_one_connection_serves_the_batch(
    newsletter: ChannelItem,
    audience: Audience,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    connection = FakeConnection()
    monkeypatch.setattr(email_channel, "get_connection", lambda: connection)
    sender = EmailSender(newsletter, custom_keys=())
    sender.open()
    sender.send(_delivery(newsletter, audience.anna, "anna@example.com"), audience.anna)
    sender.send(_delivery(newsletter, audience.ben, "ben@example.com"), audience.ben)
    sender.close()

    assert (connection.opened, connection.sent, connection.closed) == (1, 2, 1)


@pytest.mark.parametrize(
    ("error", "transient", "bounce"),
    [
        (smtplib.SMTPRecipientsRefused({"a@example.com": (550, b"5.1.1 no such user")}), False, True),
        (smtplib.SMTPRecipientsRefused({"a@example.com": (452, b"4.2.2 mailbox full")}), True, False),
        (smtplib.SMTPServerDisconnected("gone"), True, False),
        (TimeoutError("timed out"), True, False),
        (ConnectionRefusedError("refused"), True, False),
        (smtplib.SMTPDataError(451, b"try later"), True, False),
        (smtplib.SMTPDataError(554, b"spam"), False, False),
        (smtplib.SMTPSenderRefused(553, b"not allowed", "shop@acme.example"), False, False),
        (smtplib.SMTPNotSupportedError("no"), False, False),
        (ValueError("a bug"), False, False),
    ],
)
def test_smtp_errors_map_to_retry_or_failure(error: Exception, transient: bool, bounce: bool) -> None:
    mapped = smtp_error(error)

    assert (mapped.transient, mapped.bounce) == (transient, bounce)


def test_dropped_connection_is_reopened_for_the_next_message(
    newsletter: ChannelItem, to_anna: Delivery, monkeypatch: pytest.MonkeyPatch
) -> None:
    connection = FakeConnection(errors=[smtplib.SMTPServerDisconnected("gone")])
    monkeypatch.setattr(email_channel, "get_connection", lambda: connection)
    sender = EmailSender(newsletter, custom_keys=())
    sender.open()

    with pytest.raises(SendError) as raised:
        sender.send(to_anna, to_anna.contact)
    sender.send(to_anna, to_anna.contact)

    assert raised.value.transient
    assert (connection.opened, connection.sent) == (2, 1)


def test_real_smtp_refusal_is_a_bounce(newsletter: ChannelItem, audience: Audience, settings) -> None:
    from aiosmtpd.controller import Controller

    class Sink:
        received: list[bytes] = []

        async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
            if address.startswith("gone@"):
                return "550 5.1.1 No such user"
            envelope.rcpt_tos.append(address)
            return "250 OK"

        async def handle_DATA(self, server, session, envelope):  # noqa: N802
            self.received.append(envelope.content)
            return "250 OK queued"

    port = _free_port()
    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
        settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
        settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
        sender = EmailSender(newsletter, custom_keys=())
        sender.open()
        with pytest.raises(SendError) as raised:
            sender.send(_delivery(newsletter, audience.ben, "gone@example.com"), audience.ben)
        sender.send(_delivery(newsletter, audience.anna, "anna@example.com"), audience.anna)
        sender.close()
    finally:
        controller.stop()

    assert (raised.value.bounce, raised.value.transient) == (True, False)
    [raw] = sink.received
    assert email.message_from_bytes(raw)["To"] == "anna@example.com"


# --- Local HTTP server for webhooks and the SMS provider -----------------------------------------


@dataclass
class Recorded:
    path: str
    headers: dict[str, str]
    body: bytes


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: LocalServer

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.server.requests.append(Recorded(self.path, dict(self.headers.items()), body))
        status, headers, answer = self.server.answers.get(self.path, (200, {}, b"{}"))
        if self.path == "/slow":
            time.sleep(1.5)
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def setup(self) -> None:
        super().setup()
        self.server.connections += 1

    def log_message(self, format: str, *args: Any) -> None:
        pass


class LocalServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.requests: list[Recorded] = []
        self.answers: dict[str, tuple[int, dict[str, str], bytes]] = {}
        self.connections = 0

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"


@pytest.fixture
def server() -> Iterator[LocalServer]:
    local = LocalServer()
    thread = threading.Thread(target=local.serve_forever, daemon=True)
    thread.start()
    yield local
    local.shutdown()
    local.server_close()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# --- Webhook --------------------------------------------------------------------------------------


def _webhook_item(campaign: Campaign, audience: Audience, url: str) -> ChannelItem:
    item = campaign_services.item_create(
        campaign=campaign, channel="webhook", name="CRM sync", segments=[audience.segment]
    )
    ChannelItem.objects.filter(pk=item.pk).update(
        webhook_url=url, payload={"event": "spring", "greeting": "Hi {{ first_name }}"}
    )
    item.refresh_from_db()
    return item


@pytest.fixture
def allow_private(settings) -> None:
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True


def _send_webhook(item: ChannelItem, contact: Any) -> str:
    sender = WebhookSender(item, custom_keys=())
    sender.open()
    try:
        return sender.send(_delivery(item, contact, ""), contact)
    finally:
        sender.close()


@pytest.mark.usefixtures("allow_private")
def test_webhook_posts_signed_json(campaign: Campaign, audience: Audience, server: LocalServer) -> None:
    server.answers["/hook"] = (202, {"X-Request-Id": "req-7"}, b"")
    item = _webhook_item(campaign, audience, server.url("/hook"))

    provider_id = _send_webhook(item, audience.anna)

    [request] = server.requests
    sent = json.loads(request.body)
    assert provider_id == "req-7"
    assert sent["item"] == item.id
    assert sent["delivery"] == int(request.headers["X-Ensemble-Delivery"])
    assert sent["contact"]["email"] == "anna@example.com"
    assert sent["payload"] == {"event": "spring", "greeting": "Hi Anna"}
    assert verify_signature(
        webhook_secret(item.workspace), request.body, request.headers["X-Ensemble-Signature"]
    )
    assert request.headers["Idempotency-Key"] == f"ensemble-delivery-{sent['delivery']}"


@pytest.mark.usefixtures("allow_private")
def test_webhook_signature_fails_for_a_changed_body(
    campaign: Campaign,
    audience: Audience,
    server: LocalServer,
) -> None:
    item = _webhook_item(campaign, audience, server.url("/hook"))
    _send_webhook(item, audience.anna)

    [request] = server.requests
    header = request.headers["X-Ensemble-Signature"]
    assert not verify_signature(webhook_secret(item.workspace), request.body + b" ", header)


@pytest.mark.usefixtures("allow_private")
def test_webhook_without_request_id_returns_the_delivery_id(
    campaign: Campaign,
    audience: Audience,
    server: LocalServer,
) -> None:
    item = _webhook_item(campaign, audience, server.url("/hook"))

    provider_id = _send_webhook(item, audience.anna)

    assert provider_id == str(Delivery.objects.get(item=item).id)


@pytest.mark.usefixtures("allow_private")
@pytest.mark.parametrize(
    ("status", "transient"), [(500, True), (503, True), (429, True), (400, False), (404, False), (410, False)]
)
def test_webhook_error_status_maps_to_retry_or_failure(
    campaign: Campaign,
    audience: Audience,
    server: LocalServer,
    status: int,
    transient: bool,
) -> None:
    server.answers["/hook"] = (status, {}, b"no")
    item = _webhook_item(campaign, audience, server.url("/hook"))

    with pytest.raises(SendError) as raised:
        _send_webhook(item, audience.anna)

    assert raised.value.transient is transient


@pytest.mark.usefixtures("allow_private")
def test_webhook_redirect_is_refused(campaign: Campaign, audience: Audience, server: LocalServer) -> None:
    server.answers["/hook"] = (302, {"Location": server.url("/elsewhere")}, b"")
    item = _webhook_item(campaign, audience, server.url("/hook"))

    with pytest.raises(SendError, match="redirect") as raised:
        _send_webhook(item, audience.anna)

    assert not raised.value.transient
    assert [request.path for request in server.requests] == ["/hook"]


def test_webhook_to_loopback_is_refused_by_default(
    campaign: Campaign,
    audience: Audience,
    server: LocalServer,
) -> None:
    item = _webhook_item(campaign, audience, server.url("/hook"))

    with pytest.raises(SendError, match="loopback") as raised:
        _send_webhook(item, audience.anna)

    assert not raised.value.transient
    assert server.connections == 0


def test_webhook_to_ipv4_mapped_loopback_is_refused(
    campaign: Campaign,
    audience: Audience,
    server: LocalServer,
) -> None:
    item = _webhook_item(campaign, audience, f"http://[::ffff:127.0.0.1]:{server.port}/hook")

    with pytest.raises(SendError, match="loopback"):
        _send_webhook(item, audience.anna)

    assert server.connections == 0


def _resolving_to(monkeypatch: pytest.MonkeyPatch, *addresses: str) -> list[str]:
    """Name resolution answers `addresses` for every host; returns the hosts asked for."""
    asked: list[str] = []

    def getaddrinfo(host: str, port: int, *args: Any, **kwargs: Any) -> list[tuple[Any, ...]]:
        asked.append(host)
        return [
            (socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
            for a in addresses
        ]

    monkeypatch.setattr(net.socket, "getaddrinfo", getaddrinfo)
    return asked


def test_webhook_host_resolving_to_a_private_address_is_refused(
    campaign: Campaign,
    audience: Audience,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _resolving_to(monkeypatch, "10.0.0.5")
    item = _webhook_item(campaign, audience, "https://hooks.example/ensemble")

    with pytest.raises(SendError, match=r"10\.0\.0\.5, a private address") as raised:
        _send_webhook(item, audience.anna)

    assert not raised.value.transient


def test_webhook_host_with_one_private_address_among_public_ones_is_refused(
    campaign: Campaign,
    audience: Audience,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _resolving_to(monkeypatch, "93.184.215.14", "169.254.169.254")
    item = _webhook_item(campaign, audience, "https://hooks.example/ensemble")

    with pytest.raises(SendError, match="link-local"):
        _send_webhook(item, audience.anna)


@pytest.mark.usefixtures("allow_private")
def test_webhook_connects_to_the_address_it_checked(
    campaign: Campaign,
    audience: Audience,
    server: LocalServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The name is resolved once, by the guard; the socket goes to that address and the Host
    header keeps the name (TLS would check the certificate against it)."""
    asked = _resolving_to(monkeypatch, "127.0.0.1")
    item = _webhook_item(campaign, audience, server.url("/hook", host="hooks.example"))

    _send_webhook(item, audience.anna)

    assert asked == ["hooks.example"]
    assert server.requests[0].headers["Host"] == f"hooks.example:{server.port}"


@pytest.mark.usefixtures("allow_private")
def test_webhook_reuses_one_connection_per_batch(
    campaign: Campaign,
    audience: Audience,
    server: LocalServer,
) -> None:
    item = _webhook_item(campaign, audience, server.url("/hook"))
    sender = WebhookSender(item, custom_keys=())
    sender.open()
    sender.send(_delivery(item, audience.anna, ""), audience.anna)
    sender.send(_delivery(item, audience.ben, ""), audience.ben)
    sender.close()

    assert (len(server.requests), server.connections) == (2, 1)


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("169.254.169.254", "link-local"),
        ("100.64.0.1", "non-global"),
        ("0.0.0.0", "private"),  # noqa: S104
        ("224.0.0.251", "multicast"),
        ("::1", "loopback"),
        ("fe80::1", "link-local"),
        ("fd00::1", "private"),
        ("::ffff:10.0.0.1", "private"),
        ("64:ff9b::a00:5", "private"),
        ("ff02::1", "multicast"),
        ("93.184.215.14", None),
        ("2606:4700::1111", None),
    ],
)
def test_guard_judges_addresses(address: str, reason: str | None) -> None:
    import ipaddress

    assert net.blocked_reason(ipaddress.ip_address(address)) == reason


def test_guarded_client_gives_up_at_the_deadline(server: LocalServer) -> None:
    client = net.GuardedClient(allow_private=True, total_timeout=0.5)

    with pytest.raises(net.RequestError, match="in time") as raised:
        client.post(server.url("/slow"), body=b"{}", headers={})

    assert raised.value.transient


@pytest.mark.parametrize("url", ["ftp://hooks.example/", "http://user:pw@hooks.example/", "hooks.example"])
def test_guarded_client_refuses_other_urls(url: str) -> None:
    with pytest.raises(net.RequestError) as raised:
        net.GuardedClient().post(url, body=b"", headers={})

    assert not raised.value.transient


# --- SMS ------------------------------------------------------------------------------------------


def _sms_item(campaign: Campaign, audience: Audience) -> ChannelItem:
    return campaign_services.item_create(
        campaign=campaign,
        channel="sms",
        name="Launch text",
        sms_text="Hi {{ first_name|default:'there' }}, spring is in store.",
        segments=[audience.segment],
    )


def test_sms_sender_texts_through_the_backend(campaign: Campaign, audience: Audience) -> None:
    item = _sms_item(campaign, audience)
    delivery = _delivery(item, audience.anna, "+4915123456789")
    sender = sender_for(item, custom_keys=())
    sender.open()
    provider_id = sender.send(delivery, audience.anna)
    sender.close()

    [text] = sms_backends.outbox
    assert (text.to, text.body) == ("+4915123456789", "Hi Anna, spring is in store.")
    assert text.reference == f"d{delivery.id}.i{item.id}"
    assert provider_id


@pytest.mark.parametrize("transient", [True, False])
def test_sms_provider_errors_keep_their_kind(
    campaign: Campaign,
    audience: Audience,
    monkeypatch: pytest.MonkeyPatch,
    transient: bool,
) -> None:
    def refuse(self: Any, message: Any) -> None:
        raise sms_backends.SmsError("no", transient=transient)

    monkeypatch.setattr(sms_backends.LocmemSmsBackend, "send", refuse)
    item = _sms_item(campaign, audience)
    sender = SmsSender(item, custom_keys=())

    with pytest.raises(SendError) as raised:
        sender.send(_delivery(item, audience.anna, "+4915123456789"), audience.anna)

    assert raised.value.transient is transient


def test_sms_to_a_number_that_is_not_e164_fails(campaign: Campaign, audience: Audience) -> None:
    item = _sms_item(campaign, audience)

    with pytest.raises(SendError, match=r"E\.164") as raised:
        SmsSender(item, custom_keys=()).send(_delivery(item, audience.anna, "0151 2345"), audience.anna)

    assert not raised.value.transient


@pytest.fixture
def http_sms(settings, server: LocalServer) -> LocalServer:
    settings.SMS_BACKEND = "apps.delivery.channels.sms.HttpSmsBackend"
    settings.SMS_HTTP_URL = server.url("/sms")
    settings.SMS_HTTP_TOKEN = "secret-token"
    settings.SMS_HTTP_FROM = "Acme"
    settings.SMS_HTTP_ALLOW_PRIVATE_ADDRESSES = True
    return server


def test_http_sms_provider_gets_json_with_bearer_auth(
    campaign: Campaign,
    audience: Audience,
    http_sms: LocalServer,
) -> None:
    http_sms.answers["/sms"] = (201, {"Content-Type": "application/json"}, b'{"id": "msg-42"}')
    item = _sms_item(campaign, audience)
    sender = SmsSender(item, custom_keys=())
    sender.open()
    provider_id = sender.send(_delivery(item, audience.anna, "+4915123456789"), audience.anna)
    sender.close()

    [request] = http_sms.requests
    assert provider_id == "msg-42"
    assert request.headers["Authorization"] == "Bearer secret-token"
    assert json.loads(request.body) == {
        "to": "+4915123456789",
        "from": "Acme",
        "text": "Hi Anna, spring is in store.",
        "reference": f"d{Delivery.objects.get(item=item).id}.i{item.id}",
    }


@pytest.mark.parametrize(("status", "transient"), [(429, True), (502, True), (400, False), (401, False)])
def test_http_sms_provider_errors(http_sms: LocalServer, status: int, transient: bool) -> None:
    http_sms.answers["/sms"] = (status, {}, b'{"error": "nope"}')

    with pytest.raises(sms_backends.SmsError) as raised:
        HttpSmsBackend().send(sms_backends.SmsMessage(to="+4915123456789", body="Hi"))

    assert raised.value.transient is transient


def test_http_sms_provider_on_a_private_address_is_refused(http_sms: LocalServer, settings) -> None:
    settings.SMS_HTTP_ALLOW_PRIVATE_ADDRESSES = False

    with pytest.raises(sms_backends.SmsError, match="loopback") as raised:
        HttpSmsBackend().send(sms_backends.SmsMessage(to="+4915123456789", body="Hi"))

    assert not raised.value.transient
    assert http_sms.connections == 0
