"""A synthetic credit decision table: one seeded rule set, rendered for every engine we compare.

The same `CreditTable` is emitted as DMN 1.5 XML (for Decisionary), as a GoRules JDM decision
graph (for zen-engine) and evaluated by a hand-written first-hit loop over plain Python
floats and strings (the floor any interpreter is measured against).

Rules are built by recursively splitting the input space into boxes, always splitting the
box that holds the most sample applicants at the sample median. The leaves partition the
space exactly, which gives the UNIQUE variant; their masses are even, so the matching rule
is spread over the whole table rather than bunched at the top. The FIRST variant widens some
of those boxes so that rules overlap, drops a few (leaving holes) and ends with a catch-all.
A table with more rules is a finer grid, so every rule stays about as selective, relative
to the table, as in a real table that grew.
"""

from __future__ import annotations

import heapq
import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np
import pandas as pd

HitPolicy = Literal["FIRST", "UNIQUE"]
# Every hit policy the batch benchmark runs: the DMN hit policy, then the aggregation if any.
VARIANTS = ("FIRST", "UNIQUE", "PRIORITY", "ANY", "RULE ORDER", "OUTPUT ORDER", "COLLECT",
            "COLLECT SUM", "COLLECT COUNT", "COLLECT MIN", "COLLECT MAX")

NUMERIC_INPUTS = ("Age", "Income", "Credit Score", "Debt Ratio")
INPUT_NAMES = ("Age", "Income", "Credit Score", "Employment", "Debt Ratio")
EMPLOYMENT = ("Employed", "Self-employed", "Unemployed", "Retired")
DECISIONS = ("Approve", "Refer", "Decline")
# The Decision output's values in priority order (PRIORITY, OUTPUT ORDER): the worst outcome wins.
PRIORITY_ORDER = ("Decline", "Refer", "Approve")
# JDM input fields are ZEN expressions, where a name cannot contain a space.
ZEN_FIELDS = {
    "Age": "age",
    "Income": "income",
    "Credit Score": "creditScore",
    "Employment": "employment",
    "Debt Ratio": "debtRatio",
}
# Cut points are rounded to these steps so that cells read like a human wrote them.
CUT_STEP = {"Age": 1.0, "Income": 100.0, "Credit Score": 10.0, "Debt Ratio": 0.01}
CATCH_ALL = ("Refer", "9.99")
INF = math.inf


def format_number(x: float) -> str:
    """FEEL/ZEN number literal: integral values without a fraction, others by shortest repr."""
    return str(int(x)) if float(x).is_integer() else repr(float(x))


@dataclass(frozen=True)
class Interval:
    """A numeric condition; infinite ends are open. The default is 'any number'."""

    lo: float = -INF
    hi: float = INF
    lo_closed: bool = True
    hi_closed: bool = False

    def contains(self, x: float) -> bool:
        if x < self.lo or x > self.hi:
            return False
        if x == self.lo and not self.lo_closed:
            return False
        return not (x == self.hi and not self.hi_closed)

    def unary_test(self) -> str:
        """The cell text, in the syntax FEEL and ZEN share; '' means any value."""
        if self.lo == -INF and self.hi == INF:
            return ""
        if self.lo == -INF:
            return f"{'<=' if self.hi_closed else '<'} {format_number(self.hi)}"
        if self.hi == INF:
            return f"{'>=' if self.lo_closed else '>'} {format_number(self.lo)}"
        left = "[" if self.lo_closed else "("
        right = "]" if self.hi_closed else ")"
        return f"{left}{format_number(self.lo)}..{format_number(self.hi)}{right}"


def employment_test(allowed: frozenset[str]) -> str:
    if len(allowed) == len(EMPLOYMENT):
        return ""
    return ", ".join(f'"{e}"' for e in EMPLOYMENT if e in allowed)


@dataclass(frozen=True)
class Rule:
    numeric: tuple[Interval, Interval, Interval, Interval]  # in NUMERIC_INPUTS order
    employment: frozenset[str]
    decision: str
    rate: str  # decimal text, e.g. "6.25"

    def matches(self, applicant: Mapping[str, Any]) -> bool:
        if len(self.employment) < len(EMPLOYMENT) and applicant["Employment"] not in self.employment:
            return False
        return all(iv.contains(applicant[name]) for name, iv in zip(NUMERIC_INPUTS, self.numeric, strict=True))

    def cells(self) -> dict[str, str]:
        """Input cell text by input name ('' for any)."""
        cells = {name: iv.unary_test() for name, iv in zip(NUMERIC_INPUTS, self.numeric, strict=True)}
        cells["Employment"] = employment_test(self.employment)
        return {name: cells[name] for name in INPUT_NAMES}


