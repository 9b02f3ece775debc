"""Vendor extensions of DMN elements: namespaced attributes and `<extensionElements>` content.

Modelers keep their own settings there (Camunda's `camunda:historyTimeToLive`,
`camunda:versionTag`, `camunda:inputVariable`, ...). The engine does not interpret them; it keeps
them so that a model read, converted and written back still runs where it came from.

Attributes are kept by `{namespace}name`; each extension element as an XML text that declares
the namespaces it uses, so it stays well-formed on its own (and readable in YAML). A text is
written back only after it has been parsed again with defusedxml: a text edited by hand (in
YAML) that is not well-formed, or carries a DTD, is refused with its location.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from xml.sax.saxutils import escape, quoteattr

from decisions.dmn.safe_xml import XmlDocument, parse_xml
from decisions.dmn.xml_scope import XmlScope, local_name
from decisions.errors import Location, ModelError, Problem
from decisions.model import Extensions

# Prefixes the writer binds itself; an extension namespace never gets one of them.
RESERVED_PREFIXES = frozenset({"xml", "xmlns", "feel", "decisionary", "dmndi", "dc", "di", "biodi"})


def read_extensions(element: ET.Element, scope: XmlScope, keep: Callable[[ET.Element], bool] = lambda _: True
                    ) -> Extensions:
    """The namespaced attributes of `element` and the children of its `<extensionElements>`,
    written with the document's prefixes; `keep` is False for extension elements the reader
    models itself (the business key, Camunda's DMN 1.1 shapes)."""
    attributes = {name: value for name, value in element.attrib.items() if name.startswith("{")}
    children = [child for holder in scope.all(element, "extensionElements") for child in holder
                if isinstance(child.tag, str) and keep(child)]
    if not children:
        return Extensions(attributes)
    prefixes = {namespace: prefix for prefix, namespace in scope.doc.prefixes.items() if prefix}
    return Extensions(attributes, [element_text(child, prefixes) for child in children])


def element_text(element: ET.Element, prefixes: Mapping[str, str]) -> str:
    """`element` as XML text, declaring on itself every namespace it and its descendants use."""
    used: dict[str, str] = {}

    def qualified(name: str) -> str:
        namespace, local = local_name(name)
        if not namespace:
            return local
        prefix = used.get(namespace)
        if prefix is None:
            prefix = prefixes.get(namespace, "")
            if not prefix or prefix in used.values() or prefix in ("xml", "xmlns"):
                prefix = _fresh("ns", set(used.values()))
            used[namespace] = prefix
        return f"{prefix}:{local}"

    def write(node: ET.Element) -> str:
        tag = qualified(node.tag)
        attributes = "".join(f" {qualified(name)}={quoteattr(value)}" for name, value in node.attrib.items())
        inner = escape(node.text or "") + "".join(
            write(child) + escape(child.tail or "") for child in node if isinstance(child.tag, str))
        return f"<{tag}{attributes}>{inner}</{tag}>" if inner else f"<{tag}{attributes}/>"

    body = write(element)
    declarations = "".join(f" xmlns:{prefix}={quoteattr(namespace)}" for namespace, prefix in used.items())
    tag_end = 1 + len(qualified(element.tag))
    return body[:tag_end] + declarations + body[tag_end:]


def parse_extension_element(text: str, *, file: str | None = None, element: str | None = None) -> XmlDocument:
    """An extension element's text parsed again (defusedxml: no DTD, no entities); errors are located."""
    try:
        return parse_xml(text, file=file)
    except ModelError as error:
        reasons = "; ".join(problem.message for problem in error.problems)
        raise ModelError(Problem(f"an extension element is not well-formed XML: {reasons}",
                                 Location(file=file, element=element), code="dmn-extension")) from None


class Prefixes:
    """Prefixes of extension namespaces in a written document: the model's own where free."""

    def __init__(self, preferred: Mapping[str, str]) -> None:
        self.preferred = {namespace: prefix for prefix, namespace in preferred.items()}
        self.bound: dict[str, str] = {}  # namespace -> prefix

    def prefer(self, prefixes: Mapping[str, str]) -> None:
        """Prefixes an extension element's text declares (prefix -> namespace), where the model has none."""
        for prefix, namespace in prefixes.items():
            if prefix:
                self.preferred.setdefault(namespace, prefix)

    def prefix(self, namespace: str) -> str:
        prefix = self.bound.get(namespace)
        if prefix is None:
            taken = set(self.bound.values()) | RESERVED_PREFIXES
            prefix = self.preferred.get(namespace, "")
            if not prefix or prefix in taken or not prefix.replace("-", "_").replace(".", "_").isidentifier():
                prefix = _fresh("ext", taken)
            self.bound[namespace] = prefix
        return prefix

    def name(self, clark: str) -> str:
        """`{namespace}local` -> `prefix:local`."""
        namespace, local = local_name(clark)
        return f"{self.prefix(namespace)}:{local}" if namespace else local

    def declare(self, root: ET.Element) -> None:
        for namespace, prefix in self.bound.items():
            root.set(f"xmlns:{prefix}", namespace)


def write_extensions(element: ET.Element, extensions: Extensions, prefixes: Prefixes, holder: ET.Element | None,
                     *, file: str | None = None, owner: str | None = None) -> list[ET.Element]:
    """Set the namespaced attributes on `element` and append the extension elements to `holder`
    (its `<extensionElements>`, which the caller creates where DMN's element order wants it).
    Returns the elements appended, whose content is the vendor's (see `keep_as_is`)."""
    for name, value in extensions.attributes.items():
        element.set(prefixes.name(name), value)
    if holder is None:
        return []
    appended = []
    for text in extensions.elements:
        document = parse_extension_element(text, file=file, element=owner)
        prefixes.prefer(document.prefixes)
        appended.append(_prefixed(document.root, prefixes, True))
    holder.extend(appended)
    return appended


Snapshot = list[tuple[ET.Element, str | None, str | None, bool]]


def keep_as_is(elements: list[ET.Element]) -> Snapshot:
    """The texts inside `elements`, to put back after the document is indented: the whitespace of
    vendor content is the vendor's (the tail after each element is the document's)."""
    return [(node, node.text, node.tail, node is top) for top in elements for node in top.iter()]


def restore(snapshot: Snapshot) -> None:
    for node, text, tail, is_top in snapshot:
        node.text = text
        if not is_top:
            node.tail = tail


def _prefixed(element: ET.Element, prefixes: Prefixes, in_default_namespace: bool) -> ET.Element:
    """A copy of a parsed element with `prefix:local` names (the writer's documents use prefixes,
    declared once on `<definitions>`, rather than ElementTree's generated ones). An element in no
    namespace undeclares the default one, which in a written document is DMN's."""
    copy = ET.Element(prefixes.name(element.tag), {prefixes.name(k): v for k, v in element.attrib.items()})
    unqualified = not local_name(element.tag)[0]
    if unqualified and in_default_namespace:
        copy.set("xmlns", "")
    copy.text, copy.tail = element.text, element.tail
    for child in element:
        if isinstance(child.tag, str):
            copy.append(_prefixed(child, prefixes, in_default_namespace and not unqualified))
    return copy


def _fresh(stem: str, taken: set[str]) -> str:
    number = 1
    while f"{stem}{number}" in taken:
        number += 1
    return f"{stem}{number}"
