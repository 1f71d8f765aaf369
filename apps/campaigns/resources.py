"""django-import-export for campaigns and channel items (the admin's CSV/XLSX import and export).

A row names its workspace by slug; everything else it points at (owner team, personas, campaign,
segments) by name within that workspace, so a file moves between workspaces and a name of another
workspace is that row's error. Lists are comma-separated; a name that itself holds commas is still
found, because cells are split against the names the workspace really has.

Rows are written by the campaign services, so an imported item's merge tags are checked like an
edited one's (problems name line and column). Import never schedules or sends: items are created or
changed as drafts only, and a row that would change a scheduled (or sent, ...) item is refused.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Model, Prefetch, QuerySet
from import_export import fields, resources, widgets
from import_export.widgets import ForeignKeyWidget

from apps.campaigns import services
from apps.campaigns.choices import ItemStatus
from apps.campaigns.models import Campaign, ChannelItem
from apps.contacts.exporting import FORMULA_TRIGGERS, escape_cell
from apps.core.resources import import_errors, instance_by_name
from apps.personas.models import Persona
from apps.segments.models import Segment
from apps.workspaces.models import Team, Workspace

M = TypeVar("M", bound=Model)

# The item columns a row may change, in the services' own order.
ITEM_COLUMNS = services.ITEM_FIELDS
ITEM_LISTS = ("segments", "exclusions")


def unescape_cell(value: Any) -> Any:
    """Undo `escape_cell`: the quote exported before a formula-like text is not part of it."""
    if isinstance(value, str) and value.startswith("'") and value[1:2].startswith(FORMULA_TRIGGERS):
        return value[1:]
    return value


class SafeTextWidget(widgets.CharWidget):
    """Text exported like the contact export writes it: a cell a spreadsheet would run as a formula
    (copy is written by any workspace member) gets a leading quote, which import takes off again."""

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> Any:
        rendered = super().render(value, obj, **kwargs)
        return escape_cell(rendered) if isinstance(rendered, str) else rendered

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> Any:
        return unescape_cell(super().clean(value, row, **kwargs))


class SafeTextResource(resources.ModelResource):
    @classmethod
    def widget_from_django_field(cls, f: Any, default: Any = widgets.Widget) -> Any:
        if isinstance(f, models.CharField | models.TextField) and not f.choices:
            return SafeTextWidget
        return super().widget_from_django_field(f, default)


def split_names(cell: Any, known: Iterable[str]) -> list[str]:
    """The names in a comma-separated cell. A known name is matched whole even when it holds commas
    ("Do not target: opted out, press, wholesale"); the longest known name wins."""
    rest = str(unescape_cell(cell) or "").strip()
    by_length = sorted({name for name in known if name}, key=len, reverse=True)
    names: list[str] = []
    while rest := rest.lstrip(", "):
        for name in by_length:
            size = len(name)
            if rest[:size].lower() == name.lower() and (
                len(rest) == size or rest[size:].lstrip().startswith(",")
            ):
                names.append(rest[:size])
                rest = rest[size:]
                break
        else:
            head, _, rest = rest.partition(",")
            names.append(head.strip())
    return list(dict.fromkeys(names))


def by_names(model: type[M], workspace: Workspace, cell: Any, *, what: str) -> tuple[list[M], str | None]:
    """The workspace's objects named in `cell` (any case), and the error naming those it lacks."""
    available = {str(obj).lower(): obj for obj in model._default_manager.filter(workspace=workspace)}
    names = split_names(cell, (str(obj) for obj in available.values()))
    missing = [name for name in names if name.lower() not in available]
    if missing:
        listed = ", ".join(f"“{name}”" for name in missing)
        return [], f"There is no {what} {listed} in this workspace."
    return [available[name.lower()] for name in names], None


def team_by_name(workspace: Workspace, cell: Any) -> tuple[Team | None, str | None]:
    name = str(unescape_cell(cell) or "").strip()
    team = Team.objects.filter(workspace=workspace, name__iexact=name).first() if name else None
    if name and team is None:
        return None, f"There is no team “{name}” in this workspace."
    return team, None


def joined(objects: Iterable[Any]) -> str:
    return escape_cell(", ".join(sorted(str(obj) for obj in objects)))


