"""XPath regular expressions (`matches`, `replace`, `split`, `extract`) on RE2.

FEEL patterns and flags follow XQuery/XPath Functions and Operators 3.1 (fn:matches, fn:replace,
fn:tokenize). They are translated to RE2, whose matching time is linear in the input, so no
pattern can make an evaluation hang (`(a+)+$` on a long run of `a`s backtracks for hours in a
backtracking engine). What the translation does:

- flags `s m i` become RE2 inline flags; `x` removes white space outside character classes
  before anything else; `q` quotes the whole pattern; any other flag is an error;
- `.` excludes CR and LF (unless flag `s`), `\\s \\d \\w \\i \\c` and their negations get their
  XPath meaning (Unicode `\\d`, `\\w` = not punctuation, separator or other), `\\p{..}` takes the
  XPath categories and the blocks listed in `_BLOCKS`;
- character-class subtraction `[a-z-[aeiou]]` is computed into an explicit class;
- a back-reference (`(a)\\1`) has no RE2 equivalent: such patterns run on a backtracking
  engine (`regex`) with a time bound (`BACKTRACKING_SECONDS`); past it the result is null with
  a problem saying why.

Patterns with no quantifier and no `|` (a literal, a class, `\\s`) cannot backtrack at all; they
run on `regex` too, whose per-match cost is far below RE2's Python binding (a split of 1 MB
into a million pieces). Everything else runs on RE2.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Protocol, TypeVar

import re2
import regex as backtracking

from decisions.feel.builtins.registry import BuiltinError

# Patterns that run on the backtracking engine get this long per call.
BACKTRACKING_SECONDS = 1.0

_WHITESPACE = " \t\n\r"
_DIGITS = "0123456789"
_SINGLE_ESCAPES = {"n": "\n", "r": "\r", "t": "\t"} | {c: c for c in "\\|.?*+(){}-[]^$"}
_CATEGORIES = frozenset(
    "L Lu Ll Lt Lm Lo M Mn Mc Me N Nd Nl No P Pc Pd Ps Pe Pi Pf Po S Sm Sc Sk So Z Zs Zl Zp C Cc Cf Co Cn".split()
)
# Unicode blocks (`\p{IsBasicLatin}`) as code point ranges; RE2 knows scripts, not blocks.
_BLOCKS: dict[str, tuple[tuple[int, int], ...]] = {
    "IsBasicLatin": ((0x00, 0x7F),),
    "IsLatin-1Supplement": ((0x80, 0xFF),),
}
# XML 1.0 (fifth edition) NameStartChar (`\i`) and NameChar (`\c`).
_NAME_START = (
    (0x3A, 0x3A), (0x41, 0x5A), (0x5F, 0x5F), (0x61, 0x7A), (0xC0, 0xD6), (0xD8, 0xF6),
    (0xF8, 0x2FF), (0x370, 0x37D), (0x37F, 0x1FFF), (0x200C, 0x200D), (0x2070, 0x218F),
    (0x2C00, 0x2FEF), (0x3001, 0xD7FF), (0xF900, 0xFDCF), (0xFDF0, 0xFFFD), (0x10000, 0xEFFFF),
)
_NAME = tuple(sorted(_NAME_START + ((0x2D, 0x2E), (0x30, 0x39), (0xB7, 0xB7), (0x300, 0x36F), (0x203F, 0x2040))))

_OPTIONS = re2.Options()
_OPTIONS.log_errors = False

Ranges = tuple[tuple[int, int], ...]
_T = TypeVar("_T")


class Match(Protocol):
    def start(self) -> int: ...

    def end(self) -> int: ...

    def group(self, group: int = 0, /) -> str | None: ...


@dataclass(frozen=True)
class XPathRegex:
    """A compiled XPath pattern; `groups` counts its capturing groups."""

    pattern: str
    groups: int
    engine: Any  # an RE2 pattern, or a `regex` pattern (back-references, or nothing to backtrack over)
    bounded: bool  # the `regex` engine, given BACKTRACKING_SECONDS per call

    def search(self, text: str) -> bool:
        return self._call(lambda: self.engine.search(text, **self._limit()) is not None)

    def finditer(self, text: str) -> list[Match]:
        return self._call(lambda: list(self.engine.finditer(text, **self._limit())))

    def matches_empty(self) -> bool:
        return self._call(lambda: self.engine.fullmatch("", **self._limit()) is not None)

    def _limit(self) -> dict[str, float]:
        return {"timeout": BACKTRACKING_SECONDS} if self.bounded else {}

    def _call(self, run: Callable[[], _T]) -> _T:
        try:
            return run()
        except UnicodeEncodeError:
            raise BuiltinError("the input is not valid Unicode text (it holds a lone surrogate)") from None
        except TimeoutError:
            raise BuiltinError(
                f"regular expression {self.pattern!r} took longer than {BACKTRACKING_SECONDS:g} s: "
                "back-references need a backtracking engine, whose time can grow exponentially"
            ) from None


def compile_regex(pattern: str, flags: str = "") -> XPathRegex:
    return _compile(pattern, flags)


@lru_cache(maxsize=512)
def _compile(pattern: str, flags: str) -> XPathRegex:
    inline = ""
    literal = extended = False
    for f in flags:
        if f == "q":
            literal = True
        elif f == "x":
            extended = True
        elif f in "smi":
            inline += "" if f in inline else f
        else:
            raise BuiltinError(f"invalid regular expression flag {f!r}: the flags are s, m, i, x and q")
    if literal:
        text, groups, back_references, simple = re2.escape(pattern), 0, False, False
    else:
        source = _strip_whitespace(pattern) if extended else pattern
        text, groups, back_references, simple = _Translator(source, "s" in inline, "m" in inline).run()
    prefix = f"(?{''.join(sorted(inline))})" if inline else ""
    try:
        if back_references or simple:
            return XPathRegex(pattern, groups, backtracking.compile(prefix + text), True)
        return XPathRegex(pattern, groups, re2.compile(prefix + text, _OPTIONS), False)
    except UnicodeEncodeError:
        raise BuiltinError(f"invalid regular expression {pattern!r}: it holds a lone surrogate") from None
    except (re2.error, backtracking.error) as e:
        reason = e.args[0].decode("utf-8", "replace") if e.args and isinstance(e.args[0], bytes) else str(e)
        raise BuiltinError(f"invalid regular expression {pattern!r}: {reason}") from None


def _strip_whitespace(pattern: str) -> str:
    """Flag x: white space outside character classes is removed before anything else."""
    out: list[str] = []
    depth = 0
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            out.append(c)
            i += 1
            while depth == 0 and i < len(pattern) and pattern[i] in _WHITESPACE:
                i += 1
            if i < len(pattern):
                out.append(pattern[i])
                i += 1
            continue
        if c in _WHITESPACE and depth == 0:
            i += 1
            continue
        if c == "[" and (depth == 0 or pattern[i - 1] == "-"):
            depth += 1
        elif c == "]" and depth:
            depth -= 1
        out.append(c)
        i += 1
    return "".join(out)


class _Translator:
    """One XPath pattern (already stripped for flag x) -> RE2 syntax, its group count, and
    whether it has back-references (rendered `\\g<N>` for the backtracking engine), and whether it
    is simple: no quantifier and no `|`, so no engine can backtrack over it."""

    def __init__(self, pattern: str, dot_all: bool, multi_line: bool) -> None:
        self.p = pattern
        self.dot_all = dot_all
        self.multi_line = multi_line
        self.simple = True
        self.groups = 0
        self.open: list[int] = []  # group numbers of the open groups, 0 for (?:
        self.closed: set[int] = set()
        self.back_references = False

    def fail(self, reason: str) -> BuiltinError:
        return BuiltinError(f"invalid regular expression {self.p!r}: {reason}")

    def run(self) -> tuple[str, int, bool, bool]:
        p, out, i = self.p, [], 0
        while i < len(p):
            c = p[i]
            if c == "\\":
                text, i = self.escape(i)
                out.append(text)
                continue
            if c == "[":
                cls, i = self.char_class(i)
                out.append(cls.render())
                continue
            if c == "(":
                if p.startswith("(?", i):
                    if not p.startswith("(?:", i):
                        raise self.fail("'(?' must start a non-capturing group '(?:'")
                    self.open.append(0)
                    out.append("(?:")
                    i += 3
                    continue
                self.groups += 1
                self.open.append(self.groups)
            elif c == ")" and self.open:
                self.closed.add(self.open.pop())
            elif c == "." and not self.dot_all:
                out.append("[^\\n\\r]")
                i += 1
                continue
            elif c == "$" and not self.multi_line:
                out.append("\\z")  # the end of the input only, also on the backtracking engine
                i += 1
                continue
            elif c in "*+?{|":
                self.simple = False
            out.append(c)
            i += 1
        return "".join(out), self.groups, self.back_references, self.simple

    def escape(self, i: int) -> tuple[str, int]:
        """The escape at p[i] == '\\' outside a character class."""
        p = self.p
        if i + 1 >= len(p):
            raise self.fail("trailing backslash")
        e = p[i + 1]
        if e in _SINGLE_ESCAPES:
            return _literal(_SINGLE_ESCAPES[e]), i + 2
        if e in _DIGITS:
            return self.back_reference(i)
        item, end = self.class_escape(i)
        return item.render_alone(), end

    def back_reference(self, i: int) -> tuple[str, int]:
        p = self.p
        if p[i + 1] == "0" or int(p[i + 1]) not in self.closed:
            raise self.fail(f"back-reference \\{p[i + 1]} to a group that is not closed before it")
        number, j = int(p[i + 1]), i + 2
        while j < len(p) and p[j] in _DIGITS and number * 10 + int(p[j]) in self.closed:
            number, j = number * 10 + int(p[j]), j + 1
        self.back_references = True
        return f"(?:\\g<{number}>)", j

    def class_escape(self, i: int) -> tuple[_Item, int]:
        """A multi-character escape (`\\d`, `\\p{L}`, ...) at p[i] == '\\', in or out of a class."""
        p = self.p
        e = p[i + 1]
        if e in "pP" and i + 2 < len(p) and p[i + 2] == "{":
            end = p.find("}", i + 3)
            if end < 0:
                raise self.fail(f"unterminated \\{e}{{")
            return _property(p[i + 3 : end], negated=e == "P"), end + 1
        if e.lower() in _ESCAPE_SETS:
            return _Item(_ESCAPE_SETS[e.lower()], negated=e.isupper()), i + 2
        raise self.fail(f"unknown escape \\{e}")

    def char_class(self, i: int) -> tuple[_Class, int]:
        """The character class starting at p[i] == '['; returns it and the index after it."""
        p = self.p
        i += 1
        negated = p.startswith("^", i)
        i += negated
        items: list[_Item] = []
        while True:
            if i >= len(p):
                raise self.fail("unterminated character class")
            c = p[i]
            if c == "]":
                if not items:
                    raise self.fail("empty character class")
                return _Class(negated, tuple(items), None), i + 1
            if c == "-" and p.startswith("-[", i) and items:
                subtracted, i = self.char_class(i + 1)
                if not p.startswith("]", i):
                    raise self.fail("a class subtraction '-[...]' must end its class")
                return _Class(negated, tuple(items), subtracted), i + 1
            low, item, i = self.class_atom(i)
            if item is not None:
                items.append(item)
                continue
            assert low is not None
            if p.startswith("-", i) and i + 1 < len(p) and p[i + 1] not in "[]":
                high, high_item, i = self.class_atom(i + 1)
                if high is None:
                    raise self.fail("a range must end with a single character")
                if high < low:
                    raise self.fail(f"range {chr(low)}-{chr(high)} is out of order")
                items.append(_Item(_ranges_text(((low, high),))))
            else:
                items.append(_Item(_ranges_text(((low, low),))))

    def class_atom(self, i: int) -> tuple[int | None, _Item | None, int]:
        """In a class: a single character (its code point) or a multi-character escape."""
        p = self.p
        if p[i] != "\\":
            return ord(p[i]), None, i + 1
        if i + 1 >= len(p):
            raise self.fail("trailing backslash")
        e = p[i + 1]
        if e in _SINGLE_ESCAPES:
            return ord(_SINGLE_ESCAPES[e]), None, i + 2
        if e in _DIGITS:
            raise self.fail("back reference in a character class")
        item, end = self.class_escape(i)
        return None, item, end


@dataclass(frozen=True)
class _Item:
    """Part of a character class: `text` is RE2 class syntax (no brackets) of the positive set."""

    text: str
    negated: bool = False

    def render_in_class(self) -> str:
        if not self.negated:
            return self.text
        if self.text.startswith("\\p{") and self.text.count("\\") == 1:
            return "\\P" + self.text[2:]
        return _ranges_text(_complement(_code_points(self.text)))

    def render_alone(self) -> str:
        return f"[{'^' if self.negated else ''}{self.text}]"


@dataclass(frozen=True)
class _Class:
    negated: bool
    items: tuple[_Item, ...]
    subtracted: _Class | None

    def render(self) -> str:
        body = f"[{'^' if self.negated else ''}{''.join(item.render_in_class() for item in self.items)}]"
        if self.subtracted is None:
            return body
        ranges = _subtract(_code_points(body, bracketed=True), _code_points(self.subtracted.render(), bracketed=True))
        return f"[{_ranges_text(ranges)}]" if ranges else f"[^{_ranges_text(((0, 0x10FFFF),))}]"


def _property(name: str, negated: bool) -> _Item:
    if name in _BLOCKS:
        return _Item(_ranges_text(_BLOCKS[name]), negated)
    if name not in _CATEGORIES:
        raise BuiltinError(f"unsupported character property \\{'P' if negated else 'p'}{{{name}}}")
    if name in ("C", "Cn"):  # RE2's \p{C} leaves out unassigned code points (Cn), which it lacks
        assigned = "".join(f"\\p{{{c}}}" for c in "LMNPSZ") + "\\p{Cc}\\p{Cf}\\p{Co}\\p{Cs}"
        unassigned = _complement(_code_points(assigned))
        return _Item(("\\p{C}" if name == "C" else "") + _ranges_text(unassigned), negated)
    return _Item(f"\\p{{{name}}}", negated)


def _class_char(code: int) -> str:
    c = chr(code)
    return "\\" + c if c in "\\]^-[" else c


def _literal(c: str) -> str:
    return "\\" + c if c in "\\.^$|?*+()[]{}" else c


def _ranges_text(ranges: Ranges) -> str:
    return "".join(_class_char(a) if a == b else f"{_class_char(a)}-{_class_char(b)}" for a, b in ranges)


_ESCAPE_SETS = {
    "d": "\\p{Nd}",
    "s": _ranges_text(((9, 10), (13, 13), (32, 32))),
    "w": "\\p{L}\\p{M}\\p{N}\\p{S}",  # XPath: all but punctuation, separators and others
    "i": _ranges_text(_NAME_START),
    "c": _ranges_text(_NAME),
}


@lru_cache(maxsize=1)
def _every_code_point() -> str:
    return "".join(map(chr, range(0xD800))) + "".join(map(chr, range(0xE000, 0x110000)))


@lru_cache(maxsize=256)
def _code_points(text: str, bracketed: bool = False) -> Ranges:
    """The code points of an RE2 class (`text` is its inside, or the whole class if bracketed)."""
    cls = text if bracketed else f"[{text}]"
    ranges: list[tuple[int, int]] = []
    for m in re2.compile(f"{cls}+", _OPTIONS).finditer(_every_code_point()):
        first, last = m.start(), m.end() - 1
        first, last = first + 0x800 * (first >= 0xD800), last + 0x800 * (last >= 0xD800)
        if first < 0xD800 < last:
            ranges += [(first, 0xD7FF), (0xE000, last)]
        else:
            ranges.append((first, last))
    return tuple(ranges)


def _complement(ranges: Ranges) -> Ranges:
    out: list[tuple[int, int]] = []
    start = 0
    for a, b in ranges:
        if a > start:
            out.append((start, a - 1))
        start = b + 1
    if start <= 0x10FFFF:
        out.append((start, 0x10FFFF))
    return _subtract(tuple(out), ((0xD800, 0xDFFF),))  # surrogates are not characters


def _subtract(ranges: Ranges, removed: Ranges) -> Ranges:
    out: list[tuple[int, int]] = []
    for a, b in ranges:
        for c, d in removed:
            if d < a or c > b:
                continue
            if c > a:
                out.append((a, c - 1))
            a = d + 1
            if a > b:
                break
        if a <= b:
            out.append((a, b))
    return tuple(out)
