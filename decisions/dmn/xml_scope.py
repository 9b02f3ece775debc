"""Navigation helpers shared by the DMN readers: the DMN namespace, located errors, texts.

An `XmlScope` knows the document being read, its DMN namespace and which DRG element is being
read, so that every error can name the file, the element, an XPath-like path and the line.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator

from decisions.dmn.safe_xml import XmlDocument
from decisions.errors import Location, ModelError, Problem
from decisions.model import Source

# Children any DMN element may carry and that carry no decision semantics for the engine.
NON_SEMANTIC = frozenset({"description", "extensionElements"})


def local_name(tag: str) -> tuple[str, str]:
    """Split an ElementTree tag `{namespace}local` into (namespace, local)."""
    if tag.startswith("{"):
        namespace, _, local = tag[1:].partition("}")
        return namespace, local
    return "", tag


class XmlScope:
    def __init__(
        self,
        doc: XmlDocument,
        namespace: str,
        file: str | None,
        type_ref: Callable[[str | None], str | None],
        element: str | None = None,
    ) -> None:
        self.doc = doc
        self.namespace = namespace
        self.file = file
        self.normalise_type_ref = type_ref
        self.element = element
        self._tags: dict[str, str] = {}

    def for_element(self, name: str | None) -> XmlScope:
        return XmlScope(self.doc, self.namespace, self.file, self.normalise_type_ref, name)

    # --- navigation ---------------------------------------------------------------

    def children(self, parent: ET.Element) -> Iterator[tuple[str, ET.Element]]:
        """The children in the DMN namespace, with their local names; vendor extensions are skipped."""
        for child in parent:
            if not isinstance(child.tag, str):  # comments and processing instructions
                continue
            namespace, local = local_name(child.tag)
            if namespace == self.namespace:
                yield local, child

    def tag(self, name: str) -> str:
        """The ElementTree tag of the DMN element `name`: `{namespace}name`."""
        tag = self._tags.get(name)
        if tag is None:
            tag = self._tags[name] = f"{{{self.namespace}}}{name}" if self.namespace else name
        return tag

    # `child` and `all` compare whole tags: a large table has hundreds of thousands of elements,
    # and splitting each tag into namespace and local name was most of the time of reading it.
    def child(self, parent: ET.Element, name: str) -> ET.Element | None:
        tag = self.tag(name)
        for child in parent:
            if child.tag == tag:
                return child
        return None

    def all(self, parent: ET.Element, name: str) -> list[ET.Element]:
        tag = self.tag(name)
        return [child for child in parent if child.tag == tag]

    def text_of(self, parent: ET.Element | None) -> str | None:
        """The `<text>` child's content, stripped; None when there is no `<text>` child."""
        if parent is None:
            return None
        text = self.child(parent, "text")
        if text is None:
            return None
        return (text.text or "").strip()

    def plain_text(self, parent: ET.Element, name: str) -> str | None:
        """The stripped text content of a child element such as `<description>` or `<question>`."""
        child = self.child(parent, name)
        if child is None:
            return None
        return "".join(child.itertext()).strip()

    def type_ref(self, element: ET.Element, attribute: str = "typeRef") -> str | None:
        return self.normalise_type_ref(element.get(attribute))

    # --- locations ----------------------------------------------------------------

    def line(self, element: ET.Element) -> int | None:
        return self.doc.line(element)

    def source(self, element: ET.Element) -> Source:
        return Source(self.file, self.line(element))

    def location(self, element: ET.Element | None, path: str | None = None, **extra: object) -> Location:
        line = self.line(element) if element is not None else None
        location = Location(file=self.file, element=self.element, path=path or None, line=line)
        return location.with_(**extra) if extra else location

    def error(
        self, message: str, element: ET.Element | None, path: str | None = None, *, code: str = "dmn-structure",
        **extra: object,
    ) -> ModelError:
        return ModelError(Problem(message, self.location(element, path, **extra), code=code))


def attribute_name(element: ET.Element) -> str | None:
    """An element's `name` attribute with surrounding whitespace removed (tools leave some)."""
    name = element.get("name")
    return name.strip() if name is not None else None
