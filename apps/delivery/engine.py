"""The delivery engine: the database is the source of truth, Celery only the wake-up call.

- A beat tick claims due items with a compare-and-set (`scheduled -> sending`) and, in the same
  transaction, freezes each one's audience into the ledger: one `INSERT ... SELECT ... ON CONFLICT DO
  NOTHING` that also decides, per recipient, whether they are left out and why. A second tick, a
  second beat or a repeated launch claims nothing and inserts nothing.
- Workers claim batches (`SELECT ... FOR UPDATE SKIP LOCKED`), re-check pause, cancel, sign-off and
  each recipient's consent and suppression, then hand messages over in a few lanes (threads, each
  with its own provider and database connection), one by one per lane: a message is rendered, its
  row committed as `sending`, the provider called, and the row committed as `sent` (or
  `retry_wait`, `failed`). A worker killed during a call leaves at most one row `sending` per
  lane, which the sweeper marks `unknown`.
- One token bucket per item, in the database, throttles all workers together.

The same statements run on PostgreSQL and on the embedded SQLite default (no `AT TIME ZONE`, no
arrays): time zones become a CASE over the audience's few distinct zones, the segments a recipient
qualified through a bit mask."""

from __future__ import annotations

import datetime as dt
import logging
import random
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, connections, transaction
from django.db.models import (
    BigIntegerField,
    Case,
    CharField,
    Count,
    DateTimeField,
    Exists,
    F,
    IntegerField,
    Min,
    OuterRef,
    Q,
    Subquery,
    Value,
    When,
)
from django.db.models.expressions import Combinable
from django.db.models.functions import SHA256, Concat
from django.utils import timezone

from apps.approvals.checks import is_cleared
from apps.campaigns import selectors as campaign_selectors
from apps.campaigns.choices import SENT_CHANNELS, ChannelKind, ItemStatus, Timing
from apps.campaigns.models import ChannelItem
from apps.campaigns.scheduling import QuietHours, delivery_moment
from apps.campaigns.services import content_hash, target_of
from apps.contacts.choices import Channel, Consent, SuppressionReason
from apps.contacts.cleaning import address_hash
from apps.contacts.models import Contact, Suppression
from apps.contacts.services import suppression_add
from apps.delivery.channels import Sender, SendError, sender_for
from apps.delivery.choices import CLAIMABLE, OPEN, DeliveryStatus, ExclusionReason
from apps.delivery.models import Delivery, Launch, TokenBucket
from apps.segments import selectors as segment_selectors
from apps.segments.compiler import EVERYONE, NOBODY

logger = logging.getLogger(__name__)

MAX_SEGMENTS = 62  # one bit each in Delivery.segment_mask


def _setting(name: str, default: float) -> float:
    return float(getattr(settings, name, default))


# --- Launch: claim due items and freeze their audience ------------------------------------------------


def _consent_channel(item: ChannelItem) -> str:
    """Whose consent and suppression rule a channel follows. A webhook carries marketing to an
    integration (push, social audiences): it follows the email rules."""
    return Channel.SMS if item.channel == ChannelKind.SMS else Channel.EMAIL


def _address_field(item: ChannelItem) -> str:
    return "phone_e164" if item.channel == ChannelKind.SMS else "email_normalized"


def _due_moments(item: ChannelItem, zones: Iterable[str], now: dt.datetime) -> dict[str, dt.datetime]:
    """Each recipient time zone's moment (the workspace's for contacts without one), with quiet
    hours applied for SMS. A few hundred zones at most, whatever the audience's size."""
    local_wall = None
    if item.timing == Timing.RECIPIENT_LOCAL and item.local_send_date and item.local_send_time:
        local_wall = dt.datetime.combine(item.local_send_date, item.local_send_time)
    quiet = None
    if item.channel == ChannelKind.SMS and item.quiet_hours_start and item.quiet_hours_end:
        quiet = QuietHours(item.quiet_hours_start, item.quiet_hours_end)
    return {
        name: delivery_moment(
            timing=item.timing,
            send_at=item.send_at,
            local_wall=local_wall,
            now=now,
            recipient_zone=name or None,
            workspace_zone=item.workspace.time_zone,
            quiet=quiet,
        )
        for name in zones
    }


