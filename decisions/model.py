"""The parsed model: what a DMN, YAML or spreadsheet file says, before compilation.

These are plain immutable-by-convention dataclasses with no behaviour. Readers
(`decisions.dmn.reader`, `decisions.yaml_format`) produce them, writers consume them, and
`decisions.compiler` turns them into a compiled `Model`. Expressions are kept as FEEL text
here: parsing FEEL needs the names in scope, which only the compiler knows.

Expression kinds form one closed family (`Expression`); adding a kind means adding a class
here, a case in each reader/writer and a case in the compiler.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from decisions.errors import Problem

# The DMN version of a model that does not state one (YAML without `dmn version`, a workbook, a
# model built in code): DMN 1.3 is the newest version every common modeler opens.
DEFAULT_DMN_VERSION = "1.3"

HitPolicy = Literal[
    "UNIQUE", "FIRST", "PRIORITY", "ANY", "COLLECT", "RULE ORDER", "OUTPUT ORDER"
]
Aggregation = Literal["SUM", "MIN", "MAX", "COUNT"]
HIT_POLICIES: tuple[str, ...] = (
    "UNIQUE", "FIRST", "PRIORITY", "ANY", "COLLECT", "RULE ORDER", "OUTPUT ORDER"
)
AGGREGATIONS: tuple[str, ...] = ("SUM", "MIN", "MAX", "COUNT")


@dataclass
class Source:
    """Where an element came from: file and, where the reader knows it, the line."""

    file: str | None = None
    line: int | None = None
    # In a model's source only: how the reader restates a problem the compiler finds, where it
    # knows better where it is (a workbook: the sheet and cell); None: the compiler's location stands.
    locate_problem: Callable[[Problem], Problem] | None = field(default=None, compare=False, repr=False)


@dataclass
class Extensions:
    """Vendor content DMN leaves open (Camunda's `historyTimeToLive`, ...), kept to be written back.

    `attributes`: namespaced attributes by `{namespace}name`. `elements`: the children of
    `<extensionElements>`, each as a well-formed XML text that declares the namespaces it uses.
    The engine never interprets them."""

    attributes: dict[str, str] = field(default_factory=dict)
    elements: list[str] = field(default_factory=list)

    def is_empty(self) -> bool:
        return not self.attributes and not self.elements


# --- expressions -------------------------------------------------------------------


@dataclass
class LiteralExpression:
    text: str
    type_ref: str | None = None
    id: str | None = None
    source: Source = field(default_factory=Source)


Direction = Literal["increasing", "decreasing"]


@dataclass
class Scoring(LiteralExpression):
    """A scoring expression (`decisions.scoring`): a literal expression kept to arithmetic over
    numbers, with its named constants, the baseline value of inputs for reason codes, declared
    monotonicity and input domains. Numbers are kept as written, as text. In DMN it is a
    literal expression carrying these in an extension element."""

    constants: dict[str, str] = field(default_factory=dict)  # name -> number
    baseline: dict[str, str] = field(default_factory=dict)  # variable -> number
    monotonic: dict[str, Direction] = field(default_factory=dict)  # variable -> direction
    domain: dict[str, tuple[str, str]] = field(default_factory=dict)  # variable -> (low, high)
    reasons: int = 3  # how many reason codes a result lists


@dataclass
class Bin:
    """One bin of a scorecard characteristic: unary tests (as in a table's input cell) and its points."""

    test: str  # unary tests text: `< 25`, `[25..40)`, `"Employed", "Self-employed"`, `null`, `-`
    points: str  # a number, kept as written
    source: Source = field(default_factory=Source)


@dataclass
class Characteristic:
    """One characteristic of a scorecard: an input expression cut into bins, each giving points."""

    name: str
    input: str  # FEEL text over the decision's requirements, usually an input's name
    bins: list[Bin]
    code: str | None = None  # the reason code reported when it loses points, e.g. "AGE"
    source: Source = field(default_factory=Source)


@dataclass
class Scorecard:
    """A points scorecard (`decisions.scorecard`): base points plus, per characteristic, the points
    of the bin its value falls in; reason codes from the points each characteristic lost against
    its best bin. In DMN it is a context of one COLLECT SUM table per characteristic and a final
    `base + ...` entry, carrying `base`, `reasons` and the codes in an extension element."""

    base: str  # a number, kept as written
    characteristics: list[Characteristic]
    reasons: int = 3  # how many reason codes a result lists
    type_ref: str | None = None
    id: str | None = None
    source: Source = field(default_factory=Source)


@dataclass
class InputClause:
    expression: str  # FEEL text of the input expression
    label: str | None = None
    type_ref: str | None = None
    input_values: str | None = None  # unary tests text: the allowed values
    id: str | None = None
    extensions: Extensions = field(default_factory=Extensions)

    @property
    def title(self) -> str:
        return self.label or self.expression


@dataclass
class OutputClause:
    name: str | None = None  # required when the table has several outputs
    label: str | None = None
    type_ref: str | None = None
    output_values: str | None = None  # unary tests text: allowed values, also the priority order
    default_output: str | None = None  # FEEL text
    id: str | None = None
    extensions: Extensions = field(default_factory=Extensions)

    @property
    def title(self) -> str:
        return self.name or self.label or "output"


@dataclass
class Rule:
    input_entries: list[str]  # unary tests text, one per input clause
    output_entries: list[str]  # FEEL text, one per output clause
    annotations: list[str] = field(default_factory=list)  # one per annotation column
    id: str | None = None
    description: str | None = None
    source: Source = field(default_factory=Source)
    extensions: Extensions = field(default_factory=Extensions)


@dataclass
class DecisionTable:
    inputs: list[InputClause]
    outputs: list[OutputClause]
    rules: list[Rule]
    hit_policy: HitPolicy = "UNIQUE"
    aggregation: Aggregation | None = None
    annotation_columns: list[str] = field(default_factory=list)
    output_label: str | None = None
    type_ref: str | None = None
    id: str | None = None
    source: Source = field(default_factory=Source)
    extensions: Extensions = field(default_factory=Extensions)


@dataclass
class ContextEntry:
    name: str | None  # None: the final result entry of a context
    value: Expression
    type_ref: str | None = None


@dataclass
class Context:
    entries: list[ContextEntry]
    type_ref: str | None = None
    id: str | None = None


@dataclass
class ListExpression:
    items: list[Expression]
    type_ref: str | None = None
    id: str | None = None


@dataclass
class Relation:
    columns: list[str]
    rows: list[list[Expression]]
    type_ref: str | None = None
    id: str | None = None


@dataclass
class Parameter:
    name: str
    type_ref: str | None = None


@dataclass
class FunctionDefinition:
    parameters: list[Parameter]
    body: Expression | None
    kind: Literal["FEEL", "Java", "PMML"] = "FEEL"
    type_ref: str | None = None
    id: str | None = None


@dataclass
class Binding:
    name: str
    value: Expression | None


@dataclass
class Invocation:
    callee: str  # FEEL text naming the function (usually a BKM name)
    bindings: list[Binding]
    type_ref: str | None = None
    id: str | None = None


@dataclass
class Conditional:
    condition: Expression
    then: Expression
    otherwise: Expression
    type_ref: str | None = None
    id: str | None = None


@dataclass
class Filter:
    source: Expression  # the list ("in")
    match: Expression  # the boolean condition, with `item` in scope
    type_ref: str | None = None
    id: str | None = None


@dataclass
class Iterator:
    kind: Literal["for", "some", "every"]
    variable: str
    source: Expression  # "in"
    body: Expression  # "return" for `for`, "satisfies" for some/every
    type_ref: str | None = None
    id: str | None = None


Expression = (
    LiteralExpression
    | DecisionTable
    | Context
    | ListExpression
    | Relation
    | FunctionDefinition
    | Invocation
    | Conditional
    | Filter
    | Iterator
    | Scorecard
)


@dataclass
class BrokenLogic:
    """The logic of one element that the reader could not read: a rule with the wrong number of
    cells, an unknown expression element, a table without an output, an unknown hit policy, a
    context entry named twice, ... It stands where the element's logic would be, so the problem
    belongs to that element: the compiler makes the element give null and report `problems`
    (located: file, line, element, path) whenever it is evaluated, the rest of the model runs,
    and the problems are the model's errors (`check` exits 1, the registry's gates refuse it).

    The logic is kept as it was written, so the model can be written back to the format it was
    read from with that text unchanged: `xml` holds, for a DMN model, each child of the element
    that carries its logic as an XML text declaring its namespaces; `yaml`, for a YAML model, the
    keys of the element's mapping that hold its type and logic, as plain data. Writing it in another format is refused (its meaning is
    unknown, so there is nothing to translate)."""

    problems: tuple[Problem, ...]
    xml: tuple[str, ...] = ()
    yaml: dict[str, Any] | None = None
    parameters: list[Parameter] = field(default_factory=list)  # a BKM's, where they could be read

    @property
    def format(self) -> str:
        return "YAML" if self.yaml is not None else "DMN"


# --- types --------------------------------------------------------------------------


@dataclass
class ItemDefinition:
    name: str
    type_ref: str | None = None  # base type, e.g. "number" or another item definition
    allowed_values: str | None = None  # unary tests text
    type_constraint: str | None = None  # DMN 1.5 typeConstraint, unary tests text
    components: list[ItemDefinition] = field(default_factory=list)
    is_collection: bool = False
    function_parameters: list[Parameter] | None = None  # functionItem
    function_output: str | None = None
    id: str | None = None


# --- elements of the decision requirements graph ------------------------------------


@dataclass
class InputData:
    name: str
    type_ref: str | None = None
    id: str | None = None
    description: str | None = None
    source: Source = field(default_factory=Source)
    extensions: Extensions = field(default_factory=Extensions)


@dataclass
class Decision:
    name: str
    logic: Expression | BrokenLogic | None
    type_ref: str | None = None
    required_inputs: list[str] = field(default_factory=list)  # names of input data
    required_decisions: list[str] = field(default_factory=list)  # names of decisions
    required_knowledge: list[str] = field(default_factory=list)  # names of BKMs / services
    id: str | None = None
    description: str | None = None
    question: str | None = None
    allowed_answers: str | None = None
    source: Source = field(default_factory=Source)
    authorities: list[str] = field(default_factory=list)  # authority requirements: knowledge sources, ...
    extensions: Extensions = field(default_factory=Extensions)


@dataclass
class BusinessKnowledgeModel:
    name: str
    logic: FunctionDefinition | BrokenLogic | None
    type_ref: str | None = None
    required_knowledge: list[str] = field(default_factory=list)
    id: str | None = None
    description: str | None = None
    source: Source = field(default_factory=Source)
    authorities: list[str] = field(default_factory=list)
    extensions: Extensions = field(default_factory=Extensions)


@dataclass
class DecisionService:
    name: str
    output_decisions: list[str]
    encapsulated_decisions: list[str] = field(default_factory=list)
    input_decisions: list[str] = field(default_factory=list)
    input_data: list[str] = field(default_factory=list)
    type_ref: str | None = None
    id: str | None = None
    source: Source = field(default_factory=Source)
    extensions: Extensions = field(default_factory=Extensions)


@dataclass
class KnowledgeSource:
    """An authority for decisions (a regulation, a policy, an expert): drawn, never evaluated."""

    name: str
    id: str | None = None
    description: str | None = None
    authorities: list[str] = field(default_factory=list)  # names of inputs, decisions, knowledge sources
    extensions: Extensions = field(default_factory=Extensions)
    source: Source = field(default_factory=Source)


# --- the diagram (DMNDI) -----------------------------------------------------------


@dataclass
class Bounds:
    x: float
    y: float
    width: float
    height: float


@dataclass
class Shape:
    """Where a DRG element is drawn; `element` is its name."""

    element: str
    bounds: Bounds
    id: str | None = None


@dataclass
class Edge:
    """How a requirement is drawn: from the required element `source` to `target`, by name."""

    source: str
    target: str
    waypoints: list[tuple[float, float]]
    id: str | None = None


@dataclass
class Diagram:
    """The drawing of the decision requirements graph (DMNDI, or Camunda's `biodi` in DMN 1.1).
    Elements without a shape are laid out when the model is written."""

    shapes: list[Shape] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)
    name: str | None = None
    id: str | None = None


@dataclass
class Import:
    namespace: str
    name: str
    location: str | None = None
    import_type: str | None = None


@dataclass
class Definitions:
    """One model file: the root of the parsed model."""

    name: str
    namespace: str = ""
    id: str | None = None
    dmn_version: str | None = None  # as read; None: not stated (written as DEFAULT_DMN_VERSION)
    key: str | None = None  # the registry key, e.g. "loan-approval"
    business_key: str | None = None  # the input that identifies a case, to match outcomes to decisions
    description: str | None = None
    expression_language: str | None = None
    item_definitions: list[ItemDefinition] = field(default_factory=list)
    inputs: list[InputData] = field(default_factory=list)
    decisions: list[Decision] = field(default_factory=list)
    knowledge_models: list[BusinessKnowledgeModel] = field(default_factory=list)
    services: list[DecisionService] = field(default_factory=list)
    imports: list[Import] = field(default_factory=list)
    source: Source = field(default_factory=Source)
    knowledge_sources: list[KnowledgeSource] = field(default_factory=list)
    extensions: Extensions = field(default_factory=Extensions)
    prefixes: dict[str, str] = field(default_factory=dict)  # prefix -> namespace of extension names
    diagram: Diagram | None = None


def reader_problems(defs: Definitions) -> list[Problem]:
    """The problems a reader recorded on the elements whose logic it could not read
    (`BrokenLogic`), decisions first, then knowledge models, each in model order."""
    elements: list[Decision | BusinessKnowledgeModel] = [*defs.decisions, *defs.knowledge_models]
    return [problem for element in elements if isinstance(element.logic, BrokenLogic)
            for problem in element.logic.problems]
