"""Compiling a decision table grows with its rules, not with their square.

The rule index used to run every distinct cell of a column on a representative of every
region of the column: regions times cells, quadratic when rules bring endpoints of their
own; and it kept a mask of every rule for every region, rules squared bits. These tests count
the cell tests it runs and the bits it keeps (no timing: a busy machine cannot make them
fail), and check that the index, its masks kept in part, and the parser's shortcut for
literal cells give exactly what the general ways give.
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
from decisions.tables import index as index_module
from decisions.tables.index import OTHER_STRING, ColumnIndex, RegionMasks, StringMasks, build_column_index
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


def _kept_bits(index: ColumnIndex) -> int:
    """The bits of the masks an index keeps, plus 64 per rule number it lists."""
    bits = 0
    masks = index.number_masks
    if isinstance(masks, RegionMasks):
        bits += sum(m.bit_length() for m in masks.kept) + 64 * sum(len(f) for f in masks.flips.values())
    elif masks is not None:
        bits += sum(m.bit_length() for m in masks)
    strings = index.string_masks
    if isinstance(strings, StringMasks):
        bits += index.other_string_mask.bit_length() + 64 * sum(len(f) for f in strings.flips.values())
    elif strings is not None:
        bits += sum(m.bit_length() for m in strings.values())
    return bits


@pytest.mark.parametrize(("hit_policy", "column"), [("UNIQUE", 0), ("FIRST", 0), ("FIRST", 1), ("FIRST", 2)])
def test_index_memory_grows_with_the_rules_not_their_square(hit_policy: lt.HitPolicy, column: int,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    # Each rule brings about two regions (or a product code) of its own: masks kept for every
    # region would grow 16 times from 2,000 to 8,000 rules. n log n is under 4.8 times. Fewer
    # masks are kept whole than by default, so that both sizes are past that limit, as large
    # tables are (below it, every mask is kept: at most KEPT_BITS, or the limit times the rules).
    monkeypatch.setattr(index_module, "MAX_KEPT_MASKS", 256)
    monkeypatch.setattr(index_module, "KEPT_BITS", 0)
    kept = []
    for n in (2_000, 8_000):
        table = lt.generate(hit_policy, n)
        cells, tests = _compiled([inputs[column] for inputs, _ in table.rules])
        kept.append(_kept_bits(build_column_index(cells, tests)))
    assert kept[1] / kept[0] < 4.8


@pytest.fixture
def few_kept_masks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep three region masks whole and string masks up to three strings, so small tables take
    the way large ones do."""
    monkeypatch.setattr(index_module, "MAX_KEPT_MASKS", 3)
    monkeypatch.setattr(index_module, "KEPT_BITS", 0)


@pytest.mark.usefixtures("few_kept_masks")
def test_masks_kept_in_part_equal_the_reference() -> None:
    table = lt.generate("FIRST", 300)
    for column in range(len(lt.INPUTS)):
        cells, tests = _compiled([inputs[column] for inputs, _ in table.rules])
        built = build_column_index(cells, tests)
        if column in (0, 1):
            assert isinstance(built.number_masks, RegionMasks)
        if column == 2:
            assert isinstance(built.string_masks, StringMasks)
            assert built.string_masks.get("no such code", -1) == -1
            assert "P000000" not in built.string_masks or built.string_masks["P000000"] >= 0
        assert built == _reference(cells, tests, built)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.one_of(numeric_cell(), string_cell(), st.sampled_from(["true", "false", "-", '"a", "b"'])),
                min_size=1, max_size=25))
def test_masks_kept_in_part_equal_running_every_test(texts: list[str]) -> None:
    saved = index_module.MAX_KEPT_MASKS, index_module.KEPT_BITS
    index_module.MAX_KEPT_MASKS, index_module.KEPT_BITS = 2, 0
    try:
        cells, tests = _compiled(texts)
        built = build_column_index(cells, tests)
    finally:
        index_module.MAX_KEPT_MASKS, index_module.KEPT_BITS = saved
    assert built == _reference(cells, tests, built)
    if built.number_masks is not None:
        masks = built.number_masks
        assert list(masks[::-1]) == [masks[-1 - j] for j in range(len(masks))]
        with pytest.raises(IndexError):
            masks[len(masks)]


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
