"""Batch evaluation over a DataFrame, vectorised over columns where the logic allows.

The result is identical, row for row, to calling `Model.evaluate` on each row: the same
outputs, because the vectorised path is only an exact shortcut of the same rule index.

A decision table is vectorised when its hit policy is FIRST or UNIQUE, every input column is
a plain name with a numeric, boolean or string column behind it, every cell is summarised by
the rule index, and every rule's outputs are constants. Each column is then turned into
region numbers (`searchsorted` on the index's endpoints, `factorize` for strings), region
numbers into rule bitmasks (64 rules per uint64 word) through a lookup table, the masks are
ANDed across columns and the first set bit picks the rule. Numbers are compared as floats
only when that is exact: every endpoint must round-trip through a float (at most 15
significant digits), which makes `float(x) < float(d)` the same as `Decimal(repr(x)) < d`.
Rows the shortcut cannot decide exactly (a UNIQUE violation, a value of another type, an
allowed-values check) and decisions it cannot handle at all are evaluated row by row with
the same compiled closures `evaluate` uses.

With `fired=True` the fired rules come along: the shortcut's first set bit is the one rule
FIRST and UNIQUE fire, and the row path keeps what the table's `evaluate` reports.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Sequence
from decimal import Decimal
from functools import partial
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from decisions import feel
from decisions.errors import Problem
from decisions.feel.values import DECIMAL_CONTEXT, from_python
from decisions.itemtypes import builtin_type
from decisions.tables.index import ColumnIndex
from decisions.tables.table import CompiledTable

if TYPE_CHECKING:
    from decisions.compiled import CompiledDecision, Model
    from decisions.scorecard import CompiledCharacteristic, CompiledScorecard
    from decisions.scoring import CompiledScoring

_EXACT_FLOAT_DIGITS = 15
_MAX_EXACT_INT = 2**53


def _split_words(mask: int, words: int) -> list[int]:
    return [(mask >> (64 * w)) & 0xFFFFFFFFFFFFFFFF for w in range(words)]


def _lut(masks: Sequence[int], words: int) -> np.ndarray:
    return np.array([_split_words(m, words) for m in masks], dtype=np.uint64).reshape(len(masks), words)


class _Columns:
    """The values the decisions read: DataFrame columns, as arrays and, on demand, as FEEL values."""

    def __init__(self, model: Model, frame: pd.DataFrame) -> None:
        self.model = model
        self.frame = frame
        self.n = len(frame)
        self.arrays: dict[str, np.ndarray] = {}  # decision outputs, as object arrays of FEEL values
        # multi-output tables: output names and one array per output; `whole` holds their contexts
        self.parts: dict[str, tuple[list[str], list[np.ndarray]]] = {}
        self.whole: dict[str, np.ndarray] = {}
        self._feel: dict[str, list[Any]] = {}
        self.problems: list[list[Problem] | None] = [None] * self.n

    def add_problem(self, row: int, problem: Problem) -> None:
        found = self.problems[row]
        if found is None:
            self.problems[row] = [problem]
        else:
            found.append(problem)

    def failed(self, errors: Sequence[Problem]) -> list[Any]:
        """A column of nulls for an element that does not compile, each row reporting its errors."""
        for i in range(self.n):
            for problem in errors:
                self.add_problem(i, problem)
        return [None] * self.n

    def feel_values(self, name: str) -> list[Any]:
        """Column `name` as FEEL values, converted and type-checked exactly as `evaluate` does."""
        cached = self._feel.get(name)
        if cached is not None:
            return cached
        if name in self.arrays:
            values = list(self.arrays[name].tolist())
        elif name in self.whole:
            values = list(self.whole[name].tolist())
        elif name in self.parts:
            names, arrays = self.parts[name]
            values = [dict(zip(names, row, strict=True)) for row in zip(*(a.tolist() for a in arrays), strict=True)]
        elif (spec := self.model.inputs.get(name)) is not None and spec.errors:
            values = self.failed(spec.errors)  # an input that cannot be read: null, whatever is given
        elif name in self.frame.columns:
            values = [from_python(v) for v in self.frame[name].tolist()]
            if spec is not None and spec.coerce is not None:
                for i, value in enumerate(values):
                    if value is not None:
                        value, message = spec.coerce(value)
                        if message:
                            self.add_problem(i, Problem(f"input '{name}': {message}; it is taken as null",
                                                        code="input-type"))
                        values[i] = value
        else:
            values = [None] * self.n
        self._feel[name] = values
        return values


def _bind_aliases(cols: _Columns, decision: CompiledDecision, visible: list[str]) -> list[str]:
    """The required decisions' outputs the decision reads by their own names (Camunda DRGs), as
    columns while it is evaluated; the names bound, for `_unbind_aliases`."""
    bound = []
    for alias in decision.aliases:
        values = cols.feel_values(alias.source)
        if alias.output is not None:
            values = [v.get(alias.output) if isinstance(v, dict) else None for v in values]
        array = np.empty(cols.n, dtype=object)
        array[:] = values
        cols.arrays[alias.name] = array
        cols._feel.pop(alias.name, None)
        visible.append(alias.name)
        bound.append(alias.name)
    return bound


def _unbind_aliases(cols: _Columns, names: list[str], visible: list[str]) -> None:
    for name in names:
        cols.arrays.pop(name, None)
        cols._feel.pop(name, None)
        visible.remove(name)


def _numeric_regions(index: ColumnIndex, series: pd.Series) -> tuple[np.ndarray, np.ndarray] | None:
    """Region number per row, and the rows needing the slow path; None if not exact."""
    if index.number_masks is None:
        return None
    for b in index.breaks:
        if len(b.as_tuple().digits) > _EXACT_FLOAT_DIGITS or Decimal(float.__repr__(float(b))) != b:
            return None
    x = series.to_numpy(dtype=np.float64, na_value=np.nan)
    slow = np.zeros(len(x), dtype=bool)
    if series.dtype.kind in "iu":
        raw = series.to_numpy()
        slow |= np.abs(raw.astype(np.float64)) >= _MAX_EXACT_INT
    breaks = np.array([float(b) for b in index.breaks], dtype=np.float64)
    k = len(breaks)
    pos = np.searchsorted(breaks, x, side="left")
    if k:
        hit = breaks[np.minimum(pos, k - 1)] == x
        eq = (pos < k) & hit
    else:
        eq = np.zeros(len(x), dtype=bool)
    regions = 2 * pos + eq.astype(np.int64)
    nan = np.isnan(x)
    regions[nan] = 2 * k + 1  # one past the number regions: the null region
    return regions, slow


def _column_masks(index: ColumnIndex, series: pd.Series, words: int) -> tuple[np.ndarray, np.ndarray] | None:
    """Rule masks per row for one input column, and the rows needing the slow path."""
    kind = series.dtype.kind
    if kind in "iuf":
        found = _numeric_regions(index, series)
        if found is None:
            return None
        regions, slow = found
        assert index.number_masks is not None
        lut = _lut([*index.number_masks, index.null_mask], words)
        return lut[regions], slow
    if kind == "b":
        lut = _lut([index.false_mask, index.true_mask], words)
        return lut[series.to_numpy(dtype=np.int64)], np.zeros(len(series), dtype=bool)
    if kind in "OSUT" or isinstance(series.dtype, pd.CategoricalDtype | pd.StringDtype):
        if index.string_masks is None:
            return None
        codes, uniques = pd.factorize(series, use_na_sentinel=True)
        masks: list[int] = []
        slow_unique: list[bool] = []
        for u in uniques:
            if isinstance(u, str):
                masks.append(index.string_masks.get(u, index.other_string_mask))
                slow_unique.append(False)
            else:
                masks.append(0)
                slow_unique.append(True)
        masks.append(index.null_mask)  # code -1: missing
        slow_unique.append(False)
        lut = _lut(masks, words)
        return lut[codes], np.array(slow_unique, dtype=bool)[codes]
    return None


def _first_bit(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index of the lowest set bit over multi-word masks (n, W), and whether any bit is set."""
    n, words = mask.shape
    first = np.full(n, -1, dtype=np.int64)
    for w in range(words - 1, -1, -1):
        m = mask[:, w]
        nonzero = m != 0
        low = m & (~m + np.uint64(1))
        _, exponent = np.frexp(low.astype(np.float64))
        first = np.where(nonzero, exponent.astype(np.int64) - 1 + 64 * w, first)
    return first, first >= 0


