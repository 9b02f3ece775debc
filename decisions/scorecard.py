"""Points scorecards: base points plus, per characteristic, the points of the bin its value falls in.

    Points:
      requires: [Applicant Age, Employment Status]
      scorecard:
        base: 300
        reasons: 2                  # reason codes listed (default 3)
        characteristics:
          Age:
            input: Applicant Age    # any FEEL expression over the decision's requirements
            code: AGE               # the reason code (optional)
            bins:                   # [unary tests, points]: the tests of a table's input cell
              - ['< 25', 10]
              - ['>= 25', 35]
              - ['null', 0]

A table-shaped variant of the scoring expressions (`decisions.scoring`). Its meaning is plain
DMN: each characteristic is a decision table with hit policy COLLECT SUM (C+), one input (the
characteristic's expression) and one output (`points`), one rule per bin; the score is
`base + <characteristic 1> + <characteristic 2> ...` in FEEL arithmetic. `characteristic_table`
builds that table, and the table compiler (`decisions.tables`) compiles it, so one call, batch
evaluation, `explain` and `verify` all run the same compiled tables; `decisions.dmn` writes the
scorecard as exactly this context. Consequences of the DMN meaning:

- A value in no bin gives null points, so the score is null (arithmetic with null). This is
  never silent: a warning `no-bin-matched` names the decision, the characteristic and the value.
- Overlapping bins add up (COLLECT SUM). They are a model error all the same: `verify` reports
  them as errors, as for a UNIQUE table, and gaps between bins as warnings.

Each characteristic's table is known to the rest of the engine as `<decision>.<characteristic>`
(`Points.Age`): its fired bins in `EvaluationResult.fired` and in batch `fired.` columns, its
rule ids in `Model.rule_ids`, its bins in test coverage, `Model.explain` and `verify` findings.

**Reason codes.** A characteristic's points lost are the highest points any of its bins gives
minus the points it gave. The top N characteristics by points lost (N = `reasons`) are listed,
largest first, ties in declaration order; those that lost nothing, or whose points are null,
are left out. Each is a `decisions.result.Reason` with input = the characteristic's name, value
= its input's value, baseline = its best points, contribution = minus the points lost (the
score as it is, minus the score with that characteristic at its best bin), code = its reason
code.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from decisions import feel
from decisions.errors import Location, ModelError, Problem
from decisions.feel import ast
from decisions.feel.operators import add
from decisions.feel.values import DECIMAL_CONTEXT, from_python
from decisions.model import Characteristic, DecisionTable, InputClause, OutputClause, Rule, Scorecard
from decisions.result import Reason
from decisions.tables.index import names_used
from decisions.tables.table import CompiledTable, compile_table

__all__ = ["POINTS_OUTPUT", "CompiledCharacteristic", "CompiledScorecard", "characteristic_table",
           "compile_scorecard", "is_points", "result_text"]

POINTS_OUTPUT = "points"  # the output column of each characteristic's table
# A number as a FEEL literal writes it (with an optional minus): what a bin's points and the base may be.
_NUMBER = re.compile(r"-?(\d+(\.\d+)?|\.\d+)")


def is_points(text: str) -> bool:
    """Whether `text` is a number a scorecard accepts as points or base: `10`, `-2.5`, `.5`."""
    return _NUMBER.fullmatch(text.strip()) is not None


def characteristic_table(characteristic: Characteristic) -> DecisionTable:
    """The DMN decision table of a characteristic: COLLECT SUM, one input, one output, a rule per bin."""
    rules = [Rule([b.test], [b.points], source=b.source) for b in characteristic.bins]
    return DecisionTable([InputClause(characteristic.input)], [OutputClause(POINTS_OUTPUT)], rules,
                         hit_policy="COLLECT", aggregation="SUM")


def result_text(scorecard: Scorecard) -> str:
    """The FEEL text of the score in the DMN form: `300 + Age + Income`."""
    return " + ".join([scorecard.base.strip(), *(c.name for c in scorecard.characteristics)])


@dataclass
class CompiledCharacteristic:
    name: str
    key: str  # `<decision>.<characteristic>`: its name as a table of the model
    code: str | None
    table: CompiledTable
    best: Decimal  # the highest points of its bins
    where: Location

    def value(self, env: feel.Env) -> Any:
        """The value of the characteristic's input, as its bins see it (problems discarded:
        the table has read it already and reported them)."""
        inp = self.table.inputs[0]
        value = env.vars.get(inp.name) if inp.name is not None else inp.getter(feel.Env(env.vars, []))
        return from_python(value) if type(value) in (int, float) else value


@dataclass
class ScorecardRun:
    """One evaluation: the score, and per characteristic its points and fired bins (1-based)."""

    score: Any
    points: list[Any]
    fired: list[list[int]]


class CompiledScorecard:
    def __init__(self, name: str, base: Decimal, characteristics: list[CompiledCharacteristic], top: int,
                 where: Location) -> None:
        self.name = name
        self.base = base
        self.characteristics = characteristics
        self.top = top
        self.where = where

    def run(self, env: feel.Env) -> ScorecardRun:
        """Each characteristic's table, then `base + points...`; a value in no bin is reported."""
        points: list[Any] = []
        fired: list[list[int]] = []
        for characteristic in self.characteristics:
            value, rules = characteristic.table.evaluate(env)
            if value is None:
                env.problems.append(self.no_bin(characteristic, characteristic.value(env)))
            points.append(value)
            fired.append(rules)
        return ScorecardRun(self.score(points), points, fired)

    def evaluate(self, env: feel.Env) -> Any:
        return self.run(env).score

    def score(self, points: Sequence[Any]) -> Any:
        """`base + p1 + p2 ...`, left to right, as FEEL adds (null in gives null out)."""
        total: Any = self.base
        for value in points:
            total = add(total, value) if type(value) is Decimal or value is None else None
        return total

    def no_bin(self, characteristic: CompiledCharacteristic, value: Any) -> Problem:
        shown = "null" if value is None else repr(value) if isinstance(value, str) else str(value)
        return Problem(f"characteristic '{characteristic.name}': the value {shown} falls in no bin, so its points "
                       "and the score are null", characteristic.where, "warning", "no-bin-matched")

    def reasons(self, env: feel.Env, points: Sequence[Any]) -> list[Reason]:
        """The reason codes: the characteristics that lost most points against their best bin."""
        return self.reasons_with(points, lambda characteristic: characteristic.value(env))

    def reasons_with(self, points: Sequence[Any], value: Callable[[CompiledCharacteristic], Any]) -> list[Reason]:
        """The reason codes, given each characteristic's points and a way to read its input's value
        (asked only of the characteristics listed)."""
        found: list[tuple[Decimal, int]] = []
        for order, (characteristic, given) in enumerate(zip(self.characteristics, points, strict=True)):
            if type(given) is not Decimal:
                continue
            lost = DECIMAL_CONTEXT.subtract(characteristic.best, given)
            if lost > 0:
                found.append((lost, order))
        found.sort(key=lambda item: (-item[0], item[1]))
        reasons = []
        for lost, order in found[: self.top]:
            characteristic = self.characteristics[order]
            reasons.append(Reason(characteristic.name, value(characteristic), characteristic.best,
                                  DECIMAL_CONTEXT.minus(lost), characteristic.code))
        return reasons


