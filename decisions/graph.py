"""The decision requirements graph: evaluation order and cycle detection."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from decisions.errors import Location, ModelError, Problem


def evaluation_order(requires: Mapping[str, Sequence[str]], file: str | None = None) -> list[str]:
    """Order the nodes so that each comes after what it requires (depth-first, stable).

    `requires[node]` lists the nodes it depends on; names not in `requires` are leaves
    (input data). A cycle is a `ModelError` that names the cycle in order.
    """
    order: list[str] = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> None:
        mark = state.get(node)
        if mark == 2:
            return
        if mark == 1:
            cycle = path[path.index(node):] + [node]
            raise ModelError(Problem(
                "the decision requirements form a cycle: " + " -> ".join(cycle),
                Location(file=file, element=node), code="cycle"))
        state[node] = 1
        path.append(node)
        for dep in requires.get(node, ()):
            if dep in requires:
                visit(dep)
        path.pop()
        state[node] = 2
        order.append(node)

    for node in requires:
        visit(node)
    return order


def required_closure(requires: Mapping[str, Sequence[str]], targets: Sequence[str]) -> set[str]:
    """Every node the targets need, the targets included."""
    needed: set[str] = set()
    stack = list(targets)
    while stack:
        node = stack.pop()
        if node in needed:
            continue
        needed.add(node)
        stack.extend(d for d in requires.get(node, ()) if d in requires)
    return needed
