"""What changed between two versions of a model, for a reviewer.

`diff_definitions(old, new)` compares two parsed models (`decisions.model.Definitions`):
- input data, decisions and business knowledge models added and removed (by name);
- for each element in both: its logic. Decision tables are compared rule by rule and cell by
  cell; literal expressions by their text; other expression kinds report that they changed.
  Type and requirement changes are listed as notes.

Rules of a table are matched by their ids when the ids are stable (every rule of both tables
has one, they are unique, and the two versions share at least one), else by position in rule
order, aligned so that one inserted or deleted rule does not make every later rule "changed".
`TableDiff.matched_by` says which was used. Source positions and element ids never count as
changes: reformatting a file, or converting it between DMN and YAML, changes nothing here.
"""

from __future__ import annotations

import dataclasses
import difflib
from dataclasses import dataclass, field
from typing import Any, Literal

from decisions.model import (
    BrokenLogic,
    BusinessKnowledgeModel,
    Decision,
    DecisionTable,
    Definitions,
    Expression,
    FunctionDefinition,
    LiteralExpression,
    Rule,
    Scoring,
)

MatchBy = Literal["id", "position"]
CellKind = Literal["input", "output", "annotation", "description"]
ElementKind = Literal["decision", "knowledge"]


@dataclass(frozen=True)
class CellChange:
    column: str  # the column's title (input label or expression, output name, annotation name)
    kind: CellKind
    old: str | None  # None: the column is not in the old version
    new: str | None  # None: the column is not in the new version

    def to_dict(self) -> dict[str, Any]:
        return {"column": self.column, "kind": self.kind, "old": self.old, "new": self.new}


@dataclass(frozen=True)
class RuleRef:
    number: int  # 1-based, in the version the rule belongs to
    id: str | None
    cells: dict[str, str]  # column title -> cell text

    def to_dict(self) -> dict[str, Any]:
        return {"number": self.number, "id": self.id, "cells": dict(self.cells)}


@dataclass(frozen=True)
class RuleChange:
    old_number: int
    new_number: int
    id: str | None
    cells: list[CellChange]

    def to_dict(self) -> dict[str, Any]:
        return {"old_number": self.old_number, "new_number": self.new_number, "id": self.id,
                "cells": [c.to_dict() for c in self.cells]}


@dataclass(frozen=True)
class TableDiff:
    matched_by: MatchBy
    hit_policy: tuple[str, str] | None = None  # (old, new) when it changed
    columns_added: list[str] = field(default_factory=list)  # "input 'Age'"
    columns_removed: list[str] = field(default_factory=list)
    columns_changed: list[str] = field(default_factory=list)  # same title, other definition
    rules_added: list[RuleRef] = field(default_factory=list)
    rules_removed: list[RuleRef] = field(default_factory=list)
    rules_changed: list[RuleChange] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.hit_policy or self.columns_added or self.columns_removed or self.columns_changed
                    or self.rules_added or self.rules_removed or self.rules_changed)

    def to_dict(self) -> dict[str, Any]:
        return {
            "matched_by": self.matched_by,
            "hit_policy": list(self.hit_policy) if self.hit_policy else None,
            "columns_added": list(self.columns_added), "columns_removed": list(self.columns_removed),
            "columns_changed": list(self.columns_changed),
            "rules_added": [r.to_dict() for r in self.rules_added],
            "rules_removed": [r.to_dict() for r in self.rules_removed],
            "rules_changed": [r.to_dict() for r in self.rules_changed],
        }


@dataclass(frozen=True)
class ElementChange:
    name: str
    element: ElementKind
    old_kind: str  # "decision table", "literal expression", ..., or "none"
    new_kind: str
    table: TableDiff | None = None  # both versions are decision tables
    old_text: str | None = None  # literal expressions: the text before and after
    new_text: str | None = None
    notes: list[str] = field(default_factory=list)  # everything else, one line each

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "element": self.element, "old_kind": self.old_kind,
                "new_kind": self.new_kind, "table": self.table.to_dict() if self.table else None,
                "old_text": self.old_text, "new_text": self.new_text, "notes": list(self.notes)}


