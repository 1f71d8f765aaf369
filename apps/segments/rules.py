"""The rule tree of a segment: its JSON form, and the parser that checks it and names each problem
by its JSON path. Pure: what the rules may name (fields, tags, segments) comes in a `Vocabulary`
that the selectors load.

    {"all": [
        {"tag": "vip"},
        {"any": [{"tag": "newsletter"}, {"field": "city", "op": "eq", "value": "Berlin"}]},
        {"field": "age", "op": "between", "value": [25, 35]},
        {"not": {"tag": "churned"}},
        {"segment": 12}
    ]}

Groups: `all` and `any` (lists of nodes; `{"all": []}` matches every contact, `{"any": []}` nobody),
`not` (one node). Conditions: `{"tag": NAME}` (has the tag; names compare in any case),
`{"segment": ID}` (is in that segment of the same workspace: a dynamic one by its rules, a static one
by its frozen members; no loops), and `{"field": NAME, "op": OP, "value": V}` over the fields of
`fields.py` (custom fields as `custom.<key>`). `neq`, `not_in`, `is_not_empty` and `not` are
complements, so a contact without a value matches them; every other condition never matches an empty
value. `between` includes both ends. Text compares case-sensitively, except emails (and `icontains`).
Date-time fields take a date (`"2026-03-01"`: that day in the workspace's time zone) or an ISO date-time
(without an offset: UTC). `within_last_days` and `more_than_days_ago` count back from now.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError

from apps.segments.fields import ALL_OPS, CUSTOM_PREFIX, NO_VALUE_OPS, FieldSpec
from apps.segments.values import Path, ValueReader

GROUPS = ("all", "any")
_CUSTOM_NAME = re.compile(r"^custom\.[a-z][a-z0-9_]{0,49}$")
NODE_KEYS = ("all", "any", "not", "tag", "segment", "field")
MAX_NODES = 200  # in one segment's own rules
MAX_EXPANDED_NODES = 1000  # with the rules of the segments it includes
MAX_DEPTH = 12


# --- The parsed tree --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Group:
    op: str  # "all" or "any"
    children: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    child: Node


@dataclass(frozen=True)
class TagCondition:
    name: str
    tag_id: int | None  # None: the workspace has no such tag (any more), so nobody has it


@dataclass(frozen=True)
class SegmentCondition:
    segment_id: int


@dataclass(frozen=True)
class FieldCondition:
    spec: FieldSpec | None  # None: a custom field that was deleted, so every value is empty
    op: str
    value: Any = None  # typed: str, int, Decimal, float, bool, date, Moment, or a list/pair of them


Node = Group | Not | TagCondition | SegmentCondition | FieldCondition


@dataclass(frozen=True)
class SegmentInfo:
    id: int
    name: str
    is_static: bool
    rules: Any


@dataclass(frozen=True)
class Vocabulary:
    """What rules may name in one workspace, loaded by `selectors.rules_vocabulary`."""

    fields: Mapping[str, FieldSpec]
    tags: Mapping[str, int] = field(default_factory=dict)  # lower-cased name -> id
    segments: Mapping[int, SegmentInfo] = field(default_factory=dict)
    time_zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))
    now: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))

    @property
    def today(self) -> dt.date:
        return self.now.astimezone(self.time_zone).date()


# --- Problems -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    path: Path
    message: str

    @property
    def where(self) -> str:
        """The JSON path below `rules`: `all[1].any[0].field`."""
        text = ""
        for part in self.path:
            text += f"[{part}]" if isinstance(part, int) else f".{part}"
        return text.lstrip(".") or "(the root)"

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


class RulesError(ValidationError):
    """A Django ValidationError on `rules` (so forms and the admin show it), keeping each problem's
    path for the API, which nests the errors the way the JSON is nested."""

    def __init__(self, problems: list[Problem], others: dict[str, list[str]] | None = None) -> None:
        self.problems = problems
        self.others = others or {}  # problems of the segment's other fields, found at the same time
        super().__init__({**self.others, "rules": [str(problem) for problem in problems]})

    def nested(self) -> Any:
        """{"all": {"1": {"field": ["There is no field “town”."]}}}: the JSON's own nesting."""
        tree: dict[str, Any] = {}
        for problem in self.problems:
            node = tree
            for part in problem.path:
                node = node.setdefault(str(part), {})
            node.setdefault("", []).append(problem.message)
        return _lift(tree)

    def summary(self) -> str:
        shown = " ".join(str(problem) for problem in self.problems[:3])
        more = len(self.problems) - 3
        return f"The rules are not valid. {shown}" + (f" And {more} more." if more > 0 else "")


def _lift(tree: dict[str, Any]) -> Any:
    """{"": [msg]} leaves become [msg]; a node with its own message and children keeps it under "node"."""
    if set(tree) == {""}:
        return tree[""]
    lifted = {key: _lift(value) for key, value in tree.items() if key != ""}
    if "" in tree:
        lifted["node"] = tree[""]
    return lifted


# --- References (read before the vocabulary exists) ----------------------------------------------------


