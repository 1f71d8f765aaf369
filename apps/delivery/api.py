"""The ledger in the API: the serializers of `GET /api/v1/channel-items/{id}/deliveries/` and of
`delivery_counts` on a channel item. The action itself lives on the channel item viewset
(`apps/campaigns/api/items.py`): an item's recipients are read through the item, which is scoped."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.delivery.choices import DeliveryStatus, ExclusionReason
from apps.delivery.models import Delivery
from apps.delivery.selectors import DeliveryCounts, segment_ids_of


class DeliveryCountsSerializer(serializers.Serializer):
    queued = serializers.IntegerField(help_text="Waiting for a worker: pending, claimed, deferred, retrying.")
    sending = serializers.IntegerField(help_text="Being handed over to the provider right now.")
    sent = serializers.IntegerField()
    failed = serializers.IntegerField()
    unknown = serializers.IntegerField(help_text="A worker stopped during the hand-over: maybe sent.")
    cancelled = serializers.IntegerField()
    excluded = serializers.IntegerField(help_text="Left out, for the reasons in `excluded_by_reason`.")
    excluded_by_reason = serializers.DictField(
        child=serializers.IntegerField(),
        help_text="Every exclusion reason ("
        + ", ".join(f"`{r}`" for r in ExclusionReason.values)
        + ") with its count.",
    )
    total = serializers.IntegerField(help_text="Rows in the ledger: everyone in the audience at launch.")
    progress = serializers.IntegerField(help_text="Rows no worker has left to do, in percent (0-100).")

    def to_representation(self, instance: DeliveryCounts) -> dict[str, Any]:
        data = super().to_representation(instance)
        data["excluded_by_reason"] = dict(instance.excluded_by_reason)
        return data


class DeliverySerializer(serializers.ModelSerializer[Delivery]):
    """One recipient of the item. `segment_ids` decodes the row's segment mask against the launch:
    the include segments the contact qualified through (the viewset passes them in the context)."""

    contact = serializers.IntegerField(source="contact_id", read_only=True, help_text="The contact's id.")
    segment_ids = serializers.SerializerMethodField()

    class Meta:
        model = Delivery
        fields = (
            "id", "contact", "address", "status", "reason", "attempts", "next_attempt_at", "sent_at",
            "provider_id", "error", "segment_ids", "updated_at",
        )  # fmt: skip
        read_only_fields = fields
        extra_kwargs = {
            "reason": {"help_text": "Why the recipient was left out (status `excluded`); empty otherwise."},
            "next_attempt_at": {"help_text": "When a worker may take it (again): the next retry."},
            "provider_id": {"help_text": "The provider's message id (email: the Message-ID)."},
            "error": {"help_text": "The last error the provider gave."},
        }

    @extend_schema_field(
        serializers.ListField(
            child=serializers.IntegerField(), help_text="Ids of the audience segments it qualified through."
        )
    )
    def get_segment_ids(self, row: Delivery) -> list[int]:
        return segment_ids_of(mask=row.segment_mask, segment_ids=self.context.get("segment_ids", []))


class DeliveryQuerySerializer(serializers.Serializer):
    """The log's filters; an unknown value is a 400 naming the choices."""

    status = serializers.ChoiceField(choices=DeliveryStatus.choices, required=False)
    reason = serializers.ChoiceField(choices=ExclusionReason.choices, required=False)
