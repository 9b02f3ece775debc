"""Reading a whole model from YAML: the top level, types, inputs, decisions, knowledge, services.

Problems are collected per named element, so one bad decision does not hide another. A problem
in one decision's or knowledge model's type or logic (an unknown key, a rule with the wrong
number of cells, an unknown hit policy, ...) belongs to that element: its logic is read as
`BrokenLogic`, which gives null and reports the problem, and the rest of the model runs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from decisions.errors import Location, ModelError, Problem
from decisions.model import (
    Bounds,
    BrokenLogic,
    BusinessKnowledgeModel,
    Decision,
    DecisionService,
    Definitions,
    Diagram,
    FunctionDefinition,
    Import,
    InputData,
    ItemDefinition,
    KnowledgeSource,
    LiteralExpression,
    Shape,
    Source,
)
from decisions.yaml_format.read_expressions import ExpressionReader
from decisions.yaml_format.tree import (
    YMap,
    YNode,
    YScalar,
    YSeq,
    describe,
    is_null,
    parse_yaml_tree,
    plain_data,
)
from decisions.yaml_format.vocabulary import EXPRESSION_KEYS, EXTENSION_KEYS, SUPPORTED_DMN_VERSIONS, TOP_KEYS

T = TypeVar("T")

# The keys of a decision and of a knowledge model that the element itself holds; the others
# (its type and its logic) are kept as written when they cannot be read (`BrokenLogic`).
_DECISION_KEYS = frozenset({"id", "description", "question", "allowed answers", "requires", "authorities",
                            *EXTENSION_KEYS})
_KNOWLEDGE_KEYS = frozenset({"id", "description", "requires", "authorities", *EXTENSION_KEYS})


def read_yaml(text: str | bytes, *, file: str | None = None) -> Definitions:
    """Read the YAML form of a model. Errors are `ModelError`s located by file, line and path."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    tree = parse_yaml_tree(text, file=file)
    if tree is None:
        raise ModelError(Problem("the YAML document is empty; expected a mapping starting with 'model:'",
                                 Location(file=file, line=1), code="yaml-structure"))
    try:
        return ModelReader(file).read(tree)
    except RecursionError:
        raise ModelError(Problem("the model's expressions are nested too deeply to read",
                                 Location(file=file), code="too-deep")) from None


