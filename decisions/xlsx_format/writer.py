"""Writing a model as an xlsx workbook: the inverse of the reader (see the package docstring).

A workbook holds input data, types, and decisions whose logic is a decision table or a literal
expression; a model with anything else (business knowledge models, decision services, imports,
boxed expressions, function types) is refused with a `ModelError` naming what does not fit.
Every cell is written as text, never as a formula. The bytes are deterministic: the document's
dates and the zip entries' times are fixed, so the same model gives the same file.
"""

from __future__ import annotations

import io
import re
import zipfile
from datetime import datetime
from typing import Any

from decisions.errors import Location, ModelError, Problem
from decisions.model import (
    DEFAULT_DMN_VERSION,
    BrokenLogic,
    Decision,
    DecisionTable,
    Definitions,
    ItemDefinition,
    LiteralExpression,
    Scoring,
)
from decisions.xlsx_format.layout import (
    COLUMNS_ROW,
    DECISION_MARK,
    INPUT_FIELDS,
    INPUTS_SECTION,
    MODEL_SHEET,
    RULES_ROW,
    TYPE_FIELDS,
    TYPES_SECTION,
)

_FIXED_TIME = datetime(2000, 1, 1)
_MODIFIED = re.compile(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)")
_TITLE_FORBIDDEN = str.maketrans({c: "_" for c in "[]:*?/\\"})


def write_xlsx(defs: Definitions) -> bytes:
    """The workbook of `defs`; `read_xlsx` gives the same model back (source positions aside)."""
    from openpyxl import Workbook

    _check_fits(defs)
    workbook = Workbook()
    model_sheet = workbook.active
    assert model_sheet is not None
    model_sheet.title = MODEL_SHEET
    _model_sheet(model_sheet, defs)
    titles = {MODEL_SHEET.lower()}
    for decision in defs.decisions:
        sheet = workbook.create_sheet(_sheet_title(decision.name, titles))
        _decision_sheet(sheet, decision)
    workbook.properties.creator = "Decisionary"
    workbook.properties.created = _FIXED_TIME
    workbook.properties.modified = _FIXED_TIME
    buffer = io.BytesIO()
    workbook.save(buffer)
    return _fixed_times(buffer.getvalue())


def _check_fits(defs: Definitions) -> None:
    where = Location(file=defs.source.file)
    problems: list[str] = []
    if defs.knowledge_models:
        problems.append(f"business knowledge models ({', '.join(k.name for k in defs.knowledge_models)})")
    if defs.services:
        problems.append(f"decision services ({', '.join(s.name for s in defs.services)})")
    if defs.imports:
        problems.append(f"imports ({', '.join(i.name for i in defs.imports)})")
    for decision in defs.decisions:
        if isinstance(decision.logic, BrokenLogic):  # its meaning is unknown: nothing to put in a sheet
            problems.append(f"decision '{decision.name}', whose logic could not be read from {decision.logic.format}")
        elif decision.logic is not None and (not isinstance(decision.logic, LiteralExpression | DecisionTable)
                                           or isinstance(decision.logic, Scoring)):  # a workbook has no place for its metadata
            problems.append(f"decision '{decision.name}', whose logic is a {type(decision.logic).__name__}")
        if decision.required_knowledge:
            problems.append(f"decision '{decision.name}', which requires knowledge")

    def check_item(item: ItemDefinition, top: bool) -> None:
        if item.function_parameters is not None or item.function_output is not None:
            problems.append(f"function type '{item.name}'")
        if "." in item.name and (item.components or not top):
            problems.append(f"type '{item.name}', whose name holds a '.' and which has or is a component")
        for component in item.components:
            check_item(component, False)

    for item in defs.item_definitions:
        check_item(item, True)
    if problems:
        raise ModelError([Problem(f"a workbook cannot hold {what}: use DMN or YAML for this model", where,
                                  code="xlsx-unsupported") for what in problems])


def _sheet_title(name: str, taken: set[str]) -> str:
    base = name.translate(_TITLE_FORBIDDEN).strip().strip("'")[:31] or "Decision"
    title, n = base, 1
    while title.lower() in taken:
        n += 1
        suffix = f" ({n})"
        title = base[:31 - len(suffix)] + suffix
    taken.add(title.lower())
    return title


def _put(sheet: Any, row: int, column: int, text: str | None) -> None:
    """Write one cell as text (a text starting with '=' stays text, not a formula)."""
    if text is None or text == "":
        return
    from openpyxl.utils.exceptions import IllegalCharacterError

    cell = sheet.cell(row=row, column=column)
    try:
        cell.value = text
    except IllegalCharacterError:
        raise ModelError(Problem(f"the text {text!r} holds a control character a workbook cannot store",
                                 Location(path=f"{sheet.title}!{cell.coordinate}"), code="xlsx")) from None
    cell.data_type = "s"


def _row(sheet: Any, row: int, texts: list[str | None]) -> None:
    for column, text in enumerate(texts, 1):
        _put(sheet, row, column, text)


