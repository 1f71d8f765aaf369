from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client


def test_the_openapi_schema_validates_without_warnings() -> None:
    out = StringIO()

    call_command("spectacular", "--validate", "--fail-on-warn", "--format", "openapi-json", stdout=out)

    assert '"openapi": "3.0.3"' in out.getvalue()


@pytest.mark.django_db
def test_the_schema_is_public_and_documents_bearer_tokens(client: Client) -> None:
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")

    schema = response.json()
    assert response.status_code == 200
    assert schema["components"]["securitySchemes"]["apiToken"]["scheme"] == "bearer"
    assert "/api/v1/teams/" in schema["paths"]


@pytest.mark.django_db
def test_the_interactive_docs_load_from_local_files_only(client: Client) -> None:
    page = client.get("/api/docs/").content.decode()

    assert "swagger-ui" in page
    assert "https://" not in page.replace("https://swagger", "")  # no CDN
