"""Scoring decisions: translation to sympy, refusals, exact evaluation, reason codes, symbolic checks."""

from __future__ import annotations

from decimal import Decimal

import pytest
import sympy

from decisions import feel
from decisions.scoring import CompiledScoring
from tests.decisions.scoring_models import scoring_model

INPUTS = {"a": Decimal(3), "b": Decimal("0.5")}

CONSTRUCTS = [
    "a + b", "a - b", "a * b", "a / b", "a ** b", "a ** 2", "b ** -2", "-a", "- (a - b)", "abs(b - a)",
    "sqrt(a)", "exp(b)", "log(a)", "min(a, b)", "max(a, b, 4)", "min(a, 2 * b) + max(1, b)",
    "if a > b then a else b", "if a < b then a else b", "if a >= 3 and b <= 0.5 then 1 else 2",
    "if a = 4 or b != 0.5 then 1 else 2", "if a = 3 then 10 else 20", "1.25 * a + 7",
    "k * a + base", "if a > k then base else -base",
]


def scoring_of(model: object) -> CompiledScoring:
    logic = model.decisions["S"].logic  # type: ignore[attr-defined]
    assert logic.scoring is not None
    return logic.scoring  # type: ignore[no-any-return]


@pytest.mark.parametrize("text", CONSTRUCTS)
def test_each_construct_is_exact_and_translates(text: str) -> None:
    constants = {"k": "2", "base": "600"}
    model = scoring_model(text, constants=constants)
    result = model.evaluate({"a": 3, "b": 0.5})
    literal = feel.evaluate(text, {**INPUTS, "k": Decimal(2), "base": Decimal(600)})
    assert type(literal) is Decimal
    assert result.outputs["S"] == literal  # the exact path is the FEEL literal expression
    assert result.problems == []
    scoring = scoring_of(model)
    point = {scoring.symbols[name]: sympy.Rational(str(value)) for name, value in INPUTS.items()
             if name in scoring.symbols}
    for expr in (scoring.expr, scoring.raw):  # the sympy translation gives the same number
        assert float(sympy.N(expr.subs(point), 30)) == pytest.approx(float(literal), rel=1e-12)


def test_nulls_follow_feel_in_the_exact_path() -> None:
    model = scoring_model("a * b + 1")
    assert model.evaluate({"a": None, "b": 2}).outputs["S"] is None
    assert model.evaluate({"a": 1, "b": 2}).outputs["S"] == Decimal(3)
    conditional = scoring_model("if a > 1 then b else 7")
    assert conditional.evaluate({"a": None, "b": 2}).outputs["S"] == Decimal(7)  # null condition: else
    assert conditional.evaluate({"a": 2, "b": None}).outputs["S"] is None
    missing = conditional.evaluate({"a": 5})
    assert missing.outputs["S"] is None
    assert [p.code for p in missing.problems] == ["missing-input"]


REFUSALS = [
    ('a + "x"', 4, "a string is not allowed"),
    ("a + floor(b)", 4, "the function 'floor' is not allowed"),
    ("sum([a, b])", 0, "the function 'sum' is not allowed"),
    ("a * [1, 2]", 4, "a list is not allowed"),
    ("a + {x: 1}.x", 11, "a path is not allowed"),
    ("{x: a}", 0, "a context is not allowed"),
    ("a + null", 4, "null is not allowed"),
    ("if true then a else b", 3, "a boolean is not allowed in the condition"),
    ("if a in [1..3] then a else b", 5, "in is not allowed in the condition"),
    ("a > b", 2, "a condition is allowed only after 'if'"),
    ("min(a)", 0, "min needs two or more numbers"),
    ("abs(a, b)", 0, "abs takes one number, not 2"),
    ("abs(n: a)", 0, "named arguments"),
    ("a + (if a > 1 then b else \"no\")", 26, "a string is not allowed"),
]


@pytest.mark.parametrize(("text", "position", "message"), REFUSALS)
def test_each_disallowed_construct_is_a_located_error(text: str, position: int, message: str) -> None:
    model = scoring_model(text)
    [problem] = model.errors
    assert message in problem.message
    assert problem.location.element == "S"
    assert problem.location.path == "scoring"
    assert problem.location.text == text
    assert problem.location.position == position
    assert problem.code == "scoring"


def test_the_refusal_reads_as_a_check_error() -> None:
    model = scoring_model('a + "x"')
    assert [str(p) for p in model.errors] == ["error: 'S', scoring, position 4: 'a + \"x\"': a string is not allowed in a " \
        "scoring expression; only numbers"]
    result = model.evaluate({"a": 1, "b": 2})  # the decision gives null, and says why
    assert result.outputs["S"] is None and result.problems == model.errors


def test_reason_codes_on_a_known_case() -> None:
    # S = 2a - 3b + ab; at a=4, b=2: 10. With a at its baseline 1: -2 (contribution 12);
    # with b at its baseline 0: 8 (contribution 2).
    model = scoring_model("2 * a - 3 * b + a * b", baseline={"a": 1, "b": 0})
    result = model.evaluate({"a": 4, "b": 2})
    assert result.outputs["S"] == Decimal(10)
    assert [(r.input, r.value, r.baseline, r.contribution) for r in result.reasons["S"]] == [
        ("a", Decimal(4), Decimal(1), Decimal(12)), ("b", Decimal(2), Decimal(0), Decimal(2))]
    assert result.to_json()["reasons"] == {"S": [
        {"input": "a", "value": 4, "baseline": 1, "contribution": 12},
        {"input": "b", "value": 2, "baseline": 0, "contribution": 2}]}
    top_one = scoring_model("2 * a - 3 * b + a * b", baseline={"a": 1, "b": 0}, reasons=1)
    assert [r.input for r in top_one.evaluate({"a": 4, "b": 2}).reasons["S"]] == ["a"]
    # an input at its baseline moved nothing and is left out; a null input gives no reason
    assert [r.input for r in model.evaluate({"a": 1, "b": 2}).reasons["S"]] == ["b"]
    assert model.evaluate({"a": None, "b": 2}).reasons["S"] == []


