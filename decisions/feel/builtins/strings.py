"""String functions. Positions and lengths count Unicode code points (Python `str` indices).

Regular expressions follow XPath (`matches`, `replace`, `split`): flags `s m i x q`, `$1`
group references in replacements. They run on RE2 (see `xpath_regex`), so matching time is
linear in the input whatever the pattern.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from decisions.feel.builtins.registry import BuiltinError, TooLarge, fn, reserve, to_int, with_env
from decisions.feel.builtins.xpath_regex import Match, compile_regex
from decisions.feel.env import Env


def _position(value: Decimal, what: str) -> int:
    return to_int(value, what)


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
    return compile_regex(pattern, flags or "").search(input)


def _replacement(template: str, groups: int) -> Callable[[Match], str]:
    """An XPath replacement template (`$1`, `\\$`, `\\\\`) as a function of the match.

    `$` takes the longest run of digits naming a group of the pattern (at least one digit):
    with 3 groups `$12` is group 1 then "2"; a group that did not take part gives "".
    """
    parts: list[str | int] = []
    i = 0
    while i < len(template):
        c = template[i]
        if c == "\\":
            if i + 1 < len(template) and template[i + 1] in "\\$":
                parts.append(template[i + 1])
                i += 2
                continue
            raise BuiltinError(f"invalid replacement {template!r}: a backslash must be followed by \\ or $")
        if c == "$":
            if i + 1 >= len(template) or template[i + 1] not in "0123456789":
                raise BuiltinError(f"invalid replacement {template!r}: '$' must be followed by a group number")
            number, j = int(template[i + 1]), i + 2
            while j < len(template) and template[j] in "0123456789" and number * 10 + int(template[j]) <= groups:
                number, j = number * 10 + int(template[j]), j + 1
            parts.append(number)
            i = j
            continue
        parts.append(c)
        i += 1

    def expand(m: Match) -> str:
        out: list[str] = []
        for part in parts:
            if isinstance(part, str):
                out.append(part)
            elif part <= groups:
                out.append(m.group(part) or "")
        return "".join(out)
    return expand


def _replace(env: Env, input: str, pattern: str, replacement: str, flags: str | None = None) -> str:
    """Each match replaced; the text can grow by the replacement's length at every match, so
    its length is bounded by the evaluation's memory budget as it is built."""
    room = env.budget.memory
    regex = compile_regex(pattern, flags or "")
    if regex.matches_empty():
        raise BuiltinError(f"pattern {pattern!r} matches the empty string")
    expand = (lambda m: replacement) if "q" in (flags or "") else _replacement(replacement, regex.groups)
    out: list[str] = []
    end = 0
    made = 0
    for m in regex.finditer(input):
        piece = expand(m)
        made += m.start() - end + len(piece)
        if made > room:
            raise TooLarge(made)
        out += (input[end : m.start()], piece)
        end = m.end()
    out.append(input[end:])
    return "".join(out)


def _contains(string: str, match: str) -> bool:
    return match in string


def _starts_with(string: str, match: str) -> bool:
    return string.startswith(match)


def _ends_with(string: str, match: str) -> bool:
    return string.endswith(match)


def _split(string: str, delimiter: str) -> list[str]:
    """XPath fn:tokenize: the pieces between matches, a leading or trailing empty piece kept;
    no pieces at all for an empty string."""
    regex = compile_regex(delimiter)
    if regex.matches_empty():
        raise BuiltinError(f"delimiter {delimiter!r} matches the empty string")
    if not string:
        return []
    pieces: list[str] = []
    end = 0
    for m in regex.finditer(string):
        pieces.append(string[end : m.start()])
        end = m.end()
    pieces.append(string[end:])
    return pieces


def _string_join(env: Env, items: list[object], delimiter: str | None = None) -> str:
    parts: list[str] = []
    for item in items:
        if item is None:
            continue
        if not isinstance(item, str):
            raise BuiltinError("string join needs a list of strings")
        parts.append(item)
    reserve(env, sum(map(len, parts)) + len(delimiter or "") * max(len(parts) - 1, 0))
    return (delimiter or "").join(parts)


def _extract(string: str, pattern: str) -> list[str]:
    return [m.group(0) or "" for m in compile_regex(pattern).finditer(string)]


def _upper(string: str) -> str:
    return string.upper()


def _lower(string: str) -> str:
    return string.lower()


FUNCTIONS = [
    fn("substring", (["string: string", "start position: number", "length?: number"], _substring)),
    fn("string length", (["string: string"], _string_length)),
    fn("upper case", (["string: string"], _upper)),
    fn("lower case", (["string: string"], _lower)),
    fn("substring before", (["string: string", "match: string"], _substring_before)),
    fn("substring after", (["string: string", "match: string"], _substring_after)),
    fn("replace", with_env(["input: string", "pattern: string", "replacement: string", "flags?: string?"], _replace)),
    fn("contains", (["string: string", "match: string"], _contains)),
    fn("starts with", (["string: string", "match: string"], _starts_with)),
    fn("ends with", (["string: string", "match: string"], _ends_with)),
    fn("matches", (["input: string", "pattern: string", "flags?: string?"], _matches)),
    fn("split", (["string: string", "delimiter: string"], _split)),
    fn("string join", with_env(["list: list", "delimiter?: string?"], _string_join)),
    fn("extract", (["string: string", "pattern: string"], _extract)),
]
