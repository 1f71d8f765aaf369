"""Email items: rendered, sanitised, tracked and built per recipient, sent over one connection.

The hot spot of a send is building the MIME message: Python's email package takes ~1.7 ms per
message, which alone caps a process near 600 messages/s. Our messages always have one shape
(multipart/alternative: text and HTML, UTF-8, quoted-printable), so `build_email` writes the bytes
directly (headers that are the same for the whole batch are encoded once) and hands them to
Django's email backend inside `PrebuiltEmail`, whose `message()` returns those bytes instead of
building a MIME tree. The usual attributes (`subject`, `body`, `alternatives`, `extra_headers`,
`to`, `reply_to`) stay set for backends that read them instead (django-anymail's ESP backends, the
test outbox).

Every message carries what compliance and the ledger need: `List-Unsubscribe` (https and mailto)
with `List-Unsubscribe-Post: List-Unsubscribe=One-Click` (RFC 8058), the workspace's postal
address in the footer, a Message-ID derived from the ledger row (a retry carries the same one, so
receivers can drop a duplicate) and `X-Ensemble-Delivery`.
"""

from __future__ import annotations

import binascii
import contextlib
import html
import re
import secrets
import smtplib
from collections.abc import Collection, Iterator
from email.header import Header
from email.headerregistry import Address
from email.utils import formataddr, formatdate, parseaddr
from typing import TYPE_CHECKING, Any

import nh3
from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.backends.smtp import EmailBackend as SmtpBackend
from django.utils.translation import gettext as _

from apps.campaigns.personalization import contact_context
from apps.campaigns.rendering import ItemTemplates
from apps.delivery import tokens
from apps.delivery.channels import Sender, SendError

if TYPE_CHECKING:
    from apps.campaigns.models import ChannelItem
    from apps.contacts.models import Contact
    from apps.delivery.models import Delivery

CRLF = "\r\n"
MAX_HEADER_LINE = 998  # RFC 5322, without the CRLF

# What authored email HTML may keep: the tags and attributes email clients render, inline styles,
# and links to http, https and mailto only. <style> blocks, scripts, forms, iframes, event
# handlers and relative URLs go.
_ATTRIBUTES: dict[str, set[str]] = {
    **{tag: set(names) for tag, names in nh3.ALLOWED_ATTRIBUTES.items()},
    "*": {"style", "align", "dir", "lang", "title"},
    "a": {"href", "hreflang", "name", "target"},
    "img": {"src", "alt", "width", "height", "border", "align"},
    "table": {
        "width",
        "height",
        "border",
        "cellpadding",
        "cellspacing",
        "bgcolor",
        "role",
        "summary",
        "align",
    },
    "td": {"width", "height", "valign", "bgcolor", "colspan", "rowspan", "headers", "align"},
    "th": {"width", "height", "valign", "bgcolor", "colspan", "rowspan", "headers", "scope", "align"},
    "tr": {"valign", "bgcolor", "align"},
    "font": {"color", "face", "size"},
    "ol": {"start", "type"},
    "ul": {"type"},
}
SANITISER = nh3.Cleaner(
    tags=(set(nh3.ALLOWED_TAGS) | {"font", "tfoot"}),
    clean_content_tags={"script", "style", "title"},
    attributes=_ATTRIBUTES,
    url_schemes={"http", "https", "mailto"},
    url_relative="deny",
    link_rel=None,
)
# The sanitiser's output is regular: double-quoted attributes, `"` always escaped inside them.
_LINK = re.compile(r'(<a\s(?:[^>"]|"[^"]*")*?\bhref=")([^"]*)(")')


