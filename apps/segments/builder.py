"""The rule builder of the segment pages: the JSON tree as form fields and back, the builder's
actions (add, remove, negate), and what the templates render (nodes with their operators, value
inputs and problems; a readable outline of saved rules).

Every node has a path: `r` is the root group, `r-2` its third rule, `r-2-0` the rule inside a `not`
or the first rule of a group. A node's inputs are named `<path>:<part>` (`r-2:field`, `r-2:op`,
`r-2:value`), so the whole tree travels in one ordinary form: with htmx each edit re-renders the
builder, without JavaScript the same buttons submit the page.
"""

from __future__ import annotations

import copy
import dataclasses
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.http import QueryDict
from django.utils.translation import gettext as _
from django_stubs_ext import StrOrPromise

from apps.contacts.cleaning import IDENTITY_FIELDS, PERSONA_FIELDS, PREFERENCE_FIELDS, PURCHASE_FIELDS
from apps.segments.fields import (
    BUILT_IN_BY_NAME,
    CUSTOM_PREFIX,
    DATE_OP_LABELS,
    DAYS_OPS,
    LIST_OPS,
    NO_VALUE_OPS,
    OP_LABELS,
    FieldSpec,
    FieldType,
)
from apps.segments.rules import GROUPS, MAX_NODES, Problem

ROOT = "r"
NEW_NODES: dict[str, dict[str, Any]] = {
    "field": {"field": "city", "op": "eq", "value": ""},
    "tag": {"tag": ""},
    "segment": {"segment": None},
    "all": {"all": []},
    "any": {"any": []},
}
FIELD_GROUPS: tuple[tuple[StrOrPromise, tuple[str, ...]], ...] = (
    ("Identity", IDENTITY_FIELDS),
    ("Persona attributes", PERSONA_FIELDS),
    ("Purchases", PURCHASE_FIELDS),
    ("Preferences & consent", PREFERENCE_FIELDS),
    ("Record", ("source", "created_at", "updated_at")),
)
_PATH = re.compile(r"^r(?:-\d{1,3}){0,12}$")


# --- Form fields -> JSON ---------------------------------------------------------------------------


def tree_from_post(data: QueryDict, specs: Mapping[str, FieldSpec]) -> dict[str, Any]:
    """The rule tree the builder's fields describe; values typed as the field's type suggests, and
    left as typed when they do not parse, so the rules' own check names the problem."""
    types = {
        key[:-5]: str(value) for key, value in data.items() if key.endswith(":type") and _PATH.match(key[:-5])
    }
    if len(types) > MAX_NODES + 1:
        types = dict(list(types.items())[: MAX_NODES + 1])
    root = _node_from_post(data, ROOT, types, specs)
    return root if any(key in root for key in GROUPS) else {"all": [root]}


def _children(path: str, types: Mapping[str, str]) -> list[str]:
    prefix = f"{path}-"
    found = [key for key in types if key.startswith(prefix) and key[len(prefix) :].isdigit()]
    return sorted(found, key=lambda key: int(key[len(prefix) :]))


def _node_from_post(
    data: QueryDict, path: str, types: Mapping[str, str], specs: Mapping[str, FieldSpec]
) -> dict[str, Any]:
    kind = types.get(path, "all")
    if kind in GROUPS:
        return {kind: [_node_from_post(data, child, types, specs) for child in _children(path, types)]}
    if kind == "not":
        children = _children(path, types)
        return {"not": _node_from_post(data, children[0], types, specs) if children else {"all": []}}
    if kind == "tag":
        return {"tag": data.get(f"{path}:tag", "").strip()}
    if kind == "segment":
        raw = data.get(f"{path}:segment", "").strip()
        return {"segment": int(raw) if raw.isdigit() else (raw or None)}
    name, op = data.get(f"{path}:field", ""), data.get(f"{path}:op", "eq")
    node: dict[str, Any] = {"field": name, "op": op}
    if op not in NO_VALUE_OPS:
        node["value"] = _value_from_post(data, path, specs.get(name), op)
    return node


