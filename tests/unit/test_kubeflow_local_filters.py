"""kubeflow/local/filters.py: the resolver filters our compiled specs carry parse and select the right artifacts;
every operator and value kind compares as Vertex ML Metadata does; each construct outside the subset is refused
with a message naming it, where it is, and what the local runner does support."""

from __future__ import annotations

import pytest

from kubeflow.local.errors import LocalRunError
from kubeflow.local.filters import FIELDS, METADATA_KINDS, OPERATORS, Condition, Filter, parse

# The two resolver filters of TFX 1.16's KubeflowV2DagRunner output for the taxi pipeline
# (deploymentSpec.executors.latest_blessed_model_resolver-*.resolver.outputArtifactQueries.*.filter).
BLESSING_FILTER = 'schema_title="tfx.ModelBlessing" AND state=LIVE AND metadata.blessed.number_value=1'
PLACEHOLDER = "{{$.inputs.artifacts['input'].metadata['current_model_id']}}"
MODEL_FILTER_COMPILED = f'schema_title="tfx.Model" AND state=LIVE AND name="{PLACEHOLDER}"'
MODEL_FILTER = MODEL_FILTER_COMPILED.replace(PLACEHOLDER, "artifacts/17")


def record(**overrides):
    base = {
        "schema_title": "tfx.ModelBlessing",
        "state": "LIVE",
        "name": "artifacts/3",
        "uri": "gs://bucket/root/job/evaluator/blessing",
        "display_name": "blessing",
        "create_time": "2024-05-01T12:00:00Z",
        "metadata": {"blessed": 1.0},
    }
    base.update(overrides)
    return base


def test_the_blessing_filter_parses_into_its_three_conditions():
    assert parse(BLESSING_FILTER) == Filter(
        BLESSING_FILTER,
        (
            Condition("schema_title", "=", "tfx.ModelBlessing"),
            Condition("state", "=", "LIVE"),
            Condition("metadata.blessed.number_value", "=", 1.0),
        ),
    )


@pytest.mark.parametrize(
    "changed, selected",
    [
        ({}, True),
        ({"metadata": {"blessed": 1}}, True),  # 1 == 1.0
        ({"metadata": {"blessed": 0.0}}, False),
        ({"metadata": {}}, False),  # key missing: no match, no error
        ({"metadata": {"blessed": "1"}}, False),  # a string is not a number_value
        ({"metadata": {"blessed": True}}, False),  # nor is a bool
        ({"schema_title": "tfx.Model"}, False),
        ({"state": "DELETED"}, False),
    ],
)
def test_the_blessing_filter_selects_only_live_blessings_with_blessed_1(changed, selected):
    assert parse(BLESSING_FILTER).matches(record(**changed)) is selected


def test_the_model_filter_selects_the_named_live_model():
    model = record(schema_title="tfx.Model", name="artifacts/17", metadata={})
    flt = parse(MODEL_FILTER)
    assert flt.conditions[-1] == Condition("name", "=", "artifacts/17")
    assert flt.matches(model)
    assert not flt.matches({**model, "name": "artifacts/1"})
    assert not flt.matches({**model, "state": "PENDING"})
    assert not flt.matches({**model, "schema_title": "tfx.ModelBlessing"})


def test_the_compiled_model_filter_is_refused_until_its_placeholder_is_substituted():
    with pytest.raises(LocalRunError) as caught:
        parse(MODEL_FILTER_COMPILED)
    message = str(caught.value)
    assert f"unresolved placeholder {PLACEHOLDER}" in message
    assert f"at character {MODEL_FILTER_COMPILED.index('{{') + 1} " in message
    # Substituting any artifact name makes it parse.
    assert parse(MODEL_FILTER_COMPILED.replace(PLACEHOLDER, "artifacts/1")).conditions[-1].value == "artifacts/1"


@pytest.mark.parametrize(
    "op, expected",
    [("=", [2.0]), ("!=", [1.0, 3.0]), ("<", [1.0]), ("<=", [1.0, 2.0]), (">", [3.0]), (">=", [2.0, 3.0])],
)
def test_every_operator_on_numbers(op, expected):
    flt = parse(f"metadata.score.number_value{op}2")
    assert [x for x in (1.0, 2.0, 3.0) if flt.matches(record(metadata={"score": x}))] == expected


