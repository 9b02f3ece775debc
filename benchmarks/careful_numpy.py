"""The batch baseline: each hit policy over the credit tables, written by hand with numpy, carefully.

This is what an engineer who knows numpy would write for one known table, and what
`Model.evaluate_batch` is measured against (benchmarks/bench_batch.py):

- every column is encoded once: numbers as float64 arrays, `Employment` as category codes;
- rows are taken in blocks of 65,536, so that each block's rule matrix stays in cache;
- each distinct cell of a column is turned into a row mask once, and rules sharing the cell
  share the mask (the generator's rules repeat many cells);
- the rules' masks are ANDed into a boolean rule matrix, rules × rows (ANDs along rows are
  contiguous, which is 13 times faster here than writing the columns of a rows × rules one);
- FIRST, UNIQUE, PRIORITY, ANY, COLLECT MIN and MAX take the first matching rule by `argmax`
  down the matrix, after ordering the rules by what decides (rule order, priority of the
  Decision output, the rate), and `any` for "no rule matched";
- UNIQUE counts the matches (more than one: a violation, null); ANY counts the distinct output
  pairs among the matches (more than one: a violation, null);
- COLLECT SUM multiplies the matrix by the rates in integer cents (exact), COUNT sums the matrix;
- RULE ORDER, OUTPUT ORDER and COLLECT build a list per row from the matching (row, rule) pairs
  sorted by row, with the garbage collector paused while the million lists appear (it would
  otherwise walk them again and again; `evaluate_batch` does the same).

Everything about the table is known in advance here (the cell semantics, that outputs are
constants, which rates are decimals of two places), which is what makes the baseline the floor
a general engine is compared with.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd

from benchmarks.credit_table import (
    DECISIONS,
    EMPLOYMENT,
    INF,
    NUMERIC_INPUTS,
    PRIORITY_ORDER,
    CreditTable,
    Interval,
    Rule,
)


@dataclass
class Encoded:
    numbers: dict[str, np.ndarray]  # float64 per numeric input, NaN for null
    employment: np.ndarray  # index into EMPLOYMENT, len(EMPLOYMENT) for null or any other string
    n: int


@dataclass
class Answer:
    """A baseline's result. Single values: `decision` (index into DECISIONS, -1 null) and `rate`
    (float, NaN null); aggregations: `value` (float, NaN null; COUNT an int); lists: `decisions`
    and `rates`, a list per row (None where no rule matched). `no_match` and `violation` mark the rows whose null comes from
    no rule matching or from a broken hit policy (UNIQUE, ANY)."""

    no_match: np.ndarray
    violation: np.ndarray | None = None
    decision: np.ndarray | None = None
    rate: np.ndarray | None = None
    value: np.ndarray | None = None
    decisions: list[list[str] | None] | None = None  # None: no rule matched
    rates: list[list[float] | None] | None = None


def encode(frame: pd.DataFrame) -> Encoded:
    numbers = {name: frame[name].to_numpy(dtype=np.float64, na_value=np.nan) for name in NUMERIC_INPUTS}
    # factorize, then map the few distinct strings: several times faster than pd.Categorical
    # on pandas' Arrow-backed string columns
    codes, uniques = pd.factorize(frame["Employment"], use_na_sentinel=True)
    other = len(EMPLOYMENT)
    known = np.array([EMPLOYMENT.index(u) if u in EMPLOYMENT else other for u in uniques] + [other], dtype=np.intp)
    return Encoded(numbers, known[codes], len(frame))  # intp: the fastest index for the lookups below


def _interval_mask(x: np.ndarray, iv: Interval) -> np.ndarray | None:
    """Rows whose value lies in `iv`; None for 'any value'. NaN compares false: null matches nothing."""
    mask = None
    if iv.lo != -INF:
        mask = (x >= iv.lo) if iv.lo_closed else (x > iv.lo)
    if iv.hi != INF:
        upper = (x <= iv.hi) if iv.hi_closed else (x < iv.hi)
        mask = upper if mask is None else np.logical_and(mask, upper, out=mask)
    return mask


def rule_matrix(table: CreditTable, enc: Encoded, order: Sequence[int]) -> np.ndarray:
    """Boolean matrix, rules (in `order`) × rows: True where every cell of the rule matches."""
    cache: dict[tuple[str, object], np.ndarray | None] = {}

    def cell_masks(rule: Rule) -> list[np.ndarray]:
        masks = []
        for name, iv in zip(NUMERIC_INPUTS, rule.numeric, strict=True):
            key: tuple[str, object] = (name, iv)
            if key not in cache:
                cache[key] = _interval_mask(enc.numbers[name], iv)
            found = cache[key]
            if found is not None:
                masks.append(found)
        if len(rule.employment) < len(EMPLOYMENT):
            key = ("Employment", rule.employment)
            if key not in cache:
                allowed = np.array([e in rule.employment for e in EMPLOYMENT] + [False])  # other last
                cache[key] = allowed[enc.employment]
            found = cache[key]
            assert found is not None
            masks.append(found)
        return masks

    matrix = np.empty((len(order), enc.n), dtype=bool)
    for i, r in enumerate(order):
        masks = cell_masks(table.rules[r])
        if not masks:
            matrix[i] = True
        elif len(masks) == 1:
            matrix[i] = masks[0]
        else:
            np.logical_and(masks[0], masks[1], out=matrix[i])
            for m in masks[2:]:
                matrix[i] &= m
    return matrix


def _first(matrix: np.ndarray, order: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    """The first matching rule of each row in the matrix's order (as a rule number into the
    table), and whether any rule matched."""
    position = matrix.argmax(axis=0)
    hit = np.asarray(matrix.any(axis=0))
    return np.asarray(order, dtype=np.intp)[position], hit


def _outputs(table: CreditTable) -> tuple[np.ndarray, np.ndarray]:
    decision = np.array([DECISIONS.index(r.decision) if r.decision else -1 for r in table.rules], dtype=np.int8)
    rate = np.array([float(r.rate) for r in table.rules], dtype=np.float64)
    return decision, rate


def _single(table: CreditTable, rule: np.ndarray, valid: np.ndarray, no_match: np.ndarray,
            violation: np.ndarray | None = None) -> Answer:
    decision, rate = _outputs(table)
    return Answer(no_match, violation, np.where(valid, decision[rule], -1), np.where(valid, rate[rule], np.nan))


def first(table: CreditTable, enc: Encoded) -> Answer:
    order = range(len(table.rules))
    rule, hit = _first(rule_matrix(table, enc, order), order)
    return _single(table, rule, hit, ~hit)


def unique(table: CreditTable, enc: Encoded) -> Answer:
    order = range(len(table.rules))
    matrix = rule_matrix(table, enc, order)
    count = matrix.sum(axis=0, dtype=np.uint8)
    rule, _ = _first(matrix, order)
    return _single(table, rule, count == 1, count == 0, count > 1)


def priority_order(table: CreditTable) -> list[int]:
    """Rules by the priority of their Decision (PRIORITY_ORDER), then in rule order."""
    return sorted(range(len(table.rules)), key=lambda r: (PRIORITY_ORDER.index(table.rules[r].decision), r))


def priority(table: CreditTable, enc: Encoded) -> Answer:
    order = priority_order(table)
    rule, hit = _first(rule_matrix(table, enc, order), order)
    return _single(table, rule, hit, ~hit)


def any_(table: CreditTable, enc: Encoded) -> Answer:
    order = range(len(table.rules))
    matrix = rule_matrix(table, enc, order)
    classes: dict[tuple[str, str], list[int]] = {}
    for r, rule in enumerate(table.rules):
        classes.setdefault((rule.decision, rule.rate), []).append(r)
    distinct = np.zeros(enc.n, dtype=np.uint8)  # distinct outputs among the matching rules
    for rules in classes.values():
        distinct += matrix[rules[0]] if len(rules) == 1 else matrix[rules].any(axis=0)
    first_rule, hit = _first(matrix, order)
    return _single(table, first_rule, distinct == 1, ~hit, distinct > 1)


def _cents(table: CreditTable) -> np.ndarray:
    return np.array([int(Decimal(r.rate) * 100) for r in table.rules], dtype=np.int32)


def collect_sum(table: CreditTable, enc: Encoded) -> Answer:
    order = range(len(table.rules))
    matrix = rule_matrix(table, enc, order)
    cents = _cents(table)
    total = np.zeros(enc.n, dtype=np.int32)
    for r in order:
        total += matrix[r] * cents[r]
    hit = np.asarray(matrix.any(axis=0))
    return Answer(~hit, value=np.where(hit, total / 100, np.nan))


def collect_count(table: CreditTable, enc: Encoded) -> Answer:
    order = range(len(table.rules))
    count = rule_matrix(table, enc, order).sum(axis=0, dtype=np.int16)
    return Answer(count == 0, value=count)


def _extreme(table: CreditTable, enc: Encoded, descending: bool) -> Answer:
    rates = [Decimal(r.rate) for r in table.rules]
    order = sorted(range(len(table.rules)), key=lambda r: (-rates[r] if descending else rates[r], r))
    rule, hit = _first(rule_matrix(table, enc, order), order)
    _, rate = _outputs(table)
    return Answer(~hit, value=np.where(hit, rate[rule], np.nan))


def collect_min(table: CreditTable, enc: Encoded) -> Answer:
    return _extreme(table, enc, descending=False)


def collect_max(table: CreditTable, enc: Encoded) -> Answer:
    return _extreme(table, enc, descending=True)


@contextmanager
def _no_gc() -> Iterator[None]:
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


def _lists(table: CreditTable, enc: Encoded, order: Sequence[int]) -> Answer:
    """Per row, the matching rules' decisions and rates, in the matrix's order of rules."""
    matrix = rule_matrix(table, enc, order)
    rows_of = [np.flatnonzero(matrix[i]) for i in range(len(order))]
    rows = np.concatenate(rows_of)
    positions = np.repeat(np.arange(len(order), dtype=np.int64), [len(x) for x in rows_of])
    # (row, position) pairs sorted by row, then position: one int64 key each
    keys = np.sort(rows * len(order) + positions)
    rules = np.asarray(order, dtype=np.intp)[keys % len(order)]
    counts = np.bincount(rows, minlength=enc.n)
    ends = np.cumsum(counts).tolist()
    starts = [0, *ends[:-1]]
    labels = np.array([r.decision for r in table.rules], dtype=object)[rules].tolist()
    _, rate = _outputs(table)
    values = rate[rules].tolist()
    with _no_gc():  # no rule matched: null, as the table has no default output
        decisions = [labels[a:b] if a != b else None for a, b in zip(starts, ends, strict=True)]
        rates = [values[a:b] if a != b else None for a, b in zip(starts, ends, strict=True)]
    return Answer(counts == 0, decisions=decisions, rates=rates)


def rule_order(table: CreditTable, enc: Encoded) -> Answer:
    return _lists(table, enc, range(len(table.rules)))


def output_order(table: CreditTable, enc: Encoded) -> Answer:
    return _lists(table, enc, priority_order(table))


BASELINES: dict[str, Callable[[CreditTable, Encoded], Answer]] = {
    "FIRST": first,
    "UNIQUE": unique,
    "PRIORITY": priority,
    "ANY": any_,
    "RULE ORDER": rule_order,
    "OUTPUT ORDER": output_order,
    "COLLECT": rule_order,  # COLLECT without an aggregation: the matches' outputs in rule order
    "COLLECT SUM": collect_sum,
    "COLLECT COUNT": collect_count,
    "COLLECT MIN": collect_min,
    "COLLECT MAX": collect_max,
}


# Rows per block: the rule matrix of a block (60 rules × 65,536 rows, 4 MB) stays in cache
# while it is built, reduced and read, where a matrix of all rows (60 MB) goes to memory and
# back at each step. Blocks make the baseline 1.5-2 times faster on this machine.
BLOCK = 65_536


def baseline(table: CreditTable, frame: pd.DataFrame, block: int = BLOCK) -> Answer:
    """The baseline of `table`'s hit policy over `frame`, encoding included, in blocks of rows."""
    enc = encode(frame)
    run = BASELINES[table.label]
    answers = []
    for start in range(0, max(enc.n, 1), block):
        end = min(start + block, enc.n)
        part = Encoded({k: v[start:end] for k, v in enc.numbers.items()}, enc.employment[start:end], end - start)
        answers.append(run(table, part))
    return _joined(answers)


def _joined(answers: list[Answer]) -> Answer:
    if len(answers) == 1:
        return answers[0]

    def arrays(name: str) -> np.ndarray | None:
        parts = [getattr(a, name) for a in answers]
        return None if parts[0] is None else np.concatenate(parts)

    def lists(name: str) -> list[Any] | None:
        parts = [getattr(a, name) for a in answers]
        return None if parts[0] is None else [x for part in parts for x in part]

    no_match = arrays("no_match")
    assert no_match is not None
    return Answer(no_match, arrays("violation"), arrays("decision"), arrays("rate"), arrays("value"),
                  lists("decisions"), lists("rates"))
