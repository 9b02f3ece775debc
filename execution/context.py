"""A run's context: what its steps can read, kept as JSON on the run row.

    decision      {id, key, version, hash, alias, created_at}
    inputs        the decision's inputs, as recorded
    outputs       the decision's outputs, as recorded (a reviewer's override replaces them)
    fired         decision table -> rules fired
    callback_url  the URL the request named for approve/reject callbacks, if any
    steps         step name -> its result (HTTP status and JSON answer, review answer, decision...)
    vars          values computed by `set` steps
    review        the latest review answer {outcome, outputs, reason, by, at}, or null

FEEL conditions see the inputs, outputs and vars by name, plus `review` and `steps`; templates
see the whole context, plus `run` {id, workflow, step} and `now`.

A run queued with its decision (the outbox) starts with `pending_context`: the decision's id
and the callback URL only. The decision's part is copied from its record when the run first
runs (`with_decision`): the record is already stored, and repeating it in every run row made
each answered decision write its inputs and outputs once more per workflow.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from decisions.feel import CompiledExpression, Env
from decisions.feel.values import from_python, to_json


def new_context(*, decision: Mapping[str, Any], inputs: Any, outputs: Any, fired: Any,
                callback_url: str | None) -> dict[str, Any]:
    return {"decision": dict(decision), "inputs": inputs, "outputs": outputs, "fired": fired,
            "callback_url": callback_url, "steps": {}, "vars": {}, "review": None}


def pending_context(*, decision_id: str, callback_url: str | None) -> dict[str, Any]:
    return {"decision": {"id": decision_id}, "callback_url": callback_url, "steps": {}, "vars": {},
            "review": None}


def is_pending(context: Mapping[str, Any]) -> bool:
    """Whether the decision's part still has to be copied from its record."""
    return "inputs" not in context


def with_decision(context: Mapping[str, Any], *, decision: Mapping[str, Any], inputs: Any, outputs: Any,
                  fired: Any) -> dict[str, Any]:
    """A pending context completed from its decision record (what `new_context` would have made)."""
    full = new_context(decision=decision, inputs=inputs, outputs=outputs, fired=fired,
                       callback_url=context.get("callback_url"))
    for part in ("steps", "vars", "review"):
        if context.get(part):
            full[part] = context[part]
    return full


def feel_names(context: Mapping[str, Any]) -> dict[str, Any]:
    names: dict[str, Any] = {}
    for part in ("inputs", "outputs", "vars"):
        for key, value in (context.get(part) or {}).items():
            names[key] = from_python(value)
    names["review"] = from_python(context.get("review"))
    names["steps"] = from_python(context.get("steps") or {})
    return names


def evaluate(expression: CompiledExpression, context: Mapping[str, Any]) -> tuple[Any, list[str]]:
    """(FEEL value, error messages) of an expression over the context."""
    env = Env(feel_names(context), [])
    value = expression.fn(env)
    return value, [str(p) for p in env.problems if p.severity == "error"]


def holds(expression: CompiledExpression | None, context: Mapping[str, Any]) -> bool:
    """A step condition: only true is true (null, false, or an error skip the step)."""
    if expression is None:
        return True
    value, _ = evaluate(expression, context)
    return value is True


def as_json(value: Any) -> Any:
    return to_json(value)


def template_context(context: Mapping[str, Any], *, run_id: str, workflow: str, step: str,
                     now: datetime) -> dict[str, Any]:
    data = dict(context)
    data["run"] = {"id": run_id, "workflow": workflow, "step": step}
    data["now"] = now.isoformat()
    return data