def _segment_mask(segments: Sequence[object]) -> Combinable:
    """Sum of 2^i for each include segment i the contact is in."""
    terms: list[Combinable] = []
    for index, segment in enumerate(segments):
        condition = segment_selectors.segment_condition(segment=segment)  # type: ignore[arg-type]
        if condition == NOBODY:
            continue
        bit = Value(1 << index, output_field=BigIntegerField())
        terms.append(
            bit
            if condition == EVERYONE
            else Case(When(condition, then=bit), default=Value(0), output_field=BigIntegerField())
        )
    mask: Combinable = Value(0, output_field=BigIntegerField())
    for term in terms:
        mask = mask + term
    return mask


class AddressHash(SHA256):
    """Hex SHA-256 of text, as `cleaning.address_hash` computes it. Django's SHA256 needs the
    pgcrypto extension on PostgreSQL; PostgreSQL 11+ has `sha256(bytea)` built in. SQLite keeps
    Django's registered function."""

    def as_postgresql(self, compiler, connection, **extra_context):  # type: ignore[no-untyped-def]
        return super().as_sql(
            compiler, connection, template="encode(sha256(convert_to(%(expressions)s, 'UTF8')), 'hex')",
            **extra_context,
        )  # fmt: skip


def _reason(item: ChannelItem) -> Case:
    """Why a contact is left out (empty: they get it), in order of precedence."""
    consent = f"{_consent_channel(item)}_consent"
    address = _address_field(item)
    suppression_channel = _consent_channel(item)
    suppressed = Exists(
        Suppression.objects.filter(
            workspace_id=item.workspace_id,
            channel=suppression_channel,
            address_hash=AddressHash(Concat(Value(f"{suppression_channel}:"), OuterRef(address))),
        )
    )
    whens = [
        When(**{consent: Consent.OPTED_OUT}, then=Value(ExclusionReason.UNSUBSCRIBED)),
        When(Q(suppressed), then=Value(ExclusionReason.SUPPRESSED)),
    ]
    if item.channel != ChannelKind.WEBHOOK:
        whens.append(When(**{address: ""}, then=Value(ExclusionReason.MISSING_ADDRESS)))
    whens += [
        When(**{consent: Consent.PENDING}, then=Value(ExclusionReason.DOUBLE_OPT_IN)),
        When(~Q(**{consent: Consent.OPTED_IN}), then=Value(ExclusionReason.NO_CONSENT)),
    ]
    return Case(*whens, default=Value(""), output_field=CharField())


def freeze(*, item: ChannelItem, now: dt.datetime) -> Launch:
    """Write the item's audience into the ledger, set-based; idempotent (a row per item and
    contact, `ON CONFLICT DO NOTHING`). Returns the launch with its counts."""
    segments = list(item.segments.order_by("id"))[:MAX_SEGMENTS]
    audience = segment_selectors.audience_contacts(
        workspace=item.workspace, include=segments, exclude=list(item.exclusions.all())
    )
    zones = audience.order_by().values_list("timezone", flat=True).distinct()
    moments = _due_moments(item, zones, now)
    default_moment = _due_moments(item, [""], now)[""]
    due = Case(
        *(When(timezone=name, then=Value(moment)) for name, moment in moments.items() if name),
        default=Value(default_moment),
        output_field=DateTimeField(),
    )
    digest = content_hash(item)
    rows = (
        audience.order_by()
        .annotate(
            d_workspace=Value(item.workspace_id, output_field=IntegerField()),
            d_item=Value(item.id, output_field=IntegerField()),
            d_address=F(_address_field(item)),
            d_mask=_segment_mask(segments),
            d_reason=_reason(item),
        )
        .annotate(
            d_status=Case(
                When(d_reason="", then=Value(DeliveryStatus.PENDING)),
                default=Value(DeliveryStatus.EXCLUDED),
                output_field=CharField(),
            ),
            d_due=due,
            d_zero=Value(0, output_field=IntegerField()),
            d_claimed_by=Value("", output_field=CharField()),
            d_provider_id=Value("", output_field=CharField()),
            d_error=Value("", output_field=CharField()),
            d_hash=Value(digest, output_field=CharField()),
            d_now=Value(now, output_field=DateTimeField()),
        )
        .values_list(
            "d_workspace",
            "id",
            "d_item",
            "d_address",
            "d_mask",
            "d_status",
            "d_reason",
            "d_zero",
            "d_due",
            "d_claimed_by",
            "d_provider_id",
            "d_error",
            "d_hash",
            "d_now",
        )
    )
    select_sql, params = rows.query.sql_with_params()
    table = Delivery._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (workspace_id, contact_id, item_id, address, segment_mask, status, reason, "
            "attempts, next_attempt_at, claimed_by, provider_id, error, content_hash, updated_at) "
            f"{select_sql} ON CONFLICT (item_id, contact_id) DO NOTHING",
            params,
        )
    _exclude_duplicate_addresses(item)
    _exclude_contact_pressure(item, now)
    counts = {
        (reason or status): total
        for status, reason, total in Delivery.objects.filter(item=item)
        .values_list("status", "reason")
        .annotate(total=Count("id"))
        .order_by()
    }
    launch, _ = Launch.objects.update_or_create(
        item=item, defaults={"launched_at": now, "segment_ids": [s.id for s in segments], "counts": counts}
    )
    return launch


