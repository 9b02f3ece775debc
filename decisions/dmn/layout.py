"""Automatic layout of a decision requirements diagram, layered by dependency.

As modelers draw them (Camunda Modeler's layout): a decision sits above what it requires, so
input data and knowledge end at the bottom of the branch they feed. Rows are ordered to keep
edges short (barycentre sweeps), centred on the widest row, and never overlap. Shapes the model
already has stay where they are; the elements without one are laid out beside them. Each edge
is a straight line from the border of its source shape to the border of its target shape.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from decisions.model import Bounds

# Standard sizes per kind of element (those of Camunda Modeler and dmn-js).
SIZES: dict[str, tuple[float, float]] = {
    "decision": (180, 80),
    "input": (125, 45),
    "knowledge": (135, 46),
    "source": (100, 63),
    "service": (240, 120),
}
_LEFT, _TOP = 160.0, 80.0  # where a new drawing starts
_COLUMN_GAP, _ROW_GAP = 60.0, 100.0
_SWEEPS = 4

Point = tuple[float, float]


@dataclass(frozen=True)
class Node:
    name: str
    kind: str  # a key of SIZES


def layout(nodes: Sequence[Node], requirements: Sequence[tuple[str, str]],
           kept: Mapping[str, Bounds]) -> dict[str, Bounds]:
    """Bounds of every node: `kept` ones as they are, the others laid out in layers beside them.

    `requirements`: (required element, requiring element) pairs, by name.
    """
    new = [node for node in nodes if node.name not in kept]
    placed = dict(kept)
    if not new:
        return placed
    rows = _order(_rows(nodes, requirements, {node.name for node in new}), requirements)
    left, top = _LEFT, _TOP
    if kept:
        left = max(b.x + b.width for b in kept.values()) + 2 * _COLUMN_GAP
        top = min(b.y for b in kept.values())
    widths = [sum(SIZES[node.kind][0] for node in row) + _COLUMN_GAP * (len(row) - 1) for row in rows]
    widest = max(widths)
    y = top
    for row, width in zip(rows, widths, strict=True):
        height = max(SIZES[node.kind][1] for node in row)
        x = left + (widest - width) / 2
        for node in row:
            w, h = SIZES[node.kind]
            placed[node.name] = Bounds(round(x), round(y + (height - h) / 2), w, h)
            x += w + _COLUMN_GAP
        y += height + _ROW_GAP
    return placed


def _rows(nodes: Sequence[Node], requirements: Sequence[tuple[str, str]], new: set[str]) -> list[list[Node]]:
    """The new nodes by row, top row first: a node's height is the longest chain below it, and an
    element that requires nothing sits just below the lowest element requiring it."""
    names = {node.name for node in nodes}
    below: dict[str, list[str]] = {node.name: [] for node in nodes}
    above: dict[str, list[str]] = {node.name: [] for node in nodes}
    for source, target in requirements:
        if source in names and target in names and source != target:
            below[target].append(source)
            above[source].append(target)
    height: dict[str, int] = {}

    def measure(name: str, visiting: set[str]) -> int:
        if name in height:
            return height[name]
        visiting.add(name)
        # a cycle (an invalid model, still drawable) is cut where it closes
        lower = [measure(other, visiting) for other in below[name] if other not in visiting]
        visiting.discard(name)
        height[name] = 1 + max(lower) if lower else 0
        return height[name]

    for node in nodes:
        measure(node.name, set())
    for node in nodes:
        if not below[node.name] and above[node.name]:
            height[node.name] = max(0, min(height[other] for other in above[node.name]) - 1)
    top = max(height[node.name] for node in nodes if node.name in new)
    rows: list[list[Node]] = [[] for _ in range(top + 1)]
    for node in nodes:
        if node.name in new:
            rows[top - height[node.name]].append(node)
    return [row for row in rows if row]


def _order(rows: list[list[Node]], requirements: Sequence[tuple[str, str]]) -> list[list[Node]]:
    """Order each row by the mean position of its neighbours in the row before (sweeping down,
    then up), which shortens edges and removes most crossings."""
    neighbours: dict[str, set[str]] = {}
    for source, target in requirements:
        neighbours.setdefault(source, set()).add(target)
        neighbours.setdefault(target, set()).add(source)
    for sweep in range(_SWEEPS):
        sequence = range(1, len(rows)) if sweep % 2 == 0 else range(len(rows) - 2, -1, -1)
        for index in sequence:
            reference = rows[index - 1] if sweep % 2 == 0 else rows[index + 1]
            position = {node.name: at for at, node in enumerate(reference)}

            def centre(item: tuple[int, Node], position: dict[str, int] = position) -> float:
                at, node = item
                linked = [position[other] for other in neighbours.get(node.name, ()) if other in position]
                return sum(linked) / len(linked) if linked else float(at)

            rows[index] = [node for _, node in sorted(enumerate(rows[index]), key=centre)]
    return rows


def border_point(bounds: Bounds, towards: Point) -> Point:
    """Where the line from the centre of `bounds` to `towards` leaves the rectangle."""
    cx, cy = centre(bounds)
    dx, dy = towards[0] - cx, towards[1] - cy
    if dx == 0 and dy == 0:
        return cx, cy
    scale = min(bounds.width / 2 / abs(dx) if dx else float("inf"),
                bounds.height / 2 / abs(dy) if dy else float("inf"))
    return round(cx + dx * scale, 2), round(cy + dy * scale, 2)


def centre(bounds: Bounds) -> Point:
    return bounds.x + bounds.width / 2, bounds.y + bounds.height / 2


def straight_edge(source: Bounds, target: Bounds) -> list[Point]:
    """Waypoints of a requirement drawn from `source`'s border to `target`'s border."""
    return [border_point(source, centre(target)), border_point(target, centre(source))]
