"""Table verification: overlapping rules, gaps, rules that never fire, subsumed rules.

    report = decisions.verify(model)            # or model.verify()
    for finding in report.findings: print(finding)
    # Risk: overlap: Age in [18..25), Risk Category = "High": rules 3 and 7

Each input column's possible values are cut into regions on which every rule's cell gives one
answer: the rule index's regions (decisions/tables/index.py: numeric endpoints, each literal
string and "any other string", true, false, and null), refined by the column's allowed values
and kept only where those allow. Each rule is then a box (a set of regions per column), and
the questions become set questions on boxes, answered exactly for cells made of comparisons,
ranges and literals. Cells the index cannot summarise (tests over other names, functions)
make their table unverifiable, which is reported as information rather than guessed.

Null is a region of every column: any input may be missing, and a table checks allowed values
only of the values that are there. A gap where an input is null is information (the table
answers null there, and says so at run time); other gaps are warnings, or information when
the table has a default output.

Findings, per table:
- overlap: two rules match some common region. An error under UNIQUE, and under ANY when their
  outputs differ; information under the other hit policies, which resolve it.
- gap: a region no rule matches, as boxes: first in real values, then with one input missing
  (at most MAX_GAPS of each per table).
- never-fires: under FIRST, a rule whose region earlier rules cover; under PRIORITY, one that
  rules of higher (or equal and earlier) priority cover; under any policy, a rule whose cells
  allow nothing within the allowed values. A warning.
- subsumed: a rule whose region lies within another rule's with the same outputs. A warning.

A points scorecard (decisions/scorecard.py) is verified as the tables it is made of, one per
characteristic, named `<decision>.<characteristic>`, whose rules are its bins. Under their
COLLECT SUM two bins that overlap would add their points up, so an overlap there is an error,
as under UNIQUE; gaps are warnings (information where the input is null), as for any table.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from decisions.errors import Severity
from decisions.tables.index import OTHER_STRING, ColumnIndex, lookup

if TYPE_CHECKING:
    from decisions.compiled import Model
    from decisions.tables.table import CompiledInput, CompiledTable

MAX_GAPS = 50  # gap boxes reported per table; the count of the rest is given


@dataclass(frozen=True)
class Region:
    """One column's part of a finding: `in [18..25)`, `< 0`, `= "High"`, `in ("High", "Low")`, `= null`."""

    column: str
    text: str

    def to_json(self) -> dict[str, str]:
        return {"column": self.column, "values": self.text}

    def __str__(self) -> str:
        return f"{self.column} {self.text}"


@dataclass(frozen=True)
class Finding:
    decision: str
    kind: str  # overlap, gap, never-fires, subsumed, unverifiable
    severity: Severity
    rules: tuple[int, ...]  # 1-based
    rule_ids: tuple[str, ...]
    region: tuple[Region, ...]  # the columns that are not "any"
    message: str

    def __str__(self) -> str:
        return f"{self.severity}: {self.decision}: {self.kind}: {self.message}"

    def to_json(self) -> dict[str, Any]:
        return {"decision": self.decision, "kind": self.kind, "severity": self.severity, "rules": list(self.rules),
                "rule_ids": list(self.rule_ids), "region": [r.to_json() for r in self.region],
                "message": self.message}


@dataclass
class Verification:
    findings: list[Finding] = field(default_factory=list)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]

    @property
    def ok(self) -> bool:
        return not self.errors

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "findings": [f.to_json() for f in self.findings]}

    def __iter__(self) -> Iterator[Finding]:
        return iter(self.findings)


def verify(model: Model) -> Verification:
    """Every decision table of `model`, verified (see the module docstring), and each
    characteristic of a points scorecard as the table it is (`<decision>.<characteristic>`)."""
    report = Verification()
    ids = model.rule_ids
    for name, decision in model.decisions.items():
        if decision.logic.table is not None:
            report.findings += verify_table(name, decision.logic.table, ids[name])
        elif decision.logic.scorecard is not None:
            for characteristic in decision.logic.scorecard.characteristics:
                report.findings += verify_table(characteristic.key, characteristic.table, ids[characteristic.key],
                                                bins=True)
    return report


# --- one table ---------------------------------------------------------------------------------


