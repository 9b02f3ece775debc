"""Reading a model from an xlsx workbook into the same `Definitions` the DMN and YAML readers give.

The workbook is untrusted: its zip directory is checked against size bounds before openpyxl
unpacks it, openpyxl reads its XML through defusedxml, and any failure to open it becomes a
`ModelError`. Cell text is only ever read as text: formulas are refused, never evaluated.
Every problem is located as `Sheet!C7`: the reader's own at once, and the compiler's (decision,
rule, column: a FEEL text that does not parse, say) through `Source.locate_problem`, which maps
them back to their cells.
"""

from __future__ import annotations

import io
import warnings
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import partial
from typing import Any, cast

from decisions.errors import Location, ModelError, Problem
from decisions.limits import MAX_CELLS, MAX_MEMBERS, MAX_UNPACKED_BYTES
from decisions.model import (
    AGGREGATIONS,
    HIT_POLICIES,
    Aggregation,
    Decision,
    DecisionTable,
    Definitions,
    HitPolicy,
    InputClause,
    InputData,
    ItemDefinition,
    LiteralExpression,
    OutputClause,
    Rule,
    Source,
)
from decisions.xlsx_format.layout import (
    CLAUSE_ROWS,
    COLUMN_KINDS,
    COLUMNS_ROW,
    DECISION_KEYS,
    DECISION_MARK,
    INPUT_FIELDS,
    INPUTS_SECTION,
    MODEL_KEYS,
    MODEL_MARK,
    RULES_ROW,
    TYPE_FIELDS,
    TYPES_SECTION,
)
from decisions.yaml_format.vocabulary import HIT_POLICY_ABBREVIATIONS, SUPPORTED_DMN_VERSIONS


def read_xlsx(data: bytes, *, file: str | None = None) -> Definitions:
    """Read a workbook (its bytes). Errors are `ModelError`s naming the sheet and cell."""
    workbook = open_workbook(data, file)
    reader = _WorkbookReader(file)
    defs = reader.read(workbook)
    defs.source.locate_problem = partial(reader.cells.locate, file)
    return defs


def open_workbook(data: bytes, file: str | None = None) -> Any:
    """The openpyxl workbook of `data`, after checking the zip is a bounded xlsx package."""
    where = Location(file=file)
    if not isinstance(data, bytes | bytearray):
        raise ModelError(Problem("an xlsx workbook must be given as bytes or a file path, not text", where,
                                 code="xlsx"))
    if not bytes(data[:4]) == b"PK\x03\x04":
        raise ModelError(Problem("not an xlsx workbook: the content is not a zip package", where, code="xlsx"))
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as package:
            members = package.infolist()
            names = {member.filename for member in members}
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
        raise ModelError(Problem(f"not an xlsx workbook: the zip package is damaged ({exc})", where,
                                 code="xlsx")) from None
    if len(members) > MAX_MEMBERS:
        raise ModelError(Problem(f"not an xlsx workbook: the package holds {len(members)} files "
                                 f"(at most {MAX_MEMBERS})", where, code="too-large"))
    unpacked = sum(member.file_size for member in members)
    if unpacked > MAX_UNPACKED_BYTES:
        raise ModelError(Problem(f"the workbook unpacks to {unpacked:,} bytes, more than "
                                 f"{MAX_UNPACKED_BYTES // 2**20} MiB", where, code="too-large"))
    if "xl/workbook.xml" not in names or "[Content_Types].xml" not in names:
        raise ModelError(Problem("not an xlsx workbook: the zip package has no xl/workbook.xml", where,
                                 code="xlsx"))
    import openpyxl

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl warns about extensions it drops (data validation, ...)
            return openpyxl.load_workbook(io.BytesIO(data), data_only=False, keep_links=False,
                                          keep_vba=False, rich_text=False)
    except Exception as exc:  # noqa: BLE001 - whatever a malformed package makes openpyxl raise
        raise ModelError(Problem(f"not a readable xlsx workbook: {type(exc).__name__}: {exc}", where,
                                 code="xlsx")) from None


