"""DMN 1.5, 10.3.1 (grammar): literals, names and comments, production by production.

Numbered references are to the grammar rules of 10.3.1.2 (e.g. rule 37, numeric literal).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from decisions.feel import FeelSyntaxError, Scope, compile_expression, values
from tests.feel.helpers import ev, run, same

D = Decimal


# --- numeric literal: [ "-" ] , ( digits , [ ".", digits ] | "." , digits ) ----------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("0", D(0)),
    ("42", D(42)),
    ("3.14", D("3.14")),
    (".5", D("0.5")),          # "." , digits
    ("0.5", D("0.5")),
    ("007", D(7)),            # leading zeros are digits like any other
    ("-5", D(-5)),            # unary minus
    ("- 5", D(-5)),
    ("--5", D(5)),            # unary minus applies to a unary expression
    ("-(2 + 3)", D(-5)),
    ("-.5", D("-0.5")),
])
def test_numeric_literals(text: str, expected: Decimal) -> None:
    assert same(ev(text), expected)


@pytest.mark.parametrize(("text", "expected"), [
    ("1e3", D(1000)),
    ("1E3", D(1000)),
    ("1e+3", D(1000)),
    ("1.5e-3", D("0.0015")),
    (".5E2", D(50)),
    ("2e0", D(2)),
    ("-1e2", D(-100)),
    ("1e-6176", D("1E-6176")),
    ("12345678901234567890123456789012345e-35", D("0.1234567890123456789012345678901234")),
])
def test_numeric_literals_with_an_exponent(text: str, expected: Decimal) -> None:
    # DMN 1.5 rule 35 adds an optional exponent: ("e" | "E"), ["+" | "-"], digits.
    assert same(ev(text), expected)


def test_an_exponent_literal_is_the_number_it_denotes() -> None:
    assert ev("1e3 = 1000") is True
    assert ev("string(1.5e3)") == "1500"
    assert ev("2.5e-1 * 4") == 1
    from tests.feel.helpers import test_matches

    assert test_matches("[1e2..1e3]", D(500)) is True
    assert test_matches("< 1e-3", D("0.0001")) is True
    assert test_matches("1e2, 2e2", D(200)) is True


def test_an_exponent_beyond_the_decimal128_range_is_a_syntax_error() -> None:
    with pytest.raises(FeelSyntaxError):
        compile_expression("1e6145")


@pytest.mark.parametrize("text", ["1.", "1..", "1e", "1e+", "0x10", "1 000"])
def test_forms_outside_the_numeric_literal_production_are_syntax_errors(text: str) -> None:
    # A number needs digits after its decimal point and after its exponent mark; no hex.
    with pytest.raises(FeelSyntaxError):
        compile_expression(text)


def test_e_after_a_number_and_a_space_is_a_name() -> None:
    assert ev("e * 2", e=3) == 6
    assert ev("2 * e", e=3) == 6


def test_numbers_carry_34_significant_digits() -> None:
    # 10.3.2.3.1: FEEL numbers are IEEE 754-2008 Decimal128, 34 digits, round half even.
    third = ev("1 / 3")
    assert third == D("0." + "3" * 34)
    assert ev("2 / 3") == D("0." + "6" * 33 + "7")
    assert ev("0.1 + 0.2 = 0.3") is True


def test_a_literal_with_more_than_34_digits_is_rounded_half_even() -> None:
    # 35 significant digits cannot be represented: the literal rounds to 34 (ties to even).
    assert ev("12345678901234567890123456789012345") == D("1.234567890123456789012345678901234E+34")
    assert ev("12345678901234567890123456789012335") == D("1.234567890123456789012345678901234E+34")
    assert ev("12345678901234567890123456789012345 = 12345678901234567890123456789012340") is True
    assert ev("0.12345678901234567890123456789012345") == D("0.1234567890123456789012345678901234")


def test_34_digit_literals_are_exact() -> None:
    text = "1234567890123456789012345678901234"
    assert ev(text) == D(text)
    assert ev(text + " + 1") == D("1234567890123456789012345678901235")


def test_negative_34_digit_literals_keep_every_digit() -> None:
    from tests.feel.helpers import test_matches

    text = "1234567890123456789012345678901234"
    assert ev("-" + text) == D("-" + text)
    assert ev("-(" + text + ")") == D("-" + text)
    assert test_matches("-" + text, D("-" + text)) is True
    assert test_matches("-" + text, D("-1234567890123456789012345678901233")) is False
    assert test_matches("[-" + text + "..0]", D("-" + text)) is True


def test_decimal128_addition_rounds_half_even() -> None:
    assert ev("1234567890123456789012345678901234 + 0.5") == D("1234567890123456789012345678901234")
    assert ev("1234567890123456789012345678901235 + 0.5") == D("1234567890123456789012345678901236")


# --- string literal: '"' , { character - ('"' | vertical space) | string escape sequence } , '"' ---


@pytest.mark.parametrize(("text", "expected"), [
    ('""', ""),
    ('"abc"', "abc"),
    (r'"a\"b"', 'a"b'),
    (r'"a\\b"', "a\\b"),
    (r'"a\nb"', "a\nb"),
    (r'"a\rb"', "a\rb"),
    (r'"a\tb"', "a\tb"),
    (r'"a\'b"', "a'b"),
    ("\"it's\"", "it's"),
    (r'"\u0041"', "A"),
    (r'"\u00e9"', "é"),
    (r'"\u00E9"', "é"),
    (r'"\U01F40E"', "\U0001F40E"),
    (r'"\uD83D\uDC0E"', "\U0001F40E"),   # a UTF-16 surrogate pair is one character
    (r'"x\ud83d\udc0ey"', "x\U0001F40Ey"),
    ('"\U0001F40E"', "\U0001F40E"),
    ('"日本語"', "日本語"),
    (r'"\\n"', "\\n"),                  # an escaped backslash followed by n
])
def test_string_literals_and_escapes(text: str, expected: str) -> None:
    assert ev(text) == expected


def test_a_surrogate_pair_counts_as_one_character() -> None:
    assert ev(r'string length("\uD83D\uDC0E")') == 1
    assert ev(r'string length("\U01F40E")') == 1
    assert ev(r'"\uD83D\uDC0E" = "\U01F40E"') is True


@pytest.mark.parametrize("text", [r'"\u12"', r'"\u12G4"', r'"\U01F4"', r'"\U110000"', '"abc', r'"abc\"'])
def test_malformed_string_literals_are_syntax_errors(text: str) -> None:
    with pytest.raises(FeelSyntaxError):
        compile_expression(text)


def test_lenient_string_forms_beyond_the_grammar() -> None:
    # Rule 35 excludes vertical space and knows no other escapes; the engine keeps both, as
    # models written for other engines use them (multi-line text, `matches(x, "\d+")`).
    assert ev('"a\nb"') == "a\nb"
    assert ev(r'"\d+"') == "\\d+"
    assert ev(r'matches("123", "^\d+$")') is True


def test_strings_are_compared_by_their_characters() -> None:
    assert ev(r'"\u0041BC" = "ABC"') is True
    assert ev(r'"a" < "b"') is True


# --- boolean literal, null literal -------------------------------------------------------


def test_boolean_and_null_literals() -> None:
    assert ev("true") is True
    assert ev("false") is False
    assert ev("null") is None
    assert ev("true = true") is True
    assert ev("null = null") is True


# --- date time literal: "@" , string literal -------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ('@"2021-01-02"', dt.date(2021, 1, 2)),
    ('@"10:30:00"', dt.time(10, 30)),
    ('@"2021-01-02T10:30:00"', dt.datetime(2021, 1, 2, 10, 30)),
    ('@"P1DT2H"', values.DayTimeDuration.of(days=1, hours=2)),
    ('@"P1Y2M"', values.YearMonthDuration(14)),
    ('@"-P3M"', values.YearMonthDuration(-3)),
])
def test_at_literals_denote_temporal_values(text: str, expected: object) -> None:
    assert same(ev(text), expected)


def test_at_literals_equal_the_conversion_functions() -> None:
    assert ev('@"2021-01-02" = date("2021-01-02")') is True
    assert ev('@"10:30:00Z" = time("10:30:00Z")') is True
    assert ev('@"2021-01-02T10:30:00@Europe/Paris" = date and time("2021-01-02T10:30:00@Europe/Paris")') is True
    assert ev('@"P1D" = duration("P1D")') is True


def test_an_at_literal_of_no_temporal_value_is_null_with_a_problem() -> None:
    value, problems = run('@"not a date"')
    assert value is None and problems
    assert ev('@"2021-02-30"') is None


def test_unary_minus_applies_to_at_literals_and_nothing_else() -> None:
    assert ev('-@"P1D" = @"-P1D"') is True
    assert ev('-@"P1Y" = @"-P1Y"') is True
    value, problems = run('-"a"')
    assert value is None and problems
    assert ev("-null") is None


def test_at_needs_a_string_literal() -> None:
    with pytest.raises(FeelSyntaxError):
        compile_expression("@2021")


# --- names (rules 27-30) ---------------------------------------------------------------------


@pytest.mark.parametrize("name", [
    "Monthly Salary", "Loan-to-value", "a/b", "per.cent", "O'Neil", "x+y", "a*b", "_private",
    "café", "größe", "日本", "Straße Nummer", "x1", "a’b",
    "cafe\u0301", "a\u00b7b", "x\u203fy", "Ωmega", "_",
])
def test_names_with_spaces_unicode_and_additional_name_symbols(name: str) -> None:
    # Rule 30: additional name symbols are "." "/" "-" "’" "+" "*"; rule 28 name start chars
    # include letters beyond ASCII.
    assert ev(name + " * 2", **{name: 21}) == 42


@pytest.mark.parametrize(("text", "expected"), [
    ("{a-b: 1, c: a-b}.c", D(1)),
    ("{x/y: 2, z: x/y}.z", D(2)),
    ("{a+b: 1, c: a+b}.c", D(1)),
    ("{a*b: 2, c: a*b}.c", D(2)),
    ("{a.b: 3, c: a.b}.c", D(3)),
    ("{a: 5, b: 3, c: a-b}.c", D(2)),             # no entry `a-b`: a minus b
    ("{a: 1, paid in full: 2, c: paid in full}.c", D(2)),
    ("for a-b in [1, 2] return a-b * 10", [D(10), D(20)]),
    ("for i in [1], x.y in [2] return i + x.y", [D(3)]),
    ("some a/b in [1, 2] satisfies a/b > 1", True),
    ("every n° in [1, 2] satisfies n° > 0", True),
    ("(function(x-y) x-y * 2)(5)", D(10)),
])
def test_names_the_text_introduces_may_hold_name_symbols(text: str, expected: object) -> None:
    # Context keys, iteration variables and parameters are names like any other (rule 30).
    assert same(ev(text), expected)


def test_spaces_inside_a_name_are_normalised() -> None:
    assert ev("Monthly   Salary + 1", **{"Monthly Salary": 1}) == 2


def test_a_name_symbol_between_unknown_words_is_an_operator() -> None:
    assert ev("a-b", a=5, b=3) == 2
    assert ev("a/b", a=6, b=3) == 2


def test_question_mark_names_the_input_of_unary_tests() -> None:
    from tests.feel.helpers import test_matches

    assert test_matches("? > 5", 7) is True
    assert test_matches("? > 5", 3) is False
    assert test_matches("count(?) = 2", [1, 2]) is True


def test_names_with_a_keyword_inside() -> None:
    assert ev("date of birth", **{"date of birth": "x"}) == "x"
    assert ev("{end of period: 3}.end of period") == 3


def test_an_unknown_name_is_a_compile_error_in_a_closed_scope() -> None:
    with pytest.raises(FeelSyntaxError):
        compile_expression("nobody + 1", Scope(["somebody"]))


# --- white space (grammar rules 4-5) ---------------------------------------------------------------


@pytest.mark.parametrize("space", ["\t", "\n", "\r", "\u000b", "\u000c", "\u00a0", "\u1680", "\u180e",
                                   "\u2000", "\u200a", "\u200b", "\u2028", "\u2029", "\u202f", "\u205f",
                                   "\u3000", "\ufeff", "\u0085"])
def test_every_white_space_character_separates_tokens(space: str) -> None:
    assert ev(f"{space}1{space}+{space}2{space}") == 3
    assert ev(f"[1,{space}2]") == [1, 2]


def test_white_space_inside_a_name_is_one_space() -> None:
    assert ev("Monthly\u200bSalary + Monthly\u00a0Salary", **{"Monthly Salary": 1}) == 2


# --- comments: anywhere white space is allowed --------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("1 + /* two */ 2", D(3)),
    ("1 + 2 // the sum", D(3)),
    ("// leading line\n1 + 2", D(3)),
    ("/* multi\nline\n*/ 1 + 2", D(3)),
    ("1/*no space*/+2", D(3)),
    ("[1, /* b */ 2, 3 // last\n]", [D(1), D(2), D(3)]),
    ("{a: 1, // the first\n b: a + 1 /* the second */}.b", D(2)),
    ("if /* c */ true then 1 else 2", D(1)),
    ('"a // not a comment"', "a // not a comment"),
    ('"a /* not */ b"', "a /* not */ b"),
    ("6 / /* division, not a comment */ 3", D(2)),
    ("for x in [1, 2] /* c */ return x * 2", [D(2), D(4)]),
])
def test_comments(text: str, expected: object) -> None:
    assert same(ev(text), expected)


def test_an_unterminated_block_comment_is_a_syntax_error() -> None:
    with pytest.raises(FeelSyntaxError):
        compile_expression("1 + /* open")


def test_a_comment_separates_the_words_of_an_unknown_name() -> None:
    # `a /* c */ b` are two words of one name, as with a space between them.
    assert ev("a /* c */ b", **{"a b": 7}) == 7
