"""Champion/challenger splits and shadow versions on an alias: what they are and how a call is routed.

An alias may carry a routing besides its version:

    {"split_on": "Applicant Id",
     "arms": [{"name": "champion", "version": 3, "percent": 90},
              {"name": "challenger", "version": 4, "percent": 10}],
     "shadows": [5]}

- **Arms** share the alias's traffic. One arm is the alias's own version: the champion. Names
  are unique (1-100 characters), percents have at most 2 decimals and add up to exactly 100.
- **The split is deterministic**: the arm is chosen from SHA-256 of (model key, alias, the
  canonical JSON of the `split_on` input's value), mapped to [0, 10000) basis points against
  the arms' cumulative percents. The same applicant therefore always gets the same version, in
  every worker and after every restart. A call without that input (or with null) goes to the
  champion.
- **Shadows** are published versions outside the arms that are evaluated on every call too,
  without affecting the answer; their records point at the live record (`shadow_of`).

This module is pure: it parses, validates the parts that need no database, and chooses arms.
Storing a routing, and the checks against stored versions, are in registry/aliases.py.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from registry.errors import Invalid

BASIS_POINTS = 10_000  # 100.00 %, the resolution of a split
MAX_ARMS = 20
MAX_SHADOWS = 3  # each shadow costs one more evaluation per call
SHADOW_ARM = "shadow"  # the `arm` of a shadow version's decision record
_KEYS = {"split_on", "arms", "shadows"}
_ARM_KEYS = {"name", "version", "percent"}


class RoutingInvalid(Invalid):
    """A routing that cannot be: `pointer` is where in its JSON form (RFC 6901; "" for the whole)."""

    def __init__(self, pointer: str, message: str) -> None:
        super().__init__(message)
        self.pointer = pointer


@dataclass(frozen=True)
class Arm:
    name: str
    version: int
    basis_points: int  # the arm's percent times 100

    @property
    def percent(self) -> int | float:
        """As JSON writes it: 90 for 90 %, 12.5 for 12.5 %."""
        whole, rest = divmod(self.basis_points, 100)
        return whole if rest == 0 else self.basis_points / 100

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "version": self.version, "percent": self.percent}


@dataclass(frozen=True)
class Routing:
    split_on: str | None
    arms: tuple[Arm, ...]
    shadows: tuple[int, ...]

    @property
    def versions(self) -> tuple[int, ...]:
        """Every version the routing may evaluate: the arms', then the shadows'."""
        return tuple(arm.version for arm in self.arms) + self.shadows

    def arm_of(self, number: int) -> Arm | None:
        return next((arm for arm in self.arms if arm.version == number), None)

    def choose(self, key: str, alias: str, value: Any) -> Arm | None:
        """The arm for a call whose `split_on` input is `value`; None when the routing has no arms.
        A missing value is the caller's to handle: it goes to the champion, the arm of the
        alias's own version (`arm_of`)."""
        if not self.arms:
            return None
        point = bucket(key, alias, value)
        reached = 0
        for arm in self.arms:
            reached += arm.basis_points
            if point < reached:
                return arm
        return self.arms[-1]  # unreachable when the percents add up to 100

    def to_dict(self) -> dict[str, Any]:
        return {"split_on": self.split_on, "arms": [arm.to_dict() for arm in self.arms],
                "shadows": list(self.shadows)}


