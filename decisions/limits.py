"""Every limit the decision core puts on what it is given, in one place (listed in the README,
"Limits"). Each exists so that a hostile or mistaken model, expression or input is refused with
a located problem instead of exhausting memory, the stack or the CPU.

Models and files
    MAX_MODEL_BYTES      50 MiB    a model file or upload (DMN, YAML or xlsx)
    MAX_UNPACKED_BYTES   64 MiB    what an xlsx workbook unpacks to, checked before it is read
    MAX_MEMBERS          1,000     files inside an xlsx workbook
    MAX_CELLS            2,000,000 cells of an xlsx workbook
    MAX_IMPLICIT_INPUTS  500       undeclared names (implicit inputs, Camunda style) in one expression

FEEL expressions
    MAX_LENGTH           200,000   characters of one expression
    MAX_NESTING          64        brackets and parentheses inside each other
    MAX_DEPTH            160       depth of the syntax tree (chained operators included)

Evaluation (one budget per evaluation, shared by every decision, loop, call and invocation
in it; decisions/feel/budget.py)
    MAX_STEPS            2,000,000   steps: items bound by for / some / every, items tested by
                                     filters, function, BKM and decision-service calls
    MAX_MEMORY           20,000,000  characters of the strings and items of the lists and
                                     contexts made (concatenation, built-ins, for results)
    MAX_CALL_DEPTH       120         nested user-defined function calls (recursion)
    MAX_CALL_SECONDS     10          wall-clock time of one evaluation called through the API
                                     (the budget stops it; the call answers 503)

Binding templates (execution/templates.py; bounded while they render)
    MAX_RENDERED_CHARS   1,000,000 characters one template renders (and the size of any string,
                                   list or range it makes on the way)
    MAX_TEMPLATE_STEPS   1,000,000 steps of one render: range items, calls, operators, lookups,
                                   output chunks

Problems
    QUOTED               200       characters of the text at fault quoted, around its position
    MESSAGE              500       characters of a message before it is cut
"""

from __future__ import annotations

MIB = 1024 * 1024

MAX_MODEL_BYTES = 50 * MIB
MAX_UNPACKED_BYTES = 64 * MIB
MAX_MEMBERS = 1000
MAX_CELLS = 2_000_000
MAX_IMPLICIT_INPUTS = 500

MAX_LENGTH = 200_000
MAX_NESTING = 64
MAX_DEPTH = 160

MAX_STEPS = 2_000_000
MAX_MEMORY = 20_000_000
MAX_CALL_DEPTH = 120
MAX_CALL_SECONDS = 10.0

MAX_RENDERED_CHARS = 1_000_000
MAX_TEMPLATE_STEPS = 1_000_000

QUOTED = 200
MESSAGE = 500
