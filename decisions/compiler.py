"""From a parsed model (`Definitions`) to a compiled `Model`, once.

Order of work: item definitions become a `TypeSystem`; business knowledge models become
FEEL functions; decisions are ordered by their requirements (a cycle is an error naming it)
and each one's logic is compiled to a closure; decision services become functions over the
compiled decisions. Every FEEL text is parsed here and nowhere later.

An element that does not compile does not take the model down (the DMN spec's error
semantics): its errors are listed in `Model.problems`, and it compiles to logic that gives null
and reports them whenever it is evaluated or invoked; what requires it sees null. So does an
element whose logic the reader could not read (`BrokenLogic`, holding the reader's problems).
What leaves the model as a whole ambiguous is still a `ModelError`: an element without a name, a name used
twice (a reference could mean either), a requirement cycle (no evaluation order), an item
definition that does not compile (any element may be typed by it) and a business key that is
not an input (it names the model's cases).

Names read by an expression that the model never declares: in a model that declares no input
data (Camunda-style models read variables straight from the process) they become implicit
inputs, with a warning, so such models evaluate with those variables taken from the inputs. In
a model that declares its input data, such a name is a typo or a missing declaration: a load
error at its position, with the closest declared names as suggestions.
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from decisions import feel
from decisions.boxed import Logic, ModelFunction, compile_logic, failing, function_definition
from decisions.compiled import Coercer, CompiledDecision, CompiledService, InputSpec, Model, OutputAlias
from decisions.dialects import is_camunda_model, reads_undeclared_names
from decisions.errors import Location, ModelError, Problem
from decisions.feel.errors import UnknownNameError
from decisions.graph import evaluation_order
from decisions.itemtypes import TypeSystem, feel_type_definitions
from decisions.limits import MAX_IMPLICIT_INPUTS
from decisions.model import BrokenLogic, Decision, DecisionService, DecisionTable, Definitions, ItemDefinition
from decisions.scorecard import CompiledCharacteristic


def _component_names(items: list[ItemDefinition]) -> list[str]:
    names: list[str] = []
    for item in items:
        names.extend(c.name for c in item.components)
        names.extend(_component_names(item.components))
    return names


def _check_names(defs: Definitions, file: str | None) -> None:
    seen: dict[str, str] = {}
    problems: list[Problem] = []
    groups = (("input data", defs.inputs), ("decision", defs.decisions),
              ("business knowledge model", defs.knowledge_models), ("decision service", defs.services))
    for kind, elements in groups:
        for element in elements:
            name = element.name
            if not name or not name.strip():
                problems.append(Problem(f"a {kind} has no name", Location(file=file), code="name"))
            elif name in seen:
                problems.append(Problem(f"the name '{name}' is used by a {seen[name]} and a {kind}",
                                        Location(file=file, element=name), code="duplicate-name"))
            else:
                seen[name] = kind
    if problems:
        raise ModelError(problems)


def _requirement_errors(defs: Definitions, file: str | None) -> dict[str, list[Problem]]:
    """Per decision, the requirements that name nothing in the model: the decision's own errors."""
    inputs = {i.name for i in defs.inputs}
    decisions = {d.name for d in defs.decisions}
    knowledge = {k.name for k in defs.knowledge_models} | {s.name for s in defs.services}
    imported = {i.name for i in defs.imports}
    found: dict[str, list[Problem]] = {}

    def known(name: str, pool: set[str]) -> bool:
        return name in pool or name.split(".", 1)[0] in imported or "#" in name

    for d in defs.decisions:
        where = Location(file=file, element=d.name)
        problems = [Problem(f"requires input data '{name}', which the model does not define", where,
                            code="requirement")
                    for name in d.required_inputs if not known(name, inputs | decisions)]
        problems += [Problem(f"requires decision '{name}', which the model does not define", where,
                             code="requirement")
                     for name in d.required_decisions if not known(name, decisions)]
        problems += [Problem(f"requires knowledge '{name}', which the model does not define", where,
                             code="requirement")
                     for name in d.required_knowledge if not known(name, knowledge)]
        if problems:
            found[d.name] = problems
    return found


def _service_errors(service: DecisionService, decisions: Mapping[str, Any], file: str | None) -> list[Problem]:
    """What a decision service names that the model lacks: its output decisions are evaluated by
    name, so each must be a decision of this model. (Its inputs are parameters: a name nothing
    reads does no harm.)"""
    where = Location(file=file, element=service.name)
    return [Problem(f"outputs decision '{name}', which the model does not define", where, code="requirement")
            for name in service.output_decisions if name not in decisions]