def _model_sheet(sheet: Any, defs: Definitions) -> None:
    values: list[tuple[str, str | None]] = [
        ("model", defs.name), ("namespace", defs.namespace or None), ("id", defs.id),
        ("dmn version", defs.dmn_version if defs.dmn_version != DEFAULT_DMN_VERSION else None),
        ("key", defs.key),
        ("business key", defs.business_key), ("description", defs.description),
        ("expression language", defs.expression_language),
    ]
    row = 1
    for key, value in values:
        if value is not None or key == "model":
            _row(sheet, row, [key, value])
            row += 1
    row -= 1  # the last row written; each section follows a blank row
    if defs.inputs:
        row += 2
        _row(sheet, row, [INPUTS_SECTION, *INPUT_FIELDS])
        for data in defs.inputs:
            row += 1
            _row(sheet, row, [data.name, data.type_ref, data.description, data.id])
    if defs.item_definitions:
        row += 2
        _row(sheet, row, [TYPES_SECTION, *TYPE_FIELDS])

        def item_rows(item: ItemDefinition, parent: str | None) -> None:
            nonlocal row
            row += 1
            _row(sheet, row, [item.name, item.type_ref, parent, item.allowed_values, item.type_constraint,
                              "true" if item.is_collection else None, item.id])
            path = item.name if parent is None else f"{parent}.{item.name}"
            for component in item.components:
                item_rows(component, path)

        for item in defs.item_definitions:
            item_rows(item, None)
    sheet.column_dimensions["A"].width = 22
    for letter in "BCDEFG":
        sheet.column_dimensions[letter].width = 18


def _decision_sheet(sheet: Any, decision: Decision) -> None:
    from openpyxl.utils import get_column_letter

    row = 0

    def line(key: str, value: str | None) -> None:
        nonlocal row
        if value is not None:
            row += 1
            _row(sheet, row, [key, value])

    row += 1
    _row(sheet, row, [DECISION_MARK, decision.name])
    line("id", decision.id)
    line("type", decision.type_ref)
    line("description", decision.description)
    line("question", decision.question)
    line("allowed answers", decision.allowed_answers)
    requires = decision.required_inputs + decision.required_decisions
    if requires:
        row += 1
        _row(sheet, row, ["requires", *requires])
    logic = decision.logic
    sheet.column_dimensions["A"].width = 14
    if isinstance(logic, LiteralExpression):
        line("expression", logic.text)
        line("expression type", logic.type_ref)
        line("expression id", logic.id)
        sheet.column_dimensions["B"].width = 60
        return
    if not isinstance(logic, DecisionTable):
        return
    table = logic
    line("hit policy", table.hit_policy + (f" {table.aggregation}" if table.aggregation else ""))
    line("output label", table.output_label)
    line("table type", table.type_ref)
    line("table id", table.id)
    row += 2
    described = any(rule.description is not None for rule in table.rules)
    kinds = (["input"] * len(table.inputs) + ["output"] * len(table.outputs)
             + ["annotation"] * len(table.annotation_columns) + (["description"] if described else []))
    _row(sheet, row, [COLUMNS_ROW, *kinds])
    none_out: list[str | None] = [None] * len(table.outputs)
    none_in: list[str | None] = [None] * len(table.inputs)
    none_notes: list[str | None] = [None] * len(table.annotation_columns)
    clause_rows: list[tuple[str, list[str | None]]] = [
        ("label", [c.label for c in table.inputs] + [o.label for o in table.outputs]),
        ("expression", [c.expression for c in table.inputs]),
        ("name", none_in + [o.name for o in table.outputs] + list(table.annotation_columns)),
        ("type", [c.type_ref for c in table.inputs] + [o.type_ref for o in table.outputs]),
        ("values", [c.input_values for c in table.inputs] + [o.output_values for o in table.outputs]),
        ("default", none_in + [o.default_output for o in table.outputs]),
        ("id", [c.id for c in table.inputs] + [o.id for o in table.outputs]),
    ]
    del none_out, none_notes
    for key, texts in clause_rows:
        if any(text is not None for text in texts) or key in ("expression", "type"):
            row += 1
            _row(sheet, row, [key, *texts])
    row += 1
    _row(sheet, row, [RULES_ROW])
    for rule in table.rules:
        row += 1
        cells: list[str | None] = [rule.id, *rule.input_entries, *rule.output_entries, *rule.annotations]
        if described:
            cells.append(rule.description)
        _row(sheet, row, cells)
    for column in range(2, len(kinds) + 2):
        sheet.column_dimensions[get_column_letter(column)].width = 20


def _fixed_times(data: bytes) -> bytes:
    """The same zip with every entry dated 1980-01-01 and the document's modification time fixed
    (openpyxl sets it to now when saving), so equal models give equal bytes."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = info.external_attr
            content = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                content = _MODIFIED.sub(rb"\g<1>2000-01-01T00:00:00Z\g<2>", content)
            target.writestr(entry, content)
    return out.getvalue()
