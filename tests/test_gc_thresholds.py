"""`fewer_collections` raises the young generation's threshold while loads run, and puts the
thresholds found before back when the last one ends, errors or not."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

import decisions
from benchmarks import large_tables as lt
from decisions.gc_thresholds import YOUNG_THRESHOLD_WHILE_LOADING, fewer_collections


@pytest.fixture(autouse=True)
def known_thresholds() -> Iterator[None]:
    saved = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    yield
    gc.set_threshold(*saved)


def test_raised_while_nested_blocks_run_and_restored_after() -> None:
    with fewer_collections():
        assert gc.get_threshold() == (YOUNG_THRESHOLD_WHILE_LOADING, 10, 10)
        with fewer_collections():
            assert gc.get_threshold()[0] == YOUNG_THRESHOLD_WHILE_LOADING
        assert gc.get_threshold()[0] == YOUNG_THRESHOLD_WHILE_LOADING  # the outer block still runs
    assert gc.get_threshold() == (700, 10, 10)


def test_restored_when_a_load_fails() -> None:
    with pytest.raises(decisions.ModelError):
        decisions.load("<definitions>not a model")
    assert gc.get_threshold() == (700, 10, 10)
    decisions.load(lt.dmn_text("FIRST", 60))
    assert gc.get_threshold() == (700, 10, 10)


def test_collection_turned_off_stays_off() -> None:
    gc.set_threshold(0, 10, 10)
    with fewer_collections():
        assert gc.get_threshold() == (0, 10, 10)
    assert gc.get_threshold() == (0, 10, 10)
