"""The OpenAPI document: one typed operation per published decision, kept in step with what is
published; and schemathesis over the whole document finds no 500 and no schema violation."""

from __future__ import annotations

import json
from typing import Any

import hypothesis
import hypothesis.errors
import schemathesis
from hypothesis import HealthCheck, Phase, given
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api.settings import Settings
from tests.api.conftest import LOAN_INPUT, SHIPPING_YAML, Live, start_live, stop_live

TYPED = "/v1/decisions/{key}/typed/evaluate"


def document(live: Live) -> dict[str, Any]:
    response = live.client("viewer").get("/openapi.json")
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def resolve_ref(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def non_null(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    options = [s for s in schema.get("anyOf", [schema]) if s.get("type") != "null"]
    return resolve_ref(doc, options[0])


def typed_schemas(doc: dict[str, Any], key: str) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    operation = doc["paths"][TYPED.format(key=key)]["post"]
    request = resolve_ref(doc, operation["requestBody"]["content"]["application/json"]["schema"])
    response = resolve_ref(doc, operation["responses"]["200"]["content"]["application/json"]["schema"])
    return operation, resolve_ref(doc, request["properties"]["inputs"]), resolve_ref(doc, response["properties"]["outputs"])


def test_without_a_key_the_document_names_no_published_model(live: Live) -> None:
    # Settings.public_docs is off by default (production): the typed operations, which name
    # every published decision and its types, are shown only with a valid API key.
    live.publish("shipping", SHIPPING_YAML, "shipping.yaml")
    anonymous = live.client().get("/openapi.json")
    assert anonymous.status_code == 200
    assert TYPED.format(key="shipping") not in anonymous.json()["paths"]
    assert "shipping" not in anonymous.text and "Ship Date" not in anonymous.text
    assert "/v1/decisions/{key}/evaluate" in anonymous.json()["paths"]  # the generic API is documented
    assert live.client(secret="dcy_unknown").get("/openapi.json").json() == anonymous.json()
    for role in ("viewer", "caller"):
        assert TYPED.format(key="shipping") in live.client(role).get("/openapi.json").json()["paths"]


def test_public_docs_show_the_published_models_without_a_key(database_url: str) -> None:
    live, server = start_live(database_url, Settings(database_url=database_url, public_docs=True))
    try:
        live.publish("shipping", SHIPPING_YAML, "shipping.yaml")
        assert TYPED.format(key="shipping") in live.client().get("/openapi.json").json()["paths"]
    finally:
        stop_live(live, server)


def test_published_decisions_get_typed_operations(loan: Live) -> None:
    doc = document(loan)
    operation, inputs, outputs = typed_schemas(doc, "loan-approval")
    assert operation["operationId"] == "evaluateTypedLoanApproval"
    assert set(inputs["properties"]) == set(json.loads(LOAN_INPUT.read_text()))
    assert inputs["additionalProperties"] is False
    assert non_null(doc, inputs["properties"]["Credit Score"]) == {"type": "number"}
    assert non_null(doc, inputs["properties"]["Employment Status"])["enum"] == \
        ["Employed", "Self-employed", "Unemployed", "Retired"]
    eligibility = non_null(doc, outputs["properties"]["Eligibility"])  # a structured item definition
    assert set(eligibility["properties"]) == {"Status", "Reason"}
    assert non_null(doc, eligibility["properties"]["Status"])["enum"] == ["Eligible", "Ineligible"]
    assert non_null(doc, outputs["properties"]["Decision"])["enum"] == ["Approve", "Refer", "Reject"]


def test_the_document_follows_publishing(live: Live) -> None:
    assert not [p for p in document(live)["paths"] if "/typed/" in p]
    first = live.publish("shipping", SHIPPING_YAML, "shipping.yaml")
    doc = document(live)
    _, inputs, outputs = typed_schemas(doc, "shipping")
    assert non_null(doc, inputs["properties"]["Ship Date"]) == {"type": "string", "format": "date"}
    assert non_null(doc, outputs["properties"]["Arrival"]) == {"type": "string", "format": "date"}
    assert "Insured" not in inputs["properties"]

    changed = SHIPPING_YAML.replace("  Ship Date: date\n", "  Ship Date: date\n  Insured: boolean\n")
    second = live.publish("shipping", changed, "shipping.yaml")
    doc = document(live)
    _, inputs, _ = typed_schemas(doc, "shipping")
    assert non_null(doc, inputs["properties"]["Insured"]) == {"type": "boolean"}
    assert f"version {second}" in doc["paths"][TYPED.format(key="shipping")]["post"]["description"]

    rolled = live.client("approver").post("/v1/models/shipping/aliases/production/rollback", json={"why": "oops"})
    assert rolled.json()["number"] == first
    _, inputs, _ = typed_schemas(document(live), "shipping")
    assert "Insured" not in inputs["properties"]


def test_typed_operation_evaluates_and_checks_types(live: Live) -> None:
    live.publish("shipping", SHIPPING_YAML, "shipping.yaml")
    document(live)
    client = live.client("caller")
    ok = client.post("/v1/decisions/shipping/typed/evaluate",
                     json={"inputs": {"Weight": 0.5, "Speed": "express", "Ship Date": "2024-12-31"}})
    assert ok.status_code == 200, ok.text
    assert ok.json()["outputs"] == {"Fee": 9, "Arrival": "2025-01-01"}
    bad = client.post("/v1/decisions/shipping/typed/evaluate",
                      json={"inputs": {"Weight": 1, "Speed": "overnight", "Ship Date": "31/12/2024"}})
    assert bad.status_code == 422
    assert {e["pointer"] for e in bad.json()["errors"]} == {"/inputs/Speed", "/inputs/Ship Date"}
    unknown = client.post("/v1/decisions/shipping/typed/evaluate", json={"inputs": {}, "decisions": ["Tax"]})
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["pointer"].startswith("/decisions/0")


def test_a_worker_without_the_typed_route_still_serves_it(live: Live) -> None:
    """Another worker published: this one answers through its generic route until it rebuilds."""
    live.publish("shipping", SHIPPING_YAML, "shipping.yaml")
    typed = live.app.state.typed_routes
    live.app.router.routes = [r for r in live.app.router.routes if r not in typed.routes]
    typed.routes, typed.fingerprint = [], None
    response = live.client("caller").post("/v1/decisions/shipping/typed/evaluate",
                                          json={"inputs": {"Weight": 2, "Speed": "standard"}})
    assert response.status_code == 200
    assert response.json()["outputs"]["Fee"] == 8
    assert "/v1/decisions/shipping/typed/evaluate" in document(live)["paths"]  # rebuilt on request


CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def test_schemathesis_finds_no_server_error_and_no_schema_violation(loan: Live) -> None:
    loan.publish("shipping", SHIPPING_YAML, "shipping.yaml")
    headers = {"Authorization": f"Bearer {loan.keys['admin']}"}
    schema = schemathesis.openapi.from_url(f"{loan.url}/openapi.json", headers=headers)
    results = list(schema.get_all_operations())
    assert all(isinstance(result, Ok) for result in results), "the document has invalid operations"
    operations = [result.ok() for result in results if isinstance(result, Ok)]
    assert any(op.path == "/v1/decisions/shipping/typed/evaluate" for op in operations)
    assert len(operations) >= 30
    for operation in operations:
        for mode, examples in ((GenerationMode.POSITIVE, 6), (GenerationMode.NEGATIVE, 3)):
            @given(case=operation.as_strategy(generation_mode=mode))
            @hypothesis.settings(max_examples=examples, deadline=None, database=None, derandomize=True,
                                 phases=[Phase.explicit, Phase.generate],
                                 suppress_health_check=list(HealthCheck))
            def run(case: Any) -> None:
                case.call_and_validate(base_url=loan.url, headers=headers, checks=CHECKS, timeout=30)

            try:
                run()
            except hypothesis.errors.Unsatisfiable:
                # An operation with nothing to get wrong (no parameters, no body) has no negative cases.
                assert mode == GenerationMode.NEGATIVE, operation.label
    assert loan.app.state.unexpected_errors == []
