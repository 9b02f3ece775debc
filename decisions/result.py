"""The result of one evaluation: outputs, fired rules, problems and an optional trace."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from decisions.errors import Problem
from decisions.feel.values import to_json


@dataclass
class TraceStep:
    """One decision evaluated: what it read, what it returned, which rules fired."""

    decision: str
    kind: str
    inputs: dict[str, Any]
    output: Any
    fired: list[int] = field(default_factory=list)
    annotations: dict[int, list[str]] = field(default_factory=dict)
    elapsed_us: float = 0.0
    explanations: list[dict[str, Any]] | None = None  # trace="explain": every rule's cells (decisions/explain.py)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "decision": self.decision,
            "kind": self.kind,
            "inputs": {k: to_json(v) for k, v in self.inputs.items()},
            "output": to_json(self.output),
            "elapsed_us": round(self.elapsed_us, 2),
        }
        if self.fired:
            data["fired"] = self.fired
        if self.annotations:
            data["annotations"] = {str(k): v for k, v in self.annotations.items()}
        if self.explanations is not None:
            data["rules"] = self.explanations
        return data


@dataclass(frozen=True)
class Reason:
    """One reason code of a scoring decision: how much `input` moved the score from its baseline.

    `contribution` is the score with the input's actual value minus the score with that input
    alone set to its baseline, every other input at its actual value (decisions/scoring/).

    For a points scorecard (decisions/scorecard.py) `input` is a characteristic's name, `value`
    the value of its input, `baseline` the highest points any of its bins gives (the points, not
    the bin), `contribution` the points it gave minus those (minus the points lost, so never
    positive), and `code` its reason code, when the scorecard gives one."""

    input: str
    value: Any
    baseline: Any
    contribution: Any
    code: str | None = None

    def to_json(self) -> dict[str, Any]:
        data = {"input": self.input, "value": to_json(self.value), "baseline": to_json(self.baseline),
                "contribution": to_json(self.contribution)}
        if self.code is not None:
            data["code"] = self.code
        return data


@dataclass(slots=True)
class EvaluationResult:
    outputs: dict[str, Any]
    # Per decision table decision evaluated (not those whose value was given, nor tables inside
    # BKMs or imported models): the rules that fired, 1-based in rule order. Positions move when
    # rules are inserted; `Model.fired_ids` gives the stable ids of the same rules.
    fired: dict[str, list[int]]
    problems: list[Problem]
    trace: list[TraceStep] | None = None
    # Per scoring decision with baselines: its reason codes, the inputs that moved it most first.
    reasons: dict[str, list[Reason]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when no problem of severity error was recorded."""
        return not any(p.severity == "error" for p in self.problems)

    def __getitem__(self, decision: str) -> Any:
        return self.outputs[decision]

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "outputs": {k: to_json(v) for k, v in self.outputs.items()},
            "fired": {k: list(v) for k, v in self.fired.items()},
            "problems": [p.to_dict() for p in self.problems],
        }
        if self.trace is not None:
            data["trace"] = [step.to_json() for step in self.trace]
        if self.reasons:
            data["reasons"] = {name: [r.to_json() for r in reasons] for name, reasons in self.reasons.items()}
        return data
