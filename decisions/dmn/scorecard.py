"""A points scorecard in DMN: a plain boxed context, marked with `<decisionary:scorecard>`.

    <context>
      <extensionElements>
        <decisionary:scorecard xmlns:decisionary="https://decisionary.dev/dmn/extensions" base="350" reasons="2">
          <decisionary:characteristic name="Age" code="AGE"/>
        </decisionary:scorecard>
      </extensionElements>
      <contextEntry>
        <variable name="Age"/>
        <decisionTable hitPolicy="COLLECT" aggregation="SUM">
          <input><inputExpression><text>Applicant Age</text></inputExpression></input>
          <output name="points"/>
          <rule><inputEntry><text>&lt; 25</text></inputEntry><outputEntry><text>10</text></outputEntry></rule>
          ...
        </decisionTable>
      </contextEntry>
      ...
      <contextEntry><literalExpression><text>350 + Age + Income</text></literalExpression></contextEntry>
    </context>

One entry per characteristic, whose value is its COLLECT SUM table (`decisions.scorecard.
characteristic_table`), and a final result entry adding the base and every characteristic:
any DMN engine evaluates it to the same score. `<decisionary:characteristic>` carries a
characteristic's reason code (only those that have one are listed); `reasons` defaults to 3.

Reading it back, the context must still have that shape (another tool may have edited it): a
table per entry with one input, one output, COLLECT SUM and no allowed values or default, and
the result entry `base + <entries in order>`. Anything else is an error naming the entry. Ids,
labels, types, annotations and descriptions of the tables and rules are not part of a
scorecard and are dropped.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from decisions.dmn.namespaces import DECISIONARY_EXTENSIONS_NAMESPACE
from decisions.dmn.xml_scope import XmlScope
from decisions.model import (
    Bin,
    Characteristic,
    Context,
    ContextEntry,
    DecisionTable,
    LiteralExpression,
    Scorecard,
)
from decisions.scorecard import characteristic_table, is_points, result_text

_TAG = f"{{{DECISIONARY_EXTENSIONS_NAMESPACE}}}scorecard"
_CHARACTERISTIC = f"{{{DECISIONARY_EXTENSIONS_NAMESPACE}}}characteristic"
_CODE = "dmn-scorecard"


def scorecard_context(card: Scorecard) -> Context:
    """The boxed context a scorecard is in DMN (without its extension element)."""
    entries = [ContextEntry(c.name, characteristic_table(c)) for c in card.characteristics]
    entries.append(ContextEntry(None, LiteralExpression(result_text(card))))
    return Context(entries, card.type_ref, card.id)


def write_scorecard(element: ET.Element, card: Scorecard) -> None:
    """Put `<decisionary:scorecard>` into `element` (the scorecard's context), before its entries."""
    extensions = ET.Element("extensionElements")
    attributes = {"xmlns:decisionary": DECISIONARY_EXTENSIONS_NAMESPACE, "base": card.base}
    if card.reasons != 3:
        attributes["reasons"] = str(card.reasons)
    holder = ET.SubElement(extensions, "decisionary:scorecard", attributes)
    for characteristic in card.characteristics:
        if characteristic.code is not None:
            ET.SubElement(holder, "decisionary:characteristic", {"name": characteristic.name,
                                                                  "code": characteristic.code})
    element.insert(0, extensions)


def read_scorecard(scope: XmlScope, element: ET.Element, path: str, context: Context) -> Context | Scorecard:
    """`context` as a `Scorecard` when `element` carries `<decisionary:scorecard>`, else `context` itself."""
    found = [child for extensions in scope.all(element, "extensionElements") for child in extensions
             if child.tag == _TAG]
    if not found:
        return context
    if len(found) > 1:
        raise scope.error("a context has several <decisionary:scorecard> elements; expected one", found[1], path,
                          code=_CODE)
    holder = found[0]
    where = f"{path}/extensionElements/scorecard"
    base = (holder.get("base") or "").strip()
    if not is_points(base):
        raise scope.error(f"<decisionary:scorecard> needs base, a number, not {base!r}", holder, where, code=_CODE)
    reasons = (holder.get("reasons") or "3").strip()
    if not reasons.isdigit() or int(reasons) < 1:
        raise scope.error(f"reasons must be a whole number of at least 1, not {reasons!r}", holder, where,
                          code=_CODE)
    card = Scorecard(base, [], int(reasons), context.type_ref, context.id, scope.source(element))
    named = [entry for entry in context.entries if entry.name is not None]
    for entry in named:
        card.characteristics.append(_characteristic(scope, element, path, entry))
    expected = result_text(card)
    last = context.entries[-1] if context.entries else None
    text = last.value.text if last is not None and isinstance(last.value, LiteralExpression) else None
    if len(context.entries) != len(named) + 1 or last is None or last.name is not None or text is None \
            or " ".join(text.split()) != expected:
        shown = "none" if text is None or last is None or last.name is not None else repr(text)
        raise scope.error(f"a scorecard's context ends with the result entry {expected!r} (the base and each "
                          f"characteristic, in order); found {shown}", element, path, code=_CODE)
    codes = {c.name: c for c in card.characteristics}
    for child in holder:
        if child.tag != _CHARACTERISTIC:
            tag = child.tag if isinstance(child.tag, str) else ""
            raise scope.error(f"unknown element <{tag.rpartition('}')[2] or tag}> in <decisionary:scorecard>; "
                              "expected <decisionary:characteristic>", child, where, code=_CODE)
        name, code = child.get("name"), child.get("code")
        if name is None or code is None:
            raise scope.error("<decisionary:characteristic> needs the attributes name, code", child, where,
                              code=_CODE)
        if name not in codes:
            raise scope.error(f"<decisionary:characteristic> names '{name}', which is not an entry of the "
                              f"scorecard's context; its entries: {', '.join(codes) or 'none'}", child, where,
                              code=_CODE)
        codes[name].code = code
    return card


def _characteristic(scope: XmlScope, element: ET.Element, path: str, entry: ContextEntry) -> Characteristic:
    assert entry.name is not None
    at = f"{path}/contextEntry[{entry.name!r}]"
    table = entry.value
    what = f"scorecard characteristic '{entry.name}'"
    if not isinstance(table, DecisionTable):
        raise scope.error(f"{what} must be a decision table, not a {type(table).__name__}", element, at,
                          code=_CODE)
    if table.hit_policy != "COLLECT" or table.aggregation != "SUM":
        policy = table.hit_policy + (f" {table.aggregation}" if table.aggregation else "")
        raise scope.error(f"{what} must be a COLLECT SUM table, not {policy}", element, at, code=_CODE)
    if len(table.inputs) != 1 or len(table.outputs) != 1:
        raise scope.error(f"{what} must have one input and one output, not {len(table.inputs)} and "
                          f"{len(table.outputs)}", element, at, code=_CODE)
    clause, output = table.inputs[0], table.outputs[0]
    if clause.input_values or output.output_values or output.default_output:
        raise scope.error(f"{what}: a scorecard's table has no allowed values and no default output", element, at,
                          code=_CODE)
    bins = [Bin(rule.input_entries[0], rule.output_entries[0], rule.source) for rule in table.rules]
    return Characteristic(entry.name, clause.expression, bins, source=table.source)
