"""Webhook items: a signed JSON POST per recipient to the integration URL of the item.

The receiver checks `X-Ensemble-Signature: t=<unix time>,v1=<hex>`, an HMAC-SHA256 over
`f"{t}.{raw body}"` under the workspace's webhook secret (shown on the item page), and should
refuse old timestamps (replays). `Idempotency-Key` stays the same for every try of one delivery, so
a receiver can drop the duplicate a retry after a timeout may cause.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.utils.crypto import salted_hmac

from apps.campaigns.personalization import contact_context
from apps.campaigns.rendering import ItemTemplates
from apps.delivery.channels import Sender, SendError
from apps.delivery.channels.net import GuardedClient, RequestError

if TYPE_CHECKING:
    from apps.campaigns.models import ChannelItem
    from apps.contacts.models import Contact
    from apps.delivery.models import Delivery
    from apps.workspaces.models import Workspace

SIGNATURE_HEADER = "X-Ensemble-Signature"
USER_AGENT = "Ensemble-Webhook/1"


def webhook_secret(workspace: Workspace) -> str:
    """The workspace's signing secret, derived from SECRET_KEY (nothing stored; rotating
    SECRET_KEY rotates it)."""
    return salted_hmac("ensemble.webhook", str(workspace.id), algorithm="sha256").hexdigest()


def signature_header(secret: str, body: bytes, timestamp: int) -> str:
    signed = f"{timestamp}.".encode() + body
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify_signature(
    secret: str, body: bytes, header: str, *, tolerance: int = 300, now: int | None = None
) -> bool:
    """The receiver's side, for our tests and for integrators reading the code."""
    fields = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        timestamp = int(fields["t"])
    except (KeyError, ValueError):
        return False
    if abs((now if now is not None else int(time.time())) - timestamp) > tolerance:
        return False
    expected = signature_header(secret, body, timestamp).rsplit("v1=", 1)[1]
    return hmac.compare_digest(expected, fields.get("v1", ""))


class WebhookSender(Sender):
    def __init__(self, item: ChannelItem, *, custom_keys: Collection[str]) -> None:
        self.item = item
        self.workspace = item.workspace
        self.templates = ItemTemplates(item, custom_keys=custom_keys)
        self.secret = webhook_secret(self.workspace)
        self.client = GuardedClient(
            allow_private=bool(getattr(settings, "WEBHOOK_ALLOW_PRIVATE_ADDRESSES", False))
        )

    def open(self) -> None:
        """Connections open on the first POST and stay open for the batch."""

    def close(self) -> None:
        self.client.close()

    def prepare(self, delivery: Delivery, contact: Contact) -> _Post:
        if not self.item.webhook_url:
            raise SendError("The item has no integration URL.", transient=False)
        if self.templates.problems:
            name, problems = next(iter(self.templates.problems.items()))
            raise SendError(f"The {name} does not compile: {problems[0]}", transient=False)
        context = contact_context(contact, workspace=self.workspace)
        rendered = self.templates.render(context)
        body = json.dumps(
            {
                "delivery": delivery.id,
                "item": self.item.id,
                "contact": _contact_json(contact),
                "payload": rendered.payload if rendered.payload is not None else {},
            },
            cls=DjangoJSONEncoder,
            ensure_ascii=False,
            separators=(",", ":"),
        ).encode()
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": USER_AGENT,
            SIGNATURE_HEADER: signature_header(self.secret, body, int(time.time())),
            "X-Ensemble-Delivery": str(delivery.id),
            "Idempotency-Key": f"ensemble-delivery-{delivery.id}",
        }
        return _Post(body=body, headers=headers, delivery_id=delivery.id)

    def hand_over(self, post: _Post) -> str:
        try:
            response = self.client.post(self.item.webhook_url, body=post.body, headers=post.headers)
        except RequestError as error:
            raise SendError(str(error), transient=error.transient) from error
        raise_for_status(response.status, response.header("Location"))
        return response.header("X-Request-Id")[:200] or str(post.delivery_id)


@dataclass(frozen=True)
class _Post:
    body: bytes
    headers: dict[str, str]
    delivery_id: int


def raise_for_status(status: int, location: str = "") -> None:
    """2xx passes; a redirect is refused by name (following it could lead anywhere); 408, 429 and
    5xx are worth a retry; any other answer is the receiver saying no."""
    if 200 <= status < 300:
        return
    if 300 <= status < 400:
        where = f" to {location}" if location else ""
        raise SendError(
            f"The integration URL redirected (HTTP {status}{where}); redirects are not followed: "
            "use the final URL.",
            transient=False,
        )
    transient = status in {408, 429} or status >= 500
    raise SendError(f"The integration URL answered HTTP {status}.", transient=transient)


def _contact_json(contact: Contact) -> dict[str, Any]:
    return {
        "id": contact.id,
        "email": contact.email or "",
        "phone": contact.phone_e164 or contact.phone or "",
        "first_name": contact.first_name or "",
        "last_name": contact.last_name or "",
    }