@dataclass
class _Column:
    title: str
    labels: list[str]  # per region
    kinds: list[str]  # per region: number, string, boolean, null
    masks: list[int]  # per region: the rules whose cell is satisfied
    numeric: list[tuple[Decimal | None, Decimal | None, bool, bool] | None]  # (lo, hi, lo in?, hi in?)

    @property
    def full(self) -> int:
        return (1 << len(self.labels)) - 1

    def regions_of(self, rule: int) -> int:
        bit = 1 << rule
        return sum(1 << k for k, mask in enumerate(self.masks) if mask & bit)


def verify_table(decision: str, table: CompiledTable, ids: Sequence[str], *, bins: bool = False) -> list[Finding]:
    """The findings of one table. `bins`: the table is a scorecard characteristic (decisions/scorecard.py),
    whose rules are bins: a value in two bins is an error (their points would add up under its
    COLLECT SUM), as under UNIQUE, and findings speak of bins."""
    unverifiable = [(table.inputs[c].title, r + 1) for c, index in enumerate(table.columns)
                    for r in range(table.rule_count) if index.pending >> r & 1]
    columns = [_column(inp, index, table) for inp, index in zip(table.inputs, table.columns, strict=True)]
    if unverifiable or any(col is None for col in columns):
        where = ", ".join(f"rule {r} column '{c}'" for c, r in unverifiable[:10]) or "a column's values"
        return [Finding(decision, "unverifiable", "info", tuple(sorted({r for _, r in unverifiable})),
                        tuple(ids[r - 1] for r in sorted({r for _, r in unverifiable})), (),
                        f"not verified: {where} is not a test of literal values, so its regions are unknown")]
    cols: list[_Column] = [c for c in columns if c is not None]
    boxes = [tuple(col.regions_of(r) for col in cols) for r in range(table.rule_count)]
    outputs = [_outputs_key(table, r) for r in range(table.rule_count)]
    found: list[Finding] = []
    noun = "bin" if bins else "rule"
    found += _overlaps(decision, table, ids, cols, boxes, outputs, bins)
    found += _gaps(decision, table, cols, boxes, noun)
    found += _never_firing(decision, table, ids, cols, boxes, noun)
    found += _subsumed(decision, table, ids, cols, boxes, outputs)
    return found


def _column(inp: CompiledInput, index: ColumnIndex, table: CompiledTable) -> _Column | None:
    """The regions of one column within its allowed values; None when its numbers are not indexed."""
    allowed = inp.allowed_index
    type_ref = (_type_of(table, inp.title) or "").lower()
    labels: list[str] = []
    kinds: list[str] = []
    masks: list[int] = []
    numeric: list[tuple[Decimal | None, Decimal | None, bool, bool] | None] = []

    def admit(value: Any) -> bool:
        if inp.allowed is None or value is None:  # any input may be missing, allowed values or not
            return True
        if allowed is not None:
            found = lookup(allowed, value)
            if found is not None:
                return found == 1
        return False if value is None else True

    def add(label: str, kind: str, value: Any, bounds: tuple[Decimal | None, Decimal | None, bool, bool] | None
            ) -> None:
        if not admit(value):
            return
        mask = lookup(index, value)
        labels.append(label)
        kinds.append(kind)
        masks.append(mask if mask is not None else 0)
        numeric.append(bounds)

    wants_numbers = type_ref in ("number", "integer", "long", "double") or (not type_ref and index.breaks)
    wants_strings = type_ref == "string" or (not type_ref and bool(index.string_masks))
    wants_booleans = type_ref == "boolean" or (not type_ref and not wants_numbers and not wants_strings)
    if wants_numbers:
        if index.number_masks is None:
            return None
        breaks = sorted(set(index.breaks) | set(allowed.breaks if allowed is not None else ()))
        for lo, hi, lo_in, hi_in, rep in _number_regions(breaks):
            add(_interval_text(lo, hi, lo_in, hi_in), "number", rep, (lo, hi, lo_in, hi_in))
    if wants_strings:
        if index.string_masks is None:
            return None
        strings = sorted(set(index.string_masks) | set(allowed.string_masks or {} if allowed is not None else {}))
        for text in strings:
            add(f'"{text}"', "string", text, None)
        if inp.allowed is None:
            add("any other text", "string", OTHER_STRING, None)
    if wants_booleans:
        add("true", "boolean", True, None)
        add("false", "boolean", False, None)
    add("null", "null", None, None)
    return _Column(inp.title, labels, kinds, masks, numeric)


