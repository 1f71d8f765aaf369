"""Signed tokens of the unsubscribe, open and click links: they name a delivery (and a click's
target) and nothing a reader could change."""

from __future__ import annotations

import base64

import pytest

from apps.delivery import tokens


def _token(url: str, prefix: str, suffix: str) -> str:
    path = url.removeprefix("http://testserver")
    assert path.startswith(prefix)
    assert path.endswith(suffix)
    return path[len(prefix) : -len(suffix)]


@pytest.fixture(autouse=True)
def _site(settings) -> None:
    settings.SITE_URL = "http://testserver"


def test_unsubscribe_token_round_trips() -> None:
    token = _token(tokens.unsubscribe_url(4711), "/d/u/", "/")

    assert tokens.read("unsubscribe", token) == tokens.TokenData(delivery_id=4711, target=None)


def test_open_url_is_a_gif_path_whose_token_round_trips() -> None:
    token = _token(tokens.open_url(12), "/d/o/", ".gif")

    assert tokens.read("open", token).delivery_id == 12


def test_click_token_carries_its_target() -> None:
    target = "https://shop.example/boots?size=42&colour=grün#top"
    token = _token(tokens.click_url(99, target), "/d/c/", "/")

    assert tokens.read("click", token) == tokens.TokenData(delivery_id=99, target=target)


def test_tokens_are_short() -> None:
    assert len(tokens.make("unsubscribe", 123_456_789)) <= 30


def test_tampered_token_is_refused() -> None:
    token = tokens.make("unsubscribe", 5)
    _encoded_id, sep, signature = token.partition(".")
    forged = f"{tokens.signing.b62_encode(6)}{sep}{signature}"

    with pytest.raises(tokens.BadToken):
        tokens.read("unsubscribe", forged)


def test_token_of_one_purpose_is_refused_for_another() -> None:
    with pytest.raises(tokens.BadToken):
        tokens.read("unsubscribe", tokens.make("open", 5))


def test_click_target_cannot_be_changed() -> None:
    token = tokens.make("click", 5, "https://shop.example/")
    encoded_id, _encoded_target, signature = token.split(".")
    evil = base64.urlsafe_b64encode(b"https://evil.example/").rstrip(b"=").decode()

    with pytest.raises(tokens.BadToken):
        tokens.read("click", f"{encoded_id}.{evil}.{signature}")


@pytest.mark.parametrize("token", ["", "garbage", "1.2.3.4", "\u00e9.x"])
def test_garbage_is_refused(token: str) -> None:
    with pytest.raises(tokens.BadToken):
        tokens.read("click", token)


def test_unknown_purpose_is_refused() -> None:
    with pytest.raises(tokens.BadToken):
        tokens.read("admin", tokens.make("open", 5))


def test_token_signed_with_a_rotated_key_still_reads(settings) -> None:
    token = tokens.make("unsubscribe", 8)
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "a-new-secret-key-that-is-long-enough-for-django-to-accept-it"

    assert tokens.read("unsubscribe", token).delivery_id == 8
    assert tokens.make("unsubscribe", 8) != token


def test_token_from_another_secret_key_is_refused(settings) -> None:
    token = tokens.make("unsubscribe", 8)
    settings.SECRET_KEY = "a-new-secret-key-that-is-long-enough-for-django-to-accept-it"

    with pytest.raises(tokens.BadToken):
        tokens.read("unsubscribe", token)


def test_signature_is_djangos_salted_hmac_truncated() -> None:
    """The cached derived key must give exactly what `signing.Signer` would (and so keep working
    with Django's key fallbacks)."""
    signer = tokens._signer("open")
    value = "1Zx"

    plain = tokens.signing.Signer(salt="ensemble.delivery.open", sep=".", algorithm="sha256")
    assert signer.signature(value) == plain.signature(value)[: tokens.SIGNATURE_LENGTH]
