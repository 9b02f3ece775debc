"""Writing a model as YAML: the inverse of the reader, laid out for people.

Short lists (rule rows, name lists) and short mappings of plain values go on one line;
multi-line texts become literal blocks; everything else is block style with indented lists.
The output is deterministic.

`write_yaml` is the export: everything the model holds, but what the DMN writer would give
again left out: element ids equal to the generated ones, the DMN version when it is the default
(1.3), the diagram when it is the automatic layout. So YAML -> DMN -> YAML gives the same text. `canonical_yaml` is the registry's hash form, fixed as it
was when versions were first hashed (every id; no diagram, knowledge sources or vendor
extensions, which do not change what a model decides; the DMN version only when stated and not
1.5), so that a stored version's hash verifies against its content for good.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, TypeVar

import yaml

from decisions.dmn.diagram import complete_diagram
from decisions.dmn.writer import stable_id
from decisions.errors import Location, ModelError, Problem
from decisions.model import (
    DEFAULT_DMN_VERSION,
    BrokenLogic,
    BusinessKnowledgeModel,
    Conditional,
    Context,
    Decision,
    DecisionService,
    DecisionTable,
    Definitions,
    Expression,
    Extensions,
    Filter,
    FunctionDefinition,
    Import,
    InputData,
    Invocation,
    ItemDefinition,
    KnowledgeSource,
    ListExpression,
    LiteralExpression,
    Parameter,
    Relation,
    Rule,
    Scorecard,
    Scoring,
)

T = TypeVar("T")


class _FlowList(list[Any]):
    """A list written on one line: `[a, b, c]` (rule rows, name lists)."""


class _FlowMap(dict[str, Any]):
    """A mapping written on one line: `{type: number, description: ...}`."""


class _Number(str):
    """A number kept as text, written plain (`600`, not `'600'`) where YAML reads it as a number."""


class _Dumper(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:
        return True  # equal values are written out each time, never as anchors

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)  # indent lists under their key, as people write them


# Line breaks YAML knows besides \n: in a plain, single-quoted or block scalar a reader folds
# or normalises them, so texts holding one are written double-quoted, where they are escaped.
_OTHER_BREAKS = frozenset("\r\x85\u2028\u2029")


def _represent_text(dumper: yaml.SafeDumper, text: str) -> yaml.ScalarNode:
    if not _OTHER_BREAKS.isdisjoint(text):
        return dumper.represent_scalar("tag:yaml.org,2002:str", text, style='"')
    style = "|" if "\n" in text else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)


def _represent_flow_list(dumper: yaml.SafeDumper, data: _FlowList) -> yaml.SequenceNode:
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=True)


def _represent_flow_map(dumper: yaml.SafeDumper, data: _FlowMap) -> yaml.MappingNode:
    return dumper.represent_mapping("tag:yaml.org,2002:map", data, flow_style=True)


def _represent_number(dumper: yaml.SafeDumper, text: _Number) -> yaml.ScalarNode:
    tag = dumper.resolve(yaml.ScalarNode, str(text), (True, False))  # type: ignore[no-untyped-call]
    if tag in ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float"):
        return dumper.represent_scalar(tag, str(text))
    return _represent_text(dumper, str(text))


_Dumper.add_representer(str, _represent_text)
_Dumper.add_representer(_Number, _represent_number)
_Dumper.add_representer(_FlowList, _represent_flow_list)
_Dumper.add_representer(_FlowMap, _represent_flow_map)

_FLOW_WIDTH = 100


def write_yaml(defs: Definitions, *, ids: bool = True) -> str:
    """The YAML form of `defs`; `read_yaml` gives the same model back (source positions aside, and
    ids equal to the generated ones, which the DMN writer generates again).

    `ids=False` leaves element ids out, for a cleaner text when nothing refers to them
    (ids matter to Camunda, whose decision keys they are, when other models import this one,
    and for diagram references).
    """
    return _dump(_YamlWriter(defs, ids, canonical=False))


def canonical_yaml(defs: Definitions) -> str:
    """The registry's canonical form of `defs`, whose SHA-256 is a version's content hash."""
    return _dump(_YamlWriter(defs, True, canonical=True))


def _dump(writer: _YamlWriter) -> str:
    try:
        return yaml.dump(writer.model(), Dumper=_Dumper, sort_keys=False, allow_unicode=True,
                         default_flow_style=False, width=1_000_000)
    except RecursionError:
        raise ModelError(Problem("the model's expressions are nested too deeply to write",
                                 Location(file=writer.defs.source.file), code="too-deep")) from None


def _compact(mapping: dict[str, Any]) -> dict[str, Any]:
    """One-line form for short mappings of plain values."""
    plain = all(isinstance(value, str | bool | None) and (not isinstance(value, str) or "\n" not in value)
                for value in mapping.values())
    size = sum(len(str(key)) + len(str(value)) + 4 for key, value in mapping.items())
    return _FlowMap(mapping) if mapping and plain and size <= _FLOW_WIDTH else mapping


def _flow(items: list[Any]) -> list[Any]:
    plain = all(isinstance(item, str) and "\n" not in item for item in items)
    return _FlowList(items) if plain else items


class _YamlWriter:
    def __init__(self, defs: Definitions, ids: bool, canonical: bool) -> None:
        self.defs = defs
        self.ids = ids
        self.canonical = canonical
        self.element: str | None = None
        self.prefix_of = {namespace: prefix for prefix, namespace in defs.prefixes.items()}

    def fail(self, message: str) -> ModelError:
        return ModelError(Problem(f"cannot write YAML: {message}",
                                  Location(file=self.defs.source.file, element=self.element), code="yaml-write"))

    def put(self, target: dict[str, Any], key: str, value: Any) -> None:
        """Set an optional key; None (and, for ids, ids switched off) leave it out."""
        if value is None or ((key == "id" or key.endswith(" id")) and not self.ids):
            return
        target[key] = value

    def element_id(self, target: dict[str, Any], element: Any) -> None:
        """A DRG element's id; the export leaves out the one the DMN writer would generate."""
        if self.canonical or element.id != stable_id(element.name):
            self.put(target, "id", element.id)

    def extensions(self, target: dict[str, Any], extensions: Extensions) -> None:
        """Vendor extensions: attributes as `prefix:name: value`, elements as XML texts."""
        if self.canonical or extensions.is_empty():
            return
        if extensions.attributes:
            target["extensions"] = _compact({self.attribute_name(name): value
                                             for name, value in extensions.attributes.items()})
        if extensions.elements:
            target["extension elements"] = list(extensions.elements)

    def attribute_name(self, clark: str) -> str:
        namespace, _, local = clark[1:].partition("}")
        prefix = self.prefix_of.get(namespace)
        return f"{prefix}:{local}" if prefix else clark

    def named(self, items: list[T], name_of: Callable[[T], str | None], what: str) -> None:
        seen: set[str | None] = set()
        for item in items:
            name = name_of(item)
            if name in seen:
                raise self.fail(f"two {what} are named '{name}'; YAML mappings need unique names")
            seen.add(name)

    def model(self) -> dict[str, Any]:
        defs = self.defs
        out: dict[str, Any] = {"model": defs.name}
        self.put(out, "key", defs.key)
        self.put(out, "namespace", defs.namespace or None)
        self.put(out, "id", defs.id)
        omitted = "1.5" if self.canonical else DEFAULT_DMN_VERSION
        if defs.dmn_version is not None and defs.dmn_version != omitted:
            out["dmn version"] = defs.dmn_version
        self.put(out, "expression language", defs.expression_language)
        self.put(out, "description", defs.description)
        self.put(out, "business key", defs.business_key)
        if not self.canonical:
            if defs.prefixes:
                out["prefixes"] = _compact(dict(defs.prefixes))
            self.extensions(out, defs.extensions)
        sections: list[tuple[str, list[Any], Callable[[Any], Any], str]] = [
            ("imports", defs.imports, self.import_, "imports"),
            ("types", defs.item_definitions, self.item, "types"),
            ("inputs", defs.inputs, self.input, "inputs"),
            ("decisions", defs.decisions, self.decision, "decisions"),
            ("knowledge", defs.knowledge_models, self.bkm, "business knowledge models"),
            ("services", defs.services, self.service, "decision services"),
        ]
        if not self.canonical:
            sections.append(("knowledge sources", defs.knowledge_sources, self.knowledge_source, "knowledge sources"))
        for key, items, write, what in sections:
            if not items:
                continue
            self.named(items, lambda item: item.name, what)
            section: dict[str, Any] = {}
            for item in items:
                self.element = item.name
                section[item.name] = write(item)
            self.element = None
            out[key] = section
        if not self.canonical and defs.diagram is not None and defs.diagram.shapes and not _laid_out(defs):
            out["diagram"] = {shape.element: _FlowList([_Number(_number(value)) for value in (
                shape.bounds.x, shape.bounds.y, shape.bounds.width, shape.bounds.height)])
                for shape in defs.diagram.shapes}
        return out

    def import_(self, imported: Import) -> Any:
        if imported.location is None and imported.import_type is None:
            return imported.namespace
        out: dict[str, Any] = {"namespace": imported.namespace}
        self.put(out, "location", imported.location)
        self.put(out, "type", imported.import_type)
        return _compact(out)

    def item(self, item: ItemDefinition) -> Any:
        out: dict[str, Any] = {}
        self.put(out, "type", item.type_ref)
        self.put(out, "allowed", item.allowed_values)
        self.put(out, "constraint", item.type_constraint)
        if item.is_collection:
            out["collection"] = True
        if item.components:
            self.named(item.components, lambda component: component.name, f"components of '{item.name}'")
            out["components"] = {component.name: self.item(component) for component in item.components}
        if item.function_parameters is not None or item.function_output is not None:
            function: dict[str, Any] = {"parameters": self.parameters(item.function_parameters or [])}
            self.put(function, "returns", item.function_output)
            out["function"] = function
        self.put(out, "id", item.id)
        if list(out) == ["type"]:
            return item.type_ref
        return _compact(out)

    def parameters(self, parameters: list[Parameter]) -> dict[str, Any]:
        self.named(parameters, lambda parameter: parameter.name, "parameters")
        return _compact({parameter.name: parameter.type_ref for parameter in parameters})

    def input(self, input_data: InputData) -> Any:
        out: dict[str, Any] = {}
        self.put(out, "type", input_data.type_ref)
        self.put(out, "description", input_data.description)
        self.element_id(out, input_data)
        self.extensions(out, input_data.extensions)
        if not out or list(out) == ["type"]:
            return input_data.type_ref
        return _compact(out)

    def requires(self, decision: Decision) -> Any:
        """The flat list when every name is a unique local element of the right kind."""
        defs = self.defs
        kinds = (
            {element.name for element in defs.inputs},
            {element.name for element in defs.decisions},
            {element.name for element in defs.knowledge_models} | {element.name for element in defs.services},
        )
        lists = (decision.required_inputs, decision.required_decisions, decision.required_knowledge)
        flat = all(
            name in kinds[index] and sum(name in names for names in kinds) == 1
            for index, names in enumerate(lists) for name in names
        )
        if flat:
            return _FlowList([name for names in lists for name in names])
        out: dict[str, Any] = {}
        for key, names in zip(("inputs", "decisions", "knowledge"), lists, strict=True):
            if names:
                out[key] = _FlowList(names)
        return out

    def decision(self, decision: Decision) -> Any:
        out: dict[str, Any] = {}
        self.put(out, "type", decision.type_ref)
        self.element_id(out, decision)
        self.put(out, "description", decision.description)
        self.put(out, "question", decision.question)
        self.put(out, "allowed answers", decision.allowed_answers)
        if decision.required_inputs or decision.required_decisions or decision.required_knowledge:
            out["requires"] = self.requires(decision)
        if decision.authorities and not self.canonical:
            out["authorities"] = _FlowList(decision.authorities)
        self.extensions(out, decision.extensions)
        if isinstance(decision.logic, BrokenLogic):
            out.update(self.broken(decision.logic))
        elif decision.logic is not None:
            out.update(self.logic(decision.logic, "expression type", "expression id"))
        if not out:
            return None
        if list(out) == ["expression"] and isinstance(out["expression"], str) and out["expression"].strip():
            return out["expression"]
        return out

    def bkm(self, bkm: BusinessKnowledgeModel) -> Any:
        out: dict[str, Any] = {}
        self.put(out, "type", bkm.type_ref)
        self.element_id(out, bkm)
        self.put(out, "description", bkm.description)
        if bkm.required_knowledge:
            out["requires"] = _FlowList(bkm.required_knowledge)
        if bkm.authorities and not self.canonical:
            out["authorities"] = _FlowList(bkm.authorities)
        self.extensions(out, bkm.extensions)
        if isinstance(bkm.logic, BrokenLogic):
            out.update(self.broken(bkm.logic))
        elif bkm.logic is not None:
            function = bkm.logic
            out["parameters"] = self.parameters(function.parameters)
            if function.kind != "FEEL":
                out["kind"] = function.kind
            self.put(out, "function type", function.type_ref)
            self.put(out, "function id", function.id)
            if function.body is not None:
                if isinstance(function.body, FunctionDefinition) and function.body.kind != "FEEL":
                    raise self.fail(f"the knowledge model's body is a {function.body.kind} function; its kind "
                                    "would clash with the knowledge model's own 'kind' key")
                out.update(self.logic(function.body, "expression type", "expression id"))
        return out or None

    def broken(self, logic: BrokenLogic) -> dict[str, Any]:
        """Logic the reader could not read, written back as it was read; only from YAML: what it
        means is not known, so nothing can translate it from DMN. The canonical form holds none:
        it would change when the reader learns to read that logic, and a stored version's hash
        must verify for good (the registry hashes such a model by its text instead)."""
        if self.canonical:
            raise self.fail(f"the logic of '{self.element}' could not be read; the canonical form holds only "
                            "logic that reads")
        if logic.yaml is None:
            first = logic.problems[0].message if logic.problems else "it could not be read"
            raise self.fail(f"the logic of '{self.element}' could not be read from {logic.format} ({first}); "
                            f"correct it in the {logic.format} model first")
        return dict(logic.yaml)

    def service(self, service: DecisionService) -> Any:
        out: dict[str, Any] = {}
        self.put(out, "type", service.type_ref)
        self.element_id(out, service)
        out["outputs"] = _FlowList(service.output_decisions)
        for key, names in (("encapsulated", service.encapsulated_decisions),
                           ("input decisions", service.input_decisions), ("inputs", service.input_data)):
            if names:
                out[key] = _FlowList(names)
        self.extensions(out, service.extensions)
        return out

    def knowledge_source(self, source: KnowledgeSource) -> Any:
        out: dict[str, Any] = {}
        self.element_id(out, source)
        self.put(out, "description", source.description)
        if source.authorities:
            out["authorities"] = _FlowList(source.authorities)
        self.extensions(out, source.extensions)
        return _compact(out) if out else None

    # --- expressions -----------------------------------------------------------------

    def expression(self, expression: Expression) -> Any:
        """A standalone expression: a bare text for a plain literal, else a mapping."""
        if isinstance(expression, LiteralExpression) and expression.type_ref is None and \
                (expression.id is None or not self.ids):
            return expression.text
        return self.logic(expression, "type", "id")

    def logic(self, expression: Expression, type_key: str, id_key: str) -> dict[str, Any]:
        """The keys of `expression`, with its own type and id under `type_key` / `id_key`."""
        out: dict[str, Any] = {}
        self.put(out, type_key, expression.type_ref)
        self.put(out, id_key, expression.id)
        if isinstance(expression, Scoring):
            self.scoring(expression, out)
        elif isinstance(expression, LiteralExpression):
            out["expression"] = expression.text
        elif isinstance(expression, DecisionTable):
            out["table"] = self.table(expression)
        elif isinstance(expression, Scorecard):
            out["scorecard"] = self.scorecard(expression)
        elif isinstance(expression, Context):
            self.context(expression, out)
        elif isinstance(expression, ListExpression):
            out["list"] = _flow([self.expression(item) for item in expression.items])
        elif isinstance(expression, Relation):
            out["relation"] = {
                "columns": _FlowList(expression.columns),
                "rows": [_flow([self.expression(cell) for cell in row]) for row in expression.rows],
            }
        elif isinstance(expression, FunctionDefinition):
            out["function"] = self.parameters(expression.parameters)
            if expression.kind != "FEEL":
                out["kind"] = expression.kind
            if expression.body is not None:
                out["body"] = self.expression(expression.body)
        elif isinstance(expression, Invocation):
            out["invoke"] = expression.callee
            self.named(expression.bindings, lambda binding: binding.name, "bindings")
            bindings = {binding.name: self.expression(binding.value) if binding.value is not None else None
                        for binding in expression.bindings}
            if bindings:
                out["with"] = _compact(bindings)
        elif isinstance(expression, Conditional):
            out.update({"if": self.expression(expression.condition), "then": self.expression(expression.then),
                        "else": self.expression(expression.otherwise)})
        elif isinstance(expression, Filter):
            out.update({"filter": self.expression(expression.source), "match": self.expression(expression.match)})
        else:
            body_key = "return" if expression.kind == "for" else "satisfies"
            out.update({expression.kind: expression.variable, "in": self.expression(expression.source),
                        body_key: self.expression(expression.body)})
        return out

    def scoring(self, scoring: Scoring, out: dict[str, Any]) -> None:
        out["scoring"] = scoring.text
        for key, values in (("constants", scoring.constants), ("baseline", scoring.baseline)):
            if values:
                out[key] = _FlowMap({name: _Number(value) for name, value in values.items()})
        if scoring.monotonic:
            out["monotonic"] = _FlowMap(dict(scoring.monotonic))
        if scoring.domain:
            out["domain"] = _FlowMap({name: _FlowList([_Number(low), _Number(high)])
                                      for name, (low, high) in scoring.domain.items()})
        if scoring.reasons != 3:
            out["reasons"] = _Number(str(scoring.reasons))

    def scorecard(self, card: Scorecard) -> dict[str, Any]:
        out: dict[str, Any] = {"base": _Number(card.base)}
        if card.reasons != 3:
            out["reasons"] = _Number(str(card.reasons))
        self.named(card.characteristics, lambda characteristic: characteristic.name, "scorecard characteristics")
        characteristics: dict[str, Any] = {}
        for characteristic in card.characteristics:
            spec: dict[str, Any] = {"input": characteristic.input}
            self.put(spec, "code", characteristic.code)
            spec["bins"] = [_FlowList([b.test, _Number(b.points)]) for b in characteristic.bins]
            characteristics[characteristic.name] = spec
        out["characteristics"] = characteristics
        return out

    def context(self, context: Context, out: dict[str, Any]) -> None:
        named = [entry for entry in context.entries if entry.name is not None]
        results = [index for index, entry in enumerate(context.entries) if entry.name is None]
        if len(results) > 1 or (results and results[0] != len(context.entries) - 1):
            raise self.fail("a context's result entry (the one without a name) must be its last and only one")
        self.named(named, lambda entry: entry.name, "context entries")
        entries: dict[str, Any] = {}
        for entry in named:
            assert entry.name is not None
            if entry.type_ref is None and isinstance(entry.value, LiteralExpression) and \
                    entry.value.type_ref is None and (entry.value.id is None or not self.ids):
                entries[entry.name] = entry.value.text
                continue
            value: dict[str, Any] = {}
            self.put(value, "type", entry.type_ref)
            value.update(self.logic(entry.value, "expression type", "expression id"))
            entries[entry.name] = value
        out["context"] = entries
        if results:
            out["result"] = self.expression(context.entries[-1].value)

    def table(self, table: DecisionTable) -> dict[str, Any]:
        out: dict[str, Any] = {"hit policy": table.hit_policy + (f" {table.aggregation}" if table.aggregation else "")}
        self.put(out, "output label", table.output_label)
        self.extensions(out, table.extensions)
        inputs: list[Any] = []
        for clause in table.inputs:
            spec: dict[str, Any] = {"expression": clause.expression}
            self.put(spec, "label", clause.label)
            self.put(spec, "type", clause.type_ref)
            self.put(spec, "values", clause.input_values)
            self.put(spec, "id", clause.id)
            self.extensions(spec, clause.extensions)
            inputs.append(clause.expression if len(spec) == 1 else _compact(spec))
        if inputs:
            out["inputs"] = _flow(inputs)
        outputs: list[Any] = []
        for output in table.outputs:
            spec = {}
            for key, value in (("name", output.name), ("label", output.label), ("type", output.type_ref),
                               ("values", output.output_values), ("default", output.default_output),
                               ("id", output.id)):
                self.put(spec, key, value)
            self.extensions(spec, output.extensions)
            outputs.append(output.name if list(spec) == ["name"] else _compact(spec))
        if outputs != [{}]:
            out["outputs"] = _flow(outputs)
        if table.annotation_columns:
            out["annotations"] = _FlowList(table.annotation_columns)
        out["rules"] = [self.rule(rule, table) for rule in table.rules]
        return out

    def rule(self, rule: Rule, table: DecisionTable) -> Any:
        if rule.description is None and (rule.id is None or not self.ids) and \
                len(rule.annotations) == len(table.annotation_columns) and \
                (self.canonical or rule.extensions.is_empty()):
            return _FlowList(rule.input_entries + rule.output_entries + rule.annotations)
        out: dict[str, Any] = {"when": _FlowList(rule.input_entries), "then": _FlowList(rule.output_entries)}
        if rule.annotations:
            out["annotation"] = _FlowList(rule.annotations)
        self.put(out, "description", rule.description)
        self.put(out, "id", rule.id)
        self.extensions(out, rule.extensions)
        return out


def _laid_out(defs: Definitions) -> bool:
    """Whether the model's diagram is the one the DMN writer lays out when there is none."""
    assert defs.diagram is not None
    automatic = complete_diagram(dataclasses.replace(defs, diagram=None))
    return {shape.element: shape.bounds for shape in defs.diagram.shapes} == \
        {shape.element: shape.bounds for shape in automatic.shapes}


def _number(value: float) -> str:
    return str(int(value)) if value == int(value) else repr(value)