def _type_of(table: CompiledTable, title: str) -> str | None:
    for clause in table.table.inputs:
        if clause.title == title:
            return clause.type_ref
    return None


def _number_regions(breaks: list[Decimal]) -> Iterator[tuple[Decimal | None, Decimal | None, bool, bool, Decimal]]:
    """(low, high, low included, high included, a value inside) for each point and open interval."""
    if not breaks:
        yield None, None, False, False, Decimal(0)
        return
    yield None, breaks[0], False, False, breaks[0] - 1
    for i, b in enumerate(breaks):
        yield b, b, True, True, b
        if i + 1 < len(breaks):
            yield b, breaks[i + 1], False, False, (b + breaks[i + 1]) / 2
    yield breaks[-1], None, False, False, breaks[-1] + 1


def _interval_text(lo: Decimal | None, hi: Decimal | None, lo_in: bool, hi_in: bool) -> str:
    if lo is None and hi is None:
        return "any number"
    if lo is not None and hi is not None and lo == hi:
        return f"= {lo}"
    if lo is None:
        return f"{'<=' if hi_in else '<'} {hi}"
    if hi is None:
        return f"{'>=' if lo_in else '>'} {lo}"
    return f"{'[' if lo_in else '('}{lo}..{hi}{']' if hi_in else ')'}"


def _describe(cols: Sequence[_Column], box: Sequence[int]) -> tuple[Region, ...]:
    """The columns of `box` that are not the whole column, as readable regions."""
    parts = []
    for col, regions in zip(cols, box, strict=True):
        if regions == col.full:
            continue
        pieces = _pieces(col, regions)
        if len(pieces) > 1:
            text = f"in ({', '.join(pieces)})"
        elif pieces[0][:1] in "[(":
            text = f"in {pieces[0]}"
        elif pieces[0][:1] in "<>=":
            text = pieces[0]
        else:
            text = f"= {pieces[0]}"
        parts.append(Region(col.title, text))
    return tuple(parts)


def _pieces(col: _Column, regions: int) -> list[str]:
    """The chosen regions as text, adjacent number regions merged into one interval."""
    chosen = [k for k in range(len(col.labels)) if regions >> k & 1]
    texts: list[str] = []
    k = 0
    while k < len(chosen):
        first = chosen[k]
        bounds = col.numeric[first]
        if bounds is None:
            texts.append(col.labels[first])
            k += 1
            continue
        last = first
        while k + 1 < len(chosen) and chosen[k + 1] == last + 1 and col.numeric[last + 1] is not None:
            k += 1
            last = chosen[k]
        lo, _, lo_in, _ = bounds
        end = col.numeric[last]
        assert end is not None
        _, hi, _, hi_in = end
        texts.append(_interval_text(lo, hi, lo_in, hi_in))
        k += 1
    return texts


def _region_text(cols: Sequence[_Column], box: Sequence[int]) -> str:
    parts = _describe(cols, box)
    return ", ".join(f"{p.column} {p.text}" for p in parts) if parts else "any input"


def _outputs_key(table: CompiledTable, r: int) -> tuple[Any, ...]:
    constant = table.constant_outputs[r]
    if constant is not None:
        return ("value", *[repr(v) for v in constant])
    return ("text", *table.table.rules[r].output_entries)


def _rules_text(rules: Sequence[int], noun: str = "rule") -> str:
    numbers = [str(r) for r in rules]
    return f"{noun} {numbers[0]}" if len(numbers) == 1 else f"{noun}s {', '.join(numbers[:-1])} and {numbers[-1]}"


def _intersect(a: Sequence[int], b: Sequence[int]) -> tuple[int, ...] | None:
    both = tuple(x & y for x, y in zip(a, b, strict=True))
    return None if any(x == 0 for x in both) else both


