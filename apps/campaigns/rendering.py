"""An item's copy rendered for one contact: the preview, the test send and (next issue) every
delivery use this, so what was previewed is what goes out."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from apps.campaigns.models import ChannelItem
from apps.campaigns.personalization import CompiledTemplate, MergeTagError, compile_template, contact_context
from apps.campaigns.sms_text import SmsInfo, sms_info
from apps.contacts.models import Contact

# The item fields that may hold merge tags, and whether they are HTML (escaped when rendered).
TEMPLATE_FIELDS: dict[str, bool] = {
    "subject": False,
    "preheader": False,
    "body_html": True,
    "body_text": False,
    "sms_text": False,
}
PAYLOAD = "payload"


@dataclass
class Rendered:
    """The copy as one contact receives it. `problems` names each field whose merge tags fail."""

    values: dict[str, str] = field(default_factory=dict)
    payload: Any = None
    sms: SmsInfo | None = None
    problems: dict[str, list[str]] = field(default_factory=dict)


class ItemTemplates:
    """Every template of one item compiled once, to render for many contacts (a batch of the
    delivery engine, or one preview)."""

    def __init__(
        self, item: ChannelItem, *, custom_keys: Collection[str], extra: Collection[str] = ()
    ) -> None:
        self.item = item
        self.compiled: dict[str, CompiledTemplate] = {}
        self.payload_templates: dict[str, CompiledTemplate] = {}
        self.problems: dict[str, list[str]] = {}
        for name, is_html in TEMPLATE_FIELDS.items():
            source = getattr(item, name)
            if not source:
                continue
            try:
                self.compiled[name] = compile_template(
                    source, custom_keys=custom_keys, autoescape=is_html, extra=extra
                )
            except MergeTagError as error:
                self.problems[name] = [str(problem) for problem in error.problems]
        for path, source in payload_strings(item.payload):
            try:
                self.payload_templates[path] = compile_template(
                    source, custom_keys=custom_keys, autoescape=False, extra=extra
                )
            except MergeTagError as error:
                self.problems.setdefault(PAYLOAD, []).extend(
                    f"{path}: {problem}" for problem in error.problems
                )

    def render(self, context: Mapping[str, Any]) -> Rendered:
        rendered = Rendered(problems=dict(self.problems))
        for name in TEMPLATE_FIELDS:
            template = self.compiled.get(name)
            rendered.values[name] = (
                template.render(context) if template is not None else getattr(self.item, name)
            )
        if self.item.payload not in (None, {}, []):
            rendered.payload = _render_payload(self.item.payload, "", self.payload_templates, context)
        if self.item.channel == "sms":
            rendered.sms = sms_info(rendered.values["sms_text"])
        return rendered


def payload_strings(payload: Any, path: str = "") -> list[tuple[str, str]]:
    """Every string inside a JSON payload with its path (`data.title`, `items[0]`): each may hold
    merge tags."""
    found: list[tuple[str, str]] = []
    if isinstance(payload, str):
        found.append((path or "payload", payload))
    elif isinstance(payload, dict):
        for key, value in payload.items():
            found.extend(payload_strings(value, f"{path}.{key}" if path else str(key)))
    elif isinstance(payload, list):
        for index, value in enumerate(payload):
            found.extend(payload_strings(value, f"{path}[{index}]"))
    return found


def _render_payload(
    value: Any, path: str, templates: Mapping[str, CompiledTemplate], context: Mapping[str, Any]
) -> Any:
    if isinstance(value, str):
        template = templates.get(path or "payload")
        return template.render(context) if template is not None else value
    if isinstance(value, dict):
        return {
            key: _render_payload(item, f"{path}.{key}" if path else str(key), templates, context)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [
            _render_payload(item, f"{path}[{index}]", templates, context) for index, item in enumerate(value)
        ]
    return value


def render_for(item: ChannelItem, *, contact: Contact | None, custom_keys: Collection[str]) -> Rendered:
    """The item as `contact` would get it (no contact: every merge tag shows its default)."""
    templates = ItemTemplates(item, custom_keys=custom_keys)
    context = (
        contact_context(contact, workspace=item.workspace)
        if contact is not None
        else {"workspace": {"name": item.workspace.name}}
    )
    return templates.render(context)
