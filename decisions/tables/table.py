"""A compiled decision table: input getters, rule index, output cells and the hit policy.

Built once by `compile_table`; `CompiledTable.evaluate(env)` then reads each input once,
narrows the candidate rules with the index (a few bisects and dict lookups), runs only the
cell tests the index could not summarise, evaluates the winners' output cells (constants
are precomputed) and applies the hit policy.

A column whose input expression is a plain name may find a plain Python float or int under
that name rather than a FEEL number: the model leaves numeric inputs unconverted when tables
alone read them, and only this way (see `CompiledTable.other_reads`). Such a value is placed
among the index's float endpoints when that is exact, and is converted as the input binding
would have converted it wherever anything else (a cell test, an allowed-values check) sees it.
"""

from __future__ import annotations

import dataclasses
from bisect import bisect_left
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import partial
from math import isfinite
from typing import Any

from decisions import feel
from decisions.errors import Location, ModelError, Problem, Severity
from decisions.feel import ast
from decisions.feel.values import feel_equal, from_python
from decisions.itemtypes import camunda_number, convert_camunda_number
from decisions.model import DecisionTable
from decisions.tables.hit_policy import Match, apply_hit_policy
from decisions.tables.index import (
    EXACT_INT,
    OTHER_STRING,
    ColumnIndex,
    build_column_index,
    lookup,
    names_used,
    raw_number_region,
    uses_names,
)

Getter = Callable[[feel.Env], Any]
_NOT_CONSTANT: Any = object()
OutputCell = Callable[[feel.Env], Any]
UnaryFn = Callable[[feel.Env, Any], "bool | None"]
PriorityTest = Callable[[Any], bool]


@dataclass
class CompiledInput:
    title: str
    name: str | None  # the input expression is this plain name: read it straight from the env
    getter: Getter
    allowed: UnaryFn | None  # inputValues test
    allowed_text: str | None
    allowed_index: ColumnIndex | None = None  # the same test, indexed like a one-rule column


@dataclass
class CompiledOutput:
    name: str
    allowed: UnaryFn | None
    allowed_text: str | None
    priorities: list[PriorityTest]  # output values, in priority order
    default: OutputCell | None