def _vectorised_table(decision: CompiledDecision | None, table: CompiledTable, cols: _Columns,
                      frame: pd.DataFrame) -> tuple[list[np.ndarray], np.ndarray, np.ndarray] | None:
    """Outputs (one object array per output column), fired rule (1-based, 0 none), slow rows.

    `decision` None: a scorecard characteristic's COLLECT SUM table (decisions/scorecard.py), taken
    as UNIQUE: where one bin matches, the sum is its points; rows where several do are slow."""
    bins = decision is None and table.hit_policy == "COLLECT" and table.aggregation == "SUM"
    if (table.hit_policy not in ("FIRST", "UNIQUE") and not bins) or table.pending_any:
        return None
    coerce = decision.coerce if decision is not None else None
    if any(c is None for c in table.constant_outputs):
        return None
    words = max(1, (table.rule_count + 63) // 64)
    n = cols.n
    mask = np.empty((n, words), dtype=np.uint64)
    mask[:] = np.array(_split_words(table.full_mask, words), dtype=np.uint64)
    slow = np.zeros(n, dtype=bool)
    for c, inp in enumerate(table.inputs):
        if inp.name is None:
            return None
        if inp.name in cols.arrays:
            series = pd.Series(cols.arrays[inp.name], dtype=object)
        elif inp.name in frame.columns:
            series = frame[inp.name]
            spec = cols.model.inputs.get(inp.name)
            if spec is not None and spec.type_ref is not None:
                kind = builtin_type(spec.type_ref)
                expected = {"number": "iuf", "boolean": "b", "string": "OSUT"}.get(kind or "")
                if expected is None or (series.dtype.kind not in expected
                                        and not isinstance(series.dtype, pd.CategoricalDtype | pd.StringDtype)):
                    return None
        else:
            return None  # a missing column: let the row path report it
        found = _column_masks(table.columns[c], series, words)
        if found is None:
            return None
        col_mask, col_slow = found
        mask &= col_mask
        slow |= col_slow
        if inp.allowed is not None:
            slow |= _not_allowed(inp.allowed, series)
    # Constant outputs, coerced once per rule to the decision's type; a rule whose output
    # does not conform is left to the row path, which reports it.
    outputs: list[tuple[Any, ...]] = []
    bad_rules: list[int] = []
    for r, out in enumerate(table.constant_outputs):
        assert out is not None
        if bins:
            if type(out[0]) is not Decimal:
                return None
            out = (DECIMAL_CONTEXT.add(Decimal(0), out[0]),)  # the sum of one match, as COLLECT SUM gives it
        value = table._shape(out)
        if coerce is not None and value is not None:
            coerced, message = coerce(value)
            if message or coerced != value:
                bad_rules.append(r)
        outputs.append(out)
    env = feel.Env({}, [])
    default = table._default(env)
    if env.problems:
        return None
    if table.hit_policy == "UNIQUE" or bins:
        counts = np.zeros(n, dtype=np.int64)
        for w in range(words):
            counts += np.bitwise_count(mask[:, w]).astype(np.int64)
        slow |= counts > 1
    first, any_hit = _first_bit(mask)
    rule = np.where(any_hit, first, table.rule_count)
    if bad_rules:
        slow |= np.isin(rule, np.array(bad_rules))
    per_output: list[np.ndarray] = []
    for o in range(len(table.outputs)):
        choices = np.empty(table.rule_count + 1, dtype=object)
        for r, out in enumerate(outputs):
            choices[r] = out[o]
        if table.single_output:
            choices[table.rule_count] = default
        else:
            choices[table.rule_count] = default.get(table.output_names[o]) if isinstance(default, dict) else None
        per_output.append(choices[rule])
    fired = np.where(any_hit, first + 1, 0)
    if coerce is not None and default is not None:
        coerced, message = coerce(default)
        if message or coerced != default:
            slow |= ~any_hit
    return per_output, fired, slow


def _not_allowed(allowed: Any, series: pd.Series) -> np.ndarray:
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    env = feel.Env({}, [])
    bad = [from_python(u) is not None and allowed(env, from_python(u)) is not True for u in uniques]
    bad.append(False)
    return np.array(bad, dtype=bool)[codes]


def _row_values(cols: _Columns, names: Sequence[str], i: int) -> dict[str, Any]:
    return {name: cols.feel_values(name)[i] for name in names}


def evaluate_batch(model: Model, frame: pd.DataFrame, *, decisions: Sequence[str] | None = None,
                   fired: bool = False) -> pd.DataFrame:
    """Evaluate every row of `frame` (columns named after the model's inputs).

    Returns one column per decision (for a decision table with several outputs, one column per
    output, named `<decision>.<output>`) and a `problems` column (None, or the row's problems).

    A scoring decision with baselines adds its reason codes, ranked: `<decision>.reason <k>` (the
    input) and `<decision>.reason <k> contribution`, for k from 1 to its number of reasons
    (decisions/scoring/); None where a row has fewer. A points scorecard adds the same columns
    (the characteristic, minus its points lost) and `<decision>.reason <k> code`, its reason code
    (decisions/scorecard.py).

    `fired=True` adds, per decision table (a scorecard's characteristics included) that `evaluate`
    would report in `EvaluationResult.fired` (those evaluated for `decisions`, requirements included), a column
    `fired.<decision>`: each row's list of fired rule positions, 1-based in rule order, exactly
    as `evaluate` gives them for that row; an empty list where it gives none, or no entry (the
    decision's value given in the frame). `Model.fired_ids` turns positions into stable ids."""
    cols = _Columns(model, frame)
    plan = model._plan(decisions)
    for spec in model.inputs.values():
        if spec.errors:  # reported on every row, as `evaluate` reports them on every call
            cols.feel_values(spec.name)
    visible = list(model.inputs)
    fired_rules: dict[str, list[Any]] = {}  # per table decision, each row's fired rules
    reason_columns: dict[str, dict[str, np.ndarray]] = {}  # per scoring decision with baselines
    for decision in plan:
        name = decision.name
        table = decision.logic.table
        multi = table is not None and not table.single_output
        if name in frame.columns:
            given = np.empty(cols.n, dtype=object)
            given[:] = [from_python(v) for v in frame[name].tolist()]
            cols.arrays[name] = given
            visible.append(name)
            if fired and table is not None:
                fired_rules[name] = _rule_lists(np.zeros(cols.n, dtype=np.int64))
            if fired and decision.logic.scorecard is not None:
                for characteristic in decision.logic.scorecard.characteristics:
                    fired_rules[characteristic.key] = _rule_lists(np.zeros(cols.n, dtype=np.int64))
            continue
        if decision.logic.errors:  # a decision that does not compile: null and its errors, as `evaluate` gives
            cols.arrays[name] = np.empty(cols.n, dtype=object)
            cols.arrays[name][:] = cols.failed(decision.logic.errors)
            visible.append(name)
            continue
        aliased = _bind_aliases(cols, decision, visible)
        try:
            if decision.logic.scorecard is not None:
                cols.arrays[name], reason_columns[name] = _scorecard(model, decision, decision.logic.scorecard, cols,
                                                                      frame, visible, fired_rules if fired else None)
                visible.append(name)
                continue
            vector = _vectorised_table(decision, table, cols, frame) if table is not None else None
            scoring = decision.logic.scoring
            scored = _vectorised_scoring(decision, scoring, cols) if scoring is not None else None
            rules_of_rows: list[Any] | None = None
            if vector is not None:
                per_output, first_rule, slow = vector
                rows = np.flatnonzero(slow)
                if fired:
                    rules_of_rows = _rule_lists(first_rule)
            elif scored is not None:
                per_output, rows = [scored.values], np.flatnonzero(scored.slow)
            else:
                per_output = [np.empty(cols.n, dtype=object) for _ in (table.outputs if multi and table else [0])]
                rows = np.arange(cols.n)
                if fired and table is not None:
                    rules_of_rows = [None] * cols.n  # every row is evaluated below
            if rules_of_rows is not None:
                fired_rules[name] = rules_of_rows
            if len(rows):
                slow_values = np.empty(cols.n, dtype=object)
                _evaluate_rows(model, decision, cols, visible, slow_values, rows, rules_of_rows)
                if multi and table is not None:
                    for o, out in enumerate(table.output_names):
                        per_output[o][rows] = [v.get(out) if isinstance(v, dict) else None
                                               for v in slow_values[rows].tolist()]
                    if vector is None:
                        cols.whole[name] = slow_values
                else:
                    per_output[0][rows] = slow_values[rows]
            if multi and table is not None:
                cols.parts[name] = (table.output_names, per_output)
            else:
                cols.arrays[name] = per_output[0]
            if scoring is not None and scoring.baseline:
                reason_columns[name] = _reason_columns(model, scoring, cols, visible, scored)
        finally:
            _unbind_aliases(cols, aliased, visible)
        visible.append(name)
    result: dict[str, Any] = {}
    wanted = list(decisions) if decisions else [d.name for d in plan]
    for name in wanted:
        if name in cols.parts:
            names, arrays = cols.parts[name]
            for out, array in zip(names, arrays, strict=True):
                result[f"{name}.{out}"] = array
        else:
            result[name] = cols.arrays[name]
        result.update(reason_columns.get(name, {}))
    for name, rules_of_rows in fired_rules.items():
        result[f"fired.{name}"] = rules_of_rows
    result["problems"] = cols.problems
    # object dtype throughout: pandas would otherwise turn None into NaN in inferred string columns
    return pd.DataFrame({k: pd.Series(v, dtype=object, index=frame.index) for k, v in result.items()})


def _rule_lists(first_rule: np.ndarray) -> list[list[int]]:
    """Per row, the list of fired rules from the one fired rule (1-based; 0: none fired)."""
    rules = first_rule.tolist()
    # A list per row is most of the cost of `fired=True`, and most of that is the garbage
    # collector walking the frame's objects again and again while a million new lists appear;
    # the lists hold only ints, so they can form no cycle for it to find.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return [[r] if r else [] for r in rules]
    finally:
        if collecting:
            gc.enable()


def _evaluate_rows(model: Model, decision: CompiledDecision, cols: _Columns, visible: list[str],
                   values: np.ndarray, rows: np.ndarray, fired: list[Any] | None = None) -> None:
    """Evaluate `decision` on each of `rows` into `values`, and its fired rules into `fired`."""
    table = decision.logic.table
    for i in rows.tolist():
        problems: list[Problem] = []
        env = feel.Env(model.knowledge, problems)
        env.vars.update(_row_values(cols, visible, i))
        if table is not None:
            value, rules = table.evaluate(env)
            if fired is not None:
                fired[i] = rules
        else:
            value = decision.logic.fn(env)
        if decision.coerce is not None and value is not None:
            value, message = decision.coerce(value)
            if message:
                problems.append(Problem(f"result of decision '{decision.name}': {message}; it is taken as null",
                                        decision.where, "error", "output-type"))
        values[i] = value
        for p in problems:
            cols.add_problem(i, p)


# --- scoring decisions (decisions/scoring/) ----------------------------------------------------


class _Scored:
    """A scoring decision over the frame: FEEL values, rows left to the exact path, float columns."""

    def __init__(self, values: np.ndarray, slow: np.ndarray, columns: dict[str, np.ndarray],
                 scores: np.ndarray) -> None:
        self.values = values
        self.slow = slow
        self.columns = columns
        self.scores = scores


def _float_column(cols: _Columns, name: str) -> tuple[np.ndarray, np.ndarray] | None:
    """Column `name` as float64 and the rows whose value is not a plain number; None: not numeric."""
    if name in cols.arrays:
        values = cols.arrays[name].tolist()
    elif name in cols.frame.columns and name not in cols.parts and name not in cols.whole:
        spec = cols.model.inputs.get(name)
        if spec is not None and spec.type_ref is not None and builtin_type(spec.type_ref) != "number":
            return None  # a constrained or non-number type: the row path checks each value
        series = cols.frame[name]
        if series.dtype.kind in "iuf":
            x = series.to_numpy(dtype=np.float64, na_value=np.nan)
            slow = np.isnan(x)
            if series.dtype.kind in "iu":
                slow |= np.abs(series.to_numpy().astype(np.float64)) >= _MAX_EXACT_INT
            return x, slow
        values = [from_python(v) for v in series.tolist()]
    else:
        return None
    x = np.array([float(v) if type(v) is Decimal else np.nan for v in values], dtype=np.float64)
    return x, ~np.isfinite(x)


def _vectorised_scoring(decision: CompiledDecision, scoring: CompiledScoring, cols: _Columns) -> _Scored | None:
    """The score of every row the float function answers as FEEL would; the others are marked slow."""
    if not scoring.variables or cols.n == 0:
        return None
    if decision.type_ref is not None and builtin_type(decision.type_ref) != "number":
        return None
    columns: dict[str, np.ndarray] = {}
    slow = np.zeros(cols.n, dtype=bool)
    for name in scoring.variables:
        found = _float_column(cols, name)
        if found is None:
            return None
        columns[name], bad = found
        slow |= bad
        if name in scoring.domain:
            low, high = scoring.domain[name]
            slow |= (columns[name] < float(low)) | (columns[name] > float(high))
            # the float bounds round: values next to an end are left to the exact comparison
            slow |= np.isclose(columns[name], float(low), rtol=1e-15, atol=0) | \
                np.isclose(columns[name], float(high), rtol=1e-15, atol=0)
    scores = np.array(scoring.vectorised(columns), dtype=np.float64)
    slow |= ~np.isfinite(scores)
    values = np.empty(cols.n, dtype=object)
    fast = np.flatnonzero(~slow)
    values[fast] = [from_python(v) for v in scores[fast].tolist()]
    return _Scored(values, slow, columns, scores)


def _reason_columns(model: Model, scoring: CompiledScoring, cols: _Columns, visible: list[str],
                    scored: _Scored | None) -> dict[str, np.ndarray]:
    """The ranked reason codes of each row: by the float function where the score came from it,
    else exactly, as `evaluate` gives them."""
    n = cols.n
    names = np.empty((n, scoring.top), dtype=object)
    amounts = np.empty((n, scoring.top), dtype=object)
    exact_rows = np.arange(n) if scored is None else np.flatnonzero(scored.slow)
    if scored is not None:
        fast = ~scored.slow
        order = list(scoring.baseline)
        moved = np.zeros((n, len(order)), dtype=np.float64)
        for j, name in enumerate(order):
            shifted = dict(scored.columns)
            shifted[name] = np.full(n, float(scoring.baseline[name]))
            moved[:, j] = scored.scores - np.asarray(scoring.vectorised(shifted), dtype=np.float64)
        unfit = fast & ~np.all(np.isfinite(moved), axis=1)  # a baseline the float path cannot score
        exact_rows = np.flatnonzero(~fast | unfit)
        fast &= ~unfit
        ranked = np.argsort(-np.abs(moved), axis=1, kind="stable")
        for row in np.flatnonzero(fast).tolist():
            k = 0
            for j in ranked[row].tolist():
                if k == scoring.top or moved[row, j] == 0:
                    break
                names[row, k], amounts[row, k] = order[j], from_python(float(moved[row, j]))
                k += 1
    values = cols.arrays[scoring.name]
    for row in exact_rows.tolist():
        env = feel.Env(model.knowledge, [])
        env.vars.update(_row_values(cols, visible, row))
        for k, reason in enumerate(scoring.reasons(env, values[row])):
            names[row, k], amounts[row, k] = reason.input, reason.contribution
    out: dict[str, np.ndarray] = {}
    for k in range(scoring.top):
        out[f"{scoring.name}.reason {k + 1}"] = names[:, k]
        out[f"{scoring.name}.reason {k + 1} contribution"] = amounts[:, k]
    return out


# --- points scorecards (decisions/scorecard.py) ---------------------------------------------


def _scorecard(model: Model, decision: CompiledDecision, scorecard: CompiledScorecard, cols: _Columns,
               frame: pd.DataFrame, visible: list[str], fired: dict[str, list[Any]] | None
               ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The scores and reason-code columns of a scorecard over the frame: each characteristic's table
    vectorised where it can be (else row by row, as `evaluate` runs it), then per row the score and
    its reason codes, exactly as `evaluate` gives them."""
    n = cols.n
    points: list[np.ndarray] = []
    envs: dict[int, feel.Env] = {}

    def env_of(row: int) -> feel.Env:
        env = envs.get(row)
        if env is None:
            env = envs[row] = feel.Env(model.knowledge, [])
            env.vars.update(_row_values(cols, visible, row))
        return env

    def value_of(characteristic: CompiledCharacteristic, row: int) -> Any:
        name = characteristic.table.inputs[0].name
        return cols.feel_values(name)[row] if name is not None else characteristic.value(env_of(row))

    for characteristic in scorecard.characteristics:
        table = characteristic.table
        vector = _vectorised_table(None, table, cols, frame)
        rules: list[Any] | None = None
        if vector is not None:
            [values], first_rule, slow = vector
            rows = np.flatnonzero(slow).tolist()
            if fired is not None:
                rules = _rule_lists(first_rule)
        else:
            values = np.empty(n, dtype=object)
            rows = list(range(n))
            if fired is not None:
                rules = [None] * n
        slow_rows = set(rows)
        for i in rows:
            problems: list[Problem] = []
            env = feel.Env(model.knowledge, problems)
            env.vars.update(_row_values(cols, visible, i))
            values[i], found = table.evaluate(env)
            if rules is not None:
                rules[i] = found
            if values[i] is None:
                problems.append(scorecard.no_bin(characteristic, characteristic.value(env)))
            for p in problems:
                cols.add_problem(i, p)
        for i, value in enumerate(values.tolist()):
            if value is None and i not in slow_rows:  # a row the vector answered with no bin
                cols.add_problem(i, scorecard.no_bin(characteristic, value_of(characteristic, i)))
        if rules is not None and fired is not None:
            fired[characteristic.key] = rules
        points.append(values)
    scores = np.empty(n, dtype=object)
    top = scorecard.top
    names = np.empty((n, top), dtype=object)
    amounts = np.empty((n, top), dtype=object)
    codes = np.empty((n, top), dtype=object)
    numeric = decision.type_ref is not None and builtin_type(decision.type_ref) == "number"
    for i, row_points in enumerate(zip(*(p.tolist() for p in points), strict=True)):
        score = scorecard.score(row_points)
        if decision.coerce is not None and score is not None and not numeric:
            score, message = decision.coerce(score)
            if message:
                cols.add_problem(i, Problem(f"result of decision '{decision.name}': {message}; it is taken as null",
                                            decision.where, "error", "output-type"))
        scores[i] = score
        reasons = scorecard.reasons_with(row_points, partial(_value_at, value_of, i))
        for k, reason in enumerate(reasons):
            names[i, k], amounts[i, k], codes[i, k] = reason.input, reason.contribution, reason.code
    out: dict[str, np.ndarray] = {}
    for k in range(top):
        out[f"{decision.name}.reason {k + 1}"] = names[:, k]
        out[f"{decision.name}.reason {k + 1} contribution"] = amounts[:, k]
        out[f"{decision.name}.reason {k + 1} code"] = codes[:, k]
    return scores, out


def _value_at(value_of: Callable[[CompiledCharacteristic, int], Any], row: int,
              characteristic: CompiledCharacteristic) -> Any:
    return value_of(characteristic, row)
