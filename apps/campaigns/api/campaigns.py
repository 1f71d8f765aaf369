"""`/api/v1/campaigns/`: campaigns with their goal, owner team, dates and personas."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import serializers

from apps.campaigns import selectors, services
from apps.campaigns.api.common import CampaignsViewSetBase
from apps.campaigns.api.serializers import CONFLICT, CampaignSerializer
from apps.campaigns.models import Campaign, ChannelItem
from apps.workspaces.permissions import api_context, api_user

CAMPAIGN_EXAMPLE = {
    "name": "Spring launch",
    "goal": "Sell the spring range to young families before Easter.",
    "owner_team": 3,
    "starts_on": "2026-03-01",
    "ends_on": "2026-04-15",
    "personas": [7],
}


@extend_schema_view(
    list=extend_schema(description="The workspace's campaigns, newest first."),
    create=extend_schema(
        description="A new campaign.",
        examples=[OpenApiExample("A seasonal launch", value=CAMPAIGN_EXAMPLE, request_only=True)],
    ),
    update=extend_schema(description="Replace the campaign; fields left out get their defaults."),
    partial_update=extend_schema(description="Change the fields sent."),
    destroy=extend_schema(
        description="Delete the campaign and its items; 409 while one of them is scheduled, sending or paused.",
        responses={204: None, 409: CONFLICT},
    ),
)
class CampaignViewSet(CampaignsViewSetBase):
    """Campaigns: one message told across channels, for personas, owned by a team. Viewers read;
    editors write."""

    serializer_class = CampaignSerializer
    queryset = Campaign.objects.all()
    filter_backends: list[Any] = []

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):
            return Campaign.objects.none()
        item_ids = ChannelItem.objects.only("id", "campaign_id").order_by("id")
        campaigns = selectors.campaign_list(workspace=api_context(self.request).workspace)
        return campaigns.prefetch_related(Prefetch("items", queryset=item_ids))

    def perform_create(self, serializer: serializers.BaseSerializer[Campaign]) -> None:
        serializer.instance = services.campaign_create(
            workspace=api_context(self.request).workspace,
            actor=api_user(self.request),
            **serializer.validated_data,
        )

    def perform_update(self, serializer: serializers.BaseSerializer[Campaign]) -> None:
        campaign = serializer.instance
        assert campaign is not None  # noqa: S101 - DRF sets it for updates
        values = dict(serializer.validated_data)
        if not serializer.partial:  # PUT replaces: what it leaves out gets the defaults
            defaults: dict[str, Any] = {
                "goal": "",
                "owner_team": None,
                "starts_on": None,
                "ends_on": None,
                "personas": [],
            }
            values = {**defaults, **values}
        serializer.instance = services.campaign_update(
            campaign=campaign, actor=api_user(self.request), **values
        )

    def perform_destroy(self, instance: Campaign) -> None:
        services.campaign_delete(campaign=instance)
