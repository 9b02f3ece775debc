"""Reading DMN boxed expressions (literal, decision table, context, ... iterators) from XML.

Each reader takes the XML element of one expression and the path to it (for errors) and
returns the model's dataclass. Texts are kept as FEEL source, stripped of surrounding
whitespace; the compiler parses them.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable
from typing import Literal, cast

from decisions.dmn.extensions import read_extensions
from decisions.dmn.scorecard import read_scorecard
from decisions.dmn.scoring import read_scoring
from decisions.dmn.xml_scope import NON_SEMANTIC, XmlScope, attribute_name, local_name
from decisions.model import (
    AGGREGATIONS,
    HIT_POLICIES,
    Aggregation,
    Binding,
    Conditional,
    Context,
    ContextEntry,
    DecisionTable,
    Expression,
    Filter,
    FunctionDefinition,
    HitPolicy,
    InputClause,
    Invocation,
    Iterator,
    ListExpression,
    LiteralExpression,
    OutputClause,
    Parameter,
    Relation,
    Rule,
    Scorecard,
)

EXPRESSION_ELEMENTS = frozenset(
    {
        "literalExpression", "decisionTable", "context", "list", "relation", "functionDefinition",
        "invocation", "conditional", "filter", "for", "some", "every",
    }
)
FUNCTION_KINDS: dict[str, Literal["FEEL", "Java", "PMML"]] = {"FEEL": "FEEL", "JAVA": "Java", "PMML": "PMML"}


def join(path: str, step: str) -> str:
    return f"{path}/{step}" if path else step


def expression_in(
    scope: XmlScope, parent: ET.Element, path: str, *, also_allowed: frozenset[str] = frozenset(),
    what: str = "element",
) -> Expression | None:
    """The one boxed expression among `parent`'s children (None if there is none).

    Children named in `also_allowed` belong to the parent (e.g. a decision's `variable`);
    anything else in the DMN namespace is an error, so a misspelt or unsupported expression
    kind is reported instead of silently read as "no logic".
    """
    found: list[tuple[str, ET.Element]] = []
    for local, child in scope.children(parent):
        if local in EXPRESSION_ELEMENTS:
            found.append((local, child))
        elif local not in also_allowed and local not in NON_SEMANTIC:
            raise scope.error(
                f"unknown or unsupported element <{local}> in {what}", child, path, code="dmn-unknown-element"
            )
    if len(found) > 1:
        kinds = ", ".join(f"<{local}>" for local, _ in found)
        raise scope.error(f"{what} has several expressions ({kinds}); expected one", parent, path)
    if not found:
        return None
    local, child = found[0]
    return read_expression(scope, child, join(path, local))


def required_expression(scope: XmlScope, parent: ET.Element, path: str, what: str,
                        also_allowed: frozenset[str] = frozenset()) -> Expression:
    expression = expression_in(scope, parent, path, also_allowed=also_allowed, what=what)
    if expression is None:
        raise scope.error(f"{what} has no expression", parent, path)
    return expression


def read_expression(scope: XmlScope, element: ET.Element, path: str) -> Expression:
    _, local = local_name(element.tag)
    reader = _READERS.get(local)
    if reader is None:
        raise scope.error(f"unknown expression element <{local}>", element, path, code="dmn-unknown-element")
    return reader(scope, element, path)


def _literal(scope: XmlScope, element: ET.Element, path: str) -> LiteralExpression:
    text = scope.text_of(element)
    if text is None:
        imported = scope.child(element, "importedValues") is not None
        raise scope.error("a literal expression with <importedValues> cannot be evaluated; write its <text>"
                          if imported else "literal expression has no <text>", element, path)
    literal = LiteralExpression(
        text=text,
        type_ref=scope.type_ref(element),
        id=element.get("id"),
        source=scope.source(element),
    )
    return read_scoring(scope, element, path, literal)  # a scoring expression, if it says so


def _unary_tests(scope: XmlScope, parent: ET.Element, name: str) -> str | None:
    return scope.text_of(scope.child(parent, name))


def _decision_table(scope: XmlScope, element: ET.Element, path: str) -> DecisionTable:
    hit_policy = (element.get("hitPolicy") or "UNIQUE").strip().upper().replace("_", " ")
    if hit_policy not in HIT_POLICIES:
        raise scope.error(
            f"unknown hit policy {element.get('hitPolicy')!r}; expected one of {', '.join(HIT_POLICIES)}",
            element, path,
        )
    aggregation_text = element.get("aggregation")
    aggregation: str | None = None
    if aggregation_text is not None and aggregation_text.strip():
        aggregation = aggregation_text.strip().upper()
        if aggregation not in AGGREGATIONS:
            raise scope.error(
                f"unknown aggregation {aggregation_text!r}; expected one of {', '.join(AGGREGATIONS)}",
                element, path,
            )
        if hit_policy != "COLLECT":
            raise scope.error(f"aggregation {aggregation} needs hit policy COLLECT, not {hit_policy}",
                              element, path)
    inputs = [_input_clause(scope, child) for child in scope.all(element, "input")]
    outputs = [_output_clause(scope, child) for child in scope.all(element, "output")]
    if not outputs:
        raise scope.error("decision table has no <output> column", element, path)
    annotation_columns = [attribute_name(child) or "" for child in scope.all(element, "annotation")]
    rules: list[Rule] = []
    for number, child in enumerate(scope.all(element, "rule"), start=1):
        rules.append(_rule(scope, child, join(path, f"rule[{number}]"), number, len(inputs), len(outputs)))
    return DecisionTable(
        inputs=inputs,
        outputs=outputs,
        rules=rules,
        hit_policy=cast(HitPolicy, hit_policy),
        aggregation=cast(Aggregation | None, aggregation),
        annotation_columns=annotation_columns,
        output_label=element.get("outputLabel"),
        type_ref=scope.type_ref(element),
        id=element.get("id"),
        extensions=read_extensions(element, scope),
        source=scope.source(element),
    )


def _input_clause(scope: XmlScope, element: ET.Element) -> InputClause:
    expression = scope.child(element, "inputExpression")
    return InputClause(
        expression=scope.text_of(expression) or "",
        label=element.get("label"),
        type_ref=scope.type_ref(expression) if expression is not None else None,
        input_values=_unary_tests(scope, element, "inputValues"),
        id=element.get("id"),
        extensions=read_extensions(element, scope),
    )


def _output_clause(scope: XmlScope, element: ET.Element) -> OutputClause:
    name = attribute_name(element)
    return OutputClause(
        name=name or None,
        label=element.get("label"),
        type_ref=scope.type_ref(element),
        output_values=_unary_tests(scope, element, "outputValues"),
        default_output=_unary_tests(scope, element, "defaultOutputEntry"),
        id=element.get("id"),
        extensions=read_extensions(element, scope),
    )


def _rule(scope: XmlScope, element: ET.Element, path: str, number: int, n_inputs: int, n_outputs: int) -> Rule:
    inputs = [scope.text_of(child) or "" for child in scope.all(element, "inputEntry")]
    outputs = [scope.text_of(child) or "" for child in scope.all(element, "outputEntry")]
    for kind, cells, expected in (("input", inputs, n_inputs), ("output", outputs, n_outputs)):
        if len(cells) != expected:
            raise scope.error(
                f"rule {number} has {len(cells)} {kind} entries but the table has {expected} {kind} columns",
                element, path, code="dmn-rule-shape", rule=number,
            )
    return Rule(
        input_entries=inputs,
        output_entries=outputs,
        annotations=[scope.text_of(child) or "" for child in scope.all(element, "annotationEntry")],
        id=element.get("id"),
        description=scope.plain_text(element, "description"),
        extensions=read_extensions(element, scope),
        source=scope.source(element),
    )


def _context(scope: XmlScope, element: ET.Element, path: str) -> Context | Scorecard:
    """A boxed context. Its entries' names are distinct (10.3.2.6: the keys of a context are, as
    in a FEEL context literal) and only the last entry may go without a variable (the result)."""
    entries: list[ContextEntry] = []
    children = scope.all(element, "contextEntry")
    for number, child in enumerate(children, start=1):
        variable = scope.child(child, "variable")
        name = attribute_name(variable) if variable is not None else None
        step = join(path, f"contextEntry[{name!r}]" if name else f"contextEntry[{number}]")
        if not name and number < len(children):
            raise scope.error(f"context entry {number} has no <variable name=...>; only the last entry of a "
                              "context may go without one (it is the context's result)", child, step)
        if name and any(entry.name == name for entry in entries):
            raise scope.error(f"duplicate context entry '{name}': the entries of a context have distinct names",
                              child, step, code="duplicate-name")
        what = f"context entry '{name}'" if name else "the context's result entry"
        value = required_expression(scope, child, step, what, also_allowed=frozenset({"variable"}))
        type_ref = scope.type_ref(variable) if variable is not None else None
        entries.append(ContextEntry(name=name, value=value, type_ref=type_ref))
    context = Context(entries=entries, type_ref=scope.type_ref(element), id=element.get("id"))
    return read_scorecard(scope, element, path, context)  # a points scorecard, if it says so


def _items(scope: XmlScope, element: ET.Element, path: str) -> list[Expression]:
    items: list[Expression] = []
    for number, (local, child) in enumerate(scope.children(element), start=1):
        if local in NON_SEMANTIC:
            continue
        if local not in EXPRESSION_ELEMENTS:
            raise scope.error(f"unknown or unsupported element <{local}> in a list", child, path,
                              code="dmn-unknown-element")
        items.append(read_expression(scope, child, join(path, f"{local}[{number}]")))
    return items


def _list(scope: XmlScope, element: ET.Element, path: str) -> ListExpression:
    return ListExpression(items=_items(scope, element, path), type_ref=scope.type_ref(element),
                          id=element.get("id"))


def _relation(scope: XmlScope, element: ET.Element, path: str) -> Relation:
    columns = [attribute_name(child) or "" for child in scope.all(element, "column")]
    rows: list[list[Expression]] = []
    for number, row in enumerate(scope.all(element, "row"), start=1):
        step = join(path, f"row[{number}]")
        cells = _items(scope, row, step)
        if len(cells) != len(columns):
            raise scope.error(f"relation row {number} has {len(cells)} cells but the relation has "
                              f"{len(columns)} columns", row, step)
        rows.append(cells)
    return Relation(columns=columns, rows=rows, type_ref=scope.type_ref(element), id=element.get("id"))


def read_function(scope: XmlScope, element: ET.Element, path: str) -> FunctionDefinition:
    """A `functionDefinition`, or a BKM's `encapsulatedLogic` (same content)."""
    kind_text = (element.get("kind") or "FEEL").strip()
    kind = FUNCTION_KINDS.get(kind_text.upper())
    if kind is None:
        raise scope.error(f"unknown function kind {kind_text!r}; expected FEEL, Java or PMML", element, path)
    parameters = [
        Parameter(name=attribute_name(child) or "", type_ref=scope.type_ref(child))
        for child in scope.all(element, "formalParameter")
    ]
    body = expression_in(scope, element, path, also_allowed=frozenset({"formalParameter"}),
                         what="function definition")
    return FunctionDefinition(parameters=parameters, body=body, kind=kind, type_ref=scope.type_ref(element),
                              id=element.get("id"))