@dataclass(frozen=True)
class ModelDiff:
    inputs_added: list[str] = field(default_factory=list)
    inputs_removed: list[str] = field(default_factory=list)
    inputs_changed: list[str] = field(default_factory=list)  # "'Age': type number -> string"
    decisions_added: list[str] = field(default_factory=list)
    decisions_removed: list[str] = field(default_factory=list)
    knowledge_added: list[str] = field(default_factory=list)
    knowledge_removed: list[str] = field(default_factory=list)
    changed: list[ElementChange] = field(default_factory=list)  # decisions and BKMs in both

    @property
    def identical(self) -> bool:
        return not (self.inputs_added or self.inputs_removed or self.inputs_changed or self.decisions_added
                    or self.decisions_removed or self.knowledge_added or self.knowledge_removed
                    or self.changed)

    def to_dict(self) -> dict[str, Any]:
        return {
            "identical": self.identical,
            "inputs_added": list(self.inputs_added), "inputs_removed": list(self.inputs_removed),
            "inputs_changed": list(self.inputs_changed),
            "decisions_added": list(self.decisions_added), "decisions_removed": list(self.decisions_removed),
            "knowledge_added": list(self.knowledge_added), "knowledge_removed": list(self.knowledge_removed),
            "changed": [c.to_dict() for c in self.changed],
        }

    def summary(self) -> list[str]:
        """One readable line per change, for a terminal or a review comment."""
        lines: list[str] = []
        for label, names in (("input added", self.inputs_added), ("input removed", self.inputs_removed),
                             ("decision added", self.decisions_added),
                             ("decision removed", self.decisions_removed),
                             ("knowledge model added", self.knowledge_added),
                             ("knowledge model removed", self.knowledge_removed)):
            lines.extend(f"{label}: {name}" for name in names)
        lines.extend(f"input changed: {note}" for note in self.inputs_changed)
        for change in self.changed:
            lines.extend(_summarise(change))
        return lines


# --- the comparison ---------------------------------------------------------------------


def diff_definitions(old: Definitions, new: Definitions) -> ModelDiff:
    old_inputs = {i.name: i for i in old.inputs}
    new_inputs = {i.name: i for i in new.inputs}
    inputs_changed = [f"{name!r}: type {old_inputs[name].type_ref} -> {new_inputs[name].type_ref}"
                      for name in old_inputs if name in new_inputs
                      and old_inputs[name].type_ref != new_inputs[name].type_ref]
    old_decisions = {d.name: d for d in old.decisions}
    new_decisions = {d.name: d for d in new.decisions}
    old_bkms = {b.name: b for b in old.knowledge_models}
    new_bkms = {b.name: b for b in new.knowledge_models}
    changed: list[ElementChange] = []
    for name, decision in new_decisions.items():
        if name in old_decisions:
            change = _diff_decision(old_decisions[name], decision)
            if change is not None:
                changed.append(change)
    for name, bkm in new_bkms.items():
        if name in old_bkms:
            change = _diff_knowledge(old_bkms[name], bkm)
            if change is not None:
                changed.append(change)
    return ModelDiff(
        inputs_added=_added(old_inputs, new_inputs), inputs_removed=_added(new_inputs, old_inputs),
        inputs_changed=inputs_changed,
        decisions_added=_added(old_decisions, new_decisions),
        decisions_removed=_added(new_decisions, old_decisions),
        knowledge_added=_added(old_bkms, new_bkms), knowledge_removed=_added(new_bkms, old_bkms),
        changed=changed,
    )


