"""Publish gates: what a version must pass before services may call it.

1. "load": the model loads and compiles with the decision engine (`decisions.load`), its
   checks report no error problems, and any key it declares is the key it is registered under.
2. "tests": every test case attached to the version gives the expected value for each decision
   it names (FEEL equality) and fires the rules it names, if any; the cases' format and runner
   are `decisions.testing`, shared with `decisionary test`.
3. "verify": table verification (`decisions.verify`): its errors fail the gate, i.e. rules that
   overlap under UNIQUE, or under ANY with different outputs. Gaps, rules that never fire and
   subsumed rules are warnings and notes, shown by `decisionary verify`, and do not block.

All gates run (after "load", which the others need), so one failed publish lists every reason.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from registry.cases import parse_cases
from registry.content import Format, load_model
from registry.errors import GateFailure, Invalid


@dataclass
class GateReport:
    passed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # gates that could not run here, and why
    failures: list[GateFailure] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "passed": list(self.passed), "skipped": list(self.skipped),
                "failures": [{"gate": f.gate, "reasons": list(f.reasons)} for f in self.failures]}


def run_gates(content: bytes, fmt: Format, test_cases: str | None, *, key: str | None = None) -> GateReport:
    """Run every gate on a version's content and test cases; never raises for a bad model.

    `key` is the registry key: a model that declares another key in its file fails "load".
    """
    report = GateReport()
    try:
        import decisions
    except Exception as err:  # noqa: BLE001 - a broken engine install fails the gate, it is not a crash
        report.failures.append(GateFailure("load", [f"the decision engine is not available: {err}"]))
        return report
    model, load_reasons = _load(content, fmt, key)
    if model is None:
        report.failures.append(GateFailure("load", load_reasons))
        return report
    report.passed.append("load")

    try:
        cases = parse_cases(test_cases) if test_cases else []
    except Invalid as err:
        report.failures.append(GateFailure("tests", [str(err)]))
        cases = None
    if cases is not None:
        reasons = _run_cases(model, cases)
        if reasons:
            report.failures.append(GateFailure("tests", reasons))
        else:
            report.passed.append("tests")

    verify: Callable[[Any], Any] | None = getattr(decisions, "verify", None)
    if verify is None:
        report.skipped.append("verify: the engine has no decisions.verify")
    else:
        reasons = _errors_of(_call(verify, model))
        if reasons:
            report.failures.append(GateFailure("verify", reasons))
        else:
            report.passed.append("verify")
    return report


def _load(content: bytes, fmt: Format, key: str | None) -> tuple[Any, list[str]]:
    from decisions.errors import ModelError

    try:
        model = load_model(content, fmt)
    except ModelError as err:
        return None, [str(p) for p in err.problems] or [str(err)]
    except Exception as err:  # noqa: BLE001 - an engine bug must fail the gate, not the request
        return None, [f"the model could not be loaded: {type(err).__name__}: {err}"]
    reasons = _errors_of(getattr(model, "problems", None) or [])
    own_key = model.definitions.key
    if key is not None and own_key and own_key != key:
        reasons.append(f"the model declares the key {own_key!r} but is registered under {key!r}")
    return (None, reasons) if reasons else (model, [])


def _call(function: Callable[[Any], Any], model: Any) -> Any:
    try:
        return function(model)
    except Exception as err:  # noqa: BLE001
        return [f"{type(err).__name__}: {err}"]


def _errors_of(problems: Any) -> list[str]:
    """The error-severity problems among `problems` (Problem objects or plain strings)."""
    reasons: list[str] = []
    for problem in problems or []:
        if isinstance(problem, str):
            reasons.append(problem)
        elif getattr(problem, "severity", "error") == "error":
            reasons.append(str(problem))
    return reasons


def _run_cases(model: Any, cases: list[Any]) -> list[str]:
    """Why the cases fail: what a case names that the model lacks, else its failures."""
    from decisions.testing import check_cases, run_case

    reasons: list[str] = []
    for case in cases:
        issues = check_cases(model, [case])
        if issues:
            reasons.extend(str(issue) for issue in issues)
        else:
            reasons.extend(str(failure) for failure in run_case(model, case).failures)
    return reasons