def _exclude_duplicate_addresses(item: ChannelItem) -> None:
    """Two contacts sharing a phone number (a family landline) get one text: the oldest contact."""
    pending = Delivery.objects.filter(item=item, status=DeliveryStatus.PENDING)
    first_per_address = pending.values("address").annotate(first=Min("id")).values("first").order_by()
    pending.exclude(id__in=first_per_address).update(
        status=DeliveryStatus.EXCLUDED, reason=ExclusionReason.DUPLICATE_ADDRESS, updated_at=timezone.now()
    )


def _exclude_contact_pressure(item: ChannelItem, now: dt.datetime) -> None:
    """Omnichannel never means spam: a contact with the workspace's cap of marketing messages
    within its window, across all channels, is left out of this one. Messages still on their way
    for other items count too, so two items launched in the same minute don't both pass."""
    workspace = item.workspace
    if not workspace.contact_pressure_limit:
        return
    since = now - dt.timedelta(days=workspace.contact_pressure_days)
    recent = (
        Delivery.objects.filter(workspace_id=workspace.id, contact_id=OuterRef("contact_id"))
        .filter(Q(status=DeliveryStatus.SENT, sent_at__gte=since) | Q(status__in=OPEN))
        .exclude(item_id=item.id)
        .order_by()
        .values("contact_id")
        .annotate(total=Count("id"))
        .values("total")
    )
    over = (
        Delivery.objects.filter(item=item, status=DeliveryStatus.PENDING)
        .annotate(recent=Subquery(recent, output_field=IntegerField()))
        .filter(recent__gte=workspace.contact_pressure_limit)
        .values("id")
    )
    Delivery.objects.filter(id__in=over).update(
        status=DeliveryStatus.EXCLUDED, reason=ExclusionReason.CONTACT_PRESSURE, updated_at=timezone.now()
    )


def launch_due_items(*, now: dt.datetime | None = None) -> list[int]:
    """Claim and launch every sent-channel item whose time has come. The compare-and-set makes a
    repeated or concurrent call launch nothing twice."""
    now = now or timezone.now()
    due = list(
        ChannelItem.objects.filter(status=ItemStatus.SCHEDULED, send_at__lte=now, channel__in=SENT_CHANNELS)
        .order_by("send_at", "id")
        .values_list("id", flat=True)[:100]
    )
    launched = []
    for item_id in due:
        with transaction.atomic():
            won = ChannelItem.objects.filter(
                id=item_id, status=ItemStatus.SCHEDULED, send_at__lte=now
            ).update(status=ItemStatus.SENDING, launched_at=now)
            if not won:
                continue
            item = ChannelItem.objects.select_related("workspace").get(id=item_id)
            if not _cleared(item):
                _pause(item, "The content changed after it was signed off: it needs sign-off again.")
                continue
            freeze(item=item, now=now)
            transaction.on_commit(partial(enqueue_workers, item_id))
        launched.append(item_id)
    return launched


def enqueue_workers(item_id: int) -> None:
    from apps.delivery.tasks import deliver_item

    for _ in range(int(_setting("DELIVERY_PARALLEL_TASKS", 2))):
        deliver_item.delay(item_id)


# --- Sending ----------------------------------------------------------------------------------------


def _cleared(item: ChannelItem) -> bool:
    return bool(
        is_cleared(
            workspace=item.workspace,
            target=target_of(item),
            content_hash=content_hash(item),
            signed_off_hash=item.cleared_hash,
        )
    )