def compile_model(defs: Definitions, imported: Mapping[str, Model] | None = None) -> Model:
    """Compile a parsed model. An element that does not compile (a FEEL text that does not parse,
    a name nothing declares, a bad table, an unknown type, a requirement naming nothing) is
    compiled to logic that gives null and reports its errors when evaluated, and its errors are
    listed in `Model.problems`: the rest of the model evaluates as usual. What makes the model
    as a whole ambiguous (names used twice, a requirement cycle, a broken item definition, an
    unknown business key) is a `ModelError`."""
    try:
        return _compile(defs, imported or {})
    except ModelError as error:
        if defs.source.locate_problem is None:
            raise
        raise ModelError([defs.source.locate_problem(p) for p in error.problems]) from None


def _compile(defs: Definitions, imported: Mapping[str, Model]) -> Model:
    file = defs.source.file
    _check_names(defs, file)
    requirement_errors = _requirement_errors(defs, file)
    items = defs.item_definitions + _imported_items(imported or {})  # theirs by `<import name>.<type>`
    types = TypeSystem(items, file)
    problems: list[Problem] = []  # warnings, and the errors of elements that do not compile
    for model in imported.values():
        problems.extend(p for p in model.problems if p.severity == "error")

    def element_errors(error: ModelError | list[Problem]) -> tuple[Problem, ...]:
        """An element's errors, located as the reader can say it, and listed in the model's problems."""
        found = error.problems if isinstance(error, ModelError) else error
        if defs.source.locate_problem is not None:
            found = [defs.source.locate_problem(p) for p in found]
        problems.extend(found)
        return tuple(found)

    names = [i.name for i in defs.inputs] + [d.name for d in defs.decisions]
    names += [k.name for k in defs.knowledge_models] + [s.name for s in defs.services]
    names += list(imported) + _component_names(defs.item_definitions)
    for model in imported.values():
        names += [f"{n}" for n in model.decision_names + model.input_names + list(model.knowledge)]
    scope = feel.Scope(names, type_definitions=feel_type_definitions(items),
                       builtin_names_are_inputs=reads_undeclared_names(defs))

    implicit: list[str] = []
    declares_inputs = not reads_undeclared_names(defs)  # see decisions.dialects

    def compile_with_implicit(build: Any, where: Location, outputs: Mapping[str, OutputAlias] | None = None,
                              used: list[OutputAlias] | None = None) -> Any:
        """Compile; a name nobody declares becomes an implicit input, and we compile again. A
        name in `outputs` (a required decision's output, Camunda style) is read from that
        decision instead, for this element only: it is appended to `used`."""
        nonlocal scope
        for _ in range(MAX_IMPLICIT_INPUTS):
            try:
                return build(scope.with_names([a.name for a in used]) if used else scope)
            except UnknownNameError as exc:
                if outputs is not None and used is not None and exc.name in outputs \
                        and all(a.name != exc.name for a in used):
                    used.append(outputs[exc.name])
                    continue
                if exc.name in implicit:
                    raise ModelError(exc.to_problem(where)) from None
                if declares_inputs:
                    raise ModelError(Problem(_unknown_name(exc.name, scope, used), where.with_(
                        text=exc.text, position=exc.position), code="unknown-name")) from None
                implicit.append(exc.name)
                scope = scope.with_names([exc.name])
                problems.append(Problem(
                    f"'{exc.name}' is not declared as input data; it is read from the inputs",
                    where.with_(text=exc.text, position=exc.position), "warning", "implicit-input"))
        raise ModelError(Problem("too many undeclared names", where))

    # Business knowledge models: functions, all visible to each other (recursion included).
    knowledge_env = feel.Env({}, [])
    for name, model in imported.items():
        knowledge_env.vars[name] = dict(model.knowledge)  # functions; decisions are bound per call
    for bkm in defs.knowledge_models:
        where = Location(file=file, element=bkm.name)
        if bkm.logic is None:
            knowledge_env.vars[bkm.name] = ModelFunction(bkm.name, [], lambda env, args: None,
                                                         knowledge_env, where)
            continue
        if isinstance(bkm.logic, BrokenLogic):  # what the reader could not read: null and why, when called
            knowledge_env.vars[bkm.name] = ModelFunction(bkm.name, [p.name for p in bkm.logic.parameters],
                                                         _failing_body(element_errors(list(bkm.logic.problems))),
                                                         knowledge_env, where)
            continue
        definition = bkm.logic
        try:
            make = compile_with_implicit(
                lambda s, d=definition, where=where, name=bkm.name: function_definition(d, s, where, types, name),
                where)
        except ModelError as error:  # a function that gives null and reports why, wherever it is called
            knowledge_env.vars[bkm.name] = ModelFunction(bkm.name, [p.name for p in definition.parameters],
                                                         _failing_body(element_errors(error)), knowledge_env, where)
            continue
        knowledge_env.vars[bkm.name] = make(knowledge_env)

    # Decisions, in requirement order.
    by_name = {d.name: d for d in defs.decisions}
    order = evaluation_order({d.name: d.required_decisions for d in defs.decisions}, file)
    compiled: dict[str, CompiledDecision] = {}
    for name in order:
        decision = by_name[name]
        where = Location(file=file, element=name, line=decision.source.line)
        aliases: list[OutputAlias] = []
        try:
            if isinstance(decision.logic, BrokenLogic):  # the reader's problems, and any of its requirements
                raise ModelError(requirement_errors.get(name, []) + list(decision.logic.problems))
            if name in requirement_errors:
                raise ModelError(requirement_errors[name])
            logic: Logic = compile_with_implicit(
                lambda s, d=decision.logic, where=where: compile_logic(d, s, where, types), where,
                _required_outputs(decision.required_decisions, by_name, is_camunda_model(defs)), aliases)
            if logic.scorecard is not None:
                _check_characteristic_keys(logic.scorecard.characteristics, by_name, where)
            _check_type_ref(types, decision.type_ref, where)
            coerce = _result_coercer(types.coercer(decision.type_ref), decision.logic)
        except ModelError as error:
            logic, coerce, aliases = failing(element_errors(error)), None, []
        if logic.scoring is not None:
            problems.extend(logic.scoring.problems)  # what its symbolic checks found
        compiled[name] = CompiledDecision(name, logic, decision.type_ref, coerce,
                                          list(decision.required_decisions) + list(decision.required_inputs),
                                          where, aliases)

    inputs: dict[str, InputSpec] = {}
    for data in defs.inputs:
        where = Location(file=file, element=data.name)
        try:
            _check_type_ref(types, data.type_ref, where)
        except ModelError as error:  # bound to null, with its errors, whatever value is given
            inputs[data.name] = InputSpec(data.name, data.type_ref, None, types.binder(None),
                                          description=data.description, errors=element_errors(error))
            continue
        inputs[data.name] = InputSpec(data.name, data.type_ref, types.coercer(data.type_ref),
                                      types.binder(data.type_ref), description=data.description,
                                      unconverted=types.unconverted(data.type_ref),
                                      numbers_unchecked=types.numbers_unchecked(data.type_ref))
    for name in implicit:
        if name not in inputs:
            inputs[name] = InputSpec(name, None, None, types.binder(None), implicit=True,
                                     numbers_unchecked=types.numbers_unchecked(None))

    _check_business_key(defs.business_key, list(inputs), file)
    model = Model(defs, inputs, compiled, knowledge_env.vars, problems=problems, imports=dict(imported))
    for service in defs.services:
        params = list(service.input_decisions) + list(service.input_data)
        errors = _service_errors(service, compiled, file)
        model.services[service.name] = CompiledService(service.name, list(service.output_decisions), params,
                                                       element_errors(errors) if errors else ())
        knowledge_env.vars[service.name] = _service_function(model, service.name, params,
                                                             Location(file=file, element=service.name),
                                                             knowledge_env)
    return model


