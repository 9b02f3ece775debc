"""Reading expressions from the YAML tree: literal texts, tables, contexts, ... iterators."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Literal, cast

from decisions.model import (
    AGGREGATIONS,
    HIT_POLICIES,
    Aggregation,
    Bin,
    Binding,
    Characteristic,
    Conditional,
    Context,
    ContextEntry,
    DecisionTable,
    Direction,
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
    Relation,
    Rule,
    Scorecard,
    Scoring,
    Source,
)
from decisions.scorecard import is_points
from decisions.yaml_format.read_values import YamlValues
from decisions.yaml_format.tree import YMap, YNode, YScalar, YSeq, describe, is_null
from decisions.yaml_format.vocabulary import (
    CHARACTERISTIC_KEYS,
    COMPANIONS,
    EXPRESSION_KEYS,
    EXTENSION_KEYS,
    HIT_POLICY_ABBREVIATIONS,
    KINDS,
    SCORECARD_KEYS,
)


class ExpressionReader(YamlValues):
    """Expressions: a standalone one (`expression`), or one whose keys sit in a holder (`logic`)."""

    def expression(self, node: YNode, path: str) -> Expression:
        """A standalone expression: a FEEL text, or a mapping with a kind key and `type`/`id`."""
        if isinstance(node, YScalar):
            return LiteralExpression(self.feel(node, path), source=self.source(node))
        spec = self.mapping(node, path, "an expression", EXPRESSION_KEYS | {"type", "id"})
        expression = self.logic(spec, path, "type", "id")
        if expression is None:
            raise self.fail("the mapping has no expression key (one of: " + ", ".join(KINDS) + ")", node, path)
        return expression

    def logic(self, spec: YMap, path: str, type_key: str, id_key: str,
              holder_keys: frozenset[str] = frozenset()) -> Expression | None:
        """The expression whose keys sit in `spec` (None if there is none).

        `holder_keys`: keys that belong to the holder although an expression kind also uses them
        (a knowledge model's `kind` is its function's kind).
        """
        kinds = [key for key in KINDS if key in spec.entries]
        if len(kinds) > 1:
            raise self.fail(f"several expressions given ({', '.join(kinds)}); expected one", spec, path)
        companions = [key for key in spec.entries if key in COMPANIONS and key not in holder_keys]
        if not kinds:
            if companions:
                owners = [kind for kind, keys in KINDS.items() if companions[0] in keys]
                raise self.fail(f"'{companions[0]}' needs '{owners[0]}'", spec.entries[companions[0]], path)
            return None
        kind = kinds[0]
        for key in companions:
            if key not in KINDS[kind]:
                raise self.fail(f"'{key}' does not go with '{kind}'", spec.entries[key], f"{path}.{key}")
        type_ref, identifier = self.optional(spec, type_key, path), self.optional(spec, id_key, path)
        node, step = spec.entries[kind], f"{path}.{kind}"
        if kind == "expression":
            return LiteralExpression(self.feel(node, step), type_ref, identifier, self.source(node))
        if kind == "scoring":
            return self.scoring(spec, path, type_ref, identifier)
        if kind == "table":
            return self.table(node, step, type_ref, identifier)
        if kind == "scorecard":
            return self.scorecard(node, step, type_ref, identifier)
        if kind == "context":
            return self.context(spec, path, type_ref, identifier)
        if kind == "list":
            return ListExpression(self.expressions(node, step), type_ref, identifier)
        if kind == "relation":
            return self.relation(node, step, type_ref, identifier)
        if kind == "function":
            body = spec.entries.get("body")
            return FunctionDefinition(
                parameters=self.parameters(node, step),
                body=self.expression(body, f"{path}.body") if body is not None else None,
                kind=self.function_kind(spec, path), type_ref=type_ref, id=identifier,
            )
        if kind == "invoke":
            return self.invocation(spec, path, type_ref, identifier)
        if kind == "if":
            return Conditional(self.expression(node, step), self.part(spec, path, "then"),
                               self.part(spec, path, "else"), type_ref, identifier)
        if kind == "filter":
            return Filter(self.expression(node, step), self.part(spec, path, "match"), type_ref, identifier)
        body_key = "return" if kind == "for" else "satisfies"
        return Iterator(cast(Literal["for", "some", "every"], kind), self.text(node, step, "the variable name"),
                        self.part(spec, path, "in"), self.part(spec, path, body_key), type_ref, identifier)

    def scoring(self, spec: YMap, path: str, type_ref: str | None, identifier: str | None) -> Scoring:
        """`scoring:` with its `constants`, `baseline`, `monotonic`, `domain` and `reasons`."""
        node = spec.entries["scoring"]
        scoring = Scoring(self.feel(node, f"{path}.scoring"), type_ref, identifier, self.source(node))
        for key, into in (("constants", scoring.constants), ("baseline", scoring.baseline)):
            for name, value in self.section(spec.entries.get(key), f"{path}.{key}").items():
                into[name] = self.number(value, f"{path}.{key}.{name}")
        for name, value in self.section(spec.entries.get("monotonic"), f"{path}.monotonic").items():
            direction = self.text(value, f"{path}.monotonic.{name}", "a direction").strip()
            if direction not in ("increasing", "decreasing"):
                raise self.fail(f"expected increasing or decreasing, not '{direction}'", value,
                                f"{path}.monotonic.{name}")
            scoring.monotonic[name] = cast(Direction, direction)
        for name, value in self.section(spec.entries.get("domain"), f"{path}.domain").items():
            step = f"{path}.domain.{name}"
            if not isinstance(value, YSeq) or len(value.items) != 2:
                raise self.fail(f"a domain is a list of two numbers, [low, high], not {describe(value)}", value, step)
            scoring.domain[name] = (self.number(value.items[0], f"{step}[1]"), self.number(value.items[1], f"{step}[2]"))
        if "reasons" in spec.entries:
            count = self.text(spec.entries["reasons"], f"{path}.reasons", "the number of reasons").strip()
            if not count.isdigit() or int(count) < 1:
                raise self.fail(f"reasons must be a whole number of at least 1, not '{count}'",
                                spec.entries["reasons"], f"{path}.reasons")
            scoring.reasons = int(count)
        return scoring

    def scorecard(self, node: YNode, path: str, type_ref: str | None, identifier: str | None) -> Scorecard:
        """`scorecard:` with `base`, `reasons` and `characteristics` (decisions/scorecard.py)."""
        spec = self.mapping(node, path, "a scorecard", SCORECARD_KEYS)
        if "base" not in spec.entries:
            raise self.fail("a scorecard needs 'base' (its base points)", node, path)
        base = self.points(spec.entries["base"], f"{path}.base", "the base")
        card = Scorecard(base, [], type_ref=type_ref, id=identifier, source=self.source(node))
        if "reasons" in spec.entries:
            card.reasons = self.reasons(spec.entries["reasons"], f"{path}.reasons")
        step = f"{path}.characteristics"
        section = self.named_section(spec.entries.get("characteristics"), step)
        if not section.entries:
            raise self.fail("a scorecard needs at least one characteristic under 'characteristics'",
                            spec.entries.get("characteristics", node), step)
        for name, item in section.entries.items():
            card.characteristics.append(self.characteristic(name, item, f"{step}.{name}",
                                                            section.key_lines.get(name, item.line)))
        return card

    def characteristic(self, name: str, node: YNode, path: str, line: int) -> Characteristic:
        spec = self.mapping(node, path, f"characteristic '{name}'", CHARACTERISTIC_KEYS)
        if "input" not in spec.entries:
            raise self.fail(f"characteristic '{name}' needs 'input' (the expression it cuts into bins)", node, path)
        characteristic = Characteristic(name, self.feel(spec.entries["input"], f"{path}.input"), [],
                                        self.optional(spec, "code", path), Source(self.file, line))
        bins = spec.entries.get("bins")
        if is_null(bins) or (isinstance(bins, YSeq) and not bins.items):
            raise self.fail(f"characteristic '{name}' has no bins", bins or node, f"{path}.bins")
        if not isinstance(bins, YSeq):
            raise self.fail(f"'bins' must be a list of [tests, points], not {describe(bins)}", bins, f"{path}.bins")
        for number, item in enumerate(bins.items, 1):
            step = f"{path}.bins[{number}]"
            if not isinstance(item, YSeq) or len(item.items) != 2:
                raise self.fail(f"bin {number} must be a list of two, [tests, points], not {describe(item)}"
                                + (f" of {len(item.items)}" if isinstance(item, YSeq) else ""), item, step)
            test = self.feel(item.items[0], f"{step}[1]", "a bin's tests")
            points = self.points(item.items[1], step, f"the points of bin {number}")
            characteristic.bins.append(Bin(test, points, self.source(item)))
        return characteristic

    def points(self, node: YNode, path: str, what: str) -> str:
        text = self.text(node, path, what).strip()
        if not is_points(text):
            raise self.fail(f"{what} must be a number, not '{text}'", node, path)
        return text

    def reasons(self, node: YNode, path: str) -> int:
        count = self.text(node, path, "the number of reasons").strip()
        if not count.isdigit() or int(count) < 1:
            raise self.fail(f"reasons must be a whole number of at least 1, not '{count}'", node, path)
        return int(count)

    def number(self, node: YNode, path: str) -> str:
        text = self.text(node, path, "a number").strip()
        try:
            if Decimal(text).is_finite():
                return text
        except InvalidOperation:
            pass
        raise self.fail(f"expected a number, not '{text}'", node, path)

    def part(self, spec: YMap, path: str, key: str) -> Expression:
        if key not in spec.entries:
            kind = next(kind for kind in KINDS if kind in spec.entries)
            raise self.fail(f"'{kind}' needs '{key}'", spec, path)
        return self.expression(spec.entries[key], f"{path}.{key}")

    def expressions(self, node: YNode, path: str) -> list[Expression]:
        if not isinstance(node, YSeq):
            raise self.fail(f"expected a list of expressions, not {describe(node)}", node, path)
        return [self.expression(item, f"{path}[{index}]") for index, item in enumerate(node.items, 1)]

    def context(self, spec: YMap, path: str, type_ref: str | None, identifier: str | None) -> Context:
        entries: list[ContextEntry] = []
        step = f"{path}.context"
        for name, node in self.section(spec.entries["context"], step).items():
            entry_path = f"{step}.{name}"
            if isinstance(node, YScalar):
                entries.append(ContextEntry(name, LiteralExpression(self.feel(node, entry_path),
                                                                    source=self.source(node))))
                continue
            entry = self.mapping(node, entry_path, f"context entry '{name}'",
                                 EXPRESSION_KEYS | {"type", "expression type", "expression id"})
            value = self.logic(entry, entry_path, "expression type", "expression id")
            if value is None:
                raise self.fail(f"context entry '{name}' has no value expression", node, entry_path)
            entries.append(ContextEntry(name, value, self.optional(entry, "type", entry_path)))
        if "result" in spec.entries:
            entries.append(ContextEntry(None, self.expression(spec.entries["result"], f"{path}.result")))
        return Context(entries, type_ref, identifier)

    def relation(self, node: YNode, path: str, type_ref: str | None, identifier: str | None) -> Relation:
        spec = self.mapping(node, path, "a relation", ("columns", "rows"))
        columns = self.names(spec.entries.get("columns"), f"{path}.columns")
        rows: list[list[Expression]] = []
        for index, row in enumerate(self.sequence(spec, "rows", path), 1):
            cells = self.expressions(row, f"{path}.rows[{index}]")
            if len(cells) != len(columns):
                raise self.fail(f"row {index} has {len(cells)} cells but the relation has {len(columns)} columns",
                                row, f"{path}.rows[{index}]")
            rows.append(cells)
        return Relation(columns, rows, type_ref, identifier)

    def invocation(self, spec: YMap, path: str, type_ref: str | None, identifier: str | None) -> Invocation:
        callee = self.text(spec.entries["invoke"], f"{path}.invoke", "the name of the invoked function")
        bindings: list[Binding] = []
        for name, node in self.section(spec.entries.get("with"), f"{path}.with").items():
            value = None if is_null(node) else self.expression(node, f"{path}.with.{name}")
            bindings.append(Binding(name, value))
        return Invocation(callee, bindings, type_ref, identifier)

    def table(self, node: YNode, path: str, type_ref: str | None, identifier: str | None) -> DecisionTable:
        spec = self.mapping(node, path, "a decision table",
                            ("hit policy", "inputs", "outputs", "annotations", "output label", "rules",
                             *EXTENSION_KEYS))
        hit_policy, aggregation = self.hit_policy(spec, path)
        inputs = [self.input_clause(item, f"{path}.inputs[{index}]")
                  for index, item in enumerate(self.sequence(spec, "inputs", path), 1)]
        if "outputs" in spec.entries:
            outputs = [self.output_clause(item, f"{path}.outputs[{index}]")
                       for index, item in enumerate(self.sequence(spec, "outputs", path), 1)]
            if not outputs:
                raise self.fail("a decision table needs at least one output", spec.entries["outputs"],
                                f"{path}.outputs")
        else:
            outputs = [OutputClause()]
        annotations = self.names(spec.entries.get("annotations"), f"{path}.annotations")
        table = DecisionTable(inputs, outputs, [], hit_policy, aggregation, annotations,
                              self.optional(spec, "output label", path), type_ref, identifier, self.source(node))
        table.extensions = self.extensions(spec, path)
        for index, item in enumerate(self.sequence(spec, "rules", path), 1):
            table.rules.append(self.rule(item, f"{path}.rules[{index}]", index, table))
        return table

    def sequence(self, spec: YMap, key: str, path: str) -> list[YNode]:
        node = spec.entries.get(key)
        if is_null(node):
            return []
        if not isinstance(node, YSeq):
            raise self.fail(f"'{key}' must be a list, not {describe(node)}", node, f"{path}.{key}")
        return node.items

    def hit_policy(self, spec: YMap, path: str) -> tuple[HitPolicy, Aggregation | None]:
        text = self.optional(spec, "hit policy", path) or "UNIQUE"
        normal = " ".join(text.replace("_", " ").upper().split())
        normal = HIT_POLICY_ABBREVIATIONS.get(normal, normal)
        policy, aggregation = normal, None
        if normal.startswith("COLLECT "):
            policy, aggregation = "COLLECT", normal[len("COLLECT "):]
        if policy not in HIT_POLICIES or (aggregation is not None and aggregation not in AGGREGATIONS):
            raise self.fail(f"unknown hit policy '{text}'; expected one of {', '.join(HIT_POLICIES)} "
                            "(or COLLECT SUM / MIN / MAX / COUNT)", spec.entries.get("hit policy"), f"{path}.hit policy")
        return cast(HitPolicy, policy), cast(Aggregation | None, aggregation)

    def input_clause(self, node: YNode, path: str) -> InputClause:
        if isinstance(node, YScalar):
            return InputClause(self.feel(node, path))
        spec = self.mapping(node, path, "a table input", ("expression", "label", "type", "values", "id",
                                                          *EXTENSION_KEYS))
        if "expression" not in spec.entries:
            raise self.fail("a table input needs 'expression'", node, path)
        return InputClause(self.feel(spec.entries["expression"], f"{path}.expression"),
                           self.optional(spec, "label", path), self.optional(spec, "type", path),
                           self.optional(spec, "values", path), self.optional(spec, "id", path),
                           self.extensions(spec, path))

    def output_clause(self, node: YNode, path: str) -> OutputClause:
        if isinstance(node, YScalar):
            return OutputClause(name=None if is_null(node) else node.text)
        spec = self.mapping(node, path, "a table output", ("name", "label", "type", "values", "default", "id",
                                                           *EXTENSION_KEYS))
        return OutputClause(self.optional(spec, "name", path), self.optional(spec, "label", path),
                            self.optional(spec, "type", path), self.optional(spec, "values", path),
                            self.optional(spec, "default", path), self.optional(spec, "id", path),
                            self.extensions(spec, path))

    def cells(self, node: YNode | None, path: str, expected: int | None, what: str, number: int) -> list[str]:
        if is_null(node):
            items: list[YNode] = []
        elif isinstance(node, YSeq):
            items = node.items
        else:
            raise self.fail(f"the {what}s must be a list, not {describe(node)}", node, path, rule=number)
        if expected is not None and len(items) != expected:
            raise self.fail(f"rule {number} has {_count(len(items), what)} but the table has {expected}", node,
                            path, rule=number)
        return [self.feel(item, f"{path}[{index}]") for index, item in enumerate(items, 1)]

    def rule(self, node: YNode, path: str, number: int, table: DecisionTable) -> Rule:
        n_in, n_out, n_notes = len(table.inputs), len(table.outputs), len(table.annotation_columns)
        if isinstance(node, YSeq):
            if len(node.items) != n_in + n_out + n_notes:
                counts = [_count(n_in, "input"), _count(n_out, "output")]
                if n_notes:
                    counts.append(_count(n_notes, "annotation"))
                columns = " + ".join(counts)
                raise self.fail(f"rule {number} has {_count(len(node.items), 'cell')} but the table has {columns}",
                                node, path, rule=number)
            cells = self.cells(node, path, None, "cell", number)
            return Rule(cells[:n_in], cells[n_in:n_in + n_out], cells[n_in + n_out:], source=self.source(node))
        spec = self.mapping(node, path, f"rule {number}", ("when", "then", "annotation", "description", "id",
                                                           *EXTENSION_KEYS))
        if "then" not in spec.entries:
            raise self.fail(f"rule {number} has no 'then' (its output cells)", node, path, rule=number)
        return Rule(
            input_entries=self.cells(spec.entries.get("when"), f"{path}.when", n_in, "input cell", number),
            output_entries=self.cells(spec.entries["then"], f"{path}.then", n_out, "output cell", number),
            annotations=self.cells(spec.entries.get("annotation"), f"{path}.annotation", None, "annotation", number),
            id=self.optional(spec, "id", path),
            description=self.optional(spec, "description", path),
            extensions=self.extensions(spec, path),
            source=self.source(node),
        )


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"
