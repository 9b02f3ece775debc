"""The diagram a written model carries: DMNDI (Camunda's biodi in DMN 1.1), laid out or kept."""

from __future__ import annotations

import dataclasses
import xml.etree.ElementTree as ET
from pathlib import Path

import defusedxml.ElementTree as SafeET
import pytest
from samples import CAMUNDA
from tck_files import TCK_MODELS

from decisions.dmn import read_dmn, read_dmn_file, write_dmn
from decisions.dmn.diagram import BIODI_NAMESPACE, DC_NAMESPACE, DI_NAMESPACE, DMNDI_NAMESPACES
from decisions.dmn.layout import SIZES
from decisions.dmn.namespaces import DMN_NAMESPACES
from decisions.model import (
    Bounds,
    BusinessKnowledgeModel,
    Decision,
    DecisionService,
    Definitions,
    Diagram,
    FunctionDefinition,
    InputData,
    KnowledgeSource,
    LiteralExpression,
    Shape,
)

REQUIREMENT_TAGS = ("informationRequirement", "knowledgeRequirement", "authorityRequirement")
DRG_TAGS = {"decision": "decision", "inputData": "input", "businessKnowledgeModel": "knowledge",
            "decisionService": "service", "knowledgeSource": "source"}


def every_kind() -> Definitions:
    """Inputs, a chain of decisions, a BKM, a knowledge source with authority, a decision service."""
    literal = LiteralExpression
    return Definitions(
        name="Every kind", namespace="urn:every",
        inputs=[InputData("Age", "number"), InputData("Score", "number"), InputData("Region", "string")],
        decisions=[
            Decision("Offer", literal('if Eligible then "yes" else "no"'), required_decisions=["Eligible", "Risk"],
                     authorities=["Credit policy"]),
            Decision("Eligible", literal("Age >= 18 and Risk < 3"), required_inputs=["Age"],
                     required_decisions=["Risk"]),
            Decision("Risk", literal("grade(Score)"), required_inputs=["Score"], required_knowledge=["grade"]),
            Decision("Local", literal("Region"), required_inputs=["Region"]),
        ],
        knowledge_models=[BusinessKnowledgeModel("grade", FunctionDefinition([], literal("1")))],
        knowledge_sources=[KnowledgeSource("Credit policy", authorities=["Region"])],
        services=[DecisionService("Offering", output_decisions=["Offer"], encapsulated_decisions=["Eligible"])],
    )


def diagram_of(text: str) -> tuple[ET.Element, dict[str, tuple[str, Bounds]], list[tuple[str, list[tuple[float, float]]]]]:
    """(root, element id -> (kind, bounds), [(requirement id, waypoints)]) of a written DMN 1.2+ document."""
    root = SafeET.fromstring(text.encode())
    dmndi = root[-1]
    assert dmndi.tag.endswith("}DMNDI"), "DMNDI is the last child of <definitions>"
    [drawing] = list(dmndi)
    kinds = {element.get("id"): DRG_TAGS[element.tag.rpartition("}")[2]] for element in root
             if element.tag.rpartition("}")[2] in DRG_TAGS}
    shapes: dict[str, tuple[str, Bounds]] = {}
    edges = []
    for element in drawing:
        if element.tag.endswith("}DMNShape"):
            ref = element.get("dmnElementRef") or ""
            assert ref in kinds and ref not in shapes, f"one shape per element: {ref}"
            [bounds] = list(element)
            assert bounds.tag == f"{{{DC_NAMESPACE}}}Bounds"
            shapes[ref] = (kinds[ref], Bounds(*(float(bounds.get(name) or "nan")
                                               for name in ("x", "y", "width", "height"))))
        else:
            assert element.tag.endswith("}DMNEdge")
            points = [(float(p.get("x") or "nan"), float(p.get("y") or "nan")) for p in element]
            assert all(p.tag == f"{{{DI_NAMESPACE}}}waypoint" for p in element) and len(points) >= 2
            edges.append((element.get("dmnElementRef") or "", points))
    assert set(shapes) == set(kinds), "every DRG element has a shape"
    return root, shapes, edges


def requirement_ends(root: ET.Element) -> dict[str, tuple[str, str]]:
    """Requirement id -> (required element id, requiring element id)."""
    ends = {}
    for element in root:
        for requirement in element:
            if requirement.tag.rpartition("}")[2] in REQUIREMENT_TAGS and requirement.get("id"):
                [reference] = list(requirement)
                ends[requirement.get("id") or ""] = ((reference.get("href") or "").lstrip("#"), element.get("id") or "")
    return ends


def overlap(a: Bounds, b: Bounds) -> bool:
    return a.x < b.x + b.width and b.x < a.x + a.width and a.y < b.y + b.height and b.y < a.y + a.height