def _failing_body(errors: Sequence[Problem]) -> Callable[[feel.Env, dict[str, Any]], Any]:
    """The body of a function that does not compile: null, and its errors, whatever the arguments."""
    fails = failing(errors).fn

    def body(env: feel.Env, args: dict[str, Any]) -> Any:
        return fails(env)

    return body


def _unknown_name(name: str, scope: feel.Scope, used: Sequence[OutputAlias] | None) -> str:
    """What to say of a name nobody declares, with the closest declared names."""
    known = sorted(scope.names | {a.name for a in used or ()})
    close = difflib.get_close_matches(name, known, n=3, cutoff=0.6) or \
        difflib.get_close_matches(name.lower(), [k.lower() for k in known], n=3, cutoff=0.6)
    by_lower = {k.lower(): k for k in known}
    suggestions = [by_lower.get(c, c) for c in close]
    hint = f"; did you mean {' or '.join(repr(c) for c in suggestions)}?" if suggestions else \
        "; declare it as input data, or quote it if it is meant as a string"
    return f"'{name}' is not declared as input data or any other element of the model{hint}"


def _result_coercer(coerce: Coercer | None, logic: Any) -> Coercer | None:
    """The check of a decision's result against its type. A table that gives a list (COLLECT
    without aggregation, RULE ORDER, OUTPUT ORDER) typed as a single value, as KIE models are,
    gives a list of that type: each item is checked."""
    if coerce is None or not isinstance(logic, DecisionTable) or logic.aggregation is not None \
            or logic.hit_policy not in ("COLLECT", "RULE ORDER", "OUTPUT ORDER"):
        return coerce
    whole = coerce

    def each(value: Any) -> tuple[Any, str | None]:
        result, message = whole(value)
        if message is None or not isinstance(value, list):
            return result, message
        items = [whole(item) for item in value]
        if any(found is not None for _, found in items):
            return result, message
        return [item for item, _ in items], None
    return each


