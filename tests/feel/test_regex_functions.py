"""FEEL `matches`, `replace`, `split`: XPath regular expressions on an engine that cannot hang."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from decisions.feel.builtins import xpath_regex
from decisions.feel.builtins.strings import _replace, _split
from decisions.feel.env import Env

from .helpers import run, same


def within(seconds: float, text: str) -> tuple[Any, list[str]]:
    """Evaluates `text` in a thread; fails if it has not finished after `seconds`."""
    result: list[tuple[Any, list[str]]] = []

    def work() -> None:
        value, problems = run(text)
        result.append((value, [p.message for p in problems]))

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    thread.join(seconds)
    assert result, f"{text} did not finish within {seconds} s"
    return result[0]


HOSTILE = [
    ('matches("' + "a" * 36 + '!", "(a+)+$")', False),
    ('matches("' + "a" * 100 + '!", "(a+)+$")', False),
    ('matches("' + "a" * 60 + '!", "(a|aa)+$")', False),
    ('matches("' + "a" * 30 + '", "(.*a){20}")', True),
    ('matches("' + "a" * 30 + '!", "^(.*a){20}$")', False),
    ('replace("' + "a" * 50 + '!", "(a|aa)+$", "x")', "a" * 50 + "!"),
    ('split("' + "a" * 50 + '!", "(a+)+b")', ["a" * 50 + "!"]),
]


@pytest.mark.parametrize(("text", "expected"), HOSTILE)
def test_hostile_patterns_finish(text: str, expected: Any) -> None:
    value, problems = within(5, text)
    assert same(value, expected), value
    assert problems == []


def test_back_references_are_bounded_in_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(xpath_regex, "BACKTRACKING_SECONDS", 0.2)
    xpath_regex._compile.cache_clear()
    value, problems = within(5, 'matches("x' + "a" * 30 + '!", "(x)(.*a){20}\\1")')
    assert value is None
    assert "back-references" in problems[0] and "exponential" in problems[0]


def test_large_input_with_simple_patterns() -> None:
    text = ("hello world " * 90000)[:1_000_000]
    assert len(_split(text, " ")) == 166667
    assert _replace(Env(), text, "o", "0").count("0") == text.count("o")
    assert _replace(Env(), text, "(w)orld", "$1").count("w") == text.count("w")
    assert run('matches(x, "world $")', {"x": text})[0] is False
    assert run('matches(x, "^(hello |world )+hell$")', {"x": text})[0] is True


FLAGS = [
    ('matches("Mary\\u000AJones", "Mary.Jones")', False),
    ('matches("Mary\\u000DJones", "Mary.Jones")', False),
    ('matches("Mary\\u000AJones", "Mary.Jones", "s")', True),
    ('matches("a\\nb", "^b$")', False),
    ('matches("a\\nb", "^b$", "m")', True),
    ('matches("a\\n", "a$")', False),
    ('matches("a\\n", "a$", "m")', True),
    ('matches("FooBar", "foobar", "i")', True),
    ('matches("FooBar", "foobar")', False),
    ('matches("hello world", "hello world", "x")', False),
    ('matches("helloworld", "hello world", "x")', True),
    ('matches("hello world", "hello[ ]world", "x")', True),
    ('matches("hello world", "hello\\ sworld", "x")', True),
    ('matches("a.b", "a.b", "q")', True),
    ('matches("axb", "a.b", "q")', False),
    ('matches("A.B", "a.b", "qi")', True),
    ('matches("a b", "a b", "qx")', True),
    ('replace("a.b.c", ".", "$1", "q")', "a$1b$1c"),
    ('matches("abc", "ABC", "smix")', True),
]


@pytest.mark.parametrize(("text", "expected"), FLAGS)
def test_flags(text: str, expected: Any) -> None:
    value, problems = run(text)
    assert same(value, expected), value
    assert problems == []


CLASSES = [
    ('matches("e", "^[a-z-[aeiou]]$")', False),
    ('matches("b", "^[a-z-[aeiou]]$")', True),
    ('matches("b", "^[a-z-[a-d-[c]]]$")', False),
    ('matches("c", "^[a-z-[a-d-[c]]]$")', True),
    ('matches("O", "[A-Z-[OI]]", "i")', False),
    ('matches("x", "[A-Z-[OI]]", "i")', True),
    ('matches("\\u0663", "^\\d$")', True),
    ('matches("a_b", "^\\w+$")', False),
    ('matches("\\u00E9t\\u00E9", "^\\w+$")', True),
    ('matches("a\\tb", "a\\sb")', True),
    ('matches("a\\u000Cb", "a\\sb")', False),
    ('matches("x:name-1", "^\\i\\c*$")', True),
    ('matches("1abc", "^\\i")', False),
    ('matches("1", "\\I")', True),
    ('matches("\\u00E9", "\\p{IsBasicLatin}")', False),
    ('matches("\\u00E9", "\\p{IsLatin-1Supplement}")', True),
    ('matches("\\u00E9", "\\p{Ll}")', True),
    ('matches("\\u00E9", "\\P{L}")', False),
    ('matches("\\u0378", "\\p{Cn}")', True),
    ('matches("-", "[\\p{Pd}x]")', True),
    ('matches("[", "[\\[]")', True),
]


@pytest.mark.parametrize(("text", "expected"), CLASSES)
def test_character_classes(text: str, expected: Any) -> None:
    value, problems = run(text)
    assert same(value, expected), value
    assert problems == []


REPLACE = [
    ('replace("abcd", "(ab)|(a)", "[1=$1][2=$2]")', "[1=ab][2=]cd"),
    ('replace("abc", "(b)", "[$0|$1]")', "a[b|b]c"),
    ('replace("abc", "(b)", "$12")', "ab2c"),
    ('replace("abc", "b", "\\\\$")', "a$c"),
    ('replace("abc", "b", "\\\\\\\\")', "a\\c"),
    ('replace("abc", "(b)", "$2")', "ac"),
    ('replace("aXbXc", "x", "-", "i")', "a-b-c"),
]


@pytest.mark.parametrize(("text", "expected"), REPLACE)
def test_replace(text: str, expected: Any) -> None:
    value, problems = run(text)
    assert same(value, expected), value
    assert problems == []


SPLIT = [
    ('split("John Doe", "\\s")', ["John", "Doe"]),
    ('split("a;b;c;;", ";")', ["a", "b", "c", "", ""]),
    ('split(";a;b", ";")', ["", "a", "b"]),
    ('split("a1b22c", "\\d+")', ["a", "b", "c"]),
    ('split("a1b", "(\\d)")', ["a", "b"]),
    ('split("abc", ";")', ["abc"]),
    ('split("", ";")', []),
]


@pytest.mark.parametrize(("text", "expected"), SPLIT)
def test_split(text: str, expected: Any) -> None:
    value, problems = run(text)
    assert same(value, expected), value
    assert problems == []


ERRORS = [
    ('matches("abc", "(")', "invalid regular expression"),
    ('matches("abc", "[a-")', "unterminated character class"),
    ('matches("abc", "[z-a]")', "out of order"),
    ('matches("abc", "[]")', "empty character class"),
    ('matches("abc", "\\\\")', "trailing backslash"),
    ('matches("abc", "\\q")', "unknown escape"),
    ('matches("abc", "(?i)abc")', "non-capturing"),
    ('matches("abc", "\\p{Greek}")', "unsupported character property"),
    ('matches("abc", "\\p{IsGreek}")', "unsupported character property"),
    ('matches("abc", "(a)\\2")', "back-reference \\2"),
    ('matches("abc", "(a\\1)")', "back-reference \\1"),
    ('matches("abc", "(a)[\\1]")', "back reference in a character class"),
    ('matches("abc", "a", "z")', "invalid regular expression flag 'z'"),
    ('matches("abc", "a", "g")', "the flags are s, m, i, x and q"),
    ('replace("abc", "b", "\\\\")', "a backslash must be followed by"),
    ('replace("abc", "b", "$")', "'$' must be followed by a group number"),
    ('replace("abc", "b", "$x")', "'$' must be followed by a group number"),
    ('replace("abc", "x*", "y")', "matches the empty string"),
    ('replace("abc", "", "y")', "matches the empty string"),
    ('split("abc", "x*")', "matches the empty string"),
    ('split("abc", "^")', "matches the empty string"),
]


@pytest.mark.parametrize(("text", "message"), ERRORS)
def test_errors_give_null_and_say_why(text: str, message: str) -> None:
    value, problems = run(text)
    assert value is None
    assert len(problems) == 1 and message in problems[0].message, problems


def test_back_references_run_with_the_same_meaning() -> None:
    assert run('matches("aA", "(a)\\1", "i")')[0] is True
    assert run('matches("abab", "^(ab)\\1$")')[0] is True
    assert run('matches("abba", "^(ab)\\1$")')[0] is False
    assert same(run('replace("aabbcd", "(.)\\1", "<$1>")')[0], "<a><b>cd")


def test_lone_surrogates_give_a_problem() -> None:
    value, problems = run('matches(x, "a+b")', {"x": "a\ud800"})
    assert value is None and "lone surrogate" in problems[0].message
