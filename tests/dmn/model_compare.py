"""Field-by-field comparison of parsed models, for round-trip tests.

`model_differences(expected, actual)` lists every differing field as `path: expected != actual`.
Source positions are ignored (they name where a model was read from, not what it says); so are
ids the writer had to generate (`expected` has None there) when `generated_ids_ok` is set.
"""

from __future__ import annotations

import dataclasses
from typing import Any


def model_differences(expected: Any, actual: Any, *, generated_ids_ok: bool = False) -> list[str]:
    differences: list[str] = []
    _walk(expected, actual, "model", generated_ids_ok, differences)
    return differences


def _walk(expected: Any, actual: Any, path: str, ids_ok: bool, out: list[str]) -> None:
    if dataclasses.is_dataclass(expected) and not isinstance(expected, type):
        if type(expected) is not type(actual):
            out.append(f"{path}: {type(expected).__name__} != {type(actual).__name__}")
            return
        for field in dataclasses.fields(expected):
            if field.name == "source":
                continue
            left, right = getattr(expected, field.name), getattr(actual, field.name)
            if field.name == "id" and ids_ok and left is None:
                continue
            _walk(left, right, f"{path}.{field.name}", ids_ok, out)
    elif isinstance(expected, list):
        if not isinstance(actual, list) or len(expected) != len(actual):
            out.append(f"{path}: {expected!r} != {actual!r}")
            return
        for index, (left, right) in enumerate(zip(expected, actual, strict=True)):
            _walk(left, right, f"{path}[{index}]", ids_ok, out)
    elif expected != actual or type(expected) is not type(actual):
        out.append(f"{path}: {expected!r} != {actual!r}")