class CampaignResource(SafeTextResource):
    workspace = fields.Field(
        attribute="workspace", column_name="workspace", widget=ForeignKeyWidget(Workspace, field="slug")
    )
    owner_team = fields.Field(column_name="owner_team")
    personas = fields.Field(column_name="personas")

    class Meta:
        model = Campaign
        fields = ("workspace", "name", "goal", "owner_team", "starts_on", "ends_on", "personas")
        export_order = fields
        import_id_fields = ("workspace", "name")
        clean_model_instances = False  # checked by the campaign services instead
        skip_unchanged = True
        report_skipped = True

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # Resolved per row in import_instance, written in do_instance_save (keyed by the instance).
        self._related: dict[int, dict[str, Any]] = {}

    def get_queryset(self) -> QuerySet[Campaign]:
        return Campaign.objects.select_related("workspace", "owner_team").prefetch_related("personas")

    def dehydrate_owner_team(self, campaign: Campaign) -> str:
        return escape_cell(campaign.owner_team.name) if campaign.owner_team is not None else ""

    def dehydrate_personas(self, campaign: Campaign) -> str:
        return joined(campaign.personas.all())

    def get_instance(self, instance_loader: Any, row: dict[str, Any]) -> Campaign | None:
        """Campaign names are unique per workspace whatever their case: match them that way."""
        return instance_by_name(Campaign, {**row, "name": unescape_cell(row.get("name"))})

    def import_instance(self, instance: Campaign, row: dict[str, Any], **kwargs: Any) -> None:
        parent = super().import_instance
        errors = import_errors(lambda: parent(instance, row, **kwargs), row)
        related: dict[str, Any] = {}
        if not errors:
            team, problem = team_by_name(instance.workspace, row.get("owner_team"))
            if problem:
                errors["owner_team"] = problem
            instance.owner_team = team
            if "personas" in row:
                related["personas"], problem = by_names(
                    Persona, instance.workspace, row.get("personas"), what="persona"
                )
                if problem:
                    errors["personas"] = problem
        if errors:
            raise ValidationError(errors)
        self._related[id(instance)] = related

    def skip_row(
        self,
        instance: Campaign,
        original: Campaign,
        row: dict[str, Any],
        import_validation_errors: Any = None,
    ) -> bool:
        if import_validation_errors or instance.pk is None or not self._meta.skip_unchanged:
            return False
        stored = Campaign.objects.prefetch_related("personas").get(pk=instance.pk)
        related = self._related.get(id(instance), {})
        same_personas = "personas" not in related or {p.pk for p in related["personas"]} == {
            p.pk for p in stored.personas.all()
        }
        return same_personas and all(
            getattr(instance, name) == getattr(stored, name)
            for name in ("name", "goal", "owner_team_id", "starts_on", "ends_on")
        )

    def do_instance_save(self, instance: Campaign, is_create: bool) -> None:
        values: dict[str, Any] = {
            "name": instance.name,
            "goal": instance.goal or "",
            "owner_team": instance.owner_team,
            "starts_on": instance.starts_on,
            "ends_on": instance.ends_on,
            **self._related.get(id(instance), {}),
        }
        if is_create:
            saved = services.campaign_create(workspace=instance.workspace, **values)
            instance.pk, instance._state.adding = saved.pk, False
        else:
            services.campaign_update(campaign=Campaign.objects.get(pk=instance.pk), **values)


def _item_lookup(row: dict[str, Any]) -> QuerySet[ChannelItem]:
    return ChannelItem.objects.filter(
        workspace__slug=str(row.get("workspace") or "").strip(),
        campaign__name__iexact=str(unescape_cell(row.get("campaign")) or "").strip(),
        channel=str(row.get("channel") or "").strip(),
        name__iexact=str(unescape_cell(row.get("name")) or "").strip(),
    )


