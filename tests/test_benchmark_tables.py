"""The benchmark's synthetic credit tables are what they claim, and every engine agrees on them.

This is the CI guard of benchmarks/bench_engine.py: if the generator, a rendering or an
engine drifts, the benchmark would time different work, and these tests fail first.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent

from benchmarks import credit_table as ct  # noqa: E402
from benchmarks.bench_batch import check, run_variant  # noqa: E402
from benchmarks.bench_engine import Sizes, run  # noqa: E402
from benchmarks.careful_numpy import baseline  # noqa: E402
from benchmarks.engines import (  # noqa: E402
    DisagreementError,
    Outcome,
    check_agreement,
    decisionary_engine,
    hand_written_engine,
    zen_engine,
)


@pytest.fixture(scope="module")
def unique_table() -> ct.CreditTable:
    return ct.generate("UNIQUE", 60)


@pytest.fixture(scope="module")
def first_table() -> ct.CreditTable:
    return ct.generate("FIRST", 60)


def boundary_applicants(table: ct.CreditTable) -> list[dict[str, object]]:
    """Applicants sitting exactly on every cut point of the table, the cases a partition gets wrong."""
    cuts: dict[str, set[float]] = {name: set() for name in ct.NUMERIC_INPUTS}
    for rule in table.rules:
        for name, iv in zip(ct.NUMERIC_INPUTS, rule.numeric, strict=True):
            cuts[name].update(x for x in (iv.lo, iv.hi) if math.isfinite(x))
    base = ct.applicants(len(ct.EMPLOYMENT), seed=5)
    out = []
    for name, values in cuts.items():
        for value in sorted(values):
            for applicant, employment in zip(base, ct.EMPLOYMENT, strict=True):
                out.append({**applicant, name: value, "Employment": employment})
    return out


def test_unique_table_has_exactly_one_matching_rule_for_random_inputs(unique_table: ct.CreditTable) -> None:
    first_hit = ct.hand_written(unique_table)
    for applicant in ct.applicants(3_000, seed=11):
        matches = ct.matching_rules(unique_table, applicant)
        assert len(matches) == 1, (applicant, matches)
        hit = first_hit(applicant)
        assert hit is not None and hit[2] == matches[0]


def test_unique_table_has_exactly_one_matching_rule_on_every_cut_point(unique_table: ct.CreditTable) -> None:
    applicants = boundary_applicants(unique_table)
    assert len(applicants) > 100
    for applicant in applicants:
        assert len(ct.matching_rules(unique_table, applicant)) == 1, applicant


def test_first_table_overlaps_and_ends_with_a_catch_all(first_table: ct.CreditTable) -> None:
    assert len(first_table.rules) == 60
    assert set(first_table.rules[-1].cells().values()) == {""}
    first_hit = ct.hand_written(first_table)
    overlapping = 0
    for applicant in ct.applicants(2_000, seed=12):
        matches = ct.matching_rules(first_table, applicant)
        hit = first_hit(applicant)
        assert hit is not None and hit[2] == matches[0]
        overlapping += len(matches) > 1
    assert overlapping > 200  # the FIRST variant really exercises first-hit order


def test_generator_is_deterministic_and_sized() -> None:
    assert ct.to_dmn(ct.generate("FIRST", 60, seed=3)) == ct.to_dmn(ct.generate("FIRST", 60, seed=3))
    assert ct.to_dmn(ct.generate("FIRST", 60, seed=3)) != ct.to_dmn(ct.generate("FIRST", 60, seed=4))
    for n in (60, 500):
        assert len(ct.generate("UNIQUE", n).rules) == n
        assert len(ct.generate("FIRST", n).rules) == n


def test_cells_use_every_kind_of_unary_test(first_table: ct.CreditTable) -> None:
    cells = [cell for rule in first_table.rules for cell in rule.cells().values()]
    assert any(c.startswith("<") for c in cells)
    assert any(c.startswith(">=") for c in cells)
    assert any(c.startswith("[") and ".." in c for c in cells)
    assert any(c.startswith('"') and "," in c for c in cells)
    assert "" in cells


def test_numpy_masks_equal_the_hand_written_loop(first_table: ct.CreditTable) -> None:
    frame = ct.applicants_frame(2_000, seed=13)
    codes, rates = ct.numpy_first_hit(first_table, frame)
    first_hit = ct.hand_written(first_table)
    for i, applicant in enumerate(ct.applicants(2_000, seed=13)):
        hit = first_hit(applicant)
        assert hit is not None
        assert (ct.DECISIONS[codes[i]], float(rates[i])) == (hit[0], hit[1])


@pytest.mark.parametrize("variant", ["FIRST", "UNIQUE"])
def test_zen_decisionary_and_hand_written_agree(variant: ct.HitPolicy) -> None:
    table = ct.generate(variant, 60)
    engines = [hand_written_engine(table), zen_engine(table), decisionary_engine(table)]
    applicants = ct.applicants(2_000, seed=14) + boundary_applicants(table)
    assert check_agreement(engines, applicants, table.name) == len(applicants)


def test_agreement_check_catches_a_wrong_answer(first_table: ct.CreditTable) -> None:
    reference = hand_written_engine(first_table)
    wrong = hand_written_engine(first_table)
    wrong.outcome = lambda hit: Outcome("Approve" if hit[0] != "Approve" else "Decline", hit[1])
    with pytest.raises(DisagreementError, match="disagrees"):
        check_agreement([reference, wrong], ct.applicants(10, seed=15), "test")


def test_the_benchmark_runs_end_to_end_at_tiny_sizes() -> None:
    tiny = Sizes(60, 100, 100, 10, 2_000, 200, 50, (60, 120), 100, 50)
    results = run(tiny, rounds=1, quick=True)
    for variant in ("FIRST", "UNIQUE"):
        v = results["variants"][variant]
        assert set(v["latency"]) == {"hand-written loop", "zen-engine", "Decisionary"}
        assert all(m["p50_us"] > 0 and m["calls_per_s"] > 0 for m in v["latency"].values())
        assert v["batch"]["verified"] == {"all_rows_vs_numpy": 2_000, "sample_vs_evaluate": 50}
    assert [p["table"]["rules"] for p in results["sweep"]] == [60, 120]
    assert np.isfinite(results["variants"]["FIRST"]["ratios"]["p50 Decisionary/zen"])


@pytest.mark.parametrize("variant", ct.VARIANTS)
def test_batch_benchmark_runs_every_hit_policy_and_checks_each_row(variant: str) -> None:
    result = run_variant(variant, rows=3_000, rounds=1)
    assert result["rows_checked"] == 3_000 and result["rules"] == 60
    assert result["baseline_s"] > 0 and result["batch_s"] > 0


def test_variants_are_what_their_hit_policies_need() -> None:
    applicants = ct.applicants(2_000, seed=16)
    any_table = ct.variant("ANY")
    overlaps = 0
    for applicant in applicants:  # ANY: rules overlap, and only where they agree
        matches = ct.matching_rules(any_table, applicant)
        outputs = {(any_table.rules[r - 1].decision, any_table.rules[r - 1].rate) for r in matches}
        assert len(matches) >= 1 and len(outputs) == 1, (applicant, matches)
        overlaps += len(matches) > 1
    assert overlaps > 50
    collect = ct.variant("COLLECT SUM")
    counts = [len(ct.matching_rules(collect, a)) for a in applicants]
    assert 0 in counts and max(counts) > 2  # holes, and rows several rules sum over
    assert 'aggregation="SUM"' in ct.to_dmn(collect) and "out_decision" not in ct.to_dmn(collect)


@pytest.mark.parametrize("variant", ["PRIORITY", "OUTPUT ORDER", "COLLECT MAX"])
def test_batch_benchmark_fails_loudly_on_a_difference(variant: str) -> None:
    import decisions

    table = ct.variant(variant)
    frame = ct.applicants_frame(500, seed=17)
    batch = decisions.load(ct.to_dmn(table)).evaluate_batch(frame)
    answer = baseline(table, frame)
    assert check(table, batch, answer) == 500
    if answer.rates is not None:
        row = next(i for i, rates in enumerate(answer.rates) if rates)
        answer.rates[row] = list(reversed(answer.rates[row] or [])) + [1.0]
    elif answer.value is not None:
        row = int(np.flatnonzero(~np.isnan(answer.value))[0])
        answer.value[row] += 0.25
    else:
        assert answer.decision is not None
        row = int(np.flatnonzero(answer.decision >= 0)[0])
        answer.decision[row] = (answer.decision[row] + 1) % len(ct.DECISIONS)
    with pytest.raises(DisagreementError, match=f"row {row}:"):
        check(table, batch, answer)
    answer = baseline(table, frame)
    answer.no_match[3] = not answer.no_match[3]
    with pytest.raises(DisagreementError, match="row 3: evaluate_batch problems"):
        check(table, batch, answer)
