"""Rule tree -> one `Q` over contacts: tags and static segments as `EXISTS` probes of their link
tables (constant ids, so each is an index probe of `(tag, contact)` or `(segment, contact)`), fields
as plain column lookups, custom fields as typed expressions over the JSON column, and a dynamic
segment that is included by inlining its own rules. No query runs here; the caller counts, pages or
freezes the result in one statement.

The empty-value rule holds by construction: a positive condition is never NULL for an empty value
(Django adds `IS NOT NULL` when it negates a nullable column, and custom-field conditions carry their
own `IS NOT NULL` guard), so its complement, `NOT (...)`, matches exactly the rest.
"""

from __future__ import annotations

import datetime as dt
import functools
import operator
from collections.abc import Iterable
from typing import Any

from django.db.models import BooleanField, Exists, F, FloatField, Func, OuterRef, Q, TextField
from django.db.models import lookups as L  # noqa: N812
from django.db.models.sql.compiler import SQLCompiler

from apps.contacts.models import ContactTag
from apps.segments.fields import COMPLEMENTS, Empty, FieldSpec, FieldType
from apps.segments.models import SegmentMember
from apps.segments.rules import (
    FieldCondition,
    Group,
    Node,
    Not,
    RulesError,
    SegmentCondition,
    TagCondition,
    Vocabulary,
    parse,
)
from apps.segments.values import Moment

EVERYONE = Q()
NOBODY = Q(pk__in=[])


def all_of(conditions: Iterable[Q]) -> Q:
    kept = [condition for condition in conditions if condition != EVERYONE]
    if any(condition == NOBODY for condition in kept):
        return NOBODY
    return functools.reduce(operator.and_, kept, EVERYONE)


def any_of(conditions: Iterable[Q]) -> Q:
    kept = [condition for condition in conditions if condition != NOBODY]
    if not kept:
        return NOBODY
    if any(condition == EVERYONE for condition in kept):
        return EVERYONE
    return functools.reduce(operator.or_, kept)


def none_of(condition: Q) -> Q:
    if condition == EVERYONE:
        return NOBODY
    if condition == NOBODY:
        return EVERYONE
    return ~condition


class CustomValue(Func):
    """One custom field's value as a typed SQL value, NULL when the key is missing, null, "" or of
    another JSON type (so a condition on it can never raise a cast error)."""

    _KINDS = {FieldType.NUMBER: FloatField, FieldType.BOOLEAN: BooleanField}

    def __init__(self, key: str, kind: FieldType) -> None:
        self.key, self.kind = key, kind
        super().__init__(F("custom"), output_field=self._KINDS.get(kind, TextField)())

    def as_sql(
        self,
        compiler: SQLCompiler,
        connection: Any,
        function: str | None = None,
        template: str | None = None,
        arg_joiner: str | None = None,
        **extra_context: Any,
    ) -> tuple[str, list[Any]]:
        column, params = compiler.compile(self.source_expressions[0])
        typeof, value, key = f"jsonb_typeof(({column} -> %s))", f"({column} ->> %s)", [self.key]
        both = [*params, *key, *params, *key]
        if self.kind == FieldType.NUMBER:
            return f"CASE WHEN {typeof} = 'number' THEN {value}::double precision END", both
        if self.kind == FieldType.BOOLEAN:
            return f"CASE WHEN {typeof} = 'boolean' THEN {value}::boolean END", both
        return f"NULLIF(CASE WHEN {typeof} = 'string' THEN {value} END, '')", both

    def as_sqlite(self, compiler: SQLCompiler, connection: Any, **extra: Any) -> tuple[str, list[Any]]:
        column, params = compiler.compile(self.source_expressions[0])
        path = [f'$."{self.key}"']
        typeof, value = f"json_type({column}, %s)", f"json_extract({column}, %s)"
        both = [*params, *path, *params, *path]
        if self.kind == FieldType.NUMBER:
            return f"CASE WHEN {typeof} IN ('integer', 'real') THEN {value} END", both
        if self.kind == FieldType.BOOLEAN:
            return f"CASE {typeof} WHEN 'true' THEN 1 WHEN 'false' THEN 0 END", [*params, *path]
        return f"NULLIF(CASE WHEN {typeof} = 'text' THEN {value} END, '')", both


