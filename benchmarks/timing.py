"""Timing helpers: per-call latencies, whole-loop throughput, medians over rounds.

The machine these run on is small and shared, so every figure is measured in several rounds
and reported as the median of the rounds; the spread is kept in the JSON results.
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Latency:
    p50_us: float
    p99_us: float
    calls_per_s: float  # by the wall clock
    calls_per_cpu_s: float  # by the process's CPU time: what the run costs when the CPU is shared

    def as_dict(self) -> dict[str, float]:
        return {"p50_us": self.p50_us, "p99_us": self.p99_us, "calls_per_s": self.calls_per_s,
                "calls_per_cpu_s": self.calls_per_cpu_s}


def timer_overhead_ns(samples: int = 20_000) -> float:
    """Median cost of one empty `perf_counter_ns` pair, to judge the smallest latencies."""
    clock = time.perf_counter_ns
    costs = []
    for _ in range(samples):
        t0 = clock()
        costs.append(clock() - t0)
    return float(np.median(costs))


def measure_latency(call: Callable[[Any], Any], inputs: Sequence[Any], warmup: int) -> Latency:
    """Time each call separately (p50, p99), then the whole loop again untimed per call (calls/s).

    Warm-up calls run first on the first inputs, so that caches and lazy compilation are not
    counted. Garbage is collected before, not disabled during: pauses are part of the p99.
    Throughput is taken both by the wall clock and by process CPU time (all threads): on a
    shared machine the loop is stretched by time spent waiting for a core, which a single
    short call mostly escapes, so the CPU-time figure is the one comparable with p50.
    """
    for x in inputs[:warmup]:
        call(x)
    gc.collect()
    clock = time.perf_counter_ns
    each = [0] * len(inputs)
    for i, x in enumerate(inputs):
        t0 = clock()
        call(x)
        each[i] = clock() - t0
    gc.collect()
    cpu0, t0 = time.process_time_ns(), clock()
    for x in inputs:
        call(x)
    total_s, cpu_s = (clock() - t0) / 1e9, (time.process_time_ns() - cpu0) / 1e9
    p50, p99 = np.percentile(np.array(each, dtype=np.float64), [50, 99])
    return Latency(float(p50) / 1e3, float(p99) / 1e3, len(inputs) / total_s, len(inputs) / max(cpu_s, 1e-9))


def time_once(work: Callable[[], Any]) -> tuple[float, float, Any]:
    """Wall time and process CPU time of one call, in seconds, and its result."""
    gc.collect()
    cpu0, t0 = time.process_time(), time.perf_counter()
    result = work()
    return time.perf_counter() - t0, time.process_time() - cpu0, result


def median_latency(rounds: Sequence[Latency]) -> Latency:
    return Latency(
        statistics.median(r.p50_us for r in rounds),
        statistics.median(r.p99_us for r in rounds),
        statistics.median(r.calls_per_s for r in rounds),
        statistics.median(r.calls_per_cpu_s for r in rounds),
    )
