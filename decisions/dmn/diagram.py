"""The drawing of a model: DMNDI (DMN 1.2 and later) and Camunda's `biodi` extension (DMN 1.1).

DMN 1.1 has no diagram interchange; Camunda Modeler and dmn-js drew 1.1 models with
`<biodi:bounds>` and `<biodi:edge source=...><biodi:waypoints/></biodi:edge>` in each element's
`<extensionElements>`, and their migration to DMN 1.3 (bpmn-io's dmn-migrate) turns exactly
these into DMNDI. So 1.1 models are written with biodi, 1.2 to 1.5 with DMNDI in the version's
namespace (DMN 1.2 introduced DMNDI; dmn-migrate opens 1.2 by renaming its namespaces).

Reading keeps the first diagram's shapes of DRG elements and the waypoints of requirement
edges, by element name; text annotations and other diagram content are not kept.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping

from decisions.dmn.layout import Node, layout, straight_edge
from decisions.dmn.xml_scope import local_name
from decisions.model import Bounds, Definitions, Diagram, Edge, Shape

DMNDI_NAMESPACES: dict[str, str] = {
    "1.2": "http://www.omg.org/spec/DMN/20180521/DMNDI/",
    "1.3": "https://www.omg.org/spec/DMN/20191111/DMNDI/",
    "1.4": "https://www.omg.org/spec/DMN/20211108/DMNDI/",
    "1.5": "https://www.omg.org/spec/DMN/20230324/DMNDI/",
    "1.6": "https://www.omg.org/spec/DMN/20230324/DMNDI/",  # as Drools writes DMN 1.6 models
}
DC_NAMESPACE = "http://www.omg.org/spec/DMN/20180521/DC/"
DI_NAMESPACE = "http://www.omg.org/spec/DMN/20180521/DI/"
BIODI_NAMESPACE = "http://bpmn.io/schema/dmn/biodi/1.0"
REQUIREMENTS = ("informationRequirement", "knowledgeRequirement", "authorityRequirement")


def is_biodi(element: ET.Element) -> bool:
    return isinstance(element.tag, str) and local_name(element.tag)[0] == BIODI_NAMESPACE


# --- reading ----------------------------------------------------------------------------


def read_diagram(root: ET.Element, dmn_namespace: str, names: Mapping[str, str]) -> Diagram | None:
    """The diagram of a `<definitions>` element; `names`: DRG element id -> name."""
    requirements = _requirement_ends(root, dmn_namespace, names)
    for child in root:
        if isinstance(child.tag, str) and local_name(child.tag)[1] == "DMNDI":
            diagrams = [d for d in child if isinstance(d.tag, str) and local_name(d.tag)[1] == "DMNDiagram"]
            if diagrams:
                return _dmndi(diagrams[0], names, requirements)
    return _biodi(root, dmn_namespace, names)


def _requirement_ends(root: ET.Element, dmn: str, names: Mapping[str, str]) -> dict[str, tuple[str, str]]:
    """Requirement element id -> (required element, requiring element), by name."""
    ends: dict[str, tuple[str, str]] = {}
    for element in root:
        target = names.get(element.get("id") or "")
        if target is None:
            continue
        for requirement in element:
            if not isinstance(requirement.tag, str) or local_name(requirement.tag) not in \
                    {(dmn, tag) for tag in REQUIREMENTS} or not requirement.get("id"):
                continue
            for reference in requirement:
                source = names.get(_local_href(reference.get("href")))
                if source is not None:
                    ends[requirement.get("id") or ""] = (source, target)
    return ends


def _local_href(href: str | None) -> str:
    namespace, _, ident = (href or "").strip().rpartition("#")
    return ident if not namespace else ""


def _number(element: ET.Element, name: str) -> float | None:
    try:
        value = float(element.get(name) or "")
    except ValueError:
        return None
    return value if value == value and abs(value) != float("inf") else None  # NaN and infinities are no place


def _bounds(element: ET.Element | None) -> Bounds | None:
    if element is None:
        return None
    numbers = [_number(element, name) for name in ("x", "y", "width", "height")]
    if any(number is None for number in numbers):
        return None
    x, y, width, height = (float(number or 0) for number in numbers)
    return Bounds(x, y, width, height) if width > 0 and height > 0 else None


def _points(element: ET.Element, tag: str) -> list[tuple[float, float]]:
    points = []
    for child in element:
        if isinstance(child.tag, str) and local_name(child.tag)[1] == tag:
            x, y = _number(child, "x"), _number(child, "y")
            if x is not None and y is not None:
                points.append((x, y))
    return points


def _ref(element: ET.Element) -> str:
    """A dmnElementRef: an id, possibly as a QName (`prefix:id`) or `#id`."""
    ref = (element.get("dmnElementRef") or "").strip().lstrip("#")
    return ref


def _dmndi(diagram: ET.Element, names: Mapping[str, str], requirements: Mapping[str, tuple[str, str]]) -> Diagram:
    result = Diagram(name=diagram.get("name"), id=diagram.get("id"))
    shaped: set[str] = set()
    for element in diagram:
        if not isinstance(element.tag, str):
            continue
        kind, ref = local_name(element.tag)[1], _ref(element)
        if kind == "DMNShape":
            name = names.get(ref) or names.get(ref.rpartition(":")[2])
            bounds = _bounds(next((b for b in element if isinstance(b.tag, str)
                                   and local_name(b.tag)[1] == "Bounds"), None))
            if name is not None and bounds is not None and name not in shaped:
                shaped.add(name)
                result.shapes.append(Shape(name, bounds, element.get("id")))
        elif kind == "DMNEdge":
            ends = requirements.get(ref) or requirements.get(ref.rpartition(":")[2])
            points = _points(element, "waypoint")
            if ends is not None and len(points) >= 2:
                result.edges.append(Edge(ends[0], ends[1], points, element.get("id")))
    return result


# The order the writer writes DRG elements in, and so DMN 1.1 shapes: a model read keeps its order.
_WRITTEN_ORDER = ("inputData", "decision", "businessKnowledgeModel", "decisionService", "knowledgeSource")


def _biodi(root: ET.Element, dmn: str, names: Mapping[str, str]) -> Diagram | None:
    result = Diagram()
    elements = [e for e in root if isinstance(e.tag, str) and local_name(e.tag) in {(dmn, t) for t in _WRITTEN_ORDER}]
    elements.sort(key=lambda e: _WRITTEN_ORDER.index(local_name(e.tag)[1]))
    for element in elements:
        name = names.get(element.get("id") or "")
        if name is None:
            continue
        for holder in element:
            if not isinstance(holder.tag, str) or local_name(holder.tag) != (dmn, "extensionElements"):
                continue
            for extension in holder:
                if not is_biodi(extension):
                    continue
                kind = local_name(extension.tag)[1]
                bounds = _bounds(extension) if kind == "bounds" else None
                if bounds is not None and all(shape.element != name for shape in result.shapes):
                    result.shapes.append(Shape(name, bounds))
                source = names.get(extension.get("source") or "") if kind == "edge" else None
                points = _points(extension, "waypoints")
                if source is not None and len(points) >= 2:
                    result.edges.append(Edge(source, name, points))
    return result if result.shapes or result.edges else None


# --- layout -----------------------------------------------------------------------------


def drg_nodes(defs: Definitions) -> list[Node]:
    groups = (("decision", defs.decisions), ("input", defs.inputs), ("knowledge", defs.knowledge_models),
              ("service", defs.services), ("source", defs.knowledge_sources))
    nodes: list[Node] = []
    seen: set[str] = set()
    for kind, elements in groups:
        for element in elements:
            if element.name not in seen:
                seen.add(element.name)
                nodes.append(Node(element.name, kind))
    return nodes


def requirements_of(defs: Definitions) -> list[tuple[str, str]]:
    """(required element, requiring element) of every requirement between this model's elements."""
    pairs: list[tuple[str, str]] = []
    for decision in defs.decisions:
        for name in decision.required_decisions + decision.required_inputs + decision.required_knowledge + \
                decision.authorities:
            pairs.append((name, decision.name))
    for bkm in defs.knowledge_models:
        pairs.extend((name, bkm.name) for name in bkm.required_knowledge + bkm.authorities)
    for source in defs.knowledge_sources:
        pairs.extend((name, source.name) for name in source.authorities)
    local = {node.name for node in drg_nodes(defs)}
    return [(source, target) for source, target in pairs if source in local]