# --- compiling -----------------------------------------------------------------------------------


def compile_scorecard(card: Scorecard, scope: feel.Scope, where: Location) -> CompiledScorecard:
    """Compile each characteristic into its decision table; every problem is a `ModelError`
    located at the scorecard's part (`scorecard.characteristics.Age.bins[2]`)."""
    name = where.element or ""
    problems: list[Problem] = []
    base = Decimal(0)
    if is_points(card.base):
        base = Decimal(card.base.strip())
    else:
        problems.append(Problem(f"the base must be a number, not {card.base!r}", where.with_(path="scorecard.base"),
                                code="scorecard"))
    if card.reasons < 1:
        problems.append(Problem(f"reasons must be at least 1, not {card.reasons}",
                                where.with_(path="scorecard.reasons"), code="scorecard"))
    if not card.characteristics:
        problems.append(Problem("a scorecard needs at least one characteristic",
                                where.with_(path="scorecard.characteristics"), code="scorecard"))
    compiled: list[CompiledCharacteristic] = []
    seen: list[str] = []
    for characteristic in card.characteristics:
        found = _characteristic(name, characteristic, scope, where, seen, problems)
        seen.append(characteristic.name)
        if found is not None:
            compiled.append(found)
    if problems:
        raise ModelError(problems)
    return CompiledScorecard(name, base, compiled, card.reasons, where)