def _required_outputs(required: Sequence[str], decisions: Mapping[str, Decision],
                      by_id: bool = False) -> dict[str, OutputAlias]:
    """The outputs of the required decisions' tables, by output name, as Camunda 7 puts them in
    scope in a DRG: a table reads `season`, the output of the decision named "Season decision".
    With `by_id` (Camunda models), a required decision's whole value is also read by its id, as
    Camunda 8 does (`jedi_or_sith`, the decision "Jedi or Sith" whose output has no name).
    A name two required decisions share is left out (neither is meant); a decision required
    twice (Camunda Modeler can draw the same requirement twice) is one decision."""
    found: dict[str, OutputAlias] = {}
    shared: set[str] = set()
    for source in dict.fromkeys(required):
        decision = decisions.get(source)
        if by_id and decision is not None and decision.id and decision.id != source:
            if decision.id in found:
                shared.add(decision.id)
            found[decision.id] = OutputAlias(decision.id, source)
        table = decision.logic if decision is not None else None
        if not isinstance(table, DecisionTable):
            continue
        multiple = len(table.outputs) > 1
        for output in table.outputs:
            if not output.name or output.name == source:
                continue
            if output.name in found and found[output.name].source != source:
                shared.add(output.name)
            found[output.name] = OutputAlias(output.name, source, output.name if multiple else None)
    return {name: alias for name, alias in found.items() if name not in shared}


def _check_characteristic_keys(characteristics: list[CompiledCharacteristic], decisions: Mapping[str, Any],
                               where: Location) -> None:
    """A scorecard's characteristic tables are known as `<decision>.<characteristic>`: not a decision's name."""
    for characteristic in characteristics:
        if characteristic.key in decisions:
            raise ModelError(Problem(f"the characteristic '{characteristic.name}' is known as '{characteristic.key}', "
                                     "which is also the name of a decision; rename one of them",
                                     characteristic.where, code="scorecard"))


def _check_business_key(business_key: str | None, inputs: list[str], file: str | None) -> None:
    if business_key is None or business_key in inputs:
        return
    known = "its inputs are " + ", ".join(f"'{name}'" for name in inputs) if inputs else "it has no inputs"
    raise ModelError(Problem(f"the business key '{business_key}' is not an input of the model; {known}",
                             Location(file=file, path="business key"), code="business-key"))


def _imported_items(imported: Mapping[str, Model]) -> list[ItemDefinition]:
    """The item definitions of the imported models, named as the importing model reads them:
    `base.tPerson` for `tPerson` of the import named `base`; their references to their own
    model's types (and to what that model imports) are renamed alike."""
    found: list[ItemDefinition] = []
    for prefix, model in imported.items():
        own = {item.name for item in model.definitions.item_definitions}
        theirs = {imp.name for imp in model.definitions.imports}

        def renamed(item: ItemDefinition, top: bool, prefix: str = prefix, own: set[str] = own,
                    theirs: set[str] = theirs) -> ItemDefinition:
            ref = item.type_ref
            if ref is not None and (ref in own or ref.split(".", 1)[0] in theirs):
                ref = f"{prefix}.{ref}"
            return dataclasses.replace(item, name=f"{prefix}.{item.name}" if top else item.name, type_ref=ref,
                                       components=[renamed(c, False) for c in item.components])
        found.extend(renamed(item, True) for item in model.definitions.item_definitions)
        found.extend(_imported_items({f"{prefix}.{k}": v for k, v in model.imports.items()}))
    return found


def _check_type_ref(types: TypeSystem, type_ref: str | None, where: Location) -> None:
    if type_ref and not types.known(type_ref) and "." not in type_ref:
        raise ModelError(Problem(f"unknown type '{type_ref}'", where, code="unknown-type"))


def _service_function(model: Model, name: str, params: list[str], where: Location,
                      env: feel.Env) -> ModelFunction:
    def run(call_env: feel.Env, args: dict[str, Any]) -> Any:
        result = model.invoke_service(name, {k: v for k, v in args.items() if v is not None},
                                      budget=call_env.budget)
        call_env.problems.extend(result.problems)
        return result.outputs.get(name)

    return ModelFunction(name, params, run, env, where)
