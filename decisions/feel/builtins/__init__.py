"""The FEEL built-in function library, one module per domain.

`BUILTINS` maps each FEEL function name to its `BuiltinFunction` value. `BUILTIN_NAMES`
lists every name the lexer must know to read multi-word names: function names, their
parameter names (for named invocation) and property names (`time offset`).
"""

from __future__ import annotations

from decisions.feel.builtins import (
    boolean,
    context,
    conversion,
    lists,
    numeric,
    range_literal,
    ranges,
    strings,
    temporal,
)
from decisions.feel.builtins.properties import NAMES as PROPERTY_NAMES
from decisions.feel.builtins.registry import BuiltinError, BuiltinFunction

BUILTINS: dict[str, BuiltinFunction] = {}
for _module in (conversion, boolean, strings, lists, numeric, temporal, range_literal, ranges, context):
    for _function in _module.FUNCTIONS:
        BUILTINS[_function.name] = _function

BUILTIN_NAMES: frozenset[str] = frozenset(
    [*BUILTINS]
    + [p.name for f in BUILTINS.values() for s in f.signatures for p in s.params]
    + list(PROPERTY_NAMES)
    + ["date and time", "days and time duration", "years and months duration"]
)

__all__ = ["BUILTINS", "BUILTIN_NAMES", "BuiltinError", "BuiltinFunction"]
