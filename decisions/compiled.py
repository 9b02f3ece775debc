"""The compiled model: evaluate once-compiled decisions against inputs.

`Model` is what `decisions.load` returns. It holds, in evaluation order, each decision's
compiled logic; `evaluate` converts and type-checks the inputs, runs the decisions the
caller asked for (and what they require), and collects outputs, fired rules and problems.
Nothing is parsed or compiled here.

One conversion is skipped where nobody would see it: a numeric input that is read only as
the whole input expression of decision-table columns keeps a plain float or int as given,
since those columns place it among their rule index's endpoints exactly as its Decimal
(`decisions.tables.table`). Whether an input qualifies is decided once, from the parsed
expressions, and conservatively: any decision logic that is neither a table nor a literal
expression might read any name. With `trace=True`, which shows what each decision read,
every input is converted.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from math import isfinite
from typing import TYPE_CHECKING, Any, Literal

from decisions import feel
from decisions.boxed import Logic
from decisions.errors import InputError, Location, Problem
from decisions.explain import RuleExplanation, explain, explain_rules
from decisions.feel.values import from_python
from decisions.graph import required_closure
from decisions.itemtypes import Binder, Invalid
from decisions.model import Definitions
from decisions.result import EvaluationResult, Reason, TraceStep
from decisions.tables.index import names_used
from decisions.tables.rule_ids import rule_ids
from decisions.tables.table import CompiledTable
from decisions.verify import Verification, verify

if TYPE_CHECKING:
    import pandas as pd

_MISSING: Any = object()

# (value) -> (coerced value, problem message or None)
Coercer = Callable[[Any], tuple[Any, "str | None"]]


@dataclass
class InputSpec:
    name: str
    type_ref: str | None
    coerce: Coercer | None
    bind: Binder  # plain Python value -> FEEL value of the type, or Invalid
    implicit: bool = False  # read by expressions without being declared (Camunda style)
    description: str | None = None
    unconverted: tuple[type, ...] = ()  # types `bind` returns values of as they are
    numbers_unchecked: bool = False  # `bind` only converts a float or int (to null if not finite)
    errors: tuple[Problem, ...] = ()  # why it cannot be read (an unknown type): null, and these, whatever is given


@dataclass(frozen=True)
class OutputAlias:
    """A required decision's output read by its own name (Camunda 7 DRGs): `name` is the value of
    decision `source`, or of its output `output` when its table has several."""

    name: str
    source: str
    output: str | None = None

    def value(self, values: Mapping[str, Any]) -> Any:
        found = values.get(self.source)
        if self.output is None:
            return found
        return found.get(self.output) if isinstance(found, dict) else None


@dataclass
class CompiledDecision:
    name: str
    logic: Logic
    type_ref: str | None
    coerce: Coercer | None
    requires: list[str]  # decisions and inputs it needs, by name
    where: Location
    aliases: list[OutputAlias] = field(default_factory=list)  # required decisions' outputs it reads by name


@dataclass
class CompiledService:
    name: str
    outputs: list[str]
    parameters: list[str]  # input decisions then input data, by name
    errors: tuple[Problem, ...] = ()  # why it cannot be invoked: it gives null and reports them


@dataclass
class Model:
    definitions: Definitions
    inputs: dict[str, InputSpec]
    decisions: dict[str, CompiledDecision]  # in evaluation order
    knowledge: dict[str, Any]  # BKM and decision service values (FEEL functions), by name
    services: dict[str, CompiledService] = field(default_factory=dict)
    # Found while compiling: warnings, and the errors of elements that do not compile (each of
    # those gives null and reports its errors when evaluated; see decisions/compiler.py).
    problems: list[Problem] = field(default_factory=list)
    imports: dict[str, Model] = field(default_factory=dict)  # imported models, by import name

    def __post_init__(self) -> None:
        self._requires = {name: d.requires for name, d in self.decisions.items()}
        self._order = list(self.decisions)
        self._plans: dict[tuple[str, ...], list[CompiledDecision]] = {}
        self._full_plan = list(self.decisions.values())
        # Per input: name, binder, implicit?, and the types of value kept as they are.
        readable = [s for s in self.inputs.values() if not s.errors]
        self._feel_binders = [(s.name, s.bind, s.implicit, s.unconverted) for s in readable]
        raw = self._inputs_only_table_columns_read()
        self._binders = [(s.name, s.bind, s.implicit, (*s.unconverted, int, float) if s.name in raw else s.unconverted)
                         for s in readable]
        self._unreadable = [(s.name, s.errors) for s in self.inputs.values() if s.errors]
        self._rule_ids = {name: rule_ids(table.table) for name, table in self.tables().items()}

    def tables(self) -> dict[str, CompiledTable]:
        """Every decision table the model reports fired rules of, in evaluation order: each table
        decision by its name, and each characteristic of a points scorecard as
        `<decision>.<characteristic>` (decisions/scorecard.py)."""
        found: dict[str, CompiledTable] = {}
        for name, decision in self.decisions.items():
            if decision.logic.table is not None:
                found[name] = decision.logic.table
            elif decision.logic.scorecard is not None:
                found.update((c.key, c.table) for c in decision.logic.scorecard.characteristics)
        return found

    def decision_of(self, table: str) -> str:
        """The decision that evaluates the table `table` names (see `tables`): itself, or the
        scorecard a characteristic belongs to; the name itself when it names no table."""
        if table in self.decisions:
            return table
        for name, decision in self.decisions.items():
            scorecard = decision.logic.scorecard
            if scorecard is not None and any(c.key == table for c in scorecard.characteristics):
                return name
        return table

    def _inputs_only_table_columns_read(self) -> set[str]:
        """The inputs that can keep a plain float or int: those no expression of the model reads
        except as the whole input expression of a table column (see the module docstring)."""
        names = {name for name, spec in self.inputs.items() if spec.numbers_unchecked}
        for decision in self.decisions.values():
            if not names:
                break
            table, expression, scorecard = decision.logic.table, decision.logic.expression, decision.logic.scorecard
            if decision.logic.errors:
                continue  # it reads nothing
            if table is not None and table.other_reads is not None:
                names -= table.other_reads
            elif scorecard is not None:  # its tables read them, and its reason codes convert them
                for characteristic in scorecard.characteristics:
                    reads = characteristic.table.other_reads
                    names = set() if reads is None else names - reads
            elif expression is not None:
                names -= names_used(expression.ast)
            else:
                return set()
        return names

    # --- description ---------------------------------------------------------------

    @property
    def name(self) -> str:
        return self.definitions.name

    @property
    def key(self) -> str:
        return self.definitions.key or self.definitions.name

    @property
    def input_names(self) -> list[str]:
        return list(self.inputs)

    @property
    def all_input_names(self) -> list[str]:
        """The model's inputs and, qualified by import name, those of the models it imports."""
        names = list(self.inputs)
        for prefix, model in self.imports.items():
            names.extend(f"{prefix}.{n}" for n in model.all_input_names)
        return names

    @property
    def decision_names(self) -> list[str]:
        return list(self._order)

    @property
    def errors(self) -> list[Problem]:
        """The errors found while compiling: each belongs to an element (decision, business
        knowledge model, decision service, input data) that gives null and reports it when
        evaluated. A model with errors loads and evaluates, but is not fit to publish."""
        return [p for p in self.problems if p.severity == "error"]

    @property
    def business_key(self) -> str | None:
        """The input that identifies a case (e.g. an application id), if the model names one."""
        return self.definitions.business_key

    # --- stable rule ids ------------------------------------------------------------

    @property
    def rule_ids(self) -> dict[str, list[str]]:
        """Per decision table decision, the stable id of each rule in rule order (see
        `decisions.tables.rule_ids`): the i-th id belongs to the rule `fired` calls i + 1."""
        return {name: list(ids) for name, ids in self._rule_ids.items()}

    def fired_ids(self, fired: Mapping[str, Sequence[int]]) -> dict[str, list[str]]:
        """`EvaluationResult.fired` (per decision, 1-based rule positions) as stable rule ids.

        Decisions are the model's table decisions, as `fired` reports them; anything else, or a
        position the table does not have, is an `InputError` naming it."""
        ids: dict[str, list[str]] = {}
        for name, positions in fired.items():
            table_ids = self._rule_ids.get(name)
            if table_ids is None:
                known = ", ".join(self._rule_ids) or "none"
                raise InputError(f"fired rules of {name!r}: the model has no decision table decision of that "
                                 f"name; its table decisions: {known}")
            if isinstance(positions, str | bytes) or not isinstance(positions, Sequence):
                raise InputError(f"fired rules of {name!r} must be a list of rule positions, "
                                 f"not {type(positions).__name__}")
            named: list[str] = []
            for position in positions:
                if type(position) is not int or not 1 <= position <= len(table_ids):
                    rules = f"rules 1 to {len(table_ids)}" if table_ids else "no rules"
                    raise InputError(f"fired rules of {name!r}: {position!r} is not a rule position; "
                                     f"the table has {rules}")
                named.append(table_ids[position - 1])
            ids[name] = named
        return ids

    # --- evaluation -----------------------------------------------------------------

    def _plan(self, targets: Sequence[str] | None) -> list[CompiledDecision]:
        if not targets:
            return self._full_plan
        key = tuple(targets)
        plan = self._plans.get(key)
        if plan is None:
            if not targets:
                plan = list(self.decisions.values())
            else:
                unknown = [t for t in targets if t not in self.decisions]
                if unknown:
                    raise InputError(f"unknown decision {unknown[0]!r}; the model has: "
                                     + ", ".join(self._order))
                needed = required_closure(self._requires, targets)
                plan = [d for d in self.decisions.values() if d.name in needed]
            self._plans[key] = plan
        return plan

    def _bind_inputs(self, inputs: Mapping[str, Any], problems: list[Problem], *,
                     feel_values: bool = True, budget: feel.Budget | None = None) -> dict[str, Any]:
        """The evaluation's variables: knowledge, then the inputs converted to FEEL values (with
        `feel_values=False`, the inputs that qualify keep plain floats and ints)."""
        values: dict[str, Any] = self.knowledge.copy()
        given, missing = inputs.get, _MISSING  # locals: this loop runs for every input of every call
        for name, bind, implicit, unconverted in self._feel_binders if feel_values else self._binders:
            raw = given(name, missing)
            if raw is missing:
                if not implicit:
                    problems.append(Problem(f"input '{name}' is missing; it is taken as null",
                                            Location(element=name), "warning", "missing-input"))
                values[name] = None
                continue
            kind = type(raw)
            if kind in unconverted and (kind is not float or isfinite(raw)):  # NaN, infinity: bind to null
                values[name] = raw
                continue
            value = bind(raw)
            if type(value) is Invalid:
                problems.append(Problem(f"input '{name}': {value.message}; it is taken as null",
                                        Location(element=name), "error", "input-type"))
                value = None
            values[name] = value
        for name, errors in self._unreadable:
            values[name] = None
            problems.extend(errors)
        if self.imports:
            self._bind_imports(inputs, values, problems, budget)
        return values

    def _bind_imports(self, inputs: Mapping[str, Any], values: dict[str, Any], problems: list[Problem],
                      budget: feel.Budget | None) -> None:
        """Each imported model is seen through its import name as a context of its inputs, its
        decisions (evaluated with the inputs given under that name) and its functions."""
        for name, model in self.imports.items():
            given: dict[str, Any] = {}
            nested = inputs.get(name)
            if isinstance(nested, Mapping):
                given.update(nested)
            prefix = name + "."
            given.update({k[len(prefix):]: v for k, v in inputs.items() if k.startswith(prefix)})
            result = model.evaluate(given, budget=budget)
            problems.extend(p for p in result.problems if p.code != "missing-input")
            namespace: dict[str, Any] = dict(model.knowledge)
            namespace.update({n: from_python(given.get(n)) for n in model.inputs})
            namespace.update(result.outputs)
            values[name] = namespace

    def evaluate(self, inputs: Mapping[str, Any], *, decisions: Sequence[str] | None = None,
                 trace: bool | Literal["explain"] = False, budget: feel.Budget | None = None) -> EvaluationResult:
        """Evaluate `decisions` (default all) and what they require. `trace=True` records each
        decision's reads, result and fired rules; `trace="explain"` also each table rule's cells
        with the values they saw (decisions/explain.py). Every decision draws on one budget of
        steps and memory (`budget`, default a new one; decisions/feel/budget.py): the decision
        that exceeds it is null, and so is each decision after it, with a problem."""
        if type(inputs) is not dict and not isinstance(inputs, Mapping):
            raise InputError(f"inputs must be a mapping of names to values, not {type(inputs).__name__}")
        problems: list[Problem] = []
        if budget is None and self.imports:
            budget = feel.Budget()  # one for the imported models' decisions too
        values = self._bind_inputs(inputs, problems, feel_values=bool(trace), budget=budget)
        env = feel.Env.over(values, problems, budget)
        exceeded: str | None = None  # why the budget ran out, once a decision has exceeded it
        outputs: dict[str, Any] = {}
        fired: dict[str, list[int]] = {}
        reasons: dict[str, list[Reason]] = {}
        steps: list[TraceStep] | None = [] if trace else None
        for decision in self._plan(decisions) if decisions else self._full_plan:
            name = decision.name
            if name in inputs:  # a given value stands in for the decision
                value = from_python(inputs[name])
                values[name] = outputs[name] = value
                continue
            started = time.perf_counter() if steps is not None else 0.0
            reported = len(problems)
            if exceeded is not None:
                problems.append(Problem(f"not evaluated: {exceeded} before this decision",
                                        decision.where, "error", "feel-budget"))
                values[name] = outputs[name] = None
                continue
            table, scorecard = decision.logic.table, decision.logic.scorecard
            here = env.child({a.name: a.value(values) for a in decision.aliases}) if decision.aliases else env
            if table is not None:
                value, rules = table.evaluate(here)
                fired[name] = rules
            elif scorecard is not None:
                run = scorecard.run(here)
                value, rules = run.score, []
                for characteristic, bins in zip(scorecard.characteristics, run.fired, strict=True):
                    fired[characteristic.key] = bins
                reasons[name] = scorecard.reasons(here, run.points)
            else:
                value = decision.logic.fn(here)
                rules = []
            exceeded = env.exceeded()
            if exceeded is not None:
                value = None  # what it gave was computed from the nulls of an exceeded budget
            if decision.coerce is not None and value is not None:
                value, message = decision.coerce(value)
                if message:
                    problems.append(Problem(f"result of decision '{name}': {message}; it is taken as null",
                                            decision.where, "error", "output-type"))
            values[name] = outputs[name] = value
            if len(problems) > reported:
                expression = decision.logic.expression
                _locate(problems, reported, decision.where, expression.text if expression is not None else None)
            scoring = decision.logic.scoring
            if scoring is not None and scoring.baseline:
                reasons[name] = scoring.reasons(here, value)
            if steps is not None:
                step = self._trace_step(decision, values, value, rules, started)
                if trace == "explain" and table is not None:
                    step.explanations = [e.to_json() for e in explain_rules(
                        name, table, here, rules, self._rule_ids[name], range(table.rule_count))]
                elif trace == "explain" and scorecard is not None:
                    step.explanations = [e.to_json() for c in scorecard.characteristics for e in explain_rules(
                        c.key, c.table, here, fired[c.key], self._rule_ids[c.key], range(c.table.rule_count))]
                steps.append(step)
        if decisions:
            outputs = {n: outputs[n] for n in decisions}
        return EvaluationResult(outputs, fired, problems, steps, reasons)

    def _trace_step(self, decision: CompiledDecision, values: dict[str, Any], value: Any,
                    rules: list[int], started: float) -> TraceStep:
        table = decision.logic.table
        kind = "decision table" if table is not None else "scorecard" if decision.logic.scorecard else \
            "error" if decision.logic.errors else "expression"
        annotations: dict[int, list[str]] = {}
        if table is not None:
            for r in rules:
                notes = table.table.rules[r - 1].annotations
                if notes:
                    annotations[r] = list(notes)
        read = {n: values.get(n) for n in decision.requires}
        return TraceStep(decision.name, kind, read, value, list(rules), annotations,
                         (time.perf_counter() - started) * 1e6)

    def explain(self, inputs: Mapping[str, Any], decision: str, rule: int | str | None = None) -> list[RuleExplanation]:
        """Why `rule` (number or id; default every rule) of `decision` fired or did not, for
        these inputs: each cell with the value it saw (decisions/explain.py)."""
        return explain(self, inputs, decision, rule)

    def verify(self) -> Verification:
        """Every decision table's overlaps, gaps, rules that never fire and subsumed rules
        (decisions/verify.py)."""
        return verify(self)

    def invoke_service(self, name: str, inputs: Mapping[str, Any], budget: feel.Budget | None = None) -> EvaluationResult:
        service = self.services.get(name)
        if service is None:
            raise InputError(f"unknown decision service {name!r}")
        if service.errors:
            return EvaluationResult({name: None}, {}, list(service.errors), None)
        result = self.evaluate({k: v for k, v in inputs.items()}, decisions=service.outputs, budget=budget)
        if len(service.outputs) == 1:
            value = result.outputs[service.outputs[0]]
        else:
            value = dict(result.outputs)
        return EvaluationResult({name: value}, result.fired, result.problems, result.trace)

    def evaluate_batch(self, frame: pd.DataFrame, *, decisions: Sequence[str] | None = None,
                       fired: bool = False) -> pd.DataFrame:
        from decisions.batch import evaluate_batch

        return evaluate_batch(self, frame, decisions=decisions, fired=fired)


def _locate(problems: list[Problem], start: int, where: Location, text: str | None) -> None:
    """Problems reported from `start` on while a decision was evaluated (a built-in's, say) that
    do not say where they happened are given the decision's location, and the text of its
    expression when it is a literal expression; what they know is kept."""
    for i in range(start, len(problems)):
        found = problems[i].location
        if found.element is None:
            problems[i] = dataclasses.replace(problems[i], location=dataclasses.replace(
                found, file=found.file or where.file, element=where.element, line=found.line or where.line,
                path=found.path or where.path, text=found.text if found.text is not None else text))