@dataclass(frozen=True)
class CreditTable:
    hit_policy: str  # a DMN hit policy: FIRST and UNIQUE from `generate`, any from `variant`
    rules: tuple[Rule, ...]
    seed: int
    aggregation: str | None = None  # COLLECT's SUM, COUNT, MIN or MAX: one output, Rate

    @property
    def label(self) -> str:
        return f"{self.hit_policy} {self.aggregation}" if self.aggregation else self.hit_policy

    @property
    def name(self) -> str:
        return f"credit-{self.label.lower().replace(' ', '-')}-{len(self.rules)}"


# --- applicants -----------------------------------------------------------------------


def applicant_columns(n: int, seed: int) -> dict[str, np.ndarray]:
    """N random applicants as numpy columns, keyed by input name."""
    rng = np.random.default_rng(seed)
    return {
        "Age": rng.integers(18, 86, n),
        "Income": np.round(rng.lognormal(math.log(4000.0), 0.6, n), 2),
        "Credit Score": np.clip(np.rint(rng.normal(680.0, 80.0, n)), 300, 850).astype(np.int64),
        "Employment": rng.choice(np.array(EMPLOYMENT, dtype=object), n, p=[0.6, 0.15, 0.1, 0.15]),
        "Debt Ratio": np.round(rng.beta(2.0, 5.0, n), 3),
    }


def applicants(n: int, seed: int) -> list[dict[str, Any]]:
    """N random applicants as plain Python dicts (int, float, str), keyed by input name."""
    cols = applicant_columns(n, seed)
    values = [cols[name].tolist() for name in INPUT_NAMES]
    return [dict(zip(INPUT_NAMES, row, strict=True)) for row in zip(*values, strict=True)]


def applicants_frame(n: int, seed: int) -> pd.DataFrame:
    """The same applicants as `applicants(n, seed)`, as a DataFrame with one column per input."""
    cols = applicant_columns(n, seed)
    return pd.DataFrame({name: cols[name] for name in INPUT_NAMES})


def zen_context(applicant: Mapping[str, Any]) -> dict[str, Any]:
    return {ZEN_FIELDS[name]: value for name, value in applicant.items()}


# --- rule generation ------------------------------------------------------------------


@dataclass
class _Box:
    numeric: list[Interval]
    employment: frozenset[str]
    rows: np.ndarray  # indices of the sample applicants inside the box


def _split(box: _Box, sample: dict[str, np.ndarray], rng: np.random.Generator) -> tuple[_Box, _Box] | None:
    """Split a box in two along a random dimension that has a usable cut, or None."""
    for dim in rng.permutation(len(INPUT_NAMES)).tolist():
        name = INPUT_NAMES[dim]
        values = sample[name][box.rows]
        if name == "Employment":
            kinds = sorted(box.employment, key=EMPLOYMENT.index)
            if len(kinds) < 2:
                continue
            order = rng.permutation(len(kinds)).tolist()
            k = int(rng.integers(1, len(kinds)))
            left = frozenset(kinds[i] for i in order[:k])
            mask = np.isin(values, list(left))
            if mask.all() or not mask.any():
                continue
            return (_Box(box.numeric, left, box.rows[mask]),
                    _Box(box.numeric, box.employment - left, box.rows[~mask]))
        i = NUMERIC_INPUTS.index(name)
        iv = box.numeric[i]
        step = CUT_STEP[name]
        for q in (0.5, 0.35, 0.65):
            cut = round(float(np.quantile(values, q)) / step) * step
            cut = float(round(cut, 6))
            mask = values < cut
            if iv.lo < cut < iv.hi and mask.any() and not mask.all():
                lower, upper = list(box.numeric), list(box.numeric)
                lower[i] = replace(iv, hi=cut, hi_closed=False)
                upper[i] = replace(iv, lo=cut, lo_closed=True)
                return (_Box(lower, box.employment, box.rows[mask]),
                        _Box(upper, box.employment, box.rows[~mask]))
    return None


