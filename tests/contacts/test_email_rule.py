"""The quick email check must never accept what Django's validator refuses."""

from __future__ import annotations

import random

import pytest
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from apps.contacts.cleaning import _PLAIN_EMAIL, FieldError, normalise_email

TRICKY = [
    "maya@example.com", "Maya.Schmidt+news@mail.example.co.uk", "a@b.cd", "a..b@example.com",
    ".a@example.com", "a.@example.com", "a@-example.com", "a@example-.com", "a@example.c", "a@example.123",
    "a@example.com.", "a@[127.0.0.1]", '"quoted"@example.com', "a@localhost", "a@xn--bcher-kva.example",
    "a b@example.com", "a@exa_mple.com", "a@" + "x" * 64 + ".com", "a@" + "x" * 63 + ".com", "müller@example.de",
    "a@example.co-m", "a@e.xample.com", "@example.com", "a@", "a@@example.com", "a@example..com",
]  # fmt: skip
ALPHABET = "ab1.-_+@ xA."


def _django_accepts(text: str) -> bool:
    try:
        validate_email(text)
    except ValidationError:
        return False
    return True


@pytest.mark.parametrize("text", TRICKY)
def test_the_quick_check_accepts_only_what_django_accepts(text: str) -> None:
    if _PLAIN_EMAIL.fullmatch(text):
        assert _django_accepts(text)


def test_the_quick_check_agrees_with_django_on_random_addresses() -> None:
    rng = random.Random(20261126)  # noqa: S311 - repeatable test data, not secrets
    for _ in range(20_000):
        local = "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 6)))
        domain = "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 10)))
        text = f"{local}@{domain}{rng.choice(['', '.de', '.c', '.com.', '.x-y'])}"
        if _PLAIN_EMAIL.fullmatch(text):
            assert _django_accepts(text), text


def test_addresses_outside_the_quick_check_still_go_through_djangos_rule() -> None:
    assert normalise_email(' "Maya"@Example.com ') == '"maya"@example.com'
    with pytest.raises(FieldError, match="not a valid email"):
        normalise_email("a..b@example.com")
