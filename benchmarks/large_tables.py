"""Large seeded decision tables, as DMN text, for measuring how compiling grows with the rules.

Unlike `credit_table`, whose cells cut the input space on a coarse grid (so a larger table
repeats the same few endpoints), most rules here bring endpoints and strings of their own:
the number of distinct endpoints and literals grows with the rule count, as it does in a
table generated from data (a rate sheet, a list of product codes). Five inputs:

- `Amount` (number): UNIQUE tables cut it into disjoint ranges, one per rule, so the rules
  never overlap whatever the other cells say; FIRST tables use comparisons and ranges with
  endpoints of their own, overlapping;
- `Score` (number): comparisons and ranges, about half of them with endpoints of their own;
- `Product` (string): lists of one to three codes out of about n/4, or `-`;
- `Member` (boolean): `true`, `false` or `-`;
- `Channel` (string): `-` mostly, else one of a few channels or `not(...)` of one.

Two outputs, `Decision` (with allowed values) and `Limit`. FIRST tables end with a
catch-all rule.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Literal
from xml.sax.saxutils import escape

from benchmarks.credit_table import DMN_NS, FEEL_NS, INF, Interval, format_number

HitPolicy = Literal["FIRST", "UNIQUE"]

INPUTS = (("Amount", "number"), ("Score", "number"), ("Product", "string"), ("Member", "boolean"),
          ("Channel", "string"))
OUTPUTS = (("Decision", "string"), ("Limit", "number"))
DECISIONS = ("Approve", "Refer", "Decline")
CHANNELS = ("web", "branch", "phone", "partner")


@dataclass(frozen=True)
class LargeTable:
    hit_policy: HitPolicy
    rules: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...]  # (input cells, output cells)
    seed: int

    @property
    def name(self) -> str:
        return f"large-{self.hit_policy.lower()}-{len(self.rules)}"


def _amount_cuts(n: int, rng: random.Random) -> list[float]:
    """n - 1 strictly increasing cut points with two decimals."""
    cuts, x = [], 0.0
    for _ in range(n - 1):
        x = round(x + rng.randint(1, 5000) / 100, 2)
        cuts.append(x)
    return cuts


def _numeric_cell(rng: random.Random, lo: float, hi: float, own: bool) -> str:
    """A comparison or range between lo and hi; on a grid of ten steps unless `own`."""
    def point() -> float:
        if own:
            return round(rng.uniform(lo, hi), 2)
        return lo + (hi - lo) * rng.randint(1, 9) / 10

    kind = rng.randrange(5)
    if kind == 0:
        return "-"
    if kind == 1:
        return Interval(hi=point(), hi_closed=rng.random() < 0.5).unary_test()
    if kind == 2:
        return Interval(lo=point(), lo_closed=rng.random() < 0.5).unary_test()
    a, b = sorted((point(), point()))
    if a == b:
        return f"{format_number(a)}"
    return Interval(a, b, rng.random() < 0.5, rng.random() < 0.5).unary_test()


def _product_cell(rng: random.Random, products: int) -> str:
    if rng.random() < 0.2:
        return "-"
    codes = sorted({rng.randrange(products) for _ in range(rng.randint(1, 3))})
    return ", ".join(f'"P{code:06d}"' for code in codes)


def _member_cell(rng: random.Random) -> str:
    return rng.choice(("true", "false", "-"))


def _channel_cell(rng: random.Random) -> str:
    draw = rng.random()
    if draw < 0.7:
        return "-"
    channel = rng.choice(CHANNELS)
    return f'"{channel}"' if draw < 0.9 else f'not("{channel}")'


def _outputs(rng: random.Random) -> tuple[str, str]:
    return f'"{rng.choice(DECISIONS)}"', format_number(rng.randint(10, 500) * 100)


def generate(hit_policy: HitPolicy, n_rules: int, seed: int = 11) -> LargeTable:
    """A seeded table of exactly `n_rules` rules (at least 2)."""
    rng = random.Random(seed * 1_000_003 + n_rules)
    products = max(8, n_rules // 4)
    span = 50.0 * n_rules
    cuts = _amount_cuts(n_rules, rng)
    rules = []
    for r in range(n_rules):
        if hit_policy == "UNIQUE":
            lo = cuts[r - 1] if r > 0 else -INF
            hi = cuts[r] if r < n_rules - 1 else INF
            amount = Interval(lo, hi, True, False).unary_test() or "-"
        elif r == n_rules - 1:
            rules.append((("-",) * len(INPUTS), ('"Refer"', "0")))
            break
        else:
            amount = _numeric_cell(rng, 0.0, span, own=True)
        cells = (amount, _numeric_cell(rng, 300.0, 850.0, own=rng.random() < 0.5),
                 _product_cell(rng, products), _member_cell(rng), _channel_cell(rng))
        rules.append((cells, _outputs(rng)))
    return LargeTable(hit_policy, tuple(rules), seed)


def to_dmn(table: LargeTable) -> str:
    """DMN 1.5 XML: five input data and one decision table decision, 'Offer'."""
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<definitions xmlns="{DMN_NS}" expressionLanguage="{FEEL_NS}" typeLanguage="{FEEL_NS}"',
        f'    namespace="https://decisionary.dev/benchmarks/{table.name}" id="{table.name}" name="{table.name}">',
    ]
    for name, type_ref in INPUTS:
        out.append(f'  <inputData id="input_{name}" name="{name}"><variable name="{name}" typeRef="{type_ref}"/>'
                   "</inputData>")
    out.append('  <decision id="offer" name="Offer">')
    out.append('    <variable name="Offer"/>')
    for name, _ in INPUTS:
        out.append(f'    <informationRequirement id="req_{name}"><requiredInput href="#input_{name}"/>'
                   "</informationRequirement>")
    out.append(f'    <decisionTable id="offer_table" hitPolicy="{table.hit_policy}">')
    for name, type_ref in INPUTS:
        out.append(f'      <input id="in_{name}" label="{name}"><inputExpression typeRef="{type_ref}">'
                   f"<text>{name}</text></inputExpression></input>")
    allowed = ", ".join(f'"{d}"' for d in DECISIONS)
    out.append(f'      <output id="out_Decision" name="Decision" typeRef="string"><outputValues><text>{allowed}'
               "</text></outputValues></output>")
    out.append('      <output id="out_Limit" name="Limit" typeRef="number"/>')
    for number, (inputs, outputs) in enumerate(table.rules, start=1):
        out.append(f'      <rule id="rule_{number}">')
        for c, cell in enumerate(inputs):
            out.append(f'        <inputEntry id="r{number}_i{c}"><text>{escape(cell)}</text></inputEntry>')
        for c, cell in enumerate(outputs):
            out.append(f'        <outputEntry id="r{number}_o{c}"><text>{escape(cell)}</text></outputEntry>')
        out.append("      </rule>")
    out += ["    </decisionTable>", "  </decision>", "</definitions>", ""]
    return "\n".join(out)


def dmn_text(hit_policy: HitPolicy, n_rules: int, seed: int = 11) -> str:
    return to_dmn(generate(hit_policy, n_rules, seed))


def yaml_text(hit_policy: HitPolicy, n_rules: int, seed: int = 11) -> str:
    """The same model in Decisionary's YAML form, as its writer writes it."""
    from decisions.loader import read_definitions
    from decisions.yaml_format import write_yaml

    return write_yaml(read_definitions(dmn_text(hit_policy, n_rules, seed)))