class CompiledTable:
    def __init__(
        self,
        decision: str,
        table: DecisionTable,
        inputs: list[CompiledInput],
        outputs: list[CompiledOutput],
        columns: list[ColumnIndex],
        cell_tests: list[list[UnaryFn]],
        rule_outputs: list[list[OutputCell]],
        constant_outputs: list[tuple[Any, ...] | None],
        where: Location,
        other_reads: frozenset[str] | None = None,
    ) -> None:
        self.decision = decision
        self.table = table
        self.hit_policy = table.hit_policy
        self.aggregation = table.aggregation
        self.inputs = inputs
        self.outputs = outputs
        self.columns = columns
        self.cell_tests = cell_tests
        self.rule_outputs = rule_outputs
        self.constant_outputs = constant_outputs
        self.where = where
        # Names the table reads other than as the whole input expression of a column (None:
        # unknown, so possibly any). An input outside this set is only ever looked up by a
        # plain-name column, which accepts it unconverted.
        self.other_reads = other_reads
        self.rule_count = len(rule_outputs)
        self.full_mask = (1 << self.rule_count) - 1
        self.single_output = len(outputs) == 1
        self.output_names = [o.name for o in outputs]
        self.pending_any = any(c.pending for c in columns)
        self.check_outputs = any(o.allowed is not None for o in outputs)
        # What `evaluate`'s inlined cases need of each column, unpacked in one step: the name,
        # the getter, then per kind of value the index's regions, or None where a value of that
        # kind takes the general way (`_read_column`), and the column number. The string masks
        # include the allowed-values check (-1: not allowed); a number is only inlined where
        # nothing else checks it.
        self._reads: list[tuple[Any, ...]] = [_inlined_reads(i, col, c)
                                              for c, (i, col) in enumerate(zip(inputs, columns, strict=True))]
        # Each rule's result when its outputs are constants: what FIRST and UNIQUE return as is.
        self.constant_results: list[Any] = [
            self._shape(c) if c is not None else _NOT_CONSTANT for c in constant_outputs]
        # A call that matches no rule of a table without default outputs gets null, and says so
        # (COLLECT COUNT's 0 is its answer, not a gap).
        no_default = not any(o.default is not None for o in outputs) \
            and not (table.hit_policy == "COLLECT" and table.aggregation == "COUNT")
        self.no_match: Problem | None = Problem(
            "no rule matched, and the table has no default output: the result is null", where,
            severity="info", code="no-rule-matched") if no_default else None

    # --- evaluation -------------------------------------------------------------------

    def _column_mask(self, c: int, value: Any, env: feel.Env) -> int:
        mask = lookup(self.columns[c], value)
        if mask is not None:
            return mask
        # A value the index has no region for (a date, a list...): run every cell.
        mask = 0
        tests = self.cell_tests[c]
        for r in range(self.rule_count):
            if tests[r](env, value) is True:
                mask |= 1 << r
        return mask

    def _read_column(self, c: int, value: Any, env: feel.Env) -> tuple[Any, int | None]:
        """Column c's mask for a value `evaluate` does not inline, and the value as the column's
        cell tests see it; the mask is None when the value is not an allowed one (reported)."""
        inp, index = self.inputs[c], self.columns[c]
        if type(value) is int or type(value) is float:  # an input left unconverted
            region = raw_number_region(index, value) if _takes_raw_numbers(inp, index) else None
            if region is not None and index.number_masks is not None:
                return value, index.number_masks[region]
            value = from_python(value)
        if inp.allowed is not None and value is not None and not self._allowed(inp, value, env):
            env.problems.append(Problem(
                f"input value {value!r} is not one of the allowed values {inp.allowed_text}",
                self.where.with_(column=inp.title), code="input-not-allowed"))
            return value, None
        return value, self._column_mask(c, value, env)

    def _allowed(self, inp: CompiledInput, value: Any, env: feel.Env) -> bool:
        index = inp.allowed_index
        if index is not None:
            if type(value) is str and index.string_masks is not None:
                return index.string_masks.get(value, index.other_string_mask) == 1
            found = lookup(index, value)
            if found is not None:
                return found == 1
        return inp.allowed is None or inp.allowed(env, value) is True

    def _shape(self, outputs: tuple[Any, ...]) -> Any:
        if self.single_output:
            return outputs[0]
        return dict(zip(self.output_names, outputs, strict=True))

    def _priority(self, outputs: tuple[Any, ...]) -> tuple[int, ...]:
        key: list[int] = []
        for out, value in zip(self.outputs, outputs, strict=True):
            rank = len(out.priorities)
            for i, test in enumerate(out.priorities):
                if test(value):
                    rank = i
                    break
            key.append(rank)
        return tuple(key)

    def _outputs_of(self, r: int, env: feel.Env, problems: list[Problem]) -> tuple[Any, ...]:
        constant = self.constant_outputs[r]
        if constant is not None:
            return constant
        reported = len(problems)
        values = tuple(cell(env) for cell in self.rule_outputs[r])
        if len(problems) > reported:
            self._locate(problems, reported, r)
        if self.check_outputs:
            checked = []
            for out, value in zip(self.outputs, values, strict=True):
                if out.allowed is not None and value is not None and out.allowed(env, value) is not True:
                    problems.append(Problem(
                        f"output {value!r} of rule {r + 1} is not one of the allowed values "
                        f"{out.allowed_text}", self.where.with_(rule=r + 1, column=out.name),
                        code="output-not-allowed"))
                    value = None
                checked.append(value)
            values = tuple(checked)
        return values

    def _locate(self, problems: list[Problem], start: int, r: int) -> None:
        """Problems an output cell of rule `r` reported without saying where (a built-in's): the
        rule, and the cell's column and text when the rule has one output cell that is not a
        constant; the table otherwise."""
        entries = self.table.rules[r].output_entries
        live = [c for c, text in enumerate(entries) if not _is_constant_text(text)]
        at = self.where.with_(rule=r + 1)
        if len(live) == 1:
            c = live[0]
            at = at.with_(column=self.outputs[c].name or self.decision, text=entries[c])
        for i in range(start, len(problems)):
            found = problems[i].location
            if found.element is None and found.rule is None:
                problems[i] = dataclasses.replace(problems[i], location=at)

    def evaluate(self, env: feel.Env) -> tuple[Any, list[int]]:
        """Return (result, fired rule numbers, 1-based); problems go to `env.problems`."""
        variables = env.vars
        mask = self.full_mask
        # The values as the cell tests see them, for the pending ones.
        values: list[Any] | None = [] if self.pending_any else None
        # The common cases (a number or a string against an indexed column) are inlined: this
        # loop runs for every input of every call. A plain float or int is an input left
        # unconverted (see the module docstring): `floats` is only set where no cell test sees it.
        for name, getter, breaks, number_masks, floats, strings, other, c in self._reads:
            value: Any = variables.get(name) if name is not None else getter(env)
            kind = type(value)
            if floats is not None and (kind is float and isfinite(value)
                                       or kind is int and -EXACT_INT < value < EXACT_INT):
                i = bisect_left(floats, value)
                mask &= number_masks[2 * i + 1] if i < len(floats) and floats[i] == value else number_masks[2 * i]
            elif kind is str and strings is not None and (found := strings.get(value, other)) >= 0:
                mask &= found
            elif kind is Decimal and breaks is not None and value.is_finite():
                i = bisect_left(breaks, value)
                mask &= number_masks[2 * i + 1] if i < len(breaks) and breaks[i] == value else number_masks[2 * i]
            else:
                value, found = self._read_column(c, value, env)
                if found is None:
                    return None, []
                mask &= found
            if values is not None:
                values.append(value)
        if mask and values is not None:
            mask = self._check_pending(mask, values, env)
        return self.result_of(mask, env)

    def result_of(self, mask: int, env: feel.Env) -> tuple[Any, list[int]]:
        """The result and fired rules (1-based) when `mask` holds the rules that match: the part
        of `evaluate` after the inputs are read. Batch evaluation calls it once per distinct mask
        of a vectorised table, so that its results are those of `evaluate` by construction."""
        if not mask:
            if self.no_match is not None:
                env.problems.append(self.no_match)
            return self._default(env), []
        problems = env.problems
        if self.hit_policy == "FIRST":
            r = (mask & -mask).bit_length() - 1
            shaped = self.constant_results[r]
            if shaped is not _NOT_CONSTANT:
                return (shaped.copy() if type(shaped) is dict else shaped), [r + 1]
            return self._shape(self._outputs_of(r, env, problems)), [r + 1]
        if self.hit_policy == "UNIQUE" and not mask & (mask - 1):
            r = mask.bit_length() - 1
            shaped = self.constant_results[r]
            if shaped is not _NOT_CONSTANT:
                return (shaped.copy() if type(shaped) is dict else shaped), [r + 1]
        matches: list[Match] = []
        r = 0
        while mask:
            if mask & 1:
                matches.append((r, self._outputs_of(r, env, problems)))
            mask >>= 1
            r += 1
        result, fired, violations = apply_hit_policy(
            self.hit_policy, self.aggregation, matches, self._shape, self._priority, self.where)
        problems.extend(violations)
        return result, [f + 1 for f in fired]

    def _check_pending(self, mask: int, values: list[Any], env: feel.Env) -> int:
        for c, index in enumerate(self.columns):
            todo = index.pending & mask
            if not todo:
                continue
            if c >= len(values):
                break
            tests = self.cell_tests[c]
            r = 0
            while todo:
                if todo & 1 and tests[r](env, values[c]) is not True:
                    mask &= ~(1 << r)
                todo >>= 1
                r += 1
        return mask

    def _default(self, env: feel.Env) -> Any:
        if self.hit_policy == "COLLECT" and self.aggregation == "COUNT":
            return Decimal(0)
        if not any(o.default is not None for o in self.outputs):
            return None
        defaults = tuple(o.default(env) if o.default is not None else None for o in self.outputs)
        return self._shape(defaults)

    # --- introspection used by batch evaluation and the verifier ----------------------

    def rule_matches_naively(self, env: feel.Env) -> list[int]:
        """Every rule that matches, found by running every cell: the index's reference."""
        values = [env.vars.get(i.name) if i.name is not None else i.getter(env) for i in self.inputs]
        matched = []
        for r in range(self.rule_count):
            if all(self.cell_tests[c][r](env, values[c]) is True for c in range(len(self.inputs))):
                matched.append(r + 1)
        return matched


