"""Hypothesis strategies for decision tables and data that fit them.

Shared by the rule-index and batch tests: tables over numeric and string columns, with every
kind of cell the index treats specially (and some it must leave to the slow path), and
DataFrames whose values fall on, between and outside the cells' endpoints.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pandas as pd
from hypothesis import strategies as st

from decisions.model import Decision, DecisionTable, Definitions, InputClause, InputData, OutputClause, Rule

NUMBERS = [-5, 0, 1, 2.5, 10, 18, 30, 100]
WORDS = ["A", "B", "C", "High", "Low"]


def _num(x: float) -> str:
    return str(Decimal(repr(x))) if isinstance(x, float) else str(x)


@st.composite
def numeric_cell(draw: st.DrawFn, indexable: bool = False) -> str:
    kinds = ["any", "cmp", "range", "eq", "list", "not"] + ([] if indexable else ["expr"])
    kind = draw(st.sampled_from(kinds))
    a, b = sorted(draw(st.lists(st.sampled_from(NUMBERS), min_size=2, max_size=2, unique=True)))
    if kind == "any":
        return "-"
    if kind == "cmp":
        return f"{draw(st.sampled_from(['<', '<=', '>', '>=']))} {_num(a)}"
    if kind == "range":
        return f"{draw(st.sampled_from('[(]'))}{_num(a)}..{_num(b)}{draw(st.sampled_from('])['))}"
    if kind == "eq":
        return _num(a)
    if kind == "list":
        return f"{_num(a)}, >= {_num(b)}"
    if kind == "not":
        return f"not(< {_num(a)})"
    return f"? > {_num(a)}"  # a predicate on `?`: left to the slow path


@st.composite
def string_cell(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(["any", "eq", "list", "not", "null"]))
    words = draw(st.lists(st.sampled_from(WORDS), min_size=1, max_size=3, unique=True))
    quoted = ", ".join(f'"{w}"' for w in words)
    if kind == "any":
        return "-"
    if kind == "eq":
        return f'"{words[0]}"'
    if kind == "list":
        return quoted
    if kind == "not":
        return f"not({quoted})"
    return "null"


AMOUNTS = ["1", "2.5", "-3", "0.1", "10", "null"]


@st.composite
def tables(draw: st.DrawFn, hit_policies: tuple[str, ...] = ("FIRST", "UNIQUE", "ANY", "RULE ORDER",
                                                            "COLLECT", "PRIORITY", "OUTPUT ORDER"),
           outputs: tuple[int, ...] = (1,), aggregations: tuple[str | None, ...] = (None,),
           indexable: bool = False) -> Definitions:
    """A one-table model. `outputs`: how many output columns may be drawn (a second one is a
    number, `Amount`); `aggregations`: COLLECT's (a table with one has one output, of numbers
    or of strings); `indexable`: only cells the rule index summarises (no `?` tests)."""
    kinds = draw(st.lists(st.sampled_from(["number", "string"]), min_size=1, max_size=4))
    n_rules = draw(st.integers(1, 12))
    hit_policy = draw(st.sampled_from(hit_policies))
    aggregation = draw(st.sampled_from(aggregations)) if hit_policy == "COLLECT" and aggregations != (None,) else None
    n_out = 1 if aggregation is not None or outputs == (1,) else draw(st.sampled_from(outputs))
    numbers_out = aggregation is not None and draw(st.booleans())
    words = ["Low", "Medium", "High"]
    rules = []
    for _ in range(n_rules):
        cells = [draw(numeric_cell(indexable) if k == "number" else string_cell()) for k in kinds]
        entries = [draw(st.sampled_from(AMOUNTS)) if numbers_out else f'"{draw(st.sampled_from(words))}"']
        if n_out > 1:
            entries.append(draw(st.sampled_from(AMOUNTS)))
        rules.append(Rule(cells, entries))
    names = [f"In {i}" for i in range(len(kinds))]
    default = draw(st.sampled_from([None, '"None"']))
    first = OutputClause(name="Out", type_ref="string", output_values='"High", "Medium", "Low"'
                         if hit_policy in ("PRIORITY", "OUTPUT ORDER") else None,
                         default_output=default)
    if aggregation is not None:  # COUNT gives a number; SUM of strings is null with an error
        first = OutputClause(name="Out", type_ref=None, default_output="0" if numbers_out and default else None)
    clauses = [first] + ([OutputClause(name="Amount", type_ref="number")] if n_out > 1 else [])
    table = DecisionTable(
        inputs=[InputClause(n, type_ref=k) for n, k in zip(names, kinds, strict=True)],
        outputs=clauses,
        rules=rules,
        hit_policy=hit_policy,  # type: ignore[arg-type]
        aggregation=aggregation,  # type: ignore[arg-type]
    )
    return Definitions(
        name="generated",
        inputs=[InputData(n, type_ref=k) for n, k in zip(names, kinds, strict=True)],
        decisions=[Decision("Result", table, required_inputs=names)],
    )


@st.composite
def frames(draw: st.DrawFn, defs: Definitions, max_rows: int = 40) -> pd.DataFrame:
    n = draw(st.integers(0, max_rows))
    data: dict[str, Any] = {}
    for inp in defs.inputs:
        if inp.type_ref == "number":
            pool = NUMBERS + [x + 0.5 for x in NUMBERS] + [x - 1 for x in NUMBERS] + [float("nan")]
            data[inp.name] = draw(st.lists(st.sampled_from(pool), min_size=n, max_size=n))
        else:
            pool = WORDS + ["other", None]
            data[inp.name] = pd.Series(draw(st.lists(st.sampled_from(pool), min_size=n, max_size=n)),
                                       dtype=object)
    return pd.DataFrame(data)