def _invocation(scope: XmlScope, element: ET.Element, path: str) -> Invocation:
    callee_element: ET.Element | None = None
    bindings: list[Binding] = []
    for local, child in scope.children(element):
        if local in NON_SEMANTIC:
            continue
        if local == "binding":
            parameter = scope.child(child, "parameter")
            name = attribute_name(parameter) if parameter is not None else None
            if not name:
                raise scope.error("invocation binding has no <parameter name=...>", child, path)
            step = join(path, f"binding[{name!r}]")
            value = expression_in(scope, child, step, also_allowed=frozenset({"parameter"}),
                                  what=f"binding '{name}'")
            bindings.append(Binding(name=name, value=value))
        elif local in EXPRESSION_ELEMENTS and callee_element is None:
            callee_element = child
        else:
            raise scope.error(f"unexpected element <{local}> in an invocation", child, path,
                              code="dmn-unknown-element")
    if callee_element is None or local_name(callee_element.tag)[1] != "literalExpression":
        raise scope.error("invocation has no literal expression naming the function to invoke", element, path)
    return Invocation(callee=scope.text_of(callee_element) or "", bindings=bindings,
                      type_ref=scope.type_ref(element), id=element.get("id"))


def _part(scope: XmlScope, element: ET.Element, path: str, name: str) -> Expression:
    """The expression inside a child wrapper such as `<if>`, `<in>` or `<return>`."""
    wrapper = scope.child(element, name)
    if wrapper is None:
        raise scope.error(f"<{name}> is missing", element, path)
    return required_expression(scope, wrapper, join(path, name), f"<{name}>")


