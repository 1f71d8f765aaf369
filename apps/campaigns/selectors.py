"""Reads for campaigns and channel items, always scoped to one workspace."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet, Sum

from apps.campaigns.choices import ChannelKind
from apps.campaigns.models import Campaign, ChannelItem, ChannelResult
from apps.contacts.exporting import csv_stream, escape_cell
from apps.contacts.models import Contact, CustomField
from apps.core.scoping import get_scoped_or_404, scoped
from apps.segments import selectors as segment_selectors
from apps.segments.models import Segment
from apps.workspaces.models import Workspace

ADDRESS_COLUMNS = (
    "first_name", "last_name", "address_line1", "address_line2", "postal_code", "city", "region", "country",
)  # fmt: skip
ADDRESS_CHUNK = 2000


def campaign_list(*, workspace: Workspace) -> QuerySet[Campaign]:
    """Newest first, each with its item count and owner team, in a fixed number of queries."""
    return (
        scoped(Campaign.objects.all(), workspace=workspace)
        .select_related("owner_team")
        .prefetch_related("personas")
        .annotate(item_count=Count("items", distinct=True))
        .order_by("-created_at", "-id")  # an aggregate drops Meta.ordering
    )


def campaign_get(*, workspace: Workspace, campaign_id: int) -> Campaign:
    return get_scoped_or_404(
        Campaign.objects.select_related("owner_team", "created_by"), workspace=workspace, id=campaign_id
    )


def item_queryset(*, workspace: Workspace) -> QuerySet[ChannelItem]:
    """Items with what every page and the API show of them, in a fixed number of queries."""
    segments = Segment.objects.order_by("name")
    return (
        scoped(ChannelItem.objects.all(), workspace=workspace)
        .select_related("campaign", "owner_team", "scheduled_by")
        .prefetch_related(Prefetch("segments", queryset=segments), Prefetch("exclusions", queryset=segments))
    )


def campaign_items(*, campaign: Campaign) -> QuerySet[ChannelItem]:
    return item_queryset(workspace=campaign.workspace).filter(campaign=campaign).order_by("id")


def item_get(*, workspace: Workspace, item_id: int) -> ChannelItem:
    return get_scoped_or_404(item_queryset(workspace=workspace), workspace=workspace, id=item_id)


def item_results(*, item: ChannelItem) -> QuerySet[ChannelResult]:
    return item.results.select_related("recorded_by")


@dataclass(frozen=True)
class ResultTotals:
    reach: int
    responses: int
    conversions: int
    cost: Any


def result_totals(*, item: ChannelItem) -> ResultTotals:
    sums = item.results.aggregate(
        reach=Sum("reach"), responses=Sum("responses"), conversions=Sum("conversions"), cost=Sum("cost")
    )
    return ResultTotals(
        reach=sums["reach"] or 0,
        responses=sums["responses"] or 0,
        conversions=sums["conversions"] or 0,
        cost=sums["cost"],
    )


def custom_keys(*, workspace: Workspace) -> list[str]:
    """The custom field keys merge tags may name (`{{ custom.<key> }}`)."""
    return list(scoped(CustomField.objects.all(), workspace=workspace).values_list("key", flat=True))


def item_audience(*, item: ChannelItem) -> QuerySet[Contact]:
    """The contacts in any of the item's segments and in none of its exclusions, as of now. The
    delivery engine freezes this into its ledger and then applies consent and suppression."""
    return segment_selectors.audience_contacts(
        workspace=item.workspace, include=list(item.segments.all()), exclude=list(item.exclusions.all())
    )


def item_audience_count(*, item: ChannelItem) -> int:
    if not item.segments.all():
        return 0
    return item_audience(item=item).count()


def preview_contact(*, item: ChannelItem, contact_id: int | None = None) -> Contact | None:
    """The contact a saved item's preview renders as (see `audience_preview_contact`)."""
    return audience_preview_contact(
        workspace=item.workspace,
        segments=list(item.segments.all()),
        exclusions=list(item.exclusions.all()),
        contact_id=contact_id,
    )


def audience_preview_contact(
    *,
    workspace: Workspace,
    segments: Sequence[Segment],
    exclusions: Sequence[Segment],
    contact_id: int | None = None,
) -> Contact | None:
    """The contact a preview renders as: the one asked for (any contact of the workspace), else the
    newest in the audience, else the newest contact of the workspace. Unsaved copy in the editor
    passes the segments chosen in its form."""
    contacts = scoped(Contact.objects.all(), workspace=workspace)
    if contact_id is not None:
        return contacts.filter(id=contact_id).first()
    if segments:
        found = (
            segment_selectors.audience_contacts(workspace=workspace, include=segments, exclude=exclusions)
            .order_by("-id")
            .first()
        )
        if found is not None:
            return found
    return contacts.order_by("-id").first()


@dataclass(frozen=True)
class AddressCounts:
    audience: int
    with_address: int

    @property
    def missing_address(self) -> int:
        return self.audience - self.with_address


def _has_address() -> Q:
    return ~Q(address_line1="") & ~Q(city="")


def direct_mail_counts(*, item: ChannelItem) -> AddressCounts:
    if not item.segments.all():
        return AddressCounts(0, 0)
    audience = item_audience(item=item)
    counts = audience.aggregate(total=Count("id"), with_address=Count("id", filter=_has_address()))
    return AddressCounts(counts["total"], counts["with_address"])


def direct_mail_csv(*, item: ChannelItem) -> Iterator[str]:
    """The print-ready address list of a direct-mail item's audience: one row per contact with a
    street address and a city, in id order, streamed a few thousand rows at a time; cells are
    escaped against spreadsheet formulas."""
    return csv_stream(ADDRESS_COLUMNS, _addresses(item))


def _addresses(item: ChannelItem) -> Iterator[list[str]]:
    if item.channel != ChannelKind.DIRECT_MAIL or not item.segments.all():
        return
    contacts = item_audience(item=item).filter(_has_address()).order_by("id")
    last_id = 0
    while True:
        chunk = list(contacts.filter(id__gt=last_id).values_list("id", *ADDRESS_COLUMNS)[:ADDRESS_CHUNK])
        if not chunk:
            return
        for row in chunk:
            yield [escape_cell(str(value or "")) for value in row[1:]]
        last_id = chunk[-1][0]
