"""Requests that PostgreSQL or Python's JSON reader cannot take get a 400 naming the problem."""

from __future__ import annotations

import pytest
from django.test import Client
from rest_framework.test import APIClient

from tests.conftest import Cast

pytestmark = pytest.mark.django_db


def test_a_nul_character_in_a_contact_search_is_refused_with_400(owner_client: Client, cast: Cast) -> None:
    response = owner_client.get(f"/w/{cast.workspace.slug}/contacts/?q=a%00b")

    assert response.status_code == 400
    assert "NUL character" in response.content.decode()


def test_a_nul_character_in_an_api_filter_is_refused_in_the_error_format(owner_api: APIClient) -> None:
    response = owner_api.get("/api/v1/contacts/?city=a%00")

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"city": [response.json()["error"]["message"]]}


def test_a_json_body_nested_thousands_of_levels_deep_is_refused_with_400(owner_api: APIClient) -> None:
    body = '{"name": ' + "[" * 100_000 + "]" * 100_000 + "}"

    for url in ("/api/v1/tags/", "/api/v1/contacts/bulk/", "/api/v1/segments/preview/"):
        response = owner_api.post(url, data=body, content_type="application/json")

        assert response.status_code == 400, url
        assert response.json()["error"]["message"] == "The JSON body is nested too deeply to read."