def _characteristic(decision: str, characteristic: Characteristic, scope: feel.Scope, where: Location,
                    earlier: list[str], problems: list[Problem]) -> CompiledCharacteristic | None:
    """One characteristic compiled, or None with its problems added to `problems`."""
    name = characteristic.name
    path = f"scorecard.characteristics.{name}"
    at = where.with_(path=path, line=characteristic.source.line or where.line)
    count = len(problems)
    if not name.strip():
        problems.append(Problem("a characteristic has no name", at, code="scorecard"))
        return None
    if name in earlier:
        problems.append(Problem(f"the characteristic '{name}' is declared twice", at, code="scorecard"))
        return None
    if not _is_feel_name(name, scope):
        problems.append(Problem(f"the characteristic name '{name}' cannot be a FEEL name (in DMN it names a "
                                "context entry that the score adds up); use letters, digits and spaces",
                                at, code="scorecard"))
    if not characteristic.bins:
        problems.append(Problem(f"characteristic '{name}' has no bins", at.with_(path=f"{path}.bins"),
                                code="scorecard"))
    input_at = at.with_(path=f"{path}.input")
    tree = _compile(characteristic.input, scope, input_at, problems, unary=False)
    trees = [tree] if tree is not None else []
    for number, b in enumerate(characteristic.bins, start=1):
        bin_at = at.with_(path=f"{path}.bins[{number}]", line=b.source.line or at.line)
        test = _compile(b.test if b.test.strip() else "-", scope, bin_at, problems, unary=True)
        if test is not None:
            trees.append(test)
        if not is_points(b.points):
            problems.append(Problem(f"the points of bin {number} must be a number, not {b.points!r}", bin_at,
                                    code="scorecard"))
    # In DMN a characteristic is a context entry: the ones after it would read its points under its name.
    read = names_used(trees)
    hidden = [other for other in earlier if other in read]
    if hidden:
        problems.append(Problem(f"characteristic '{name}' reads '{hidden[0]}', which is also the name of an earlier "
                                "characteristic; in DMN it would read that characteristic's points. Rename one of "
                                "them", at, code="scorecard"))
    if len(problems) > count:
        return None
    key = f"{decision}.{name}"
    table = compile_table(decision, characteristic_table(characteristic), scope, at)
    table.no_match = None  # the scorecard reports it, with the value
    best = max(Decimal(b.points.strip()) for b in characteristic.bins)
    return CompiledCharacteristic(name, key, characteristic.code, table, best, at)


def _compile(text: str, scope: feel.Scope, where: Location, problems: list[Problem], *, unary: bool) -> Any:
    """The syntax tree of `text`, or None with a located problem (an unknown name is an error here,
    not an implicit input)."""
    try:
        compiled = feel.compile_unary_tests(text, scope) if unary else feel.compile_expression(text, scope)
    except feel.UnknownNameError as exc:
        problems.append(Problem(f"'{exc.name}' is not an input, decision or function of the model",
                                where.with_(text=exc.text, position=exc.position), code="scorecard-unknown-name"))
        return None
    except feel.FeelSyntaxError as exc:
        problems.append(exc.to_problem(where))
        return None
    return compiled.ast


def _is_feel_name(name: str, scope: feel.Scope) -> bool:
    try:
        compiled = feel.compile_expression(name, scope.with_names([name]))
    except feel.FeelSyntaxError:
        return False
    return isinstance(compiled.ast, ast.Name) and compiled.ast.name == name
