"""Merge tags: what copy may use, how problems are reported, and how it renders."""

from __future__ import annotations

import pickle
from datetime import date
from decimal import Decimal

import pytest

from apps.campaigns.personalization import (
    CONTACT_FIELDS,
    MergeTagError,
    MergeTagProblem,
    check_template,
    compile_template,
    contact_context,
    merge_fields,
)
from apps.contacts.models import Contact
from apps.workspaces.models import Workspace

CUSTOM_KEYS = ("loyalty_tier", "vip", "renewal")


def problems(source: str, *, extra: tuple[str, ...] = ()) -> list[MergeTagProblem]:
    return check_template(source, custom_keys=CUSTOM_KEYS, extra=extra)


def render(source: str, context: dict[str, object], *, autoescape: bool = False) -> str:
    return compile_template(source, custom_keys=CUSTOM_KEYS, autoescape=autoescape).render(context)


def only_problem(source: str) -> MergeTagProblem:
    found = problems(source)
    assert len(found) == 1, found
    return found[0]


# What copy may use


def test_every_contact_field_custom_field_and_the_workspace_name_are_allowed() -> None:
    source = " ".join(f"{{{{ {name} }}}}" for name in CONTACT_FIELDS)
    source += " {{ custom.loyalty_tier }} {{ workspace.name }}"
    assert problems(source) == []


def test_names_the_delivery_engine_adds_are_allowed_only_when_passed_as_extra() -> None:
    assert problems("{{ unsubscribe_url }}", extra=("unsubscribe_url",)) == []
    assert only_problem("{{ unsubscribe_url }}").message == "Unknown merge tag “unsubscribe_url”."


def test_if_elif_else_comments_and_every_allowed_filter_compile() -> None:
    source = (
        "{% if custom.vip %}VIP{% elif orders_count > 3 and not custom.loyalty_tier %}Regular{% else %}New{% endif %}"
        "{# a note #}{% comment %}draft: {{ anything }}{% endcomment %}"
        '{{ first_name|default:"there"|upper }} {{ last_name|default_if_none:""|lower|title|capfirst }}'
        '{{ city|truncatechars:10 }} {{ region|truncatewords:2 }} {{ customer_since|date:"Y" }}'
    )
    assert problems(source) == []


def test_comparing_with_none_true_and_false_is_allowed() -> None:
    assert problems("{% if custom.vip == True or age == None %}x{% endif %}") == []


# How problems are reported


def test_unknown_merge_tag_is_reported_with_line_and_column() -> None:
    problem = only_problem('Hello,\nDear {{ frist_name|default:"there" }}')
    assert (problem.line, problem.column) == (2, 6)
    assert problem.message == "Unknown merge tag “frist_name”. Did you mean “first_name”?"


def test_problem_reads_as_line_column_and_message() -> None:
    assert (
        str(only_problem("  {{ cty }}")) == "line 1, column 3: Unknown merge tag “cty”. Did you mean “city”?"
    )


def test_every_unknown_merge_tag_is_reported_not_only_the_first() -> None:
    found = problems("{{ frist_name }}\n{{ custom.tier }} {{ emial }}")
    assert [(problem.line, problem.column) for problem in found] == [(1, 1), (2, 1), (2, 19)]


def test_unknown_custom_field_suggests_the_closest_custom_field() -> None:
    assert only_problem("{{ custom.loyalty }}").message == (
        "Unknown merge tag “custom.loyalty”. Did you mean “custom.loyalty_tier”?"
    )


def test_attribute_of_a_field_is_reported_because_fields_are_plain_values() -> None:
    problem = only_problem("{{ first_name.upper }}")
    assert problem.message == "Unknown merge tag “first_name.upper”. Did you mean “first_name”?"


def test_deeper_custom_path_is_reported() -> None:
    assert only_problem("{{ custom.vip.x }}").message.startswith("Unknown merge tag “custom.vip.x”.")


def test_unknown_merge_tag_inside_an_if_condition_is_reported_at_the_if() -> None:
    problem = only_problem("Hi\n  {% if cty %}x{% endif %}")
    assert (problem.line, problem.column, problem.message) == (
        2,
        3,
        "Unknown merge tag “cty”. Did you mean “city”?",
    )


def test_unknown_merge_tag_inside_an_elif_condition_is_reported_at_the_elif() -> None:
    problem = only_problem("{% if city %}a{% elif custom.tier %}b{% endif %}")
    assert (problem.line, problem.column) == (1, 15)