class PrebuiltMessage:
    """The little of `email.message.Message` Django's backends use: the bytes, the headers."""

    def __init__(self, headers: list[tuple[str, str]], data: bytes) -> None:
        self._headers = headers
        self._data = data  # CRLF line endings, as SMTP sends them

    def as_bytes(self, unixfrom: bool = False, linesep: str = "\n") -> bytes:
        return self._data if linesep == CRLF else self._data.replace(b"\r\n", linesep.encode())

    def as_string(self, unixfrom: bool = False, linesep: str = "\n") -> str:
        return self.as_bytes(unixfrom, linesep).decode("ascii")

    __str__ = as_string

    def __bytes__(self) -> bytes:
        return self.as_bytes()

    def get_charset(self) -> None:
        return None  # the top part is multipart; its parts say utf-8

    def is_multipart(self) -> bool:
        return True

    def get_content_type(self) -> str:
        return "multipart/alternative"

    def get(self, name: str, failobj: Any = None) -> Any:
        lowered = name.lower()
        for key, value in self._headers:
            if key.lower() == lowered:
                return value
        return failobj

    def __getitem__(self, name: str) -> str | None:
        return self.get(name)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.get(name) is not None

    def keys(self) -> list[str]:
        return [key for key, _value in self._headers]

    def values(self) -> list[str]:
        return [value for _key, value in self._headers]

    def items(self) -> list[tuple[str, str]]:
        return list(self._headers)

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys())

    def __len__(self) -> int:
        return len(self._headers)


