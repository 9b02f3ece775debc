"""A YAML tree that remembers where each node was written.

PyYAML's composer builds nodes without constructing any object (no tags are executed); this
module turns them into `YScalar`/`YSeq`/`YMap` with 1-based lines. Plain scalars keep their
spelling, so FEEL such as `5`, `true` or `0.10` is read as written, not as a YAML number or
boolean. Aliases are followed; how far they may expand a document is bounded by the shared
loader (decisions/safe_yaml.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from decisions.errors import Location, ModelError, Problem
from decisions.safe_yaml import YamlTooLarge, compose_yaml


@dataclass
class YScalar:
    text: str  # as written (plain) or as decoded (quoted / block)
    line: int
    plain: bool
    is_null: bool  # a plain empty, `~` or `null`


@dataclass
class YSeq:
    items: list[YNode]
    line: int


@dataclass
class YMap:
    entries: dict[str, YNode]
    line: int
    key_lines: dict[str, int] = field(default_factory=dict)


YNode = YScalar | YSeq | YMap
_NULL_TAG = "tag:yaml.org,2002:null"


def parse_yaml_tree(text: str, *, file: str | None = None) -> YNode | None:
    """Compose `text` with PyYAML's safe loader into a located tree (None for an empty document)."""
    try:
        node = compose_yaml(text)
    except YamlTooLarge as error:
        mark = error.problem_mark
        raise ModelError(Problem(str(error.problem), Location(file=file, line=mark.line + 1 if mark else None),
                                 code="yaml-structure")) from None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark is not None else None
        message = " ".join(part for part in (error.context, error.problem) if part)
        raise ModelError(Problem(f"YAML syntax error: {message}", Location(file=file, line=line),
                                 code="yaml-syntax")) from None
    except yaml.YAMLError as error:
        raise ModelError(Problem(f"YAML syntax error: {error}", Location(file=file), code="yaml-syntax")) from None
    except RecursionError:
        raise ModelError(Problem("the YAML is nested too deeply", Location(file=file), code="yaml-syntax")) from None
    if node is None:
        return None
    return _Converter(file).convert(node)


class _Converter:
    def __init__(self, file: str | None) -> None:
        self.file = file
        self.active: set[int] = set()  # collection nodes being converted: an alias back to one is a cycle

    def fail(self, message: str, node: yaml.Node) -> ModelError:
        return ModelError(Problem(message, Location(file=self.file, line=node.start_mark.line + 1),
                                  code="yaml-structure"))

    def convert(self, node: yaml.Node) -> YNode:
        line = node.start_mark.line + 1
        if isinstance(node, yaml.ScalarNode):
            value = str(node.value)
            return YScalar(value, line, plain=not node.style, is_null=node.tag == _NULL_TAG)
        if id(node) in self.active:
            raise self.fail("the YAML contains a recursive alias", node)
        self.active.add(id(node))
        try:
            if isinstance(node, yaml.SequenceNode):
                return YSeq([self.convert(item) for item in node.value], line)
            assert isinstance(node, yaml.MappingNode)
            try:
                yaml.constructor.SafeConstructor().flatten_mapping(node)  # `<<` merge keys
            except yaml.MarkedYAMLError as error:
                raise self.fail(f"YAML merge key error: {error.problem}", node) from None
            result = YMap({}, line)
            for key_node, value_node in node.value:
                if not isinstance(key_node, yaml.ScalarNode):
                    raise self.fail("a mapping key must be a plain text, not a list or mapping", key_node)
                key = str(key_node.value)
                if key in result.entries:
                    raise self.fail(f"duplicate key '{key}'", key_node)
                result.entries[key] = self.convert(value_node)
                result.key_lines[key] = key_node.start_mark.line + 1
            return result
        except RecursionError:
            raise self.fail("the YAML is nested too deeply", node) from None
        finally:
            self.active.discard(id(node))


def plain_data(node: YNode) -> Any:
    """A node as plain data (texts, lists, mappings; a null as None), to be written back as YAML."""
    if isinstance(node, YScalar):
        return None if is_null(node) else node.text
    if isinstance(node, YSeq):
        return [plain_data(item) for item in node.items]
    return {key: plain_data(value) for key, value in node.entries.items()}


def is_null(node: YNode | None) -> bool:
    """Absent, or written as nothing, `~` or `null` without quotes."""
    return node is None or (isinstance(node, YScalar) and node.is_null and node.plain)


def describe(node: YNode | None) -> str:
    if isinstance(node, YMap):
        return "a mapping"
    if isinstance(node, YSeq):
        return "a list"
    if node is None or is_null(node):
        return "empty"
    return f"the text '{node.text}'"
