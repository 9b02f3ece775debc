"""String functions. Positions and lengths count Unicode code points (Python `str` indices).

Regular expressions follow XPath (`matches`, `replace`, `split`): flags `s m i x q`, `$1`
group references in replacements. They are translated to Python `re`; constructs Python
lacks (such as `\\p{L}` classes) give null plus a problem.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from functools import lru_cache

from decisions.feel.builtins.registry import BuiltinError, fn, to_int
from decisions.feel.values import Range

_FLAGS = {"s": re.S, "m": re.M, "i": re.I}

# XPath Unicode block and category escapes that Python's `re` lacks, as explicit classes.
_PROPERTY_CLASSES = {
    "IsBasicLatin": "\\x00-\\x7f", "IsLatin-1Supplement": "\\x80-\\xff", "L": "^\\W\\d_",
    "N": "\\d", "Nd": "\\d", "P": "!-/:-@\\[-`{-~", "Z": "\\s",
}


@lru_cache(maxsize=512)
def compile_regex(pattern: str, flags: str = "") -> re.Pattern[str]:
    value = 0
    literal = extended = False
    for f in flags:
        if f == "q":
            literal = True
        elif f == "x":
            extended = True
        elif f in _FLAGS:
            value |= _FLAGS[f]
        else:
            raise BuiltinError(f"invalid regular expression flag {f!r}")
    translated = re.escape(pattern) if literal else _translate(pattern, extended, bool(value & re.S))
    try:
        return re.compile(translated, value)
    except (re.error, RecursionError, OverflowError) as e:
        raise BuiltinError(f"invalid regular expression {pattern!r}: {e}") from None


def _translate(pattern: str, extended: bool, dot_all: bool) -> str:
    """XPath regular expression -> Python `re` syntax.

    Differences handled: `.` does not match CR or LF (unless flag s); flag x removes white space
    outside character classes before anything else; `\\p{IsBasicLatin}`-style escapes; back
    references inside a character class are an error.
    """
    out: list[str] = []
    in_class = False
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if extended and not in_class and c in " \t\n\r":
            i += 1
            continue
        if c == "\\":
            j = i + 1
            while extended and j < len(pattern) and pattern[j] in " \t\n\r":
                j += 1
            if j >= len(pattern):
                raise BuiltinError(f"invalid regular expression {pattern!r}: trailing backslash")
            e = pattern[j]
            if e in "pP" and j + 1 < len(pattern) and pattern[j + 1] == "{":
                end = pattern.find("}", j)
                if end < 0:
                    raise BuiltinError(f"invalid regular expression {pattern!r}: unterminated \\{e}{{")
                name = "".join(pattern[j + 2 : end].split()) if extended else pattern[j + 2 : end]
                chars = _PROPERTY_CLASSES.get(name)
                if chars is None:
                    raise BuiltinError(f"unsupported character property \\{e}{{{name}}}")
                negate = (e == "P") != chars.startswith("^")
                body = chars.lstrip("^")
                out.append(body if in_class and not negate else f"[{'^' if negate else ''}{body}]")
                i = end + 1
                continue
            if in_class and e.isdigit():
                raise BuiltinError(f"invalid regular expression {pattern!r}: back reference in a character class")
            out.append("\\" + e)
            i = j + 1
            continue
        if c == "[" and not in_class:
            subtraction = _class_subtraction(pattern, i)
            if subtraction is not None:
                outer, inner, end = subtraction
                # XPath `[a-z-[aeiou]]`: Python has no class subtraction; use a lookahead instead.
                out.append(f"(?:(?!{_translate(inner, extended, dot_all)}){_translate(outer, extended, dot_all)})")
                i = end
                continue
            in_class = True
        elif c == "]" and in_class:
            in_class = False
        elif c == "." and not in_class and not dot_all:
            out.append("[^\\n\\r]")
            i += 1
            continue
        out.append(c)
        i += 1
    return "".join(out)


def _position(value: Decimal, what: str) -> int:
    return to_int(value, what)


def _class_subtraction(pattern: str, start: int) -> tuple[str, str, int] | None:
    """For `[base-[sub]]` at `start`: ("[base]", "[sub]", index after the class); else None."""
    i = start + 1
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            i += 2
            continue
        if c == "]":
            return None
        if c == "-" and i + 1 < len(pattern) and pattern[i + 1] == "[":
            depth, j = 0, i + 1
            while j < len(pattern):
                if pattern[j] == "\\":
                    j += 2
                    continue
                if pattern[j] == "[":
                    depth += 1
                elif pattern[j] == "]":
                    depth -= 1
                    if depth == 0:
                        break
                j += 1
            if j + 1 >= len(pattern) or pattern[j + 1] != "]":
                return None
            return pattern[start:i] + "]", pattern[i + 1 : j + 1], j + 2
        i += 1
    return None


def _substring(string: str, start: Decimal, length: Decimal | None = None) -> str:
    p = _position(start, "start position")
    n = len(string)
    if p == 0:
        raise BuiltinError("start position must not be 0 (positions count from 1, or from -1 at the end)")
    begin = p - 1 if p > 0 else max(n + p, 0)
    if length is None:
        return string[begin:]
    count = _position(length, "length")
    if count < 0:
        raise BuiltinError(f"length must not be negative, got {count}")
    return string[begin : begin + count]


def _string_length(string: str) -> Decimal:
    return Decimal(len(string))


def _substring_before(string: str, match: str) -> str:
    i = string.find(match)
    return "" if i < 0 else string[:i]


def _substring_after(string: str, match: str) -> str:
    i = string.find(match)
    return "" if i < 0 else string[i + len(match):]


def _matches(input: str, pattern: str, flags: str | None = None) -> bool:
    return compile_regex(pattern, flags or "").search(input) is not None


def _replacement(template: str) -> Callable[[re.Match[str]], str]:
    """An XPath replacement template (`$1`, `\\$`) as a function of the match."""
    parts: list[str | int] = []
    i = 0
    while i < len(template):
        c = template[i]
        if c == "\\":
            if i + 1 < len(template) and template[i + 1] in "\\$":
                parts.append(template[i + 1])
                i += 2
                continue
            raise BuiltinError(f"invalid replacement {template!r}: lone backslash")
        if c == "$":
            j = i + 1
            while j < len(template) and template[j].isdigit():
                j += 1
            if j == i + 1:
                raise BuiltinError(f"invalid replacement {template!r}: '$' without group number")
            parts.append(int(template[i + 1 : j]))
            i = j
            continue
        parts.append(c)
        i += 1

    def expand(m: re.Match[str]) -> str:
        out: list[str] = []
        for part in parts:
            if isinstance(part, int):
                out.append((m.group(part) or "") if part <= (m.re.groups or 0) else "")
            else:
                out.append(part)
        return "".join(out)
    return expand


def _replace(input: str, pattern: str, replacement: str, flags: str | None = None) -> str:
    regex = compile_regex(pattern, flags or "")
    if regex.fullmatch("") is not None:
        raise BuiltinError(f"pattern {pattern!r} matches the empty string")
    if "q" in (flags or ""):
        return regex.sub(lambda m: replacement, input)
    return regex.sub(_replacement(replacement), input)


def _contains(string: str, match: str) -> bool:
    return match in string


def _starts_with(string: str, match: str) -> bool:
    return string.startswith(match)


def _ends_with(string: str, match: str) -> bool:
    return string.endswith(match)


def _split(string: str, delimiter: str) -> list[str]:
    regex = compile_regex(delimiter)
    if regex.fullmatch("") is not None:
        raise BuiltinError(f"delimiter {delimiter!r} matches the empty string")
    return regex.split(string) if regex.groups == 0 else [p for p in re.split(f"(?:{delimiter})", string)]


def _string_join(items: list[object], delimiter: str | None = None) -> str:
    parts: list[str] = []
    for item in items:
        if item is None:
            continue
        if not isinstance(item, str):
            raise BuiltinError("string join needs a list of strings")
        parts.append(item)
    return (delimiter or "").join(parts)


def _extract(string: str, pattern: str) -> list[str]:
    return [m.group(0) for m in compile_regex(pattern).finditer(string)]


def _upper(string: str) -> str:
    return string.upper()


def _lower(string: str) -> str:
    return string.lower()


def _range_text(from_: str) -> Range | None:
    """`range("[1..10)")`: a range from its FEEL text (DMN 1.5)."""
    from decisions.feel import compile_expression

    try:
        value = compile_expression(from_).evaluate()
    except Exception as e:  # noqa: BLE001 - any failure of user text is a null result
        raise BuiltinError(f"invalid range {from_!r}: {e}") from None
    if not isinstance(value, Range):
        raise BuiltinError(f"{from_!r} is not a range")
    return value


FUNCTIONS = [
    fn("substring", (["string: string", "start position: number", "length?: number"], _substring)),
    fn("string length", (["string: string"], _string_length)),
    fn("upper case", (["string: string"], _upper)),
    fn("lower case", (["string: string"], _lower)),
    fn("substring before", (["string: string", "match: string"], _substring_before)),
    fn("substring after", (["string: string", "match: string"], _substring_after)),
    fn("replace", (["input: string", "pattern: string", "replacement: string", "flags?: string?"], _replace)),
    fn("contains", (["string: string", "match: string"], _contains)),
    fn("starts with", (["string: string", "match: string"], _starts_with)),
    fn("ends with", (["string: string", "match: string"], _ends_with)),
    fn("matches", (["input: string", "pattern: string", "flags?: string?"], _matches)),
    fn("split", (["string: string", "delimiter: string"], _split)),
    fn("string join", (["list: list", "delimiter?: string?"], _string_join)),
    fn("extract", (["string: string", "pattern: string"], _extract)),
    fn("range", (["from: string"], _range_text)),
]
