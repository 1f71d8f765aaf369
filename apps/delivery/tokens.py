"""Signed tokens in the links of every message: unsubscribe, open pixel and click redirect.

A token names a ledger row (and, for a click, the target URL) and nothing else: the public
endpoints under /d/ have no login, so the signature is their only scope. A click token carries its
target inside the signed part, so the redirect can only go where the message linked (no open
redirect) and a changed target breaks the signature.

Signing runs for every message of a send (an email has at least three tokens), so tokens are
short and cheap: a base62 id, the target as unpadded URL-safe base64, and a SHA-256 HMAC truncated
to 128 bits (ample for an authentication tag), salted per purpose so an open token can never
pass as an unsubscribe token. About 5 µs per token (the derived HMAC key is cached per secret); `SECRET_KEY_FALLBACKS` keep old links working
through a key rotation. No timestamp: an unsubscribe link must work for as long as the
message sits in an inbox (CAN-SPAM asks for at least 30 days; inboxes keep mail for years).

URLs are built from plain string paths, not `reverse()`: the paths below are the contract with
`apps/delivery/urls.py` (`delivery:unsubscribe`, `delivery:open`, `delivery:click`), and building
them here keeps a module that runs 100,000 times per send free of the URL resolver.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from dataclasses import dataclass
from typing import Any, Literal

from django.conf import settings
from django.core import signing
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.encoding import force_bytes

Purpose = Literal["unsubscribe", "open", "click"]

SEP = "."  # not in base62 nor URL-safe base64, allowed unquoted in a mail local part
SIGNATURE_LENGTH = 22  # characters of URL-safe base64: 132 bits, from SHA-256
PURPOSES: tuple[Purpose, ...] = ("unsubscribe", "open", "click")
PATHS: dict[Purpose, str] = {"unsubscribe": "/d/u/{}/", "open": "/d/o/{}.gif", "click": "/d/c/{}/"}


class BadToken(Exception):  # noqa: N818 (the views already catch `tokens.BadToken`)
    """A token that was not made here for this purpose (tampered, truncated, or another kind)."""


@dataclass(frozen=True)
class TokenData:
    delivery_id: int
    target: str | None = None
    """The click's destination; None for the other purposes."""


class _TruncatedSigner(signing.Signer):
    """Django's Signer with the signature cut to `SIGNATURE_LENGTH`: `unsign` compares through
    `signature()`, so the fallback keys keep working.

    The HMAC is Django's `salted_hmac` (the same bytes as `Signer.signature`), but its derived key
    is computed once per secret instead of per token: that halves the cost of a token."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._macs: dict[bytes, Any] = {}

    def signature(self, value: str | bytes, key: str | bytes | None = None) -> str:
        secret = force_bytes(key or self.key)
        mac = self._macs.get(secret)
        if mac is None:
            derived = hashlib.sha256(force_bytes(f"{self.salt!s}signer") + secret).digest()
            mac = self._macs[secret] = hmac.new(derived, digestmod=hashlib.sha256)
        mac = mac.copy()
        mac.update(force_bytes(value))
        return signing.b64_encode(mac.digest()).decode()[:SIGNATURE_LENGTH]


_signers: dict[str, _TruncatedSigner] = {}
_site_url: list[str] = []


def _signer(purpose: Purpose) -> _TruncatedSigner:
    """One signer per purpose, made once rather than per token (reading settings costs ~1 µs an
    attribute); `_forget` drops them when the keys change (override_settings in a test)."""
    signer = _signers.get(purpose)
    if signer is None:
        signer = _signers[purpose] = _TruncatedSigner(
            salt=f"ensemble.delivery.{purpose}", sep=SEP, algorithm="sha256"
        )
    return signer


@receiver(setting_changed)
def _forget(*, setting: str, **kwargs: Any) -> None:
    if setting in {"SECRET_KEY", "SECRET_KEY_FALLBACKS"}:
        _signers.clear()
    elif setting == "SITE_URL":
        _site_url.clear()


def make(purpose: Purpose, delivery_id: int, target: str | None = None) -> str:
    """The token alone (the unsubscribe mailto address uses it without a URL)."""
    value = signing.b62_encode(delivery_id)
    if purpose == "click":
        value = f"{value}{SEP}{_b64(target or '')}"
    return _signer(purpose).sign(value)


def url(purpose: Purpose, token: str) -> str:
    if not _site_url:
        _site_url.append(str(settings.SITE_URL))
    return _site_url[0] + PATHS[purpose].format(token)


def unsubscribe_url(delivery_id: int) -> str:
    return url("unsubscribe", make("unsubscribe", delivery_id))


def open_url(delivery_id: int) -> str:
    return url("open", make("open", delivery_id))


def click_url(delivery_id: int, target: str) -> str:
    return url("click", make("click", delivery_id, target))


def read(purpose: Purpose | str, token: str) -> TokenData:
    """What a token says; raises BadToken unless it was signed here for `purpose`."""
    if purpose not in PURPOSES:
        raise BadToken(f"No such token purpose: {purpose!r}.")
    try:
        value = _signer(purpose).unsign(token)  # type: ignore[arg-type]
    except signing.BadSignature as error:
        raise BadToken("The token's signature does not match.") from error
    encoded_id, _sep, encoded_target = value.partition(SEP)
    try:
        delivery_id = signing.b62_decode(encoded_id)
        target = _unb64(encoded_target) if purpose == "click" else None
    except (ValueError, binascii.Error, UnicodeDecodeError) as error:  # signed by us: only a bug gets here
        raise BadToken("The token is malformed.") from error
    if delivery_id <= 0:
        raise BadToken("The token names no delivery.")
    return TokenData(delivery_id=delivery_id, target=target)


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> str:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
