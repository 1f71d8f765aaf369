"""Merge tags: campaign copy personalised with a restricted subset of Django's template language.

Writers know `{{ first_name|default:"there" }}` from every email tool, and Django's engine already parses
it well, so we reuse that engine but give it a tiny allow-list instead of the default tag libraries:
copy written by any workspace member must never reach files, URLs, settings or Python objects. Every
variable path is checked against the fields a contact really has, so a typo is reported while the
campaign is edited, not discovered by 100,000 recipients reading "Hi ,".
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, cast

from django.template import (
    Context,
    Engine,
    Library,
    Template,
    TemplateSyntaxError,
    defaultfilters,
    defaulttags,
)
from django.template.base import (
    DebugLexer,
    FilterExpression,
    Node,
    NodeList,
    Token,
    TokenType,
    Variable,
    VariableNode,
)
from django.template.defaulttags import IfNode, TemplateLiteral
from django.utils.formats import localize
from django.utils.translation import gettext_lazy as _

ALLOWED_FILTERS: tuple[str, ...] = (
    "default",
    "default_if_none",
    "upper",
    "lower",
    "title",
    "capfirst",
    "truncatechars",
    "truncatewords",
    "date",
)


def _merge_tag_library() -> Library:
    """Django's own `if`, `comment` and filter functions, registered one by one: nothing else exists."""
    library = Library()
    library.tag("if", defaulttags.do_if)
    library.tag("comment", defaulttags.comment)
    for name in ALLOWED_FILTERS:
        library.filter(name, getattr(defaultfilters, name))
    return library


merge_tag_library = _merge_tag_library()


class MergeTagEngine(Engine):
    """Django's engine with none of its default tags and filters: only `merge_tag_library`.

    `debug=True` makes the lexer record each token's position, which every problem report needs.
    No loaders and no libraries: `{% load %}` and `{% include %}` have nothing to reach even if
    they were registered."""

    default_builtins: list[str] = []

    def __init__(self) -> None:
        super().__init__(debug=True, loaders=[], libraries={}, builtins=[], autoescape=True)

    def get_template_builtins(self, builtins: list[str]) -> list[Library]:
        return [merge_tag_library]


ENGINE = MergeTagEngine()

WORKSPACE_FIELDS: tuple[str, ...] = ("workspace.name",)
# Django's context always holds these; `{% if custom.x == None %}` must stay possible.
_LITERAL_NAMES = frozenset({"True", "False", "None"})
# Stored as API words, shown as their label: "female" -> "Female".
_CHOICE_FIELDS = ("gender", "marital_status", "household_income_band", "education_level")

# Label and example of each contact field, in the editor's order. Examples are localised as the
# template would render them (dates and numbers in the active locale).
_CONTACT_FIELD_HELP: dict[str, tuple[Any, Any]] = {
    "first_name": (_("First name"), "Anna"),
    "last_name": (_("Last name"), "Schmidt"),
    "full_name": (_("Full name"), "Anna Schmidt"),
    "email": (_("Email"), "anna@example.com"),
    "phone": (_("Phone"), "+49 30 1234567"),
    "city": (_("City"), "Berlin"),
    "region": (_("Region"), "Berlin"),
    "country": (_("Country"), "DE"),
    "postal_code": (_("Postal code"), "10115"),
    "address_line1": (_("Address line 1"), "Hauptstraße 1"),
    "address_line2": (_("Address line 2"), "2nd floor"),
    "age": (_("Age"), 34),
    "gender": (_("Gender"), "Female"),
    "marital_status": (_("Marital status"), "Married"),
    "children_in_household": (_("Children in household"), 2),
    "household_income_band": (_("Household income band"), "50k-75k"),
    "education_level": (_("Education level"), "Master's degree"),
    "customer_since": (_("Customer since"), date(2021, 3, 14)),
    "orders_count": (_("Orders"), 7),
    "total_spent": (_("Total spent"), Decimal("412.50")),
    "language": (_("Preferred language"), "de"),
}
CONTACT_FIELDS: tuple[str, ...] = tuple(_CONTACT_FIELD_HELP)
_FIELD_HELP: dict[str, tuple[Any, Any]] = {
    **_CONTACT_FIELD_HELP,
    "workspace.name": (_("Workspace name"), "Acme Outdoor"),
    "unsubscribe_url": (_("Unsubscribe link"), "https://example.com/u/3f9a…"),
}


