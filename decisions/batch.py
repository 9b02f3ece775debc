"""Batch evaluation over a DataFrame, vectorised over columns where the logic allows.

The result is identical, row for row, to calling `Model.evaluate` on each row: the same
outputs, because the vectorised path is only an exact shortcut of the same rule index.

A decision table is vectorised, whatever its hit policy, when every input column is a plain
name with a numeric, boolean or string column behind it, every cell is summarised by the rule
index (no `pending` cell: those read other variables or `?` in ways the index cannot place),
and every rule's outputs and every default output are constants. Each column is read once per
batch and turned into region numbers (`searchsorted` on the index's endpoints, a lookup table
over the range of an integer column, `factorize` for strings, once per column and batch),
region numbers into rule bitmasks (64 rules per uint64 word) through a lookup table, and the
masks are ANDed across columns. Then:

- FIRST, UNIQUE and PRIORITY: the lowest set bit picks the rule (for PRIORITY the bits are put
  in priority order first), and its constant outputs are gathered per output column;
- ANY, COLLECT (with or without an aggregation), RULE ORDER and OUTPUT ORDER: rows are grouped
  by their mask, and the table's own `result_of`, the end of `evaluate`, runs once per distinct
  mask; its value, fired rules and problems are spread over the rows (lists copied per row).
  Sums, minimums and the like are therefore Decimal arithmetic, exactly as `evaluate` does it.

Numbers are compared as floats only when that is exact: every endpoint must round-trip through
a float (at most 15 significant digits), which makes `float(x) < float(d)` the same as
`Decimal(repr(x)) < d`. Rows the shortcut cannot decide exactly (a UNIQUE violation, an int of
2**53 or more, a value of another type, an allowed-values check, a rule output that does not
conform to the decision's type) and decisions it cannot handle at all (a pending cell, an output
or default that is an expression over the row, an input expression that is not a name, a column
of another type than declared) are evaluated row by row with the same compiled closures
`evaluate` uses.

A table with several outputs gives a column per output; for a list-giving hit policy each of
them holds a list per row (the output's values, in the list's order), and later decisions read
the whole lists of contexts.

With `fired=True` the fired rules come along: the one rule FIRST, UNIQUE and PRIORITY fire, the
rules `result_of` reports for each distinct mask, and for rows on the row path what the table's
`evaluate` reports.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable, Sequence
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


def _lut(masks: Iterable[int], words: int, remap: np.ndarray | None = None) -> np.ndarray:
    """Rule masks as uint64 words, (k,) for one word and (k, words) for more. With `remap`, bit p
    of each mask is bit `remap[p]` of the given one (rules taken in another order)."""
    listed = [_split_words(m, words) for m in masks]
    table = np.array(listed, dtype="<u8").reshape(len(listed), words)
    if remap is not None:
        bits = np.unpackbits(table.view(np.uint8), axis=1, bitorder="little")
        moved = np.zeros_like(bits)
        moved[:, :len(remap)] = bits[:, remap]
        table = np.packbits(moved, axis=1, bitorder="little").view("<u8")
    table = table.astype(np.uint64)
    return table[:, 0].copy() if words == 1 else table


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
        self.problems = np.full(self.n, None, dtype=object)  # per row: None or a list of problems
        # per column read as strings: the Series factorized, its codes and distinct values
        self.factorized: dict[str, tuple[pd.Series, np.ndarray, Any]] = {}

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


# A column's region numbers for rows [start, end): columns are read in blocks of rows (below).
Regions = Callable[[int, int], np.ndarray]

# Rows per block: the masks of a block and their temporaries (64 Ki rows, 512 KiB per array)
# stay in cache while every column is applied, where whole columns would go to memory and back
# at each step (on the shared 2-core machine, about a fifth off COLLECT COUNT's batch time).
_BLOCK = 1 << 16


def _numeric_regions(index: ColumnIndex, series: pd.Series) -> tuple[Regions, np.ndarray] | None:
    """Region numbers of the rows, and the rows needing the slow path; None if not exact."""
    if index.number_masks is None:
        return None
    for b in index.breaks:
        if len(b.as_tuple().digits) > _EXACT_FLOAT_DIGITS or Decimal(float.__repr__(float(b))) != b:
            return None
    breaks = np.array([float(b) for b in index.breaks], dtype=np.float64)
    k = len(breaks)
    if isinstance(series.dtype, np.dtype) and series.dtype.kind in "iu" and len(series):
        raw = series.to_numpy()
        found = _integer_regions(breaks, raw)
        if found is not None:
            table, low = found
            # in int64: the column's own type (int8, say) could overflow on subtracting its minimum
            return (lambda s, e: table.take(raw[s:e].astype(np.int64, copy=False) - low)), np.zeros(len(raw), bool)
    x = series.to_numpy(dtype=np.float64, na_value=np.nan)
    slow = np.zeros(len(x), dtype=bool)
    if series.dtype.kind in "iu":
        raw = series.to_numpy()
        slow |= np.abs(raw.astype(np.float64)) >= _MAX_EXACT_INT

    def regions(s: int, e: int) -> np.ndarray:
        part = x[s:e]
        found = _regions_of(breaks, part)
        nan = np.isnan(part)
        if nan.any():
            found[nan] = 2 * k + 1  # one past the number regions: the null region
        return found

    return regions, slow


def _regions_of(breaks: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Region 2i of the values between breaks i-1 and i, 2i+1 of those equal to break i."""
    pos = np.searchsorted(breaks, x, side="left")
    # one NaN past the breaks, so that `pos == k` compares unequal without a bounds check
    padded = np.append(breaks, np.nan)
    regions = pos + pos
    regions += padded.take(pos) == x
    return regions