def _partition(n_boxes: int, sample: dict[str, np.ndarray], rng: np.random.Generator) -> list[_Box]:
    """Split the whole input space into `n_boxes` boxes of about equal sample mass."""
    whole = _Box([Interval()] * len(NUMERIC_INPUTS), frozenset(EMPLOYMENT),
                 np.arange(len(sample["Age"])))
    heap: list[tuple[int, int, _Box]] = [(-len(whole.rows), 0, whole)]
    done: list[_Box] = []
    tiebreak = 1
    while heap and len(heap) + len(done) < n_boxes:
        _, _, box = heapq.heappop(heap)
        halves = _split(box, sample, rng)
        if halves is None:
            done.append(box)
            continue
        for half in halves:
            heapq.heappush(heap, (-len(half.rows), tiebreak, half))
            tiebreak += 1
    return done + [box for _, _, box in heap]


def _outcome(box: _Box, sample: dict[str, np.ndarray]) -> tuple[str, str]:
    """A plausible decision and rate for the typical applicant of a box."""
    def typical(name: str) -> float:
        iv = box.numeric[NUMERIC_INPUTS.index(name)]
        if len(box.rows):
            return float(np.median(sample[name][box.rows]))
        return iv.lo if iv.hi == INF else iv.hi if iv.lo == -INF else (iv.lo + iv.hi) / 2

    points = (typical("Credit Score") - 650.0) / 10.0
    points -= (typical("Debt Ratio") - 0.3) * 60.0
    points += 8.0 * math.log(max(typical("Income"), 100.0) / 4000.0)
    bonus = {"Employed": 3.0, "Self-employed": 1.0, "Retired": 0.0, "Unemployed": -8.0}
    points += max(bonus[e] for e in box.employment)
    age = typical("Age")
    points -= 3.0 if age < 21 else 2.0 if age > 75 else 0.0
    decision = "Approve" if points >= 6 else "Refer" if points >= -4 else "Decline"
    rate = min(max(7.5 - 0.1 * points, 3.0), 15.0)
    return decision, f"{round(rate * 4) / 4:.2f}"


def _widen(rule: Rule, rng: np.random.Generator) -> Rule:
    """Loosen one bound of a rule so that it overlaps its neighbours."""
    numeric = list(rule.numeric)
    bounded = [i for i, iv in enumerate(numeric) if iv.lo != -INF or iv.hi != INF]
    if bounded:
        i = bounded[int(rng.integers(len(bounded)))]
        iv = numeric[i]
        how = int(rng.integers(3))
        if how == 0 and iv.lo != -INF:
            numeric[i] = replace(iv, lo=-INF, lo_closed=True)
        elif how == 1 and iv.hi != INF:
            numeric[i] = replace(iv, hi=INF, hi_closed=False)
        elif iv.hi != INF:
            numeric[i] = replace(iv, hi_closed=True)
    employment = frozenset(EMPLOYMENT) if rng.random() < 0.15 else rule.employment
    return replace(rule, numeric=(numeric[0], numeric[1], numeric[2], numeric[3]), employment=employment)