def _overlaps(decision: str, table: CompiledTable, ids: Sequence[str], cols: Sequence[_Column],
              boxes: Sequence[tuple[int, ...]], outputs: Sequence[tuple[Any, ...]], bins: bool = False
              ) -> list[Finding]:
    found = []
    policy = table.hit_policy
    for r in range(len(boxes)):
        for s in range(r + 1, len(boxes)):
            common = _intersect(boxes[r], boxes[s])
            if common is None:
                continue
            differ = outputs[r] != outputs[s]
            severity: Severity = "error" if bins or policy == "UNIQUE" or (policy == "ANY" and differ) else "info"
            why = {"UNIQUE": "a UNIQUE table must not overlap",
                   "ANY": "their outputs differ, which ANY forbids" if differ else "ANY allows it: the outputs agree",
                   }.get(policy, f"{policy} decides between them")
            if bins:
                why = "a scorecard's bins must not overlap: their points would add up"
            found.append(Finding(decision, "overlap", severity, (r + 1, s + 1), (ids[r], ids[s]),
                                 _describe(cols, common),
                                 f"{_region_text(cols, common)}: {_rules_text([r + 1, s + 1], 'bin' if bins else 'rule')}"
                                 f" both match ({why})"))
    return found


def _uncovered(cols: Sequence[_Column], boxes: Sequence[tuple[int, ...]], rules: int,
               domain: tuple[int, ...], limit: int) -> list[tuple[int, ...]]:
    """Up to `limit` boxes within `domain` that none of `rules` (a bit set) matches: the regions
    of each column are grouped by the rules still matching there, column after column, and a
    group no rule is left in is a gap. Each subproblem keeps its first `limit` boxes only, so
    the answer is the first `limit` of the full list however many gaps there are."""
    memo: dict[tuple[int, int], list[tuple[int, ...]]] = {}
    # whole[c]: the rules matching every region of the domain in columns c and after; one of
    # them left active covers the rest at once (a catch-all, a row of `-`).
    whole = [0] * (len(cols) + 1)
    whole[len(cols)] = -1
    for c in range(len(cols) - 1, -1, -1):
        every = -1
        regions = domain[c]
        while regions:
            k = (regions & -regions).bit_length() - 1
            regions &= regions - 1
            every &= cols[c].masks[k]
        whole[c] = every & whole[c + 1]

    def walk(c: int, active: int) -> list[tuple[int, ...]]:
        if active == 0:
            return [domain[c:]]
        if c == len(cols) or active & whole[c]:
            return []
        key = (c, active)
        if key in memo:
            return memo[key]
        groups: dict[int, int] = {}  # the rules still matching -> the regions where they do
        masks = cols[c].masks
        regions = domain[c]
        while regions:
            k = (regions & -regions).bit_length() - 1
            regions &= regions - 1
            still = masks[k] & active
            groups[still] = groups.get(still, 0) | 1 << k
        out: list[tuple[int, ...]] = []
        for still, chosen in groups.items():
            for sub in walk(c + 1, still):
                out.append((chosen, *sub))
                if len(out) >= limit:
                    memo[key] = out
                    return out
        memo[key] = out
        return out

    return walk(0, rules)


def _gaps(decision: str, table: CompiledTable, cols: Sequence[_Column],
          boxes: Sequence[tuple[int, ...]], noun: str = "rule") -> list[Finding]:
    """Gaps in real values first (no input null), then, per column, the gaps when that input
    alone is missing; combinations of missing inputs are not listed one by one."""
    nulls = [sum(1 << k for k, kind in enumerate(col.kinds) if kind == "null") for col in cols]
    values = tuple(col.full & ~null for col, null in zip(cols, nulls, strict=True))
    every = (1 << len(boxes)) - 1
    has_default = any(o.default is not None for o in table.outputs)
    then = "the default output answers" if has_default else "the result is null"
    if noun == "bin":
        then = "the points and the score are null"
    found: list[Finding] = []
    holes = _uncovered(cols, boxes, every, values, MAX_GAPS + 1) if all(values) else []
    for hole in holes[:MAX_GAPS]:
        found.append(Finding(decision, "gap", "info" if has_default else "warning", (), (), _describe(cols, hole),
                             f"{_region_text(cols, hole)}: no {noun} matches ({then})"))
    if len(holes) > MAX_GAPS:
        found.append(Finding(decision, "gap", "info", (), (), (), f"more than {MAX_GAPS} gaps; the first are listed"))
    null_holes: list[tuple[int, ...]] = []
    for c, null in enumerate(nulls):
        if null and all(v for i, v in enumerate(values) if i != c):
            missing = (*values[:c], null, *values[c + 1:])
            null_holes += _uncovered(cols, boxes, every, missing, MAX_GAPS + 1)
    for hole in null_holes[:MAX_GAPS]:
        found.append(Finding(decision, "gap", "info", (), (), _describe(cols, hole),
                             f"{_region_text(cols, hole)}: no {noun} matches ({then})"))
    if len(null_holes) > MAX_GAPS:
        found.append(Finding(decision, "gap", "info", (), (), (),
                             f"more than {MAX_GAPS} gaps with a missing input; the first are listed"))
    return found