def complete_diagram(defs: Definitions) -> Diagram:
    """The model's diagram with every DRG element shaped and every requirement drawn: kept shapes
    (and edges between kept shapes) as they are and first, in their order; the rest laid out."""
    given = defs.diagram or Diagram()
    nodes = drg_nodes(defs)
    names = {node.name for node in nodes}
    kept_shapes = [shape for shape in given.shapes if shape.element in names]
    kept = {shape.element: shape.bounds for shape in kept_shapes}
    requirements = list(dict.fromkeys(requirements_of(defs)))
    placed = layout(nodes, requirements, kept)
    shapes = kept_shapes + [Shape(node.name, placed[node.name]) for node in nodes if node.name not in kept]
    wanted = set(requirements)
    kept_edges = [edge for edge in given.edges
                  if (edge.source, edge.target) in wanted and edge.source in kept and edge.target in kept]
    drawn = {(edge.source, edge.target) for edge in kept_edges}
    edges = kept_edges + [Edge(source, target, straight_edge(placed[source], placed[target]))
                          for source, target in requirements if (source, target) not in drawn]
    return Diagram(shapes, edges, given.name, given.id)


# --- writing ----------------------------------------------------------------------------


def number_text(value: float) -> str:
    """`160` rather than `160.0`; fractions as Python writes them."""
    return str(int(value)) if value == int(value) else repr(value)


