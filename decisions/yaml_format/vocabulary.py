"""The keys of the YAML model format, shared by its reader and writer."""

from __future__ import annotations

from typing import Literal

from decisions.dmn.namespaces import SUPPORTED_VERSIONS

SUPPORTED_DMN_VERSIONS = SUPPORTED_VERSIONS  # every version the DMN reader and writer know

TOP_KEYS = ("model", "key", "namespace", "id", "dmn version", "expression language", "description",
            "business key", "prefixes", "extensions", "extension elements", "imports", "types", "inputs",
            "decisions", "knowledge", "services", "knowledge sources", "diagram")
EXTENSION_KEYS = ("extensions", "extension elements")

# Expression kind keys, and the companion keys each kind allows.
KINDS: dict[str, frozenset[str]] = {
    "expression": frozenset(),
    "table": frozenset(),
    "context": frozenset({"result"}),
    "list": frozenset(),
    "relation": frozenset(),
    "function": frozenset({"body", "kind"}),
    "invoke": frozenset({"with"}),
    "if": frozenset({"then", "else"}),
    "filter": frozenset({"match"}),
    "for": frozenset({"in", "return"}),
    "some": frozenset({"in", "satisfies"}),
    "every": frozenset({"in", "satisfies"}),
    "scoring": frozenset({"constants", "baseline", "monotonic", "domain", "reasons"}),
    "scorecard": frozenset(),
}
SCORECARD_KEYS = ("base", "reasons", "characteristics")
CHARACTERISTIC_KEYS = ("input", "code", "bins")
COMPANIONS: frozenset[str] = frozenset().union(*KINDS.values())
EXPRESSION_KEYS = frozenset(KINDS) | COMPANIONS
HIT_POLICY_ABBREVIATIONS = {
    "U": "UNIQUE", "F": "FIRST", "P": "PRIORITY", "A": "ANY", "C": "COLLECT", "R": "RULE ORDER",
    "O": "OUTPUT ORDER", "C+": "COLLECT SUM", "C<": "COLLECT MIN", "C>": "COLLECT MAX", "C#": "COLLECT COUNT",
}
FUNCTION_KINDS: dict[str, Literal["FEEL", "Java", "PMML"]] = {"FEEL": "FEEL", "JAVA": "Java", "PMML": "PMML"}
