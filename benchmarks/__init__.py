"""Performance benchmarks of the decision engine against zen-engine and hand-written baselines."""