def on_border(point: tuple[float, float], bounds: Bounds, tolerance: float = 0.01) -> bool:
    x, y = point
    inside = bounds.x - tolerance <= x <= bounds.x + bounds.width + tolerance and \
        bounds.y - tolerance <= y <= bounds.y + bounds.height + tolerance
    near_side = min(abs(x - bounds.x), abs(x - bounds.x - bounds.width), abs(y - bounds.y),
                    abs(y - bounds.y - bounds.height)) <= tolerance
    return inside and near_side


def check_drawing(text: str, laid_out: set[str] | None = None,
                  as_read: frozenset[tuple[str, str]] = frozenset()) -> dict[str, tuple[str, Bounds]]:
    """No overlaps; every requirement drawn once, from border to border (but for the edges `as_read`,
    (source id, target id) pairs the model was read with); standard sizes for the elements in
    `laid_out` (all when None)."""
    root, shapes, edges = diagram_of(text)
    items = list(shapes.items())
    for index, (first, (_, a)) in enumerate(items):
        for second, (_, b) in items[index + 1:]:
            assert not overlap(a, b), f"{first} and {second} overlap"
    for ident, (kind, bounds) in shapes.items():
        if laid_out is None or ident in laid_out:
            assert (bounds.width, bounds.height) == SIZES[kind]
    ends = requirement_ends(root)
    assert sorted(ref for ref, _ in edges) == sorted(ends), "every requirement has exactly one edge"
    for ref, points in edges:
        source, target = ends[ref]
        if (source, target) in as_read:
            continue
        assert on_border(points[0], shapes[source][1]), f"edge {ref} starts on {source}'s border"
        assert on_border(points[-1], shapes[target][1]), f"edge {ref} ends on {target}'s border"
    return shapes


def test_a_model_without_a_diagram_is_laid_out_in_layers() -> None:
    text = write_dmn(every_kind())
    assert f'xmlns:dmndi="{DMNDI_NAMESPACES["1.3"]}"' in text
    shapes = check_drawing(text)
    box = {ident: bounds for ident, (_, bounds) in shapes.items()}
    # a decision is above (smaller y) what it requires
    for above, below in [("_Offer", "_Eligible"), ("_Eligible", "_Risk"), ("_Risk", "_Score"), ("_Eligible", "_Age"),
                         ("_Risk", "_grade"), ("_Local", "_Region"), ("_Credit_policy", "_Region")]:
        assert box[above].y + box[above].height < box[below].y, f"{above} above {below}"


def test_layout_is_deterministic() -> None:
    assert write_dmn(every_kind()) == write_dmn(every_kind())


def test_kept_shapes_stay_and_the_others_are_laid_out_beside_them() -> None:
    model = every_kind()
    model.diagram = Diagram([Shape("Offer", Bounds(400, 50, 200, 90)), Shape("Age", Bounds(100, 300, 125, 45))])
    text = write_dmn(model)
    shapes = check_drawing(text, laid_out={"_Eligible", "_Risk", "_Local", "_Score", "_Region", "_grade",
                                           "_Credit_policy", "_Offering"})
    assert shapes["_Offer"][1] == Bounds(400, 50, 200, 90) and shapes["_Age"][1] == Bounds(100, 300, 125, 45)
    again = read_dmn(text)
    assert again.diagram is not None
    assert again.diagram.shapes[:2] == [Shape("Offer", Bounds(400, 50, 200, 90), "DMNShape__Offer"),
                                        Shape("Age", Bounds(100, 300, 125, 45), "DMNShape__Age")]
    assert write_dmn(again) == text, "a written diagram is written back as it is"


def test_a_camunda_diagram_is_kept_shape_for_shape_and_edge_for_edge() -> None:
    source = CAMUNDA.replace(
        '<dmndi:DMNShape dmnElementRef="decide_dish"/>',
        '<dmndi:DMNShape id="s1" dmnElementRef="decide_dish"><dc:Bounds x="150" y="80" width="180" height="80"/>'
        '</dmndi:DMNShape>').replace('xmlns:camunda=', 'xmlns:dc="http://www.omg.org/spec/DMN/20180521/DC/" '
                                                     'xmlns:camunda=')
    model = read_dmn(source)
    assert model.diagram == Diagram([Shape("Decide dish", Bounds(150, 80, 180, 80), "s1")], [], None, "d1")
    text = write_dmn(model)
    assert '<dmndi:DMNShape id="s1" dmnElementRef="decide_dish">' in text
    assert '<dc:Bounds x="150" y="80" width="180" height="80" />' in text
    assert read_dmn(text).diagram == model.diagram


