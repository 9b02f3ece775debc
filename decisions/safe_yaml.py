"""Safe YAML reading: the one loader for every YAML document Decisionary reads.

Models, test cases, bindings and configuration files come from analysts and from uploads, so
they are hostile input. PyYAML's safe loader runs no tags, but aliases let a few hundred bytes
stand for billions of values ("billion laughs"): the composed node graph is small, and only
whatever walks the data later (a gate running test cases, a JSON answer) pays. So every
document is composed once with the safe loader, and refused when its aliases would expand it
to more than `max_nodes(text)` nodes: without aliases a text cannot hold more nodes than
characters, so the bound never refuses an honest document.

    compose_yaml(text)  the node graph (for readers that keep lines), bounded
    load_yaml(text)     plain data: mappings, lists, strings, numbers, booleans, null, dates

Both raise `yaml.YAMLError` for every fault (a `YamlTooLarge` when aliases expand too far), so
a caller has one exception to turn into its own located problem.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, SequenceNode

NODE_ALLOWANCE = 100_000  # on top of two nodes per character of the text

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class YamlTooLarge(yaml.MarkedYAMLError):
    """Aliases expand the document beyond the bound (an alias-expansion bomb?)."""


def max_nodes(text: str) -> int:
    return 2 * len(text) + NODE_ALLOWANCE


def compose_yaml(text: str) -> Node | None:
    """The document's node graph (None when empty), refused when aliases expand it too far."""
    node = yaml.compose(text, Loader=_LOADER)
    if node is not None:
        _check_size(node, max_nodes(text))
    return node


def load_yaml(text: str) -> Any:
    """The document as plain data (safe types only), refused when aliases expand it too far."""
    node = compose_yaml(text)
    if node is None:
        return None
    constructor = SafeConstructor()
    return constructor.construct_document(node)


def _check_size(root: Node, limit: int) -> None:
    """Count the nodes the graph stands for once aliases are expanded, without expanding them:
    each distinct node's size is computed once (memoised), so the count costs the graph's size.
    A recursive alias expands without end, and is refused too."""
    sizes: dict[int, int] = {}
    active: set[int] = set()

    def size(node: Node) -> int:
        known = sizes.get(id(node))
        if known is not None:
            return known
        if id(node) in active:
            raise YamlTooLarge(problem="a recursive alias expands the YAML without end",
                               problem_mark=node.start_mark)
        total = 1
        if isinstance(node, (MappingNode, SequenceNode)):
            active.add(id(node))
            children = ([part for pair in node.value for part in pair] if isinstance(node, MappingNode)
                        else node.value)
            for child in children:
                total += size(child)
                if total > limit:
                    raise YamlTooLarge(problem=f"refused: aliases expand the YAML to more than {limit:,} values "
                                               "(an alias-expansion bomb?)", problem_mark=child.start_mark)
            active.discard(id(node))
        sizes[id(node)] = total
        return total

    try:
        size(root)
    except RecursionError:
        raise YamlTooLarge(problem="the YAML is nested too deeply", problem_mark=root.start_mark) from None
