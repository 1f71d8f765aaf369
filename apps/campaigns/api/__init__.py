"""`/api/v1/campaigns/` and `/api/v1/channel-items/`: campaigns, their channel items (content,
audience, the state machine's actions), previews, test sends, direct-mail address lists and the
results of planned channels. Thin over the campaign services and selectors: a state conflict answers
409 `invalid_state`, missing sign-off 403 `sign_off_required`."""

from apps.campaigns.api.campaigns import CampaignViewSet
from apps.campaigns.api.items import ChannelItemViewSet

__all__ = ["CampaignViewSet", "ChannelItemViewSet"]