@pytest.mark.parametrize("version", ["1.2", "1.3", "1.4", "1.5"])
def test_each_version_writes_dmndi_in_its_own_namespace(version: str) -> None:
    text = write_dmn(every_kind(), version=version)
    root = SafeET.fromstring(text.encode())
    assert root.tag == f"{{{DMN_NAMESPACES[version]}}}definitions"
    assert root[-1].tag == f"{{{DMNDI_NAMESPACES[version]}}}DMNDI"
    check_drawing(text)
    again = read_dmn(text)
    assert again.diagram is not None and {shape.element for shape in again.diagram.shapes} == \
        {"Offer", "Eligible", "Risk", "Local", "Age", "Score", "Region", "grade", "Credit policy", "Offering"}


def test_dmn_11_carries_camunda_biodi_shapes_and_edges() -> None:
    model = every_kind()
    text = write_dmn(model, version="1.1")
    assert "DMNDI" not in text and f'xmlns:biodi="{BIODI_NAMESPACE}"' in text
    root = SafeET.fromstring(text.encode())
    decision = next(e for e in root if e.get("id") == "_Eligible")
    holder = decision[0]
    assert holder.tag.endswith("}extensionElements"), "extensionElements comes first (no description)"
    kinds = [child.tag for child in holder]
    assert kinds == [f"{{{BIODI_NAMESPACE}}}bounds", f"{{{BIODI_NAMESPACE}}}edge", f"{{{BIODI_NAMESPACE}}}edge"]
    assert {edge.get("source") for edge in holder[1:]} == {"_Risk", "_Age"}
    again = read_dmn(text)
    assert again.diagram is not None and len(again.diagram.shapes) == 10 and len(again.diagram.edges) == 9
    assert again.decisions[1].extensions.is_empty(), "biodi is read as the diagram, not kept as an extension"
    laid = read_dmn(write_dmn(model))
    assert laid.diagram is not None
    assert {s.element: s.bounds for s in again.diagram.shapes} == {s.element: s.bounds for s in laid.diagram.shapes}
    assert write_dmn(again, version="1.1") == text


def test_without_diagram_nothing_is_drawn() -> None:
    text = write_dmn(every_kind(), diagram=False)
    assert "DMNDI" not in text and "dmndi" not in text


def test_bad_bounds_are_not_kept() -> None:
    source = CAMUNDA.replace(
        '<dmndi:DMNShape dmnElementRef="decide_dish"/>',
        '<dmndi:DMNShape dmnElementRef="decide_dish"><dc:Bounds x="NaN" y="1" width="-5" height="80"/>'
        '</dmndi:DMNShape><dmndi:DMNShape dmnElementRef="nothing"><dc:Bounds x="1" y="1" width="5" height="5"/>'
        '</dmndi:DMNShape>').replace('xmlns:camunda=', 'xmlns:dc="http://www.omg.org/spec/DMN/20180521/DC/" '
                                                     'xmlns:camunda=')
    model = read_dmn(source)
    assert model.diagram is not None and model.diagram.shapes == []
    check_drawing(write_dmn(model))


INTEROP_MODELS = sorted((Path(__file__).resolve().parents[1] / "interop").rglob("*.dmn"))


def test_camundas_dmn_11_drawing_is_read_and_written_back() -> None:
    [path] = [path for path in INTEROP_MODELS if path.name == "dinnerDecisions.dmn"]
    model = read_dmn_file(path)
    assert model.dmn_version == "1.1" and model.diagram is not None and len(model.diagram.shapes) == 6
    text = write_dmn(model)
    assert text.count("<biodi:bounds ") == 6 and "DMNDI" not in text
    assert read_dmn(text).diagram == model.diagram


@pytest.mark.parametrize("path", TCK_MODELS + INTEROP_MODELS, ids=lambda path: path.name)
def test_models_are_drawn_whole(path: Path) -> None:
    model = read_dmn_file(path)
    imported = [read_dmn_file(p) for p in sorted(path.parent.glob("*.dmn")) if p != path] if model.imports else []
    kept = {shape.element for shape in model.diagram.shapes} if model.diagram else set()
    ids = {element.name: element.id for group in (model.inputs, model.decisions, model.knowledge_models,
                                                  model.services, model.knowledge_sources) for element in group}
    as_read = frozenset((ids[edge.source], ids[edge.target]) for edge in model.diagram.edges) if model.diagram \
        else frozenset()
    written = write_dmn(model, imported=imported, version="1.5" if model.dmn_version == "1.1" else None)
    check_drawing(written, {ids[name] for name in ids if name not in kept}, as_read)
    fresh = dataclasses.replace(model, diagram=None)
    check_drawing(write_dmn(fresh, imported=imported, version="1.5" if model.dmn_version == "1.1" else None))
