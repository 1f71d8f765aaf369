"""The ledger on its surfaces: the sending progress on an item's page (polled while sending), the
per-recipient delivery log, `/api/v1/channel-items/{id}/deliveries/` and `delivery_counts`, and the
read-only admin. Ledger rows are written with the ORM: these tests are about reading them."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from apps.accounts.models import User
from apps.campaigns import services as campaign_services
from apps.campaigns.choices import ItemStatus
from apps.campaigns.models import Campaign, ChannelItem
from apps.contacts.models import Contact
from apps.delivery import selectors
from apps.delivery.choices import DeliveryStatus, ExclusionReason
from apps.delivery.models import Delivery, Event, Launch, TokenBucket
from apps.workspaces.models import Workspace
from tests.conftest import Cast
from tests.factories import ContactFactory, issue_token

pytestmark = pytest.mark.django_db

LAUNCHED = dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.UTC)
ITEMS_API = "/api/v1/channel-items/"
HTMX = {"HTTP_HX_REQUEST": "true"}

# status, reason, how many: one ledger in every state.
LEDGER: list[tuple[str, str, int]] = [
    (DeliveryStatus.PENDING, "", 3),
    (DeliveryStatus.CLAIMED, "", 1),
    (DeliveryStatus.DEFERRED, "", 1),
    (DeliveryStatus.RETRY_WAIT, "", 2),
    (DeliveryStatus.SENDING, "", 1),
    (DeliveryStatus.SENT, "", 6),
    (DeliveryStatus.FAILED, "", 2),
    (DeliveryStatus.UNKNOWN, "", 1),
    (DeliveryStatus.CANCELLED, "", 1),
    (DeliveryStatus.EXCLUDED, ExclusionReason.UNSUBSCRIBED, 2),
    (DeliveryStatus.EXCLUDED, ExclusionReason.CONTACT_PRESSURE, 1),
]


# --- Fixtures -------------------------------------------------------------------------------------


def _campaign(workspace: Workspace, name: str = "Spring launch") -> Campaign:
    return campaign_services.campaign_create(workspace=workspace, name=name)


def _email(campaign: Campaign, *, status: str = ItemStatus.SENDING, pause_reason: str = "") -> ChannelItem:
    item = campaign_services.item_create(
        campaign=campaign, channel="email", name="Launch email", subject="Hi", body_text="Spring."
    )
    launched = LAUNCHED if status != ItemStatus.DRAFT else None
    ChannelItem.objects.filter(id=item.id).update(
        status=status, launched_at=launched, pause_reason=pause_reason
    )
    item.refresh_from_db()
    return item


def _contacts(workspace: Workspace, count: int) -> list[Contact]:
    return Contact.objects.bulk_create(ContactFactory.build_batch(count, workspace=workspace))


def _ledger(item: ChannelItem, rows: list[tuple[str, str, int]] = LEDGER, **extra: Any) -> list[Delivery]:
    contacts = iter(_contacts(item.workspace, sum(count for _, _, count in rows)))
    deliveries = []
    for status, reason, count in rows:
        for _ in range(count):
            contact = next(contacts)
            deliveries.append(
                Delivery(
                    workspace=item.workspace,
                    item=item,
                    contact=contact,
                    address=contact.email_normalized,
                    status=status,
                    reason=reason,
                    next_attempt_at=LAUNCHED,
                    **extra,
                )
            )
    return Delivery.objects.bulk_create(deliveries)


@pytest.fixture
def item(cast: Cast) -> ChannelItem:
    return _email(_campaign(cast.workspace))


def _page(item: ChannelItem, suffix: str = "") -> str:
    return f"/w/{item.workspace.slug}/campaigns/items/{item.id}/{suffix}"


def _shown_counts(page: str) -> dict[str, int]:
    return {
        name: int(number) for name, number in re.findall(r'data-count="(\w+)">\s*(?:<a [^>]*>)?(\d+)', page)
    }


def _html(response: Any) -> str:
    assert response.status_code == 200
    return str(response.content.decode())


# --- Counts ---------------------------------------------------------------------------------------


def test_counts_group_the_ledger_by_outcome_in_one_query(
    item: ChannelItem, django_assert_num_queries: Any
) -> None:
    _ledger(item)

    with django_assert_num_queries(1):
        counts = selectors.delivery_counts(item=item)

    assert (counts.queued, counts.sending, counts.sent, counts.failed) == (7, 1, 6, 2)
    assert (counts.unknown, counts.cancelled, counts.excluded, counts.total) == (1, 1, 3, 21)
    assert counts.excluded_by_reason["unsubscribed"] == 2
    assert counts.excluded_by_reason["contact_pressure"] == 1
    assert counts.excluded_by_reason["suppressed"] == 0
    assert counts.progress == 13 * 100 // 21  # handled: everything but queued and sending


def test_counts_of_an_item_without_rows_are_zero(item: ChannelItem) -> None:
    counts = selectors.delivery_counts(item=item)

    assert (counts.total, counts.progress, counts.exclusions) == (0, 0, [])


# --- The progress block ---------------------------------------------------------------------------


def test_the_item_page_shows_progress_counts_and_exclusion_reasons(
    owner_client: Client, item: ChannelItem
) -> None:
    _ledger(item)

    page = _html(owner_client.get(_page(item)))

    assert 'id="delivery-progress"' in page
    assert '<progress value="13"\n              max="21"' in page
    assert _shown_counts(page) == {
        "queued": 7, "sending": 1, "sent": 6, "failed": 2, "unknown": 1, "cancelled": 1, "excluded": 3,
    }  # fmt: skip
    assert "Unsubscribed</a>: 2" in page
    assert "Contact pressure: enough messages lately</a>: 1" in page
    assert f"{_page(item, 'deliveries/')}?status=failed" in page


def test_the_progress_block_polls_every_two_seconds_while_sending(
    owner_client: Client, item: ChannelItem
) -> None:
    _ledger(item, [(DeliveryStatus.PENDING, "", 2)])

    fragment = _html(owner_client.get(_page(item, "progress/"), **HTMX))

    assert 'hx-trigger="every 2s"' in fragment
    assert f'hx-get="{_page(item, "progress/")}?seen=sending"' in fragment
    assert "<html" not in fragment


def test_the_progress_block_stops_polling_once_sent_and_reloads_the_page(
    owner_client: Client, item: ChannelItem
) -> None:
    _ledger(item, [(DeliveryStatus.SENT, "", 2)])
    ChannelItem.objects.filter(id=item.id).update(status=ItemStatus.SENT)

    response = owner_client.get(_page(item, "progress/"), {"seen": "sending"}, **HTMX)

    assert "hx-trigger" not in _html(response)
    assert "100 %" in _html(response)
    assert response["HX-Refresh"] == "true"


def test_the_item_page_of_a_sent_item_does_not_poll(owner_client: Client, item: ChannelItem) -> None:
    ChannelItem.objects.filter(id=item.id).update(status=ItemStatus.SENT)
    _ledger(item, [(DeliveryStatus.SENT, "", 1)])

    page = _html(owner_client.get(_page(item)))

    assert 'id="delivery-progress"' in page
    assert "every 2s" not in page


def test_a_paused_item_shows_why_it_was_paused(owner_client: Client, cast: Cast) -> None:
    reason = "Paused automatically: 20 of 25 messages in one batch failed."
    paused = _email(_campaign(cast.workspace), status=ItemStatus.PAUSED, pause_reason=reason)

    page = _html(owner_client.get(_page(paused)))

    assert reason in page
    assert "every 2s" not in page


def test_a_draft_has_no_progress_block(owner_client: Client, cast: Cast) -> None:
    draft = _email(_campaign(cast.workspace), status=ItemStatus.DRAFT)

    assert 'id="delivery-progress"' not in _html(owner_client.get(_page(draft)))
    assert owner_client.get(_page(draft, "progress/"), **HTMX).status_code == 404


def test_the_progress_url_without_htmx_leads_to_the_item_page(
    owner_client: Client, item: ChannelItem
) -> None:
    response = owner_client.get(_page(item, "progress/"))

    assert response.status_code == 302
    assert response["Location"] == _page(item)


# --- The delivery log -----------------------------------------------------------------------------


def test_the_log_lists_each_recipient_with_status_reason_attempts_error_and_next_retry(
    owner_client: Client, item: ChannelItem
) -> None:
    (row,) = _ledger(item, [(DeliveryStatus.RETRY_WAIT, "", 1)])
    Delivery.objects.filter(id=row.id).update(attempts=2, error="421 Try again later")
    contact = Contact.objects.get(id=row.contact_id)

    page = _html(owner_client.get(_page(item, "deliveries/")))

    shown = (
        contact.display_name,
        contact.email_normalized,
        "Waiting to retry",
        "421 Try again later",
        "retry after 2 attempts",
        "2 Mar 2026 09:00:00",
    )  # fmt: skip - the next retry in Berlin time
    for text in shown:
        assert text in page, text


def test_the_log_filters_by_status(owner_client: Client, item: ChannelItem) -> None:
    _ledger(item)

    response = owner_client.get(_page(item, "deliveries/"), {"status": "failed"})

    rows = list(response.context["page"].object_list)
    assert [row.status for row in rows] == ["failed", "failed"]
    assert '<option value="failed" selected>' in _html(response)


def test_the_log_filters_by_exclusion_reason(owner_client: Client, item: ChannelItem) -> None:
    _ledger(item)

    response = owner_client.get(_page(item, "deliveries/"), {"reason": "contact_pressure"})

    assert [row.reason for row in response.context["page"].object_list] == ["contact_pressure"]


def test_the_log_ignores_an_unknown_filter_value(owner_client: Client, item: ChannelItem) -> None:
    _ledger(item)

    response = owner_client.get(_page(item, "deliveries/"), {"status": "bogus"})

    assert response.context["page"].paginator.count == 21


def test_the_log_shows_fifty_recipients_a_page_newest_changes_first(
    owner_client: Client, item: ChannelItem
) -> None:
    rows = _ledger(item, [(DeliveryStatus.SENT, "", 120)])
    Delivery.objects.filter(id=rows[0].id).update(updated_at=timezone.now() + dt.timedelta(minutes=1))

    first = owner_client.get(_page(item, "deliveries/"))
    last = owner_client.get(_page(item, "deliveries/"), {"page": 3, "status": "sent"})

    assert len(first.context["page"].object_list) == 50
    assert first.context["page"].object_list[0].id == rows[0].id
    assert len(last.context["page"].object_list) == 20
    assert "status=sent&page=2" in _html(last)


def test_the_log_reads_with_the_same_queries_for_many_recipients(
    owner_client: Client, item: ChannelItem, django_assert_max_num_queries: Any
) -> None:
    _ledger(item, [(DeliveryStatus.SENT, "", 3)])
    owner_client.get(_page(item, "deliveries/"))
    with django_assert_max_num_queries(12) as few:
        owner_client.get(_page(item, "deliveries/"))
    _ledger(item, [(DeliveryStatus.FAILED, "", 80)])

    with django_assert_max_num_queries(len(few.captured_queries)):
        response = owner_client.get(_page(item, "deliveries/"))

    assert len(response.context["page"].object_list) == 50


def test_an_htmx_filter_gets_only_the_rows(owner_client: Client, item: ChannelItem) -> None:
    _ledger(item, [(DeliveryStatus.SENT, "", 1)])

    fragment = _html(owner_client.get(_page(item, "deliveries/"), **HTMX))

    assert fragment.lstrip().startswith('<div id="delivery-rows">')


def test_a_viewer_sees_the_progress_and_the_log(viewer_client: Client, item: ChannelItem) -> None:
    _ledger(item, [(DeliveryStatus.SENT, "", 1)])

    assert 'id="delivery-progress"' in _html(viewer_client.get(_page(item)))
    assert viewer_client.get(_page(item, "progress/"), **HTMX).status_code == 200
    assert viewer_client.get(_page(item, "deliveries/")).status_code == 200


def test_another_workspace_cannot_see_the_progress_or_the_log(
    outsider_client: Client, cast: Cast, item: ChannelItem
) -> None:
    _ledger(item, [(DeliveryStatus.SENT, "", 1)])
    theirs = f"/w/{cast.other_workspace.slug}/campaigns/items/{item.id}/"

    for suffix in ("progress/", "deliveries/"):
        assert outsider_client.get(_page(item, suffix), **HTMX).status_code == 404
        assert outsider_client.get(f"{theirs}{suffix}", **HTMX).status_code == 404


def test_a_planned_channel_has_no_delivery_log(owner_client: Client, cast: Cast) -> None:
    post = campaign_services.item_create(
        campaign=_campaign(cast.workspace), channel="social", name="Post", content="Spring"
    )

    assert owner_client.get(_page(post, "deliveries/")).status_code == 404


# --- API ------------------------------------------------------------------------------------------


def _deliveries(client: APIClient, item: ChannelItem, **query: Any) -> Any:
    return client.get(f"{ITEMS_API}{item.id}/deliveries/", query)


def test_the_api_lists_deliveries_with_their_fields(viewer_api: APIClient, item: ChannelItem) -> None:
    (row,) = _ledger(item, [(DeliveryStatus.SENT, "", 1)], provider_id="<42@ensemble>", attempts=1)

    body = _deliveries(viewer_api, item).json()

    assert body["count"] == 1
    assert body["results"][0] == {
        "id": row.id, "contact": row.contact_id, "address": row.address, "status": "sent", "reason": "",
        "attempts": 1, "next_attempt_at": "2026-03-02T08:00:00Z", "sent_at": None,
        "provider_id": "<42@ensemble>", "error": "", "segment_ids": [],
        "updated_at": body["results"][0]["updated_at"],
    }  # fmt: skip


def test_the_api_filters_deliveries_by_status_and_reason(viewer_api: APIClient, item: ChannelItem) -> None:
    _ledger(item)

    failed = _deliveries(viewer_api, item, status="failed").json()
    pressure = _deliveries(viewer_api, item, reason="contact_pressure").json()

    assert [r["status"] for r in failed["results"]] == ["failed", "failed"]
    assert [r["reason"] for r in pressure["results"]] == ["contact_pressure"]


def test_the_api_refuses_an_unknown_status_filter(viewer_api: APIClient, item: ChannelItem) -> None:
    response = _deliveries(viewer_api, item, status="lost")

    assert response.status_code == 400
    assert "status" in response.json()["error"]["fields"]


def test_the_api_pages_deliveries(viewer_api: APIClient, item: ChannelItem) -> None:
    _ledger(item, [(DeliveryStatus.SENT, "", 7)])

    body = _deliveries(viewer_api, item, page_size=5, page=2).json()

    assert (body["count"], len(body["results"]), body["next"]) == (7, 2, None)


def test_segment_ids_decode_the_mask_against_the_launch(viewer_api: APIClient, item: ChannelItem) -> None:
    Launch.objects.create(item=item, launched_at=LAUNCHED, segment_ids=[11, 22, 33])
    first, second = _ledger(item, [(DeliveryStatus.SENT, "", 2)])
    Delivery.objects.filter(id=first.id).update(segment_mask=0b101)
    Delivery.objects.filter(id=second.id).update(segment_mask=0b010)

    body = _deliveries(viewer_api, item).json()

    assert {r["id"]: r["segment_ids"] for r in body["results"]} == {first.id: [11, 33], second.id: [22]}


def test_another_workspaces_deliveries_are_not_found(cast: Cast, item: ChannelItem) -> None:
    _ledger(item, [(DeliveryStatus.SENT, "", 1)])
    _, key = issue_token(membership=cast.outsider_membership)
    outsider = APIClient()
    outsider.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")

    response = _deliveries(outsider, item)

    assert response.status_code == 404


def test_an_item_carries_its_delivery_counts(viewer_api: APIClient, item: ChannelItem) -> None:
    _ledger(item)

    counts = viewer_api.get(f"{ITEMS_API}{item.id}/").json()["delivery_counts"]

    assert (counts["sent"], counts["queued"], counts["total"], counts["progress"]) == (6, 7, 21, 61)
    assert counts["excluded_by_reason"]["unsubscribed"] == 2


def test_a_planned_item_has_no_delivery_counts(viewer_api: APIClient, cast: Cast) -> None:
    post = campaign_services.item_create(
        campaign=_campaign(cast.workspace), channel="social", name="Post", content="Spring"
    )

    assert viewer_api.get(f"{ITEMS_API}{post.id}/").json()["delivery_counts"] is None


def test_the_item_list_leaves_delivery_counts_out(
    viewer_api: APIClient, cast: Cast, django_assert_max_num_queries: Any
) -> None:
    campaign = _campaign(cast.workspace)
    for item in [_email(campaign) for _ in range(4)]:
        _ledger(item, [(DeliveryStatus.SENT, "", 2), (DeliveryStatus.PENDING, "", 1)])

    with django_assert_max_num_queries(7):
        body = viewer_api.get(ITEMS_API).json()

    assert [row["delivery_counts"] for row in body["results"]] == [None] * 4


# --- Admin ----------------------------------------------------------------------------------------


@pytest.fixture
def superuser_client(db: None) -> Client:
    client = Client()
    client.force_login(User.objects.create_superuser(email="ops@ensemble.example", password="x"))
    return client


ADMIN_MODELS = ("delivery", "event", "launch", "tokenbucket")


@pytest.fixture
def ledger_objects(item: ChannelItem) -> dict[str, int]:
    (row,) = _ledger(item, [(DeliveryStatus.FAILED, "", 1)])
    event = Event.objects.create(
        workspace=item.workspace,
        delivery=row,
        contact_id=row.contact_id,
        type="bounced",
        at=LAUNCHED,
        key="k1",
    )
    launch = Launch.objects.create(item=item, launched_at=LAUNCHED, segment_ids=[], counts={"failed": 1})
    bucket = TokenBucket.objects.create(key=f"item:{item.id}", tokens=3.0, updated_at=LAUNCHED)
    return {"delivery": row.id, "event": event.id, "launch": launch.id, "tokenbucket": bucket.pk}


def test_the_admin_shows_the_ledger_read_only(
    superuser_client: Client, ledger_objects: dict[str, int]
) -> None:
    for model in ADMIN_MODELS:
        changelist = superuser_client.get(
            f"/admin/delivery/{model}/", {"q": "x"} if model == "delivery" else {}
        )
        change = superuser_client.get(f"/admin/delivery/{model}/{ledger_objects[model]}/change/")

        assert changelist.status_code == 200, model
        assert 'name="action"' not in changelist.content.decode(), model
        assert change.status_code == 200, model
        assert 'type="submit"' not in change.content.decode().split('id="content-main"')[1], model


def test_the_admin_cannot_add_change_or_delete_ledger_rows(
    superuser_client: Client, ledger_objects: dict[str, int]
) -> None:
    row_id = ledger_objects["delivery"]

    assert superuser_client.get("/admin/delivery/delivery/add/").status_code == 403
    assert (
        superuser_client.post(f"/admin/delivery/delivery/{row_id}/change/", {"status": "pending"}).status_code
        == 403
    )
    assert (
        superuser_client.post(f"/admin/delivery/delivery/{row_id}/delete/", {"post": "yes"}).status_code
        == 403
    )
    assert Delivery.objects.get(id=row_id).status == "failed"


def test_the_admin_ledger_list_filters_by_channel_and_finds_an_address(
    superuser_client: Client, item: ChannelItem, django_assert_max_num_queries: Any
) -> None:
    rows = _ledger(item, [(DeliveryStatus.SENT, "", 30)])

    with django_assert_max_num_queries(12):
        listed = superuser_client.get("/admin/delivery/delivery/", {"item__channel__exact": "email"})
    found = superuser_client.get("/admin/delivery/delivery/", {"q": rows[3].address.upper()})

    assert listed.status_code == 200
    assert [r.id for r in found.context["cl"].result_list] == [rows[3].id]
