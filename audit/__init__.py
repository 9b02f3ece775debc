"""Audit: decision log queries, outcomes, metrics over time and reviewers' reports.

Decision records are written by the registry (`registry.records`) in the same transaction as
their workflow runs; this package will read and analyse them.
"""
