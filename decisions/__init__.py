"""Decisionary's decision core: DMN models parsed once, compiled once, evaluated fast.

    import decisions
    model = decisions.load("examples/loan-approval.dmn")
    result = model.evaluate({"Applicant Age": 35, "Monthly Income": 5200, ...})
    result.outputs["Decision"], result.fired, result.problems

This package is pure: no web, database or network imports.
"""

from decisions.compiled import InputSpec, Model
from decisions.errors import DecisionsError, InputError, Location, ModelError, Problem
from decisions.loader import load, read_definitions
from decisions.result import EvaluationResult, TraceStep
from decisions.verify import Finding, Verification, verify

__all__ = [
    "Finding",
    "Verification",
    "verify",
    "DecisionsError",
    "EvaluationResult",
    "InputError",
    "InputSpec",
    "Location",
    "Model",
    "ModelError",
    "Problem",
    "TraceStep",
    "load",
    "read_definitions",
]
