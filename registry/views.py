"""What the registry hands out: frozen snapshots of stored rows.

Callers (the API, the CLI, the execution layer) get these instead of ORM rows: they can be
kept after the transaction ends, serialised with `to_dict()`, and changing them changes nothing
in the database. Every change goes through a registry function.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from registry.tables import (
    AliasMoveRow,
    AliasRow,
    ApiKeyRow,
    DecisionRecordRow,
    IdentityRow,
    ModelRow,
    TransitionRow,
    VersionRow,
)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


@dataclass(frozen=True)
class ModelInfo:
    key: str
    created_at: datetime
    created_by: str
    latest_number: int

    @classmethod
    def of(cls, row: ModelRow) -> ModelInfo:
        return cls(row.key, row.created_at, row.created_by, row.last_number)

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "created_at": _iso(self.created_at), "created_by": self.created_by,
                "latest_number": self.latest_number}


@dataclass(frozen=True)
class Version:
    key: str
    number: int
    state: str
    format: str
    content: bytes
    content_hash: str
    hash_method: str
    test_cases: str | None
    author: str
    comment: str | None
    created_at: datetime
    updated_at: datetime
    gates: Any = None  # the gates' last report (submit or publish), JSON data; None before submit

    @classmethod
    def of(cls, key: str, row: VersionRow) -> Version:
        return cls(key, row.number, row.state, row.format, row.content, row.content_hash, row.hash_method,
                   row.test_cases, row.author, row.comment, row.created_at, row.updated_at, row.gates)

    @property
    def ref(self) -> str:
        return f"{self.key}@{self.number}"

    @property
    def text(self) -> str:
        """The content as text; an xlsx workbook is binary and shows as a placeholder."""
        if self.format == "xlsx":
            return f"<xlsx workbook, {len(self.content)} bytes>"
        return self.content.decode("utf-8")

    def to_dict(self, *, with_content: bool = False) -> dict[str, Any]:
        data: dict[str, Any] = {
            "key": self.key, "number": self.number, "state": self.state, "format": self.format,
            "content_hash": self.content_hash, "hash_method": self.hash_method, "author": self.author,
            "comment": self.comment, "created_at": _iso(self.created_at), "updated_at": _iso(self.updated_at),
            "has_test_cases": self.test_cases is not None,
        }
        if with_content:
            data["content"] = self.text
            data["test_cases"] = self.test_cases
        return data


@dataclass(frozen=True)
class Transition:
    key: str
    number: int
    from_state: str | None
    to_state: str
    by: str
    at: datetime
    comment: str | None

    @classmethod
    def of(cls, key: str, number: int, row: TransitionRow) -> Transition:
        return cls(key, number, row.from_state, row.to_state, row.by, row.at, row.comment)

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "number": self.number, "from_state": self.from_state,
                "to_state": self.to_state, "by": self.by, "at": _iso(self.at), "comment": self.comment}


@dataclass(frozen=True)
class AliasTarget:
    key: str
    alias: str
    number: int
    updated_at: datetime
    updated_by: str
    routing: Any = None  # the split and shadows (registry/routing.py, JSON form); None: the version alone

    @classmethod
    def of(cls, key: str, number: int, row: AliasRow) -> AliasTarget:
        return cls(key, row.name, number, row.updated_at, row.updated_by, row.routing)

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "alias": self.alias, "number": self.number,
                "updated_at": _iso(self.updated_at), "updated_by": self.updated_by, "routing": self.routing}


@dataclass(frozen=True)
class AliasMove:
    key: str
    alias: str
    kind: str  # "set" or "rollback"; a routing change is a "set" from a version to itself
    from_number: int | None
    to_number: int
    by: str
    at: datetime
    why: str | None
    routing: Any = None  # the alias's routing after the move

    @classmethod
    def of(cls, key: str, row: AliasMoveRow) -> AliasMove:
        return cls(key, row.alias, row.kind, row.from_number, row.to_number, row.by, row.at, row.why, row.routing)

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "alias": self.alias, "kind": self.kind, "from_number": self.from_number,
                "to_number": self.to_number, "by": self.by, "at": _iso(self.at), "why": self.why,
                "routing": self.routing}


@dataclass(frozen=True)
class DecisionRecord:
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
    request_hash: str | None
    created_at: datetime
    fired_ids: Any = None  # {decision: [stable rule ids]}, aligned with `fired`
    business_key: str | None = None
    arm: str | None = None  # the arm of the alias's split that answered
    shadow_of: str | None = None  # set on a shadow version's record: the record of the live answer
    reasons: Any = None  # {scoring decision: [reason codes]}, when it has any
    # The link is given when the record's transaction commits: a record returned before that
    # has none, and is still the same record.
    chain_id: str | None = field(default=None, compare=False)
    chain_seq: int | None = field(default=None, compare=False)
    record_hash: str | None = field(default=None, compare=False)

    @classmethod
    def of(cls, row: DecisionRecordRow) -> DecisionRecord:
        return cls(row.id, row.model_key, row.version, row.content_hash, row.alias, row.inputs, row.outputs,
                   row.fired, row.problems, row.latency_us, row.caller, row.idempotency_key,
                   row.request_hash, row.created_at, row.fired_ids, row.business_key, row.arm, row.shadow_of,
                   row.reasons, row.chain_id, row.chain_seq, row.record_hash)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "key": self.key, "version": self.version, "content_hash": self.content_hash,
                "alias": self.alias, "inputs": self.inputs, "outputs": self.outputs, "fired": self.fired,
                "fired_ids": self.fired_ids, "problems": self.problems, "latency_us": self.latency_us,
                "caller": self.caller, "idempotency_key": self.idempotency_key, "created_at": _iso(self.created_at),
                "business_key": self.business_key, "arm": self.arm, "shadow_of": self.shadow_of,
                "reasons": self.reasons or None, "chain_id": self.chain_id, "chain_seq": self.chain_seq, "record_hash": self.record_hash}


@dataclass(frozen=True)
class Identity:
    """A person (or service) API keys are issued to; who acts is an identity, not a key."""

    id: str
    name: str
    created_at: datetime
    created_by: str | None

    @classmethod
    def of(cls, row: IdentityRow) -> Identity:
        return cls(row.id, row.name, row.created_at, row.created_by)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "created_at": _iso(self.created_at), "created_by": self.created_by}


@dataclass(frozen=True)
class ApiKey:
    """An API key as stored: never the secret, only a prefix to recognise it by. `identity` is
    the name of the identity it was issued to: the one who acts with it."""

    id: str
    name: str
    role: str
    prefix: str
    created_at: datetime
    created_by: str | None
    revoked_at: datetime | None
    revoked_by: str | None
    identity_id: str = ""
    identity: str = ""

    @classmethod
    def of(cls, row: ApiKeyRow, identity: IdentityRow | None = None) -> ApiKey:
        return cls(row.id, row.name, row.role, row.prefix, row.created_at, row.created_by, row.revoked_at,
                   row.revoked_by, row.identity_id, identity.name if identity is not None else "")

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "role": self.role, "prefix": self.prefix,
                "created_at": _iso(self.created_at), "created_by": self.created_by,
                "revoked_at": _iso(self.revoked_at), "revoked_by": self.revoked_by,
                "identity_id": self.identity_id, "identity": self.identity}
