"""Request and response bodies of the service's fixed routes (the per-decision typed bodies are
generated: api/typed.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema, field_validator

Role = Literal["viewer", "author", "approver", "caller", "reviewer", "admin"]  # = registry.tables.ROLES

_STRICT = ConfigDict(extra="forbid")


def _holds_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_nul(k) or _holds_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_holds_nul(v) for v in value)
    return False


class RequestBody(BaseModel):
    """A request body of a fixed route. No text in it may hold a NUL character: what a body says
    is stored, and no stored text can hold one (PostgreSQL's text type refuses it). The error
    points at the field."""

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul_character(cls, value: Any) -> Any:
        if _holds_nul(value):
            raise ValueError("contains a NUL character")
        return value


def utc(value: datetime | None) -> datetime | None:
    """Stored times are UTC; SQLite hands them back without a zone."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# --- evaluation --------------------------------------------------------------------------------


class EvaluateRequest(BaseModel):
    model_config = _STRICT

    inputs: dict[str, Any] = Field(default_factory=dict, description="Input data by name (and, optionally, "
                                   "decision values that stand in for a decision's logic).")
    decisions: list[str] | None = Field(default=None, min_length=1, max_length=1000,
                                        description="Evaluate only these decisions (and what they need).")
    trace: Annotated[bool | str, WithJsonSchema({"anyOf": [{"type": "boolean"}, {"const": "explain"}]})] = Field(
        default=False, description="Include the evaluation trace (not kept for replays); \"explain\" adds each "
                                   "table rule's cells with the values they saw.")

    @field_validator("trace", mode="before")
    @classmethod
    def _a_trace(cls, value: Any) -> Any:
        if isinstance(value, bool) or value == "explain":
            return value
        raise ValueError('trace is true, false or "explain"')
    callback_url: str | None = Field(default=None, max_length=2000, pattern=r"^https?://\S+$",
                                     description="Where the decision's approve/reject workflow steps call back "
                                     "(its host must be in the allow-list).")


class BatchRequest(BaseModel):
    model_config = _STRICT

    # Any JSON per row: a row that is not an object is refused on its own, like any bad row.
    rows: list[Any] = Field(min_length=1, description="One object of inputs per row.",
                            json_schema_extra={"items": {"type": "object"}})
    decisions: list[str] | None = Field(default=None, min_length=1, max_length=1000)


class ExplainRequest(RequestBody):
    model_config = _STRICT

    inputs: dict[str, Any] = Field(default_factory=dict, description="Input data by name, as for evaluate.")
    decision: str = Field(min_length=1, max_length=200, description="The decision table to explain.")
    rule: Annotated[int | str | None, WithJsonSchema({"anyOf": [
        {"type": "integer", "minimum": 1}, {"type": "string", "minLength": 1, "maxLength": 200}, {"type": "null"}]})] \
        = Field(default=None, description="A rule number (1, 2, ...) or rule id; default every rule.")

    @field_validator("rule", mode="before")
    @classmethod
    def _a_rule(cls, value: Any) -> Any:
        if value is None or (isinstance(value, int) and not isinstance(value, bool) and value >= 1) \
                or (isinstance(value, str) and 1 <= len(value) <= 200):
            return value
        raise ValueError("a rule is a number from 1 or a rule id (1 to 200 characters)")


class CellCheckOut(BaseModel):
    column: str
    cell: str
    value: Any
    satisfied: bool


class RuleExplanationOut(BaseModel):
    decision: str
    rule: int
    rule_id: str
    matched: bool = Field(description="Every cell of the rule is satisfied.")
    fired: bool = Field(description="The hit policy counted the rule.")
    cells: list[CellCheckOut]
    failed: list[CellCheckOut] = Field(description="The cells that are not satisfied: why the rule did not match.")


class ExplainResponse(BaseModel):
    key: str
    version: int
    hash: str
    alias: str | None
    arm: str | None = None
    decision: str
    rules: list[RuleExplanationOut]


class ModelProblem(BaseModel):
    """A problem found while evaluating, located in the model."""

    severity: str
    code: str
    message: str
    location: dict[str, Any]


class ReasonOut(BaseModel):
    """A reason code: how much one input moved a score from its baseline (decisions/scoring/)."""

    input: str = Field(description="The input (or scorecard characteristic) that moved the score.")
    value: Any = Field(description="Its value in this call.")
    baseline: Any = Field(description="Its declared baseline.")
    contribution: Any = Field(description="The score minus the score with this input at its baseline.")
    code: str | None = Field(default=None, description="The reason code declared for it, if any.")


REASONS_DESCRIPTION = ("Per scoring decision with declared baselines: the inputs that moved its score most, "
                       "largest first. Absent when there are none.")


class EvaluateResponse(BaseModel):
    decision_id: str = Field(description="The id of the decision record written for this answer.")
    key: str
    version: int
    hash: str = Field(description="Content hash of the version that answered.")
    alias: str | None = Field(description="The alias that chose the version, if one did.")
    outputs: dict[str, Any]
    fired: dict[str, list[int]] = Field(description="Decision table name -> 1-based numbers of the rules fired.")
    problems: list[ModelProblem]
    reasons: dict[str, list[ReasonOut]] | None = Field(default=None, description=REASONS_DESCRIPTION)
    trace: list[dict[str, Any]] | None = None
    arm: str | None = Field(default=None, description="Under a champion/challenger split: the arm that answered.")


class RowResult(BaseModel):
    """One row of a batch: its decision, or (`error`) the problem that kept it from being decided."""

    row: int = Field(description="The row's index in the request (from 0; a CSV file's rows after its header).")
    decision_id: str | None = Field(default=None, description="The row's decision record; absent for a refused row.")
    outputs: dict[str, Any] | None = None
    fired: dict[str, list[int]] | None = None
    problems: list[ModelProblem] | None = None
    error: dict[str, Any] | None = Field(default=None, description="A refused row's problem (RFC 9457): `errors` "
                                         "point into the request, e.g. `/rows/3/Credit Score`.")
    reasons: dict[str, list[ReasonOut]] | None = Field(default=None, description=REASONS_DESCRIPTION)
    version: int | None = Field(default=None, description="Under a split: the version that answered the row.")
    arm: str | None = Field(default=None, description="Under a split: the arm that answered the row.")


class BatchResponse(BaseModel):
    key: str
    version: int
    hash: str
    alias: str | None
    decided: int = Field(description="Rows decided (each with its record).")
    failed: int = Field(description="Rows refused, each with its `error`.")
    results: list[RowResult]


class DescribedElement(BaseModel):
    name: str
    type_ref: str | None
    description: str | None = None


class DecisionDescription(BaseModel):
    key: str
    version: int
    hash: str
    alias: str | None
    via: str = Field(description="How the version was chosen: alias, number or latest published.")
    name: str
    inputs: list[DescribedElement]
    decisions: list[DescribedElement]
    input_schema: dict[str, Any] = Field(description="JSON Schema of the `inputs` object.")
    output_schema: dict[str, Any] = Field(description="JSON Schema of the `outputs` object.")


# --- registry ----------------------------------------------------------------------------------


class ModelOut(BaseModel):
    key: str
    created_at: datetime
    created_by: str
    latest_number: int


class VersionOut(BaseModel):
    key: str
    number: int
    state: str
    format: str
    content_hash: str
    hash_method: str
    author: str
    comment: str | None
    created_at: datetime
    updated_at: datetime
    has_test_cases: bool
    gates: dict[str, Any] | None = Field(
        default=None, description="The gates' report from submit (then publish): ok, passed, skipped and failures "
                                  "with reasons, so an approver sees them before approving.")


class AliasOut(BaseModel):
    key: str
    alias: str
    number: int
    updated_at: datetime
    updated_by: str
    routing: RoutingOut | None = Field(default=None, description="Champion/challenger split and shadow versions; "
                                       "null: the alias's version alone answers.")


class ModelDetail(ModelOut):
    versions: list[VersionOut]
    aliases: list[AliasOut]


class TransitionOut(BaseModel):
    key: str
    number: int
    from_state: str | None
    to_state: str
    by: str
    at: datetime
    comment: str | None


class AliasMoveOut(BaseModel):
    key: str
    alias: str
    kind: str
    from_number: int | None
    to_number: int
    by: str
    at: datetime
    why: str | None
    routing: RoutingOut | None = Field(default=None, description="The alias's routing after the move.")


class CommentBody(RequestBody):
    model_config = _STRICT

    comment: str | None = Field(default=None, max_length=5000)


class AliasBody(RequestBody):
    model_config = _STRICT

    version: int = Field(ge=1, le=999_999_999)
    why: str | None = Field(default=None, max_length=5000)


class RollbackBody(RequestBody):
    model_config = _STRICT

    why: str | None = Field(default=None, max_length=5000)


class GateFailureOut(BaseModel):
    gate: str
    reasons: list[str]


class GateReportOut(BaseModel):
    ok: bool
    passed: list[str]
    skipped: list[str]
    failures: list[GateFailureOut]


class DiffOut(BaseModel):
    model_config = ConfigDict(extra="allow")

    key: str
    from_version: int
    to_version: int
    identical: bool
    summary: list[str]
    inputs_added: list[str]
    inputs_removed: list[str]
    inputs_changed: list[str]
    decisions_added: list[str]
    decisions_removed: list[str]
    knowledge_added: list[str]
    knowledge_removed: list[str]
    changed: list[dict[str, Any]]


class RecordOut(BaseModel):
    id: str
    key: str
    version: int
    content_hash: str
    alias: str | None
    inputs: Any
    outputs: Any
    fired: Any
    problems: Any
    latency_us: int
    caller: str | None
    idempotency_key: str | None
    created_at: datetime
    fired_ids: Any = None
    business_key: str | None = None
    arm: str | None = None
    shadow_of: str | None = None
    reasons: Any = None
    chain_id: str | None = None
    chain_seq: int | None = None
    record_hash: str | None = None


# --- keys and identity -------------------------------------------------------------------------


class KeyCreate(RequestBody):
    model_config = _STRICT

    name: str = Field(min_length=1, max_length=200, pattern=r"\S", description="The key's label, e.g. `laptop`.")
    role: Role
    identity: str = Field(min_length=1, max_length=200, pattern=r"\S",
                          description="The identity (id or name) the key is issued to: who acts with it. "
                                      "Create it first with `POST /v1/identities`.")


class IdentityCreate(RequestBody):
    model_config = _STRICT

    name: str = Field(min_length=1, max_length=200, pattern=r"\S",
                      description="The person's (or service's) name; unique, compared case-insensitively.")


class IdentityOut(BaseModel):
    id: str
    name: str
    created_at: datetime
    created_by: str | None


class KeyOut(BaseModel):
    id: str
    name: str
    role: str
    prefix: str
    created_at: datetime
    created_by: str | None
    revoked_at: datetime | None
    revoked_by: str | None
    identity_id: str
    identity: str


class KeyCreated(KeyOut):
    secret: str = Field(description="The API key. It is shown only now: it is stored as a hash.")


class WhoAmI(BaseModel):
    key_id: str
    name: str = Field(description="The identity the key was issued to.")
    role: str
    identity_id: str
    key_name: str


class Health(BaseModel):
    status: Literal["ok"]
    database: Literal["ok"]


# --- the decision log and its chain (api/routes/records.py) -------------------------------------


class RecordPageOut(BaseModel):
    records: list[RecordOut]
    next_cursor: str | None = Field(description="Pass as `cursor` with the same filters for the next page; "
                                                "null on the last page.")


class BrokenLinkOut(BaseModel):
    chain_id: str
    seq: int
    record_id: str | None
    problem: str


class ChainHeadOut(BaseModel):
    seq: int
    hash: str


class VerifyOut(BaseModel):
    ok: bool
    chains: int
    records: int
    unchained: int = Field(description="Records in no chain (written before chaining existed).")
    first_broken: BrokenLinkOut | None
    heads: dict[str, ChainHeadOut] = Field(description="Each intact chain's last verified place and hash.")


# --- champion/challenger splits and shadow versions on aliases (api/routes/aliases.py) ----------


class ArmBody(RequestBody):
    model_config = _STRICT

    name: str = Field(min_length=1, max_length=100, description="Unique within the routing.",
                      examples=["champion"])
    version: int = Field(ge=1, le=999_999_999, description="A published version; one arm is the alias's own.")
    percent: Annotated[Decimal, WithJsonSchema({"type": "number", "minimum": 0, "maximum": 100,
                                                "multipleOf": 0.01})] = Field(
        ge=0, le=100, decimal_places=2, description="The arm's share of calls (up to 2 decimals); the arms' "
                                                    "shares add up to exactly 100.")

    @field_validator("percent", mode="before")
    @classmethod
    def _a_number(cls, value: Any) -> Any:
        if isinstance(value, (str, bool)):
            raise ValueError("the percent must be a number, not a string or boolean")
        return value


class RoutingBody(RequestBody):
    model_config = _STRICT

    split_on: str | None = Field(default=None, min_length=1, max_length=200,
                                 description="The input whose value chooses the arm (the same value, the same arm).")
    arms: list[ArmBody] = Field(default_factory=list, max_length=20)
    shadows: list[int] = Field(default_factory=list, max_length=3,
                               description="Published versions outside the arms, evaluated on every call and "
                                           "recorded, without affecting the answer.")
    why: str | None = Field(default=None, max_length=5000)


class ArmOut(BaseModel):
    name: str
    version: int
    percent: float


class RoutingOut(BaseModel):
    split_on: str | None
    arms: list[ArmOut]
    shadows: list[int]


AliasOut.model_rebuild()
AliasMoveOut.model_rebuild()
