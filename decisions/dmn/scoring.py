"""A scoring expression in DMN: a literal expression with `<decisionary:scoring>` in its extensionElements.

    <literalExpression>
      <extensionElements>
        <decisionary:scoring xmlns:decisionary="https://decisionary.dev/dmn/extensions" reasons="3">
          <decisionary:constant name="base" value="600"/>
          <decisionary:baseline name="Monthly Income" value="5000"/>
          <decisionary:monotonic name="Monthly Income" direction="increasing"/>
          <decisionary:domain name="Monthly Income" low="0" high="1000000"/>
        </decisionary:scoring>
      </extensionElements>
      <text>base + 0.01 * Monthly Income</text>
    </literalExpression>

Other tools read it as the plain literal expression it is; Decisionary reads it back as a
`Scoring`. Numbers are kept as written.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import cast

from decisions.dmn.namespaces import DECISIONARY_EXTENSIONS_NAMESPACE
from decisions.dmn.xml_scope import XmlScope
from decisions.model import Direction, LiteralExpression, Scoring

_TAG = f"{{{DECISIONARY_EXTENSIONS_NAMESPACE}}}scoring"
_PARTS = {"constant": ("value",), "baseline": ("value",), "monotonic": ("direction",), "domain": ("low", "high")}


def write_scoring(element: ET.Element, scoring: Scoring) -> None:
    """Put the scoring metadata of `scoring` into `element` (a literal expression, before its text)."""
    extensions = ET.Element("extensionElements")
    attributes = {"xmlns:decisionary": DECISIONARY_EXTENSIONS_NAMESPACE}
    if scoring.reasons != 3:
        attributes["reasons"] = str(scoring.reasons)
    holder = ET.SubElement(extensions, "decisionary:scoring", attributes)
    for name, value in scoring.constants.items():
        ET.SubElement(holder, "decisionary:constant", {"name": name, "value": value})
    for name, value in scoring.baseline.items():
        ET.SubElement(holder, "decisionary:baseline", {"name": name, "value": value})
    for name, direction in scoring.monotonic.items():
        ET.SubElement(holder, "decisionary:monotonic", {"name": name, "direction": direction})
    for name, (low, high) in scoring.domain.items():
        ET.SubElement(holder, "decisionary:domain", {"name": name, "low": low, "high": high})
    element.insert(0, extensions)


def read_scoring(scope: XmlScope, element: ET.Element, path: str, literal: LiteralExpression) -> LiteralExpression:
    """`literal` as a `Scoring` when `element` carries `<decisionary:scoring>`, else `literal` itself."""
    found = [child for extensions in scope.all(element, "extensionElements") for child in extensions
             if child.tag == _TAG]
    if not found:
        return literal
    if len(found) > 1:
        raise scope.error("a literal expression has several <decisionary:scoring> elements; expected one",
                          found[1], path, code="dmn-scoring")
    holder = found[0]
    where = f"{path}/extensionElements/scoring"
    reasons_text = (holder.get("reasons") or "3").strip()
    if not reasons_text.isdigit() or int(reasons_text) < 1:
        raise scope.error(f"reasons must be a whole number of at least 1, not {reasons_text!r}", holder, where,
                          code="dmn-scoring")
    scoring = Scoring(literal.text, literal.type_ref, literal.id, literal.source, reasons=int(reasons_text))
    for child in holder:
        tag = child.tag if isinstance(child.tag, str) else ""
        namespace, _, local = tag[1:].partition("}")
        if namespace != DECISIONARY_EXTENSIONS_NAMESPACE or local not in _PARTS:
            raise scope.error(f"unknown element <{local or tag}> in <decisionary:scoring>; expected one of: "
                              + ", ".join(_PARTS), child, where, code="dmn-scoring")
        values = [child.get(attribute) for attribute in ("name", *_PARTS[local])]
        if any(value is None for value in values):
            wanted = ", ".join(("name", *_PARTS[local]))
            raise scope.error(f"<decisionary:{local}> needs the attributes {wanted}", child, where, code="dmn-scoring")
        name, *rest = cast(list[str], values)
        if local == "constant":
            scoring.constants[name] = rest[0]
        elif local == "baseline":
            scoring.baseline[name] = rest[0]
        elif local == "monotonic":
            if rest[0] not in ("increasing", "decreasing"):
                raise scope.error(f"direction must be increasing or decreasing, not {rest[0]!r}", child, where,
                                  code="dmn-scoring")
            scoring.monotonic[name] = cast(Direction, rest[0])
        else:
            scoring.domain[name] = (rest[0], rest[1])
    return scoring
