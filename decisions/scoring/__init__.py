"""Scoring decisions: an arithmetic FEEL expression over inputs, with reason codes and symbolic checks.

    Score:
      requires: [Monthly Income, Monthly Debt]
      scoring: base + 0.02 * Monthly Income - 0.05 * Monthly Debt
      constants: {base: 600}
      baseline: {Monthly Income: 5000, Monthly Debt: 0}
      monotonic: {Monthly Income: increasing, Monthly Debt: decreasing}
      domain: {Monthly Income: [0, 1000000], Monthly Debt: [0, 100000]}
      reasons: 3                 # reason codes listed (default 3)

The text is parsed by the FEEL parser and kept to what `translate` allows; the FEEL tree is
also translated into a sympy expression (never from text). Three paths use them:

- **One call** (`Model.evaluate`) runs the compiled FEEL closure with the constants bound:
  exact FEEL decimals, identical to the same text as a FEEL literal expression, nulls
  included (arithmetic with null is null). An input outside its declared domain is scored
  all the same, with a warning (`outside-domain`).
- **Batch** (`Model.evaluate_batch`) runs a numpy function from `sympy.lambdify` of the
  expression as written, in float64, over whole columns. Its results equal the exact path
  within a relative tolerance of 1e-9 (`math.isclose(batch, exact, rel_tol=1e-9,
  abs_tol=1e-9)`), for expressions that do not lose more than about 7 of float64's 16 digits
  to cancellation. Rows the float path cannot answer as FEEL would (a null, missing or
  non-numeric value, an input outside its domain, a result that is not a finite number, such
  as a division by zero) are evaluated by the exact path, with its problems.
- **Reason codes.** For each input with a baseline, its contribution is the score with the
  input's actual value minus the score with that input alone set to its baseline, every other
  input held at its actual value (a one-at-a-time difference, not a Shapley value: with
  interactions the contributions need not add up to the score minus the baseline score). The
  top N by absolute size are listed, largest first, ties in declaration order; inputs that
  contribute exactly 0 or whose contribution is null are left out. Batch computes them with
  the float function (within the tolerance above; contributions that tie within it may come
  in the other order).
- **Checks** at compile time (`checks`): declared monotonicity and a score defined over the
  declared domains, proved with sympy or refuted with a counterexample; they become problems
  of the model, which `decisionary check` reports.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

import numpy as np
import sympy

from decisions import feel
from decisions.errors import Location, ModelError, Problem
from decisions.feel import ast
from decisions.feel.values import DECIMAL_CONTEXT
from decisions.model import Scoring
from decisions.result import Reason
from decisions.scoring.checks import Box, Checker
from decisions.scoring.translate import FUNCTIONS, Refused, symbols_for, translate, variables_read

__all__ = ["FUNCTIONS", "CompiledScoring", "compile_scoring"]


class CompiledScoring:
    """A scoring expression compiled once: the exact FEEL closure, the sympy expression, the checks."""

    def __init__(self, name: str, text: str, exact: feel.CompiledExpression, variables: list[str],
                 symbols: dict[str, sympy.Symbol], expr: sympy.Expr, raw: sympy.Expr,
                 constants: dict[str, Decimal], baseline: dict[str, Decimal],
                 domain: dict[str, tuple[Decimal, Decimal]], top: int, where: Location) -> None:
        self.name = name
        self.text = text
        self.exact = exact
        self.variables = variables  # names read, in order of first reading
        self.symbols = symbols
        self.expr = expr  # simplified by sympy: for the checks
        self.raw = raw  # as written: for lambdify
        self.constants = constants
        self.baseline = baseline
        self.domain = domain
        self.top = top
        self.where = where
        self.problems: list[Problem] = []  # what the checks found
        self._vector: Callable[..., Any] | None = None

    # --- one call, exact ----------------------------------------------------------------

    def evaluate(self, env: feel.Env) -> Any:
        """The score, exactly as the FEEL literal expression gives it; domain warnings into `env`."""
        value = self.exact.fn(env.child(self.constants) if self.constants else env)
        for name, (low, high) in self.domain.items():
            given = env.vars.get(name)
            if type(given) is Decimal and not low <= given <= high:
                env.problems.append(Problem(
                    f"'{name}' is {given}, outside the domain [{low}, {high}] declared for the score; it is "
                    "scored all the same, but the model's checks do not cover it",
                    self.where.with_(path=f"domain.{name}"), "warning", "outside-domain"))
        return value

    def score_at(self, values: Mapping[str, Any]) -> Any:
        """The exact score for these variable values (FEEL values), problems discarded."""
        return self.exact.fn(feel.Env({**values, **self.constants}, []))

    def reasons(self, env: feel.Env, score: Any) -> list[Reason]:
        """The reason codes of `score`, computed in `env` (see the module docstring)."""
        if type(score) is not Decimal:
            return []
        found: list[tuple[Decimal, int, Reason]] = []
        for order, (name, base) in enumerate(self.baseline.items()):
            actual = env.vars.get(name)
            if type(actual) is not Decimal:
                continue
            moved = self.exact.fn(feel.Env({**env.vars, **self.constants, name: base}, []))
            if type(moved) is not Decimal:
                continue
            contribution = DECIMAL_CONTEXT.subtract(score, moved)
            if contribution:
                found.append((-abs(contribution), order, Reason(name, actual, base, contribution)))
        found.sort(key=lambda item: (item[0], item[1]))
        return [reason for _, _, reason in found[: self.top]]

    # --- batch, float ------------------------------------------------------------------

    def vectorised(self, columns: Mapping[str, np.ndarray]) -> np.ndarray:
        """The score over float64 columns (one per variable, same length), as float64."""
        if self._vector is None:
            self._vector = sympy.lambdify([self.symbols[n] for n in self.variables], self.raw, modules="numpy")
        if not self.variables:
            raise ValueError("a scoring expression that reads no variable has no columns")
        first = columns[self.variables[0]]
        with np.errstate(all="ignore"):
            value = self._vector(*(columns[n] for n in self.variables))
        return np.broadcast_to(np.asarray(value, dtype=np.float64), first.shape)


def _number(text: str, where: Location, what: str) -> Decimal:
    try:
        value = Decimal(text.strip())
    except (InvalidOperation, AttributeError):
        value = Decimal("NaN")
    if not value.is_finite():
        raise ModelError(Problem(f"{what} must be a number, not {text!r}", where, code="scoring"))
    return value


def compile_scoring(expr: Scoring, scope: feel.Scope, where: Location) -> CompiledScoring:
    """Compile a scoring expression and run its checks (their findings: `.problems`).

    Raises `ModelError` for a construct a scoring expression does not allow, located at its
    position in the text, and for declarations that name what the expression does not read."""
    name = where.element or ""
    constants = {c: _number(v, where.with_(path=f"constants.{c}"), f"constant '{c}'")
                 for c, v in expr.constants.items()}
    clashes = [c for c in constants if c in scope.names]
    if clashes:
        raise ModelError(Problem(f"the constant '{clashes[0]}' has the name of an element of the model",
                                 where.with_(path=f"constants.{clashes[0]}"), code="scoring"))
    inner = scope.with_names(constants) if constants else scope
    text = expr.text
    try:
        compiled = feel.compile_expression(text, inner)
        parsed = feel._parse(text, inner, False)
    except feel.UnknownNameError:
        raise  # the compiler decides whether it is an implicit input
    except feel.FeelSyntaxError as exc:
        raise ModelError(exc.to_problem(where.with_(path="scoring"))) from None
    variables = variables_read(parsed.node, constants)
    symbols = symbols_for(variables)
    try:
        simplified = translate(parsed.node, symbols, constants)
        raw = translate(parsed.node, symbols, constants, evaluate=False)
    except Refused as refused:
        culprit = refused.node.function if isinstance(refused.node, ast.Call) else refused.node  # a call: its name
        raise ModelError(Problem(refused.message, where.with_(path="scoring", text=text,
                                                              position=parsed.position(culprit)),
                                 code="scoring")) from None
    declared = (("baseline", expr.baseline), ("monotonic", expr.monotonic), ("domain", expr.domain))
    for key, names in declared:
        for variable in names:
            if variable not in variables:
                raise ModelError(Problem(f"{key} names '{variable}', which the scoring expression does not read; "
                                         f"it reads: {', '.join(variables) or 'nothing'}",
                                         where.with_(path=f"{key}.{variable}"), code="scoring"))
    baseline = {v: _number(t, where.with_(path=f"baseline.{v}"), f"the baseline of '{v}'")
                for v, t in expr.baseline.items()}
    domain: dict[str, tuple[Decimal, Decimal]] = {}
    for variable, (low_text, high_text) in expr.domain.items():
        at = where.with_(path=f"domain.{variable}")
        low, high = _number(low_text, at, "the low end"), _number(high_text, at, "the high end")
        if low > high:
            raise ModelError(Problem(f"the domain of '{variable}' is empty: {low} > {high}", at, code="scoring"))
        domain[variable] = (low, high)
    for variable, base in baseline.items():
        if variable in domain and not domain[variable][0] <= base <= domain[variable][1]:
            low, high = domain[variable]
            raise ModelError(Problem(f"the baseline of '{variable}', {base}, is outside its domain [{low}, {high}]",
                                     where.with_(path=f"baseline.{variable}"), code="scoring"))
    if expr.reasons < 1:
        raise ModelError(Problem("reasons must be at least 1", where.with_(path="reasons"), code="scoring"))
    scoring = CompiledScoring(name, text, compiled, variables, symbols, simplified, raw, constants, baseline,
                              domain, expr.reasons, where)
    if expr.monotonic or domain:
        checker = Checker(name, simplified, raw, Box(variables, symbols, domain), where, scoring.score_at)
        for variable, direction in expr.monotonic.items():
            found = checker.monotonic(variable, direction)
            if found is not None:
                scoring.problems.append(found)
        scoring.problems.extend(checker.domain())
    return scoring