def generate(hit_policy: HitPolicy, n_rules: int = 60, seed: int = 7) -> CreditTable:
    """A seeded credit table with about `n_rules` rules (exactly, unless the space runs out)."""
    rng = np.random.default_rng(seed)
    sample = applicant_columns(max(20_000, 40 * n_rules), seed + 1_000_003)
    # FIRST: one rule is the catch-all, and a few boxes are dropped to leave holes it covers.
    n_holes = 0 if hit_policy == "UNIQUE" else max(1, n_rules // 20)
    n_boxes = n_rules if hit_policy == "UNIQUE" else n_rules - 1 + n_holes
    boxes = _partition(n_boxes, sample, rng)
    rules = []
    for box in boxes:
        decision, rate = _outcome(box, sample)
        iv = box.numeric
        rules.append(Rule((iv[0], iv[1], iv[2], iv[3]), box.employment, decision, rate))
    order = rng.permutation(len(rules)).tolist()
    rules = [rules[i] for i in order]
    if hit_policy == "FIRST":
        holes = set(rng.choice(len(rules), size=n_holes, replace=False).tolist())
        rules = [r for i, r in enumerate(rules) if i not in holes]
        # About a third of the rules overlap their neighbours; a few are broad overrides.
        rules = [_widen(r, rng) if rng.random() < 0.35 else r for r in rules]
        for i in rng.choice(len(rules), size=max(1, len(rules) // 12), replace=False).tolist():
            rules[i] = _widen(_widen(rules[i], rng), rng)
        rules.append(Rule((Interval(),) * 4, frozenset(EMPLOYMENT), *CATCH_ALL))
    return CreditTable(hit_policy, tuple(rules), seed)


def variant(label: str, n_rules: int = 60, seed: int = 7) -> CreditTable:
    """The credit table for one entry of `VARIANTS` (a hit policy, with COLLECT's aggregation).

    FIRST and UNIQUE are `generate`'s tables. The list-giving and aggregating policies and
    PRIORITY take FIRST's overlapping rules without the catch-all (so some applicants match
    nothing, which those policies answer with null, or COUNT with 0). ANY takes
    a partition and adds rules that each cover part of one box with that box's outputs: they
    overlap only rules that agree, as ANY requires."""
    if label not in VARIANTS:
        raise ValueError(f"unknown variant {label!r}; known: {', '.join(VARIANTS)}")
    if label in ("FIRST", "UNIQUE"):
        return generate(label, n_rules, seed)  # type: ignore[arg-type]
    hit_policy, _, aggregation = label.partition(" ") if label.startswith("COLLECT") else (label, "", "")
    rng = np.random.default_rng(seed)
    sample = applicant_columns(max(20_000, 40 * n_rules), seed + 1_000_003)
    if hit_policy == "ANY":
        n_copies = n_rules // 4
        boxes = _partition(n_rules - n_copies, sample, rng)
        rules = [_rule_of(box, sample) for box in boxes]
        for k in rng.choice(len(boxes), size=n_copies, replace=False).tolist():
            rules.append(replace(_part_of(boxes[k], sample, rng), decision=rules[k].decision, rate=rules[k].rate))
        rules = [rules[i] for i in rng.permutation(len(rules)).tolist()]
    else:
        n_holes = max(1, n_rules // 20)
        boxes = _partition(n_rules + n_holes, sample, rng)
        rules = [_rule_of(box, sample) for box in boxes]
        rules = [rules[i] for i in rng.permutation(len(rules)).tolist()]
        holes = set(rng.choice(len(rules), size=n_holes, replace=False).tolist())
        rules = [r for i, r in enumerate(rules) if i not in holes]
        rules = [_widen(r, rng) if rng.random() < 0.35 else r for r in rules]
        for i in rng.choice(len(rules), size=max(1, len(rules) // 12), replace=False).tolist():
            rules[i] = _widen(_widen(rules[i], rng), rng)
    return CreditTable(hit_policy, tuple(rules), seed, aggregation or None)


def _rule_of(box: _Box, sample: dict[str, np.ndarray]) -> Rule:
    decision, rate = _outcome(box, sample)
    iv = box.numeric
    return Rule((iv[0], iv[1], iv[2], iv[3]), box.employment, decision, rate)


def _part_of(box: _Box, sample: dict[str, np.ndarray], rng: np.random.Generator) -> Rule:
    """A rule covering the lower part of `box` along one numeric input (cut at its sample median)."""
    numeric = list(box.numeric)
    for i in rng.permutation(len(NUMERIC_INPUTS)).tolist():
        values = sample[NUMERIC_INPUTS[i]][box.rows]
        if not len(values):
            continue
        step = CUT_STEP[NUMERIC_INPUTS[i]]
        cut = float(round(round(float(np.median(values)) / step) * step, 6))
        iv = numeric[i]
        if iv.lo < cut < iv.hi:
            numeric[i] = replace(iv, hi=cut, hi_closed=True)
            break
    return Rule((numeric[0], numeric[1], numeric[2], numeric[3]), box.employment, "", "")


# --- the hand-written baseline -------------------------------------------------------

FirstHit = Callable[[Mapping[str, Any]], tuple[str, float, int] | None]


def hand_written(table: CreditTable) -> FirstHit:
    """A plain first-hit loop of if-chains over Python floats and strings.

    Returns (decision, rate, 1-based rule number), or None when no rule matches. For a UNIQUE
    table exactly one rule matches, so first hit is the unique hit.
    """
    rows = []
    for number, rule in enumerate(table.rules, start=1):
        bounds: list[Any] = []
        for iv in rule.numeric:
            bounds += [iv.lo, iv.hi, iv.lo_closed, iv.hi_closed]
        kinds = None if len(rule.employment) == len(EMPLOYMENT) else rule.employment  # '-': any value
        rows.append((*bounds, kinds, rule.decision, float(rule.rate), number))

    def first_hit(applicant: Mapping[str, Any]) -> tuple[str, float, int] | None:
        age = applicant["Age"]
        income = applicant["Income"]
        score = applicant["Credit Score"]
        employment = applicant["Employment"]
        debt = applicant["Debt Ratio"]
        for (a_lo, a_hi, a_lc, a_hc, i_lo, i_hi, i_lc, i_hc, s_lo, s_hi, s_lc, s_hc,
             d_lo, d_hi, d_lc, d_hc, kinds, decision, rate, number) in rows:
            if age < a_lo or age > a_hi or (age == a_lo and not a_lc) or (age == a_hi and not a_hc):
                continue
            if score < s_lo or score > s_hi or (score == s_lo and not s_lc) or (score == s_hi and not s_hc):
                continue
            if debt < d_lo or debt > d_hi or (debt == d_lo and not d_lc) or (debt == d_hi and not d_hc):
                continue
            if income < i_lo or income > i_hi or (income == i_lo and not i_lc) or (income == i_hi and not i_hc):
                continue
            if kinds is not None and employment not in kinds:
                continue
            return decision, rate, number
        return None

    return first_hit


def matching_rules(table: CreditTable, applicant: Mapping[str, Any]) -> list[int]:
    """Every matching rule's 1-based number (independent of the hand-written loop)."""
    return [n for n, rule in enumerate(table.rules, start=1) if rule.matches(applicant)]


def numpy_first_hit(table: CreditTable, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """First hit over whole columns with boolean masks: (decision index into DECISIONS, rate).

    What a careful hand would write: strings are encoded once as small integer codes, so that
    a rule's string list is a lookup, not a string comparison per row. Rows no rule matches get
    decision index -1 and rate NaN.
    """
    n = len(frame)
    numeric = {name: frame[name].to_numpy() for name in NUMERIC_INPUTS}
    employment = pd.Categorical(frame["Employment"], categories=EMPLOYMENT).codes  # -1: not allowed
    decision = np.full(n, -1, dtype=np.int8)
    rate = np.full(n, np.nan)
    open_rows = np.ones(n, dtype=bool)
    for rule in table.rules:
        mask = open_rows.copy()
        for name, iv in zip(NUMERIC_INPUTS, rule.numeric, strict=True):
            col = numeric[name]
            if iv.lo != -INF:
                mask &= (col >= iv.lo) if iv.lo_closed else (col > iv.lo)
            if iv.hi != INF:
                mask &= (col <= iv.hi) if iv.hi_closed else (col < iv.hi)
        if len(rule.employment) < len(EMPLOYMENT):
            allowed = np.array([e in rule.employment for e in EMPLOYMENT] + [False])  # [-1] -> False
            mask &= allowed[employment]
        decision[mask] = DECISIONS.index(rule.decision)
        rate[mask] = float(rule.rate)
        open_rows &= ~mask
    return decision, rate


def decision_labels(codes: np.ndarray) -> list[str | None]:
    return [DECISIONS[c] if c >= 0 else None for c in codes.tolist()]


# --- renderings -----------------------------------------------------------------------


def _xml_text(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


DMN_NS = "https://www.omg.org/spec/DMN/20230324/MODEL/"
FEEL_NS = "https://www.omg.org/spec/DMN/20230324/FEEL/"


def to_dmn(table: CreditTable) -> str:
    """DMN 1.5 XML: five input data and one decision table decision, 'Credit Decision'."""
    ids = {name: name.lower().replace(" ", "_") for name in INPUT_NAMES}
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<definitions xmlns="{DMN_NS}" expressionLanguage="{FEEL_NS}" typeLanguage="{FEEL_NS}"',
        f'    namespace="https://decisionary.dev/benchmarks/{table.name}" id="{table.name}" name="{table.name}">',
    ]
    for name in INPUT_NAMES:
        type_ref = "string" if name == "Employment" else "number"
        out.append(f'  <inputData id="input_{ids[name]}" name="{name}">'
                   f'<variable name="{name}" typeRef="{type_ref}"/></inputData>')
    out.append('  <decision id="credit_decision" name="Credit Decision">')
    out.append('    <variable name="Credit Decision"/>')
    for name in INPUT_NAMES:
        out.append(f'    <informationRequirement id="req_{ids[name]}">'
                   f'<requiredInput href="#input_{ids[name]}"/></informationRequirement>')
    aggregation = f' aggregation="{table.aggregation}"' if table.aggregation else ""
    out.append(f'    <decisionTable id="credit_table" hitPolicy="{table.hit_policy}"{aggregation}'
               ' outputLabel="Credit Decision">')
    for name in INPUT_NAMES:
        type_ref = "string" if name == "Employment" else "number"
        out.append(f'      <input id="in_{ids[name]}" label="{name}">'
                   f'<inputExpression typeRef="{type_ref}"><text>{name}</text></inputExpression>')
        if name == "Employment":
            allowed = ", ".join(f'"{e}"' for e in EMPLOYMENT)
            out.append(f"        <inputValues><text>{allowed}</text></inputValues>")
        out.append("      </input>")
    allowed_decisions = ", ".join(f'"{d}"' for d in PRIORITY_ORDER)
    if not table.aggregation:  # an aggregation needs exactly one output: the rate
        out.append('      <output id="out_decision" name="Decision" typeRef="string">'
                   f"<outputValues><text>{allowed_decisions}</text></outputValues></output>")
    out.append('      <output id="out_rate" name="Rate" typeRef="number"/>')
    for number, rule in enumerate(table.rules, start=1):
        out.append(f'      <rule id="rule_{number}">')
        for name, cell in rule.cells().items():
            out.append(f'        <inputEntry id="rule_{number}_{ids[name]}"><text>{_xml_text(cell or "-")}</text></inputEntry>')
        if not table.aggregation:
            out.append(f'        <outputEntry id="rule_{number}_decision"><text>"{rule.decision}"</text></outputEntry>')
        out.append(f'        <outputEntry id="rule_{number}_rate"><text>{rule.rate}</text></outputEntry>')
        out.append("      </rule>")
    out += ["    </decisionTable>", "  </decision>", "</definitions>", ""]
    return "\n".join(out)


def to_jdm(table: CreditTable) -> dict[str, Any]:
    """The GoRules JDM graph: inputNode -> decisionTableNode -> outputNode.

    zen has only the 'first' and 'collect' hit policies; a UNIQUE table is rendered as 'first',
    which is equivalent because exactly one of its rules matches any input.
    """
    input_ids = {name: f"in_{ZEN_FIELDS[name]}" for name in INPUT_NAMES}
    rules = []
    for number, rule in enumerate(table.rules, start=1):
        row = {"_id": f"rule_{number}"}
        row.update({input_ids[name]: cell for name, cell in rule.cells().items()})
        row["out_decision"] = f'"{rule.decision}"'
        row["out_rate"] = rule.rate
        rules.append(row)
    content = {
        "hitPolicy": "first",
        "inputs": [{"id": input_ids[name], "name": name, "field": ZEN_FIELDS[name]} for name in INPUT_NAMES],
        "outputs": [{"id": "out_decision", "name": "Decision", "field": "decision"},
                    {"id": "out_rate", "name": "Rate", "field": "rate"}],
        "rules": rules,
    }
    return {
        "contentType": "application/vnd.gorules.decision",
        "nodes": [
            {"id": "request", "type": "inputNode", "name": "Request", "position": {"x": 0, "y": 0}},
            {"id": "credit_table", "type": "decisionTableNode", "name": "Credit Decision",
             "position": {"x": 300, "y": 0}, "content": content},
            {"id": "response", "type": "outputNode", "name": "Response", "position": {"x": 600, "y": 0}},
        ],
        "edges": [
            {"id": "e1", "type": "edge", "sourceId": "request", "targetId": "credit_table"},
            {"id": "e2", "type": "edge", "sourceId": "credit_table", "targetId": "response"},
        ],
    }


def to_jdm_json(table: CreditTable) -> str:
    return json.dumps(to_jdm(table), indent=1)


def describe(table: CreditTable, sample: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Facts about a table over a sample: rule count, where the first hit falls, catch-all share."""
    first_hit = hand_written(table)
    positions = [hit[2] if hit is not None else 0 for hit in map(first_hit, sample)]
    last = len(table.rules)
    return {
        "rules": last,
        "hit_policy": table.hit_policy,
        "mean_hit_rule": round(float(np.mean(positions)), 1) if positions else None,
        "last_rule_share": round(positions.count(last) / len(positions), 4) if positions else None,
        "no_match_share": round(positions.count(0) / len(positions), 4) if positions else None,
    }
