"""Rule index: which rules of a decision table can match a value, without scanning the rules.

For each input column the index partitions the values an input can take into regions on
which every indexable cell of the column gives the same answer:

- numbers: the literal endpoints used by the column's cells, sorted, cut the number line into
  points and open intervals; a cell made of comparisons and ranges over literals is constant
  on each of them;
- strings: each literal string the cells compare for equality, plus "any other string";
- booleans: true and false; and null on its own.

The mask of a region (an int with bit r set when rule r matches) is computed once, at compile
time, by running the rule's real compiled test on a representative value of the region, so
the index can never disagree with the tests it summarises. Evaluating a column is then one
`bisect` or one dict lookup, and a table's cost per call barely grows with its rule count.

A mask has a bit per rule, and a column whose rules bring endpoints of their own has about
two regions per rule: kept whole for every region, the masks would take rules squared bits
(about 600 MB for one column of 50,000 rules). So only so many masks of a column are kept
whole (`_masks_kept`); the others are rebuilt on lookup from the nearest kept one and the rules that
turn on or off in between (`RegionMasks`, `StringMasks`). Memory grows with the rules, and a
lookup costs a few steps plus one pass over a mask, which the caller's `&` makes anyway.

Cells the index cannot summarise (tests over other variables, `?` expressions, functions,
dates...) leave their rule's bit set in every region and are listed in `pending`: the
evaluator runs those tests for the rules that are still candidates.

A plain Python float or int can be placed among the endpoints without first becoming a
Decimal when every endpoint survives the trip to a float and back (`float_breaks`): see
`raw_number_region` for why comparing floats then gives the Decimal answer.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields, is_dataclass
from decimal import Decimal
from itertools import chain
from typing import Any, overload

from decisions.feel import ast

# A compiled unary test: (value) -> True / False / None (None: the test errored, no match).
CellTest = Callable[[Any], "bool | None"]

OTHER_STRING = "\x00\uffff any other string \uffff\x00"  # stands for the strings no cell names

# How many masks of a column are kept whole (see the module docstring): those that fit in
# KEPT_BITS (16 MiB), so that tables of several thousand rules keep every mask and evaluate as
# fast as before, and at least MAX_KEPT_MASKS, so that the regions between two kept masks grow
# no faster than the rules. With 50,000 rules, 2,684 masks are kept (and more where many rules
# switch at once, see `RegionMasks`); the `Amount` column of the benchmark's table has 120,143
# regions and keeps one at least every 45.
MAX_KEPT_MASKS = 2048
KEPT_BITS = 2**27


def _masks_kept(n_rules: int) -> int:
    return max(MAX_KEPT_MASKS, KEPT_BITS // max(n_rules, 1))


def _toggled(rules: Sequence[int], n_rules: int) -> int:
    """The mask with bit r flipped once for each time r occurs in `rules` (an even count leaves
    it clear), built in one pass rather than one `^` of a whole mask per rule."""
    if len(rules) <= 4:
        mask = 0
        for r in rules:
            mask ^= 1 << r
        return mask
    bits = bytearray((n_rules + 7) // 8)
    for r in rules:
        bits[r >> 3] ^= 1 << (r & 7)
    return int.from_bytes(bits, "little")


class RegionMasks(Sequence[int]):
    """The masks of a column's number regions, some kept whole.

    `kept[i]` is the mask of region `kept_at[i]` (region 0 first). Region j's mask is the last
    kept mask at or before j with the rules listed in `flips` toggled for each region after
    that one, up to j: `flips[k]` are the rules a cell turns on or off at region k (each group
    of equal cells switches at its own endpoints). A mask is kept at least every `step`
    regions, and wherever the rules listed since the last kept one reach `budget`: a cell
    repeated in thousands of rules switches them all at one region, which a lookup would
    otherwise toggle one by one."""

    __slots__ = ("kept", "kept_at", "flips", "length", "n_rules")

    def __init__(self, kept: list[int], kept_at: list[int], flips: dict[int, list[int]], length: int,
                 n_rules: int) -> None:
        self.kept = kept
        self.kept_at = kept_at
        self.flips = flips
        self.length = length
        self.n_rules = n_rules

    def __len__(self) -> int:
        return self.length

    @overload
    def __getitem__(self, j: int) -> int: ...

    @overload
    def __getitem__(self, j: slice) -> list[int]: ...

    def __getitem__(self, j: int | slice) -> int | list[int]:
        if isinstance(j, slice):
            return [self[k] for k in range(*j.indices(self.length))]
        if j < 0:
            j += self.length
        if not 0 <= j < self.length:
            raise IndexError(j)
        i = bisect_right(self.kept_at, j) - 1
        base = self.kept_at[i]
        mask = self.kept[i]
        if base == j:
            return mask
        flips = self.flips
        toggled: list[int] = []
        for k in range(base + 1, j + 1):
            found = flips.get(k)
            if found is not None:
                toggled += found
        return mask ^ _toggled(toggled, self.n_rules) if toggled else mask

    def __iter__(self) -> Iterator[int]:
        return (self[j] for j in range(self.length))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, RegionMasks | list):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"RegionMasks({self.length} regions, {len(self.kept)} kept)"


class StringMasks(Mapping[str, int]):
    """The masks of a column's literal strings, for columns naming many: a string's mask is
    `other`, the mask of a string no cell names, with the rules of the cells naming it that
    answer differently toggled (`flips`). Only `other` is kept whole."""

    __slots__ = ("strings", "flips", "other", "n_rules")

    def __init__(self, strings: set[str], flips: dict[str, list[int]], other: int, n_rules: int) -> None:
        self.strings = strings
        self.flips = flips
        self.other = other
        self.n_rules = n_rules

    def __getitem__(self, s: str) -> int:
        found = self.flips.get(s)
        if found is not None:
            return self.other ^ _toggled(found, self.n_rules)
        if s in self.strings:
            return self.other
        raise KeyError(s)

    def get(self, s: str, default: Any = None) -> Any:  # the lookup of every call: no exception
        found = self.flips.get(s)
        if found is not None:
            return self.other ^ _toggled(found, self.n_rules)
        return self.other if s in self.strings else default

    def __contains__(self, s: object) -> bool:
        return s in self.strings

    def __iter__(self) -> Iterator[str]:
        return iter(self.strings)

    def __len__(self) -> int:
        return len(self.strings)

    def __repr__(self) -> str:
        return f"StringMasks({len(self.strings)} strings)"


@dataclass
class ColumnIndex:
    """The regions of one input column and the rules that match in each."""

    breaks: list[Decimal] = field(default_factory=list)  # sorted numeric endpoints
    float_breaks: list[float] | None = None  # the same as floats, when each converts exactly
    number_masks: Sequence[int] | None = None  # 2*len(breaks)+1 regions, or None: not indexed
    string_masks: Mapping[str, int] | None = None  # literal -> mask, or None: not indexed
    other_string_mask: int = 0
    true_mask: int = 0
    false_mask: int = 0
    null_mask: int = 0
    bool_indexed: bool = False
    pending: int = 0  # rules whose cell in this column the index does not summarise

    def number_region(self, value: Decimal) -> int:
        i = bisect_left(self.breaks, value)
        if i < len(self.breaks) and self.breaks[i] == value:
            return 2 * i + 1
        return 2 * i


def constant_value(node: ast.Node) -> tuple[bool, Any]:
    """(True, value) when `node` is a literal, or a negated number literal such as `-5`."""
    if isinstance(node, ast.Literal):
        return True, node.value
    if isinstance(node, ast.Negation) and isinstance(node.operand, ast.Literal):
        value = node.operand.value
        if isinstance(value, Decimal) and not isinstance(value, bool):
            return True, -value
    return False, None


def _literal_kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, Decimal):
        return "number" if value.is_finite() else "other"
    if isinstance(value, str):
        return "string"
    return "other"


def _cell_literals(tests: ast.UnaryTests) -> tuple[bool, list[Any], list[Any]] | None:
    """Return (ordered?, ordering literals, equality literals) or None when not indexable."""
    ordering: list[Any] = []
    equality: list[Any] = []
    for test in tests.tests:
        if isinstance(test, ast.AnyTest):
            continue
        if isinstance(test, ast.Compare):
            ok, value = constant_value(test.operand)
            if not ok:
                return None
            (equality if test.op in ("=", "!=") else ordering).append(value)
        elif isinstance(test, ast.RangeLiteral):
            for end in (test.start, test.end):
                if end is None:
                    continue
                ok, value = constant_value(end)
                if not ok:
                    return None
                ordering.append(value)
        elif isinstance(test, ast.EqualsTest):
            ok, value = constant_value(test.operand)
            if not ok:
                return None
            equality.append(value)
        else:
            return None
    for value in ordering + equality:
        if _literal_kind(value) == "other":
            return None
    return True, ordering, equality


def _region_representatives(breaks: list[Decimal]) -> list[Decimal] | None:
    reps: list[Decimal] = []
    if not breaks:
        return [Decimal(0)]
    reps.append(breaks[0] - 1)
    for i, b in enumerate(breaks):
        reps.append(b)
        if i + 1 < len(breaks):
            mid = (b + breaks[i + 1]) / 2
            if not b < mid < breaks[i + 1]:
                return None  # endpoints too close for 34 digits: do not index numbers
            reps.append(mid)
    reps.append(breaks[-1] + 1)
    return reps


def float_breaks(breaks: list[Decimal]) -> list[float] | None:
    """`breaks` as floats, or None unless each one is exactly the shortest repr of its float.

    That condition (`Decimal(repr(float(b))) == b`) is what makes float comparisons exact in
    `raw_number_region`. It holds for endpoints of up to 15 significant digits in the range
    of normal floats, which is what decision tables are written with; 0.1 qualifies (its
    float prints as 0.1), 0.1000000000000000001 and 10**400 do not."""
    floats: list[float] = []
    for b in breaks:
        f = float(b)
        if not math.isfinite(f) or Decimal(float.__repr__(f)) != b:
            return None
        floats.append(f)
    return floats


# Ints below this in magnitude are floats exactly, and print as themselves: to the index they
# are floats (see `raw_number_region`).
EXACT_INT = 2**53


def raw_number_region(index: ColumnIndex, value: float | int) -> int | None:
    """The number region of a plain float or int, as `number_region` gives for the Decimal it
    binds to (`Decimal(repr(x))`, `Decimal(n)`); None when it cannot say (not finite, an int
    of 2**53 or more in magnitude, not a number to FEEL, or no `float_breaks`).

    Why comparing floats is exact, for endpoints b with `Decimal(repr(fb)) == b`, fb = float(b):
    converting a decimal number to the nearest float is monotonic, b converts to fb (repr
    round-trips), and a float x's repr converts back to x. So x < fb implies Decimal(repr(x)) < b
    (were it >= b, x would be >= fb), x > fb implies the reverse, and x == fb implies
    Decimal(repr(x)) == Decimal(repr(fb)) == b. Distinct endpoints give distinct floats, in the
    same order, so `bisect` over `float_breaks` finds the region. An int n with |n| < 2**53 is
    the float float(n) exactly, whose repr is n's digits (a shorter decimal within half a unit
    would need a fraction digit), and Python compares ints with floats exactly: n is placed as
    float(n) would be, which is as Decimal(n) is."""
    floats = index.float_breaks
    if floats is None or index.number_masks is None:
        return None
    kind = type(value)
    if not ((kind is float and math.isfinite(value)) or (kind is int and -EXACT_INT < value < EXACT_INT)):
        return None  # bool is an int to Python, not a number to FEEL
    i = bisect_left(floats, value)
    return 2 * i + 1 if i < len(floats) and floats[i] == value else 2 * i


@dataclass
class _Group:
    """The rules of a column that share one indexable cell."""

    test: CellTest
    rules: list[int]
    numbers: set[Decimal]  # the number literals of the cell
    strings: set[str]  # its string literals


def _mask_of_rules(rules: Iterable[int], n_rules: int) -> int:
    """The mask with bit r set for each r of `rules`, built in one pass (not one `|` per rule:
    each `|` copies the whole int, which makes a mask of a large table cost its size squared)."""
    rules = list(rules)
    if len(rules) <= 8:
        mask = 0
        for r in rules:
            mask |= 1 << r
        return mask
    bits = bytearray((n_rules + 7) // 8)
    for r in rules:
        bits[r >> 3] |= 1 << (r & 7)
    return int.from_bytes(bits, "little")


def _matching_mask(groups: Sequence[_Group], always: Sequence[int], n_rules: int, value: Any) -> int:
    return _mask_of_rules(chain(always, *(g.rules for g in groups if g.test(value) is True)), n_rules)


def _number_masks(groups: Sequence[_Group], always: Sequence[int], n_rules: int, breaks: list[Decimal],
                  reps: list[Decimal]) -> Sequence[int]:
    """The mask of each number region (`reps[j]` is region j's representative value).

    A cell whose literals are constants gives the same answer on every region between two
    consecutive endpoints of its own (all its comparisons do), so it is tested once per such
    piece, on the representative of the piece's first region, rather than on every region of
    the column. The answers become switches (a group's rules turn on or off at a region) and
    one sweep over the regions applies them, so building the masks costs the endpoints of
    each cell plus one step per region, not regions times cells. The sweep keeps every
    region's mask while there are at most `_masks_kept` regions, else one at least every
    `step` regions and the switches in between (`RegionMasks`)."""
    position = {b: i for i, b in enumerate(breaks)}
    flips: dict[int, list[int]] = {}
    for group in groups:
        starts = [0]
        for p in sorted(position[v] for v in group.numbers):
            starts += (2 * p + 1, 2 * p + 2)  # the endpoint itself, then the interval above it
        on = False
        for start in starts:
            if (group.test(reps[start]) is True) != on:
                on = not on
                found = flips.get(start)
                if found is None:
                    flips[start] = list(group.rules)
                else:
                    found += group.rules
    n_regions = len(reps)
    step = -(-n_regions // _masks_kept(n_rules))
    # Rules listed between kept masks, at most: with n/64 a lookup toggles no more than a mask's
    # 64-bit words, and about 64 times the switches per rule (2 or 3) masks are kept for it.
    budget = max(1, n_rules // 64)
    bits = bytearray((n_rules + 7) // 8)
    for r in always:
        bits[r >> 3] |= 1 << (r & 7)
    kept: list[int] = []
    kept_at: list[int] = []
    last, listed = -step, 0
    for j in range(n_regions):
        # A group's rules and `always` are disjoint, and each group switches on and off in
        # turn: flipping a bit adds or removes its rule.
        found = flips.get(j)
        if found is not None:
            for r in found:
                bits[r >> 3] ^= 1 << (r & 7)
            listed += len(found)
        if j - last >= step or listed >= budget:
            kept.append(int.from_bytes(bits, "little"))
            kept_at.append(j)
            last, listed = j, 0
    if len(kept) == n_regions:
        return kept
    return RegionMasks(kept, kept_at, flips, n_regions, n_rules)


def _string_masks(groups: Sequence[_Group], strings: set[str], other: int, n_rules: int) -> Mapping[str, int]:
    """The mask of each literal string, given `other`, the mask of a string no cell names.

    With no string among the ordering literals, a cell gives a string it does not name the
    answer it gives any other unnamed string: only the cells naming a string can differ
    from `other` on it, and only they are tested on it. Up to `_masks_kept` strings the
    masks are kept whole; beyond, only the rules that differ from `other` (`StringMasks`)."""
    flips: dict[str, list[int]] = {}
    for group in groups:
        if not group.strings:
            continue
        base = group.test(OTHER_STRING) is True
        for s in group.strings:
            if (group.test(s) is True) != base:
                found = flips.get(s)
                if found is None:
                    flips[s] = list(group.rules)
                else:
                    found += group.rules
    if len(strings) > _masks_kept(n_rules):
        return StringMasks(strings, flips, other, n_rules)
    return {s: other ^ _toggled(flips[s], n_rules) if s in flips else other for s in strings}


def build_column_index(cells: Sequence[ast.UnaryTests], tests: Sequence[CellTest]) -> ColumnIndex:
    """Index one column: `cells[r]` is rule r's parsed cell, `tests[r]` its compiled test.

    Rules whose cells are the same object share one group, tested once per value it needs:
    large tables repeat the same cell text many times, and a table parses each text once.
    Each group is tested on the few values its own literals call for (see `_number_masks`,
    `_string_masks`), so the cost grows with the rules and their literals, not with the
    rules times the regions."""
    index = ColumnIndex()
    n_rules = len(cells)
    always: list[int] = []  # `-` cells, and cells the index leaves to the evaluator (their rules stay candidates)
    pending: list[int] = []
    # Keyed by identity: comparing trees would cost more than it saves, and equal trees need
    # not be the same test (`0` and `false` are equal to Python, Decimal(0) == False).
    by_cell: dict[int, _Group] = {}
    number_breaks: set[Decimal] = set()
    strings: set[str] = set()
    strings_ordered = False
    for r, (cell, test) in enumerate(zip(cells, tests, strict=True)):
        if not cell.tests and not cell.negated:
            always.append(r)
            continue
        key = id(cell)
        group = by_cell.get(key)
        if group is not None:
            group.rules.append(r)
            continue
        found = _cell_literals(cell)
        if found is None:
            pending.append(r)
            always.append(r)
            continue
        _, ordering, equality = found
        group = by_cell[key] = _Group(test, [r], set(), set())
        for k, value in enumerate(ordering + equality):
            kind = _literal_kind(value)
            if kind == "number":
                group.numbers.add(value)
            elif kind == "string":
                group.strings.add(value)
                strings_ordered = strings_ordered or k < len(ordering)
        number_breaks |= group.numbers
        strings |= group.strings
    groups = list(by_cell.values())
    index.pending = _mask_of_rules(pending, n_rules)
    breaks = sorted(number_breaks)
    reps = _region_representatives(breaks)
    if reps is not None:
        index.breaks = breaks
        index.float_breaks = float_breaks(breaks)
        index.number_masks = _number_masks(groups, always, n_rules, breaks, reps)
    if not strings_ordered:
        index.other_string_mask = _matching_mask(groups, always, n_rules, OTHER_STRING)
        index.string_masks = _string_masks(groups, strings, index.other_string_mask, n_rules)
    index.true_mask = _matching_mask(groups, always, n_rules, True)
    index.false_mask = _matching_mask(groups, always, n_rules, False)
    index.bool_indexed = True
    index.null_mask = _matching_mask(groups, always, n_rules, None)
    return index


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}  # a syntax node class -> its fields' names


def _field_names(kind: type) -> tuple[str, ...]:
    names = _FIELD_NAMES.get(kind)
    if names is None:
        names = _FIELD_NAMES[kind] = tuple(f.name for f in fields(kind)) if is_dataclass(kind) else ()
    return names


def names_used(node: Any) -> set[str]:
    """Every name a FEEL syntax tree refers to (including names it binds itself: an over-count
    is safe for the callers, which only need to know what a tree might read)."""
    found: set[str] = set()

    def walk(n: Any) -> None:
        if isinstance(n, ast.Name):
            found.add(n.name)
        elif isinstance(n, tuple | list):
            for item in n:
                if not isinstance(item, _LEAVES):
                    walk(item)
        elif not isinstance(n, type):
            for name in _field_names(type(n)):  # a large table has thousands of trees
                value = getattr(n, name)
                if not isinstance(value, _LEAVES):
                    walk(value)

    if not isinstance(node, _LEAVES):
        walk(node)
    return found


# What `names_used` need not look into: literals (the commonest nodes) and plain field values.
_LEAVES = (ast.Literal, str, bool, int, Decimal, type(None))


def uses_names(node: Any) -> bool:
    """True when a FEEL syntax tree refers to any name (so it is not a constant)."""
    if isinstance(node, ast.Name):
        return True
    if isinstance(node, tuple | list):
        return any(uses_names(n) for n in node)
    if is_dataclass(node) and not isinstance(node, type):
        return any(uses_names(getattr(node, f.name)) for f in fields(node))
    return False


def lookup(index: ColumnIndex, value: Any) -> int | None:
    """The mask of the rules that can match `value`, or None when the index has no region for it.

    The masks include the `pending` rules: the evaluator still runs their cells."""
    kind = type(value)
    if kind is Decimal:
        masks = index.number_masks
        if masks is None or not value.is_finite():
            return None
        breaks = index.breaks
        i = bisect_left(breaks, value)
        if i < len(breaks) and breaks[i] == value:
            return masks[2 * i + 1]
        return masks[2 * i]
    if kind is str:
        strings = index.string_masks
        if strings is None:
            return None
        return strings.get(value, index.other_string_mask)
    if kind is bool:
        return index.true_mask if value else index.false_mask
    if value is None:
        return index.null_mask
    return None