class Compiler:
    """Compiles parsed nodes against one workspace's vocabulary (ids already resolved)."""

    def __init__(self, vocabulary: Vocabulary) -> None:
        self.vocabulary = vocabulary

    def compile(self, node: Node, including: frozenset[int] = frozenset()) -> Q:
        if isinstance(node, Group):
            children = (self.compile(child, including) for child in node.children)
            return all_of(children) if node.op == "all" else any_of(children)
        if isinstance(node, Not):
            return none_of(self.compile(node.child, including))
        if isinstance(node, TagCondition):
            if node.tag_id is None:
                return NOBODY
            return Q(Exists(ContactTag.objects.filter(contact_id=OuterRef("pk"), tag_id=node.tag_id)))
        if isinstance(node, SegmentCondition):
            return self._segment(node.segment_id, including)
        return self._field(node)

    def _segment(self, segment_id: int, including: frozenset[int]) -> Q:
        info = self.vocabulary.segments.get(segment_id)
        if info is None or segment_id in including:  # deleted, or a loop saved by two writers at once
            return NOBODY
        if info.is_static:
            members = SegmentMember.objects.filter(segment_id=segment_id, contact_id=OuterRef("pk"))
            return Q(Exists(members))
        try:
            tree = parse(info.rules, self.vocabulary, strict=False)
        except RulesError:
            return NOBODY
        return self.compile(tree, including | {segment_id})

    # --- field conditions ----------------------------------------------------------------------------

    def _field(self, node: FieldCondition) -> Q:
        base = COMPLEMENTS.get(node.op)
        if base is not None:
            return none_of(self._positive(node.spec, base, node.value))
        return self._positive(node.spec, node.op, node.value)

    def _positive(self, spec: FieldSpec | None, op: str, value: Any) -> Q:
        if spec is None:  # a deleted custom field: nobody has a value
            return EVERYONE if op == "is_empty" else NOBODY
        if op == "is_empty":
            return self._empty(spec)
        if spec.custom_key:
            return self._custom(spec, op, value)
        return self._column(spec, op, value)

    @staticmethod
    def _empty(spec: FieldSpec) -> Q:
        if spec.custom_key:
            return Q(L.IsNull(CustomValue(spec.custom_key, spec.type), True))
        if spec.empty == Empty.NULL:
            return Q(**{f"{spec.column}__isnull": True})
        if spec.empty == Empty.BLANK:
            return Q(**{spec.column: ""})
        return NOBODY

    def _column(self, spec: FieldSpec, op: str, value: Any) -> Q:
        column = spec.column
        if spec.type == FieldType.DATETIME:
            return self._moments(column, op, value)
        if op in ("within_last_days", "more_than_days_ago"):
            today = self.vocabulary.today
            since = today - dt.timedelta(days=value)
            if op == "within_last_days":
                return Q(**{f"{column}__range": (since, today)})
            return Q(**{f"{column}__lt": since})
        lookup = {"eq": "exact", "between": "range", "before": "lt", "after": "gt"}.get(op, op)
        return Q(**{f"{column}__{lookup}": value})

    def _moments(self, column: str, op: str, value: Any) -> Q:
        """Date-time columns: a value is an instant or a day ([start, end) in the workspace's zone)."""
        now = self.vocabulary.now

        def upto(moment: Moment) -> Q:  # at or before the value's end
            return Q(**{f"{column}__{'lte' if moment.end_included else 'lt'}": moment.end})

        def after(moment: Moment) -> Q:  # past the value's end
            return Q(**{f"{column}__{'gt' if moment.end_included else 'gte'}": moment.end})

        def within(moment: Moment) -> Q:
            return Q(**{f"{column}__gte": moment.start}) & upto(moment)

        if op == "within_last_days":
            return Q(**{f"{column}__range": (now - dt.timedelta(days=value), now)})
        if op == "more_than_days_ago":
            return Q(**{f"{column}__lt": now - dt.timedelta(days=value)})
        if op == "eq":
            return within(value)
        if op == "in":
            return any_of(within(moment) for moment in value)
        if op in ("gt", "after"):
            return after(value)
        if op == "gte":
            return Q(**{f"{column}__gte": value.start})
        if op in ("lt", "before"):
            return Q(**{f"{column}__lt": value.start})
        if op == "lte":
            return upto(value)
        low, high = value  # between: from the start of the first to the end of the second
        return Q(**{f"{column}__gte": low.start}) & upto(high)

    def _custom(self, spec: FieldSpec, op: str, value: Any) -> Q:
        expression = CustomValue(spec.custom_key, spec.type)
        present = L.IsNull(expression, False)
        if spec.type == FieldType.DATE:  # stored as ISO text, which sorts like the dates it holds
            value = self._iso(op, value)
            if op == "within_last_days":
                return Q(
                    present,
                    L.GreaterThanOrEqual(expression, value[0]),
                    L.LessThanOrEqual(expression, value[1]),
                )
            if op == "more_than_days_ago":
                return Q(present, L.LessThan(expression, value))
        if op == "between":
            low, high = value
            return Q(present, L.GreaterThanOrEqual(expression, low), L.LessThanOrEqual(expression, high))
        lookup = {
            "eq": L.Exact, "in": L.In, "contains": L.Contains, "icontains": L.IContains,
            "startswith": L.StartsWith, "gt": L.GreaterThan, "after": L.GreaterThan,
            "gte": L.GreaterThanOrEqual, "lt": L.LessThan, "before": L.LessThan, "lte": L.LessThanOrEqual,
        }[op]  # fmt: skip
        return Q(present, lookup(expression, value))

    def _iso(self, op: str, value: Any) -> Any:
        today = self.vocabulary.today
        if op == "within_last_days":
            return ((today - dt.timedelta(days=value)).isoformat(), today.isoformat())
        if op == "more_than_days_ago":
            return (today - dt.timedelta(days=value)).isoformat()
        if isinstance(value, list | tuple):
            return type(value)(day.isoformat() for day in value)
        return value.isoformat()


def compile_rules(tree: Node, vocabulary: Vocabulary) -> Q:
    return Compiler(vocabulary).compile(tree)