@dataclass(frozen=True)
class MergeTagProblem:
    """One thing wrong in a piece of copy, positioned so the editor can point at it."""

    line: int
    column: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}, column {self.column}: {self.message}"


class MergeTagError(Exception):
    """Copy that cannot be compiled; carries every problem found so the writer fixes them at once."""

    def __init__(self, problems: list[MergeTagProblem]) -> None:
        super().__init__(problems)  # the list itself, so the error survives pickling (Celery)
        self.problems = problems

    def __str__(self) -> str:
        return "; ".join(str(problem) for problem in self.problems)


@dataclass(frozen=True)
class MergeField:
    """A merge tag the editor offers, with a label and an example for its help panel."""

    name: str
    label: str
    example: str


@dataclass(frozen=True)
class CompiledTemplate:
    """Checked once, rendered many times: `render` does no validation, only Django's render."""

    source: str
    autoescape: bool
    fields: frozenset[str]
    """The merge tags used, e.g. to tell whether a message needs `unsubscribe_url`."""
    _template: Template = field(repr=False, compare=False)

    def render(self, context: Mapping[str, Any]) -> str:
        """Plain `str`, never Django's `SafeString`: a rendered subject or text shown in one of
        our pages must be escaped there like any other user text (`str.__str__` drops the mark)."""
        return str.__str__(self._template.render(Context(context, autoescape=self.autoescape)))


def merge_fields(
    *, custom_keys: Iterable[str], extra: Iterable[str] = (), custom_labels: Mapping[str, str] | None = None
) -> list[MergeField]:
    """Every merge tag a workspace may use, in the order the editor lists them."""
    fields = [_merge_field(name) for name in (*CONTACT_FIELDS, *WORKSPACE_FIELDS)]
    labels = custom_labels or {}
    for key in custom_keys:
        fields.append(MergeField(f"custom.{key}", str(labels.get(key) or _humanize(key)), ""))
    fields.extend(_merge_field(name) for name in extra)
    return fields


def _merge_field(name: str) -> MergeField:
    label, example = _FIELD_HELP.get(name, (_humanize(name), ""))
    return MergeField(name, str(label), str(localize(example)))


def _humanize(name: str) -> str:
    return name.replace("_", " ").capitalize()


def compile_template(
    source: str, *, custom_keys: Collection[str], autoescape: bool, extra: Collection[str] = ()
) -> CompiledTemplate:
    """Compile copy once for rendering many times; raises MergeTagError listing every problem."""
    template, fields, problems = _compile(source, allowed=_allowed_paths(custom_keys, extra))
    if problems or template is None:
        raise MergeTagError(problems)
    return CompiledTemplate(source=source, autoescape=autoescape, fields=fields, _template=template)


def check_template(
    source: str, *, custom_keys: Collection[str], extra: Collection[str] = ()
) -> list[MergeTagProblem]:
    """The problems in a piece of copy, for form validation and the editor; [] when it is fine."""
    return _compile(source, allowed=_allowed_paths(custom_keys, extra))[2]


def _allowed_paths(custom_keys: Collection[str], extra: Collection[str]) -> frozenset[str]:
    return frozenset((*CONTACT_FIELDS, *WORKSPACE_FIELDS, *(f"custom.{key}" for key in custom_keys), *extra))


def _compile(
    source: str, *, allowed: frozenset[str]
) -> tuple[Template | None, frozenset[str], list[MergeTagProblem]]:
    tokens = DebugLexer(source).tokenize()
    problems = _unclosed_delimiters(source, tokens)
    template: Template | None = None
    used: set[str] = set()
    try:
        template = Template(source, engine=ENGINE)
    except TemplateSyntaxError as error:
        problems.append(_syntax_problem(source, error))
    else:
        branch_starts = _BranchStarts(tokens)
        for variable, start in _variables(template.nodelist, branch_starts):
            path = ".".join(variable.lookups or ())
            if path in allowed or path in _LITERAL_NAMES:
                used.add(path)
            else:
                problems.append(_problem_at(source, start, _unknown_message(path, allowed)))
    problems.sort(key=lambda problem: (problem.line, problem.column))
    return template, frozenset(used), problems


