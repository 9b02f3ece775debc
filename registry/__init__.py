"""The versioned decision registry: models, versions and their lifecycle, aliases, decision
records, idempotency and API keys, on SQLite or PostgreSQL.

Every store function takes an open session as its first argument and never commits; wrap calls
in `unit_of_work(engine)`, which commits at the end of the block or rolls back on an error:

    engine = make_engine()          # DECISIONARY_DATABASE_URL, else ./data/decisionary.db
    upgrade(engine)                 # apply the migrations (idempotent)
    with unit_of_work(engine) as session:
        v = create_draft(session, "loan-approval", text, author="ana")
"""

from registry.aliases import (
    PRODUCTION,
    alias_history,
    clear_routing,
    get_alias,
    list_aliases,
    rollback,
    set_alias,
    set_routing,
)
from registry.db import current_revision, head_revision, make_engine, unit_of_work, upgrade
from registry.errors import (
    Conflict,
    DuplicateRequest,
    Forbidden,
    GateFailed,
    GateFailure,
    Invalid,
    InvalidTransition,
    NotFound,
    RegistryError,
)
from registry.idempotency import lookup as lookup_idempotent
from registry.idempotency import request_hash
from registry.keys import (
    create_identity,
    create_key,
    get_identity,
    get_key,
    list_identities,
    list_keys,
    revoke_key,
    verify_key,
)
from registry.models_store import (
    approve,
    attach_test_cases,
    check_gates,
    create_draft,
    get_model,
    get_version,
    history,
    latest_published,
    list_models,
    list_versions,
    publish,
    reject,
    retire,
    submit,
    update_draft,
)
from registry.records import get_record, list_records, new_record, record_decision, record_rows
from registry.resolve import Resolved, parse_ref, resolve
from registry.retention import RetentionSummary, remove_older_than
from registry.routing import Arm, Routing, RoutingInvalid, parse_routing
from registry.views import (
    AliasMove,
    AliasTarget,
    ApiKey,
    DecisionRecord,
    Identity,
    ModelInfo,
    Transition,
    Version,
)

__all__ = [
    "PRODUCTION", "AliasMove", "AliasTarget", "Arm", "ApiKey", "Conflict", "DecisionRecord", "DuplicateRequest",
    "Forbidden", "GateFailed", "GateFailure", "Invalid", "InvalidTransition", "ModelInfo", "NotFound",
    "RegistryError", "Resolved", "RetentionSummary", "Routing", "RoutingInvalid", "Transition", "Version",
    "Identity", "alias_history", "approve", "attach_test_cases", "check_gates", "clear_routing", "create_draft",
    "create_identity", "create_key", "get_identity", "list_identities",
    "current_revision", "get_alias", "get_key", "get_model", "get_record", "get_version", "head_revision",
    "history", "latest_published", "list_aliases", "list_keys", "list_models", "list_records",
    "list_versions", "lookup_idempotent", "make_engine", "new_record", "parse_ref", "parse_routing", "publish",
    "record_decision",
    "record_rows", "reject", "remove_older_than",
    "request_hash", "resolve", "retire", "revoke_key", "rollback", "set_alias", "set_routing", "submit",
    "unit_of_work",
    "update_draft", "upgrade", "verify_key",
]