def _added(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    return [name for name in after if name not in before]


def _diff_decision(old: Decision, new: Decision) -> ElementChange | None:
    notes: list[str] = []
    if old.type_ref != new.type_ref:
        notes.append(f"type {old.type_ref} -> {new.type_ref}")
    for label, before, after in (("input", old.required_inputs, new.required_inputs),
                                 ("decision", old.required_decisions, new.required_decisions),
                                 ("knowledge", old.required_knowledge, new.required_knowledge)):
        notes.extend(_requirement_notes(label, before, after))
    return _diff_logic(new.name, "decision", old.logic, new.logic, notes)


def _diff_knowledge(old: BusinessKnowledgeModel, new: BusinessKnowledgeModel) -> ElementChange | None:
    notes: list[str] = []
    old_params = [(p.name, p.type_ref) for p in old.logic.parameters] if old.logic else []
    new_params = [(p.name, p.type_ref) for p in new.logic.parameters] if new.logic else []
    if old_params != new_params:
        notes.append(f"parameters {_params(old_params)} -> {_params(new_params)}")
    old_body = _body(old.logic)
    new_body = _body(new.logic)
    return _diff_logic(new.name, "knowledge", old_body, new_body, notes)


def _body(logic: FunctionDefinition | BrokenLogic | None) -> Expression | BrokenLogic | None:
    """A knowledge model's logic as compared: its function's body, or what could not be read."""
    return logic.body if isinstance(logic, FunctionDefinition) else logic


def _params(params: list[tuple[str, str | None]]) -> str:
    return "(" + ", ".join(f"{n}: {t}" if t else n for n, t in params) + ")"


def _requirement_notes(label: str, before: list[str], after: list[str]) -> list[str]:
    added = [n for n in after if n not in before]
    removed = [n for n in before if n not in after]
    notes = [f"now requires {label} {n!r}" for n in added]
    notes.extend(f"no longer requires {label} {n!r}" for n in removed)
    return notes


def _diff_logic(name: str, element: ElementKind, old: Expression | BrokenLogic | None,
                new: Expression | BrokenLogic | None, notes: list[str]) -> ElementChange | None:
    old_kind, new_kind = expression_kind(old), expression_kind(new)
    if isinstance(old, BrokenLogic) and isinstance(new, BrokenLogic):  # what was written, not where
        if (old.xml, old.yaml) != (new.xml, new.yaml):
            notes.append("the logic that could not be read changed")
        return ElementChange(name, element, old_kind, new_kind, notes=notes) if notes else None
    if isinstance(old, DecisionTable) and isinstance(new, DecisionTable):
        table = diff_tables(old, new)
        if not table.changed and not notes:
            return None
        return ElementChange(name, element, old_kind, new_kind, table=table, notes=notes)
    if isinstance(old, LiteralExpression) and isinstance(new, LiteralExpression) and old_kind == new_kind:
        if old.type_ref != new.type_ref:
            notes.append(f"expression type {old.type_ref} -> {new.type_ref}")
        if isinstance(old, Scoring) and isinstance(new, Scoring):
            for part in ("constants", "baseline", "monotonic", "domain", "reasons"):
                before, after = getattr(old, part), getattr(new, part)
                if before != after:
                    notes.append(f"scoring {part} {before} -> {after}")
        if old.text.strip() == new.text.strip() and not notes:
            return None
        texts = (old.text, new.text) if old.text.strip() != new.text.strip() else (None, None)
        return ElementChange(name, element, old_kind, new_kind, old_text=texts[0], new_text=texts[1],
                             notes=notes)
    if old_kind != new_kind:
        return ElementChange(
            name, element, old_kind, new_kind,
            old_text=old.text if isinstance(old, LiteralExpression) else None,
            new_text=new.text if isinstance(new, LiteralExpression) else None,
            notes=[f"logic changed from {old_kind} to {new_kind}", *notes],
        )
    if plain(old) != plain(new):
        notes.append(f"the {new_kind} changed")
    if not notes:
        return None
    return ElementChange(name, element, old_kind, new_kind, notes=notes)


def expression_kind(expression: Expression | BrokenLogic | None) -> str:
    """A readable name of an expression's kind: "decision table", "literal expression", ..."""
    if expression is None:
        return "none"
    words = [w.lower() for w in _split_camel(type(expression).__name__)]
    return " ".join(words)


def _split_camel(name: str) -> list[str]:
    words: list[str] = []
    for char in name:
        if char.isupper() and words:
            words.append(char)
        elif words:
            words[-1] += char
        else:
            words.append(char)
    return words


# --- decision tables --------------------------------------------------------------------

Column = tuple[CellKind, str]


def diff_tables(old: DecisionTable, new: DecisionTable) -> TableDiff:
    """Rules added, removed and changed cell by cell (see the module docstring for matching)."""
    old_columns, new_columns = _columns(old), _columns(new)
    old_defs, new_defs = _column_definitions(old), _column_definitions(new)
    columns_added = [_column_label(c) for c in new_columns if c not in old_columns]
    columns_removed = [_column_label(c) for c in old_columns if c not in new_columns]
    columns_changed = [f"{_column_label(c)}: {old_defs[c]} -> {new_defs[c]}"
                       for c in new_columns if c in old_defs and old_defs[c] != new_defs[c]]
    hit_policy = None
    old_policy, new_policy = _policy(old), _policy(new)
    if old_policy != new_policy:
        hit_policy = (old_policy, new_policy)
    all_columns = old_columns + [c for c in new_columns if c not in old_columns]
    old_cells = [_cells(old, rule) for rule in old.rules]
    new_cells = [_cells(new, rule) for rule in new.rules]
    matched_by: MatchBy = "id" if _ids_are_stable(old.rules, new.rules) else "position"
    if matched_by == "id":
        pairs, removed, added = _match_by_id(old.rules, new.rules)
    else:
        pairs, removed, added = _match_by_position(old_cells, new_cells)
    changes: list[RuleChange] = []
    for i, j in pairs:
        cells = [CellChange(col[1], col[0], old_cells[i].get(col), new_cells[j].get(col))
                 for col in all_columns + [("description", "description")]
                 if _norm(old_cells[i].get(col)) != _norm(new_cells[j].get(col))]
        if cells:
            changes.append(RuleChange(i + 1, j + 1, new.rules[j].id or old.rules[i].id, cells))
    return TableDiff(
        matched_by=matched_by, hit_policy=hit_policy, columns_added=columns_added,
        columns_removed=columns_removed, columns_changed=columns_changed,
        rules_added=[_ref(new, j, new_cells[j]) for j in added],
        rules_removed=[_ref(old, i, old_cells[i]) for i in removed],
        rules_changed=changes,
    )


def _policy(table: DecisionTable) -> str:
    return f"{table.hit_policy} {table.aggregation}" if table.aggregation else table.hit_policy


def _columns(table: DecisionTable) -> list[Column]:
    columns: list[Column] = [("input", c.title) for c in table.inputs]
    columns.extend(("output", c.title) for c in table.outputs)
    columns.extend(("annotation", name) for name in table.annotation_columns)
    return columns


def _column_definitions(table: DecisionTable) -> dict[Column, str]:
    definitions: dict[Column, str] = {}
    for clause in table.inputs:
        definitions[("input", clause.title)] = _describe(
            expression=clause.expression, type=clause.type_ref, values=clause.input_values)
    for out in table.outputs:
        definitions[("output", out.title)] = _describe(
            type=out.type_ref, values=out.output_values, default=out.default_output)
    for name in table.annotation_columns:
        definitions[("annotation", name)] = ""
    return definitions


def _describe(**parts: str | None) -> str:
    return ", ".join(f"{k} {v!r}" for k, v in parts.items() if v is not None) or "(plain)"


def _column_label(column: Column) -> str:
    return f"{column[0]} {column[1]!r}"


def _cells(table: DecisionTable, rule: Rule) -> dict[Column, str]:
    cells: dict[Column, str] = {}
    for clause, text in zip(table.inputs, rule.input_entries, strict=False):
        cells[("input", clause.title)] = text
    for out, text in zip(table.outputs, rule.output_entries, strict=False):
        cells[("output", out.title)] = text
    for name, text in zip(table.annotation_columns, rule.annotations, strict=False):
        cells[("annotation", name)] = text
    if rule.description:
        cells[("description", "description")] = rule.description
    return cells


def _norm(text: str | None) -> str | None:
    if text is None:
        return None
    stripped = text.strip()
    return "-" if stripped == "" else stripped  # an empty input entry means "any", as "-" does


def _ids_are_stable(old: list[Rule], new: list[Rule]) -> bool:
    old_ids = [r.id for r in old]
    new_ids = [r.id for r in new]
    if not old_ids or not new_ids or None in old_ids or None in new_ids:
        return False
    if len(set(old_ids)) != len(old_ids) or len(set(new_ids)) != len(new_ids):
        return False
    return bool(set(old_ids) & set(new_ids))


def _match_by_id(old: list[Rule], new: list[Rule]) -> tuple[list[tuple[int, int]], list[int], list[int]]:
    new_index = {r.id: j for j, r in enumerate(new)}
    old_ids = {r.id for r in old}
    pairs = [(i, new_index[r.id]) for i, r in enumerate(old) if r.id in new_index]
    removed = [i for i, r in enumerate(old) if r.id not in new_index]
    added = [j for j, r in enumerate(new) if r.id not in old_ids]
    return pairs, removed, added


def _match_by_position(
    old: list[dict[Column, str]], new: list[dict[Column, str]]
) -> tuple[list[tuple[int, int]], list[int], list[int]]:
    def signature(cells: dict[Column, str]) -> tuple[tuple[str, str, str | None], ...]:
        return tuple(sorted((kind, title, _norm(text)) for (kind, title), text in cells.items()))

    matcher = difflib.SequenceMatcher(a=[signature(c) for c in old], b=[signature(c) for c in new],
                                      autojunk=False)
    pairs: list[tuple[int, int]] = []
    removed: list[int] = []
    added: list[int] = []
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal" or op == "replace":
            count = min(i2 - i1, j2 - j1)
            pairs.extend((i1 + k, j1 + k) for k in range(count))
            removed.extend(range(i1 + count, i2))
            added.extend(range(j1 + count, j2))
        elif op == "delete":
            removed.extend(range(i1, i2))
        elif op == "insert":
            added.extend(range(j1, j2))
    return pairs, removed, added


def _ref(table: DecisionTable, index: int, cells: dict[Column, str]) -> RuleRef:
    return RuleRef(index + 1, table.rules[index].id, {title: text for (_, title), text in cells.items()})


# --- helpers ----------------------------------------------------------------------------


def plain(value: Any) -> Any:
    """A model element as plain data without source positions and ids, for equality."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return (type(value).__name__, {f.name: plain(getattr(value, f.name))
                                       for f in dataclasses.fields(value) if f.name not in ("source", "id")})
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def _summarise(change: ElementChange) -> list[str]:
    what = f"{change.element} {change.name!r}"
    lines = [f"{what}: {note}" for note in change.notes]
    if change.old_text is not None or change.new_text is not None:
        lines.append(f"{what}: expression {change.old_text!r} -> {change.new_text!r}")
    table = change.table
    if table is not None:
        if table.hit_policy:
            lines.append(f"{what}: hit policy {table.hit_policy[0]} -> {table.hit_policy[1]}")
        lines.extend(f"{what}: column added: {c}" for c in table.columns_added)
        lines.extend(f"{what}: column removed: {c}" for c in table.columns_removed)
        lines.extend(f"{what}: column changed: {c}" for c in table.columns_changed)
        lines.extend(f"{what}: rule {r.number} added: {_row(r.cells)}" for r in table.rules_added)
        lines.extend(f"{what}: rule {r.number} removed: {_row(r.cells)}" for r in table.rules_removed)
        for rule in table.rules_changed:
            cells = "; ".join(f"{c.column}: {c.old!r} -> {c.new!r}" for c in rule.cells)
            number = (str(rule.new_number) if rule.old_number == rule.new_number
                      else f"{rule.old_number} (now {rule.new_number})")
            lines.append(f"{what}: rule {number} changed: {cells} (matched by {table.matched_by})")
    return lines


def _row(cells: dict[str, str]) -> str:
    return " | ".join(f"{k}: {v}" for k, v in cells.items())
