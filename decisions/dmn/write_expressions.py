"""Writing boxed expressions as DMN XML elements (the inverse of `read_expressions`).

Elements are created without namespace; the writer declares the DMN namespace as the default
namespace of the document. Expression kinds that a target DMN version lacks raise a located
`ModelError` instead of producing a document other tools would reject.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable

from decisions.dmn.namespaces import DMN_NAMESPACES
from decisions.dmn.scorecard import scorecard_context, write_scorecard
from decisions.dmn.scoring import write_scoring
from decisions.errors import Location, ModelError, Problem
from decisions.model import (
    Conditional,
    Context,
    DecisionTable,
    Expression,
    Extensions,
    Filter,
    FunctionDefinition,
    Invocation,
    Iterator,
    ListExpression,
    LiteralExpression,
    Relation,
    Scorecard,
    Scoring,
)

_VERSION_ORDER = tuple(DMN_NAMESPACES)  # oldest first


def sub(parent: ET.Element, tag: str, **attributes: str | None) -> ET.Element:
    """A child element; attributes whose value is None are left out (they are optional in DMN)."""
    return ET.SubElement(parent, tag, {key: value for key, value in attributes.items() if value is not None})


def text_child(parent: ET.Element, tag: str, text: str | None, **attributes: str | None) -> ET.Element | None:
    """`<tag><text>...</text></tag>`, the DMN shape of literal and unary-tests texts; None writes nothing."""
    if text is None:
        return None
    element = sub(parent, tag, **attributes)
    sub(element, "text").text = text
    return element


Extend = Callable[[ET.Element, Extensions], None]


class ExpressionWriter:
    """`extend(element, extensions)` writes an element's vendor extensions; it is called right
    after the element's `<description>`, where DMN puts `<extensionElements>`."""

    def __init__(self, version: str, type_ref: Callable[[str | None], str | None], file: str | None = None,
                 element: str | None = None, extend: Extend | None = None) -> None:
        self.version = version
        self.type_ref = type_ref
        self.file = file
        self.element = element
        self.extend: Extend = extend or (lambda _element, _extensions: None)

    def at_least(self, version: str, feature: str) -> None:
        if _VERSION_ORDER.index(self.version) < _VERSION_ORDER.index(version):
            raise ModelError(Problem(
                f"{feature} needs DMN {version} or later; cannot write DMN {self.version}",
                Location(file=self.file, element=self.element), code="dmn-version",
            ))

    def write(self, parent: ET.Element, expression: Expression, tag: str | None = None) -> ET.Element:
        """Write `expression` under `parent`; `tag` overrides the element name (e.g. encapsulatedLogic)."""
        if isinstance(expression, LiteralExpression):
            element = sub(parent, tag or "literalExpression", id=expression.id,
                          typeRef=self.type_ref(expression.type_ref))
            sub(element, "text").text = expression.text
            if isinstance(expression, Scoring):
                write_scoring(element, expression)
        elif isinstance(expression, DecisionTable):
            element = self._decision_table(parent, expression)
        elif isinstance(expression, Context):
            element = self._context(parent, expression)
        elif isinstance(expression, Scorecard):
            element = self._context(parent, scorecard_context(expression))
            write_scorecard(element, expression)
        elif isinstance(expression, ListExpression):
            element = sub(parent, "list", id=expression.id, typeRef=self.type_ref(expression.type_ref))
            for item in expression.items:
                self.write(element, item)
        elif isinstance(expression, Relation):
            element = self._relation(parent, expression)
        elif isinstance(expression, FunctionDefinition):
            element = self.function(parent, expression, tag or "functionDefinition")
        elif isinstance(expression, Invocation):
            element = self._invocation(parent, expression)
        elif isinstance(expression, Conditional):
            self.at_least("1.4", "a conditional expression")
            element = sub(parent, "conditional", id=expression.id, typeRef=self.type_ref(expression.type_ref))
            self.write(sub(element, "if"), expression.condition)
            self.write(sub(element, "then"), expression.then)
            self.write(sub(element, "else"), expression.otherwise)
        elif isinstance(expression, Filter):
            self.at_least("1.4", "a filter expression")
            element = sub(parent, "filter", id=expression.id, typeRef=self.type_ref(expression.type_ref))
            self.write(sub(element, "in"), expression.source)
            self.write(sub(element, "match"), expression.match)
        else:
            element = self._iterator(parent, expression)
        return element

    def _decision_table(self, parent: ET.Element, table: DecisionTable) -> ET.Element:
        if table.annotation_columns:
            self.at_least("1.2", "a decision table annotation column")
        element = sub(parent, "decisionTable", id=table.id, typeRef=self.type_ref(table.type_ref),
                      hitPolicy=table.hit_policy, aggregation=table.aggregation, outputLabel=table.output_label)
        self.extend(element, table.extensions)
        for clause in table.inputs:
            input_element = sub(element, "input", id=clause.id, label=clause.label)
            self.extend(input_element, clause.extensions)
            expression = sub(input_element, "inputExpression", typeRef=self.type_ref(clause.type_ref))
            sub(expression, "text").text = clause.expression
            text_child(input_element, "inputValues", clause.input_values)
        for output in table.outputs:
            output_element = sub(element, "output", id=output.id, label=output.label, name=output.name,
                                 typeRef=self.type_ref(output.type_ref))
            self.extend(output_element, output.extensions)
            text_child(output_element, "outputValues", output.output_values)
            text_child(output_element, "defaultOutputEntry", output.default_output)
        for name in table.annotation_columns:
            sub(element, "annotation", name=name)
        for rule in table.rules:
            rule_element = sub(element, "rule", id=rule.id)
            if rule.description is not None:
                sub(rule_element, "description").text = rule.description
            self.extend(rule_element, rule.extensions)
            for cell in rule.input_entries:
                text_child(rule_element, "inputEntry", cell)
            for cell in rule.output_entries:
                text_child(rule_element, "outputEntry", cell)
            for cell in rule.annotations:
                text_child(rule_element, "annotationEntry", cell)
        return element

    def _context(self, parent: ET.Element, context: Context) -> ET.Element:
        element = sub(parent, "context", id=context.id, typeRef=self.type_ref(context.type_ref))
        for entry in context.entries:
            entry_element = sub(element, "contextEntry")
            if entry.name is not None:
                sub(entry_element, "variable", name=entry.name, typeRef=self.type_ref(entry.type_ref))
            self.write(entry_element, entry.value)
        return element

    def _relation(self, parent: ET.Element, relation: Relation) -> ET.Element:
        element = sub(parent, "relation", id=relation.id, typeRef=self.type_ref(relation.type_ref))
        for column in relation.columns:
            sub(element, "column", name=column)
        for row in relation.rows:
            row_element = sub(element, "row")
            for cell in row:
                self.write(row_element, cell)
        return element

    def function(self, parent: ET.Element, function: FunctionDefinition, tag: str) -> ET.Element:
        if function.kind != "FEEL" and self.version == "1.1":
            self.at_least("1.2", f"a {function.kind} function definition")
        kind = function.kind if function.kind != "FEEL" else None
        element = sub(parent, tag, id=function.id, typeRef=self.type_ref(function.type_ref), kind=kind)
        for parameter in function.parameters:
            sub(element, "formalParameter", name=parameter.name, typeRef=self.type_ref(parameter.type_ref))
        if function.body is not None:
            self.write(element, function.body)
        return element

    def _invocation(self, parent: ET.Element, invocation: Invocation) -> ET.Element:
        element = sub(parent, "invocation", id=invocation.id, typeRef=self.type_ref(invocation.type_ref))
        sub(sub(element, "literalExpression"), "text").text = invocation.callee
        for binding in invocation.bindings:
            binding_element = sub(element, "binding")
            sub(binding_element, "parameter", name=binding.name)
            if binding.value is not None:
                self.write(binding_element, binding.value)
        return element

    def _iterator(self, parent: ET.Element, iterator: Iterator) -> ET.Element:
        self.at_least("1.4", f"a '{iterator.kind}' expression")
        element = sub(parent, iterator.kind, id=iterator.id, typeRef=self.type_ref(iterator.type_ref),
                      iteratorVariable=iterator.variable)
        self.write(sub(element, "in"), iterator.source)
        self.write(sub(element, "return" if iterator.kind == "for" else "satisfies"), iterator.body)
        return element
