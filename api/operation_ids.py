"""Every route's OpenAPI `operationId`, in one table: the names generated clients call.

FastAPI would derive `models_list_v1_models_get` from the handler's name, its path and its
method, so renaming a handler or moving a path would rename the client's method. Here the
handler's name maps to a readable camelCase id (`listModels`, `getVersion`, `evaluateDecision`)
chosen once. A route missing from the table gets its handler's name in camelCase, and the test
of the operation ids (tests/api/test_api_operation_ids.py, against the golden file
tests/api/operation_ids.txt) fails until the id is listed there on purpose.

The typed per-model routes (api/openapi.py) are named `evaluateTyped<Key>` by `typed_operation_id`.
"""

from __future__ import annotations

import re

from fastapi.routing import APIRoute

from api.typed import camel

# handler name -> operationId
OPERATION_IDS: dict[str, str] = {
    # health
    "healthz": "getHealth",
    "whoami": "whoAmI",
    # models and versions
    "models_list": "listModels",
    "model_detail": "getModel",
    "versions_list": "listVersions",
    "all_versions_list": "listAllVersions",
    "upload_version": "uploadVersion",
    "version_detail": "getVersion",
    "replace_draft": "replaceDraft",
    "version_content": "getVersionContent",
    "version_history": "getVersionHistory",
    "version_gates": "checkVersionGates",
    "submit_version": "submitVersion",
    "approve_version": "approveVersion",
    "reject_version": "rejectVersion",
    "publish_version": "publishVersion",
    "retire_version": "retireVersion",
    "versions_diff": "diffVersions",
    # the studio's workbench (api/routes/workbench.py)
    "analyse": "analyseModel",
    "layout": "layoutModel",
    "save_draft": "saveDraft",
    "version_test_cases": "getVersionTestCases",
    # aliases
    "aliases_list": "listAliases",
    "alias_detail": "getAlias",
    "alias_set": "setAlias",
    "alias_routing_set": "setAliasRouting",
    "alias_routing_clear": "clearAliasRouting",
    "alias_rollback": "rollbackAlias",
    "aliases_history": "listAliasMoves",
    "all_aliases_list": "listAllAliases",
    # decisions
    "describe": "describeDecision",
    "evaluate_decision": "evaluateDecision",
    "explain_decision": "explainDecision",
    "evaluate_batch": "evaluateBatch",
    "evaluate_csv": "evaluateCsv",
    "evaluate_typed_any": "evaluateTypedAny",
    # records and their audit
    "records_list": "listRecords",
    "record_detail": "getRecord",
    "audit_verify": "verifyRecordChains",
    "outcome_report": "reportOutcome",
    "outcomes_upload": "uploadOutcomes",
    "replay_logged": "replayLoggedDecisions",
    "replay_file": "replayFile",
    "replays_list": "listReplays",
    "audit_metrics": "getAuditMetrics",
    "audit_performance": "getAuditPerformance",
    "audit_drift": "getAuditDrift",
    "audit_report": "getAuditReport",
    # identities and keys
    "identities_list": "listIdentities",
    "identities_create": "createIdentity",
    "keys_list": "listKeys",
    "keys_create": "createKey",
    "keys_revoke": "revokeKey",
    # execution
    "bindings_get": "getBindings",
    "bindings_put": "putBindings",
    "runs_list": "listRuns",
    "run_detail": "getRun",
    "decision_runs": "listDecisionRuns",
    "run_retry": "retryRun",
    "run_cancel": "cancelRun",
    "dead_letters": "listDeadLetters",
    "dead_letters_retry": "retryDeadLetters",
    "dead_letters_cancel": "cancelDeadLetters",
    "stats": "getExecutionStats",
    "metrics": "getMetrics",
    "batch_list": "listBatchJobs",
    "batch_submit": "submitBatchJob",
    "batch_detail": "getBatchJob",
    "batch_cancel": "cancelBatchJob",
    "schedule_list": "listSchedules",
    "schedule_add": "addSchedule",
    "schedule_enable": "enableSchedule",
    "schedule_disable": "disableSchedule",
    # reviews
    "reviews_list": "listReviewTasks",
    "review_detail": "getReviewTask",
    "review_claim": "claimReviewTask",
    "review_decide": "decideReviewTask",
    "decision_overrides": "listDecisionOverrides",
}

CAMEL_CASE = re.compile(r"^[a-z][a-z0-9]*(?:[A-Z][a-z0-9]*)*$")


def camel_case(name: str) -> str:
    """`models_list` -> `modelsList`."""
    first, *rest = [word for word in re.split(r"[^A-Za-z0-9]+", name) if word] or ["operation"]
    return first[:1].lower() + first[1:] + "".join(word[:1].upper() + word[1:] for word in rest)


def operation_id_of(route: APIRoute) -> str:
    """The `generate_unique_id_function` of the app: the route's id from the table."""
    return OPERATION_IDS.get(route.name) or camel_case(route.name)


def typed_operation_id(key: str) -> str:
    """`loan-approval` -> `evaluateTypedLoanApproval` (the typed route of a published model)."""
    return "evaluateTyped" + camel(key)