def _pause(item: ChannelItem, reason: str) -> None:
    ChannelItem.objects.filter(id=item.id, status=ItemStatus.SENDING).update(
        status=ItemStatus.PAUSED, paused_from=ItemStatus.SENDING, pause_reason=reason[:300]
    )
    logger.warning("Paused channel item %s: %s", item.id, reason)


def take_tokens(*, item: ChannelItem, want: int, now: dt.datetime | None = None) -> int:
    """Up to `want` sends the item may make now. One bucket per item, shared by every worker;
    it holds at most ten seconds' worth, so a pause in sending never turns into a burst."""
    rate = item.throttle_per_minute or settings.CHANNEL_THROTTLE_PER_MINUTE.get(item.channel, 600)
    per_second = rate / 60.0
    capacity = max(per_second * 10, 1.0)
    key = f"item:{item.id}"
    for _attempt in range(3):
        now = now or timezone.now()
        try:
            with transaction.atomic():
                bucket = TokenBucket.objects.select_for_update().filter(key=key).first()
                if bucket is None:
                    bucket = TokenBucket.objects.create(key=key, tokens=capacity, updated_at=now)
                elapsed = max((now - bucket.updated_at).total_seconds(), 0.0)
                tokens = min(capacity, bucket.tokens + elapsed * per_second)
                granted = int(min(want, tokens))
                bucket.tokens, bucket.updated_at = tokens - granted, now
                bucket.save(update_fields=["tokens", "updated_at"])
                return granted
        except IntegrityError:  # two workers created the bucket at once: read it again
            now = None
            continue
    return 0


def claim_batch(*, item: ChannelItem, worker: str, limit: int, now: dt.datetime) -> list[int]:
    """Rows whose time has come, locked without waiting on other workers' rows."""
    with transaction.atomic():
        ids = list(
            Delivery.objects.filter(item=item, status__in=CLAIMABLE, next_attempt_at__lte=now)
            .order_by("next_attempt_at", "id")
            .select_for_update(skip_locked=True)
            .values_list("id", flat=True)[:limit]
        )
        Delivery.objects.filter(id__in=ids).update(
            status=DeliveryStatus.CLAIMED, claimed_by=worker[:100], claimed_at=now, updated_at=now
        )
    return ids


@dataclass
class BatchResult:
    sent: int = 0
    failed: int = 0
    excluded: int = 0
    deferred: int = 0
    throttled: bool = False
    claimed: int = 0

    @property
    def attempted(self) -> int:
        return self.sent + self.failed


def _recheck(item: ChannelItem, rows: Sequence[Delivery]) -> dict[int, str]:
    """Consent and suppression as they are now (an unsubscribe a second ago counts)."""
    channel = _consent_channel(item)
    hashes = {address_hash(channel, row.address): row.id for row in rows if row.address}
    suppressed = set(
        Suppression.objects.filter(
            workspace_id=item.workspace_id, channel=channel, address_hash__in=list(hashes)
        ).values_list("address_hash", flat=True)
    )
    consent_field = f"{channel}_consent"
    consents = dict(
        Contact.objects.filter(id__in=[row.contact_id for row in rows]).values_list("id", consent_field)
    )
    reasons: dict[int, str] = {}
    for row in rows:
        consent = consents.get(row.contact_id)
        if consent is None or consent == Consent.OPTED_OUT:
            reasons[row.id] = ExclusionReason.UNSUBSCRIBED
        elif row.address and address_hash(channel, row.address) in suppressed:
            reasons[row.id] = ExclusionReason.SUPPRESSED
        elif consent != Consent.OPTED_IN:
            reasons[row.id] = ExclusionReason.NO_CONSENT
    return reasons


def _backoff(attempts: int) -> dt.timedelta:
    """Exponential with full jitter, capped."""
    base = _setting("DELIVERY_RETRY_BASE_SECONDS", 60)
    cap = _setting("DELIVERY_RETRY_CAP_SECONDS", 6 * 3600)
    return dt.timedelta(seconds=random.uniform(base / 2, min(cap, base * 2 ** max(attempts - 1, 0))))  # noqa: S311


