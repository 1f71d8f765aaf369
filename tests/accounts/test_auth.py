from __future__ import annotations

import re

import pytest
from django.core import mail
from django.test import Client

from apps.accounts.models import User
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_password_reset_emails_a_single_use_link_that_sets_a_new_password(client: Client) -> None:
    user = UserFactory(email="maya@acme.example")

    client.post("/accounts/password_reset/", {"email": "maya@acme.example"})
    link = re.search(r"http://testserver(/accounts/reset/\S+/)", mail.outbox[0].body).group(1)
    form_url = client.get(link)["Location"]  # Django swaps the token for a session-bound URL
    client.post(form_url, {"new_password1": "a-long-Passphrase-42", "new_password2": "a-long-Passphrase-42"})

    user.refresh_from_db()
    assert user.check_password("a-long-Passphrase-42")
    assert "no longer works" in client.get(link, follow=True).content.decode()


def test_password_reset_does_not_reveal_whether_an_address_has_a_login(client: Client) -> None:
    response = client.post("/accounts/password_reset/", {"email": "nobody@acme.example"})

    assert response["Location"] == "/accounts/password_reset/done/"
    assert mail.outbox == []


def test_emails_are_unique_regardless_of_case() -> None:
    UserFactory(email="maya@acme.example")

    with pytest.raises(Exception, match="unique"):
        User.objects.create_user(email="MAYA@acme.example", password="x")


def test_logging_out_needs_a_post_and_ends_the_session(client: Client) -> None:
    client.force_login(UserFactory())

    client.post("/accounts/logout/")

    assert client.get("/")["Location"].startswith("/accounts/login/")
