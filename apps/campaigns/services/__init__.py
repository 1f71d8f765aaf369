"""Writes and rules for campaigns and channel items: content checks (merge tags with positions),
the state machine (schedule, send now, pause, resume, unschedule, cancel), test sends, results of
planned channels. Pages, the API, the admin and the demo seed all go through these functions, as
`services.<name>`; the package splits them by subject."""

from apps.campaigns.services.campaigns import campaign_create, campaign_delete, campaign_update
from apps.campaigns.services.common import (
    CAMPAIGN_FIELDS,
    FIELD_CHANNELS,
    ITEM_FIELDS,
    LIVE_STATUSES,
    NAME_MAX,
    PLANNED_FIELDS,
    InvalidTransition,
    SignOffRequired,
)
from apps.campaigns.services.items import item_create, item_delete, item_update
from apps.campaigns.services.results import RESULT_FIELDS, result_add, result_delete
from apps.campaigns.services.sending import item_test_send
from apps.campaigns.services.states import (
    content_hash,
    item_cancel,
    item_pause,
    item_resume,
    item_schedule,
    item_send_now,
    item_unschedule,
    schedule_problems,
    target_of,
)

__all__ = [
    "CAMPAIGN_FIELDS",
    "FIELD_CHANNELS",
    "ITEM_FIELDS",
    "LIVE_STATUSES",
    "NAME_MAX",
    "PLANNED_FIELDS",
    "RESULT_FIELDS",
    "InvalidTransition",
    "SignOffRequired",
    "campaign_create",
    "campaign_delete",
    "campaign_update",
    "content_hash",
    "item_cancel",
    "item_create",
    "item_delete",
    "item_pause",
    "item_resume",
    "item_schedule",
    "item_send_now",
    "item_test_send",
    "item_unschedule",
    "item_update",
    "result_add",
    "result_delete",
    "schedule_problems",
    "target_of",
]
