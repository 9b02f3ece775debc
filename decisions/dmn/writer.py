"""DMN XML writer: `decisions.model.Definitions` -> a DMN 1.x document.

The document is written in the DMN version the model was read in (DMN 1.3 for a model that
states none), unless the caller asks for another. It carries the diagram (`decisions.dmn.diagram`:
the model's own shapes, the other elements laid out) and the vendor extensions the model was
read with (`decisions.dmn.extensions`), so modelers open it as they left it.

Requirements are written as hrefs to element ids. Elements without an id get one derived
from their name (stable: the same model always gives the same document). A reference to an
imported element (`<import name>.<element name>`) becomes `<namespace>#<id>`; the id is taken
from the imported model when the caller passes it, else derived from the name the same way,
which matches models this writer produced.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable

from decisions.dmn.diagram import (
    BIODI_NAMESPACE,
    DC_NAMESPACE,
    DI_NAMESPACE,
    DMNDI_NAMESPACES,
    biodi_elements,
    complete_diagram,
    write_dmndi,
)
from decisions.dmn.extensions import (
    Prefixes,
    Snapshot,
    keep_as_is,
    parse_extension_element,
    restore,
    write_extensions,
)
from decisions.dmn.namespaces import (
    DECISIONARY_EXTENSIONS_NAMESPACE,
    DECISIONARY_NAMESPACE,
    DMN_NAMESPACES,
    FEEL_NAMESPACES,
    dmn_version_of,
)
from decisions.dmn.write_expressions import ExpressionWriter, sub, text_child
from decisions.dmn.xml_scope import local_name
from decisions.errors import Location, ModelError, Problem
from decisions.model import (
    DEFAULT_DMN_VERSION,
    BrokenLogic,
    BusinessKnowledgeModel,
    Decision,
    DecisionService,
    Definitions,
    Diagram,
    Extensions,
    ItemDefinition,
    KnowledgeSource,
)

# FEEL type names that DMN 1.1 writes as `feel:` QNames (names with spaces cannot be QNames).
_FEEL_TYPES = frozenset(
    {"number", "string", "boolean", "date", "time", "dateTime", "dayTimeDuration", "yearMonthDuration",
     "Any", "context", "list", "function", "range"}
)
_NOT_ID_CHARACTER = re.compile(r"[^\w.-]")
_NOT_XML_CHARACTER = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def stable_id(name: str) -> str:
    """An XML id derived from a name: `Risk Category` -> `_Risk_Category`."""
    return "_" + _NOT_ID_CHARACTER.sub("_", name.strip())


def write_dmn(defs: Definitions, *, version: str | None = None, imported: Iterable[Definitions] = (),
              diagram: bool = True) -> str:
    """The DMN XML text of `defs`, in `version` (default: the model's own, else DMN 1.3).

    `imported`: the imported models, to write hrefs with their ids. `diagram`: write the drawing
    (DMNDI; Camunda's biodi shapes in DMN 1.1), laying out the elements the model has no shape for.
    """
    version = version or defs.dmn_version or DEFAULT_DMN_VERSION
    if version not in DMN_NAMESPACES:
        raise ValueError(f"unknown DMN version {version!r}; expected one of {', '.join(DMN_NAMESPACES)}")
    try:
        return _Writer(defs, version, imported, diagram).document()
    except RecursionError:
        raise ModelError(Problem("the model's expressions are nested too deeply to write",
                                 Location(file=defs.source.file), code="too-deep")) from None


class _Writer:
    def __init__(self, defs: Definitions, version: str, imported: Iterable[Definitions], diagram: bool) -> None:
        self.defs = defs
        self.version = version
        self.file = defs.source.file
        self.prefixes = Prefixes(defs.prefixes)
        drawable = version == "1.1" or version in DMNDI_NAMESPACES
        self.diagram: Diagram | None = complete_diagram(defs) if diagram and drawable else None
        self.requirement_ids: dict[tuple[str, str], str] = {}
        self.vendor_content: Snapshot = []  # extension elements, kept as they are when indenting
        self.imported_ids: dict[str, dict[str, str]] = {}
        for model in imported:
            ids = self.imported_ids.setdefault(model.namespace, {})
            for group in (model.inputs, model.decisions, model.knowledge_models, model.services):
                for element in group:
                    ids.setdefault(element.name, element.id or stable_id(element.name))
        self.ids = self._assign_ids()
        self.id_by_name: dict[str, str] = {}
        for (_, name), identifier in self.ids.items():
            self.id_by_name.setdefault(name, identifier)

    def _assign_ids(self) -> dict[tuple[str, str], str]:
        """Id of every DRG element by (kind, name); kinds: input, decision, knowledge, source."""
        groups = (
            ("input", self.defs.inputs), ("decision", self.defs.decisions),
            ("knowledge", self.defs.knowledge_models), ("knowledge", self.defs.services),
            ("source", self.defs.knowledge_sources),
        )
        used = {element.id for _, group in groups for element in group if element.id}
        ids: dict[tuple[str, str], str] = {}
        for kind, group in groups:
            for element in group:
                identifier = element.id
                if not identifier:
                    base = identifier = stable_id(element.name)
                    suffix = 2
                    while identifier in used:
                        identifier, suffix = f"{base}_{suffix}", suffix + 1
                    used.add(identifier)
                ids.setdefault((kind, element.name), identifier)
        return ids

    def _type_ref(self, type_ref: str | None) -> str | None:
        if type_ref is not None and self.version == "1.1" and type_ref in _FEEL_TYPES:
            return f"feel:{type_ref}"
        return type_ref

    def _href(self, name: str, kind: str, owner: str) -> str:
        identifier = self.ids.get((kind, name)) or self.id_by_name.get(name)
        if identifier is not None:
            return f"#{identifier}"
        if "#" in name:  # an href the reader could not resolve, kept verbatim
            return name
        for imported in sorted(self.defs.imports, key=lambda i: len(i.name), reverse=True):
            if imported.name and name.startswith(imported.name + "."):
                element = name[len(imported.name) + 1:]
                ident = self.imported_ids.get(imported.namespace, {}).get(element) or stable_id(element)
                return f"{imported.namespace}#{ident}"
        raise ModelError(Problem(
            f"'{owner}' refers to '{name}', which is neither an element of this model nor of an import",
            Location(file=self.file, element=owner), code="dmn-href",
        ))

    def _expressions(self, element: str) -> ExpressionWriter:
        return ExpressionWriter(self.version, self._type_ref, self.file, element,
                                lambda target, extensions: self._extend(target, extensions, element))

    def _extend(self, element: ET.Element, extensions: Extensions, owner: str | None,
                drawn: str | None = None) -> None:
        """Vendor extensions of `element`, and in DMN 1.1 the biodi shape of the DRG element `drawn`."""
        drawing = biodi_elements(self.diagram, drawn, self.id_by_name) \
            if drawn is not None and self.diagram is not None and self.version == "1.1" else []
        holder = sub(element, "extensionElements") if extensions.elements or drawing else None
        self.vendor_content += keep_as_is(write_extensions(element, extensions, self.prefixes, holder,
                                                           file=self.file, owner=owner))
        if holder is not None:
            holder.extend(drawing)

    def _requirement(self, parent: ET.Element, tag: str, source: str, target: str) -> ET.Element:
        """A requirement element; the first between two elements of this model gets an id, which
        the diagram's edge refers to."""
        element = sub(parent, tag)
        pair = (source, target)
        if source in self.id_by_name and pair not in self.requirement_ids:
            ident = f"{self.id_by_name[target]}_{tag}_{self.id_by_name[source]}"
            self.requirement_ids[pair] = ident
            element.set("id", ident)
        return element

    def _authorities(self, element: ET.Element, names: list[str], owner: str) -> None:
        sources = {source.name for source in self.defs.knowledge_sources}
        inputs = {input_data.name for input_data in self.defs.inputs}
        for name in names:
            requirement = self._requirement(element, "authorityRequirement", name, owner)
            if name in sources:
                sub(requirement, "requiredAuthority", href=self._href(name, "source", owner))
            elif name in inputs:
                sub(requirement, "requiredInput", href=self._href(name, "input", owner))
            else:
                sub(requirement, "requiredDecision", href=self._href(name, "decision", owner))

    def document(self) -> str:
        defs = self.defs
        attributes: dict[str, str | None] = {"xmlns": DMN_NAMESPACES[self.version]}
        if self.version == "1.1":
            attributes["xmlns:feel"] = FEEL_NAMESPACES["1.1"]
        if defs.key is not None:
            attributes["xmlns:decisionary"] = DECISIONARY_NAMESPACE
        attributes.update(id=defs.id, name=defs.name, namespace=defs.namespace,
                          expressionLanguage=defs.expression_language)
        if defs.key is not None:
            attributes["decisionary:key"] = defs.key
        if self.diagram is not None and self.version == "1.1":
            attributes["xmlns:biodi"] = BIODI_NAMESPACE
        elif self.diagram is not None:
            attributes.update({"xmlns:dmndi": DMNDI_NAMESPACES[self.version], "xmlns:dc": DC_NAMESPACE,
                               "xmlns:di": DI_NAMESPACE})
        root = ET.Element("definitions", {k: v for k, v in attributes.items() if v is not None})
        if defs.description is not None:
            sub(root, "description").text = defs.description
        holder = sub(root, "extensionElements") if defs.business_key is not None or defs.extensions.elements \
            else None
        self.vendor_content += keep_as_is(write_extensions(root, defs.extensions, self.prefixes, holder,
                                                           file=self.file))
        if holder is not None and defs.business_key is not None:
            # The prefix is bound on the element itself: on <definitions>, `decisionary` may
            # already name the namespace of `decisionary:key`.
            ET.SubElement(holder, "decisionary:businessKey",
                          {"xmlns:decisionary": DECISIONARY_EXTENSIONS_NAMESPACE}).text = defs.business_key
        for imported in defs.imports:
            sub(root, "import", namespace=imported.namespace, name=imported.name,
                locationURI=imported.location, importType=imported.import_type)
        for item in defs.item_definitions:
            self._item(root, item, "itemDefinition")
        for input_data in defs.inputs:
            element = sub(root, "inputData", id=self.ids[("input", input_data.name)], name=input_data.name)
            if input_data.description is not None:
                sub(element, "description").text = input_data.description
            self._extend(element, input_data.extensions, input_data.name, input_data.name)
            sub(element, "variable", name=input_data.name, typeRef=self._type_ref(input_data.type_ref))
        for decision in defs.decisions:
            self._decision(root, decision)
        for bkm in defs.knowledge_models:
            self._bkm(root, bkm)
        for service in defs.services:
            self._service(root, service)
        for source in defs.knowledge_sources:
            self._knowledge_source(root, source)
        if self.diagram is not None and self.version != "1.1":
            write_dmndi(root, self.diagram, self.id_by_name, self.requirement_ids)
        self.prefixes.declare(root)
        ET.indent(root, space="  ")
        restore(self.vendor_content)
        text = ET.tostring(root, encoding="unicode")
        bad = _NOT_XML_CHARACTER.search(text)
        if bad is not None:  # ElementTree writes them as they are, which no XML parser accepts
            raise ModelError(Problem(
                f"the model contains the character U+{ord(bad.group()):04X}, which XML cannot hold "
                f"(near {text[max(0, bad.start() - 40):bad.start()]!r})",
                Location(file=self.file), code="dmn-character",
            ))
        return '<?xml version="1.0" encoding="UTF-8"?>\n' + text + "\n"

    def _item(self, parent: ET.Element, item: ItemDefinition, tag: str) -> None:
        is_collection = "true" if item.is_collection else None
        element = sub(parent, tag, id=item.id, name=item.name, isCollection=is_collection)
        writer = self._expressions(item.name)
        if item.type_ref is not None:
            sub(element, "typeRef").text = self._type_ref(item.type_ref)
        text_child(element, "allowedValues", item.allowed_values)
        if item.type_constraint is not None:
            writer.at_least("1.5", "a type constraint")
            text_child(element, "typeConstraint", item.type_constraint)
        for component in item.components:
            self._item(element, component, "itemComponent")
        if item.function_parameters is not None or item.function_output is not None:
            writer.at_least("1.3", "a function item definition")
            function = sub(element, "functionItem", outputTypeRef=self._type_ref(item.function_output))
            for parameter in item.function_parameters or []:
                sub(function, "parameters", name=parameter.name, typeRef=self._type_ref(parameter.type_ref))

    def _decision(self, parent: ET.Element, decision: Decision) -> None:
        element = sub(parent, "decision", id=self.ids[("decision", decision.name)], name=decision.name)
        if decision.description is not None:
            sub(element, "description").text = decision.description
        self._extend(element, decision.extensions, decision.name, decision.name)
        for tag, text in (("question", decision.question), ("allowedAnswers", decision.allowed_answers)):
            if text is not None:
                sub(element, tag).text = text
        sub(element, "variable", name=decision.name, typeRef=self._type_ref(decision.type_ref))
        for tag, kind, names in (("requiredDecision", "decision", decision.required_decisions),
                                 ("requiredInput", "input", decision.required_inputs)):
            for name in names:
                requirement = self._requirement(element, "informationRequirement", name, decision.name)
                sub(requirement, tag, href=self._href(name, kind, decision.name))
        for name in decision.required_knowledge:
            requirement = self._requirement(element, "knowledgeRequirement", name, decision.name)
            sub(requirement, "requiredKnowledge", href=self._href(name, "knowledge", decision.name))
        self._authorities(element, decision.authorities, decision.name)
        if isinstance(decision.logic, BrokenLogic):
            self._broken(element, decision.logic, decision.name)
        elif decision.logic is not None:
            self._expressions(decision.name).write(element, decision.logic)

    def _broken(self, parent: ET.Element, logic: BrokenLogic, owner: str) -> None:
        """Logic the reader could not read, written back as it was read; only from DMN: what it
        means in DMN is not known, so nothing can translate it from YAML."""
        if logic.yaml is not None:
            first = logic.problems[0].message if logic.problems else "it could not be read"
            raise ModelError(Problem(
                f"cannot write DMN: the logic of '{owner}' could not be read from {logic.format} ({first}); "
                f"correct it in the {logic.format} model first", Location(file=self.file, element=owner),
                code="broken-logic"))
        for text in logic.xml:
            document = parse_extension_element(text, file=self.file, element=owner)
            parent.append(_in_written_namespaces(document.root, self.prefixes))

    def _bkm(self, parent: ET.Element, bkm: BusinessKnowledgeModel) -> None:
        element = sub(parent, "businessKnowledgeModel", id=self.ids[("knowledge", bkm.name)], name=bkm.name)
        if bkm.description is not None:
            sub(element, "description").text = bkm.description
        self._extend(element, bkm.extensions, bkm.name, bkm.name)
        sub(element, "variable", name=bkm.name, typeRef=self._type_ref(bkm.type_ref))
        if isinstance(bkm.logic, BrokenLogic):
            self._broken(element, bkm.logic, bkm.name)
        elif bkm.logic is not None:
            self._expressions(bkm.name).function(element, bkm.logic, "encapsulatedLogic")
        for name in bkm.required_knowledge:
            requirement = self._requirement(element, "knowledgeRequirement", name, bkm.name)
            sub(requirement, "requiredKnowledge", href=self._href(name, "knowledge", bkm.name))
        self._authorities(element, bkm.authorities, bkm.name)

    def _knowledge_source(self, parent: ET.Element, source: KnowledgeSource) -> None:
        element = sub(parent, "knowledgeSource", id=self.ids[("source", source.name)], name=source.name)
        if source.description is not None:
            sub(element, "description").text = source.description
        self._extend(element, source.extensions, source.name, source.name)
        self._authorities(element, source.authorities, source.name)

    def _service(self, parent: ET.Element, service: DecisionService) -> None:
        element = sub(parent, "decisionService", id=self.ids[("knowledge", service.name)], name=service.name)
        self._extend(element, service.extensions, service.name, service.name)
        sub(element, "variable", name=service.name, typeRef=self._type_ref(service.type_ref))
        for tag, kind, names in (
            ("outputDecision", "decision", service.output_decisions),
            ("encapsulatedDecision", "decision", service.encapsulated_decisions),
            ("inputDecision", "decision", service.input_decisions),
            ("inputData", "input", service.input_data),
        ):
            for name in names:
                sub(element, tag, href=self._href(name, kind, service.name))


def _in_written_namespaces(element: ET.Element, prefixes: Prefixes) -> ET.Element:
    """A copy of an element read from a DMN document, named as the writer names things: DMN's
    elements (of whichever DMN version) in the document's default namespace, others by prefix."""

    def name(clark: str) -> str:
        namespace, local = local_name(clark)
        return local if not namespace or dmn_version_of(namespace) is not None else prefixes.name(clark)

    copy = ET.Element(name(element.tag), {name(key): value for key, value in element.attrib.items()})
    copy.text, copy.tail = element.text, element.tail
    copy.extend(_in_written_namespaces(child, prefixes) for child in element if isinstance(child.tag, str))
    return copy
