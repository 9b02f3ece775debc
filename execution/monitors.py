"""Workflows started by the audit layer's monitors: the closed loop from observing decisions back
to acting on them.

A model's bindings name them under `monitors:` (execution/bindings.py):

    monitors:
      drift: drift-alert      # an input's or output's PSI crossed its alert threshold

`start_monitor_runs` starts those workflows for one finding, through the same outbox as a
decision's workflows, so they are carried out durably (retries, rate limits, dead letters). The
bindings are those of the version the production alias serves: the rules in force now. A run
belongs to a decision (it is pinned to a version and reads a decision's context), so a monitor's
run belongs to the newest decision of that version (else of the model): its steps see that
decision as usual, and the finding in `vars` (`vars.monitor` is the kind, `vars.<kind>` the
finding: for drift {name, kind, psi, threshold, ...}), in FEEL conditions and templates alike.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from execution.bindings_store import LoadedVersions
from execution.config import ExecutionConfig
from execution.context import new_context
from execution.outbox import insert_runs
from registry import NotFound, resolve, unit_of_work
from registry.tables import DecisionRecordRow

RECORDS = DecisionRecordRow.__table__  # type: ignore[attr-defined]


def start_monitor_runs(engine: Engine, key: str, kind: str, finding: Mapping[str, Any], *,
                       config: ExecutionConfig | None = None, versions: LoadedVersions | None = None) -> list[str]:
    """Start the workflows `kind` names in the bindings of `key`'s production version; their run
    ids ([] when the bindings name none, or the model has no decision to pin them to)."""
    versions = versions or LoadedVersions(size=4)
    with unit_of_work(engine) as session:
        try:
            resolved = resolve(session, key)
        except NotFound:
            return []
        loaded = versions.get(session, key, resolved.number, resolved.version.content_hash)
        bindings = loaded.bindings
        workflows = list(bindings.monitors.get(kind, ())) if bindings is not None else []
        if bindings is None or not workflows:
            return []
        record = _newest_record(session.connection(), key, resolved.number)
        if record is None:
            return []
        context = new_context(
            decision={"id": record["id"], "key": key, "version": record["version"], "hash": record["content_hash"],
                      "alias": record["alias"], "created_at": record["created_at"].isoformat()},
            inputs=record["inputs"], outputs=record["outputs"], fired=record["fired"], callback_url=None)
        context["vars"] = {"monitor": kind, kind: dict(finding)}
        return insert_runs(session, decision_id=record["id"], key=key, version=resolved.number,
                           content_hash=resolved.version.content_hash, bindings=bindings, workflows=workflows,
                           context=context, origin=f"monitor:{kind}", config=config)


def _newest_record(connection: sa.Connection, key: str, version: int) -> Mapping[str, Any] | None:
    for condition in (sa.and_(RECORDS.c.model_key == key, RECORDS.c.version == version),
                      RECORDS.c.model_key == key):
        row = connection.execute(sa.select(RECORDS).where(condition, RECORDS.c.shadow_of.is_(None))
                                 .order_by(RECORDS.c.id.desc()).limit(1)).mappings().first()
        if row is not None:
            return dict(row)
    return None