def _value_from_post(data: QueryDict, path: str, spec: FieldSpec | None, op: str) -> Any:
    text = data.get(f"{path}:value", "").strip()
    if op in DAYS_OPS:
        return int(text) if text.isdigit() else (text or None)
    if op in LIST_OPS:
        if spec is not None and spec.type in (FieldType.CHOICE, FieldType.BOOLEAN):
            items = data.getlist(f"{path}:values")
        else:
            items = [item.strip() for item in text.split(",") if item.strip()]
        return [_typed(item, spec) for item in items] or None
    if op == "between":
        return [_typed(text, spec), _typed(data.get(f"{path}:value2", "").strip(), spec)]
    return _typed(text, spec)


def _typed(text: str, spec: FieldSpec | None) -> Any:
    if text == "":
        return None
    if spec is not None and spec.type == FieldType.NUMBER:
        try:
            return int(text)
        except ValueError:
            pass
        try:
            return float(text.replace(",", "."))  # 1,5 as typed in German
        except ValueError:
            return text
    if spec is not None and spec.type == FieldType.BOOLEAN:
        return {"true": True, "false": False}.get(text, text)
    return text


# --- Actions ---------------------------------------------------------------------------------------


def apply_action(tree: dict[str, Any], action: str) -> dict[str, Any]:
    """`add-<kind>:<group path>`, `remove:<path>`, `negate:<path>` (wrap in or unwrap a `not`);
    anything else leaves the tree as it is (`refresh`)."""
    verb, _sep, path = action.partition(":")
    steps = _steps(path)
    if steps is None:
        return tree
    tree = copy.deepcopy(tree)
    if verb.startswith("add-") and verb[4:] in NEW_NODES:
        group = _node(tree, steps)
        kind = next((key for key in GROUPS if isinstance(group, dict) and key in group), None)
        if kind is not None and len(group[kind]) < MAX_NODES:
            group[kind].append(copy.deepcopy(NEW_NODES[verb[4:]]))
        return tree
    if verb == "remove":
        return _remove(tree, steps)
    if verb == "negate":
        node = _node(tree, steps)
        if isinstance(node, dict):
            replacement = (
                node["not"] if set(node) == {"not"} and isinstance(node["not"], dict) else {"not": node}
            )
            return _replace(tree, steps, replacement)
    return tree


def _steps(path: str) -> list[int] | None:
    if not _PATH.match(path):
        return None
    return [int(part) for part in path.split("-")[1:]]


def _node(tree: Any, steps: Sequence[int]) -> Any:
    node = tree
    for step in steps:
        if not isinstance(node, dict):
            return None
        if "not" in node:
            node = node["not"]
            continue
        children = next((node[key] for key in GROUPS if isinstance(node.get(key), list)), None)
        if children is None or step >= len(children):
            return None
        node = children[step]
    return node


def _replace(tree: dict[str, Any], steps: list[int], replacement: dict[str, Any]) -> dict[str, Any]:
    if not steps:
        return replacement if any(key in replacement for key in GROUPS) else {"all": [replacement]}
    parent = _node(tree, steps[:-1])
    if isinstance(parent, dict) and "not" in parent:
        parent["not"] = replacement
    elif isinstance(parent, dict):
        children: list[Any] = next((parent[key] for key in GROUPS if isinstance(parent.get(key), list)), [])
        if steps[-1] < len(children):
            children[steps[-1]] = replacement
    return tree


def _remove(tree: dict[str, Any], steps: list[int]) -> dict[str, Any]:
    if not steps:
        return {"all": []}
    parent = _node(tree, steps[:-1])
    if isinstance(parent, dict) and "not" in parent:  # removing what a `not` holds removes the `not`
        return _remove(tree, steps[:-1])
    if isinstance(parent, dict):
        children: list[Any] = next((parent[key] for key in GROUPS if isinstance(parent.get(key), list)), [])
        if steps[-1] < len(children):
            del children[steps[-1]]
    return tree