def _cell_location(where: Location, rule: int | None, column: str, text: str) -> Location:
    return where.with_(rule=rule, column=column, text=text)


# Where a text is, or how to say it: a cell's location is only built when it has an error.
Where = Location | Callable[[], Location]


def _located(where: Where) -> Location:
    return where if isinstance(where, Location) else where()


def _compile_unary(text: str, scope: feel.Scope, where: Where, problems: list[Problem]) -> Any:
    try:
        return feel.compile_unary_tests(text, scope)
    except feel.UnknownNameError:
        raise  # the compiler decides whether it is an implicit input
    except feel.FeelSyntaxError as exc:
        problems.append(exc.to_problem(_located(where)))
        return None


def _compile_expr(text: str, scope: feel.Scope, where: Where, problems: list[Problem]) -> Any:
    try:
        return feel.compile_expression(text, scope)
    except feel.UnknownNameError:
        raise
    except feel.FeelSyntaxError as exc:
        problems.append(exc.to_problem(_located(where)))
        return None


def _constant_of(compiled: Any) -> tuple[bool, Any]:
    node = compiled.ast
    if isinstance(node, ast.Literal):
        return True, node.value
    if not uses_names(node):
        env = feel.Env({}, [])
        value = compiled.fn(env)
        if not env.problems:
            return True, value
    return False, None


