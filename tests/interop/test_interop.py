"""Models from Camunda, dmn-scala, KIE/Drools and Trisotech, loaded unchanged, give the results
their own projects' tests assert (tests/interop/cases.yaml says which, and where a documented
rule of ours differs, why)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

import decisions
from decisions.errors import ModelError

HERE = Path(__file__).parent
MODELS: list[dict[str, Any]] = yaml.safe_load((HERE / "cases.yaml").read_text(encoding="utf-8"))["models"]
CASES = [pytest.param(model, case, id=f"{model['file']}#{n}")
         for model in MODELS for n, case in enumerate(model["cases"], start=1)]


def plain(value: Any) -> Any:
    """A result or an expectation with every number as a Decimal, to compare 0.1 with 0.1."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, float, Decimal)):
        return Decimal(str(value)).normalize()
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def errors_of(problems: Any) -> list[str]:
    return [str(p) for p in problems if getattr(p, "severity", "error") == "error"]


def typed_inputs(model: decisions.Model, inputs: dict[str, Any]) -> dict[str, Any]:
    """Inputs read from JSON by the model's types, as the HTTP API (and KIE's
    DynamicDMNContextBuilder) reads them: a date component given as "2020-10-12" is a date."""
    from api.typed import ModelSchemas

    return ModelSchemas(model, "Interop").check_inputs(inputs)


def test_every_model_file_is_listed_once() -> None:
    stored = sorted(str(p.relative_to(HERE)) for p in HERE.rglob("*") if p.suffix in (".dmn", ".xml"))
    listed = [model["file"] for model in MODELS]
    assert sorted(listed) == stored
    for model in MODELS:
        assert {"repo", "path", "licence", "test"} <= set(model["source"]), model["file"]


@pytest.mark.parametrize(("model", "case"), CASES)
def test_source_project_results(model: dict[str, Any], case: dict[str, Any]) -> None:
    path = HERE / model["file"]
    if "load_error" in case:
        try:
            loaded = decisions.load(path)
        except ModelError as exc:
            assert any(case["load_error"] in str(p) for p in exc.problems), exc.problems
            return
        # A model whose faulty decision is reported, not raised: evaluating it gives the error.
        result = loaded.evaluate({}, decisions=[case["decision"]])
        assert any(case["load_error"] in e for e in errors_of(result.problems)), result.problems
        assert result.outputs[case["decision"]] is None
        return
    loaded = decisions.load(path)
    assert not errors_of(loaded.problems), loaded.problems
    if case.get("load_only"):
        return
    inputs = typed_inputs(loaded, case["inputs"]) if case.get("json") else case["inputs"]
    if "service" in case:
        result = loaded.invoke_service(case["service"], inputs)
        value = result.outputs[case["service"]]
    else:
        result = loaded.evaluate(inputs)
        value = result.outputs[case["decision"]]
    errors = errors_of(result.problems)
    for text in case.get("errors", []):
        assert any(text in e for e in errors), f"expected an error with {text!r}, got {errors}"
    if not case.get("errors"):
        assert not errors, errors
    if "contains" in case:
        assert isinstance(value, list) and len(value) == case["size"], value
        assert sorted(plain(value)) == sorted(plain(case["contains"]))
    elif "entries" in case:
        assert isinstance(value, dict), value
        assert {k: plain(value.get(k)) for k in case["entries"]} == plain(case["entries"])
    else:
        assert plain(value) == plain(case["expect"])
