"""Lexing and parsing: multi-word names, keywords, syntax errors with positions, limits."""

from __future__ import annotations

from decimal import Decimal

import pytest

from decisions.feel import (
    FeelSyntaxError,
    Scope,
    UnknownNameError,
    ast,
    compile_expression,
    compile_unary_tests,
    parse_expression,
)
from decisions.feel.lexer import NameIndex, tokenize

D = Decimal


def _names(text: str, *known: str) -> list[str]:
    return [str(t) for t in tokenize(text, [NameIndex(known)]) if t.type == "NAME"]


def test_known_multi_word_names_are_one_token() -> None:
    assert _names("Monthly Salary * 12", "Monthly Salary") == ["Monthly Salary"]
    assert _names("Loan-to-value > 0.8", "Loan-to-value") == ["Loan-to-value"]
    assert _names("a.b + 1", "a.b") == ["a.b"]


def test_longest_known_name_wins() -> None:
    assert _names("Age of Applicant + Age", "Age", "Age of Applicant") == ["Age of Applicant", "Age"]


def test_unknown_words_merge_into_one_name() -> None:
    assert _names("foo bar + 1") == ["foo bar"]


def test_keywords_end_unknown_names() -> None:
    assert _names("a b and c") == ["a b", "c"]


def test_a_known_name_may_contain_a_keyword() -> None:
    assert _names("for sale and x", "for sale") == ["for sale", "x"]
    assert parse_expression('date and time("2020-01-01T00:00:00")') == ast.Call(
        ast.Name("date and time"), (ast.Literal("2020-01-01T00:00:00"),))


def test_introduced_names_with_spaces() -> None:
    assert parse_expression("{first name: 1, full: first name + 1}") == ast.ContextExpr((
        ("first name", ast.Literal(D(1))),
        ("full", ast.Arithmetic("+", ast.Name("first name"), ast.Literal(D(1)))),
    ))
    assert parse_expression("for each item in [1] return each item") == ast.For(
        (ast.Iteration("each item", ast.ListExpr((ast.Literal(D(1)),))),), ast.Name("each item"))


def test_names_inside_strings_are_not_names() -> None:
    assert _names('"Monthly Salary"', "Monthly Salary") == []


def test_precedence() -> None:
    assert parse_expression("1 + 2 * 3 ** 2") == ast.Arithmetic(
        "+", ast.Literal(D(1)), ast.Arithmetic("*", ast.Literal(D(2)), ast.Arithmetic(
            "**", ast.Literal(D(3)), ast.Literal(D(2)))))
    assert parse_expression("a or b and c", Scope(["a", "b", "c"])) == ast.Or(
        ast.Name("a"), ast.And(ast.Name("b"), ast.Name("c")))
    assert parse_expression("x between 1 and 2 and y", Scope(["x", "y"])) == ast.And(
        ast.Between(ast.Name("x"), ast.Literal(D(1)), ast.Literal(D(2))), ast.Name("y"))


def test_instance_of_types() -> None:
    node = parse_expression("x instance of function<number, list<string>> -> context<a: date and time>", Scope(["x"]))
    assert isinstance(node, ast.InstanceOf)
    assert node.type.name == "function"
    assert [a.name for a in node.type.args] == ["number", "list"]
    assert node.type.result == ast.TypeNode("context", fields=(("a", ast.TypeNode("date and time")),))


SYNTAX_ERRORS: list[tuple[str, int, str]] = [
    ("1 +", 3, "unexpected end of text at position 3; expected an expression"),
    ("(1 + 2", 6, "unexpected end of text"),
    ("1 + 2)", 5, "unexpected ')' at position 5"),
    ("if x then 1", 11, "expected 'else'"),
    ("[1, 2", 5, "expected"),
    ("f(a: 1, 2)", 8, "unexpected number 2 at position 8"),
    ('"abc', 0, "unterminated string"),
    ("1 /* x", 2, "unterminated comment"),
    ("1 # 2", 2, "unexpected character '#' at position 2"),
    ('"\\u12"', 1, "invalid escape"),
    ("function(a, a) a", 0, "duplicate parameter 'a'"),
    ("x instance of foo", 14, "unknown type 'foo'"),
    ("", 0, "empty expression"),
]


@pytest.mark.parametrize(("text", "position", "message"), SYNTAX_ERRORS)
def test_syntax_errors_are_located(text: str, position: int, message: str) -> None:
    with pytest.raises(FeelSyntaxError) as info:
        compile_expression(text, Scope(["x", "f"]))
    assert info.value.position == position
    assert message in info.value.message
    assert info.value.text == text


def test_syntax_error_line_and_column() -> None:
    with pytest.raises(FeelSyntaxError) as info:
        compile_expression("1 +\n  2 +\n  )")
    assert (info.value.line, info.value.column) == (3, 3)
    assert info.value.to_problem().location.position == info.value.position


def test_unknown_names_are_compile_errors() -> None:
    with pytest.raises(UnknownNameError) as info:
        compile_expression("Salary * 2", Scope(["Salry"]))
    assert info.value.name == "Salary"
    assert info.value.position == 0


def test_unknown_names_are_allowed_inside_filters_and_when_not_strict() -> None:
    compile_expression("people[age > 18]", Scope(["people"]))
    compiled = compile_expression("x + 1", Scope([], strict=False))
    assert compiled.evaluate({"x": 1}) == 2
    assert compiled.evaluate({}) is None


def test_unary_tests_errors() -> None:
    with pytest.raises(FeelSyntaxError) as info:
        compile_unary_tests("< ")
    assert "expected an expression" in info.value.message
    with pytest.raises(FeelSyntaxError):
        compile_unary_tests("not()")


def test_deep_nesting_is_a_syntax_error_not_a_crash() -> None:
    for text in ["(" * 5000, "(" * 5000 + "1" + ")" * 5000, "[" * 3000 + "]" * 3000, "{a:" * 2000 + "1" + "}" * 2000]:
        with pytest.raises(FeelSyntaxError) as info:
            compile_expression(text)
        assert "nested too deeply" in info.value.message


def test_long_operator_chains_are_a_syntax_error_not_a_crash() -> None:
    assert compile_expression("-" * 5000 + "1").evaluate() == 1  # negated literals fold
    for text in ["1" + " + 1" * 5000, "-" * 5000 + "x", "not(" * 60 + "true" + ")" * 60 + " and x" * 2000]:
        with pytest.raises(FeelSyntaxError):
            compile_expression(text, Scope(["x"]))


def test_reasonable_chains_compile() -> None:
    assert compile_expression("1" + " + 1" * 99).evaluate() == 100
    assert compile_expression("(" * 40 + "1" + ")" * 40).evaluate() == 1


def test_lone_exclamation_mark_is_a_syntax_error() -> None:
    with pytest.raises(FeelSyntaxError) as info:
        compile_expression("1 ! 2")
    assert info.value.position == 2
