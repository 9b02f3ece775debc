"""Stable rule ids: a name for each rule of a decision table that survives inserting rules.

A rule's position changes whenever a rule is inserted above it, so anything counted per rule
over time (hit rates, outcomes) is keyed by these ids instead. A rule's id is the one the
model gives it (the DMN rule `id`, the YAML rule's `id:`), else a hash of its content: "h"
and the first 12 hex digits of SHA-256 over its input and output entries, each stripped of
surrounding whitespace. Annotations and descriptions are not part of the hash: rewording a
note does not make a rule a different rule. A table that holds the same id twice (identical
rules, or a model that reuses an id) gets "#2", "#3"... on the later ones, in rule order.
"""

from __future__ import annotations

import hashlib
import json

from decisions.model import DecisionTable, Rule

HASH_PREFIX = "h"
HASH_DIGITS = 12


def content_id(rule: Rule) -> str:
    """The content hash id of a rule, whatever id the model gives it."""
    # JSON of the two lists keeps cell boundaries unambiguous: ["a,b"] is not ["a", "b"].
    cells = [[cell.strip() for cell in rule.input_entries], [cell.strip() for cell in rule.output_entries]]
    text = json.dumps(cells, ensure_ascii=False, separators=(",", ":"))
    return HASH_PREFIX + hashlib.sha256(text.encode("utf-8")).hexdigest()[:HASH_DIGITS]


def rule_ids(table: DecisionTable) -> list[str]:
    """The stable id of each rule of `table`, in rule order; unique within the table."""
    ids: list[str] = []
    used: set[str] = set()
    for rule in table.rules:
        given = rule.id.strip() if rule.id is not None else ""
        base = given or content_id(rule)
        candidate, copy = base, 1
        while candidate in used:
            copy += 1
            candidate = f"{base}#{copy}"
        used.add(candidate)
        ids.append(candidate)
    return ids
