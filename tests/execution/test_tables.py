"""The tables the classes describe (registry, execution and audit) and the migrations agree, on both
databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

import audit.tables  # noqa: F401 - registers the tables on SQLModel.metadata
import execution.tables  # noqa: F401
import registry.tables  # noqa: F401

OURS = {"workflow_runs", "step_attempts", "review_tasks", "decision_overrides", "target_slots", "target_rates",
        "batch_jobs", "schedules", "decision_records", "aliases", "alias_moves", "record_chain_heads",
        "record_checkpoints", "outcomes", "replays", "audit_alerts", "audit_rollups"}


def _table(difference: object) -> str | None:
    if isinstance(difference, list):  # column changes come grouped
        return _table(difference[0])
    assert isinstance(difference, tuple)
    for item in difference[1:]:
        name = getattr(item, "name", None) if not isinstance(item, str) else item
        table = getattr(item, "table", None)
        if table is not None:
            return str(table.name)
        if isinstance(name, str) and name in OURS:
            return name
    return None


def test_the_migration_makes_exactly_the_tables_the_classes_describe(engine: Engine) -> None:
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    ours = [d for d in differences if _table(d) in OURS]
    # The two columns this layer adds to the registry's versions table are not in its classes.
    others = [d for d in differences if _table(d) not in OURS]
    assert ours == []
    assert all(d[0] == "remove_column" and d[3].name in ("bindings", "bindings_hash") for d in others), others