def deliver_batch(*, item_id: int, worker: str, now: dt.datetime | None = None) -> BatchResult:
    """Claim one batch of the item and hand it over. Pause, cancel and sign-off are checked first;
    each message is committed as `sending` before its provider call."""
    result = BatchResult()
    item = ChannelItem.objects.select_related("workspace").get(id=item_id)
    if item.status == ItemStatus.CANCELLED:
        cancel_open_rows(item=item)
        return result
    if item.status != ItemStatus.SENDING:
        return result
    if not _cleared(item):
        _pause(item, "The content changed after it was signed off: it needs sign-off again.")
        return result
    now = now or timezone.now()
    batch_size = int(_setting("DELIVERY_BATCH_SIZE", 500))
    granted = take_tokens(item=item, want=batch_size, now=now)
    if granted == 0:
        result.throttled = True
        return result
    ids = claim_batch(item=item, worker=worker, limit=granted, now=now)
    result.claimed = len(ids)
    if not ids:
        return result
    rows = list(Delivery.objects.filter(id__in=ids).order_by("id"))
    excluded = _recheck(item, rows)
    for reason, group in _group(excluded).items():
        Delivery.objects.filter(id__in=group, status=DeliveryStatus.CLAIMED).update(
            status=DeliveryStatus.EXCLUDED, reason=reason, updated_at=now
        )
    result.excluded = len(excluded)
    rows = [row for row in rows if row.id not in excluded]
    contacts = Contact.objects.in_bulk([row.contact_id for row in rows])
    custom_keys = campaign_selectors.custom_keys(workspace=item.workspace)
    lanes = _lane_count(len(rows))
    if lanes == 1:
        outcomes = [_send_lane(item, rows, contacts, custom_keys)]
    else:
        with ThreadPoolExecutor(max_workers=lanes, thread_name_prefix="delivery-lane") as pool:
            work = [
                pool.submit(_threaded_lane, item, rows[lane::lanes], contacts, custom_keys)
                for lane in range(lanes)
            ]
            outcomes = [done.result() for done in work]
    result.sent = sum(outcome.sent for outcome in outcomes)
    result.failed = sum(outcome.failed for outcome in outcomes)
    _maybe_auto_pause(item, result)
    return result


# A lane costs a thread and a database connection: small batches are not worth splitting.
MIN_ROWS_PER_LANE = 20


