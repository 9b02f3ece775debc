"""Boolean functions: `not` (a function in FEEL, not an operator) and `is`."""

from __future__ import annotations

import datetime as dt
from typing import Any

from decisions.feel.builtins.registry import fn
from decisions.feel.values import feel_equal, type_name


def _not(negand: Any) -> bool | None:
    return (not negand) if type(negand) is bool else None


def _is(value1: Any, value2: Any) -> bool:
    """Same type and same value; unlike `=`, times and date-times must also have the same zone."""
    if type_name(value1) != type_name(value2):
        return False
    if isinstance(value1, (dt.time, dt.datetime)):
        return feel_equal(value1, value2) is True and _zone_id(value1) == _zone_id(value2)
    return feel_equal(value1, value2) is True


def _zone_id(value: dt.time | dt.datetime) -> object:
    tz = value.tzinfo
    if tz is None:
        return None
    key = getattr(tz, "key", None)
    if key:
        return key
    return value.utcoffset() if isinstance(value, dt.datetime) else tz.utcoffset(None)


FUNCTIONS = [
    fn("not", (["negand: any"], _not)),
    fn("is", (["value1: any", "value2: any"], _is)),
]
