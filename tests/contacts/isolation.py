"""Isolation rows for the contacts app (see tests/isolation/registry.py)."""

from __future__ import annotations

import shutil
import tempfile
from io import BytesIO

from django.core.files.base import ContentFile
from django.test import override_settings
from django.urls import reverse
from openpyxl import load_workbook
from rest_framework.test import APIClient

from apps.contacts.importing import pipeline
from apps.contacts.models import Contact
from apps.workspaces.models import Workspace
from tests.factories import ContactFactory, CustomFieldFactory, ImportPresetFactory, TagFactory
from tests.isolation.registry import ObjectIds, ScopedRoute


def _import_job(workspace: Workspace) -> int:
    """An uploaded import, through the pipeline. The matrix never reads its file (every route answers
    404 first), so the file is stored in a throwaway folder, removed at once."""
    media = tempfile.mkdtemp(prefix="ensemble-isolation-")
    try:
        with override_settings(MEDIA_ROOT=media):
            job = pipeline.import_create(
                workspace=workspace,
                upload=ContentFile(b"email,first_name\nmaya@example.com,Maya\n", name="contacts.csv"),
                actor=None,
                options=pipeline.ImportSettings(),
            )
    finally:
        shutil.rmtree(media, ignore_errors=True)
    return job.id


def make_objects(workspace: Workspace) -> ObjectIds:
    tag = TagFactory(workspace=workspace)
    contact = ContactFactory(workspace=workspace, tags=[tag])
    return {
        "contact": contact.id,
        "tag": tag.id,
        "custom_field": CustomFieldFactory(workspace=workspace).id,
        "import_job": _import_job(workspace),
        "import_preset": ImportPresetFactory(workspace=workspace).id,
    }


# Browser pages under /w/<workspace_slug>/contacts/.
PAGES: list[ScopedRoute] = [
    ScopedRoute("contacts:list"),
    ScopedRoute("contacts:count"),
    ScopedRoute("contacts:columns", methods=("post",)),
    ScopedRoute("contacts:bulk", methods=("post",)),
    ScopedRoute("contacts:create", methods=("get", "post")),
    ScopedRoute("contacts:detail", lambda ids: {"contact_id": ids["contact"]}),
    ScopedRoute("contacts:edit", lambda ids: {"contact_id": ids["contact"]}, methods=("get", "post")),
    ScopedRoute("contacts:erase", lambda ids: {"contact_id": ids["contact"]}, methods=("get", "post")),
    ScopedRoute("contacts:contact-tag-add", lambda ids: {"contact_id": ids["contact"]}, methods=("post",)),
    ScopedRoute(
        "contacts:contact-tag-remove",
        lambda ids: {"contact_id": ids["contact"], "tag_id": ids["tag"]},
        methods=("post",),
    ),
    ScopedRoute("contacts:tags", methods=("get", "post")),
    ScopedRoute("contacts:tag-update", lambda ids: {"tag_id": ids["tag"]}, methods=("post",)),
    ScopedRoute("contacts:tag-delete", lambda ids: {"tag_id": ids["tag"]}, methods=("post",)),
    ScopedRoute("contacts:custom-fields", methods=("get", "post")),
    ScopedRoute(
        "contacts:custom-field-delete",
        lambda ids: {"custom_field_id": ids["custom_field"]},
        methods=("post",),
    ),
    ScopedRoute("contacts:imports"),
    ScopedRoute("contacts:import-new", methods=("get", "post")),
    ScopedRoute(
        "contacts:import-detail", lambda ids: {"import_job_id": ids["import_job"]}, methods=("get", "post")
    ),
    ScopedRoute("contacts:import-progress", lambda ids: {"import_job_id": ids["import_job"]}),
    ScopedRoute("contacts:import-start", lambda ids: {"import_job_id": ids["import_job"]}, methods=("post",)),
    ScopedRoute(
        "contacts:import-cancel", lambda ids: {"import_job_id": ids["import_job"]}, methods=("post",)
    ),
    ScopedRoute("contacts:import-rejected", lambda ids: {"import_job_id": ids["import_job"]}),
    ScopedRoute(
        "contacts:import-preset-apply", lambda ids: {"import_job_id": ids["import_job"]}, methods=("post",)
    ),
    ScopedRoute("contacts:import-presets"),
    ScopedRoute(
        "contacts:import-preset-delete", lambda ids: {"preset_id": ids["import_preset"]}, methods=("post",)
    ),
]


