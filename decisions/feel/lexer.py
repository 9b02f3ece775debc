"""Scope-aware FEEL tokenizer.

FEEL names may contain spaces and some operator characters (`Monthly Salary`,
`date and time`, `Loan-to-value`), so a name cannot be recognised by a regular expression
alone. Tokenizing runs in three steps:

1. a raw scan into words, numbers, strings and punctuation (comments and spaces dropped);
2. a pre-pass that collects the names the text itself introduces: context keys,
   `for`/`some`/`every` variables and function parameters;
3. a merge: at each word, the longest known name (scope, built-ins, introduced) that
   matches the text wins; otherwise a keyword is a keyword; otherwise consecutive plain
   words form one (unknown) name, as DMN allows names with spaces.

The result is a list of lark `Token`s fed to the LALR parser.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable
from dataclasses import dataclass

from lark import Token

from decisions.feel.errors import FeelSyntaxError

KEYWORDS: dict[str, str] = {
    word: word.upper()
    for word in (
        "and", "or", "not", "in", "for", "return", "if", "then", "else", "some", "every",
        "satisfies", "between", "instance", "of", "function", "external", "true", "false", "null",
    )
}

# Longest first, so that `**` wins over `*` and `..` over `.`.
PUNCTUATION: tuple[tuple[str, str], ...] = (
    ("**", "POW"), ("..", "DOTDOT"), ("!=", "NEQ"), ("<=", "LE"), (">=", "GE"), ("->", "ARROW"),
    ("(", "LPAR"), (")", "RPAR"), ("[", "LSQB"), ("]", "RSQB"), ("{", "LBRACE"), ("}", "RBRACE"),
    (",", "COMMA"), (":", "COLON"), (".", "DOT"), ("+", "PLUS"), ("-", "MINUS"), ("*", "STAR"),
    ("/", "SLASH"), ("=", "EQ"), ("<", "LT"), (">", "GT"), ("@", "AT"), ("?", "QUESTION"),
)
_PUNCT_FIRST: dict[str, list[tuple[str, str]]] = {}
for _sym, _kind in PUNCTUATION:
    _PUNCT_FIRST.setdefault(_sym[0], []).append((_sym, _kind))

# Characters that may join the words of a name known to the scope (DMN "additional name symbols").
NAME_SYMBOLS = frozenset("./-+*'’")

# DMN 1.5 grammar rule 35: digits with an optional fraction, or a fraction alone, then an
# optional exponent (`1.5e-3`, `.5E2`). `1.` is not a number, nor `1e` (that is 1, then a name).
_NUMBER = re.compile(r"(?:[0-9]+(?:\.[0-9]+)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_DIGITS = frozenset("0123456789")
# White space of the grammar that Python does not count as such (U+180E, U+200B, U+FEFF): a
# byte order mark or zero width space pasted with a formula separates, it does not join.
_OTHER_SPACE = "\u180e\u200b\ufeff"
_SPACE = re.compile(rf"[\s{_OTHER_SPACE}]+")
# A name start character (see is_name_start) followed by name part characters (is_name_part).
_WORD = re.compile(rf"(?:[^\W\d{_OTHER_SPACE}]|[^\x00-\x7f\s\u2019{_OTHER_SPACE}])"
                   rf"(?:[\w'\u00b7]|[^\x00-\x7f\s{_OTHER_SPACE}])*")


def is_space(c: str) -> bool:
    return c.isspace() or c in _OTHER_SPACE


def is_name_start(c: str) -> bool:
    return c == "_" or c.isalpha() or (ord(c) >= 0x80 and not is_space(c) and c not in "’")


def is_name_part(c: str) -> bool:
    return is_name_start(c) or c.isdigit() or c in "'’\u00b7"


def normalize_name(name: str) -> str:
    """Names compare with runs of white space collapsed to one space."""
    return _SPACE.sub(" ", name).strip()


@dataclass(frozen=True)
class RawToken:
    kind: str  # WORD, NUMBER, STRING or a punctuation kind
    text: str  # source text (decoded value for strings)
    start: int
    end: int


class NameIndex:
    """Known names indexed by their first word, each as the sequence of its raw token texts.

    Matching compares token texts, so the spacing inside a name does not matter
    (`Monthly   Salary` is `Monthly Salary`), but word boundaries do.
    """

    def __init__(self, names: Iterable[str] = ()) -> None:
        self._by_first: dict[str, list[tuple[tuple[str, ...], str]]] = {}
        self._names: set[str] = set()
        self._sorted = True
        for name in names:
            self.add(name)

    def add(self, name: str) -> None:
        name = normalize_name(name)
        if name in self._names:
            return
        try:
            parts = tuple(tok.text for tok in scan(name))
        except FeelSyntaxError:
            return  # a name no FEEL text can spell (e.g. with a quote) is never matched
        if not parts or not (is_name_start(parts[0][0])):
            return
        self._names.add(name)
        self._by_first.setdefault(parts[0], []).append((parts, name))
        self._sorted = False

    def longest_match(self, raw: list[RawToken], i: int) -> tuple[str, int] | None:
        """(name, index just past its last raw token) of the longest name starting at raw[i]."""
        if not self._sorted:
            for entries in self._by_first.values():
                entries.sort(key=lambda entry: -len(entry[0]))
            self._sorted = True
        for parts, name in self._by_first.get(raw[i].text, ()):
            k = len(parts)
            if i + k <= len(raw) and all(raw[i + j].text == parts[j] and raw[i + j].kind != "STRING"
                                         for j in range(1, k)):
                return name, i + k
        return None

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and normalize_name(name) in self._names


# --- step 1: raw scan ---------------------------------------------------------------------


def scan(text: str) -> list[RawToken]:
    tokens: list[RawToken] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if is_space(c):
            i += 1
        elif text.startswith("//", i):
            end = text.find("\n", i)
            i = n if end < 0 else end + 1
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            if end < 0:
                raise FeelSyntaxError(f"unterminated comment starting at position {i}", text, i)
            i = end + 2
        elif c == '"':
            value, end = _scan_string(text, i)
            tokens.append(RawToken("STRING", value, i, end))
            i = end
        elif c in _DIGITS or (c == "." and i + 1 < n and text[i + 1] in _DIGITS):
            m = _NUMBER.match(text, i)
            assert m is not None
            tokens.append(RawToken("NUMBER", m.group(), i, m.end()))
            i = m.end()
        elif is_name_start(c):
            m = _WORD.match(text, i)
            assert m is not None
            tokens.append(RawToken("WORD", m.group(), i, m.end()))
            i = m.end()
        elif c in _PUNCT_FIRST:
            for sym, kind in _PUNCT_FIRST[c]:
                if text.startswith(sym, i):
                    tokens.append(RawToken(kind, sym, i, i + len(sym)))
                    i += len(sym)
                    break
            else:  # e.g. a lone '!'
                raise FeelSyntaxError(f"unexpected character {c!r} at position {i}", text, i)
        else:
            raise FeelSyntaxError(f"unexpected character {c!r} at position {i}", text, i)
    return tokens


_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "'": "'", "\\": "\\", "b": "\b", "f": "\f"}


def _scan_string(text: str, start: int) -> tuple[str, int]:
    """Decode a string literal starting at the quote; returns (value, end offset)."""
    out: list[str] = []
    i, n = start + 1, len(text)
    while i < n:
        c = text[i]
        if c == '"':
            return _join_surrogates(out), i + 1
        if c == "\\" and i + 1 < n:
            e = text[i + 1]
            if e in _ESCAPES:
                out.append(_ESCAPES[e])
                i += 2
                continue
            if e in "uU":
                width = 4 if e == "u" else 6
                digits = text[i + 2 : i + 2 + width]
                if len(digits) == width and all(d in "0123456789abcdefABCDEF" for d in digits):
                    code = int(digits, 16)
                    if code > 0x10FFFF:
                        raise FeelSyntaxError(f"invalid escape '\\{e}{digits}' at position {i}", text, i)
                    out.append(chr(code))
                    i += 2 + width
                    continue
                raise FeelSyntaxError(f"invalid escape '\\{e}' at position {i}", text, i)
            # Unknown escapes keep the backslash: regular-expression arguments (`matches`) rely on it.
            out.append(c)
            i += 1
            continue
        out.append(c)
        i += 1
    raise FeelSyntaxError(f"unterminated string starting at position {start}", text, start)


def _join_surrogates(parts: list[str]) -> str:
    s = "".join(parts)
    if not any("\ud800" <= ch <= "\udfff" for ch in s):
        return s
    return s.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


# --- step 2: names the text introduces --------------------------------------------------------


def _name_run(raw: list[RawToken], i: int, stop: str | None = None) -> int:
    """Index just past a run of words (joined by name symbols) starting at i; i if none.
    The run ends before a separate word `stop` (`in` after an iteration variable)."""
    j = i
    if j < len(raw) and raw[j].kind == "WORD":
        j += 1
        while j + 1 < len(raw) and raw[j].text in NAME_SYMBOLS and raw[j + 1].kind == "WORD" \
                and raw[j].start == raw[j - 1].end:
            j += 2
        while j < len(raw) and raw[j].kind == "WORD" and raw[j].text != stop:
            j += 1
            while j + 1 < len(raw) and raw[j].text in NAME_SYMBOLS and raw[j + 1].kind == "WORD" \
                    and raw[j].start == raw[j - 1].end:
                j += 2
    return j


def introduced_names(text: str, raw: list[RawToken]) -> list[str]:
    names: list[str] = []
    for i, tok in enumerate(raw):
        opens_entry = tok.kind in ("LBRACE", "COMMA")
        opens_iteration = tok.kind == "COMMA" or (tok.kind == "WORD" and tok.text in ("for", "some", "every"))
        opens_param = tok.kind == "LPAR" and i > 0 and raw[i - 1].text == "function"
        start = i + 1
        if start >= len(raw):
            continue
        if opens_entry and raw[start].kind == "STRING" and start + 1 < len(raw) and raw[start + 1].kind == "COLON":
            names.append(normalize_name(raw[start].text))
            continue
        end = _name_run(raw, start)
        if end == start or end >= len(raw):
            continue
        following = raw[end]
        name = normalize_name(text[raw[start].start : raw[end - 1].end])
        # an iteration variable is the words before `in` (the run above would take `in` too)
        iterated = _name_run(raw, start, "in") if opens_iteration else start
        if (opens_entry or opens_param) and following.kind == "COLON":
            names.append(name)
        elif iterated > start and iterated < len(raw) and raw[iterated].text == "in":
            names.append(normalize_name(text[raw[start].start : raw[iterated - 1].end]))
        elif opens_param and following.kind in ("COMMA", "RPAR"):
            names.append(name)
        if opens_param:
            # the other parameters of `function(a, b c, d: number)`
            j = end
            while j < len(raw) and raw[j].kind != "RPAR":
                if raw[j].kind == "COMMA":
                    k = _name_run(raw, j + 1)
                    if k > j + 1:
                        names.append(normalize_name(text[raw[j + 1].start : raw[k - 1].end]))
                    j = max(k, j + 1)
                else:
                    j += 1
    return names


# --- step 3: merge into parser tokens ----------------------------------------------------------


def tokenize(text: str, indexes: Iterable[NameIndex]) -> list[Token]:
    raw = scan(text)
    starts = _line_starts(text)
    local = NameIndex(introduced_names(text, raw))
    all_indexes = [*indexes, local]
    out: list[Token] = []
    i = 0
    while i < len(raw):
        tok = raw[i]
        if tok.kind != "WORD":
            if tok.kind == "QUESTION":
                out.append(_token("NAME", "?", tok, starts))
            elif tok.kind == "LSQB" and i + 1 < len(raw) and raw[i + 1].kind == "RSQB":
                # `[]` as one token keeps the grammar LALR(1) next to `]a..b[` intervals
                out.append(Token("EMPTY_LIST", "[]", tok.start, *_line_col(starts, tok.start), end_pos=raw[i + 1].end))
                i += 2
                continue
            elif tok.kind == "NUMBER":
                out.append(_token("NUMBER", tok.text, tok, starts))
            else:
                out.append(_token(tok.kind, tok.text, tok, starts))
            i += 1
            continue
        best: tuple[str, int] | None = None
        for index in all_indexes:
            found = index.longest_match(raw, i)
            if found and (best is None or found[1] > best[1]):
                best = found
        keyword = KEYWORDS.get(tok.text)
        if best is not None and (keyword is None or best[1] > i + 1):
            end = raw[best[1] - 1].end
            out.append(Token("NAME", best[0], tok.start, *_line_col(starts, tok.start), end_pos=end))
            i = best[1]
        elif keyword is not None:
            out.append(_token(keyword, tok.text, tok, starts))
            i += 1
        else:
            j = i
            while j + 1 < len(raw) and raw[j + 1].kind == "WORD" and raw[j + 1].text not in KEYWORDS:
                j += 1
            name = normalize_name(text[tok.start : raw[j].end])
            out.append(Token("NAME", name, tok.start, *_line_col(starts, tok.start), end_pos=raw[j].end))
            i = j + 1
    return out


def _line_starts(text: str) -> list[int]:
    return [0, *(k + 1 for k, c in enumerate(text) if c == "\n")]


def _line_col(starts: list[int], pos: int) -> tuple[int, int]:
    """1-based line and column of an offset, given the offsets where lines start."""
    line = bisect.bisect_right(starts, pos)
    return line, pos - starts[line - 1] + 1


def _token(kind: str, value: object, tok: RawToken, starts: list[int]) -> Token:
    return Token(kind, value, tok.start, *_line_col(starts, tok.start), end_pos=tok.end)
