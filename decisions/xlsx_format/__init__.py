"""The spreadsheet form of a decision model: an Excel workbook (.xlsx) read into the same
`Definitions` as DMN XML and YAML, and written back from them.

A workbook holds one model. Each sheet is recognised by its first cell:

- `model` (at most one sheet, optional): the model's name and properties, one per row with the
  value in column B (`model`, `namespace`, `id`, `dmn version`, `key`, `business key`,
  `description`, `expression language`), and two sections, each a header row whose first cell
  is the section word and whose other cells name the columns, then one row per element up to
  the next blank row:
  `inputs | type | description | id` (the input data) and
  `types | base type | component of | allowed values | constraint | collection | id`
  (item definitions; a component names its parent's path, e.g. `tEligibility`).
  Without a model sheet the model is named after its first decision, and names the tables
  read but nobody declares become implicit inputs (with a warning).
- `decision`: one decision per sheet, in the model's order. Rows with the value in column B:
  `decision` (the name), `id`, `type`, `description`, `question`, `allowed answers`,
  `requires` (one input or decision name per cell from B on), and then either
  `expression` (+ `expression type`, `expression id`) for a literal FEEL expression, or a
  decision table: `hit policy` (UNIQUE, FIRST, PRIORITY, ANY, COLLECT [SUM|MIN|MAX|COUNT],
  RULE ORDER, OUTPUT ORDER, or U/F/P/A/C/C+/C</C>/C#/R/O), `output label`, `table type`,
  `table id`, then the table itself:

      columns     | input        | input          | output        | annotation
      label       | Credit Score |                |               |
      expression  | Credit Score | Debt To Income |               |
      name        |              |                | Risk          | Why
      type        | number       | number         | string        |
      values      |              |                | "High","Low"  |
      default     |              |                |               |
      rules       |              |                |               |
      r1          | < 580        | -              | "High"        | Subprime score
      r2          | -            | <= 0.2         | "Low"         | Light debt

  `columns` gives each column's kind (input, output, annotation, or one `description` column
  for the rules' descriptions); the rows up to `rules` describe the columns (`expression` is
  required for inputs; `name` names outputs and annotation columns; `values` are the allowed
  values as unary tests, which for outputs also give the priority order); each row after
  `rules` is a rule, its id in column A (empty: none). Blank rows are skipped.

Every cell is text: FEEL is kept exactly as written (a number cell is read as its digits).
Merged cells, formulas, dates and error values are refused, and every problem names its cell,
e.g. `Rates!C7`. The workbook is untrusted input (see `reader`).
"""

from decisions.xlsx_format.reader import read_xlsx
from decisions.xlsx_format.writer import write_xlsx

__all__ = ["read_xlsx", "write_xlsx"]
