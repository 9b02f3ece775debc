"""Safe XML parsing for model files: defusedxml only, with the line of every element.

DMN files come from analysts' tools and from uploads, so they are hostile input: a document
type declaration (the vehicle of entity-expansion bombs and of external entities that read
local files) is refused outright. Every failure becomes a located `ModelError`.

The standard ElementTree API does not keep line numbers; a tree-builder target records the
expat line of each element as it starts, which costs one dict entry per element.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Any

import defusedxml
import defusedxml.ElementTree as DefusedET

from decisions.errors import Location, ModelError, Problem


@dataclass
class XmlDocument:
    root: ET.Element
    lines: dict[ET.Element, int] = field(default_factory=dict)
    prefixes: dict[str, str] = field(default_factory=dict)  # every prefix declared -> namespace URI

    def line(self, element: ET.Element) -> int | None:
        return self.lines.get(element)


class _LineRecordingBuilder:
    """An ElementTree parser target that builds the tree and remembers where elements start.

    `wire` connects expat's start events straight to this builder, and its end and text events
    straight to the C tree builder: the pure-Python XMLParser's handlers (defusedxml's parser
    is one) cost four Python calls per element, most of the time of reading a large table.
    The DTD and entity handlers defusedxml sets on the same expat parser stay as they are."""

    def __init__(self) -> None:
        self._builder = ET.TreeBuilder()
        self.lines: dict[ET.Element, int] = {}
        self.prefixes: dict[str, str] = {}
        self.expat: Any = None  # the expat parser, set by `wire`
        self._names: dict[str, str] = {}  # expat's "uri}local" -> ElementTree's "{uri}local"

    def wire(self, expat: Any) -> None:
        self.expat = expat
        expat.StartElementHandler = self._start
        expat.EndElementHandler = self._builder.end  # closes the open element; the tag is not needed
        expat.CharacterDataHandler = self._builder.data

    def _name(self, raw: str) -> str:
        name = self._names.get(raw)
        if name is None:
            name = self._names[raw] = "{" + raw if "}" in raw else raw
        return name

    def _start(self, tag: str, attr_list: list[str]) -> ET.Element:
        """expat's start event with `ordered_attributes` (names and values alternate), made into a
        tag and an attribute dict as ElementTree's XMLParser makes them."""
        attrib = {}
        if attr_list:
            name = self._name
            for i in range(0, len(attr_list), 2):
                attrib[name(attr_list[i])] = attr_list[i + 1]
        element = self._builder.start(self._name(tag), attrib)
        self.lines[element] = self.expat.CurrentLineNumber
        return element

    def start(self, tag: str, attrs: dict[str, str]) -> ET.Element:  # the ElementTree target protocol
        element = self._builder.start(tag, attrs)
        if self.expat is not None:
            self.lines[element] = int(self.expat.CurrentLineNumber)
        return element

    def end(self, tag: str) -> ET.Element:
        return self._builder.end(tag)

    def data(self, data: str) -> None:
        self._builder.data(data)

    def start_ns(self, prefix: str, uri: str) -> None:
        self.prefixes[prefix] = uri

    def close(self) -> ET.Element:
        return self._builder.close()


def parse_xml(data: bytes | str, *, file: str | None = None) -> XmlDocument:
    """Parse `data` refusing DTDs, entities and external references; errors are `ModelError`."""
    builder = _LineRecordingBuilder()
    parser = DefusedET.DefusedXMLParser(
        target=builder, forbid_dtd=True, forbid_entities=True, forbid_external=True
    )
    builder.wire(parser.parser)
    try:
        parser.feed(data)
        root = parser.close()
    except defusedxml.DTDForbidden:
        raise _refusal(data, file, _current_line(builder)) from None
    except (defusedxml.EntitiesForbidden, defusedxml.ExternalReferenceForbidden):
        raise _refusal(data, file, _current_line(builder)) from None
    except ET.ParseError as error:
        line = error.position[0] if error.position else None
        problem = Problem(_syntax_message(data, str(error)), Location(file=file, line=line), code="xml-syntax")
        raise ModelError(problem) from None
    except (ValueError, LookupError) as error:  # unknown or inconsistent encoding declarations
        raise ModelError(
            Problem(f"cannot read the XML: {error}", Location(file=file), code="xml-syntax")
        ) from None
    if not isinstance(root, ET.Element):
        raise ModelError(Problem("the document has no root element", Location(file=file), code="xml-syntax"))
    return XmlDocument(root, builder.lines, builder.prefixes)


def _syntax_message(data: bytes | str, expat_message: str) -> str:
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    start = text.lstrip("\ufeff \t\r\n")
    if start and not start.startswith("<"):
        return "this is not XML: the content does not start with '<'"
    reason = expat_message.split(":")[0]
    if reason == "no element found":
        reason = "the document ends before the XML is complete (empty or truncated file)"
    elif reason == "unclosed token":
        reason = "the document ends in the middle of a tag (truncated file)"
    return f"not well-formed XML: {reason}"


def _current_line(builder: _LineRecordingBuilder) -> int | None:
    try:
        return int(builder.expat.CurrentLineNumber)
    except (AttributeError, TypeError, ValueError):
        return None


_ENTITY = re.compile(rb"<!ENTITY", re.IGNORECASE)
_EXTERNAL = re.compile(rb"<!ENTITY[^>]*\s(SYSTEM|PUBLIC)\s", re.IGNORECASE)


def _refusal(data: bytes | str, file: str | None, line: int | None) -> ModelError:
    """Say why a document type declaration was refused; the wording names the likely attack."""
    raw = data.encode("utf-8", "replace") if isinstance(data, str) else data
    if _EXTERNAL.search(raw):
        message = (
            "refused: the document declares an external entity (it could read local files or the "
            "network); DTDs and entities are not allowed in model files"
        )
        code = "xml-external-entity"
    elif _ENTITY.search(raw):
        message = (
            "refused: the document declares entities (an entity-expansion 'XML bomb' is possible); "
            "DTDs and entities are not allowed in model files"
        )
        code = "xml-entities"
    else:
        message = "refused: the document has a DTD (<!DOCTYPE ...>); DTDs are not allowed in model files"
        code = "xml-dtd"
    return ModelError(Problem(message, Location(file=file, line=line), code=code))