def _split_values(text: str | None) -> list[str]:
    """Split an outputValues text into its tests, in order, for priorities."""
    return [] if not text or not text.strip() else [text]


def compile_table(decision: str, table: DecisionTable, scope: feel.Scope, where: Location) -> CompiledTable:
    problems: list[Problem] = []
    where = where.with_(element=decision)
    n_in, n_out = len(table.inputs), len(table.outputs)
    if n_out == 0:
        raise ModelError("decision table has no output column", where)
    if n_out > 1 and any(not o.name for o in table.outputs):
        problems.append(Problem("a table with several outputs must name each output column", where))
    if table.aggregation and table.hit_policy != "COLLECT":
        problems.append(Problem(f"aggregation {table.aggregation} is only allowed with COLLECT", where))
    if table.aggregation and n_out > 1:
        problems.append(Problem("COLLECT with an aggregation needs exactly one output column", where))

    # Every FEEL text of the table but its plain-name input expressions, parsed: for `other_reads`.
    trees: list[ast.Node] = []
    inputs: list[CompiledInput] = []
    for clause in table.inputs:
        at = where.with_(column=clause.title, text=clause.expression, path="input expression")
        compiled = _compile_expr(clause.expression, scope, at, problems)
        allowed = None
        test = None
        if clause.input_values and clause.input_values.strip():
            test = _compile_unary(clause.input_values, scope,
                                  where.with_(column=clause.title, text=clause.input_values, path="input values"),
                                  problems)
            allowed = test.fn if test is not None else None
            if test is not None:
                trees.append(test.ast)
        if compiled is None:
            inputs.append(CompiledInput(clause.title, None, lambda env: None, allowed, clause.input_values))
            continue
        name = compiled.ast.name if isinstance(compiled.ast, ast.Name) else None
        getter = compiled.fn
        camunda = camunda_number(clause.type_ref)
        if camunda is not None:  # Camunda's integer, long, double: the value is converted, so never read raw
            getter, name = _camunda_converted(compiled.fn, camunda, "input", where.with_(column=clause.title)), None
        if name is None:
            trees.append(compiled.ast)
        allowed_index = None
        if allowed is not None and test is not None:
            allowed_index = build_column_index([test.ast], [_bind_env(allowed)])
            if allowed_index.pending:
                allowed_index = None
        inputs.append(CompiledInput(clause.title, name, getter, allowed, clause.input_values, allowed_index))

    outputs: list[CompiledOutput] = []
    for out_clause in table.outputs:
        allowed = None
        priorities: list[PriorityTest] = []
        if out_clause.output_values and out_clause.output_values.strip():
            at = where.with_(column=out_clause.title, text=out_clause.output_values, path="output values")
            test = _compile_unary(out_clause.output_values, scope, at, problems)
            if test is not None:
                allowed = test.fn
                priorities = _priority_tests(test)
                trees.append(test.ast)
        default = None
        if out_clause.default_output and out_clause.default_output.strip():
            at = where.with_(column=out_clause.title, text=out_clause.default_output, path="default output")
            compiled = _compile_expr(out_clause.default_output, scope, at, problems)
            default = compiled.fn if compiled is not None else None
            if compiled is not None:
                trees.append(compiled.ast)
            camunda = camunda_number(out_clause.type_ref)
            if default is not None and camunda is not None:
                default = _camunda_converted(default, camunda, "default output", at)
        outputs.append(CompiledOutput(out_clause.title, allowed, out_clause.output_values, priorities, default))

    compiled_cells: dict[str, Any] = {}
    compiled_outputs: dict[str, Any] = {}
    cell_asts: list[list[ast.UnaryTests]] = [[] for _ in range(n_in)]
    cell_tests: list[list[UnaryFn]] = [[] for _ in range(n_in)]
    rule_outputs: list[list[OutputCell]] = []
    constant_outputs: list[tuple[Any, ...] | None] = []
    for r, rule in enumerate(table.rules, start=1):
        if len(rule.input_entries) != n_in:
            problems.append(Problem(
                f"rule has {len(rule.input_entries)} input entries, the table has {n_in} inputs",
                where.with_(rule=r)))
            continue
        if len(rule.output_entries) != n_out:
            problems.append(Problem(
                f"rule has {len(rule.output_entries)} output entries, the table has {n_out} outputs",
                where.with_(rule=r)))
            continue
        for c, text in enumerate(rule.input_entries):
            text = text if text.strip() else "-"
            if text in compiled_cells:  # large tables repeat cells: parse each text once
                test = compiled_cells[text]
            else:
                test = compiled_cells[text] = _compile_unary(
                    text, scope, partial(_cell_location, where, r, table.inputs[c].title, text), problems)
            if test is None:
                cell_asts[c].append(ast.UnaryTests((), False))
                cell_tests[c].append(_never)
            else:
                cell_asts[c].append(test.ast)
                cell_tests[c].append(test.fn)
        cells: list[OutputCell] = []
        constants: list[Any] = []
        all_constant = True
        for c, text in enumerate(rule.output_entries):
            text = text if text.strip() else "null"
            if text in compiled_outputs:
                compiled = compiled_outputs[text]
            else:
                compiled = compiled_outputs[text] = _compile_expr(
                    text, scope, partial(_cell_location, where, r, table.outputs[c].title, text), problems)
            if compiled is None:
                cells.append(lambda env: None)
                all_constant = False
                continue
            ok, value = _constant_of(compiled)
            camunda = camunda_number(table.outputs[c].type_ref)
            if camunda is None:
                cells.append(compiled.fn)
            else:  # converted as Camunda converts it; a constant that does not convert is reported when it is used
                at = where.with_(rule=r, column=table.outputs[c].title)
                cells.append(_camunda_converted(compiled.fn, camunda, "output", at))
                value, message = convert_camunda_number(value, camunda) if ok else (value, None)
                ok = ok and message is None
            constants.append(value)
            all_constant = all_constant and ok
        rule_outputs.append(cells)
        # Constant outputs are returned as they are; one outside its allowed values is left to
        # the run-time check, which reports it.
        if all_constant:
            check_env = feel.Env({}, [])
            for out, value in zip(outputs, constants, strict=True):
                if out.allowed is not None and value is not None and out.allowed(check_env, value) is not True:
                    all_constant = False
        constant_outputs.append(tuple(constants) if all_constant else None)
    if problems:
        raise ModelError(problems)
    trees.extend(t.ast for t in (*compiled_cells.values(), *compiled_outputs.values()) if t is not None)
    other_reads = frozenset(names_used(trees))

    columns = []
    index_env = _QuietEnv({}, [])
    bound: dict[int, Callable[[Any], bool | None]] = {}  # one per distinct test: most are repeated or unique
    for c in range(n_in):
        tests = []
        for t in cell_tests[c]:
            found = bound.get(id(t))
            if found is None:
                found = bound[id(t)] = _bind_env(t, index_env)
            tests.append(found)
        columns.append(build_column_index(cell_asts[c], tests))
    return CompiledTable(decision, table, inputs, outputs, columns, cell_tests, rule_outputs,
                         constant_outputs, where, other_reads)


