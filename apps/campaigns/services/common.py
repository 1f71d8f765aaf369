"""What the campaign services share: field lists by channel, limits, the two errors of the state
machine, and small value checks."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.utils.text import capfirst
from django.utils.translation import gettext as _

from apps.approvals.checks import Clearance
from apps.campaigns.choices import ChannelKind, ItemStatus
from apps.campaigns.models import ChannelItem
from apps.workspaces.models import Team

if TYPE_CHECKING:
    pass


NAME_MAX = 120
TEXT_MAX = 100_000
PAYLOAD_MAX_BYTES = 64 * 1024
PAYLOAD_MAX_DEPTH = 20
MAX_LENGTHS = {"subject": 255, "preheader": 255, "from_name": 120, "placement": 200}

CAMPAIGN_FIELDS = ("name", "goal", "owner_team", "starts_on", "ends_on", "personas")

# Which fields belong to which channel; a value in a field of another channel is refused.
EMAIL_FIELDS = ("subject", "preheader", "body_html", "body_text", "from_name", "from_email", "reply_to")
SMS_FIELDS = ("sms_text", "quiet_hours_start", "quiet_hours_end")
WEBHOOK_FIELDS = ("webhook_url", "payload")
SENT_FIELDS = ("throttle_per_minute",)
PLANNED_FIELDS = ("content", "placement", "budget", "starts_on", "ends_on")
COMMON_FIELDS = ("name", "owner_team", "segments", "exclusions")
ITEM_FIELDS = COMMON_FIELDS + EMAIL_FIELDS + SMS_FIELDS + WEBHOOK_FIELDS + SENT_FIELDS + PLANNED_FIELDS
FIELD_CHANNELS: dict[str, frozenset[str]] = {
    **{name: frozenset({ChannelKind.EMAIL}) for name in EMAIL_FIELDS},
    **{name: frozenset({ChannelKind.SMS}) for name in SMS_FIELDS},
    **{name: frozenset({ChannelKind.WEBHOOK}) for name in WEBHOOK_FIELDS},
    **{name: frozenset({ChannelKind.EMAIL, ChannelKind.SMS, ChannelKind.WEBHOOK}) for name in SENT_FIELDS},
}
# What the content hash covers: the copy, the audience, the schedule and the sender. The sign-off
# given when scheduling is for exactly this.
HASHED_FIELDS = (
    "channel", "subject", "preheader", "body_html", "body_text", "from_name", "from_email", "reply_to",
    "sms_text", "webhook_url", "payload", "content", "placement", "budget", "starts_on", "ends_on",
    "timing", "send_at", "local_send_date", "local_send_time", "quiet_hours_start", "quiet_hours_end",
    "throttle_per_minute",
)  # fmt: skip


class InvalidTransition(Exception):  # noqa: N818 - named for what happened, like Http404
    """The item's state does not allow the step asked for (the API answers 409)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class SignOffRequired(Exception):  # noqa: N818 - named for what happened
    """The content is not cleared for sending (the API answers 403)."""

    def __init__(self, clearance: Clearance) -> None:
        super().__init__(clearance.reason)
        self.message = clearance.reason


def _text_problem(value: str, max_length: int, label: str) -> str | None:
    if "\x00" in value:
        return _("Text cannot hold NUL characters.")
    if len(value) > max_length:
        return _("%(label)s has at most %(max)s characters.") % {"label": label, "max": f"{max_length:,}"}
    return None


def _label(name: str) -> str:
    field = ChannelItem._meta.get_field(name)
    return capfirst(str(getattr(field, "verbose_name", name)))


def _depth(value: Any, limit: int = PAYLOAD_MAX_DEPTH + 1) -> int:
    """How deep JSON nests, counted without recursion (a payload nested 1,000 deep must not crash)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        current, depth = stack.pop()
        if isinstance(current, dict | list) and current:
            deepest = max(deepest, depth)
            if depth > limit:
                return depth
            children = current.values() if isinstance(current, dict) else current
            stack.extend((child, depth + 1) for child in children)
    return deepest


def _number(value: Any, *, whole: bool) -> Any:
    """A figure typed by a person or sent as JSON: an int, or a Decimal with two places (money)."""
    if value is None or value == "":
        return None
    try:
        number = Decimal(str(value).strip())
    except ArithmeticError as error:
        raise ValueError(_("“%(value)s” is not a number.") % {"value": value}) from error
    if not number.is_finite():
        raise ValueError(_("“%(value)s” is not a number.") % {"value": value})
    if whole:
        if number != number.to_integral_value():
            raise ValueError(_("Give a whole number."))
        if abs(number) > 2_147_483_647:
            raise ValueError(_("At most 2,147,483,647."))
        return int(number)
    if abs(number) >= Decimal("1e10"):
        raise ValueError(_("At most 9,999,999,999.99."))
    return number.quantize(Decimal("0.01"))


LIVE_STATUSES = frozenset({ItemStatus.SCHEDULED, ItemStatus.SENDING, ItemStatus.PAUSED})


def _apply(target: Any, values: dict[str, Any], allowed: Iterable[str]) -> None:
    unknown = set(values) - set(allowed)
    if unknown:
        raise TypeError(f"Not editable here: {', '.join(sorted(unknown))}")
    for name, value in values.items():
        if name == "owner_team":
            target.owner_team_id = value.id if isinstance(value, Team) else value
        else:
            setattr(target, name, value.strip() if isinstance(value, str) and name != "body_html" else value)