def _problem_at(source: str, offset: int, message: str) -> MergeTagProblem:
    line = source.count("\n", 0, offset) + 1
    column = offset - (source.rfind("\n", 0, offset) + 1) + 1
    return MergeTagProblem(line=line, column=column, message=message)


# Django leaves an unclosed `{{ first_name` in the text as it is: the writer would send it verbatim.
_OPENERS = {"{{": "}}", "{%": "%}", "{#": "#}"}
_OPENER_RE = re.compile("|".join(re.escape(opener) for opener in _OPENERS))


def _unclosed_delimiters(source: str, tokens: list[Token]) -> list[MergeTagProblem]:
    problems = []
    for token in tokens:
        if token.token_type != TokenType.TEXT or token.position is None:
            continue
        for match in _OPENER_RE.finditer(token.contents):
            opener = match.group()
            message = f"“{opener}” is not closed: add “{_OPENERS[opener]}” on the same line."
            problems.append(_problem_at(source, token.position[0] + match.start(), message))
    return problems


def _allowed_summary() -> str:
    return f"use {{{{ field }}}}, {{% if %}} and the filters {_filter_list()}"


def _filter_list() -> str:
    return ", ".join(ALLOWED_FILTERS[:-1]) + f" and {ALLOWED_FILTERS[-1]}"


_EXAMPLE_ARGUMENTS = {
    "default": '"there"',
    "default_if_none": '"there"',
    "truncatechars": "40",
    "truncatewords": "10",
    "date": '"j F Y"',
}


_INVALID_TAG = re.compile(r"Invalid block tag on line \d+: '([^']+)'")
_UNCLOSED_TAG = re.compile(r"Unclosed tag on line \d+: '([^']+)'")
_INVALID_FILTER = re.compile(r"Invalid filter: '([^']+)'")
_UNDERSCORE = re.compile(r"Variables and attributes may not begin with underscores: '([^']*)'")
_ARGUMENTS = re.compile(r"^(\w+) requires (\d) arguments, (\d) provided")
_CLOSERS = {"elif": "if", "else": "if", "endif": "if", "endcomment": "comment"}


def _syntax_problem(source: str, error: TemplateSyntaxError) -> MergeTagProblem:
    """Django's single parse error in plain language, at the token Django blames."""
    debug = getattr(error, "template_debug", None)
    return _problem_at(source, debug["start"] if debug else 0, _explain(str(error)))


def _explain(text: str) -> str:
    if match := _INVALID_TAG.search(text):
        tag = match[1]
        if tag in _CLOSERS:
            return f"“{{% {tag} %}}” has no matching “{{% {_CLOSERS[tag]} %}}”."
        return f"“{{% {tag} %}}” is not allowed in merge tags; {_allowed_summary()}."
    if match := _UNCLOSED_TAG.search(text):
        return f"“{{% {match[1]} %}}” is not closed: add “{{% end{match[1]} %}}”."
    if match := _INVALID_FILTER.search(text):
        hint = _did_you_mean(match[1], ALLOWED_FILTERS)
        return f"“{match[1]}” is not an allowed filter; use {_filter_list()}.{hint}"
    if match := _ARGUMENTS.search(text):
        name, needs_value = match[1], match[2] == "2"
        if needs_value:
            return f"“{name}” needs a value, e.g. {{{{ first_name|{name}:{_EXAMPLE_ARGUMENTS.get(name, '…')} }}}}."
        return f"“{name}” takes no value: write {{{{ first_name|{name} }}}}."
    if match := _UNDERSCORE.search(text):
        return f"“{match[1]}” is not a merge tag: names never start with an underscore."
    if text.startswith("Empty variable tag"):
        return "“{{ }}” is empty: put a field inside, e.g. {{ first_name }}."
    if text.startswith("Empty block tag"):
        return "“{% %}” is empty: remove it or write {% if … %}."
    return text  # Django's own wording, e.g. an if expression it cannot read


def _unknown_message(path: str, allowed: frozenset[str]) -> str:
    return f"Unknown merge tag “{path}”.{_did_you_mean(path, sorted(allowed))}"