def _camunda_converted(fn: Getter, kind: str, what: str, where: Location) -> Getter:
    """`fn`, with its value converted to Camunda's `kind` (integer, long, double); a value that
    does not convert is null, with an error saying why."""
    def converted(env: feel.Env) -> Any:
        value, message = convert_camunda_number(fn(env), kind)
        if message is not None:
            env.problems.append(Problem(f"{what} is typed {kind}: {message}; it is taken as null", where,
                                        code="type-mismatch"))
        return value
    return converted


def _inlined_reads(inp: CompiledInput, index: ColumnIndex, c: int) -> tuple[Any, ...]:
    """Column c's entry of `CompiledTable._reads` (see there)."""
    numbers = index.number_masks is not None and inp.allowed is None
    floats = index.float_breaks if _takes_raw_numbers(inp, index) else None
    strings, other = _strings_checked(inp, index)
    return (inp.name, inp.getter, index.breaks if numbers else None, index.number_masks, floats, strings, other, c)


def _strings_checked(inp: CompiledInput, index: ColumnIndex) -> tuple[Mapping[str, int] | None, int]:
    """The column's string masks and other-string mask, with -1 for a string its allowed values
    exclude; (None, 0) when strings cannot be looked up this way."""
    if index.string_masks is None or inp.allowed is None:
        return index.string_masks, index.other_string_mask
    allowed = inp.allowed_index
    if allowed is None or allowed.string_masks is None:
        return None, 0
    allowed_strings, allowed_other = allowed.string_masks, allowed.other_string_mask

    def checked(s: str, mask: int) -> int:
        return mask if allowed_strings.get(s, allowed_other) == 1 else -1

    strings = {s: checked(s, mask) for s, mask in index.string_masks.items()}
    for s in allowed_strings:
        strings.setdefault(s, checked(s, index.other_string_mask))
    return strings, checked(OTHER_STRING, index.other_string_mask)


