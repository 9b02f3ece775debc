"""`decide`: evaluate another published decision with what the run knows so far.

The model reference (key, key@alias, key@number) is resolved when the step runs. Its inputs are
the step's `inputs` (FEEL expressions over the run's names), or else every input, output and
`set` value of the run whose name is one of the other model's inputs. The evaluation writes a
decision record (caller `workflow:<name>`) in the step's completion transaction, so it is
recorded exactly once; the record's own bindings do not start workflows (no cascades).
The step's result: {decision_id, key, version, outputs, problems}.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from decisions.errors import DecisionsError
from decisions.feel.values import to_json
from execution.bindings_store import LoadedVersions
from execution.context import evaluate, feel_names
from execution.outcome import StepOutcome
from execution.workflow import DecideSpec, Step
from registry import record_decision, resolve, unit_of_work
from registry.errors import RegistryError


def run_decide(engine: Engine, versions: LoadedVersions, step: Step, context: Mapping[str, Any], *,
               workflow: str) -> StepOutcome:
    spec = step.spec
    assert isinstance(spec, DecideSpec)
    try:
        with unit_of_work(engine, read_only=True) as session:
            resolved = resolve(session, spec.model_ref)
            loaded = versions.get(session, resolved.key, resolved.number, resolved.version.content_hash)
    except RegistryError as exc:
        return StepOutcome.failed(f"decide {spec.model_ref}: {exc}")
    except DecisionsError as exc:
        return StepOutcome.failed(f"decide {spec.model_ref}: the model does not load: {exc}")
    except SQLAlchemyError as exc:
        return StepOutcome.retry(f"decide {spec.model_ref}: database: {type(exc).__name__}", "connection")
    model = loaded.model
    if spec.inputs is not None:
        inputs: dict[str, Any] = {}
        for name, expression in spec.inputs.items():
            value, errors = evaluate(expression, context)
            if errors:
                return StepOutcome.failed(f"decide {spec.model_ref}: input {name!r}: {'; '.join(errors)}")
            inputs[name] = value
    else:
        names = feel_names(context)
        inputs = {name: names[name] for name in model.input_names if name in names}
    unknown = [d for d in spec.decisions or () if d not in model.decision_names]
    if unknown:
        return StepOutcome.failed(f"decide {spec.model_ref}: no decision {', '.join(map(repr, unknown))}")
    started = time.perf_counter()
    try:
        result = model.evaluate(inputs, decisions=list(spec.decisions) if spec.decisions else None)
    except DecisionsError as exc:
        return StepOutcome.failed(f"decide {spec.model_ref}: {exc}")
    latency_us = int((time.perf_counter() - started) * 1_000_000)
    outputs = {k: to_json(v) for k, v in result.outputs.items()}
    problems = [p.to_dict() for p in result.problems]
    version = resolved.version
    outcome: dict[str, Any] = {"decision_id": None, "key": version.key, "version": version.number,
                               "outputs": outputs, "problems": problems}

    def record(session: Session, values: dict[str, Any]) -> None:
        written = record_decision(
            session, key=version.key, version=version.number, content_hash=version.content_hash,
            alias=resolved.alias, inputs={k: to_json(v) for k, v in inputs.items()}, outputs=outputs,
            fired={k: list(v) for k, v in result.fired.items()}, problems=problems, latency_us=latency_us,
            caller=f"workflow:{workflow}"[:200], reasons=result.reasons)
        values["context"].setdefault("steps", {}).setdefault(step.name, {})["decision_id"] = written.id

    return StepOutcome.ok(outcome, effects=[record])