def bucket(key: str, alias: str, value: Any) -> int:
    """Where `value` falls in [0, 10000): the same key, alias and value always fall in the same place."""
    material = json.dumps([key, alias, canonical_json(value)], ensure_ascii=False, separators=(",", ":"))
    digest = hashlib.sha256(material.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % BASIS_POINTS  # 2**64 % 10000 is a negligible bias


def canonical_json(value: Any) -> str:
    """`value` as JSON text with one spelling per value: 5, 5.0 and 5.00 are all `5`; object keys
    sorted; no spaces. Values JSON has no type for (dates...) are written as their string form."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (int, float, Decimal)):
        try:
            number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
        except (InvalidOperation, ValueError):
            return json.dumps(str(value), ensure_ascii=False)
        if not number.is_finite():
            return json.dumps(str(value), ensure_ascii=False)
        return "0" if number == 0 else format(number.normalize(), "f")
    if isinstance(value, Mapping):
        items = sorted(((str(k), v) for k, v in value.items()), key=lambda item: item[0])
        return "{" + ",".join(f"{json.dumps(k, ensure_ascii=False)}:{canonical_json(v)}" for k, v in items) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(canonical_json(v) for v in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)


def parse_routing(data: Any) -> Routing:
    """A routing from its JSON form, with every fault found that needs no database (Invalid)."""
    if not isinstance(data, Mapping):
        raise RoutingInvalid("", "a routing is an object with split_on, arms and shadows")
    unknown = sorted(set(map(str, data)) - _KEYS)
    if unknown:
        raise RoutingInvalid(f"/{unknown[0]}", f"a routing has no field {unknown[0]!r}; its fields are split_on, arms and shadows")
    arms = _arms(data.get("arms") or [])
    shadows = _shadows(data.get("shadows") or [])
    split_on = data.get("split_on")
    if split_on is not None and (not isinstance(split_on, str) or not split_on.strip() or len(split_on) > 200):
        raise RoutingInvalid("/split_on", "split_on must name an input (1-200 characters)")
    if arms and split_on is None:
        raise RoutingInvalid("/split_on", "a split needs split_on: the input whose value chooses the arm")
    if not arms and split_on is not None:
        raise RoutingInvalid("/split_on", "split_on is given without arms to split between")
    if not arms and not shadows:
        raise RoutingInvalid("", "a routing needs arms, shadows or both; to remove the routing, clear it")
    in_arms = sorted(set(shadows) & {arm.version for arm in arms})
    if in_arms:
        raise RoutingInvalid("/shadows", f"version {in_arms[0]} is both an arm and a shadow; a shadow is a version outside the arms")
    return Routing(split_on, arms, shadows)


def _arms(data: Any) -> tuple[Arm, ...]:
    if not isinstance(data, Sequence) or isinstance(data, (str, bytes)):
        raise RoutingInvalid("/arms", "arms must be a list of {name, version, percent}")
    if len(data) > MAX_ARMS:
        raise RoutingInvalid("/arms", f"at most {MAX_ARMS} arms; {len(data)} were given")
    arms: list[Arm] = []
    for i, item in enumerate(data):
        where = f"arm {i + 1}"
        if not isinstance(item, Mapping):
            raise RoutingInvalid(f"/arms/{i}", f"{where} must be an object with name, version and percent")
        unknown = sorted(set(map(str, item)) - _ARM_KEYS)
        if unknown:
            raise RoutingInvalid(f"/arms/{i}/{unknown[0]}", f"{where} has no field {unknown[0]!r}; an arm has name, version and percent")
        name = item.get("name")
        if not isinstance(name, str) or not name.strip() or len(name) > 100:
            raise RoutingInvalid(f"/arms/{i}/name", f"{where}: the name must be 1-100 characters")
        if name == SHADOW_ARM:
            raise RoutingInvalid(f"/arms/{i}/name", f"{where}: {SHADOW_ARM!r} names shadow versions' records; choose another arm name")
        where = f"arm {name!r}"
        arms.append(Arm(name, _version(item.get("version"), where, f"/arms/{i}/version"),
                        _basis_points(item.get("percent"), where, f"/arms/{i}/percent")))
    names = [arm.name for arm in arms]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise RoutingInvalid("/arms", f"arm names must be unique; {repeated[0]!r} is used more than once")
    versions = [arm.version for arm in arms]
    doubled = sorted({v for v in versions if versions.count(v) > 1})
    if doubled:
        raise RoutingInvalid("/arms", f"version {doubled[0]} is in more than one arm; give each arm its own version")
    total = sum(arm.basis_points for arm in arms)
    if arms and total != BASIS_POINTS:
        shares = ", ".join(f"{arm.name} {_percent_text(arm.basis_points)}" for arm in arms)
        raise RoutingInvalid("/arms", f"the arms' percentages add up to {_percent_text(total)}, not 100 ({shares})")
    return tuple(arms)


def _shadows(data: Any) -> tuple[int, ...]:
    if not isinstance(data, Sequence) or isinstance(data, (str, bytes)):
        raise RoutingInvalid("/shadows", "shadows must be a list of version numbers")
    numbers = tuple(_version(item, f"shadow {i + 1}", f"/shadows/{i}") for i, item in enumerate(data))
    if len(set(numbers)) != len(numbers):
        raise RoutingInvalid("/shadows", "a shadow version is listed more than once")
    if len(numbers) > MAX_SHADOWS:
        raise RoutingInvalid("/shadows", f"at most {MAX_SHADOWS} shadow versions (each one is another evaluation per call); "
                      f"{len(numbers)} were given")
    return numbers


def _version(value: Any, where: str, pointer: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 999_999_999:
        raise RoutingInvalid(pointer, f"{where}: the version must be a version number (1, 2, ...), not {value!r}")
    return value


def _basis_points(value: Any, where: str, pointer: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        raise RoutingInvalid(pointer, f"{where}: the percent must be a number from 0 to 100, not {value!r}")
    try:
        number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    except (InvalidOperation, ValueError):
        raise RoutingInvalid(pointer, f"{where}: the percent must be a number from 0 to 100, not {value!r}") from None
    if not number.is_finite() or not 0 <= number <= 100:
        raise RoutingInvalid(pointer, f"{where}: the percent must be a number from 0 to 100, not {value}")
    points = number * 100
    if points != points.to_integral_value():
        raise RoutingInvalid(pointer, f"{where}: the percent {value} has more than 2 decimals")
    return int(points)


def _percent_text(basis_points: int) -> str:
    whole, rest = divmod(basis_points, 100)
    return str(whole) if rest == 0 else f"{basis_points / 100:g}"


def describe(routing: Routing | None) -> str:
    """One line for logs and CLI output."""
    if routing is None:
        return "the alias's version alone"
    parts = [f"{arm.name} v{arm.version} {_percent_text(arm.basis_points)}%" for arm in routing.arms]
    if routing.split_on is not None:
        parts.insert(0, f"split on {routing.split_on!r}:")
    if routing.shadows:
        parts.append("shadows " + ", ".join(f"v{n}" for n in routing.shadows))
    return " ".join(parts)
