"""A problem quotes at most about 200 characters of the text it is about, around the position,
however large the text: in its message, its location and its JSON form."""

from __future__ import annotations

import decisions
from decisions.errors import QUOTED, Location, ModelError, Problem, excerpt


def test_an_oversize_expression_is_not_repeated_in_its_refusal() -> None:
    expression = "1 + " * 300_000 + "1"
    model = f"model: big\nnamespace: https://decisionary.dev/tests/big\ndecisions:\n  D:\n    expression: '{expression}'\n"
    loaded = decisions.load(model.encode(), format="yaml")
    text = str(ModelError(loaded.errors))
    assert "too long" in text and len(text) < 1_000
    reported = loaded.evaluate({}).problems  # the decision gives null and reports the same error
    assert reported == loaded.errors
    for problem in reported:
        assert len(str(problem)) < 1_000 and len(str(problem.to_dict())) < 1_000


def test_the_excerpt_is_around_the_position() -> None:
    text = "a" * 1_000 + "<here>" + "b" * 1_000
    shown = excerpt(text, 1_000)
    assert "<here>" in shown and shown.startswith("…") and shown.endswith("…")
    assert len(shown) <= QUOTED + 2
    assert excerpt("short", 3) == "short"
    problem = Problem("cannot parse", Location(element="D", text=text, position=1_000))
    assert "<here>" in str(problem) and len(str(problem)) < 400
    data = problem.to_dict()
    assert data["location"]["position"] == 1_000  # still counted in the whole text  # type: ignore[index]
    assert "<here>" in data["location"]["text"]  # type: ignore[index]


def test_a_long_message_is_cut_and_says_how_much() -> None:
    problem = Problem("the value " + "x" * 10_000 + " is not a number")
    assert len(str(problem)) < 700 and "more characters" in str(problem)