@dataclass
class References:
    tags: set[str] = field(default_factory=set)  # lower-cased
    custom_keys: set[str] = field(default_factory=set)
    segments: set[int] = field(default_factory=set)


def references(raw: Any, found: References | None = None) -> References:
    """The tags, custom fields and segments a rule tree names, read leniently (shapes unchecked)."""
    found = found if found is not None else References()
    for node in _walk(raw):
        if isinstance(node.get("tag"), str) and "\x00" not in node["tag"]:
            found.tags.add(node["tag"].strip().lower())
        name = node.get("field")
        if isinstance(name, str) and _CUSTOM_NAME.match(name):
            found.custom_keys.add(name.removeprefix(CUSTOM_PREFIX))
        segment_id = node.get("segment")
        if isinstance(segment_id, int) and not isinstance(segment_id, bool):
            found.segments.add(segment_id)
    return found


def _walk(raw: Any, depth: int = 0) -> Iterator[dict[str, Any]]:
    if not isinstance(raw, dict) or depth > MAX_DEPTH:
        return
    yield raw
    for key in GROUPS:
        if isinstance(raw.get(key), list):
            for child in raw[key][:MAX_NODES]:
                yield from _walk(child, depth + 1)
    yield from _walk(raw.get("not"), depth + 1)


def node_count(raw: Any) -> int:
    return sum(1 for _node in _walk(raw))


# --- Parsing ------------------------------------------------------------------------------------------


def parse(raw: Any, vocabulary: Vocabulary, *, strict: bool = True, segment_id: int | None = None) -> Node:
    """The typed tree, or `RulesError` naming every problem by its path.

    `strict` (saving, previewing) also refuses tags, custom fields and segments the workspace does
    not have, and loops through `segment_id` (the segment being saved). Lenient parsing (counting a
    saved segment) reads them as what they now are: a deleted tag is held by nobody, a deleted custom
    field is empty for everyone, a deleted segment has no members."""
    parser = _Parser(vocabulary, strict=strict, segment_id=segment_id)
    node = parser.node(raw, (), 0)
    if strict and not parser.problems and segment_id is not None:
        parser.check_loops(raw)
    if strict and not parser.problems:
        parser.check_size(raw)
    if parser.problems or node is None:
        raise RulesError(parser.problems or [Problem((), "These rules cannot be read.")])
    return node