class ChannelItemResource(SafeTextResource):
    """A row is one item: it updates the item of the same campaign, channel and name (any case) in
    the row's workspace, else creates a draft. `status` and `send_at` are exported for reading and
    never imported: scheduling happens in the app, with sign-off."""

    workspace = fields.Field(
        attribute="workspace", column_name="workspace", widget=ForeignKeyWidget(Workspace, field="slug")
    )
    campaign = fields.Field(column_name="campaign")
    owner_team = fields.Field(column_name="owner_team")
    segments = fields.Field(column_name="segments")
    exclusions = fields.Field(column_name="exclusions")
    payload = fields.Field(attribute="payload", column_name="payload", widget=widgets.JSONWidget())
    # Declared without the model's default (21:00-08:00), so an empty cell means no quiet hours.
    quiet_hours_start = fields.Field(
        attribute="quiet_hours_start", column_name="quiet_hours_start", widget=widgets.TimeWidget()
    )
    quiet_hours_end = fields.Field(
        attribute="quiet_hours_end", column_name="quiet_hours_end", widget=widgets.TimeWidget()
    )
    status = fields.Field(attribute="status", column_name="status", readonly=True)
    send_at = fields.Field(
        attribute="send_at", column_name="send_at", readonly=True, widget=widgets.DateTimeWidget()
    )

    class Meta:
        model = ChannelItem
        fields = ("workspace", "campaign", "channel", *ITEM_COLUMNS, "status", "send_at")
        export_order = fields
        import_id_fields = ("workspace", "campaign", "channel", "name")
        clean_model_instances = False  # checked by the campaign services instead
        skip_unchanged = True
        report_skipped = True

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._pending: dict[int, dict[str, Any]] = {}

    def get_queryset(self) -> QuerySet[ChannelItem]:
        segments = Segment.objects.order_by("name")
        return ChannelItem.objects.select_related("workspace", "campaign", "owner_team").prefetch_related(
            Prefetch("segments", queryset=segments), Prefetch("exclusions", queryset=segments)
        )

    def dehydrate_campaign(self, item: ChannelItem) -> str:
        return escape_cell(item.campaign.name)

    def dehydrate_owner_team(self, item: ChannelItem) -> str:
        return escape_cell(item.owner_team.name) if item.owner_team is not None else ""

    def dehydrate_segments(self, item: ChannelItem) -> str:
        return joined(item.segments.all())

    def dehydrate_exclusions(self, item: ChannelItem) -> str:
        return joined(item.exclusions.all())

    def get_instance(self, instance_loader: Any, row: dict[str, Any]) -> ChannelItem | None:
        found = list(_item_lookup(row).select_related("workspace", "campaign")[:2])
        if len(found) > 1:
            raise ValidationError(
                {"name": f"Several {row.get('channel')} items are called “{row.get('name')}” in this campaign: "
                 "rename one in the app first."}
            )  # fmt: skip
        return found[0] if found else None

    def import_instance(self, instance: ChannelItem, row: dict[str, Any], **kwargs: Any) -> None:
        parent = super().import_instance
        errors = import_errors(lambda: parent(instance, row, **kwargs), row)
        if errors:
            raise ValidationError(errors)
        workspace = instance.workspace
        if instance.pk is None:
            name = str(unescape_cell(row.get("campaign")) or "").strip()
            campaign = Campaign.objects.filter(workspace=workspace, name__iexact=name).first()
            if campaign is None:
                errors["campaign"] = f"There is no campaign “{name}” in this workspace."
            else:
                instance.campaign = campaign
        values = {
            name: _or_empty(name, getattr(instance, name))
            for name in ITEM_COLUMNS
            if name in row and name not in (*ITEM_LISTS, "owner_team")
        }
        if "owner_team" in row:
            values["owner_team"], problem = team_by_name(workspace, row.get("owner_team"))
            if problem:
                errors["owner_team"] = problem
        for name in ITEM_LISTS:
            if name in row:
                values[name], problem = by_names(Segment, workspace, row.get(name), what="segment")
                if problem:
                    errors[name] = problem
        if (
            not errors
            and instance.pk is not None
            and instance.status != ItemStatus.DRAFT
            and self._changes(instance, values)
        ):
            status = instance.get_status_display().lower()
            errors["__all__"] = f"“{instance.name}” is {status}: {status} items can't be changed by import."
        if errors:
            raise ValidationError(errors)
        self._pending[id(instance)] = values

    def _changes(self, instance: ChannelItem, values: dict[str, Any]) -> bool:
        """Whether the row's values differ from the stored item's."""
        stored = ChannelItem.objects.prefetch_related("segments", "exclusions").get(pk=instance.pk)
        for name, value in values.items():
            if name in ITEM_LISTS:
                if {s.pk for s in value} != {s.pk for s in getattr(stored, name).all()}:
                    return True
            elif name == "owner_team":
                if (value.pk if value else None) != stored.owner_team_id:
                    return True
            elif value != _or_empty(name, getattr(stored, name)):
                return True
        return False

    def skip_row(
        self,
        instance: ChannelItem,
        original: ChannelItem,
        row: dict[str, Any],
        import_validation_errors: Any = None,
    ) -> bool:
        if import_validation_errors or instance.pk is None or not self._meta.skip_unchanged:
            return False
        return not self._changes(instance, self._pending.get(id(instance), {}))

    def do_instance_save(self, instance: ChannelItem, is_create: bool) -> None:
        values = self._pending.get(id(instance), {})
        if is_create:
            # Empty cells leave the services' defaults (an email's sender, an SMS's quiet hours).
            given = {name: value for name, value in values.items() if value not in (None, "", {}, [])}
            saved = services.item_create(campaign=instance.campaign, channel=instance.channel, **given)
            instance.pk, instance._state.adding = saved.pk, False
        else:
            services.item_update(item=ChannelItem.objects.get(pk=instance.pk), **values)


def _or_empty(name: str, value: Any) -> Any:
    """An empty cell as the field stores it: "" for text, {} for the payload, None otherwise."""
    if value is not None:
        return value
    if name == "payload":
        return {}
    field = ChannelItem._meta.get_field(name)
    return "" if isinstance(field, models.CharField | models.TextField) else None
