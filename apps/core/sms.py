"""Text-message backends, shaped like Django's email backends (`settings.SMS_BACKEND`).

Ensemble sends SMS itself (test sends now, the delivery engine next), so the code that sends only
knows this interface; which provider carries the message is configuration. Development uses the
console, a staging box the file backend, tests the in-memory outbox; a provider backend plugs in
later as one more subclass. `SmsError.transient` tells the delivery engine whether to retry.
"""

from __future__ import annotations

import json
import re
import sys
import threading
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Self, TextIO

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone
from django.utils.module_loading import import_string

DEFAULT_BACKEND = "apps.core.sms.ConsoleSmsBackend"
FILE_NAME = "sms.jsonl"

# E.164: a plus, a country code that never starts with 0, at most 15 digits in all.
E164 = re.compile(r"\+[1-9]\d{1,14}")


@dataclass(frozen=True)
class SmsMessage:
    """One text to one phone. `to` must already be E.164 (see `normalise_phone`): providers reject
    national formats, and a wrong guess at the country would text a stranger. `reference` is ours
    (which item, which recipient), echoed into logs and delivery receipts."""

    to: str
    body: str
    sender: str = ""
    reference: str = ""

    def __post_init__(self) -> None:
        if not E164.fullmatch(self.to):
            raise ValueError(f"An SMS goes to an E.164 number such as +4915123456789, not {self.to!r}.")


@dataclass(frozen=True)
class SmsResult:
    """What the provider answered: its id for the message, to match delivery receipts later."""

    provider_id: str


class SmsError(Exception):
    """A message the provider did not take. `transient` errors (rate limits, provider outages,
    timeouts) are worth retrying later; permanent ones (a refused number, a bad request) are not,
    and retrying them would only cost money and annoy the provider."""

    def __init__(self, message: str, *, transient: bool, status: int | None = None) -> None:
        super().__init__(message)
        self.transient = transient
        self.status = status

    @classmethod
    def from_status(cls, status: int, message: str = "") -> SmsError:
        """429 (slow down), 408 (request timeout) and 5xx (their problem) pass; other 4xx are ours."""
        transient = status in {408, 429} or status >= 500
        return cls(message or f"The SMS provider answered HTTP {status}.", transient=transient, status=status)

    @classmethod
    def timeout(cls, message: str = "") -> SmsError:
        """No answer in time: the message may or may not have gone, and a later try may work."""
        return cls(message or "The SMS provider did not answer in time.", transient=True)


def new_provider_id() -> str:
    """Local backends make up an id as a provider would, so callers can store one either way."""
    return uuid.uuid4().hex


class BaseSmsBackend:
    """Send with `send(message)`; for many messages, `with backend:` keeps one connection open
    (as Django's email backends do). `send` works without `open()`, opening for one message."""

    def open(self) -> bool:
        """Open the connection; True when this call opened it (so the caller should close it)."""
        return False

    def close(self) -> None:
        """Close the connection opened by `open`; safe to call when none is open."""

    def __enter__(self) -> Self:
        self.open()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def send(self, message: SmsMessage) -> SmsResult:
        """Hand one message to the provider; raises `SmsError` when it is refused."""
        raise NotImplementedError("Subclasses of BaseSmsBackend must implement send()")


class ConsoleSmsBackend(BaseSmsBackend):
    """Writes each message as a readable block, to stdout or `stream` (development)."""

    def __init__(self, *, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stdout
        # Blocks from concurrent sends must not interleave.
        self._lock = threading.RLock()

    def send(self, message: SmsMessage) -> SmsResult:
        result = SmsResult(provider_id=new_provider_id())
        lines = [
            f"SMS {result.provider_id}",
            f"To: {message.to}",
            f"From: {message.sender or '(default sender)'}",
        ]
        if message.reference:
            lines.append(f"Reference: {message.reference}")
        rule = "-" * 79
        block = "\n".join([*lines, "", message.body, rule, ""])
        with self._lock:
            self.stream.write(block)
            self.stream.flush()
        return result


class FileSmsBackend(BaseSmsBackend):
    """Appends one JSON line per message to `sms.jsonl` in `settings.SMS_FILE_PATH` (a folder), so
    a staging box can send for real-looking runs and a script can read what went out."""

    def __init__(self, *, file_path: str | Path | None = None) -> None:
        folder = file_path if file_path is not None else getattr(settings, "SMS_FILE_PATH", None)
        if not folder:
            raise ImproperlyConfigured("FileSmsBackend needs settings.SMS_FILE_PATH (a folder).")
        self.path = Path(folder) / FILE_NAME
        self._stream: TextIO | None = None
        self._lock = threading.RLock()

    def open(self) -> bool:
        if self._stream is not None:
            return False
        self._stream = self._open_file()
        return True

    def _open_file(self) -> TextIO:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        return self.path.open("a", encoding="utf-8")

    def close(self) -> None:
        if self._stream is not None:
            self._stream.close()
            self._stream = None

    def send(self, message: SmsMessage) -> SmsResult:
        result = SmsResult(provider_id=new_provider_id())
        record = {"provider_id": result.provider_id, "sent_at": timezone.now().isoformat(), **asdict(message)}
        line = json.dumps(record, ensure_ascii=False) + "\n"
        with self._lock:
            if self._stream is not None:
                self._stream.write(line)
                self._stream.flush()
            else:  # no `with backend:` around: a file opened for this one message
                with self._open_file() as stream:
                    stream.write(line)
        return result


outbox: list[SmsMessage] = []
"""What `LocmemSmsBackend` sent, oldest first; tests read and clear it (like `mail.outbox`)."""


class LocmemSmsBackend(BaseSmsBackend):
    """Keeps messages in the module-level `outbox` list instead of sending them (tests)."""

    def send(self, message: SmsMessage) -> SmsResult:
        outbox.append(message)
        return SmsResult(provider_id=new_provider_id())


def get_backend(path: str | None = None, **kwargs: Any) -> BaseSmsBackend:
    """An instance of the backend at `path`, or of `settings.SMS_BACKEND` (the console when unset);
    `kwargs` go to its constructor."""
    dotted = path or str(getattr(settings, "SMS_BACKEND", DEFAULT_BACKEND))
    backend_class = import_string(dotted)
    if not (isinstance(backend_class, type) and issubclass(backend_class, BaseSmsBackend)):
        raise ImproperlyConfigured(f"{dotted} is not an SMS backend (a subclass of BaseSmsBackend).")
    return backend_class(**kwargs)