class _Parser:
    def __init__(self, vocabulary: Vocabulary, *, strict: bool, segment_id: int | None) -> None:
        self.vocabulary = vocabulary
        self.strict = strict
        self.segment_id = segment_id
        self.problems: list[Problem] = []
        self.seen = 0

    def problem(self, path: Path, message: str) -> None:
        self.problems.append(Problem(path, message))

    def node(self, raw: Any, path: Path, depth: int) -> Node | None:
        self.seen += 1
        if self.seen == MAX_NODES + 1:
            self.problem(
                path, f"Use at most {MAX_NODES} rules in one segment; include another segment instead."
            )
        if self.seen > MAX_NODES:
            return None
        if depth > MAX_DEPTH:
            self.problem(path, f"Rules nest at most {MAX_DEPTH} levels deep.")
            return None
        if not isinstance(raw, dict):
            self.problem(path, 'A rule is a JSON object, e.g. {"tag": "vip"} or {"all": [...]}.')
            return None
        kinds = [key for key in NODE_KEYS if key in raw]
        if len(kinds) != 1:
            found = ", ".join(map(str, raw)) or "nothing"
            self.problem(
                path,
                "A rule has exactly one of all, any, not, tag, segment or field "
                f"(this one has {'several: ' if kinds else ''}{found}).",
            )
            return None
        kind = kinds[0]
        allowed = {"field", "op", "value"} if kind == "field" else {kind}
        for extra in sorted(set(map(str, raw)) - allowed):
            self.problem((*path, extra), f"Unexpected key “{extra}” in a {kind} rule.")
        if kind in GROUPS:
            return self.group(kind, raw[kind], path, depth)
        if kind == "not":
            child = self.node(raw["not"], (*path, "not"), depth + 1)
            return Not(child) if child is not None else None
        if kind == "tag":
            return self.tag(raw["tag"], (*path, "tag"))
        if kind == "segment":
            return self.segment(raw["segment"], (*path, "segment"))
        return self.condition(raw, path)

    def group(self, op: str, items: Any, path: Path, depth: int) -> Group | None:
        if not isinstance(items, list):
            self.problem(
                (*path, op), f'List the rules of an “{op}” group, e.g. {{"{op}": [{{"tag": "vip"}}]}}.'
            )
            return None
        children = [self.node(item, (*path, op, index), depth + 1) for index, item in enumerate(items)]
        if any(child is None for child in children):
            return None
        return Group(op, tuple(child for child in children if child is not None))

    def tag(self, name: Any, path: Path) -> TagCondition | None:
        if not isinstance(name, str) or not name.strip():
            self.problem(path, "Name a tag, e.g. “newsletter”.")
            return None
        if len(name) > 80 or "\x00" in name:
            self.problem(path, "A tag name has at most 80 characters, and no NUL characters.")
            return None
        tag_id = self.vocabulary.tags.get(name.strip().lower())
        if tag_id is None and self.strict:
            self.problem(path, f"There is no tag “{name.strip()}” in this workspace.")
        return TagCondition(name.strip(), tag_id)

    def segment(self, segment_id: Any, path: Path) -> SegmentCondition | None:
        if not isinstance(segment_id, int) or isinstance(segment_id, bool):
            self.problem(path, "Choose a segment (its id, e.g. 12).")
            return None
        if self.strict:
            if segment_id == self.segment_id:
                self.problem(path, "A segment cannot include itself.")
            elif segment_id not in self.vocabulary.segments:
                self.problem(path, f"There is no segment {segment_id} in this workspace.")
        return SegmentCondition(segment_id)

    def condition(self, raw: dict[str, Any], path: Path) -> FieldCondition | None:
        name, op = raw["field"], raw.get("op")
        spec = self.vocabulary.fields.get(name) if isinstance(name, str) else None
        if spec is None and not (isinstance(name, str) and self._gone_custom_field(name)):
            self.problem((*path, "field"), self._unknown_field(name))
            return None
        if not isinstance(op, str) or op not in (spec.ops if spec else ALL_OPS):
            self.problem((*path, "op"), self._bad_op(op, spec))
            return None
        if spec is None:
            return FieldCondition(None, op)
        if op in NO_VALUE_OPS:
            if raw.get("value") is not None:
                self.problem((*path, "value"), f"“{op}” takes no value.")
            return FieldCondition(spec, op)
        if "value" not in raw:
            self.problem((*path, "value"), "Fill in a value.")
            return None
        reader = ValueReader(spec, (*path, "value"), zone=self.vocabulary.time_zone, report=self.problem)
        value = reader.parse(op, raw["value"])
        return FieldCondition(spec, op, value) if value is not None else None

    def _gone_custom_field(self, name: str) -> bool:
        return not self.strict and name.startswith(CUSTOM_PREFIX)

    def _unknown_field(self, name: Any) -> str:
        if not isinstance(name, str) or not name:
            return "Choose a field, e.g. “city”."
        if name.startswith(CUSTOM_PREFIX):
            return f"There is no custom field “{name.removeprefix(CUSTOM_PREFIX)}” in this workspace."
        close = difflib.get_close_matches(name, list(self.vocabulary.fields), n=1)
        hint = f" Did you mean “{close[0]}”?" if close else ""
        return f"There is no field “{name}”.{hint} Fields are contact fields, custom.<key>, created_at, updated_at."

    @staticmethod
    def _bad_op(op: Any, spec: FieldSpec | None) -> str:
        if spec is None or not isinstance(op, str) or op not in ALL_OPS:
            return f"“{op}” is not an operator; use one of: {', '.join(spec.ops if spec else ALL_OPS)}."
        return f"“{op}” does not apply to {spec.name} ({spec.type} field); use one of: {', '.join(spec.ops)}."

    def check_loops(self, raw: Any) -> None:
        """Refuse to include a segment that (through others) includes the one being saved."""
        graph = {info.id: references(info.rules).segments for info in self.vocabulary.segments.values()}
        for path, target in _segment_nodes(raw, ()):
            chain = _chain(graph, target, self.segment_id)
            if chain:
                names = " → ".join(f"“{self.vocabulary.segments[i].name}”" for i in chain)
                self.problem(path, f"{names} → this segment: including it here would make a loop.")

    def check_size(self, raw: Any) -> None:
        sizes: dict[int, int] = {}

        def size(tree: Any, visiting: frozenset[int]) -> int:
            total = node_count(tree)
            for _path, target in _segment_nodes(tree, ()):
                info = self.vocabulary.segments.get(target)
                if info is None or info.is_static or target in visiting:
                    continue
                if target not in sizes:
                    sizes[target] = size(info.rules, visiting | {target})
                total += sizes[target]
            return total

        total = size(raw, frozenset())
        if total > MAX_EXPANDED_NODES:
            self.problem(
                (),
                f"With the segments they include, these rules hold {total} conditions; "
                f"the most is {MAX_EXPANDED_NODES}. Freeze an included segment, or simplify.",
            )


def _segment_nodes(raw: Any, path: Path) -> Iterator[tuple[Path, int]]:
    if not isinstance(raw, dict):
        return
    target = raw.get("segment")
    if isinstance(target, int) and not isinstance(target, bool):
        yield (*path, "segment"), target
    for key in GROUPS:
        if isinstance(raw.get(key), list):
            for index, child in enumerate(raw[key]):
                yield from _segment_nodes(child, (*path, key, index))
    yield from _segment_nodes(raw.get("not"), (*path, "not"))


def _chain(graph: Mapping[int, set[int]], start: int, goal: int | None) -> list[int]:
    """The segments from `start` to one that includes `goal`, or [] when there is no such path."""
    if goal is None:
        return []
    stack: list[list[int]] = [[start]]
    seen = {start}
    while stack:
        chain = stack.pop()
        for nxt in graph.get(chain[-1], set()):
            if nxt == goal:
                return chain
            if nxt not in seen:
                seen.add(nxt)
                stack.append([*chain, nxt])
    return []
