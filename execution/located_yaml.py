"""YAML read with the line of every value, so that an error can say `file:line, path`.

`load_located(text)` returns the plain data (safe types only: mappings, lists, strings, numbers,
booleans, null, dates) and a map from each value's path — a tuple of keys and list indexes —
to its 1-based line. `path_text(path)` prints a path the way a reader finds it in the file:
`workflows.approve-loan.steps[1].when`.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from decisions.safe_yaml import compose_yaml

Path = tuple[str | int, ...]

class LocatedYamlError(ValueError):
    def __init__(self, message: str, line: int | None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


def load_located(text: str) -> tuple[Any, dict[Path, int]]:
    try:
        node = compose_yaml(text)  # the shared safe loader: aliases cannot expand it too far
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise LocatedYamlError(f"not valid YAML: {exc.problem or exc}", mark.line + 1 if mark else None) from None
    except yaml.YAMLError as exc:
        raise LocatedYamlError(f"not valid YAML: {exc}", None) from None
    lines: dict[Path, int] = {}
    if node is None:
        return None, lines
    builder = _Builder(lines)
    return builder.build(node, ()), lines


def path_text(path: Path) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(document)"


class _Builder:
    def __init__(self, lines: dict[Path, int]) -> None:
        self.lines = lines
        self.constructor = SafeConstructor()

    def build(self, node: Node, path: Path) -> Any:
        self.lines[path] = node.start_mark.line + 1
        if isinstance(node, MappingNode):
            result: dict[str, Any] = {}
            for key_node, value_node in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    raise LocatedYamlError("merge keys (<<) are not supported", key_node.start_mark.line + 1)
                # Keys are text as written: YAML 1.1 would read `on:` as the boolean true.
                if not isinstance(key_node, ScalarNode):
                    raise LocatedYamlError("mapping keys must be plain text", key_node.start_mark.line + 1)
                key = str(key_node.value)
                if key in result:
                    raise LocatedYamlError(f"the key {key!r} appears twice", key_node.start_mark.line + 1)
                result[key] = self.build(value_node, (*path, key))
            return result
        if isinstance(node, SequenceNode):
            return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
        if isinstance(node, ScalarNode):
            try:
                return self.constructor.construct_object(node, deep=True)
            except yaml.YAMLError as exc:
                raise LocatedYamlError(f"unreadable value: {exc}", node.start_mark.line + 1) from None
        raise LocatedYamlError("unsupported YAML node", node.start_mark.line + 1)  # pragma: no cover