class ModelReader(ExpressionReader):
    """The top level and the named elements; flat `requires` lists are resolved at the end."""

    def __init__(self, file: str | None) -> None:
        super().__init__(file)
        self.flat_requirements: list[tuple[Decision, YNode]] = []  # resolved once every name is known
        self.declared: dict[str, set[str]] = {}  # section -> names, including elements that failed to read

    def read_section(self, into: list[T], read: Callable[[str, YNode], T], node: YNode | None, path: str) -> None:
        """Read each named element of a section; a problem is recorded and reading goes on with the next."""
        section = self.named_section(node, path)
        self.declared[path] = set(section.entries)
        for name, value in section.entries.items():
            self.element, self.element_line = name, section.key_lines.get(name)
            try:
                into.append(read(name, value))
            except ModelError as error:
                self.problems.extend(error.problems)
        self.element, self.element_line = None, None

    def read(self, tree: YNode) -> Definitions:
        if not isinstance(tree, YMap):
            raise self.fail(f"the top level must be a mapping (model:, inputs:, decisions:, ...), "
                            f"not {describe(tree)}", tree, "")
        top = self.mapping(tree, "", "the model", TOP_KEYS)
        if "model" not in top.entries:
            raise self.fail("the model has no name: add 'model: <name>' at the top level", tree, "")
        version = self.optional(top, "dmn version", "") or None  # None: not stated, written as DMN 1.3
        if version is not None and version not in SUPPORTED_DMN_VERSIONS:
            raise self.fail(f"unknown DMN version '{version}'; expected one of {', '.join(SUPPORTED_DMN_VERSIONS)}",
                            top.entries["dmn version"], "dmn version")
        defs = Definitions(
            name=self.text(top.entries["model"], "model", "the model name"),
            namespace=self.optional(top, "namespace", "") or "",
            id=self.optional(top, "id", ""),
            dmn_version=version,
            key=self.optional(top, "key", ""),
            description=self.optional(top, "description", ""),
            business_key=self.optional(top, "business key", ""),
            expression_language=self.optional(top, "expression language", ""),
            source=Source(self.file, tree.line),
        )
        sections = top.entries
        for prefix, node in self.section(sections.get("prefixes"), "prefixes").items():
            self.prefixes[prefix] = self.text(node, f"prefixes.{prefix}", "a namespace")
        defs.prefixes = dict(self.prefixes)
        defs.extensions = self.extensions(top, "")
        self.read_section(defs.imports, self.import_, sections.get("imports"), "imports")
        self.read_section(defs.item_definitions, self.item, sections.get("types"), "types")
        self.read_section(defs.inputs, self.input, sections.get("inputs"), "inputs")
        self.read_section(defs.decisions, self.decision, sections.get("decisions"), "decisions")
        self.read_section(defs.knowledge_models, self.bkm, sections.get("knowledge"), "knowledge")
        self.read_section(defs.services, self.service, sections.get("services"), "services")
        self.read_section(defs.knowledge_sources, self.knowledge_source, sections.get("knowledge sources"),
                          "knowledge sources")
        if "diagram" in sections:
            try:
                defs.diagram = self.diagram(sections["diagram"])
            except ModelError as error:
                self.problems.extend(error.problems)
        for decision, node in self.flat_requirements:
            self.element = decision.name
            try:
                self.resolve(decision, node)
            except ModelError as error:
                self.problems.extend(error.problems)
        self.element = None
        if self.problems:
            raise ModelError(self.problems)
        return defs

    def import_(self, name: str, node: YNode) -> Import:
        path = f"imports.{name}"
        if isinstance(node, YScalar):
            return Import(namespace=node.text, name=name)
        spec = self.mapping(node, path, f"import '{name}'", ("namespace", "location", "type"))
        namespace = self.optional(spec, "namespace", path)
        if not namespace:
            raise self.fail(f"import '{name}' has no namespace", node, path)
        return Import(namespace=namespace, name=name, location=self.optional(spec, "location", path),
                      import_type=self.optional(spec, "type", path))

    def item(self, name: str, node: YNode, path: str = "") -> ItemDefinition:
        path = path or f"types.{name}"
        if isinstance(node, YScalar):
            return ItemDefinition(name=name, type_ref=None if is_null(node) else node.text)
        spec = self.mapping(node, path, f"type '{name}'",
                            ("type", "allowed", "constraint", "components", "collection", "function", "id"))
        item = ItemDefinition(
            name=name,
            type_ref=self.optional(spec, "type", path),
            allowed_values=self.optional(spec, "allowed", path),
            type_constraint=self.optional(spec, "constraint", path),
            is_collection=self.boolean(spec.entries["collection"], f"{path}.collection")
            if "collection" in spec.entries else False,
            id=self.optional(spec, "id", path),
        )
        components = spec.entries.get("components")
        for component, component_node in self.section(components, f"{path}.components").items():
            item.components.append(self.item(component, component_node, f"{path}.components.{component}"))
        if "function" in spec.entries:
            function_path = f"{path}.function"
            function = self.mapping(spec.entries["function"], function_path, "a function type",
                                    ("parameters", "returns"))
            item.function_parameters = self.parameters(function.entries.get("parameters"),
                                                       f"{function_path}.parameters")
            item.function_output = self.optional(function, "returns", function_path)
        return item

    def input(self, name: str, node: YNode) -> InputData:
        path = f"inputs.{name}"
        if isinstance(node, YScalar):
            type_ref = None if is_null(node) else node.text
            return InputData(name=name, type_ref=type_ref, source=self.element_source())
        spec = self.mapping(node, path, f"input '{name}'", ("type", "description", "id", *EXTENSION_KEYS))
        return InputData(name=name, type_ref=self.optional(spec, "type", path), id=self.optional(spec, "id", path),
                         description=self.optional(spec, "description", path),
                         extensions=self.extensions(spec, path), source=self.element_source())

    def decision(self, name: str, node: YNode) -> Decision:
        path = f"decisions.{name}"
        if isinstance(node, YScalar):
            logic = None if is_null(node) else LiteralExpression(self.feel(node, path),
                                                                                source=self.source(node))
            return Decision(name=name, logic=logic, source=self.element_source())
        if not isinstance(node, YMap):
            raise self.fail(f"decision '{name}' must be a mapping, not {describe(node)}", node, path)
        spec = node
        decision = Decision(
            name=name,
            logic=None,
            id=self.optional(spec, "id", path),
            description=self.optional(spec, "description", path),
            question=self.optional(spec, "question", path),
            allowed_answers=self.optional(spec, "allowed answers", path),
            authorities=self.names(spec.entries.get("authorities"), f"{path}.authorities"),
            extensions=self.extensions(spec, path),
            source=self.element_source(),
        )
        allowed = EXPRESSION_KEYS | _DECISION_KEYS | {"type", "expression type", "expression id"}
        try:  # what the decision decides, and how: a problem here belongs to this decision
            self.mapping(node, path, f"decision '{name}'", allowed)
            decision.type_ref = self.optional(spec, "type", path)
            decision.logic = self.logic(spec, path, "expression type", "expression id")
        except ModelError as error:
            decision.type_ref, decision.logic = None, self.broken(error, spec, _DECISION_KEYS)
        requires = spec.entries.get("requires")
        if isinstance(requires, YMap):
            requires = self.mapping(requires, f"{path}.requires", "'requires'", ("inputs", "decisions", "knowledge"))
            decision.required_inputs = self.names(requires.entries.get("inputs"), f"{path}.requires.inputs")
            decision.required_decisions = self.names(requires.entries.get("decisions"), f"{path}.requires.decisions")
            decision.required_knowledge = self.names(requires.entries.get("knowledge"), f"{path}.requires.knowledge")
        elif requires is not None:
            self.flat_requirements.append((decision, requires))
        return decision

    def resolve(self, decision: Decision, node: YNode) -> None:
        """Sort a flat `requires` list into inputs, decisions and knowledge by looking the names up."""
        path = f"decisions.{decision.name}.requires"
        declared = self.declared
        kinds = (
            (decision.required_inputs, declared.get("inputs", set())),
            (decision.required_decisions, declared.get("decisions", set())),
            (decision.required_knowledge, declared.get("knowledge", set()) | declared.get("services", set())),
        )
        for name in self.names(node, path):
            matches = [target for target, names in kinds if name in names]
            if len(matches) != 1:
                problem = "is not an input, decision or knowledge model of this model" if not matches else \
                    "names elements of several kinds"
                raise self.fail(
                    f"'{name}' {problem}; list requirements on imported or ambiguous elements explicitly: "
                    "requires: {inputs: [...], decisions: [...], knowledge: [...]}", node, path)
            matches[0].append(name)

    def bkm(self, name: str, node: YNode) -> BusinessKnowledgeModel:
        path = f"knowledge.{name}"
        allowed = EXPRESSION_KEYS | {"type", "id", "description", "requires", "parameters", "kind",
                                     "function type", "function id", "expression type", "expression id",
                                     "authorities", *EXTENSION_KEYS}
        if is_null(node):
            return BusinessKnowledgeModel(name=name, logic=None, source=self.element_source())
        if not isinstance(node, YMap):
            raise self.fail(f"business knowledge model '{name}' must be a mapping, not {describe(node)}", node, path)
        spec = node
        bkm = BusinessKnowledgeModel(
            name=name,
            logic=None,
            required_knowledge=self.names(spec.entries.get("requires"), f"{path}.requires"),
            id=self.optional(spec, "id", path),
            description=self.optional(spec, "description", path),
            authorities=self.names(spec.entries.get("authorities"), f"{path}.authorities"),
            extensions=self.extensions(spec, path),
            source=self.element_source(),
        )
        try:  # its function: a problem here belongs to this knowledge model
            self.mapping(node, path, f"business knowledge model '{name}'", allowed)
            bkm.type_ref = self.optional(spec, "type", path)
            body = self.logic(spec, path, "expression type", "expression id", holder_keys=frozenset({"kind"}))
            function_keys = {"parameters", "kind", "function type", "function id"}
            if body is not None or function_keys & spec.entries.keys():
                bkm.logic = FunctionDefinition(
                    parameters=self.parameters(spec.entries.get("parameters"), f"{path}.parameters"),
                    body=body,
                    kind=self.function_kind(spec, path),
                    type_ref=self.optional(spec, "function type", path),
                    id=self.optional(spec, "function id", path),
                )
        except ModelError as error:
            broken = self.broken(error, spec, _KNOWLEDGE_KEYS)
            try:  # what its callers bind, where it can be read
                broken.parameters = self.parameters(spec.entries.get("parameters"), f"{path}.parameters")
            except ModelError:
                pass
            bkm.type_ref, bkm.logic = None, broken
        return bkm

    def broken(self, error: ModelError, spec: YMap, element_keys: frozenset[str]) -> BrokenLogic:
        """An element's logic that could not be read: its problems, and its keys other than
        `element_keys` (read into the element itself) as written, to write back."""
        return BrokenLogic(tuple(error.problems), yaml={key: plain_data(value) for key, value in spec.entries.items()
                                                        if key not in element_keys})

    def service(self, name: str, node: YNode) -> DecisionService:
        path = f"services.{name}"
        spec = self.mapping(node, path, f"decision service '{name}'",
                            ("type", "id", "outputs", "encapsulated", "input decisions", "inputs", *EXTENSION_KEYS))
        entries = spec.entries
        return DecisionService(
            name=name,
            output_decisions=self.names(entries.get("outputs"), f"{path}.outputs"),
            encapsulated_decisions=self.names(entries.get("encapsulated"), f"{path}.encapsulated"),
            input_decisions=self.names(entries.get("input decisions"), f"{path}.input decisions"),
            input_data=self.names(entries.get("inputs"), f"{path}.inputs"),
            type_ref=self.optional(spec, "type", path),
            id=self.optional(spec, "id", path),
            extensions=self.extensions(spec, path),
            source=self.element_source(),
        )

    def knowledge_source(self, name: str, node: YNode) -> KnowledgeSource:
        path = f"knowledge sources.{name}"
        if is_null(node):
            return KnowledgeSource(name=name, source=self.element_source())
        spec = self.mapping(node, path, f"knowledge source '{name}'",
                            ("id", "description", "authorities", *EXTENSION_KEYS))
        return KnowledgeSource(
            name=name,
            id=self.optional(spec, "id", path),
            description=self.optional(spec, "description", path),
            authorities=self.names(spec.entries.get("authorities"), f"{path}.authorities"),
            extensions=self.extensions(spec, path),
            source=self.element_source(),
        )

    def diagram(self, node: YNode) -> Diagram:
        """`diagram: {element name: [x, y, width, height], ...}`: where each element is drawn."""
        diagram = Diagram()
        for name, bounds in self.section(node, "diagram").items():
            path = f"diagram.{name}"
            numbers: list[float] = []
            for item in bounds.items if isinstance(bounds, YSeq) else []:
                try:
                    numbers.append(float(self.text(item, path, "a number")))
                except ValueError:
                    numbers = []
                    break
            finite = all(abs(number) < 1e9 for number in numbers)  # also refuses nan and inf
            if len(numbers) != 4 or not finite or numbers[2] <= 0 or numbers[3] <= 0:
                raise self.fail(f"the shape of '{name}' must be [x, y, width, height]: four numbers, width and "
                                "height above 0", bounds, path)
            diagram.shapes.append(Shape(name, Bounds(*numbers)))
        return diagram
