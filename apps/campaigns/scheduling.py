"""When a channel item's messages go out: wall-clock times in time zones, turned into UTC moments.

Everything stored is UTC, but people schedule in wall-clock time: "at" is a wall time in the
workspace's zone, "recipient_local" a wall time in each recipient's own zone (the workspace's for
contacts without one). SMS then waits out the recipient's quiet hours. This module is pure arithmetic
(zoneinfo, no database) so the scheduling dialog, the API and the delivery engine agree to the minute.

The DST rule (quoted in the docs and shown in the scheduling dialog, see `describe_dst_rule`):

    When clocks jump forward, a time that does not exist that day (02:30 when clocks go from 02:00
    to 03:00) is sent the same number of minutes after the jump, at 03:30. When clocks fall back, a
    time that happens twice (02:30 when clocks go from 03:00 back to 02:00) is sent once, at its
    first occurrence (summer time).

zoneinfo with `fold=0` gives exactly this: a non-existent wall time is read with the offset in force
before the jump (so it lands gap-minutes after it), and a repeated one with the offset before the
fall-back (its first occurrence). Going through UTC normalises the non-existent 02:30 into 03:30.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.utils.translation import gettext, gettext_noop

from apps.campaigns.choices import Timing

DST_RULE = gettext_noop(
    "When clocks jump forward, a time that does not exist that day (02:30 when clocks go from 02:00 "
    "to 03:00) is sent the same number of minutes after the jump, at 03:30. When clocks fall back, "
    "a time that happens twice (02:30 when clocks go from 03:00 back to 02:00) is sent once, at its "
    "first occurrence (summer time)."
)

# The zones furthest ahead of and behind UTC (Pacific/Kiritimati, Etc/GMT+12): a wall time happens
# somewhere on earth between these two offsets, and nowhere before or after.
EARLIEST_OFFSET = timedelta(hours=14)
LATEST_OFFSET = timedelta(hours=-12)


def zone(name: str | None, *, fallback: str) -> ZoneInfo:
    """The named zone, or `fallback` when the name is empty or unknown (a contact imported with a
    typo still gets their message, in the workspace's zone); UTC when even the fallback is bad, so a
    schedule never fails on a zone name."""
    for candidate in (name, fallback):
        if not candidate:
            continue
        try:
            return ZoneInfo(candidate)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            # ValueError: not a normalised relative key ("../x", "Europe/") or not a TZif file.
            continue
    return ZoneInfo("UTC")


def wall_to_utc(wall: datetime, tz: ZoneInfo) -> datetime:
    """The UTC moment of a naive wall time in `tz`, following the module's DST rule.

    `fold=0` is set explicitly (a wall time coming from `utc_to_wall` may carry `fold=1`): the rule
    promises the first occurrence of a repeated time, whatever the caller's datetime says."""
    if wall.tzinfo is not None:
        raise ValueError("wall_to_utc expects a naive wall-clock time, got an aware datetime")
    return wall.replace(tzinfo=tz, fold=0).astimezone(UTC)


def utc_to_wall(moment: datetime, tz: ZoneInfo) -> datetime:
    """The naive wall time `moment` shows on a clock in `tz` (what the recipient sees)."""
    if moment.tzinfo is None:
        raise ValueError("utc_to_wall expects an aware datetime, got a naive one")
    return moment.astimezone(tz).replace(tzinfo=None)


def recipient_moment(local_wall: datetime, *, recipient_zone: str | None, workspace_zone: str) -> datetime:
    """When `local_wall` happens for one recipient; contacts without a (valid) zone use the
    workspace's, which is what the sender sees when scheduling."""
    return wall_to_utc(local_wall, zone(recipient_zone, fallback=workspace_zone))


def earliest_moment(local_wall: datetime) -> datetime:
    """When the first zone on earth (UTC+14) reaches `local_wall`: a `recipient_local` item becomes
    due then, so the delivery engine can start with the recipients who are already there."""
    return (local_wall - EARLIEST_OFFSET).replace(tzinfo=UTC)


def latest_moment(local_wall: datetime) -> datetime:
    """When the last zone on earth (UTC-12) reaches `local_wall`: after it, a `recipient_local`
    item has reached everyone and can be marked sent."""
    return (local_wall - LATEST_OFFSET).replace(tzinfo=UTC)


@dataclass(frozen=True)
class QuietHours:
    """A daily window, in the recipient's wall time, when no SMS may arrive (night-time texts annoy
    people and are restricted by law in several countries). `start == end` means no quiet hours; the
    window may cross midnight (21:00-08:00) or not (13:00-14:00)."""

    start: time
    end: time

    def contains(self, wall: time) -> bool:
        """Start inclusive, end exclusive: at 08:00 sharp a 21:00-08:00 window is over."""
        if self.start == self.end:
            return False
        if self.start < self.end:
            return self.start <= wall < self.end
        return wall >= self.start or wall < self.end


DEFAULT_SMS_QUIET_HOURS = QuietHours(start=time(21, 0), end=time(8, 0))


def after_quiet_hours(moment: datetime, *, tz: ZoneInfo, quiet: QuietHours | None) -> datetime:
    """`moment` itself when it falls outside quiet hours in `tz`, else the UTC moment they end there.

    The end is a wall time on the day it next comes (tomorrow when the window crosses midnight and
    we are before midnight), converted with `wall_to_utc` so a DST change that night moves it with
    the clocks. Should a fall-back make that first occurrence already past (we are in the repeated
    hour, before the end's second occurrence), the second occurrence is used: never earlier than
    `moment`, and never inside the window."""
    if quiet is None:
        return moment
    wall = utc_to_wall(moment, tz)
    if not quiet.contains(wall.time()):
        return moment
    end_day = wall.date() if wall.time() < quiet.end else wall.date() + timedelta(days=1)
    end_wall = datetime.combine(end_day, quiet.end)
    end = wall_to_utc(end_wall, tz)
    if end <= moment:
        end = end_wall.replace(tzinfo=tz, fold=1).astimezone(UTC)
    return end


def delivery_moment(
    *,
    timing: str,
    send_at: datetime | None,
    local_wall: datetime | None,
    now: datetime,
    recipient_zone: str | None,
    workspace_zone: str,
    quiet: QuietHours | None,
) -> datetime:
    """The UTC moment one recipient's message goes out.

    `now` sends at `now`; `at` at `send_at` (already UTC, worked out once from the workspace's zone
    when scheduling); `recipient_local` when `local_wall` happens in the recipient's zone. Nothing
    goes out earlier than `now`: a recipient whose local time has already passed (the item was
    scheduled or launched late, or their zone is ahead) gets the message now rather than a day late
    or never. Then the recipient's quiet hours (the workspace zone's for contacts without one) push
    it to when they end."""
    if timing == Timing.NOW:
        planned = now
    elif timing == Timing.AT:
        if send_at is None:
            raise ValueError("timing 'at' needs send_at")
        planned = send_at
    elif timing == Timing.RECIPIENT_LOCAL:
        if local_wall is None:
            raise ValueError("timing 'recipient_local' needs local_wall")
        planned = recipient_moment(local_wall, recipient_zone=recipient_zone, workspace_zone=workspace_zone)
    else:
        raise ValueError(f"unknown timing {timing!r}")
    planned = max(planned, now)
    return after_quiet_hours(planned, tz=zone(recipient_zone, fallback=workspace_zone), quiet=quiet)


def describe_dst_rule() -> str:
    """The sentence the scheduling dialog shows next to the time field, so nobody is surprised by a
    message at 03:30 on the night clocks change."""
    return gettext(DST_RULE)
