"""The words of the workbook layout, shared by the xlsx reader and writer (see the package docstring)."""

from __future__ import annotations

MODEL_MARK = "model"  # A1 of the model sheet
DECISION_MARK = "decision"  # A1 of a decision sheet
MODEL_SHEET = "Model"

# Model sheet: one value per row, in column B.
MODEL_KEYS = ("model", "namespace", "id", "dmn version", "key", "business key", "description",
              "expression language")
# Model sheet sections: a header row whose column A is the section word; the other header cells
# name the columns of the rows below, which run to the next blank row.
INPUTS_SECTION = "inputs"
INPUT_FIELDS = ("type", "description", "id")
TYPES_SECTION = "types"
TYPE_FIELDS = ("base type", "component of", "allowed values", "constraint", "collection", "id")

# Decision sheet: one value per row in column B (`requires`: one name per cell from B on).
DECISION_KEYS = ("decision", "id", "type", "description", "question", "allowed answers", "requires",
                 "expression", "expression type", "expression id",
                 "hit policy", "output label", "table type", "table id")
COLUMNS_ROW = "columns"  # starts the table: input / output / annotation / description per column
COLUMN_KINDS = ("input", "output", "annotation", "description")
# The rows between `columns` and `rules`, and the column kinds each one applies to.
CLAUSE_ROWS: dict[str, tuple[str, ...]] = {
    "label": ("input", "output"),
    "expression": ("input",),
    "name": ("output", "annotation"),
    "type": ("input", "output"),
    "values": ("input", "output"),
    "default": ("output",),
    "id": ("input", "output"),
}
RULES_ROW = "rules"  # the rules follow, one per row; column A holds the rule id

# Untrusted workbooks: bounds checked before openpyxl unpacks anything.
