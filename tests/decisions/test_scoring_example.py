"""The scoring example, examples/loan-score.yaml: it checks clean and scores the sample applicant."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from typer.testing import CliRunner

import decisions
from api.cli import app
from decisions.feel.values import DECIMAL_CONTEXT

EXAMPLES = Path(__file__).resolve().parent.parent.parent / "examples"


def test_decisionary_check_passes() -> None:
    result = CliRunner().invoke(app, ["check", str(EXAMPLES / "loan-score.yaml")])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "ok: 1 decisions, 5 inputs"  # every monotonicity proved, no notes


def test_the_sample_applicant_and_its_reason_codes() -> None:
    model = decisions.load(EXAMPLES / "loan-score.yaml")
    applicant = json.loads((EXAMPLES / "loan-approval-input.json").read_text())
    result = model.evaluate(applicant)
    assert [p for p in result.problems if p.severity != "info"] == []
    reasons = result.reasons["Score"]
    assert [r.input for r in reasons] == ["Monthly Debt", "Requested Amount", "Credit Score"]
    # Monthly Debt 1100 against 0: -200 * 1100 / 5200, to the 34 digits of the two scores it is the difference of
    expected = DECIMAL_CONTEXT.minus(DECIMAL_CONTEXT.divide(Decimal(220000), Decimal(5200)))
    assert abs(reasons[0].contribution - expected) < Decimal("1e-29")
    # Requested Amount 25000 against 10000: -25 * (ln 3.5 - ln 2) = -25 ln 1.75
    assert abs(float(reasons[1].contribution) - (-25 * 0.5596157879354227)) < 1e-12
    assert reasons[2].contribution == Decimal(6)  # Credit Score 712 against 700, 0.5 a point
    assert result.outputs["Score"] > 0
