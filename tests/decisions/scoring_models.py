"""Small scoring models for the scoring tests, written as the YAML form."""

from __future__ import annotations

from typing import Any

import yaml

import decisions
from decisions.compiled import Model


def scoring_yaml(text: str, inputs: tuple[str, ...] = ("a", "b"), **declarations: Any) -> str:
    """A model with number inputs and one scoring decision `S` over them."""
    score: dict[str, Any] = {"requires": list(inputs), "scoring": text}
    score.update({key: value for key, value in declarations.items() if value is not None})
    document = {"model": "scoring test", "inputs": {name: "number" for name in inputs}, "decisions": {"S": score}}
    return yaml.safe_dump(document, sort_keys=False)


def scoring_model(text: str, inputs: tuple[str, ...] = ("a", "b"), **declarations: Any) -> Model:
    return decisions.load(scoring_yaml(text, inputs, **declarations), format="yaml")