def test_elif_positions_skip_nested_ifs_and_comments() -> None:
    source = "{% if city %}{% if age %}{% elif age %}{% endif %}{% comment %}{% elif %}{% endcomment %}{% elif cty %}{% endif %}"
    assert only_problem(source).column == source.index("{% elif cty %}") + 1


def test_unknown_merge_tag_inside_an_if_branch_is_reported() -> None:
    problem = only_problem("{% if city %}a{% else %}\n {{ nme }}{% endif %}")
    assert (problem.line, problem.column) == (2, 2)


def test_unknown_merge_tag_used_as_a_filter_argument_is_reported() -> None:
    assert only_problem("{{ first_name|default:last_nme }}").message == (
        "Unknown merge tag “last_nme”. Did you mean “last_name”?"
    )


def test_unclosed_variable_is_reported_where_it_opens() -> None:
    problem = only_problem("Hello\nDear {{ first_name, welcome")
    assert (problem.line, problem.column) == (2, 6)
    assert problem.message == "“{{” is not closed: add “}}” on the same line."


def test_unclosed_block_tag_is_reported_where_it_opens() -> None:
    problem = only_problem("Hi {% if first_name %")
    assert (problem.line, problem.column, problem.message) == (
        1,
        4,
        "“{%” is not closed: add “%}” on the same line.",
    )


def test_if_without_endif_is_reported() -> None:
    assert only_problem("{% if first_name %}Hi").message == "“{% if %}” is not closed: add “{% endif %}”."


def test_endif_without_if_is_reported() -> None:
    assert only_problem("Hi {% endif %}").message == "“{% endif %}” has no matching “{% if %}”."


def test_empty_variable_is_reported() -> None:
    assert only_problem("Hi {{ }}").message.startswith("“{{ }}” is empty")


def test_filter_missing_its_value_is_explained() -> None:
    assert only_problem("{{ city|truncatechars }}").message == (
        "“truncatechars” needs a value, e.g. {{ first_name|truncatechars:40 }}."
    )


def test_misspelt_filter_suggests_the_allowed_one() -> None:
    assert only_problem("{{ first_name|uper }}").message.endswith("Did you mean “upper”?")


# The sandbox: nothing but the allow-list compiles


def test_underscore_attribute_is_rejected_with_its_position() -> None:
    problem = only_problem("Hi\n  {{ first_name.__class__ }}")
    assert (problem.line, problem.column) == (2, 3)
    assert "first_name.__class__" in problem.message


@pytest.mark.parametrize(
    ("source", "tag"),
    [
        ("{% load static %}", "load"),
        ('{% include "x.html" %}', "include"),
        ("{% debug %}", "debug"),
        ("{% csrf_token %}", "csrf_token"),
        ('{% url "home" %}', "url"),
        ("{% autoescape off %}{{ city }}{% endautoescape %}", "autoescape"),
    ],
)
def test_tags_outside_the_allow_list_are_rejected_with_their_position(source: str, tag: str) -> None:
    problem = only_problem(f"Hello\nthere {source}")
    assert (problem.line, problem.column) == (2, 7)
    assert problem.message.startswith(
        f"“{{% {tag} %}}” is not allowed in merge tags; use {{{{ field }}}}, {{% if %}}"
    )


@pytest.mark.parametrize(
    ("source", "name"),
    [
        ("{{ email|safe }}", "safe"),
        ("{{ first_name|upper|floatformat }}", "floatformat"),
        ("{% if first_name|escape %}x{% endif %}", "escape"),
    ],
)
def test_filters_outside_the_allow_list_are_rejected_with_their_position(source: str, name: str) -> None:
    problem = only_problem(f"Hi {source}")
    assert (problem.line, problem.column) == (1, 4)
    assert problem.message.startswith(
        f"“{name}” is not an allowed filter; use default, default_if_none, upper"
    )


def test_compile_template_raises_with_every_problem() -> None:
    with pytest.raises(MergeTagError) as raised:
        compile_template("{{ frist_name }} {{ cty }}", custom_keys=CUSTOM_KEYS, autoescape=False)
    assert [problem.column for problem in raised.value.problems] == [1, 18]
    assert "line 1, column 1: Unknown merge tag “frist_name”" in str(raised.value)


def test_merge_tag_error_survives_pickling_for_task_queues() -> None:
    with pytest.raises(MergeTagError) as raised:
        compile_template("{{ cty }}", custom_keys=CUSTOM_KEYS, autoescape=False)
    assert pickle.loads(pickle.dumps(raised.value)).problems == raised.value.problems  # noqa: S301


