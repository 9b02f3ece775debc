"""In a model that declares its input data, a name nobody declares is an error of the element
that reads it, at its place, with the closest declared names (the element gives null); a model
that declares none keeps its implicit inputs."""

from __future__ import annotations

import decisions

DECLARED = """\
model: typo
namespace: https://decisionary.dev/tests/typo
inputs:
  Income: number
  Vehicle: string
decisions:
  Rate:
    requires: [Income, Vehicle]
    table:
      hit policy: FIRST
      inputs: [{input}, Vehicle]
      outputs: [Rate]
      rules:
        - ['> 100', '{vehicle}', '1']
"""


def _error(**parts: str) -> str:
    text = DECLARED.format(**{"input": "Income", "vehicle": '"Car"', **parts})
    model = decisions.load(text.encode(), format="yaml")
    [problem] = model.errors
    assert problem.code == "unknown-name" and problem.location.element == "Rate"
    result = model.evaluate({"Income": 200, "Vehicle": "Car"})  # the decision gives null, and says why
    assert result.outputs == {"Rate": None} and result.problems == [problem]
    return problem.message


def test_a_typo_is_an_error_with_the_name_meant() -> None:
    assert _error(input="Incomee").endswith("did you mean 'Income'?")
    assert "did you mean 'Income'" in _error(input="income")


def test_an_unquoted_string_is_an_error_that_says_to_quote_it() -> None:
    message = _error(vehicle="Car")
    assert message.startswith("'Car' is not declared") and "quote it" in message


def test_the_declared_model_loads_and_a_model_without_declarations_keeps_implicit_inputs() -> None:
    model = decisions.load(DECLARED.format(input="Income", vehicle='"Car"').encode(), format="yaml")
    assert model.evaluate({"Income": 200, "Vehicle": "Car"}).outputs == {"Rate": 1}
    camunda_text = "model: c\nnamespace: https://decisionary.dev/tests/c\ndecisions:\n  Rate:\n    expression: Incomee * 2\n"
    camunda = decisions.load(camunda_text.encode(), format="yaml")
    assert camunda.input_names == ["Incomee"]
    assert [p.code for p in camunda.problems] == ["implicit-input"]