def _conditional(scope: XmlScope, element: ET.Element, path: str) -> Conditional:
    return Conditional(
        condition=_part(scope, element, path, "if"),
        then=_part(scope, element, path, "then"),
        otherwise=_part(scope, element, path, "else"),
        type_ref=scope.type_ref(element),
        id=element.get("id"),
    )


def _filter(scope: XmlScope, element: ET.Element, path: str) -> Filter:
    return Filter(source=_part(scope, element, path, "in"), match=_part(scope, element, path, "match"),
                  type_ref=scope.type_ref(element), id=element.get("id"))


def _iterator(scope: XmlScope, element: ET.Element, path: str) -> Iterator:
    kind = cast(Literal["for", "some", "every"], local_name(element.tag)[1])
    variable = (element.get("iteratorVariable") or "").strip()
    if not variable:
        raise scope.error(f"<{kind}> has no iteratorVariable", element, path)
    body_name = "return" if kind == "for" else "satisfies"
    return Iterator(
        kind=kind,
        variable=variable,
        source=_part(scope, element, path, "in"),
        body=_part(scope, element, path, body_name),
        type_ref=scope.type_ref(element),
        id=element.get("id"),
    )


_READERS: dict[str, Callable[[XmlScope, ET.Element, str], Expression]] = {
    "literalExpression": _literal,
    "decisionTable": _decision_table,
    "context": _context,
    "list": _list,
    "relation": _relation,
    "functionDefinition": read_function,
    "invocation": _invocation,
    "conditional": _conditional,
    "filter": _filter,
    "for": _iterator,
    "some": _iterator,
    "every": _iterator,
}