def _takes_raw_numbers(inp: CompiledInput, index: ColumnIndex) -> bool:
    """Whether a plain float or int can be matched by the index alone in this column, with
    no allowed-values check or pending cell test to run on it (those get a FEEL number)."""
    return index.float_breaks is not None and inp.allowed is None and not index.pending


class _QuietEnv(feel.Env):
    """Where cell tests run while the index is built: what a test says about a representative
    value (a number cell given `true` cannot compare them) is of no use, and recording it cost
    a located problem per test, tens of thousands in a large table."""

    __slots__ = ()

    def report(self, message: str, text: str | None = None, position: int | None = None,
               severity: Severity = "error", code: str = "feel-evaluation") -> None:
        return None


def _never(env: feel.Env, value: Any) -> bool:
    return False


def _bind_env(test: UnaryFn, env: feel.Env | None = None) -> Callable[[Any], bool | None]:
    """A unary test as a function of the value alone, for building indexes at compile time."""
    bound = env if env is not None else feel.Env({}, [])
    return lambda value: test(bound, value)


def _equals(expected: Any) -> PriorityTest:
    return lambda value: feel_equal(value, expected) is True


def _priority_tests(compiled: Any) -> list[PriorityTest]:
    """One test per listed output value, in the order written: the priority order.

    Output values are lists of literals in practice; any other kind of test ranks last."""
    node: ast.UnaryTests = compiled.ast
    tests: list[PriorityTest] = []
    for test in node.tests:
        if isinstance(test, ast.EqualsTest) and isinstance(test.operand, ast.Literal):
            tests.append(_equals(test.operand.value))
    return tests


def _is_constant_text(text: str) -> bool:
    """A literal number, string, boolean or null: it reports nothing when evaluated."""
    stripped = text.strip()
    if stripped in ("", "null", "true", "false", "-"):
        return True
    if len(stripped) >= 2 and stripped[0] == stripped[-1] == '"' and '"' not in stripped[1:-1]:
        return True
    try:
        float(stripped)
    except ValueError:
        return False
    return True