@pytest.mark.parametrize(
    "op, expected",
    [("=", ["b"]), ("!=", ["a", "c"]), ("<", ["a"]), ("<=", ["a", "b"]), (">", ["c"]), (">=", ["b", "c"])],
)
def test_every_operator_on_strings(op, expected):
    flt = parse(f'display_name {op} "b"')
    assert [x for x in "abc" if flt.matches(record(display_name=x))] == expected


@pytest.mark.parametrize(
    "op, expected",
    [("=", ["12:00"]), ("!=", ["11:00", "13:00"]), ("<", ["11:00"]), (">=", ["12:00", "13:00"])],
)
def test_times_compare_as_instants_whatever_their_offset(op, expected):
    # 2024-05-01T14:00:00+02:00 is 12:00 UTC: lexicographic order would put 13:00Z before it.
    flt = parse(f'create_time {op} "2024-05-01T14:00:00+02:00"')
    times = ("11:00", "12:00", "13:00")
    assert [t for t in times if flt.matches(record(create_time=f"2024-05-01T{t}:00.000Z"))] == expected


def test_signed_and_fractional_numbers():
    assert parse("metadata.x.number_value > -1.5").conditions[0].value == -1.5
    assert parse("metadata.x.number_value<=+2e3").conditions[0].value == 2000.0
    assert parse("metadata.x.number_value>-1.5").matches(record(metadata={"x": -1.0}))
    assert not parse("metadata.x.number_value>-1.5").matches(record(metadata={"x": -2}))


def test_quoted_strings_keep_escaped_quotes_and_backslashes():
    flt = parse(r'display_name="say \"hi\" \\ now"')
    assert flt.conditions[0].value == 'say "hi" \\ now'
    assert flt.matches(record(display_name='say "hi" \\ now'))
    assert not flt.matches(record(display_name="say hi now"))


def test_a_quoted_metadata_key_may_hold_any_character():
    flt = parse('metadata."eval: auc".number_value >= 0.7')
    assert flt.conditions[0].metadata_key == "eval: auc"
    assert flt.matches(record(metadata={"eval: auc": 0.75}))
    assert not flt.matches(record(metadata={"eval: auc": 0.5}))
    # A quoted key that is a bare word is the same field as the bare form.
    assert parse('metadata."blessed".number_value=1').conditions == parse(BLESSING_FILTER).conditions[2:]


def test_a_bare_key_may_hold_digits_and_dashes():
    assert parse("metadata.split-2_x.string_value=train").matches(record(metadata={"split-2_x": "train"}))


def test_each_metadata_kind_matches_only_its_json_type():
    values = {"s": "1", "n": 1.0, "b": True}
    assert [k for k in values if parse(f'metadata.{k}.string_value="1"').matches(record(metadata=values))] == ["s"]
    assert [k for k in values if parse(f"metadata.{k}.number_value=1").matches(record(metadata=values))] == ["n"]
    assert [k for k in values if parse(f"metadata.{k}.bool_value=true").matches(record(metadata=values))] == ["b"]
    assert parse("metadata.b.bool_value != false").matches(record(metadata=values))
    assert not parse("metadata.b.bool_value = false").matches(record(metadata=values))


def test_bare_words_and_numbers_compare_as_strings_on_string_fields():
    assert parse("state=LIVE").conditions == (Condition("state", "=", "LIVE"),)
    assert parse("display_name=17").conditions == (Condition("display_name", "=", "17"),)
    assert parse("display_name=17").matches(record(display_name="17"))
    states = ("LIVE", "PENDING", "DELETED", "ABANDONED")
    assert [s for s in states if parse(f"state={s}").matches(record(state="LIVE"))] == ["LIVE"]


def test_star_in_a_string_value_is_a_wildcard_as_on_vertex():
    flt = parse('uri="gs://bucket/*/blessing"')
    assert flt.matches(record())
    assert not flt.matches(record(uri="gs://bucket/root/job/evaluator/model"))
    assert parse('uri!="*/model"').matches(record())