def cell_name(sheet: str, row: int, column: int) -> str:
    """`Rates!C7`, quoting the sheet's name as Excel does when it is not a plain word."""
    from openpyxl.utils import get_column_letter

    plain = sheet.replace("_", "").isalnum()
    title = sheet if plain else "'" + sheet.replace("'", "''") + "'"
    return f"{title}!{get_column_letter(column)}{row}"


def _number_text(value: int | float) -> str:
    if isinstance(value, int):
        return str(value)
    if value != value or value in (float("inf"), float("-inf")):
        return str(value)
    text = format(Decimal(repr(value)), "f")
    return text[:-2] if text.endswith(".0") else text


@dataclass
class _Grid:
    """One sheet's cells as text (None: empty), row and column numbers from 1."""

    title: str
    rows: list[list[str | None]]

    def at(self, row: int, column: int) -> str | None:
        if row > len(self.rows) or column > len(self.rows[row - 1]):
            return None
        return self.rows[row - 1][column - 1]

    def width(self, row: int) -> int:
        cells = self.rows[row - 1]
        return max((c for c, value in enumerate(cells, 1) if value is not None), default=0)

    def blank(self, row: int) -> bool:
        return self.width(row) == 0


@dataclass
class _Cells:
    """Where each part of the model was read from, to locate the compiler's problems."""

    by_key: dict[tuple[str | None, int | None, str | None, str | None], str] = field(default_factory=dict)

    def put(self, coordinate: str, element: str | None, rule: int | None = None, column: str | None = None,
            path: str | None = None) -> None:
        self.by_key.setdefault((element, rule, column, path), coordinate)

    def locate(self, file: str | None, problem: Problem) -> Problem:
        """A compiler's problem, located at the cell it is about where the workbook has one."""
        coordinate = self.find(problem.location)
        if coordinate is None:
            return problem
        path = problem.location.path
        inner = f"{coordinate} ({path})" if path and "!" not in path else coordinate
        return Problem(problem.message, problem.location.with_(file=file, path=inner),
                       problem.severity, problem.code)

    def find(self, location: Location) -> str | None:
        element, rule, column, path = location.element, location.rule, location.column, location.path
        for key in ((element, rule, column, path), (element, rule, column, None), (element, rule, None, None),
                    (element, None, column, None), (element, None, None, None)):
            if key in self.by_key:
                return self.by_key[key]
        return None


class _Fail(Exception):
    """Stops reading a sheet; the problem is already recorded."""


