"""Durations in bindings: `500ms`, `10s`, `5m`, `2h`, `1d`, combinations (`1h30m`), ISO 8601
(`PT10S`, `P1DT2H`), or a plain number of seconds."""

from __future__ import annotations

import re

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}
_SHORT = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w)")
_ISO = re.compile(r"P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?")


def parse_duration(value: object) -> float:
    """Seconds in `value`; ValueError (with the accepted forms) when it is not a duration."""
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a duration")
    if isinstance(value, (int, float)):
        if value < 0:
            raise ValueError(f"a duration cannot be negative ({value})")
        return float(value)
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not a duration")
    text = value.strip().replace(" ", "")
    if not text:
        raise ValueError("an empty text is not a duration")
    iso = _ISO.fullmatch(text.upper())
    if iso and text.upper() not in ("P", "PT"):
        weeks, days, hours, minutes, seconds = iso.groups()
        return (int(weeks or 0) * 604800 + int(days or 0) * 86400 + int(hours or 0) * 3600
                + int(minutes or 0) * 60 + float(seconds or 0))
    total = 0.0
    position = 0
    for match in _SHORT.finditer(text.lower()):
        if match.start() != position:
            break
        total += float(match.group(1)) * _UNITS[match.group(2)]
        position = match.end()
    if position != len(text) or position == 0:
        try:
            seconds = float(text)
        except ValueError:
            raise ValueError(f"{value!r} is not a duration: write e.g. 500ms, 10s, 5m, 2h, 1d, 1h30m "
                             "or ISO 8601 (PT10S)") from None
        if seconds < 0:
            raise ValueError(f"a duration cannot be negative ({value})")
        return seconds
    return total