def _never_firing(decision: str, table: CompiledTable, ids: Sequence[str], cols: Sequence[_Column],
                  boxes: Sequence[tuple[int, ...]], noun: str = "rule") -> list[Finding]:
    found = []
    priorities = None
    if table.hit_policy == "PRIORITY" and all(c is not None for c in table.constant_outputs):
        priorities = [table._priority(c) for c in table.constant_outputs if c is not None]  # noqa: SLF001
    for r, box in enumerate(boxes):
        if any(regions == 0 for regions in box):
            found.append(Finding(decision, "never-fires", "warning", (r + 1,), (ids[r],), (),
                                 f"{_rules_text([r + 1], noun)} can never match: a cell allows nothing within the "
                                 "column's allowed values"))
            continue
        if table.hit_policy == "FIRST":
            winners = (1 << r) - 1
        elif priorities is not None:
            winners = sum(1 << s for s in range(len(boxes))
                          if priorities[s] < priorities[r] or (priorities[s] == priorities[r] and s < r))
        else:
            continue
        # Only the winners that meet the rule's box can cover it.
        winners = sum(1 << s for s in range(r if table.hit_policy == "FIRST" else len(boxes))
                      if winners >> s & 1 and _intersect(boxes[s], box))
        if winners and _reaches(boxes, winners, box) and not _uncovered(cols, boxes, winners, box, 1):
            covering = [s + 1 for s in range(len(boxes)) if winners >> s & 1]
            found.append(Finding(decision, "never-fires", "warning", (r + 1, *covering),
                                 (ids[r], *(ids[s - 1] for s in covering)), _describe(cols, box),
                                 f"{_rules_text([r + 1])} never fires under {table.hit_policy}: "
                                 f"{_rules_text(covering)} always win where it matches"))
    return found


def _reaches(boxes: Sequence[tuple[int, ...]], rules: int, box: tuple[int, ...]) -> bool:
    """Whether `rules` together reach every region of `box` in each column: needed (not enough)
    for them to cover it, and cheap to rule out."""
    for c, regions in enumerate(box):
        union = 0
        rest = rules
        while rest:
            s = (rest & -rest).bit_length() - 1
            rest &= rest - 1
            union |= boxes[s][c]
        if regions & ~union:
            return False
    return True


def _subsumed(decision: str, table: CompiledTable, ids: Sequence[str], cols: Sequence[_Column],
              boxes: Sequence[tuple[int, ...]], outputs: Sequence[tuple[Any, ...]]) -> list[Finding]:
    """Rules that add nothing: every input they match, another rule with the same outputs matches,
    and nothing between them decides otherwise. Under the multiple-hit policies every matching
    rule counts, so no rule is redundant there; under FIRST a covering rule before it makes it
    never fire instead (`_never_firing`)."""
    if table.hit_policy in ("COLLECT", "RULE ORDER", "OUTPUT ORDER"):
        return []
    found = []
    for r, inner in enumerate(boxes):
        for s, outer in enumerate(boxes):
            if r == s or outputs[r] != outputs[s] or any(i & ~o for i, o in zip(inner, outer, strict=True)):
                continue
            if inner == outer and s > r:
                continue  # two equal rules: the later one is reported
            if table.hit_policy == "FIRST" and (s < r or any(
                    outputs[t] != outputs[r] and _intersect(boxes[t], inner) for t in range(r + 1, s))):
                continue
            found.append(Finding(decision, "subsumed", "warning", (r + 1, s + 1), (ids[r], ids[s]),
                                 _describe(cols, inner),
                                 f"{_rules_text([r + 1])} is subsumed by rule {s + 1}: it matches only where rule "
                                 f"{s + 1} does, with the same outputs, so it can be removed"))
            break
    return found
