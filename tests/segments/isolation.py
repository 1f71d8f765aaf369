"""Isolation rows for the segments app (see tests/isolation/registry.py)."""

from __future__ import annotations

from django.urls import reverse
from rest_framework.test import APIClient

from apps.contacts.models import Contact
from apps.segments import services
from apps.segments.models import Segment
from apps.workspaces.models import Workspace
from tests.factories import ContactFactory, TagFactory
from tests.isolation.registry import ObjectIds, ScopedRoute


def make_objects(workspace: Workspace) -> ObjectIds:
    tag = TagFactory(workspace=workspace)
    contact = ContactFactory(workspace=workspace, tags=[tag])
    dynamic = services.segment_create(workspace=workspace, name=f"Has {tag.name}", rules={"tag": tag.name})
    static = services.segment_create(
        workspace=workspace, name=f"Had {tag.name}", rules={"segment": dynamic.id}, kind="static"
    )
    return {"segment": dynamic.id, "static_segment": static.id, "segment_contact": contact.id}


SEGMENT = lambda ids: {"segment_id": ids["segment"]}  # noqa: E731

# Browser pages under /w/<workspace_slug>/segments/.
PAGES: list[ScopedRoute] = [
    ScopedRoute("segments:list"),
    ScopedRoute("segments:overlap"),
    ScopedRoute("segments:create", methods=("get", "post")),
    ScopedRoute("segments:builder", methods=("post",)),
    ScopedRoute("segments:preview", methods=("post",)),
    ScopedRoute("segments:tag-suggestions"),
    ScopedRoute("segments:detail", SEGMENT),
    ScopedRoute("segments:count", SEGMENT),
    ScopedRoute("segments:edit", SEGMENT, methods=("get", "post")),
    ScopedRoute("segments:freeze", SEGMENT, methods=("post",)),
    ScopedRoute("segments:delete", SEGMENT, methods=("post",)),
]


def _preview_never_reads_their_segments_tags_or_contacts(client: APIClient, their_ids: ObjectIds) -> None:
    url = reverse("api:segment-preview")
    theirs = Segment.objects.get(id=their_ids["segment"])

    by_segment = client.post(url, {"rules": {"segment": theirs.id}}, format="json")
    by_tag = client.post(url, {"rules": theirs.rules}, format="json")
    everyone = client.post(url, {"rules": {"all": []}, "sample_size": 100}, format="json")

    assert by_segment.status_code == 400
    assert by_segment.json()["error"]["fields"]["rules"]["segment"] == [
        f"There is no segment {theirs.id} in this workspace."
    ]
    assert by_tag.status_code == 400
    assert "There is no tag" in by_tag.json()["error"]["fields"]["rules"]["tag"][0]
    assert everyone.status_code == 200
    assert their_ids["segment_contact"] not in {contact["id"] for contact in everyone.json()["sample"]}
    assert (
        everyone.json()["count"]
        == Contact.objects.exclude(workspace_id=theirs.workspace_id).filter(workspace__slug="mine").count()
    )


def _overlap_never_reads_their_segments(client: APIClient, their_ids: ObjectIds) -> None:
    ids = f"{their_ids['segment']},{their_ids['static_segment']}"

    response = client.get(reverse("api:segment-overlap"), {"ids": ids})

    assert response.status_code == 400
    assert response.json()["error"]["fields"]["ids"] == [
        f"There is no segment {their_ids['segment']} in this workspace."
    ]


# Endpoints under /api/v1/.
API: list[ScopedRoute] = [
    ScopedRoute("api:segment-list", must_not_list="segment"),
    ScopedRoute(
        "api:segment-detail", lambda ids: {"pk": ids["segment"]}, methods=("get", "patch", "put", "delete")
    ),
    ScopedRoute("api:segment-count", lambda ids: {"pk": ids["static_segment"]}),
    ScopedRoute("api:segment-contacts", lambda ids: {"pk": ids["segment"]}),
    ScopedRoute("api:segment-freeze", lambda ids: {"pk": ids["segment"]}, methods=("post",)),
    ScopedRoute("api:segment-preview", probe=_preview_never_reads_their_segments_tags_or_contacts),
    ScopedRoute("api:segment-overlap", probe=_overlap_never_reads_their_segments),
]