class _WorkbookReader:
    def __init__(self, file: str | None) -> None:
        self.file = file
        self.problems: list[Problem] = []
        self.cells = _Cells()
        self.type_cells: list[tuple[str, str]] = []  # (type text, cell) to check once every type is known
        self.requirements: list[tuple[Decision, list[tuple[str, str]]]] = []  # names and their cells

    # --- problems -------------------------------------------------------------------------------

    def problem(self, grid: _Grid, row: int, column: int, message: str, code: str = "xlsx") -> _Fail:
        self.problems.append(Problem(message, Location(file=self.file, path=cell_name(grid.title, row, column)),
                                     code=code))
        return _Fail()

    # --- the workbook ---------------------------------------------------------------------------

    def read(self, workbook: Any) -> Definitions:
        grids: list[_Grid] = []
        for sheet in workbook.worksheets:
            grid = self.grid(sheet)
            if grid is not None and any(not grid.blank(r) for r in range(1, len(grid.rows) + 1)):
                grids.append(grid)
        if not self.problems and not grids:
            raise ModelError(Problem("the workbook has no sheet with a decision; see the layout in the README "
                                     "(\"Spreadsheets\")", Location(file=self.file), code="xlsx"))
        defs: Definitions | None = None
        decisions: list[Decision] = []
        for grid in grids:
            mark = (grid.at(1, 1) or "").strip().lower()
            try:
                if mark == MODEL_MARK:
                    if defs is not None:
                        raise self.problem(grid, 1, 1, "a second model sheet: a workbook holds one model, "
                                                       "described on one sheet")
                    defs = self.model_sheet(grid)
                elif mark == DECISION_MARK:
                    decisions.append(self.decision_sheet(grid))
                else:
                    raise self.problem(grid, 1, 1, "expected 'model' (the model sheet) or 'decision' (a decision "
                                                   f"sheet) in the sheet's first cell, found {grid.at(1, 1)!r}")
            except _Fail:
                continue
        if self.problems:  # a sheet was not read: checks across sheets would only echo its problem
            raise ModelError(self.problems)
        if defs is None:
            first = next((d.name for d in decisions), None) or "model"
            defs = Definitions(name=first, source=Source(self.file))
        defs.decisions = decisions
        self.check_types(defs)
        self.resolve_requirements(defs)
        if self.problems:
            raise ModelError(self.problems)
        return defs

    def grid(self, sheet: Any) -> _Grid | None:
        """The sheet's cells as text; merged cells, formulas and non-text values are refused."""
        title = str(sheet.title)
        grid = _Grid(title, [])
        if sheet.merged_cells.ranges:
            for merged in sorted(sheet.merged_cells.ranges, key=str):
                self.problem(grid, merged.min_row, merged.min_col,
                             f"merged cells ({merged.coord}): unmerge them and write each cell's text")
            return None
        rows, columns = sheet.max_row, sheet.max_column
        if rows * columns > MAX_CELLS:
            self.problem(grid, 1, 1, f"the sheet spans {rows:,} rows and {columns:,} columns, more than "
                                     f"{MAX_CELLS:,} cells", code="too-large")
            return None
        failed = False
        for row in sheet.iter_rows(min_row=1, max_row=rows, max_col=columns):
            texts: list[str | None] = []
            for cell in row:
                try:
                    texts.append(self.text(cell, grid))
                except _Fail:
                    failed = True
                    texts.append(None)
            grid.rows.append(texts)
        return None if failed else grid

    def text(self, cell: Any, grid: _Grid) -> str | None:
        value = cell.value
        if cell.data_type == "f" or type(value).__name__ in ("ArrayFormula", "DataTableFormula"):
            formula = value.text if hasattr(value, "text") else value
            raise self.problem(grid, cell.row, cell.column,
                               f"a formula ({formula}): write the value itself; formulas are never evaluated")
        if value is None:
            return None
        if cell.data_type == "e":
            raise self.problem(grid, cell.row, cell.column, f"an error value ({value}): write a text")
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int | float):
            return _number_text(value)
        if isinstance(value, str):
            return value if value != "" else None
        if isinstance(value, datetime | date | time | timedelta):
            raise self.problem(grid, cell.row, cell.column,
                               "a date or time value: write FEEL text, e.g. date(\"2024-05-01\"), and format "
                               "the cell as text")
        raise self.problem(grid, cell.row, cell.column, f"a value of an unknown kind ({type(value).__name__})")

    # --- the model sheet ------------------------------------------------------------------------

    def model_sheet(self, grid: _Grid) -> Definitions:
        values: dict[str, tuple[str | None, int]] = {}
        inputs: list[InputData] = []
        types: list[ItemDefinition] = []
        row, last = 1, len(grid.rows)
        while row <= last:
            if grid.blank(row):
                row += 1
                continue
            key = (grid.at(row, 1) or "").strip().lower()
            if key in MODEL_KEYS:
                if key in values:
                    raise self.problem(grid, row, 1, f"'{key}' is given twice (first on row {values[key][1]})")
                self.only_value(grid, row)
                values[key] = (grid.at(row, 2), row)
                row += 1
            elif key == INPUTS_SECTION:
                row = self.section(grid, row, INPUT_FIELDS, lambda r, f: inputs.append(self.input_row(grid, r, f)))
            elif key == TYPES_SECTION:
                row = self.section(grid, row, TYPE_FIELDS, lambda r, f: self.type_row(grid, r, f, types))
            else:
                raise self.problem(grid, row, 1, f"unknown row {grid.at(row, 1)!r}; expected one of "
                                                 f"{', '.join(MODEL_KEYS)}, or a section: {INPUTS_SECTION}, "
                                                 f"{TYPES_SECTION}")
        name = values.get("model", (None, 1))
        if not name[0] or not name[0].strip():
            raise self.problem(grid, name[1], 2, "the model has no name: write it beside 'model'")
        version = values.get("dmn version", (None, 0))
        if version[0] is not None and version[0] not in SUPPORTED_DMN_VERSIONS:
            raise self.problem(grid, version[1], 2, f"unknown DMN version '{version[0]}'; expected one of "
                                                    f"{', '.join(SUPPORTED_DMN_VERSIONS)}")

        def get(key: str) -> str | None:
            return values.get(key, (None, 0))[0]

        return Definitions(name=name[0], namespace=get("namespace") or "", id=get("id"),
                           dmn_version=version[0] or None, key=get("key"), business_key=get("business key"),
                           description=get("description"), expression_language=get("expression language"),
                           item_definitions=types, inputs=inputs, source=Source(self.file))

    def only_value(self, grid: _Grid, row: int, last_column: int = 2) -> None:
        if grid.width(row) > last_column:
            raise self.problem(grid, row, grid.width(row),
                               f"unexpected text: '{grid.at(row, 1)}' takes its value in column B only")

    def section(self, grid: _Grid, row: int, fields: tuple[str, ...], read: Any) -> int:
        """A header row naming its columns, and the rows below it up to the next blank row."""
        columns: dict[str, int] = {}
        for column in range(2, grid.width(row) + 1):
            word = (grid.at(row, column) or "").strip().lower()
            if word not in fields:
                raise self.problem(grid, row, column, f"unknown column {grid.at(row, column)!r}; expected "
                                                      f"{', '.join(fields)}")
            if word in columns:
                raise self.problem(grid, row, column, f"column '{word}' is given twice")
            columns[word] = column
        row += 1
        while row <= len(grid.rows) and not grid.blank(row):
            if grid.width(row) > max(columns.values(), default=1):
                raise self.problem(grid, row, grid.width(row), "a cell outside the section's named columns")
            if not (grid.at(row, 1) or "").strip():
                raise self.problem(grid, row, 1, "the name is missing")
            read(row, columns)
            row += 1
        return row

    def input_row(self, grid: _Grid, row: int, columns: dict[str, int]) -> InputData:
        def get(name: str) -> str | None:
            return grid.at(row, columns[name]) if name in columns else None

        name = grid.at(row, 1) or ""
        self.cells.put(cell_name(grid.title, row, 1), name)
        type_ref = get("type")
        if type_ref is not None:
            self.type_cells.append((type_ref, cell_name(grid.title, row, columns["type"])))
        return InputData(name=name, type_ref=type_ref, id=get("id"), description=get("description"),
                         source=Source(self.file))

    def type_row(self, grid: _Grid, row: int, columns: dict[str, int], types: list[ItemDefinition]) -> None:
        def get(name: str) -> str | None:
            return grid.at(row, columns[name]) if name in columns else None

        name = grid.at(row, 1) or ""
        collection = (get("collection") or "false").strip().lower()
        if collection not in ("true", "false", "yes", "no"):
            raise self.problem(grid, row, columns["collection"], f"'collection' is true or false, not {collection!r}")
        item = ItemDefinition(name=name, type_ref=get("base type"), allowed_values=get("allowed values"),
                              type_constraint=get("constraint"), is_collection=collection in ("true", "yes"),
                              id=get("id"))
        if item.type_ref is not None:
            self.type_cells.append((item.type_ref, cell_name(grid.title, row, columns["base type"])))
        parent_path = get("component of")
        if parent_path is None:
            types.append(item)
            self.cells.put(cell_name(grid.title, row, 1), name)
            return
        siblings, parent = types, None
        for part in parent_path.split("."):
            parent = next((t for t in siblings if t.name == part), None)
            if parent is None:
                raise self.problem(grid, row, columns["component of"],
                                   f"'{parent_path}' is not a type listed above this row")
            siblings = parent.components
        siblings.append(item)

    # --- decision sheets ------------------------------------------------------------------------

    def decision_sheet(self, grid: _Grid) -> Decision:
        values: dict[str, tuple[str | None, int]] = {}
        row, last = 1, len(grid.rows)
        while row <= last:
            if grid.blank(row):
                row += 1
                continue
            key = (grid.at(row, 1) or "").strip().lower()
            if key == COLUMNS_ROW:
                break
            if key not in DECISION_KEYS:
                raise self.problem(grid, row, 1, f"unknown row {grid.at(row, 1)!r}; expected one of "
                                                 f"{', '.join(DECISION_KEYS)}, or '{COLUMNS_ROW}' to start the table")
            if key in values:
                raise self.problem(grid, row, 1, f"'{key}' is given twice (first on row {values[key][1]})")
            if key != "requires":
                self.only_value(grid, row)
            values[key] = (grid.at(row, 2), row)
            row += 1
        name, name_row = values.get("decision", (None, 1))
        if not name or not name.strip():
            raise self.problem(grid, name_row, 2, "the decision has no name: write it beside 'decision'")

        def get(key: str) -> str | None:
            return values.get(key, (None, 0))[0]

        def cell(key: str) -> str:
            return cell_name(grid.title, values[key][1], 2)

        for key in ("type", "expression type", "table type"):
            if get(key) is not None:
                self.type_cells.append((cast(str, get(key)), cell(key)))
        decision = Decision(name=name, logic=None, type_ref=get("type"), id=get("id"),
                            description=get("description"), question=get("question"),
                            allowed_answers=get("allowed answers"), source=Source(self.file))
        self.cells.put(cell_name(grid.title, name_row, 2), name)
        if "requires" in values:
            req_row = values["requires"][1]
            self.requirements.append((decision, [
                (text, cell_name(grid.title, req_row, c)) for c in range(2, grid.width(req_row) + 1)
                if (text := grid.at(req_row, c)) is not None]))
        table_keys = [k for k in ("hit policy", "output label", "table type", "table id") if k in values]
        if "expression" in values:
            if row <= last or table_keys:
                where = row if row <= last else values[table_keys[0]][1]
                raise self.problem(grid, where, 1, "a decision is either an 'expression' or a table, not both")
            if get("expression") is None:
                raise self.problem(grid, values["expression"][1], 2, "the expression is empty")
            decision.logic = LiteralExpression(cast(str, get("expression")), type_ref=get("expression type"),
                                               id=get("expression id"), source=Source(self.file))
            self.cells.put(cell("expression"), name, path=None)
            self.cells.by_key[(name, None, None, None)] = cell("expression")
            return decision
        for key in ("expression type", "expression id"):
            if key in values:
                raise self.problem(grid, values[key][1], 1, f"'{key}' without an 'expression' row")
        if row > last:
            if table_keys:
                raise self.problem(grid, values[table_keys[0]][1], 1,
                                   f"'{table_keys[0]}' but no table: add a '{COLUMNS_ROW}' row and the rules")
            return decision
        if "hit policy" not in values:
            raise self.problem(grid, row, 1, "the table has no 'hit policy' row above its columns (UNIQUE, FIRST, "
                                             "PRIORITY, ANY, COLLECT, RULE ORDER, OUTPUT ORDER)")
        hit_policy, aggregation = self.hit_policy(grid, values["hit policy"][1])
        table = DecisionTable(inputs=[], outputs=[], rules=[], hit_policy=hit_policy, aggregation=aggregation,
                              output_label=get("output label"), type_ref=get("table type"), id=get("table id"),
                              source=Source(self.file))
        decision.logic = table
        self.table(grid, row, decision.name, table)
        return decision

    def hit_policy(self, grid: _Grid, row: int) -> tuple[HitPolicy, Aggregation | None]:
        text = grid.at(row, 2)
        if text is None or not text.strip():
            raise self.problem(grid, row, 2, "the hit policy is empty: write UNIQUE, FIRST, PRIORITY, ANY, COLLECT "
                                             "(or COLLECT SUM / MIN / MAX / COUNT), RULE ORDER or OUTPUT ORDER")
        normal = " ".join(text.replace("_", " ").upper().split())
        normal = HIT_POLICY_ABBREVIATIONS.get(normal, normal)
        policy, aggregation = normal, None
        if normal.startswith("COLLECT "):
            policy, aggregation = "COLLECT", normal[len("COLLECT "):]
        if policy not in HIT_POLICIES or (aggregation is not None and aggregation not in AGGREGATIONS):
            raise self.problem(grid, row, 2, f"unknown hit policy '{text}'; expected one of "
                                             f"{', '.join(HIT_POLICIES)} (or COLLECT SUM / MIN / MAX / COUNT)")
        return cast(HitPolicy, policy), cast(Aggregation | None, aggregation)

    def table(self, grid: _Grid, columns_row: int, decision: str, table: DecisionTable) -> None:
        kinds: list[str] = []
        for column in range(2, grid.width(columns_row) + 1):
            kind = (grid.at(columns_row, column) or "").strip().lower()
            if kind not in COLUMN_KINDS:
                raise self.problem(grid, columns_row, column, f"unknown column kind {grid.at(columns_row, column)!r}; "
                                                              f"expected {', '.join(COLUMN_KINDS)}")
            kinds.append(kind)
        if "output" not in kinds:
            raise self.problem(grid, columns_row, 1, "the table has no 'output' column")
        if kinds.count("description") > 1:
            raise self.problem(grid, columns_row, 2 + len(kinds) - 1 - kinds[::-1].index("description"),
                               "a table has at most one 'description' column")
        width = len(kinds) + 1
        clause_rows: dict[str, int] = {}
        row = columns_row + 1
        while row <= len(grid.rows):
            key = (grid.at(row, 1) or "").strip().lower()
            if key == RULES_ROW:
                break
            if grid.blank(row):
                row += 1
                continue
            if key not in CLAUSE_ROWS:
                raise self.problem(grid, row, 1, f"unknown row {grid.at(row, 1)!r}; expected one of "
                                                 f"{', '.join(CLAUSE_ROWS)}, or '{RULES_ROW}'")
            if key in clause_rows:
                raise self.problem(grid, row, 1, f"'{key}' is given twice (first on row {clause_rows[key]})")
            clause_rows[key] = row
            for column in range(2, grid.width(row) + 1):
                if grid.at(row, column) is None:
                    continue
                applies_to = kinds[column - 2] if column <= width else None
                if applies_to not in CLAUSE_ROWS[key]:
                    what = f"an {applies_to} column" if applies_to in ("input", "output", "annotation") else \
                        "a description column" if applies_to else "a cell outside the table's columns"
                    raise self.problem(grid, row, column, f"'{key}' does not apply to {what}")
            row += 1
        if row > len(grid.rows):
            raise self.problem(grid, columns_row, 1, f"the table has no '{RULES_ROW}' row: the rules follow a row "
                                                     f"whose first cell is '{RULES_ROW}'")
        rules_row = row
        if grid.width(rules_row) > 1:
            raise self.problem(grid, rules_row, grid.width(rules_row), f"the '{RULES_ROW}' row holds nothing else")

        def clause_cell(key: str, column: int) -> str | None:
            return grid.at(clause_rows[key], column) if key in clause_rows else None

        titles: dict[int, str] = {}
        for column, kind in enumerate(kinds, 2):
            if kind == "input":
                expression = clause_cell("expression", column)
                if expression is None:
                    where = clause_rows.get("expression", columns_row)
                    raise self.problem(grid, where, column, "an input column needs its FEEL expression in the "
                                                            "'expression' row")
                clause = InputClause(expression, label=clause_cell("label", column),
                                     type_ref=clause_cell("type", column),
                                     input_values=clause_cell("values", column), id=clause_cell("id", column))
                table.inputs.append(clause)
                titles[column] = clause.title
            elif kind == "output":
                out = OutputClause(name=clause_cell("name", column), label=clause_cell("label", column),
                                   type_ref=clause_cell("type", column), output_values=clause_cell("values", column),
                                   default_output=clause_cell("default", column), id=clause_cell("id", column))
                table.outputs.append(out)
                titles[column] = out.title
            elif kind == "annotation":
                table.annotation_columns.append(clause_cell("name", column) or "")
                continue
            else:
                continue
            if "type" in clause_rows and clause_cell("type", column) is not None:
                self.type_cells.append((cast(str, clause_cell("type", column)),
                                        cell_name(grid.title, clause_rows["type"], column)))
            for key, path in (("expression", "input expression"), ("values", f"{kind} values"),
                              ("default", "default output")):
                if key in clause_rows:
                    self.cells.put(cell_name(grid.title, clause_rows[key], column), decision, None,
                                   titles[column], path)
            self.cells.put(cell_name(grid.title, columns_row, column), decision, None, titles[column])
        number = 0
        for row in range(rules_row + 1, len(grid.rows) + 1):
            if grid.blank(row):
                continue
            if grid.width(row) > width:
                raise self.problem(grid, row, grid.width(row), "a cell outside the table's columns")
            number += 1
            rule = Rule([], [], id=grid.at(row, 1), source=Source(self.file, row))
            for column, kind in enumerate(kinds, 2):
                text = grid.at(row, column)
                if kind == "input":
                    rule.input_entries.append(text or "")
                elif kind == "output":
                    rule.output_entries.append(text or "")
                elif kind == "annotation":
                    rule.annotations.append(text or "")
                else:
                    rule.description = text
                if kind in ("input", "output"):
                    self.cells.put(cell_name(grid.title, row, column), decision, number, titles[column])
            self.cells.put(cell_name(grid.title, row, 1), decision, number)
            table.rules.append(rule)

    # --- across sheets --------------------------------------------------------------------------

    def check_types(self, defs: Definitions) -> None:
        from decisions.errors import DecisionsError
        from decisions.feel.types import ANY, FeelType, parse_type_ref
        from decisions.itemtypes import builtin_type

        declared: dict[str, FeelType] = {item.name: ANY for item in defs.item_definitions}
        for text, where in self.type_cells:
            if builtin_type(text) is not None or text.strip() in declared:
                continue
            try:
                known = parse_type_ref(text, declared) is not None
            except (DecisionsError, ValueError):
                known = False
            if not known:
                names = ", ".join(sorted(declared)) or "none declared"
                self.problems.append(Problem(
                    f"unknown type '{text}': use number, string, boolean, date, time, date and time, "
                    f"days and time duration, years and months duration, Any, or a type of the model sheet "
                    f"({names})", Location(file=self.file, path=where), code="unknown-type"))

    def resolve_requirements(self, defs: Definitions) -> None:
        inputs = {i.name for i in defs.inputs}
        decisions = {d.name for d in defs.decisions}
        for decision, names in self.requirements:
            for name, where in names:
                if name in inputs:
                    decision.required_inputs.append(name)
                elif name in decisions:
                    decision.required_decisions.append(name)
                else:
                    self.problems.append(Problem(
                        f"requires '{name}', which is neither an input of the model sheet nor a decision of "
                        "this workbook", Location(file=self.file, element=decision.name, path=where),
                        code="requirement"))