# Rendering


def test_missing_value_renders_empty_and_default_fills_it() -> None:
    assert render('Hi {{ first_name|default:"there" }}!{{ city }}', {"first_name": ""}) == "Hi there!"


def test_custom_fields_and_workspace_name_render_from_plain_dicts() -> None:
    context = {"custom": {"loyalty_tier": "Gold"}, "workspace": {"name": "Acme"}}
    assert render("{{ custom.loyalty_tier }} at {{ workspace.name }}", context) == "Gold at Acme"


def test_html_bodies_escape_values_and_text_bodies_do_not() -> None:
    context = {"first_name": "<b>Tom & Jerry</b>"}
    assert render("{{ first_name }}", context, autoescape=True) == "&lt;b&gt;Tom &amp; Jerry&lt;/b&gt;"
    assert render("{{ first_name }}", context, autoescape=False) == "<b>Tom & Jerry</b>"


def test_if_branches_follow_the_values() -> None:
    source = "{% if custom.vip %}VIP{% elif orders_count > 3 %}Regular{% else %}New{% endif %}"
    assert [
        render(source, {"custom": {"vip": vip}, "orders_count": orders})
        for vip, orders in [(True, 0), (False, 5), (False, 1)]
    ] == ["VIP", "Regular", "New"]


def test_filters_render_as_in_django() -> None:
    context = {"first_name": "anna", "customer_since": date(2021, 3, 14), "region": "one two three"}
    source = '{{ first_name|title }} {{ customer_since|date:"Y-m-d" }} {{ region|truncatewords:2 }}'
    assert render(source, context) == "Anna 2021-03-14 one two …"


def test_compiled_template_renders_many_contexts_and_lists_the_fields_it_uses() -> None:
    template = compile_template(
        "Hi {{ first_name }} {{ custom.vip }}", custom_keys=CUSTOM_KEYS, autoescape=False
    )
    assert [template.render({"first_name": name}) for name in ("Ann", "Bo")] == ["Hi Ann ", "Hi Bo "]
    assert template.fields == frozenset({"first_name", "custom.vip"})


# The context and the editor's help


def test_contact_context_gives_plain_values_with_choice_labels_and_full_name() -> None:
    contact = Contact(
        first_name="Anna",
        last_name="Schmidt",
        gender="female",
        education_level="master",
        age=None,
        customer_since=date(2021, 3, 14),
        total_spent=Decimal("412.50"),
        custom={"loyalty_tier": "Gold", "vip": True, "renewal": "2025-06-01"},
    )
    context = contact_context(contact, workspace=Workspace(name="Acme"), custom_types={"renewal": "date"})
    assert context["full_name"] == "Anna Schmidt"
    assert (context["gender"], context["education_level"]) == ("Female", "Master's degree")
    assert (context["age"], context["address_line1"]) == ("", "")
    assert (context["customer_since"], context["total_spent"]) == (date(2021, 3, 14), Decimal("412.50"))
    assert context["custom"] == {"loyalty_tier": "Gold", "vip": True, "renewal": date(2025, 6, 1)}
    assert context["workspace"] == {"name": "Acme"}


def test_contact_context_holds_no_model_instances() -> None:
    context = contact_context(Contact(first_name="Anna"), workspace=Workspace(name="Acme"))
    values = [*context.values(), *context["custom"].values(), *context["workspace"].values()]
    assert all(isinstance(value, str | int | Decimal | date | dict) for value in values)


def test_contact_context_renders_a_real_template() -> None:
    context = contact_context(Contact(first_name="", gender="male"), workspace=Workspace(name="Acme"))
    source = '{{ first_name|default:"there" }} ({{ gender }}) from {{ workspace.name }}'
    assert render(source, context) == "there (Male) from Acme"


def test_merge_fields_list_contact_workspace_custom_and_extra_names_with_labels() -> None:
    fields = merge_fields(
        custom_keys=["loyalty_tier"],
        extra=["unsubscribe_url"],
        custom_labels={"loyalty_tier": "Loyalty tier"},
    )
    names = [merge_field.name for merge_field in fields]
    assert names == [*CONTACT_FIELDS, "workspace.name", "custom.loyalty_tier", "unsubscribe_url"]
    first = fields[0]
    assert (first.label, first.example) == ("First name", "Anna")
    assert fields[-2].label == "Loyalty tier"