def _did_you_mean(name: str, choices: Iterable[str]) -> str:
    options = list(choices)
    matches = difflib.get_close_matches(name, options, n=1)
    if not matches and "." in name:
        # `first_name.upper`: the writer meant the field and tried to call a method on it.
        head = name.rsplit(".", 1)[0]
        matches = [head] if head in options else []
    return f" Did you mean “{matches[0]}”?" if matches else ""


class _BranchStarts:
    """Where each `{% if %}` / `{% elif %}` tag starts: Django keeps only the `if` token on the node,
    and a typo in an elif condition deserves the elif's position."""

    def __init__(self, tokens: list[Token]) -> None:
        self.blocks = [token for token in tokens if token.token_type == TokenType.BLOCK]
        self.index = {self._start(token): i for i, token in enumerate(self.blocks)}

    @staticmethod
    def _start(token: Token) -> int:
        return token.position[0] if token.position else 0

    def of(self, if_token: Token) -> list[int]:
        starts = [self._start(if_token)]
        depth = 0
        in_comment = False
        for token in self.blocks[self.index.get(starts[0], len(self.blocks)) + 1 :]:
            command = token.contents.split()[0] if token.contents.split() else ""
            if in_comment or command == "comment":
                in_comment = command != "endcomment"
            elif command == "if":
                depth += 1
            elif command == "endif":
                if depth == 0:
                    break
                depth -= 1
            elif command == "elif" and depth == 0:
                starts.append(self._start(token))
        return starts


def _variables(
    nodelist: NodeList | list[Node], branch_starts: _BranchStarts
) -> Iterator[tuple[Variable, int]]:
    """Every Variable the template can resolve, with the offset of the tag it appears in."""
    for node in nodelist:
        token = node.token
        if token is None:  # the parser sets it on every node; this keeps mypy honest
            continue
        start = token.position[0] if token.position else 0
        if isinstance(node, VariableNode):
            yield from _expression_variables(node.filter_expression, start)
        elif isinstance(node, IfNode):
            starts = iter(branch_starts.of(token))
            for condition, branch in node.conditions_nodelists:
                if condition is not None:
                    branch_start = next(starts, start)
                    for expression in _condition_expressions(condition):
                        yield from _expression_variables(expression, branch_start)
                yield from _variables(branch, branch_starts)


def _condition_expressions(condition: Any) -> Iterator[FilterExpression]:
    """The operands of an `if` expression such as `custom.vip and not first_name`."""
    if isinstance(condition, TemplateLiteral):
        yield cast(FilterExpression, condition.value)
        return
    for operand in (condition.first, condition.second):
        if operand is not None:
            yield from _condition_expressions(operand)


def _expression_variables(expression: FilterExpression, start: int) -> Iterator[tuple[Variable, int]]:
    candidates = [expression.var]
    for _func, args in expression.filters:
        candidates.extend(arg for is_lookup, arg in args if is_lookup)
    for candidate in candidates:
        if isinstance(candidate, Variable) and candidate.lookups is not None:
            yield candidate, start


def contact_context(
    contact: Any, *, workspace: Any, custom_types: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """A contact as plain values for `CompiledTemplate.render`: never the model instance, so a template
    can reach nothing but these fields. `custom_types` (key -> CustomFieldType) turns stored ISO dates
    back into dates, so `{{ custom.renewal|date:"j F" }}` works like `customer_since`."""
    context: dict[str, Any] = {name: _plain(getattr(contact, name, "")) for name in CONTACT_FIELDS}
    for name in _CHOICE_FIELDS:
        display = getattr(contact, f"get_{name}_display", None)
        if context[name] and display is not None:
            context[name] = str(display())
    context["full_name"] = " ".join(part for part in (context["first_name"], context["last_name"]) if part)
    types = custom_types or {}
    custom = getattr(contact, "custom", None) or {}
    context["custom"] = {str(key): _custom_value(value, types.get(key)) for key, value in custom.items()}
    context["workspace"] = {"name": str(workspace.name)}
    return context


def _plain(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, str | int | float | Decimal | date):
        return value
    return str(value)  # lazy translations and anything unexpected: text, never an object


def _custom_value(value: Any, field_type: str | None) -> Any:
    if field_type == "date" and isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return value
    # Booleans stay booleans so `{% if custom.vip %}` works.
    return _plain(value)
