"""SMS items: the text rendered per recipient and handed to the configured SMS backend.

`HttpSmsBackend` is the one real provider backend: a generic JSON-over-HTTPS API, which most SMS
gateways offer in this shape or behind a small adapter. Set
`SMS_BACKEND=apps.delivery.channels.sms.HttpSmsBackend`, `SMS_HTTP_URL`, `SMS_HTTP_TOKEN` and,
optionally, `SMS_HTTP_FROM` (the sender id shown on phones).
"""

from __future__ import annotations

import json
from collections.abc import Collection
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from apps.campaigns.personalization import contact_context
from apps.campaigns.rendering import ItemTemplates
from apps.core.sms import BaseSmsBackend, SmsError, SmsMessage, SmsResult, get_backend
from apps.delivery import tokens
from apps.delivery.channels import Sender, SendError
from apps.delivery.channels.net import GuardedClient, RequestError

if TYPE_CHECKING:
    from apps.campaigns.models import ChannelItem
    from apps.contacts.models import Contact
    from apps.delivery.models import Delivery


class SmsSender(Sender):
    def __init__(self, item: ChannelItem, *, custom_keys: Collection[str]) -> None:
        self.item = item
        self.workspace = item.workspace
        self.templates = ItemTemplates(item, custom_keys=custom_keys, extra=("unsubscribe_url",))
        compiled = self.templates.compiled.get("sms_text")
        # A token costs a few µs: only make one when the text links to the unsubscribe page.
        self.needs_unsubscribe_url = compiled is not None and "unsubscribe_url" in compiled.fields
        self.backend = get_backend()
        self._opened = False

    def open(self) -> None:
        self._opened = bool(self.backend.open())

    def close(self) -> None:
        if self._opened:
            self.backend.close()
            self._opened = False

    def prepare(self, delivery: Delivery, contact: Contact) -> SmsMessage:
        if self.templates.problems.get("sms_text"):
            raise SendError(
                f"The SMS text does not compile: {self.templates.problems['sms_text'][0]}", transient=False
            )
        context = contact_context(contact, workspace=self.workspace)
        if self.needs_unsubscribe_url:
            context["unsubscribe_url"] = tokens.unsubscribe_url(delivery.id)
        text = self.templates.render(context).values["sms_text"]
        if not text.strip():
            raise SendError("The SMS text is empty for this recipient.", transient=False)
        number = delivery.address or contact.phone_e164
        try:
            return SmsMessage(to=number, body=text, reference=f"d{delivery.id}.i{self.item.id}")
        except ValueError as error:
            raise SendError(str(error), transient=False) from error

    def hand_over(self, message: SmsMessage) -> str:
        try:
            return self.backend.send(message).provider_id
        except SmsError as error:
            raise SendError(str(error), transient=error.transient) from error


class HttpSmsBackend(BaseSmsBackend):
    """POSTs `{"to", "from", "text", "reference"}` as JSON with `Authorization: Bearer <token>`
    and reads the provider's message id from the `id` field of a 2xx answer. 408, 429 and 5xx
    are transient, other answers permanent (`SmsError.from_status`). Goes through the guarded
    client (connect 5 s, whole exchange 10 s, no redirects, no private addresses unless
    `SMS_HTTP_ALLOW_PRIVATE_ADDRESSES`), keeping one connection open between `open` and `close`."""

    def __init__(
        self, *, url: str | None = None, token: str | None = None, sender: str | None = None, **kwargs: Any
    ) -> None:
        self.url = url if url is not None else str(getattr(settings, "SMS_HTTP_URL", ""))
        self.token = token if token is not None else str(getattr(settings, "SMS_HTTP_TOKEN", ""))
        self.sender = sender if sender is not None else str(getattr(settings, "SMS_HTTP_FROM", ""))
        if not self.url:
            raise ImproperlyConfigured("HttpSmsBackend needs settings.SMS_HTTP_URL.")
        allow_private = bool(getattr(settings, "SMS_HTTP_ALLOW_PRIVATE_ADDRESSES", False))
        self.client = GuardedClient(allow_private=allow_private)
        self._open = False

    def open(self) -> bool:
        if self._open:
            return False
        self._open = True
        return True

    def close(self) -> None:
        self._open = False
        self.client.close()

    def send(self, message: SmsMessage) -> SmsResult:
        body = json.dumps(
            {
                "to": message.to,
                "from": message.sender or self.sender,
                "text": message.body,
                "reference": message.reference,
            },
            ensure_ascii=False,
        ).encode()
        headers = {"Content-Type": "application/json; charset=utf-8", "Accept": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        try:
            response = self.client.post(self.url, body=body, headers=headers)
        except RequestError as error:
            raise SmsError(str(error), transient=error.transient) from error
        finally:
            if not self._open:  # one message without `with backend:`: nothing to keep open
                self.client.close()
        if 300 <= response.status < 400:
            raise SmsError(
                f"The SMS provider redirected (HTTP {response.status}); redirects are not followed.",
                transient=False,
                status=response.status,
            )
        if not 200 <= response.status < 300:
            raise SmsError.from_status(response.status, _provider_message(response.status, response.body))
        return SmsResult(provider_id=_provider_id(response.body) or message.reference)


def _provider_id(body: bytes) -> str:
    """The `id` of the provider's JSON answer; "" when it has none. A 2xx means the message was
    taken, so a missing id is never an error: raising would retry, and text the person twice."""
    try:
        answer = json.loads(body or b"{}")
    except ValueError:
        return ""
    provider_id = answer.get("id") if isinstance(answer, dict) else None
    return "" if provider_id is None else str(provider_id)[:200]


def _provider_message(status: int, body: bytes) -> str:
    detail = body[:200].decode("utf-8", "replace").strip()
    return f"The SMS provider answered HTTP {status}" + (f": {detail}" if detail else ".")
