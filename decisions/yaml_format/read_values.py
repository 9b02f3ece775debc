"""Reading plain values from the YAML tree: texts, names, flags, with located errors."""

from __future__ import annotations

from typing import Literal

from decisions.dmn.extensions import parse_extension_element
from decisions.errors import Location, ModelError, Problem
from decisions.model import Extensions, Parameter, Source
from decisions.yaml_format.tree import YMap, YNode, YScalar, YSeq, describe, is_null
from decisions.yaml_format.vocabulary import FUNCTION_KINDS


class YamlValues:
    """The reader's state (file, problems, element being read) and its readers of plain values."""

    def __init__(self, file: str | None) -> None:
        self.file = file
        self.problems: list[Problem] = []
        self.element: str | None = None
        self.element_line: int | None = None
        self.prefixes: dict[str, str] = {}  # prefix -> namespace, from the top-level `prefixes`

    def fail(self, message: str, node: YNode | None, path: str, **extra: object) -> ModelError:
        line = node.line if node is not None else None
        location = Location(file=self.file, element=self.element, path=path or None, line=line)
        return ModelError(Problem(message, location.with_(**extra) if extra else location, code="yaml-structure"))

    def mapping(self, node: YNode, path: str, what: str, allowed: frozenset[str] | tuple[str, ...]) -> YMap:
        if not isinstance(node, YMap):
            raise self.fail(f"{what} must be a mapping, not {describe(node)}", node, path)
        for key in node.entries:
            if key not in allowed:
                expected = ", ".join(sorted(allowed))
                raise self.fail(f"unknown key '{key}' in {what}; expected one of: {expected}",
                                node.entries[key], f"{path}.{key}" if path else key, line=node.key_lines.get(key))
        return node

    def section(self, node: YNode | None, path: str) -> dict[str, YNode]:
        """A mapping of names to specs (empty when absent or null)."""
        return self.named_section(node, path).entries

    def named_section(self, node: YNode | None, path: str) -> YMap:
        if node is None or is_null(node):
            return YMap({}, node.line if node is not None else 0)
        if not isinstance(node, YMap):
            raise self.fail(f"'{path}' must be a mapping of names, not {describe(node)}", node, path)
        return node

    def text(self, node: YNode, path: str, what: str) -> str:
        if not isinstance(node, YScalar):
            raise self.fail(f"{what} must be a text, not {describe(node)}", node, path)
        return node.text

    def optional(self, holder: YMap, key: str, path: str) -> str | None:
        """An optional plain value (a name, type or description): absent or null -> None."""
        node = holder.entries.get(key)
        if node is None or is_null(node):
            return None
        return self.text(node, f"{path}.{key}", f"'{key}'")

    def feel(self, node: YNode, path: str, what: str = "a FEEL text") -> str:
        """FEEL source as written: plain scalars keep their spelling; an empty value is ''."""
        text = self.text(node, path, what)
        if isinstance(node, YScalar) and node.plain and node.is_null and text in ("", "~"):
            return ""
        return text

    def boolean(self, node: YNode, path: str) -> bool:
        text = self.text(node, path, "a yes/no value").strip().lower()
        if text in ("true", "yes", "on"):
            return True
        if text in ("false", "no", "off", ""):
            return False
        raise self.fail(f"expected true or false, not '{text}'", node, path)

    def names(self, node: YNode | None, path: str) -> list[str]:
        if node is None or is_null(node):
            return []
        if isinstance(node, YScalar):
            return [node.text]
        if not isinstance(node, YSeq):
            raise self.fail(f"expected a list of names, not {describe(node)}", node, path)
        return [self.text(item, f"{path}[{index}]", "a name") for index, item in enumerate(node.items, 1)]

    def source(self, node: YNode) -> Source:
        return Source(self.file, node.line)

    def element_source(self) -> Source:
        """Where the element being read starts: the line of its name."""
        return Source(self.file, self.element_line)

    def parameters(self, node: YNode | None, path: str) -> list[Parameter]:
        result: list[Parameter] = []
        for name, type_node in self.section(node, path).items():
            type_ref = None
            if not is_null(type_node):
                type_ref = self.text(type_node, f"{path}.{name}", f"the type of parameter '{name}'")
            result.append(Parameter(name=name, type_ref=type_ref))
        return result

    def function_kind(self, spec: YMap, path: str) -> Literal["FEEL", "Java", "PMML"]:
        text = self.optional(spec, "kind", path) or "FEEL"
        kind = FUNCTION_KINDS.get(text.strip().upper())
        if kind is None:
            raise self.fail(f"unknown function kind '{text}'; expected FEEL, Java or PMML", spec.entries["kind"],
                            f"{path}.kind")
        return kind

    def extensions(self, spec: YMap, path: str) -> Extensions:
        """`extensions: {camunda:versionTag: "3"}` (prefixes from the top-level `prefixes`, or
        `{namespace}name`) and `extension elements: [<xml .../>, ...]`, each well-formed XML."""
        result = Extensions()
        attributes = spec.entries.get("extensions")
        for name, value in self.section(attributes, f"{path}.extensions").items():
            where = f"{path}.extensions.{name}"
            prefix, colon, local = name.partition(":")
            if name.startswith("{") and "}" in name:
                clark = name
            elif colon and prefix in self.prefixes and local:
                clark = f"{{{self.prefixes[prefix]}}}{local}"
            else:
                raise self.fail(f"extension attribute '{name}' needs a prefix declared under the top-level "
                                "'prefixes' (e.g. camunda:versionTag), or the form '{namespace}name'", value, where)
            result.attributes[clark] = "" if is_null(value) else self.text(value, where, "an extension value")
        elements = spec.entries.get("extension elements")
        items: list[YNode] = []
        if isinstance(elements, YSeq):
            items = elements.items
        elif elements is not None and not is_null(elements):
            items = [elements]
        for index, item in enumerate(items, 1):
            where = f"{path}.extension elements[{index}]"
            text = self.text(item, where, "an extension element")
            try:
                parse_extension_element(text, file=self.file, element=self.element)
            except ModelError as error:
                raise self.fail(error.problems[0].message, item, where) from None
            result.elements.append(text.strip())
        return result