class PrebuiltEmail(EmailMultiAlternatives):
    """A Django email whose MIME form was built by `EmailBuilder`; `message()` returns it."""

    def __init__(self, *, prebuilt: PrebuiltMessage, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.prebuilt = prebuilt

    def message(self) -> PrebuiltMessage:
        return self.prebuilt


class EmailBuilder:
    """Everything that is the same for a batch of one item, worked out once: the compiled
    templates, the sender's headers, the footer. `build` then does per-recipient work only."""

    def __init__(self, item: ChannelItem, *, custom_keys: Collection[str]) -> None:
        self.item = item
        self.workspace = workspace = item.workspace
        self.templates = ItemTemplates(item, custom_keys=custom_keys, extra=("unsubscribe_url",))
        default_name, default_address = parseaddr(str(settings.DEFAULT_FROM_EMAIL))
        address = item.from_email or workspace.default_sender_email or default_address
        name = _one_line(item.from_name or workspace.default_sender_name or default_name)
        self.domain = _ascii_domain(address.rpartition("@")[2].lower()) or "localhost"
        self.reply_to = [item.reply_to] if item.reply_to else []
        mailbox = str(getattr(settings, "UNSUBSCRIBE_MAILTO", "") or f"unsubscribe@{self.domain}")
        local, _at, mail_domain = mailbox.rpartition("@")
        self.mailto = (local or "unsubscribe", mail_domain or self.domain)
        # A sender address that cannot go in a header fails every message, not the whole batch.
        self.problem = ""
        self.from_email = address
        self.envelope_from = ""
        self.fixed_headers: list[tuple[str, str]] = []
        try:
            self.envelope_from = _check_address(address)
            self.fixed_headers = [("From", formataddr((name, self.envelope_from), charset="utf-8"))]
            # Django's and ESP backends take the readable form and encode it themselves.
            self.from_email = str(Address(display_name=name, addr_spec=self.envelope_from))
            if item.reply_to:
                self.fixed_headers.append(("Reply-To", _check_address(item.reply_to)))
        except SendError as error:
            self.problem = f"The sender of this email cannot be used: {error}"
        self.fixed_headers += [
            ("MIME-Version", "1.0"),
            ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
        ]
        self.footer_reason = _("You receive this because you subscribed to emails from %(workspace)s.") % {
            "workspace": workspace.name
        }
        self.footer_unsubscribe = _("Unsubscribe")
        self.postal_address = (workspace.postal_address or "").strip()
        self.preheader_html = (
            '<div style="display:none;max-height:0;overflow:hidden;mso-hide:all">{}</div>'
            if item.preheader
            else ""
        )

    def build(self, delivery: Delivery, contact: Contact) -> PrebuiltEmail:
        if self.problem:
            raise SendError(self.problem, transient=False)
        if self.templates.problems:
            name, problems = next(iter(self.templates.problems.items()))
            raise SendError(f"The {name} does not compile: {problems[0]}", transient=False)
        to = _check_address(delivery.address or contact.email)
        unsubscribe_token = tokens.make("unsubscribe", delivery.id)
        unsubscribe_url = tokens.url("unsubscribe", unsubscribe_token)
        context = contact_context(contact, workspace=self.workspace)
        context["unsubscribe_url"] = unsubscribe_url
        values = self.templates.render(context).values
        subject = _one_line(values["subject"])
        content = SANITISER.clean(values["body_html"]) if values["body_html"] else ""
        html_body = self._html(delivery.id, content, values["preheader"], subject, unsubscribe_url)
        text_body = self._text(values["body_text"] or html_to_text(content), unsubscribe_url)
        message_id = f"<d{delivery.id}.i{self.item.id}@{self.domain}>"
        mailto = f"mailto:{self.mailto[0]}+{unsubscribe_token}@{self.mailto[1]}"
        varying = {
            "Message-ID": message_id,
            "List-Unsubscribe": f"<{unsubscribe_url}>, <{mailto}>",
            "X-Ensemble-Delivery": str(delivery.id),
        }
        headers = [
            *self.fixed_headers,
            ("To", to),
            ("Subject", _encode_text("Subject", subject)),
            ("Date", formatdate(localtime=settings.EMAIL_USE_LOCALTIME)),
            ("Message-ID", message_id),
            ("List-Unsubscribe", f"<{unsubscribe_url}>,{CRLF} <{mailto}>"),
            ("X-Ensemble-Delivery", varying["X-Ensemble-Delivery"]),
        ]
        prebuilt = PrebuiltMessage(headers, _mime(headers, text_body, html_body))
        return PrebuiltEmail(
            prebuilt=prebuilt,
            subject=subject,
            body=text_body,
            from_email=self.from_email,
            to=[to],
            reply_to=self.reply_to,
            headers={**varying, "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"},
            alternatives=[(html_body, "text/html")],
        )

    def _html(
        self, delivery_id: int, content: str, preheader: str, subject: str, unsubscribe_url: str
    ) -> str:
        """The sanitised `content` with tracked links, in a minimal document with the preheader,
        the compliance footer and the open pixel."""
        content = track_links(content, delivery_id, skip=unsubscribe_url)
        preheader = self.preheader_html.format(html.escape(preheader)) if self.preheader_html else ""
        address = html.escape(self.postal_address).replace("\n", "<br>")
        footer = (
            '<div style="margin-top:32px;padding-top:12px;border-top:1px solid #dddddd;'
            'font-size:12px;line-height:1.5;color:#666666">'
            f'{html.escape(self.footer_reason)} <a href="{unsubscribe_url}" style="color:#666666">'
            f"{html.escape(self.footer_unsubscribe)}</a>"
            f"{'<br>' + address if address else ''}</div>"
        )
        pixel = f'<img src="{tokens.open_url(delivery_id)}" width="1" height="1" alt="" style="display:block;border:0">'
        return (
            '<!DOCTYPE html><html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{html.escape(subject)}</title></head><body>"
            f"{preheader}{content}{footer}{pixel}</body></html>"
        )

    def _text(self, text: str, unsubscribe_url: str) -> str:
        footer = f"{self.footer_reason} {self.footer_unsubscribe}: {unsubscribe_url}"
        if self.postal_address:
            footer = f"{footer}\n{self.postal_address}"
        return f"{text.rstrip()}\n\n-- \n{footer}\n"


class EmailSender(Sender):
    """One Django email connection for the batch, opened in `open()`; after a dropped connection
    the next message reconnects once, and if that fails the rest of the batch fails fast (each a
    transient error, retried later) instead of waiting for a timeout per recipient."""

    def __init__(self, item: ChannelItem, *, custom_keys: Collection[str]) -> None:
        self.builder = EmailBuilder(item, custom_keys=custom_keys)
        self.connection: Any = None
        self._down: str | None = None
        self._broken = False

    def open(self) -> None:
        self.connection = get_connection()
        try:
            self.connection.open()
        except (OSError, smtplib.SMTPException) as error:
            self._down = f"Could not connect to the mail server: {error}"

    def close(self) -> None:
        if self.connection is not None:
            self._quietly_close()
            self.connection = None

    def prepare(self, delivery: Delivery, contact: Contact) -> PrebuiltEmail:
        return self.builder.build(delivery, contact)

    def hand_over(self, message: PrebuiltEmail) -> str:
        if self.connection is None:
            self.open()
        if self._down:
            raise SendError(self._down, transient=True)
        if self._broken:
            self._reconnect()
        try:
            sent = self._through_backend(message)
        except Exception as error:
            failure = smtp_error(error)
            # A refusal leaves the SMTP session usable; a dropped or timed-out one does not.
            if isinstance(error, smtplib.SMTPServerDisconnected) or (
                isinstance(error, OSError) and not isinstance(error, smtplib.SMTPException)
            ):
                self._broken = True
            raise failure from error
        if not sent:
            raise SendError("The email backend did not send the message.", transient=False)
        status = getattr(message, "anymail_status", None)  # an ESP's own id, when there is one
        provider_id = getattr(status, "message_id", None)
        return str(provider_id or message.extra_headers["Message-ID"])

    def _through_backend(self, message: PrebuiltEmail) -> int:
        """Through the backend's `send_messages`; for Django's own SMTP backend straight to its
        open `smtplib` connection: its `send_messages` parses the sender and recipient addresses
        again for every message (~160 µs, more than building the message), and ours are
        checked already. TLS, login and the connection itself stay the backend's."""
        backend = self.connection
        envelope_from = self.builder.envelope_from
        if type(backend) is SmtpBackend and backend.connection is not None and envelope_from:
            backend.connection.sendmail(envelope_from, message.to, message.prebuilt.as_bytes(linesep=CRLF))
            return 1
        return int(backend.send_messages([message]))

    def _reconnect(self) -> None:
        self._broken = False
        self._quietly_close()
        try:
            self.connection.open()
        except (OSError, smtplib.SMTPException) as error:
            self._down = f"Lost the connection to the mail server and could not reconnect: {error}"
            raise SendError(self._down, transient=True) from error

    def _quietly_close(self) -> None:
        with contextlib.suppress(OSError, smtplib.SMTPException):  # closing a connection already gone
            self.connection.close()


def smtp_error(error: Exception) -> SendError:
    """Map an email backend's exception: 5xx refusals of the recipient are hard bounces; 4xx,
    dropped connections and timeouts are transient; anything else is permanent."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _reply in error.recipients.values()]
        detail = "; ".join(f"{code} {_text_of(reply)}" for code, reply in error.recipients.values())
        if codes and all(500 <= code < 600 for code in codes):
            return SendError(f"Recipient refused: {detail}", transient=False, bounce=True)
        return SendError(f"Recipient refused for now: {detail}", transient=any(400 <= c < 500 for c in codes))
    if isinstance(error, smtplib.SMTPServerDisconnected | TimeoutError | ConnectionError):
        return SendError(f"The mail server connection failed: {error}", transient=True)
    if isinstance(error, smtplib.SMTPResponseException):
        code = error.smtp_code
        return SendError(
            f"The mail server answered {code} {_text_of(error.smtp_error)}", transient=400 <= code < 500
        )
    if isinstance(error, smtplib.SMTPException):  # (an OSError subclass: before the check below)
        return SendError(f"The mail server refused the message: {error}", transient=False)
    status = getattr(error, "status_code", None)  # ESP API errors (django-anymail) carry the HTTP status
    if isinstance(status, int):
        return SendError(
            f"The email provider answered HTTP {status}: {error}",
            transient=status in {408, 429} or status >= 500,
        )
    if isinstance(error, OSError):
        return SendError(f"The mail server could not be reached: {error}", transient=True)
    return SendError(f"The email could not be sent: {error}", transient=False)


def _text_of(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)


def track_links(content: str, delivery_id: int, *, skip: str) -> str:
    """Every http(s) link through the signed click redirect; mailto and the unsubscribe link
    (`skip`) stay as they are. `content` must come from the sanitiser (regular attribute quoting)."""

    def rewrite(match: re.Match[str]) -> str:
        target = html.unescape(match.group(2))
        if target == skip or not target.lower().startswith(("http://", "https://")):
            return match.group(0)
        return f"{match.group(1)}{tokens.click_url(delivery_id, target)}{match.group(3)}"

    return _LINK.sub(rewrite, content)


_BLOCK_END = re.compile(r"<(?:br|/p|/div|/h[1-6]|/li|/tr|/table|/blockquote)\b[^>]*>", re.IGNORECASE)
_ANCHOR = re.compile(r'<a\s(?:[^>"]|"[^"]*")*?\bhref="([^"]*)"[^>]*>(.*?)</a>', re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]*>")
_BLANK_LINES = re.compile(r"\n\s*\n+")


def html_to_text(content: str) -> str:
    """A readable text part for an item written in HTML only (sanitised HTML in)."""
    text = _ANCHOR.sub(lambda m: f"{m.group(2)} ({m.group(1)})" if m.group(1) else m.group(2), content)
    text = _TAG.sub("", _BLOCK_END.sub("\n", text))
    return _BLANK_LINES.sub("\n\n", html.unescape(text)).strip()


def _one_line(value: str) -> str:
    """A header value never spans lines: a CR or LF from a merge tag would inject headers."""
    if "\n" in value or "\r" in value:
        value = " ".join(value.split())
    return value.strip()


def _encode_text(name: str, value: str) -> str:
    """RFC 2047 only where needed: most subjects are short ASCII and go as they are."""
    if value.isascii() and len(name) + 2 + len(value) <= 78:
        return value
    charset = "us-ascii" if value.isascii() else "utf-8"
    return Header(value, charset, header_name=name).encode(linesep=CRLF)


def _ascii_domain(domain: str) -> str:
    if domain.isascii():
        return domain
    try:
        return domain.encode("idna").decode("ascii")
    except UnicodeError:
        return ""


_BAD_ADDRESS_CHARACTERS = frozenset('\r\n\t <>,;:"()[]\\')


def _check_address(address: str) -> str:
    address = address.strip()
    local, at, domain = address.rpartition("@")
    if not at or not local or not domain or _BAD_ADDRESS_CHARACTERS.intersection(address):
        raise SendError(f"Not a deliverable email address: {address!r}.", transient=False)
    if not local.isascii():
        raise SendError(f"{address!r} needs an SMTPUTF8 mail server.", transient=False)
    ascii_domain = _ascii_domain(domain)
    if not ascii_domain:
        raise SendError(f"The domain of {address!r} is not valid.", transient=False)
    return f"{local}@{ascii_domain}"


def _mime(headers: list[tuple[str, str]], text: str, html_body: str) -> bytes:
    """multipart/alternative with a text and an HTML part, both UTF-8 quoted-printable. The
    boundary starts with "=_", which quoted-printable output can never contain."""
    boundary = f"=_ens_{secrets.token_hex(12)}"
    lines = [f"{name}: {value}" for name, value in headers]
    lines.append(f'Content-Type: multipart/alternative; boundary="{boundary}"')
    head = CRLF.join(lines).encode("ascii")
    part = (
        f'{CRLF}{CRLF}--{boundary}{CRLF}Content-Type: text/{{}}; charset="utf-8"{CRLF}'
        f"Content-Transfer-Encoding: quoted-printable{CRLF}{CRLF}"
    )
    return b"".join(
        (
            head,
            part.format("plain").encode("ascii"),
            _quoted_printable(text),
            part.format("html").encode("ascii"),
            _quoted_printable(html_body),
            f"{CRLF}--{boundary}--{CRLF}".encode("ascii"),
        )
    )


def _quoted_printable(text: str) -> bytes:
    """Lines of at most 76 characters (soft breaks), CRLF endings; binascii does it in C."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return binascii.b2a_qp(text.encode("utf-8"), istext=True).replace(b"\n", b"\r\n")
