"""`parse_xml` wires expat to the tree builder itself (see `decisions/dmn/safe_xml.py`): the
tree and the line of each element must be what ElementTree and expat give."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from xml.parsers import expat

import pytest

from decisions.dmn.safe_xml import parse_xml
from decisions.errors import ModelError

ROOT = Path(__file__).resolve().parents[2]
FILES = sorted([*ROOT.glob("tests/**/*.dmn"), *ROOT.glob("examples/**/*.dmn")])

MIXED = b"""<?xml version="1.0" encoding="UTF-8"?>
<!-- a comment -->
<a:root xmlns:a="urn:a" xmlns="urn:default" xmlns:x="urn:x" x:attr="1" plain='2'>
  <child id="c1">text &amp; more<b x:k="v"/>tail<?pi data?></child>
  <x:other>
    <![CDATA[<not a tag>]]>
  </x:other>
  <unqualified xmlns="">caf\xc3\xa9</unqualified>
</a:root>
"""


def _shape(element: ET.Element) -> list[tuple[object, dict[str, str], str | None, str | None]]:
    return [(e.tag, dict(e.attrib), e.text, e.tail) for e in element.iter()]


def _start_lines(data: bytes) -> list[int]:
    lines: list[int] = []
    parser = expat.ParserCreate(namespace_separator="}")
    parser.StartElementHandler = lambda tag, attrs: lines.append(parser.CurrentLineNumber)
    parser.Parse(data, True)
    return lines


@pytest.mark.parametrize("data", [MIXED, *(p.read_bytes() for p in FILES)],
                         ids=["mixed", *(p.name for p in FILES)])
def test_tree_and_lines_are_elementtree_and_expat(data: bytes) -> None:
    doc = parse_xml(data)
    assert _shape(doc.root) == _shape(ET.fromstring(data))
    assert [doc.line(e) for e in doc.root.iter()] == _start_lines(data)


def test_mixed_document_prefixes_and_refusals_still_hold() -> None:
    doc = parse_xml(MIXED)
    assert doc.prefixes["a"] == "urn:a" and doc.prefixes["x"] == "urn:x"
    assert doc.root.get("{urn:x}attr") == "1"
    with pytest.raises(ModelError, match="entities"):
        parse_xml(b'<!DOCTYPE r [<!ENTITY e "x">]><r>&e;</r>')
    with pytest.raises(ModelError, match="not well-formed"):
        parse_xml(b"<r><s></r>")
