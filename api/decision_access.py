"""Who may read what was decided: one rule for decision records, workflow runs, dead letters,
overrides and execution stats, which all hold a decision's inputs, outputs or review data.

    reviewer (and admin)   every decision
    caller                 only the decisions it asked for (the records its key wrote)
    any other role         403

A caller asking for another caller's decision (a record, a run, its overrides) gets 404, as for
one that does not exist: it learns nothing about other callers' decisions. Figures over every
decision (execution stats) need the reviewer role.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import Depends
from sqlmodel import Session

from api.auth import ADMIN, Principal, requires
from api.problems import ProblemError
from registry.tables import DecisionRecordRow

DECISION_READERS = ("reviewer", "caller")
_RECORDS = DecisionRecordRow.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class DecisionScope:
    """The decisions a principal may read: every one (`caller` None), or one caller key's."""

    principal: Principal
    caller: str | None  # the key id records carry as their caller

    def decisions(self) -> Any:
        """A SELECT of the ids of the decisions in scope, for `IN (...)` (None: every decision)."""
        if self.caller is None:
            return None
        return sa.select(_RECORDS.c.id).where(_RECORDS.c.caller == self.caller)

    def check(self, session: Session, decision_id: str, what: str, ident: str) -> None:
        """404 (as if absent) unless the decision `decision_id` is in scope."""
        if self.caller is None:
            return
        owner = session.execute(sa.select(_RECORDS.c.caller).where(_RECORDS.c.id == decision_id)).first()
        if owner is None or owner.caller != self.caller:
            raise ProblemError(404, f"no {what} {ident!r}")


async def decision_scope(principal: Annotated[Principal, Depends(requires(*DECISION_READERS))]) -> DecisionScope:
    every = principal.role in ("reviewer", ADMIN)
    return DecisionScope(principal, None if every else principal.key_id)


DecisionReader = Annotated[DecisionScope, Depends(decision_scope)]
EveryDecisionReader = Annotated[Principal, Depends(requires("reviewer"))]  # figures over every decision