# An integer column is placed by value, through a table over its range, when the range is at
# most this long (and no longer than the rows): one gather instead of a binary search per row.
_MAX_INTEGER_SPAN = 1 << 20


def _integer_regions(breaks: np.ndarray, raw: np.ndarray) -> tuple[np.ndarray, int] | None:
    """The regions of the integers from the column's minimum to its maximum, and the minimum;
    None when the range is too wide. Below 2**53 in magnitude an int is its float exactly, so
    the regions are those `_regions_of` gives the floats: the table is built with it."""
    low, high = int(raw.min()), int(raw.max())
    span = high - low + 1
    if span > min(_MAX_INTEGER_SPAN, 2 * len(raw)) or low <= -_MAX_EXACT_INT or high >= _MAX_EXACT_INT:
        return None
    return _regions_of(breaks, np.arange(low, high + 1, dtype=np.int64).astype(np.float64)), low


def _codes(cols: _Columns, name: str, series: pd.Series) -> tuple[np.ndarray, Any]:
    """`pd.factorize` of a frame column, once per batch: several tables and checks read it."""
    found = cols.factorized.get(name)
    if found is None or found[0] is not series:
        codes, uniques = pd.factorize(series, use_na_sentinel=True)
        found = cols.factorized[name] = (series, codes, uniques)
    return found[1], found[2]


def _column_masks(index: ColumnIndex, series: pd.Series, words: int, cols: _Columns, name: str,
                  remap: np.ndarray | None) -> tuple[np.ndarray, Regions, np.ndarray] | None:
    """For one input column: the rule masks of its regions (a `_lut`), the rows' region numbers
    (by block) and the rows needing the slow path. `remap`: bit positions permuted (`_lut`)."""
    kind = series.dtype.kind
    if kind in "iuf":
        found = _numeric_regions(index, series)
        if found is None:
            return None
        regions, slow = found
        assert index.number_masks is not None
        return _lut([*index.number_masks, index.null_mask], words, remap), regions, slow
    if kind == "b":
        values = series.to_numpy(dtype=np.int64)
        return (_lut([index.false_mask, index.true_mask], words, remap), lambda s, e: values[s:e],
                np.zeros(len(series), dtype=bool))
    if kind in "OSUT" or isinstance(series.dtype, pd.CategoricalDtype | pd.StringDtype):
        if index.string_masks is None:
            return None
        codes, uniques = _codes(cols, name, series)
        masks: list[int] = []
        slow_unique: list[bool] = []
        for u in uniques:
            if isinstance(u, str):
                masks.append(index.string_masks.get(u, index.other_string_mask))
                slow_unique.append(False)
            else:
                masks.append(0)
                slow_unique.append(True)
        masks.append(index.null_mask)  # code -1, the last: missing
        slow_unique.append(False)
        return (_lut(masks, words, remap), lambda s, e: codes[s:e],
                np.array(slow_unique, dtype=bool).take(codes))
    return None