# --- JSON -> what the builder shows ------------------------------------------------------------------


@dataclass
class BuilderNode:
    path: str
    kind: str  # all, any, not, field, tag or segment
    depth: int
    children: list[BuilderNode] = dataclasses.field(default_factory=list)
    errors: list[str] = dataclasses.field(default_factory=list)
    field: str = ""
    op: str = ""
    spec: FieldSpec | None = None
    op_choices: list[tuple[str, str]] = dataclasses.field(default_factory=list)
    widget: str = "none"  # none, text, number, date, select, multi, list, days, between
    value: str = ""
    value2: str = ""
    selected: list[str] = dataclasses.field(default_factory=list)
    choices: list[tuple[str, str]] = dataclasses.field(default_factory=list)
    tag: str = ""
    segment: str = ""

    @property
    def is_group(self) -> bool:
        return self.kind in GROUPS


def builder_nodes(tree: Any, specs: Mapping[str, FieldSpec], problems: Sequence[Problem] = ()) -> BuilderNode:
    """The root group to render, each node with the problems found at or below its own keys."""
    root = tree if isinstance(tree, dict) and any(key in tree for key in GROUPS) else {"all": [tree]}
    errors: dict[str, list[str]] = {}
    for problem in problems:
        errors.setdefault(_builder_path(problem.path), []).append(problem.message)
    return _builder_node(root, ROOT, 0, specs, errors)


def _builder_path(json_path: Sequence[str | int]) -> str:
    """("all", 1, "not", "field") -> "r-1-0": where a problem shows in the builder."""
    path, parts = ROOT, list(json_path)
    while parts:
        part = parts.pop(0)
        if part in GROUPS and parts and isinstance(parts[0], int):
            path += f"-{parts.pop(0)}"
        elif part == "not":
            path += "-0"
        else:
            break
    return path


def _builder_node(
    raw: Any, path: str, depth: int, specs: Mapping[str, FieldSpec], errors: Mapping[str, list[str]]
) -> BuilderNode:
    node = BuilderNode(path=path, kind="field", depth=depth, errors=list(errors.get(path, [])))
    if not isinstance(raw, dict):
        return node
    kind = next((key for key in ("all", "any", "not", "tag", "segment") if key in raw), "field")
    node.kind = kind
    if kind in GROUPS:
        items = raw[kind] if isinstance(raw[kind], list) else []
        node.children = [
            _builder_node(item, f"{path}-{index}", depth + 1, specs, errors)
            for index, item in enumerate(items)
        ]
    elif kind == "not":
        node.children = [_builder_node(raw["not"], f"{path}-0", depth + 1, specs, errors)]
    elif kind == "tag":
        node.tag = str(raw["tag"] or "")
    elif kind == "segment":
        node.segment = "" if raw["segment"] is None else str(raw["segment"])
    else:
        _condition(node, raw, specs)
    return node


def _condition(node: BuilderNode, raw: dict[str, Any], specs: Mapping[str, FieldSpec]) -> None:
    node.field, node.op = str(raw.get("field") or ""), str(raw.get("op") or "")
    spec = node.spec = specs.get(node.field)
    if spec is None:
        node.widget = "text"
        node.value = _shown(raw.get("value"))
        return
    labels = DATE_OP_LABELS if spec.type in (FieldType.DATE, FieldType.DATETIME) else {}
    node.op_choices = [(op, str(labels.get(op, OP_LABELS[op]))) for op in spec.ops]
    if node.op not in spec.ops:
        node.op = "eq"
    node.choices = [(value, str(label)) for value, label in spec.choices]
    if spec.type == FieldType.BOOLEAN:
        node.choices = [("true", _("Yes")), ("false", _("No"))]
    value = raw.get("value")
    node.widget = _widget(spec, node.op, value)
    if node.widget == "between":
        pair = value if isinstance(value, list) else [None, None]
        node.value, node.value2 = (
            _shown(pair[0] if pair else None),
            _shown(pair[1] if len(pair) > 1 else None),
        )
    elif node.widget == "multi":
        node.selected = [_shown(item) for item in value] if isinstance(value, list) else []
    else:
        node.value = ", ".join(map(_shown, value)) if isinstance(value, list) else _shown(value)


