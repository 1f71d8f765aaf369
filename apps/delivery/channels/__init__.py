"""How each sent channel hands a message over: the engine claims ledger rows and calls a sender.

A sender is made once per batch (`sender_for(item)`), so per-item work (sanitising the HTML,
compiling merge tags, opening the SMTP connection) happens once per batch, not per message."""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from apps.campaigns.models import ChannelItem
    from apps.contacts.models import Contact
    from apps.delivery.models import Delivery


class SendError(Exception):
    """The provider refused or failed. `transient` ones are retried with backoff (SMTP 4xx, HTTP
    429/5xx, timeouts); permanent ones are recorded; `bounce` (a hard bounce) also suppresses."""

    def __init__(self, message: str, *, transient: bool, bounce: bool = False) -> None:
        super().__init__(message)
        self.transient = transient
        self.bounce = bounce


class Sender(Protocol):
    """Two steps per message, so the engine can render before it commits the row as `sending`:
    the window in which a killed worker leaves a message handed over but not recorded holds
    the provider call only, not the rendering too."""

    def open(self) -> None: ...

    def close(self) -> None: ...

    def prepare(self, delivery: Delivery, contact: Contact) -> Any:
        """Render and build the message for `contact`; raise SendError (content problems)."""
        ...

    def hand_over(self, prepared: Any) -> str:
        """Give the prepared message to the provider, return its id; raise SendError."""
        ...

    def send(self, delivery: Delivery, contact: Contact) -> str:
        return self.hand_over(self.prepare(delivery, contact))


def sender_for(item: ChannelItem, *, custom_keys: Collection[str]) -> Sender:
    from apps.delivery.channels.email import EmailSender
    from apps.delivery.channels.sms import SmsSender
    from apps.delivery.channels.webhook import WebhookSender

    if item.channel == "email":
        return EmailSender(item, custom_keys=custom_keys)
    if item.channel == "sms":
        return SmsSender(item, custom_keys=custom_keys)
    if item.channel == "webhook":
        return WebhookSender(item, custom_keys=custom_keys)
    raise ValueError(f"Ensemble does not send {item.channel} items itself.")