def _first_bit(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index of the lowest set bit of each row's mask ((n,) or (n, W) words), and whether any is set."""
    if mask.ndim == 1:
        # the lowest set bit alone, minus one, is as many ones as the bit's index (64 for none)
        low = mask & (~mask + np.uint64(1))
        low -= np.uint64(1)
        first = np.bitwise_count(low).astype(np.int64)
        return first, first < 64
    n, words = mask.shape
    first = np.full(n, -1, dtype=np.int64)
    for w in range(words - 1, -1, -1):
        m = mask[:, w]
        nonzero = m != 0
        low = m & (~m + np.uint64(1))
        _, exponent = np.frexp(low.astype(np.float64))
        first = np.where(nonzero, exponent.astype(np.int64) - 1 + 64 * w, first)
    return first, first >= 0


def _bit_count(mask: np.ndarray) -> np.ndarray:
    counts = np.zeros(len(mask), dtype=np.int64)
    if mask.ndim == 1:
        counts += np.bitwise_count(mask)
        return counts
    for w in range(mask.shape[1]):
        counts += np.bitwise_count(mask[:, w]).astype(np.int64)
    return counts


class _TableVector:
    """A decision table over the frame: each output column, the rows left to the row path, and
    each row's fired rules (built on demand, as lists)."""

    def __init__(self, per_output: list[np.ndarray], slow: np.ndarray, fired: Callable[[], list[Any]],
                 whole: np.ndarray | None = None) -> None:
        self.per_output = per_output
        self.slow = slow
        self.fired = fired
        self.whole = whole  # a list-giving table with several outputs: each row's value (shared objects)


# Hit policies whose result is a list: in a batch, each output column holds a list per row.
_LIST_POLICIES = ("RULE ORDER", "OUTPUT ORDER")


def _gives_lists(table: CompiledTable) -> bool:
    return table.hit_policy in _LIST_POLICIES or (table.hit_policy == "COLLECT" and table.aggregation is None)


def _rule_masks(table: CompiledTable, cols: _Columns, frame: pd.DataFrame, words: int,
                remap: np.ndarray | None) -> tuple[np.ndarray, np.ndarray] | None:
    """Each row's mask of the rules whose every cell matches, and the rows the masks cannot
    answer exactly (left to the row path); None when a column cannot be vectorised: an input
    that is not a plain name, a column that is missing, of another type than its declared
    one or of a kind the index has no regions for."""
    n = cols.n
    columns: list[tuple[np.ndarray, Regions]] = []  # each column's region masks and region numbers
    slow = np.zeros(n, dtype=bool)
    for c, inp in enumerate(table.inputs):
        if inp.name is None:
            return None
        if inp.name in cols.arrays:
            series = pd.Series(cols.arrays[inp.name], dtype=object)
            key = f"\x00decision {inp.name}"  # never a frame column's cache entry
        elif inp.name in frame.columns:
            series = frame[inp.name]
            key = inp.name
            spec = cols.model.inputs.get(inp.name)
            if spec is not None and spec.errors:
                return None
            if spec is not None and spec.type_ref is not None:
                kind = builtin_type(spec.type_ref)
                expected = {"number": "iuf", "boolean": "b", "string": "OSUT"}.get(kind or "")
                if expected is None or (series.dtype.kind not in expected
                                        and not isinstance(series.dtype, pd.CategoricalDtype | pd.StringDtype)):
                    return None
        else:
            return None  # a missing column: let the row path report it
        found = _column_masks(table.columns[c], series, words, cols, key, remap)
        if found is None:
            return None
        lut, regions, col_slow = found
        columns.append((lut, regions))
        slow |= col_slow
        if inp.allowed is not None:
            slow |= _not_allowed(inp.allowed, series, cols, key)
    if not columns:  # a table without inputs: every rule is a candidate
        return np.repeat(_lut([table.full_mask], words, remap), n, axis=0), slow
    mask = np.empty((n,) if words == 1 else (n, words), dtype=np.uint64)
    for start in range(0, n, _BLOCK):
        end = min(start + _BLOCK, n)
        block = mask[start:end]
        first, *others = columns
        np.take(first[0], first[1](start, end), axis=0, out=block)
        for lut, regions in others:
            block &= lut.take(regions(start, end), axis=0)
    return mask, slow


def _vectorised_table(decision: CompiledDecision | None, table: CompiledTable, cols: _Columns,
                      frame: pd.DataFrame) -> _TableVector | None:
    """The table over the frame, or None when it cannot be vectorised (it runs row by row).

    Vectorised: tables whose inputs are plain names over frame columns or earlier decisions,
    whose cells the index summarises (no `pending` cell) and whose outputs and default outputs
    are constants. Rows whose values the masks cannot place exactly (an int beyond 2**53, a
    string column holding other values, a value outside the allowed ones) are marked slow.

    FIRST, UNIQUE and PRIORITY take one rule per row from the masks (PRIORITY with the bits
    ordered by priority); the other hit policies group the rows by their mask and call the
    table's own `result_of` once per distinct mask. `decision` None: a scorecard
    characteristic's COLLECT SUM table (decisions/scorecard.py), taken as UNIQUE: where one
    bin matches, the sum is its points; rows where several do are slow."""
    bins = decision is None and table.hit_policy == "COLLECT" and table.aggregation == "SUM"
    if table.pending_any or any(c is None for c in table.constant_outputs):
        return None
    env = feel.Env({}, [])
    default = table._default(env)
    if env.problems:
        return None  # a default output that reads the row: row by row
    words = max(1, (table.rule_count + 63) // 64)
    if table.hit_policy == "PRIORITY" and not bins:
        outputs = table.constant_outputs
        order = sorted(range(table.rule_count),
                       key=lambda r: (table._priority(outputs[r]), r))  # type: ignore[arg-type]
        found = _rule_masks(table, cols, frame, words, np.array(order, dtype=np.int64))
        if found is None:
            return None
        return _one_rule(decision, table, cols, *found, order, default, bins)
    found = _rule_masks(table, cols, frame, words, None)
    if found is None:
        return None
    if table.hit_policy in ("FIRST", "UNIQUE") or bins:
        return _one_rule(decision, table, cols, *found, None, default, bins)
    return _by_distinct_mask(decision, table, cols, *found)


def _one_rule(decision: CompiledDecision | None, table: CompiledTable, cols: _Columns, mask: np.ndarray,
              slow: np.ndarray, order: list[int] | None, default: Any, bins: bool) -> _TableVector | None:
    """FIRST, UNIQUE (one match; several are slow rows, which report the violation) and
    PRIORITY (the lowest bit of masks whose bits are in priority order: `order[bit]` is the
    rule): one rule per row, its constant outputs gathered per output column."""
    coerce = decision.coerce if decision is not None else None
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
    if table.hit_policy == "UNIQUE" or bins:
        slow |= _bit_count(mask) > 1
    first, any_hit = _first_bit(mask)
    if order is not None:
        first = np.append(np.array(order, dtype=np.int64), -1).take(np.where(any_hit, first, table.rule_count))
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
        per_output.append(choices.take(rule))
    if coerce is not None and default is not None:
        coerced, message = coerce(default)
        if message or coerced != default:
            slow |= ~any_hit
    if table.no_match is not None and not bins:  # as `evaluate` reports a row no rule matches
        for i in np.flatnonzero(~any_hit & ~slow).tolist():
            cols.add_problem(i, table.no_match)
    fired = np.where(any_hit, first + 1, 0)
    return _TableVector(per_output, slow, partial(_rule_lists, fired))


def _distinct(mask: np.ndarray) -> tuple[np.ndarray, list[int]]:
    """Each row's number among the distinct masks, and those masks as ints."""
    if mask.ndim == 1:
        codes, uniques = pd.factorize(mask)  # a hash table over uint64: faster than sorting
        return codes, [int(u) for u in uniques.tolist()]
    uniques, codes = np.unique(mask, axis=0, return_inverse=True)
    return codes.reshape(-1), [sum(int(w) << (64 * k) for k, w in enumerate(row)) for row in uniques.tolist()]


def _by_distinct_mask(decision: CompiledDecision | None, table: CompiledTable, cols: _Columns,
                      mask: np.ndarray, slow: np.ndarray) -> _TableVector:
    """ANY, COLLECT (with or without an aggregation), RULE ORDER, OUTPUT ORDER: rows with the same
    mask have the same result, so the table's own `result_of` runs once per distinct mask (a
    few hundred for a million rows) and its value, fired rules and problems are spread over
    the rows. Lists are copied per row, so that no two rows share one.

    COLLECT COUNT's result depends on the number of matching rules alone (its outputs are
    constants, and it reports nothing), so its rows are grouped by that number, a bit count,
    without hashing; its fired rules, which do depend on the mask, are grouped by mask when they
    are asked for."""
    counting = table.hit_policy == "COLLECT" and table.aggregation == "COUNT"
    codes, masks = _counted(mask, table.rule_count) if counting else _distinct(mask)
    values: list[Any] = []
    fired_of: list[list[int]] = []
    problems_of: list[list[Problem]] = []
    for m in masks:
        problems: list[Problem] = []
        env = feel.Env(cols.model.knowledge, problems)
        value, rules = table.result_of(m, env)
        if decision is not None:
            value = _checked_result(decision, value, problems)
        values.append(value)
        fired_of.append(rules)
        problems_of.append(problems)

    def fired() -> list[Any]:
        if not counting:
            return list(_per_row(fired_of, codes))
        by_mask, distinct = _distinct(mask)
        return list(_per_row([table.result_of(m, feel.Env(cols.model.knowledge, []))[1] for m in distinct], by_mask))

    if any(problems_of):
        reported = np.array([bool(p) for p in problems_of], dtype=bool).take(codes)
        for i in np.flatnonzero(reported & ~slow).tolist():
            for p in problems_of[codes[i]]:
                cols.add_problem(i, p)
    per_output: list[np.ndarray] = []
    whole = None
    if table.single_output:
        per_output.append(_per_row(values, codes))
    else:
        for out in table.output_names:
            per_output.append(_per_row([_part(v, out) for v in values], codes))
        if _gives_lists(table):  # what later decisions read: lists of contexts, not columns
            whole = _objects(values, len(values)).take(codes)
    return _TableVector(per_output, slow, fired, whole)


def _counted(mask: np.ndarray, rule_count: int) -> tuple[np.ndarray, list[int]]:
    """Each row's number of matching rules, as its group, and for each number from 0 to the
    rule count a mask of that many rules (the first ones): COLLECT COUNT gives every mask of n
    rules the same result, so any will do."""
    return _bit_count(mask), [(1 << c) - 1 for c in range(rule_count + 1)]


def _objects(items: Iterable[Any], count: int = -1) -> np.ndarray:
    """An object array of `items` (lists stay elements: numpy would read a list of lists as rows)."""
    return np.fromiter(items, dtype=object, count=count)


def _part(value: Any, out: str) -> Any:
    """Output `out` of a table value with several outputs: of a context, its entry; of a list of
    contexts (a list-giving hit policy), the list of their entries, in order."""
    if isinstance(value, dict):
        return value.get(out)
    if isinstance(value, list):
        return [v.get(out) if isinstance(v, dict) else None for v in value]
    return None


def _per_row(values: list[Any], codes: np.ndarray) -> np.ndarray:
    """`values[codes[i]]` for each row i, each list copied into a list of the row's own: rows
    never share a list (a caller may change one row's)."""
    shared = _objects(values, len(values)).take(codes)
    is_list = np.array([type(v) is list for v in values], dtype=bool)
    if not is_list.any():
        return shared
    rows = np.flatnonzero(is_list.take(codes))
    collecting = gc.isenabled()
    gc.disable()  # a million new lists: see `_rule_lists`
    try:
        copies = [v[:] for v in shared.take(rows).tolist()]
        shared[rows] = _objects(copies, len(copies))
    finally:
        if collecting:
            gc.enable()
    return shared


def _not_allowed(allowed: Any, series: pd.Series, cols: _Columns, key: str) -> np.ndarray:
    codes, uniques = _codes(cols, key, series)
    env = feel.Env({}, [])
    bad = [from_python(u) is not None and allowed(env, from_python(u)) is not True for u in uniques]
    bad.append(False)
    return np.array(bad, dtype=bool).take(codes)


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
                per_output = vector.per_output
                rows = np.flatnonzero(vector.slow)
                if fired:
                    rules_of_rows = vector.fired()
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
                        per_output[o][rows] = _objects((_part(v, out) for v in slow_values[rows].tolist()), len(rows))
                    if vector is None:
                        cols.whole[name] = slow_values
                    elif vector.whole is not None:
                        vector.whole[rows] = slow_values[rows]
                else:
                    per_output[0][rows] = slow_values[rows]
            if multi and table is not None:
                cols.parts[name] = (table.output_names, per_output)
                if vector is not None and vector.whole is not None:
                    cols.whole[name] = vector.whole
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
    # Object dtype throughout: pandas would otherwise turn None into NaN in inferred string columns.
    # The arrays are this call's own, so the frame takes them as they are: consolidating them into
    # one block would copy every column (half the time of a million-row FIRST table).
    return pd.DataFrame({k: pd.Series(v, dtype=object, index=frame.index, copy=False) for k, v in result.items()},
                        copy=False)


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
        values[i] = _checked_result(decision, value, problems)
        for p in problems:
            cols.add_problem(i, p)


def _checked_result(decision: CompiledDecision, value: Any, problems: list[Problem]) -> Any:
    """A decision's value converted to its declared type, and its problems located, as `evaluate`
    does (`problems` holds the decision's problems alone); a value that does not conform is
    null, with a problem."""
    from decisions.compiled import _locate

    if decision.coerce is not None and value is not None:
        value, message = decision.coerce(value)
        if message:
            problems.append(Problem(f"result of decision '{decision.name}': {message}; it is taken as null",
                                    decision.where, "error", "output-type"))
    if problems:
        expression = decision.logic.expression
        _locate(problems, 0, decision.where, expression.text if expression is not None else None)
    return value


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
            [values] = vector.per_output
            rows = np.flatnonzero(vector.slow).tolist()
            if fired is not None:
                rules = vector.fired()
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