def _widget(spec: FieldSpec, op: str, value: Any) -> str:
    if op in NO_VALUE_OPS:
        return "none"
    if op in DAYS_OPS:
        return "days"
    if op in LIST_OPS:
        return "multi" if spec.type in (FieldType.CHOICE, FieldType.BOOLEAN) else "list"
    if op == "between":
        return "between"
    if spec.type in (FieldType.CHOICE, FieldType.BOOLEAN):
        return "select"
    if spec.type == FieldType.NUMBER:
        return "number"
    if spec.type in (FieldType.DATE, FieldType.DATETIME):
        return "text" if isinstance(value, str) and "T" in value else "date"
    return "text"


def _shown(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def field_choices(specs: Mapping[str, FieldSpec]) -> list[tuple[str, list[tuple[str, str]]]]:
    """The field select's option groups: contact fields by theme, then the custom fields."""
    groups = [
        (
            str(title),
            [(name, str(BUILT_IN_BY_NAME[name].label)) for name in names if name in BUILT_IN_BY_NAME],
        )
        for title, names in FIELD_GROUPS
    ]
    custom = sorted((name, str(spec.label)) for name, spec in specs.items() if name.startswith(CUSTOM_PREFIX))
    return [*groups, ("Custom fields", custom)] if custom else groups


# --- A readable outline of saved rules ---------------------------------------------------------------


@dataclass
class OutlineItem:
    text: str
    children: list[OutlineItem] = dataclasses.field(default_factory=list)


def outline(raw: Any, specs: Mapping[str, FieldSpec], segment_names: Mapping[int, str]) -> OutlineItem:
    if not isinstance(raw, dict):
        return OutlineItem(_("(not a rule)"))
    for key, title in (("all", _("All of these")), ("any", _("Any of these")), ("not", _("Not this"))):
        if key in raw:
            items = raw[key] if key in GROUPS else [raw[key]]
            if key == "all" and not items:
                return OutlineItem(_("Every contact"))
            if key == "any" and not items:
                return OutlineItem(_("Nobody (an empty “any” group)"))
            children = [outline(item, specs, segment_names) for item in items if isinstance(items, list)]
            return OutlineItem(title, children)
    if "tag" in raw:
        return OutlineItem(_("Has the tag “%(tag)s”") % {"tag": raw["tag"]})
    if "segment" in raw:
        name = segment_names.get(raw["segment"], _("a deleted segment"))
        return OutlineItem(_("Is in the segment “%(name)s”") % {"name": name})
    spec = specs.get(str(raw.get("field")))
    label = str(spec.label) if spec else str(raw.get("field"))
    op = str(raw.get("op"))
    labels = DATE_OP_LABELS if spec and spec.type in (FieldType.DATE, FieldType.DATETIME) else {}
    words = str(labels.get(op) or OP_LABELS.get(op, op))
    value = raw.get("value")
    if op == "between" and isinstance(value, list) and len(value) == 2:
        shown = _("%(low)s and %(high)s") % {
            "low": _display(value[0], spec),
            "high": _display(value[1], spec),
        }
    elif isinstance(value, list):
        shown = ", ".join(_display(item, spec) for item in value)
    else:
        shown = _display(value, spec)
    if op == "within_last_days":
        words, shown = _("is within the last %(days)s days") % {"days": shown}, ""
    elif op == "more_than_days_ago":
        words, shown = _("is more than %(days)s days ago") % {"days": shown}, ""
    return OutlineItem(" ".join(part for part in (label, words, shown) if part))


def _display(value: Any, spec: FieldSpec | None) -> str:
    if value is None:
        return ""
    if spec is not None and spec.choices:
        return str(dict(spec.choices).get(value, value))
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    return str(value)