def _lane_count(rows: int) -> int:
    """Concurrent hand-overs per batch. A provider call is mostly waiting (an SMTP relay answers
    four times per message, an HTTP API once, each a network round trip, and so does the ledger
    write before it), so a few lanes, each with its own connection to the provider and to the
    database, keep one process busy. SQLite allows one writer at a time: one lane there."""
    wanted = int(_setting("DELIVERY_SEND_LANES", 1))
    if connection.vendor != "postgresql" or wanted <= 1:
        return 1
    return max(1, min(wanted, rows // MIN_ROWS_PER_LANE))


def _threaded_lane(
    item: ChannelItem,
    rows: Sequence[Delivery],
    contacts: dict[int, Contact],
    custom_keys: Sequence[str],
) -> BatchResult:
    """A lane in its own thread, with its own database connection, closed when the lane ends."""
    try:
        return _send_lane(item, rows, contacts, custom_keys)
    finally:
        connections.close_all()


def _send_lane(
    item: ChannelItem,
    rows: Sequence[Delivery],
    contacts: dict[int, Contact],
    custom_keys: Sequence[str],
) -> BatchResult:
    """Hand `rows` over one after another through one sender (one provider connection). Each
    message is rendered one step ahead, before the provider call of the message before it: the
    time a delivered message waits for its `sent` (when a kill would send it twice) is then one
    ledger round trip, and a message that cannot be rendered fails while its row is `claimed`."""
    result = BatchResult()
    sender = sender_for(item, custom_keys=custom_keys)
    handover = _Handover()
    sender.open()
    try:
        ready = _prepared(item, rows, contacts, sender, result)
        upcoming = next(ready, None)
        while upcoming is not None:
            row, message = upcoming
            taken = handover.take(row.id)
            upcoming = next(ready, None)
            if taken:
                row.attempts += 1
                _hand_over(item, row, message, sender, result, handover)
    finally:
        handover.flush()
        sender.close()
    return result


def _prepared(
    item: ChannelItem,
    rows: Sequence[Delivery],
    contacts: dict[int, Contact],
    sender: Sender,
    result: BatchResult,
) -> Iterator[tuple[Delivery, Any]]:
    """Each row with its rendered message; rows of erased contacts are cancelled and rows that
    cannot be rendered failed on the way."""
    for row in rows:
        contact = contacts.get(row.contact_id)
        if contact is None:  # erased since the freeze
            Delivery.objects.filter(id=row.id, status=DeliveryStatus.CLAIMED).update(
                status=DeliveryStatus.CANCELLED, error="The contact was erased.", updated_at=timezone.now()
            )
            continue
        try:
            message = sender.prepare(row, contact)
        except SendError as error:
            result.failed += 1
            _record_failure(item, row, error)
            continue
        yield row, message


def _group(reasons: dict[int, str]) -> dict[str, list[int]]:
    grouped: dict[str, list[int]] = {}
    for row_id, reason in reasons.items():
        grouped.setdefault(reason, []).append(row_id)
    return grouped


class _Handover:
    """The ledger writes around each provider call, one committed statement per message: the
    previous message's `sent` and the next one's `sending` go together. A message is still
    committed as `sending` before its own provider call, so a lane killed during the call
    leaves exactly that row behind (the sweeper marks it `unknown`); writing the previous result
    in the same statement halves the round trips, the engine's main cost per message. The next
    message is rendered before this statement, so the time a handed-over message waits for its
    `sent` is one round trip."""

    _SQL = (
        "UPDATE {table} SET "
        "status = CASE WHEN id = %s THEN 'sent' ELSE 'sending' END, "
        "sent_at = CASE WHEN id = %s THEN %s ELSE sent_at END, "
        "provider_id = CASE WHEN id = %s THEN %s ELSE provider_id END, "
        "error = CASE WHEN id = %s THEN '' ELSE error END, "
        "attempts = CASE WHEN id = %s THEN attempts ELSE attempts + 1 END, "
        "claimed_at = CASE WHEN id = %s THEN claimed_at ELSE %s END, "
        "updated_at = %s "
        "WHERE id = %s OR (id = %s AND status = 'claimed') RETURNING id"
    )

    def __init__(self) -> None:
        self.sent: tuple[int, str] | None = None  # the last message handed over, not yet written
        self.sql = self._SQL.format(table=Delivery._meta.db_table)

    def take(self, row_id: int) -> bool:
        """Write the pending `sent` and mark `row_id` as `sending` if its claim still holds (an
        unsubscribe or a cancel since has moved it)."""
        previous_id, provider_id = self.sent if self.sent is not None else (0, "")
        self.sent = None
        now = connection.ops.adapt_datetimefield_value(timezone.now())
        with connection.cursor() as cursor:
            cursor.execute(
                self.sql,
                [previous_id, previous_id, now, previous_id, provider_id, previous_id, previous_id, previous_id,
                 now, now, previous_id, row_id],
            )  # fmt: skip
            updated = {found for (found,) in cursor.fetchall()}
        return row_id in updated

    def done(self, row_id: int, provider_id: str) -> None:
        self.sent = (row_id, provider_id[:200])

    def flush(self) -> None:
        if self.sent is not None:
            row_id, provider_id = self.sent
            self.sent = None
            now = timezone.now()
            Delivery.objects.filter(id=row_id).update(
                status=DeliveryStatus.SENT, sent_at=now, provider_id=provider_id, error="", updated_at=now
            )


def _hand_over(
    item: ChannelItem, row: Delivery, message: Any, sender: Sender, result: BatchResult, handover: _Handover
) -> None:
    try:
        provider_id = sender.hand_over(message)
    except SendError as error:
        result.failed += 1
        _record_failure(item, row, error)
        return
    handover.done(row.id, str(provider_id))
    result.sent += 1


def _record_failure(item: ChannelItem, row: Delivery, error: SendError) -> None:
    now = timezone.now()
    message = str(error)[:500]
    max_attempts = int(_setting("DELIVERY_MAX_ATTEMPTS", 5))
    # Still this worker's: an unsubscribe or cancel since then has the last word.
    mine = Delivery.objects.filter(id=row.id, status__in=(DeliveryStatus.CLAIMED, DeliveryStatus.SENDING))
    if error.transient and row.attempts < max_attempts:
        mine.update(
            status=DeliveryStatus.RETRY_WAIT,
            next_attempt_at=now + _backoff(row.attempts),
            error=message,
            updated_at=now,
        )
        return
    mine.update(status=DeliveryStatus.FAILED, error=message, updated_at=now)
    if error.bounce and row.address:
        channel = _consent_channel(item)
        suppression_add(
            workspace=item.workspace, channel=channel, address=row.address, reason=SuppressionReason.BOUNCED
        )


def _maybe_auto_pause(item: ChannelItem, result: BatchResult) -> None:
    """Too many failures in a batch means something is wrong (a revoked API key, a blocked
    sender): stop and let a person look, rather than burn through the audience."""
    threshold = _setting("DELIVERY_PAUSE_ERROR_RATE", 0.5)
    minimum = int(_setting("DELIVERY_PAUSE_MIN_ATTEMPTS", 20))
    if result.attempted >= minimum and result.failed / result.attempted > threshold:
        _pause(
            item,
            f"Paused automatically: {result.failed} of {result.attempted} messages in one batch failed.",
        )


def cancel_open_rows(*, item: ChannelItem) -> int:
    return Delivery.objects.filter(item=item, status__in=CLAIMABLE).update(
        status=DeliveryStatus.CANCELLED, updated_at=timezone.now()
    )


def has_due_rows(*, item_id: int, now: dt.datetime | None = None) -> bool:
    now = now or timezone.now()
    return Delivery.objects.filter(
        item_id=item_id, item__status=ItemStatus.SENDING, status__in=CLAIMABLE, next_attempt_at__lte=now
    ).exists()


def finish_if_done(*, item_id: int) -> bool:
    """A sending item with no open row left is sent."""
    if Delivery.objects.filter(item_id=item_id, status__in=OPEN).exists():
        return False
    now = timezone.now()
    return bool(
        ChannelItem.objects.filter(id=item_id, status=ItemStatus.SENDING).update(
            status=ItemStatus.SENT, finished_at=now
        )
    )


# --- The sweeper ------------------------------------------------------------------------------------


def sweep(*, now: dt.datetime | None = None) -> Counter[str]:
    """Heal what crashed workers left: stale claims go back to the queue; a stale `sending` row
    becomes `unknown` (the provider may or may not have it). An email `unknown` is retried once,
    with the same Message-ID (receivers that saw it drop the copy); an SMS `unknown` is never
    retried automatically: it is shown for review. Cancelled items drop their queue; sending items
    with nothing open are finished."""
    now = now or timezone.now()
    done: Counter[str] = Counter()
    claim_timeout = dt.timedelta(seconds=_setting("DELIVERY_CLAIM_TIMEOUT_SECONDS", 300))
    sending_timeout = dt.timedelta(seconds=_setting("DELIVERY_SENDING_TIMEOUT_SECONDS", 300))
    done["released"] = Delivery.objects.filter(
        status=DeliveryStatus.CLAIMED, claimed_at__lt=now - claim_timeout
    ).update(status=DeliveryStatus.PENDING, claimed_by="", claimed_at=None, updated_at=now)
    # One transaction: between marking `unknown` and queueing the email retry, a worker finishing
    # the item must not find it without open rows.
    with transaction.atomic():
        done["unknown"] = Delivery.objects.filter(
            status=DeliveryStatus.SENDING, claimed_at__lt=now - sending_timeout
        ).update(
            status=DeliveryStatus.UNKNOWN, error="The worker stopped during the hand-over.", updated_at=now
        )
        done["retried_unknown"] = Delivery.objects.filter(
            status=DeliveryStatus.UNKNOWN, item__channel=ChannelKind.EMAIL, attempts__lt=2
        ).update(status=DeliveryStatus.PENDING, next_attempt_at=now, updated_at=now)
    for item in ChannelItem.objects.filter(
        status=ItemStatus.CANCELLED, deliveries__status__in=CLAIMABLE
    ).distinct():
        done["cancelled"] += cancel_open_rows(item=item)
    for item_id in ChannelItem.objects.filter(status=ItemStatus.SENDING).values_list("id", flat=True):
        if finish_if_done(item_id=item_id):
            done["finished"] += 1
    return done


def items_needing_workers(*, now: dt.datetime | None = None) -> list[int]:
    """Sending items with rows due: the tick wakes workers for them (retries whose time came, a
    task lost with its worker, deferred texts after quiet hours)."""
    now = now or timezone.now()
    return list(
        ChannelItem.objects.filter(
            status=ItemStatus.SENDING,
            deliveries__status__in=CLAIMABLE,
            deliveries__next_attempt_at__lte=now,
        )
        .distinct()
        .values_list("id", flat=True)
    )
