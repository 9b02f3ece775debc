"""Compiling a decision table grows with its rules, not with their square.

The rule index used to run every distinct cell of a column on a representative of every
region of the column: regions times cells, quadratic when rules bring endpoints of their
own. These tests count the cell tests it runs (no timing), and check that the index and the
parser's shortcut for literal cells give exactly what the general ways give.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from benchmarks import large_tables as lt
from decisions import feel
from decisions.feel import ast, parser
from decisions.feel.errors import FeelSyntaxError
from decisions.tables.index import OTHER_STRING, ColumnIndex, build_column_index
from tests.tables_strategies import numeric_cell, string_cell


def _compiled(texts: Sequence[str]) -> tuple[list[ast.UnaryTests], list[Callable[[Any], bool | None]]]:
    env = feel.Env({}, [])
    cells, tests = [], []
    for text in texts:
        compiled = feel.compile_unary_tests(text)
        cells.append(compiled.ast)
        tests.append(lambda value, fn=compiled.fn: fn(env, value))
    return cells, tests


def _counting(tests: Sequence[Callable[[Any], bool | None]]) -> tuple[list[Callable[[Any], bool | None]], list[int]]:
    calls = [0]

    def wrap(test: Callable[[Any], bool | None]) -> Callable[[Any], bool | None]:
        def counted(value: Any) -> bool | None:
            calls[0] += 1
            return test(value)
        return counted

    return [wrap(t) for t in tests], calls


@pytest.mark.parametrize(("hit_policy", "column"), [("UNIQUE", 0), ("FIRST", 0), ("FIRST", 1), ("FIRST", 2)])
def test_index_runs_a_few_cell_tests_per_rule(hit_policy: lt.HitPolicy, column: int) -> None:
    # 3,000 rules, most with endpoints or codes of their own: the old way ran about
    # 6,000 regions x 3,000 cells = 18 million tests on the first column.
    table = lt.generate(hit_policy, 3_000)
    cells, tests = _compiled([inputs[column] for inputs, _ in table.rules])
    counted, calls = _counting(tests)
    index = build_column_index(cells, counted)
    assert index.number_masks is not None or index.string_masks is not None
    assert calls[0] <= 12 * len(cells)


def _reference(cells: Sequence[ast.UnaryTests], tests: Sequence[Callable[[Any], bool | None]],
               built: ColumnIndex) -> ColumnIndex:
    """Every region's mask by running every rule's test on its representative."""
    def mask(value: Any) -> int:
        found = 0
        for r, (cell, test) in enumerate(zip(cells, tests, strict=True)):
            if (not cell.tests and not cell.negated) or built.pending >> r & 1 or test(value) is True:
                found |= 1 << r
        return found

    reps: list[Decimal] = []
    if built.breaks:
        reps.append(built.breaks[0] - 1)
        for i, b in enumerate(built.breaks):
            reps.append(b)
            if i + 1 < len(built.breaks):
                reps.append((b + built.breaks[i + 1]) / 2)
        reps.append(built.breaks[-1] + 1)
    else:
        reps.append(Decimal(0))
    return ColumnIndex(
        breaks=built.breaks, float_breaks=built.float_breaks,
        number_masks=[mask(v) for v in reps] if built.number_masks is not None else None,
        string_masks={s: mask(s) for s in built.string_masks} if built.string_masks is not None else None,
        other_string_mask=mask(OTHER_STRING) if built.string_masks is not None else 0,
        true_mask=mask(True), false_mask=mask(False), null_mask=mask(None), bool_indexed=True,
        pending=built.pending)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(numeric_cell(), string_cell(), st.sampled_from(["true", "false", "-", '< "m"'])),
                min_size=1, max_size=25))
def test_index_equals_running_every_test_on_every_region(texts: list[str]) -> None:
    cells, tests = _compiled(texts)
    built = build_column_index(cells, tests)
    assert built == _reference(cells, tests, built)


def test_index_equals_reference_on_a_generated_table() -> None:
    table = lt.generate("FIRST", 300)
    for column in range(len(lt.INPUTS)):
        cells, tests = _compiled([inputs[column] for inputs, _ in table.rules])
        built = build_column_index(cells, tests)
        assert built == _reference(cells, tests, built)


_PIECES = ["5", "-5", "- 2.5", "0.1", '"a"', '"b\\"c"', '""', "true", "false", "null", "-", "<", "<=", ">",
           ">=", "=", "!=", "[", "(", "]", ")", "..", ",", "x", "?", "[]", "1e3", ".5", "not(", "@"]


def _positions(parsed: parser.Parsed) -> list[tuple[str, int]]:
    found: list[tuple[str, int]] = []

    def walk(node: Any) -> None:
        if isinstance(node, ast.Node):
            found.append((type(node).__name__, parsed.positions.get(id(node), 0)))
            for value in vars(node).values():
                walk(value)
        elif isinstance(node, tuple):
            for item in node:
                walk(item)

    walk(parsed.node)
    return found


def _parse(text: str) -> tuple[Any, Any]:
    try:
        parsed = parser.parse(text, (), unary_tests=True)
    except FeelSyntaxError as exc:
        return "error", str(exc)
    return parsed.node, _positions(parsed)


@settings(max_examples=600, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), min_size=1, max_size=7), st.sampled_from(["", " "]))
def test_literal_cells_parse_as_lark_parses_them(pieces: list[str], sep: str) -> None:
    text = sep.join(pieces)
    fast = _parse(text)
    saved = parser._literal_unary_tests
    parser._literal_unary_tests = lambda tokens: None  # type: ignore[assignment]
    try:
        slow = _parse(text)
    finally:
        parser._literal_unary_tests = saved
    assert fast == slow


def test_the_generated_cells_take_the_shortcut() -> None:
    table = lt.generate("FIRST", 200)
    texts = {cell for inputs, _ in table.rules for cell in inputs if "not(" not in cell}
    tokens_of = parser.scan
    for text in texts:
        raw = tokens_of(text)
        if any(t.kind == "WORD" for t in raw):
            continue
        assert parser._literal_unary_tests([(t.kind, t.text, t.start) for t in raw]) is not None, text