def write_dmndi(root: ET.Element, diagram: Diagram, element_ids: Mapping[str, str],
                requirement_ids: Mapping[tuple[str, str], str]) -> None:
    """Append `<dmndi:DMNDI>` (prefixes dmndi, dc and di, declared by the caller) to `root`."""
    dmndi = ET.SubElement(root, "dmndi:DMNDI")
    drawing = ET.SubElement(dmndi, "dmndi:DMNDiagram", {"id": diagram.id or "DMNDiagram_1"})
    if diagram.name:
        drawing.set("name", diagram.name)
    used = set(element_ids.values()) | set(requirement_ids.values())
    for shape in diagram.shapes:
        ident = element_ids[shape.element]
        attributes = {"id": _unique(shape.id or f"DMNShape_{ident}", used), "dmnElementRef": ident}
        ET.SubElement(ET.SubElement(drawing, "dmndi:DMNShape", attributes), "dc:Bounds", _bounds_attributes(shape.bounds))
    for edge in diagram.edges:
        ref = requirement_ids[(edge.source, edge.target)]
        element = ET.SubElement(drawing, "dmndi:DMNEdge", {"id": _unique(edge.id or f"DMNEdge_{ref}", used),
                                                           "dmnElementRef": ref})
        for x, y in edge.waypoints:
            ET.SubElement(element, "di:waypoint", {"x": number_text(x), "y": number_text(y)})


def biodi_elements(diagram: Diagram, name: str, element_ids: Mapping[str, str]) -> list[ET.Element]:
    """The `biodi:bounds` and `biodi:edge` extension elements of one element (DMN 1.1)."""
    found: list[ET.Element] = []
    for shape in diagram.shapes:
        if shape.element == name:
            found.append(ET.Element("biodi:bounds", _bounds_attributes(shape.bounds)))
    for edge in diagram.edges:
        if edge.target == name:
            element = ET.Element("biodi:edge", {"source": element_ids[edge.source]})
            for x, y in edge.waypoints:
                ET.SubElement(element, "biodi:waypoints", {"x": number_text(x), "y": number_text(y)})
            found.append(element)
    return found


def _bounds_attributes(bounds: Bounds) -> dict[str, str]:
    return {"x": number_text(bounds.x), "y": number_text(bounds.y), "width": number_text(bounds.width),
            "height": number_text(bounds.height)}


def _unique(ident: str, used: set[str]) -> str:
    candidate, number = ident, 2
    while candidate in used:
        candidate, number = f"{ident}_{number}", number + 1
    used.add(candidate)
    return candidate