def test_negative_contributions_rank_by_size() -> None:
    model = scoring_model("a - 10 * b", baseline={"a": 0, "b": 0})
    reasons = model.evaluate({"a": 3, "b": 1}).reasons["S"]
    assert [(r.input, r.contribution) for r in reasons] == [("b", Decimal(-10)), ("a", Decimal(3))]


def test_monotonicity_is_proved_symbolically() -> None:
    model = scoring_model("100 + 60 * log(a / 1000) - 200 * b / a", monotonic={"a": "increasing", "b": "decreasing"},
                          domain={"a": [500, 100000], "b": [0, 50000]})
    assert model.problems == []


def test_a_monotonicity_violation_has_a_counterexample() -> None:
    model = scoring_model("(a - 5) ** 2 + b", monotonic={"a": "increasing"}, domain={"a": [0, 10]})
    [problem] = model.problems
    assert problem.severity == "error" and problem.code == "scoring-monotonic"
    assert problem.location.element == "S" and problem.location.path == "monotonic.a"
    assert "declared increasing in 'a', but at a = 0" in problem.message
    assert "falls as 'a' rises (slope -10)" in problem.message


def test_a_jump_the_wrong_way_is_found_by_sampling() -> None:
    model = scoring_model("if a > 5 then b else b + 1", monotonic={"a": "increasing"},
                          domain={"a": [0, 10], "b": [0, 1]})
    [problem] = model.problems
    assert problem.severity == "error" and problem.code == "scoring-monotonic"
    assert "the score goes from" in problem.message and "when 'a' goes from" in problem.message
    # the counterexample is real: step across 5 and the score falls by 1
    assert model.evaluate({"a": 5, "b": 0}).outputs["S"] - model.evaluate({"a": 6, "b": 0}).outputs["S"] == 1


def test_decreasing_violation_and_unproved_but_sampled() -> None:
    rising = scoring_model("a + b", monotonic={"a": "decreasing"}, domain={"a": [0, 1]})
    [problem] = rising.problems
    assert problem.code == "scoring-monotonic" and "rises as 'a' rises (slope 1)" in problem.message
    unproved = scoring_model("if b > 0 then a else 2 * a", monotonic={"a": "increasing"},
                             domain={"a": [0, 10], "b": [-1, 1]})
    [note] = unproved.problems
    assert note.severity == "info" and note.code == "scoring-sampled"
    assert "not proved symbolically" in note.message and "found no counterexample" in note.message


def test_domain_where_the_score_is_undefined() -> None:
    logarithm = scoring_model("log(a) + b", domain={"a": [0, 10]})
    [problem] = logarithm.problems
    assert problem.code == "scoring-domain" and problem.severity == "error"
    assert problem.location.path == "domain"
    assert "undefined at a = 0" in problem.message and "the logarithm of a" in problem.message
    division = scoring_model("1 / (a - 5)", domain={"a": [0, 10]})
    [problem] = division.problems
    assert "undefined at a = 5" in problem.message and "division by zero" in problem.message
    assert scoring_model("sqrt(a) + 1 / (a + 1)", domain={"a": [0, 10]}).problems == []
    assert scoring_model("log(a)", domain={"a": [1, 10]}).problems == []


def test_inputs_outside_the_domain_are_scored_with_a_warning() -> None:
    model = scoring_model("a + b", domain={"a": [0, 10]})
    inside = model.evaluate({"a": 10, "b": 1})
    assert inside.outputs["S"] == Decimal(11) and inside.problems == []
    outside = model.evaluate({"a": 11, "b": 1})
    assert outside.outputs["S"] == Decimal(12)
    [warning] = outside.problems
    assert warning.code == "outside-domain" and warning.severity == "warning"
    assert warning.location.path == "domain.a" and "outside the domain [0, 10]" in warning.message


@pytest.mark.parametrize(("declarations", "message", "path"), [
    ({"baseline": {"c": 1}}, "baseline names 'c', which the scoring expression does not read", "baseline.c"),
    ({"monotonic": {"c": "increasing"}}, "monotonic names 'c'", "monotonic.c"),
    ({"domain": {"a": [5, 1]}}, "the domain of 'a' is empty: 5 > 1", "domain.a"),
    ({"domain": {"a": [0, 1]}, "baseline": {"a": 2}}, "the baseline of 'a', 2, is outside its domain [0, 1]",
     "baseline.a"),
    ({"constants": {"a": 1}}, "the constant 'a' has the name of an element of the model", "constants.a"),
])
def test_declarations_that_do_not_fit_are_errors(declarations: dict[str, object], message: str, path: str) -> None:
    [problem] = scoring_model("a + b", inputs=("a", "b", "c"), **declarations).errors
    assert message in problem.message
    assert problem.location.element == "S" and problem.location.path == path


def test_an_operand_guarded_by_an_if_is_not_reported() -> None:
    # log(a) is undefined at a = 0, but there the `else` branch answers
    assert scoring_model("if a > 0 then log(a) else 0", domain={"a": [0, 10]}).problems == []
    assert scoring_model("if a > 0 then log(a) else 0", domain={"a": [0, 10]}).evaluate(
        {"a": 0, "b": 1}).outputs["S"] == 0