def test_a_record_without_the_field_does_not_match():
    assert not parse('update_time>"2020-01-01T00:00:00Z"').matches(record())
    assert not parse("metadata.blessed.number_value=1").matches({"schema_title": "tfx.ModelBlessing"})


SUBSET = "the local runner implements only comparisons joined by AND"


@pytest.mark.parametrize(
    "text, names, position",
    [
        ("state=LIVE OR state=PENDING", "OR", 12),
        ("NOT state=LIVE", "NOT", 1),
        ("state=LIVE AND NOT name=x", "NOT", 16),
        ("-state=LIVE", "negation with a leading '-'", 1),
        ("(state=LIVE)", "parentheses '('", 1),
        ("state=(LIVE)", "parentheses '('", 7),
        ("state=LIVE)", "parentheses ')'", 11),
        ("name:artifacts", "the has-operator ':'", 5),
        ('in_context("projects/p/contexts/c")', "the function call in_context(...)", 1),
        ('state=LIVE AND parent_contexts_a="c"', "the field parent_contexts_a", 16),
        ("with_history", "the field with_history", 1),
        ("with_history(name)", "the function call with_history(...)", 1),
        ("description=x", "the field description", 1),
        ("STATE=LIVE", "the field STATE", 1),
        ("metadata.blessed=1", "the field metadata.blessed (metadata.KEY needs one of", 1),
        ("metadata.blessed.int_value=1", "the field metadata.blessed.int_value", 1),
        ("metadata.a.b.number_value=1", "the field metadata.a.b", 1),
        ("", "an empty filter", 1),
        ("   ", "an empty filter", 4),
        ("state=LIVE AND", "a dangling AND", 12),
        ("state=LIVE AND  ", "a dangling AND", 12),
        ("AND state=LIVE", "AND with no comparison before it", 1),
        ("state=LIVE and name=x", "'and' where AND or the end of the filter belongs", 12),
        ("state=LIVE name=x", "'name' where AND or the end of the filter belongs", 12),
        ('name="artifacts/1', "an unterminated string", 6),
        ('name="artifacts/1\\"', "an unterminated string", 6),
        ('name="{{$.inputs.parameters[\'x\']}}"', "the unresolved placeholder {{$.inputs.parameters['x']}}", 7),
        ("state", "the end of the filter where an operator (= != < <= > >=) after state belongs", 6),
        ("state==LIVE", "'=' where the value of state= belongs", 7),
        ("state=", "the end of the filter where the value of state= belongs", 7),
        ('metadata.blessed.number_value="1"', 'the value "1" for metadata.blessed.number_value', 31),
        ("metadata.blessed.number_value=one", "the value one for metadata.blessed.number_value", 31),
        ("metadata.ok.bool_value=1", "the value 1 for metadata.ok.bool_value", 24),
        ("metadata.ok.bool_value<true", "the operator < on metadata.ok.bool_value", 24),
        ('create_time>"yesterday"', 'the value "yesterday" for create_time, which needs an RFC 3339 time', 13),
        ('create_time>"2024-05-01T12:00:00"', 'the value "2024-05-01T12:00:00" for create_time', 13),  # no offset
        ("create_time>2024-05-01T12:00:00Z", "the value 2024-05-01T12 (quote it", 13),
        ("name=artifacts/1", "the value artifacts/1 (quote it", 6),
    ],
)
def test_constructs_outside_the_subset_are_refused_by_name_and_position(text, names, position):
    with pytest.raises(LocalRunError) as caught:
        parse(text)
    message = str(caught.value)
    assert f"cannot take {names}" in message
    assert f" at character {position} of {text!r}; " in message
    assert "\n" not in message


def test_the_refusal_lists_the_supported_fields_and_operators():
    with pytest.raises(LocalRunError) as caught:
        parse("state=LIVE OR state=PENDING")
    message = str(caught.value)
    assert SUBSET in message
    assert all(field in message for field in FIELDS)
    assert f"metadata.KEY.{'|'.join(METADATA_KINDS)}" in message
    assert f"with the operators {' '.join(OPERATORS)}" in message