def _export_leaves_out_their_contact(client: APIClient, their_ids: ObjectIds) -> None:
    email = Contact.objects.get(id=their_ids["contact"]).email
    url = reverse("api:contact-export")
    csv_text = b"".join(client.get(url, {"format": "csv"}).streaming_content).decode("utf-8-sig")
    workbook = load_workbook(BytesIO(b"".join(client.get(url, {"format": "xlsx"}).streaming_content)))
    cells = {cell for row in workbook.active.iter_rows(values_only=True) for cell in row}

    assert email not in csv_text
    assert email not in cells
    assert len(b"".join(client.get(url, {"email": email}).streaming_content).splitlines()) == 1  # header


def _bulk_upsert_never_touches_their_contact(client: APIClient, their_ids: ObjectIds) -> None:
    theirs = Contact.objects.get(id=their_ids["contact"])
    response = client.post(
        reverse("api:contact-bulk"),
        {"contacts": [{"email": theirs.email, "first_name": "Mallory"}]},
        format="json",
    )
    assert response.status_code == 200
    row = response.json()["results"][0]
    assert (row["status"], row["id"] != theirs.id) == ("created", True)
    theirs.refresh_from_db()
    assert theirs.first_name != "Mallory"


# Endpoints under /api/v1/.
API: list[ScopedRoute] = [
    ScopedRoute("api:contact-list", must_not_list="contact"),
    ScopedRoute(
        "api:contact-detail", lambda ids: {"pk": ids["contact"]}, methods=("get", "patch", "put", "delete")
    ),
    ScopedRoute("api:contact-bulk", probe=_bulk_upsert_never_touches_their_contact),
    ScopedRoute("api:contact-export", probe=_export_leaves_out_their_contact),
    ScopedRoute("api:tag-list", must_not_list="tag"),
    ScopedRoute("api:tag-detail", lambda ids: {"pk": ids["tag"]}, methods=("get", "patch", "put", "delete")),
    ScopedRoute("api:tag-apply", lambda ids: {"pk": ids["tag"]}, methods=("post",)),
    ScopedRoute("api:tag-remove", lambda ids: {"pk": ids["tag"]}, methods=("post",)),
    ScopedRoute("api:custom-field-list", must_not_list="custom_field"),
    ScopedRoute(
        "api:custom-field-detail",
        lambda ids: {"pk": ids["custom_field"]},
        methods=("get", "patch", "put", "delete"),
    ),
    ScopedRoute("api:import-list", must_not_list="import_job"),
    ScopedRoute("api:import-detail", lambda ids: {"pk": ids["import_job"]}, methods=("get", "patch")),
    ScopedRoute("api:import-preview", lambda ids: {"pk": ids["import_job"]}),
    ScopedRoute("api:import-dry-run", lambda ids: {"pk": ids["import_job"]}, methods=("post",)),
    ScopedRoute("api:import-start", lambda ids: {"pk": ids["import_job"]}, methods=("post",)),
    ScopedRoute("api:import-cancel", lambda ids: {"pk": ids["import_job"]}, methods=("post",)),
    ScopedRoute("api:import-rejected", lambda ids: {"pk": ids["import_job"]}),
    ScopedRoute("api:import-preset-list", must_not_list="import_preset"),
    ScopedRoute(
        "api:import-preset-detail",
        lambda ids: {"pk": ids["import_preset"]},
        methods=("get", "patch", "put", "delete"),
    ),
]
