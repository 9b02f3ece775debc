"""DMN XML reader: a `.dmn` document (DMN 1.1 to 1.5) -> `decisions.model.Definitions`.

Requirements between elements are hrefs to ids in the XML; the model names elements, so the
reader resolves `#id` (and `<own namespace>#id`) to the element's name, and
`<imported namespace>#id` to `<import name>.<element name>` when the imported model can be
found (see `decisions.dmn.imports`); otherwise the raw href is kept for the compiler.

Problems are collected per top-level element, so one bad decision does not hide another;
the reader raises one `ModelError` carrying all of them. A problem inside one decision's or
business knowledge model's logic (a rule with the wrong number of cells, an unknown expression
element, a table without an output, ...) belongs to that element instead: its logic is read as
`BrokenLogic`, which gives null and reports the problem, and the rest of the model runs.
What makes the document unusable still refuses it: not DMN, an unknown element in
`<definitions>`, an element without a name, an href naming nothing, a non-FEEL
expressionLanguage.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TypeVar

from decisions.dmn.diagram import (
    BIODI_NAMESPACE,
    DC_NAMESPACE,
    DI_NAMESPACE,
    DMNDI_NAMESPACES,
    is_biodi,
    read_diagram,
)
from decisions.dmn.extensions import element_text, read_extensions
from decisions.dmn.imports import DRG_ELEMENTS, ImportIndex
from decisions.dmn.namespaces import (
    DECISIONARY_EXTENSIONS_NAMESPACE,
    DECISIONARY_NAMESPACE,
    DMN_NAMESPACES,
    DROOLS_DMN11_NAMESPACE,
    FEEL_NAMESPACES,
    SUPPORTED_VERSIONS,
    dmn_version_of,
    is_feel_namespace,
)
from decisions.dmn.read_expressions import expression_in, join, read_function
from decisions.dmn.safe_xml import XmlDocument, parse_xml
from decisions.dmn.xml_scope import NON_SEMANTIC, XmlScope, attribute_name, local_name
from decisions.errors import Location, ModelError, Problem
from decisions.model import (
    BrokenLogic,
    BusinessKnowledgeModel,
    Decision,
    DecisionService,
    Definitions,
    Expression,
    Extensions,
    FunctionDefinition,
    Import,
    InputData,
    ItemDefinition,
    KnowledgeSource,
    Parameter,
    Source,
)

T = TypeVar("T")

# Children of <definitions> that carry nothing the engine uses (documentation, diagrams, ...).
_IGNORED_IN_DEFINITIONS = frozenset(
    {
        "textAnnotation", "association", "group", "elementCollection",
        "performanceIndicator", "organizationUnit", "businessContextElement", "dmnDI", "DMNDI",
    }
) | NON_SEMANTIC
_DECISION_PARTS = frozenset(
    {
        "question", "allowedAnswers", "variable", "informationRequirement", "knowledgeRequirement",
        "authorityRequirement", "supportedObjective", "impactedPerformanceIndicator", "decisionMaker",
        "decisionOwner", "usingProcess", "usingTask",
    }
)
_BKM_PARTS = frozenset({"variable", "encapsulatedLogic", "knowledgeRequirement", "authorityRequirement"})
_SOURCE_PARTS = frozenset({"authorityRequirement", "type", "owner"})
_AUTHORITY_REFERENCES = ("requiredDecision", "requiredInput", "requiredAuthority")
_EXTENDED = frozenset({"definitions", "decision", "inputData", "businessKnowledgeModel", "decisionService",
                       "knowledgeSource", "decisionTable", "input", "output", "rule"})
_KEY_ATTRIBUTE = f"{{{DECISIONARY_NAMESPACE}}}key"
# Namespaces whose names the reader knows; any other namespace of an attribute is an extension's.
_KNOWN_NAMESPACES = frozenset({*DMN_NAMESPACES.values(), *FEEL_NAMESPACES.values(), *DMNDI_NAMESPACES.values(),
                               DC_NAMESPACE, DI_NAMESPACE, BIODI_NAMESPACE, DECISIONARY_NAMESPACE,
                               DECISIONARY_EXTENSIONS_NAMESPACE, "http://www.w3.org/XML/1998/namespace",
                               "http://www.w3.org/2001/XMLSchema-instance"})
_SERVICE_PARTS = frozenset({"variable", "outputDecision", "encapsulatedDecision", "inputDecision", "inputData"})
# The namespace of `decisionary:key` is accepted too: a model may declare that one prefix once.
_BUSINESS_KEY_TAGS = frozenset(f"{{{uri}}}businessKey"
                               for uri in (DECISIONARY_EXTENSIONS_NAMESPACE, DECISIONARY_NAMESPACE))
_ITEM_PARTS = frozenset({"typeRef", "allowedValues", "typeConstraint", "itemComponent", "functionItem"})


def read_dmn(
    data: bytes | str,
    *,
    file: str | None = None,
    search_paths: Sequence[str | Path] = (),
    imported: Iterable[Definitions] = (),
) -> Definitions:
    """Read a DMN document. `file` names it in errors and locates imported models next to it.

    `imported`: models already read, used to resolve hrefs into their namespaces;
    `search_paths`: more folders whose `.dmn` files may be imported.
    """
    doc = parse_xml(data, file=file)
    namespace, local = local_name(doc.root.tag)
    if local != "definitions":
        seen = f"<{local}> in namespace '{namespace}'" if namespace else f"<{local}> without namespace"
        raise ModelError(Problem(
            f"not a DMN model: the root element is {seen}; expected <definitions>",
            Location(file=file, line=doc.line(doc.root)), code="dmn-root",
        ))
    version = dmn_version_of(namespace)
    if version is None:
        seen = f"namespace '{namespace}'" if namespace else "no namespace"
        raise ModelError(Problem(
            f"unknown DMN namespace: <definitions> has {seen}; supported are DMN "
            f"{', '.join(SUPPORTED_VERSIONS)} (e.g. https://www.omg.org/spec/DMN/20230324/MODEL/ for 1.5)",
            Location(file=file, line=doc.line(doc.root)), code="dmn-namespace",
        ))
    folders = [Path(folder) for folder in search_paths]
    if file is not None:
        folders.insert(0, Path(file).parent)
    index = ImportIndex(given=imported, folders=folders, exclude=Path(file) if file is not None else None)
    try:
        return _DefinitionsReader(doc, namespace, version, file, index).read()
    except RecursionError:
        raise ModelError(Problem("the model's expressions are nested too deeply to read",
                                 Location(file=file), code="too-deep")) from None


def read_dmn_file(path: str | Path, *, search_paths: Sequence[str | Path] = (),
                  imported: Iterable[Definitions] = ()) -> Definitions:
    try:
        data = Path(path).read_bytes()
    except OSError as error:
        raise ModelError(Problem(f"cannot read the file: {error.strerror or error}",
                                 Location(file=str(path)), code="io")) from None
    return read_dmn(data, file=str(path), search_paths=search_paths, imported=imported)


class _DefinitionsReader:
    def __init__(self, doc: XmlDocument, namespace: str, version: str, file: str | None,
                 index: ImportIndex) -> None:
        self.doc = doc
        self.version = version
        self.file = file
        self.index = index
        self.scope = XmlScope(doc, namespace, file, self._type_ref)
        self.model_namespace = (doc.root.get("namespace") or "").strip()
        self.imports: dict[str, Import] = {}
        self.ids: dict[str, str] = {}
        self.extended_tags = {(namespace, tag) for tag in _EXTENDED}  # elements whose extensions are kept
        self.problems: list[Problem] = []

    def read(self) -> Definitions:
        root, scope = self.doc.root, self.scope
        defs = Definitions(
            name=attribute_name(root) or "",
            namespace=self.model_namespace,
            id=root.get("id"),
            dmn_version=self.version,
            key=root.get(_KEY_ATTRIBUTE),
            description=scope.plain_text(root, "description"),
            expression_language=root.get("expressionLanguage"),
            source=Source(self.file, scope.line(root)),
        )
        defs.extensions = read_extensions(root, scope, keep=lambda child: child.tag not in _BUSINESS_KEY_TAGS
                                          and not is_biodi(child))
        defs.extensions.attributes.pop(_KEY_ATTRIBUTE, None)
        defs.prefixes = self._extension_prefixes(root)
        try:
            defs.business_key = self._business_key(root)
        except ModelError as error:
            self.problems.extend(error.problems)
        for element in scope.all(root, "import"):
            self._append(defs.imports, self._import, element)
        self.imports = {imported.namespace: imported for imported in defs.imports}
        for local, child in scope.children(root):
            identifier, name = child.get("id"), attribute_name(child)
            if local in DRG_ELEMENTS and identifier and name:
                self.ids[identifier] = name
        for local, child in scope.children(root):
            if local == "itemDefinition":
                self._append(defs.item_definitions, self._item, child)
            elif local == "inputData":
                self._append(defs.inputs, self._input, child)
            elif local == "decision":
                self._append(defs.decisions, self._decision, child)
            elif local == "businessKnowledgeModel":
                self._append(defs.knowledge_models, self._bkm, child)
            elif local == "decisionService":
                self._append(defs.services, self._service, child)
            elif local == "knowledgeSource" and attribute_name(child):
                self._append(defs.knowledge_sources, self._knowledge_source, child)
            elif local not in _IGNORED_IN_DEFINITIONS and local != "import":
                self.problems.append(Problem(f"unknown element <{local}> in <definitions>",
                                             scope.location(child), code="dmn-unknown-element"))
        self.problems.extend(self._other_languages(root))
        if self.problems:
            raise ModelError(self.problems)
        defs.diagram = read_diagram(root, scope.namespace, self.ids)
        return defs

    def _extension_prefixes(self, root: ET.Element) -> dict[str, str]:
        """The document's prefixes of the namespaces that extension attributes use (`camunda`, ...)."""
        used = {local_name(name)[0] for element in root.iter() if isinstance(element.tag, str)
                and local_name(element.tag) in self.extended_tags
                for name in element.attrib if name.startswith("{")} - _KNOWN_NAMESPACES
        return {prefix: uri for prefix, uri in sorted(self.doc.prefixes.items()) if prefix and uri in used}

    def _extensions(self, element: ET.Element, scope: XmlScope) -> Extensions:
        return read_extensions(element, scope, keep=lambda child: not is_biodi(child))

    def _authorities(self, element: ET.Element, scope: XmlScope) -> list[str]:
        """Names the `<authorityRequirement>`s of `element` refer to. They only draw the model, so
        an href that names nothing is left out rather than failing the model."""
        names: list[str] = []
        for requirement in scope.all(element, "authorityRequirement"):
            for local, reference in scope.children(requirement):
                if local in _AUTHORITY_REFERENCES:
                    try:
                        names.append(self._href(reference, scope, join("authorityRequirement", local)))
                    except ModelError:
                        continue
        return names

    def _other_languages(self, root: ET.Element) -> list[Problem]:
        """An expression in a language other than FEEL (Camunda 7's juel, groovy, javascript,
        python) is refused where it is declared: evaluating it as FEEL would give other results."""
        found: list[Problem] = []
        parents: dict[ET.Element, ET.Element] | None = None
        for element in root.iter():
            language = element.get("expressionLanguage")
            if language is None or _is_feel(language):
                continue
            if parents is None:
                parents = {child: parent for parent in root.iter() for child in parent}
            owner, at = element, element
            while owner is not None and (local_name(owner.tag)[1] not in DRG_ELEMENTS or not attribute_name(owner)):
                owner = parents.get(owner)  # type: ignore[assignment]
            what = local_name(at.tag)[1]
            location = self.scope.location(at, f"<{what}>").with_(
                element=attribute_name(owner) if owner is not None else None)
            found.append(Problem(f"expressionLanguage {language!r} on <{what}>: only FEEL expressions can be "
                                 "evaluated; rewrite this expression in FEEL", location, code="dmn-expression-language"))
        return found

    def _business_key(self, root: ET.Element) -> str | None:
        """`<extensionElements><x:businessKey>` of `<definitions>`, x bound to Decisionary's
        extension namespace; other extension elements are left alone."""
        keys: list[tuple[str, ET.Element]] = []
        for extensions in self.scope.all(root, "extensionElements"):
            for child in extensions:
                if isinstance(child.tag, str) and child.tag in _BUSINESS_KEY_TAGS:
                    keys.append(("".join(child.itertext()).strip(), child))
        if len({text for text, _ in keys}) > 1:
            names = ", ".join(f"'{text}'" for text, _ in keys)
            raise self.scope.error(f"<definitions> names several business keys: {names}; a model has one",
                                   keys[1][1], "extensionElements/businessKey", code="dmn-business-key")
        return keys[0][0] if keys else None

    def _append(self, into: list[T], read: Callable[[ET.Element], T], element: ET.Element) -> None:
        """Read one top-level element; a problem is recorded and reading goes on with the next."""
        try:
            into.append(read(element))
        except ModelError as error:
            self.problems.extend(error.problems)

    # --- names, types and references ------------------------------------------------

    def _type_ref(self, value: str | None) -> str | None:
        """A typeRef as the model writes it; DMN 1.1 QNames (`feel:string`, `tns:tX`) lose the prefix."""
        if value is None or not value.strip():
            return None
        value = value.strip()
        prefix, colon, local = value.partition(":")
        uri = self.doc.prefixes.get(prefix) if colon else None
        if uri is None:
            return value
        if is_feel_namespace(uri) or dmn_version_of(uri) is not None or uri == self.model_namespace:
            return local
        imported = self.imports.get(uri)
        if imported is not None and imported.name:
            return f"{imported.name}.{local}"
        return value

    def _name(self, element: ET.Element, what: str, scope: XmlScope) -> str:
        name = attribute_name(element)
        if not name:
            ident = element.get("id")
            described = f"{what} with id '{ident}'" if ident else what
            raise scope.error(f"{described} has no name", element)
        return name

    def _href(self, element: ET.Element, scope: XmlScope, path: str) -> str:
        href = (element.get("href") or "").strip()
        local = local_name(element.tag)[1]
        if not href:
            raise scope.error(f"<{local}> has no href", element, path, code="dmn-href")
        namespace, sep, ident = href.rpartition("#")
        if not sep:
            namespace, ident = "", href
        if not namespace or namespace == self.model_namespace:
            name = self.ids.get(ident)
            if name is None:
                raise scope.error(f"<{local} href={href!r}> names no element of this model", element, path,
                                  code="dmn-href")
            return name
        imported = self.imports.get(namespace)
        if imported is not None:
            names = self.index.names(namespace)
            if names is not None and ident in names:
                return f"{imported.name}.{names[ident]}" if imported.name else names[ident]
        return href

    def _hrefs(self, parent: ET.Element, wrapper: str | None, name: str, scope: XmlScope) -> list[str]:
        """Names referenced by `<wrapper><name href=.../></wrapper>` children (or `<name>` directly)."""
        result: list[str] = []
        holders = scope.all(parent, wrapper) if wrapper else [parent]
        for holder in holders:
            for reference in scope.all(holder, name):
                result.append(self._href(reference, scope, join(wrapper or "", name)))
        return result

    def _variable_type(self, element: ET.Element, scope: XmlScope) -> str | None:
        variable = scope.child(element, "variable")
        return scope.type_ref(variable) if variable is not None else None

    def _broken(self, error: ModelError, element: ET.Element, parts: frozenset[str], scope: XmlScope) -> BrokenLogic:
        """The logic of `element` that could not be read: its problems, which belong to the
        element, and its children other than `parts` (its logic, as written) to write back."""
        prefixes = {namespace: prefix for prefix, namespace in self.doc.prefixes.items() if prefix}
        logic = [child for local, child in scope.children(element) if local not in parts and local not in NON_SEMANTIC]
        return BrokenLogic(tuple(error.problems), xml=tuple(element_text(child, prefixes) for child in logic))

    def _check_parts(self, element: ET.Element, allowed: frozenset[str], what: str, scope: XmlScope) -> None:
        for local, child in scope.children(element):
            if local not in allowed and local not in NON_SEMANTIC:
                raise scope.error(f"unknown or unsupported element <{local}> in {what}", child,
                                  code="dmn-unknown-element")

    # --- elements ----------------------------------------------------------------

    def _import(self, element: ET.Element) -> Import:
        namespace = (element.get("namespace") or "").strip()
        if not namespace:
            raise self.scope.error("<import> has no namespace", element, code="dmn-import")
        return Import(
            namespace=namespace,
            # DMN 1.1 has no import names; Drools writes one as `drools:name`.
            name=attribute_name(element) or element.get(f"{{{DROOLS_DMN11_NAMESPACE}}}name") or "",
            location=element.get("locationURI"),
            import_type=element.get("importType"),
        )

    def _item(self, element: ET.Element, path: str = "") -> ItemDefinition:
        what = "item component" if path else "item definition"
        scope = self.scope.for_element(attribute_name(element))
        name = self._name(element, what, scope)
        self._check_parts(element, _ITEM_PARTS, f"{what} '{name}'", scope)
        type_ref_element = scope.child(element, "typeRef")
        item = ItemDefinition(
            name=name,
            type_ref=self._type_ref(type_ref_element.text) if type_ref_element is not None else None,
            allowed_values=scope.text_of(scope.child(element, "allowedValues")),
            type_constraint=scope.text_of(scope.child(element, "typeConstraint")),
            components=[self._item(child, join(path, name)) for child in scope.all(element, "itemComponent")],
            is_collection=(element.get("isCollection") or "").strip().lower() in ("true", "1"),
            id=element.get("id"),
        )
        function_item = scope.child(element, "functionItem")
        if function_item is not None:
            item.function_parameters = [
                Parameter(name=attribute_name(parameter) or "", type_ref=scope.type_ref(parameter))
                for parameter in scope.all(function_item, "parameters")
            ]
            item.function_output = scope.type_ref(function_item, "outputTypeRef")
        return item

    def _input(self, element: ET.Element) -> InputData:
        scope = self.scope.for_element(attribute_name(element))
        name = self._name(element, "input data", scope)
        return InputData(
            name=name,
            type_ref=self._variable_type(element, scope),
            id=element.get("id"),
            description=scope.plain_text(element, "description"),
            extensions=self._extensions(element, scope),
            source=scope.source(element),
        )

    def _decision(self, element: ET.Element) -> Decision:
        scope = self.scope.for_element(attribute_name(element))
        name = self._name(element, "decision", scope)
        logic: Expression | BrokenLogic | None
        try:
            logic = expression_in(scope, element, "", also_allowed=_DECISION_PARTS, what=f"decision '{name}'")
        except ModelError as error:
            logic = self._broken(error, element, _DECISION_PARTS, scope)
        return Decision(
            name=name,
            logic=logic,
            type_ref=self._variable_type(element, scope),
            required_inputs=self._hrefs(element, "informationRequirement", "requiredInput", scope),
            required_decisions=self._hrefs(element, "informationRequirement", "requiredDecision", scope),
            required_knowledge=self._hrefs(element, "knowledgeRequirement", "requiredKnowledge", scope),
            id=element.get("id"),
            description=scope.plain_text(element, "description"),
            question=scope.plain_text(element, "question"),
            allowed_answers=scope.plain_text(element, "allowedAnswers"),
            authorities=self._authorities(element, scope),
            extensions=self._extensions(element, scope),
            source=scope.source(element),
        )

    def _bkm(self, element: ET.Element) -> BusinessKnowledgeModel:
        scope = self.scope.for_element(attribute_name(element))
        name = self._name(element, "business knowledge model", scope)
        logic_element = scope.child(element, "encapsulatedLogic")
        logic: FunctionDefinition | BrokenLogic | None = None
        try:
            self._check_parts(element, _BKM_PARTS, f"business knowledge model '{name}'", scope)
            if logic_element is not None:
                logic = read_function(scope, logic_element, "encapsulatedLogic")
        except ModelError as error:
            logic = self._broken(error, element, _BKM_PARTS - {"encapsulatedLogic"}, scope)
            if logic_element is not None:
                logic.parameters = [Parameter(attribute_name(p) or "", scope.type_ref(p))
                                    for p in scope.all(logic_element, "formalParameter")]
        return BusinessKnowledgeModel(
            name=name,
            logic=logic,
            type_ref=self._variable_type(element, scope),
            required_knowledge=self._hrefs(element, "knowledgeRequirement", "requiredKnowledge", scope),
            id=element.get("id"),
            description=scope.plain_text(element, "description"),
            authorities=self._authorities(element, scope),
            extensions=self._extensions(element, scope),
            source=scope.source(element),
        )

    def _service(self, element: ET.Element) -> DecisionService:
        scope = self.scope.for_element(attribute_name(element))
        name = self._name(element, "decision service", scope)
        self._check_parts(element, _SERVICE_PARTS, f"decision service '{name}'", scope)
        return DecisionService(
            name=name,
            output_decisions=self._hrefs(element, None, "outputDecision", scope),
            encapsulated_decisions=self._hrefs(element, None, "encapsulatedDecision", scope),
            input_decisions=self._hrefs(element, None, "inputDecision", scope),
            input_data=self._hrefs(element, None, "inputData", scope),
            type_ref=self._variable_type(element, scope),
            id=element.get("id"),
            extensions=self._extensions(element, scope),
            source=scope.source(element),
        )

    def _knowledge_source(self, element: ET.Element) -> KnowledgeSource:
        scope = self.scope.for_element(attribute_name(element))
        name = self._name(element, "knowledge source", scope)
        self._check_parts(element, _SOURCE_PARTS, f"knowledge source '{name}'", scope)
        return KnowledgeSource(
            name=name,
            id=element.get("id"),
            description=scope.plain_text(element, "description"),
            authorities=self._authorities(element, scope),
            extensions=self._extensions(element, scope),
            source=scope.source(element),
        )


def _is_feel(language: str) -> bool:
    """FEEL by any of its names: the DMN versions' FEEL URIs, S-FEEL, or Camunda's "feel"."""
    return "feel" in language.strip().lower()
