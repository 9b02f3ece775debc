"""Field-by-field comparison of parsed models, for round-trip tests.

`model_differences(expected, actual)` lists every differing field as `path: expected != actual`.
Source positions are ignored (they name where a model was read from, not what it says; so are
the file and line of a problem the reader recorded on an element's `BrokenLogic`); so are
ids the writer had to generate (`expected` has None there) when `generated_ids_ok` is set, and
then the diagram may have more shapes and edges than `expected` (those the writer laid out):
`expected`'s must be there, unchanged. A model that states no DMN version is in the default
one, and a diagram that is the writer's automatic layout is the same as none.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from decisions.dmn.diagram import complete_diagram
from decisions.errors import Location
from decisions.model import DEFAULT_DMN_VERSION, Definitions


def model_differences(expected: Any, actual: Any, *, generated_ids_ok: bool = False) -> list[str]:
    if isinstance(expected, Definitions) and isinstance(actual, Definitions) and \
            (expected.diagram is None) != (actual.diagram is None):
        expected, actual = _without_automatic_diagram(expected), _without_automatic_diagram(actual)
    differences: list[str] = []
    _walk(expected, actual, "model", generated_ids_ok, differences)
    return differences


def _walk(expected: Any, actual: Any, path: str, ids_ok: bool, out: list[str]) -> None:
    if dataclasses.is_dataclass(expected) and not isinstance(expected, type):
        if type(expected) is not type(actual):
            out.append(f"{path}: {type(expected).__name__} != {type(actual).__name__}")
            return
        for field in dataclasses.fields(expected):
            if field.name == "source" or (isinstance(expected, Location) and field.name in ("file", "line")):
                continue  # where it was read from (a problem's too), not what it says
            left, right = getattr(expected, field.name), getattr(actual, field.name)
            if field.name == "id" and ids_ok and left is None:
                continue
            if field.name == "dmn_version":  # a model that states no version is in the default one
                left, right = left or DEFAULT_DMN_VERSION, right or DEFAULT_DMN_VERSION
            if field.name == "diagram" and ids_ok:
                _walk_laid_out(left, right, f"{path}.diagram", out)
                continue
            _walk(left, right, f"{path}.{field.name}", ids_ok, out)
    elif isinstance(expected, list | tuple):
        if type(actual) is not type(expected) or len(expected) != len(actual):
            out.append(f"{path}: {expected!r} != {actual!r}")
            return
        for index, (left, right) in enumerate(zip(expected, actual, strict=True)):
            _walk(left, right, f"{path}[{index}]", ids_ok, out)
    elif expected != actual or type(expected) is not type(actual):
        out.append(f"{path}: {expected!r} != {actual!r}")


def _walk_laid_out(expected: Any, actual: Any, path: str, out: list[str]) -> None:
    """A written diagram keeps the shapes and edges read (in DMN 1.1 in the order of the elements they
    are written in); the writer adds the missing ones."""
    if expected is None:
        return
    if actual is None:
        out.append(f"{path}: the diagram was lost")
        return
    written_shapes = {shape.element: shape for shape in actual.shapes}
    for shape in expected.shapes:
        _walk(shape, written_shapes.get(shape.element), f"{path}.shapes[{shape.element!r}]", True, out)
    written_edges = {(edge.source, edge.target): edge for edge in actual.edges}
    for edge in expected.edges:
        _walk(edge, written_edges.get((edge.source, edge.target)), f"{path}.edges[{edge.source!r}]", True, out)


def _without_automatic_diagram(model: Any) -> Any:
    """A model whose diagram is the one the writer lays out when there is none, without it."""
    if not isinstance(model, Definitions) or model.diagram is None:
        return model
    bare = dataclasses.replace(model, diagram=None)
    automatic = complete_diagram(bare)
    drawn = model.diagram
    same_shapes = [(s.element, s.bounds) for s in drawn.shapes] == [(s.element, s.bounds) for s in automatic.shapes]
    same_edges = [(e.source, e.target, e.waypoints) for e in drawn.edges] == \
        [(e.source, e.target, e.waypoints) for e in automatic.edges]
    return bare if same_shapes and same_edges else model
