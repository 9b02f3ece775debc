"""Context functions: get value, get entries, context, context put, context merge."""

from __future__ import annotations

from typing import Any

from decisions.feel.builtins.registry import BuiltinError, fn


def _get_value(m: dict[str, Any], key: str) -> Any:
    return m.get(key)


def _get_values_by_path(m: dict[str, Any], keys: list[Any]) -> Any:
    value: Any = m
    for key in keys:
        if type(value) is not dict or type(key) is not str:
            return None
        value = value.get(key)
    return value


def _get_entries(m: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"key": k, "value": v} for k, v in m.items()]


def _context(entries: list[Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for entry in entries:
        if type(entry) is not dict or type(entry.get("key")) is not str or "value" not in entry:
            raise BuiltinError("context needs a list of {key: string, value: ...} entries")
        if entry["key"] in out:
            raise BuiltinError(f"duplicate key {entry['key']!r}")
        out[entry["key"]] = entry["value"]
    return out


def _context_put(context: dict[str, Any], key: str, value: Any) -> dict[str, Any]:
    return {**context, key: value}


def _context_put_path(context: dict[str, Any], keys: list[Any], value: Any) -> dict[str, Any]:
    if not keys or any(type(k) is not str for k in keys):
        raise BuiltinError("keys must be a non-empty list of strings")
    first, rest = keys[0], keys[1:]
    if not rest:
        return {**context, first: value}
    inner = context.get(first)
    if inner is not None and type(inner) is not dict:
        raise BuiltinError(f"entry {first!r} is not a context")
    return {**context, first: _context_put_path(inner or {}, rest, value)}


def _context_merge(contexts: list[Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for c in contexts:
        if type(c) is not dict:
            raise BuiltinError("context merge needs a list of contexts")
        out.update(c)
    return out


FUNCTIONS = [
    fn("get value", (["m: context", "key: string"], _get_value), (["m: context", "keys: list"], _get_values_by_path)),
    fn("get entries", (["m: context"], _get_entries)),
    fn("context", (["entries: list"], _context)),
    fn("context put", (["context: context", "key: string", "value: any"], _context_put),
       (["context: context", "keys: list", "value: any"], _context_put_path)),
    fn("context merge", (["contexts: list"], _context_merge)),
]
