"""Reads of the delivery ledger: an item's sending progress and its per-recipient log. Every read
starts from a channel item, which `campaigns.selectors.item_get` has already scoped to the caller's
workspace; the ledger's own `workspace` column is checked as well."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import Count, QuerySet

from apps.campaigns.choices import ItemStatus
from apps.campaigns.models import ChannelItem
from apps.delivery.choices import CLAIMABLE, DeliveryStatus, ExclusionReason
from apps.delivery.models import Delivery, Launch

# Waiting for a worker: not yet taken, or taken back for a later attempt.
QUEUED = (*CLAIMABLE, DeliveryStatus.CLAIMED)
# States an item's page shows a progress bar in, even before the ledger has a row.
PROGRESS_STATUSES = (ItemStatus.SENDING, ItemStatus.PAUSED, ItemStatus.SENT)


@dataclass(frozen=True)
class DeliveryCounts:
    """An item's ledger by outcome. `excluded_by_reason` names every `ExclusionReason` (zero when
    nobody was left out for it), so the API's shape never depends on the data."""

    queued: int = 0
    sending: int = 0
    sent: int = 0
    failed: int = 0
    unknown: int = 0
    cancelled: int = 0
    excluded: int = 0
    excluded_by_reason: dict[str, int] = field(default_factory=dict)
    total: int = 0

    @property
    def handled(self) -> int:
        """Rows no worker has left to do (an `unknown` email may still be retried once)."""
        return self.total - self.queued - self.sending

    @property
    def progress(self) -> int:
        """Handled rows in percent, rounded down: 100 only when nothing is left."""
        return self.handled * 100 // self.total if self.total else 0

    @property
    def exclusions(self) -> list[tuple[str, str, int]]:
        """(reason, label, count) of the reasons anybody was left out for."""
        return [
            (reason.value, str(reason.label), self.excluded_by_reason.get(reason.value, 0))
            for reason in ExclusionReason
            if self.excluded_by_reason.get(reason.value)
        ]


def _counts(rows: Iterable[tuple[str, str, int]]) -> DeliveryCounts:
    by_status: dict[str, int] = {}
    by_reason = {reason.value: 0 for reason in ExclusionReason}
    for status, reason, total in rows:
        by_status[status] = by_status.get(status, 0) + total
        if status == DeliveryStatus.EXCLUDED and reason:
            by_reason[reason] = by_reason.get(reason, 0) + total
    return DeliveryCounts(
        queued=sum(by_status.get(status, 0) for status in QUEUED),
        sending=by_status.get(DeliveryStatus.SENDING, 0),
        sent=by_status.get(DeliveryStatus.SENT, 0),
        failed=by_status.get(DeliveryStatus.FAILED, 0),
        unknown=by_status.get(DeliveryStatus.UNKNOWN, 0),
        cancelled=by_status.get(DeliveryStatus.CANCELLED, 0),
        excluded=by_status.get(DeliveryStatus.EXCLUDED, 0),
        excluded_by_reason=by_reason,
        total=sum(by_status.values()),
    )


def _ledger(*, item: ChannelItem) -> QuerySet[Delivery]:
    return Delivery.objects.filter(item_id=item.id, workspace_id=item.workspace_id)


def delivery_counts(*, item: ChannelItem) -> DeliveryCounts:
    """One GROUP BY over the item's rows (the `delivery_item_status` index)."""
    rows = _ledger(item=item).order_by().values_list("status", "reason").annotate(total=Count("id"))
    return _counts(rows)


def shows_progress(*, item: ChannelItem) -> bool:
    """A sent channel's page shows its progress once it launched (or is past scheduling)."""
    return item.is_sent and (item.launched_at is not None or item.status in PROGRESS_STATUSES)


def delivery_list(
    *, item: ChannelItem, status: str | None = None, reason: str | None = None
) -> QuerySet[Delivery]:
    """The item's recipients, most recently changed first, with their contact's name and email
    (one join: the ledger has no database constraint on the contact, a join works all the same).
    Unknown filter values match nothing rather than everything."""
    rows = _ledger(item=item)
    if status:
        rows = rows.filter(status=status)
    if reason:
        rows = rows.filter(reason=reason)
    return (
        rows.select_related("contact")
        .only(
            *(f.name for f in Delivery._meta.concrete_fields if f.name not in ("workspace", "item")),
            "item_id",
            "workspace_id",
            "contact__id",
            "contact__first_name",
            "contact__last_name",
            "contact__email",
            "contact__phone",
        )
        .order_by("-updated_at", "-id")
    )


def segment_ids_of(*, mask: int, segment_ids: list[int]) -> list[int]:
    """The include segments a recipient qualified through: bit i of the mask is
    `Launch.segment_ids[i]`."""
    return [segment_id for index, segment_id in enumerate(segment_ids) if mask >> index & 1]


def launch_segment_ids(*, item: ChannelItem) -> list[int]:
    """The segments in the order of their mask bits; none before the item launched."""
    launch = Launch.objects.filter(item_id=item.id).only("segment_ids").first()
    return list(launch.segment_ids) if launch is not None else []
