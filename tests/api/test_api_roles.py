"""Every route admits exactly its roles (and admin): 403 for the others, 401 without a valid key."""

from __future__ import annotations

import pytest

from tests.api.conftest import ROLES, SHIPPING_YAML, Live

READERS = {"viewer", "author", "approver", "reviewer"}
M = "/v1/models/role-test"
V = f"{M}/versions/1"

# (method, path as requested, path as documented, roles admitted besides admin)
ROUTES: list[tuple[str, str, str, set[str]]] = [
    ("GET", "/v1/whoami", "/v1/whoami", set(ROLES)),
    ("GET", "/v1/models", "/v1/models", READERS),
    ("GET", M, "/v1/models/{key}", READERS),
    ("GET", f"{M}/versions", "/v1/models/{key}/versions", READERS),
    ("POST", f"{M}/versions", "/v1/models/{key}/versions", {"author"}),
    ("GET", V, "/v1/models/{key}/versions/{number}", READERS),
    ("PUT", V, "/v1/models/{key}/versions/{number}", {"author"}),
    ("GET", f"{V}/content", "/v1/models/{key}/versions/{number}/content", READERS),
    ("GET", f"{V}/history", "/v1/models/{key}/versions/{number}/history", READERS),
    ("GET", f"{V}/gates", "/v1/models/{key}/versions/{number}/gates", READERS),
    ("POST", f"{V}/submit", "/v1/models/{key}/versions/{number}/submit", {"author"}),
    ("POST", f"{V}/approve", "/v1/models/{key}/versions/{number}/approve", {"approver"}),
    ("POST", f"{V}/reject", "/v1/models/{key}/versions/{number}/reject", {"approver"}),
    ("POST", f"{V}/publish", "/v1/models/{key}/versions/{number}/publish", {"approver"}),
    ("POST", f"{V}/retire", "/v1/models/{key}/versions/{number}/retire", {"approver"}),
    ("GET", f"{M}/aliases", "/v1/models/{key}/aliases", READERS),
    ("GET", f"{M}/aliases/production", "/v1/models/{key}/aliases/{alias}", READERS),
    ("PUT", f"{M}/aliases/production", "/v1/models/{key}/aliases/{alias}", {"approver"}),
    ("POST", f"{M}/aliases/production/rollback", "/v1/models/{key}/aliases/{alias}/rollback", {"approver"}),
    ("GET", f"{M}/alias-history", "/v1/models/{key}/alias-history", READERS),
    ("GET", f"{M}/diff?from=1&to=2", "/v1/models/{key}/diff", READERS),
    ("GET", "/v1/decisions/loan-approval", "/v1/decisions/{key}", READERS | {"caller"}),
    ("POST", "/v1/decisions/loan-approval/evaluate", "/v1/decisions/{key}/evaluate", {"caller"}),
    ("POST", "/v1/decisions/loan-approval/evaluate-batch", "/v1/decisions/{key}/evaluate-batch", {"caller"}),
    ("POST", "/v1/decisions/loan-approval/evaluate-csv", "/v1/decisions/{key}/evaluate-csv", {"caller"}),
    ("POST", "/v1/decisions/loan-approval/typed/evaluate", "/v1/decisions/loan-approval/typed/evaluate",
     {"caller"}),
    # Decisions' data (api/decision_access.py): reviewers every decision's, a caller its own.
    ("GET", "/v1/records", "/v1/records", {"reviewer", "caller"}),
    ("GET", "/v1/records/01ABC", "/v1/records/{record_id}", {"reviewer", "caller"}),
    ("GET", "/v1/execution/runs", "/v1/execution/runs", {"reviewer", "caller"}),
    ("GET", "/v1/execution/runs/01ABC", "/v1/execution/runs/{run_id}", {"reviewer", "caller"}),
    ("GET", "/v1/execution/decisions/01ABC/runs", "/v1/execution/decisions/{decision_id}/runs",
     {"reviewer", "caller"}),
    ("GET", "/v1/execution/decisions/01ABC/overrides", "/v1/execution/decisions/{decision_id}/overrides",
     {"reviewer", "caller"}),
    ("GET", "/v1/execution/dead-letters", "/v1/execution/dead-letters", {"reviewer", "caller"}),
    ("GET", "/v1/execution/stats", "/v1/execution/stats", {"reviewer"}),
    ("GET", "/v1/identities", "/v1/identities", set()),
    ("POST", "/v1/identities", "/v1/identities", set()),
    ("GET", "/v1/keys", "/v1/keys", set()),
    ("POST", "/v1/keys", "/v1/keys", set()),
    ("DELETE", "/v1/keys/01ABC", "/v1/keys/{key_id}", set()),
]


@pytest.mark.parametrize("role", ROLES)
def test_each_route_refuses_the_other_roles(loan: Live, role: str) -> None:
    client = loan.client(role)
    for method, path, _, admitted in ROUTES:
        # No body: the role is checked before the body, so an admitted role gets 4xx-but-not-403
        response = client.request(method, path)
        if role == "admin" or role in admitted:
            assert response.status_code not in (401, 403), (method, path, response.text)
        else:
            assert response.status_code == 403, (method, path, response.text)
            problem = response.json()
            assert problem["status"] == 403 and role in problem["detail"]
            assert response.headers["content-type"].startswith("application/problem+json")


def test_no_key_or_a_bad_key_is_401(loan: Live) -> None:
    anonymous, stranger = loan.client(), loan.client(secret="dcy_not-a-real-key")
    for method, path, _, _ in ROUTES:
        for client in (anonymous, stranger):
            response = client.request(method, path)
            assert response.status_code == 401, (method, path)
            assert response.headers["www-authenticate"].startswith("Bearer")
    assert anonymous.get("/healthz").status_code == 200


def test_a_revoked_key_stops_working_at_once(live: Live) -> None:
    admin = live.client("admin")
    assert admin.post("/v1/identities", json={"name": "temp"}).status_code == 201
    created = admin.post("/v1/keys", json={"name": "temp key", "role": "viewer", "identity": "temp"})
    assert created.status_code == 201
    secret, key_id = created.json()["secret"], created.json()["id"]
    assert live.client(secret=secret).get("/v1/whoami").json()["name"] == "temp"
    listed = admin.get("/v1/keys").json()
    assert key_id in [k["id"] for k in listed]
    assert all("secret" not in k and secret not in str(k) for k in listed)
    assert admin.delete(f"/v1/keys/{key_id}").status_code == 200
    assert live.client(secret=secret).get("/v1/whoami").status_code == 401


def test_documented_roles_match_the_table(loan: Live) -> None:
    document = loan.client("viewer").get("/openapi.json").json()  # with the typed operations
    documented = {(method.upper(), path): set(operation.get("x-roles", []))
                  for path, operations in document["paths"].items() for method, operation in operations.items()}
    table = {(method, path): admitted | {"admin"} for method, _, path, admitted in ROUTES}
    table[("GET", "/healthz")] = set()
    assert {operation: documented.get(operation) for operation in table} == table
    # Routes added by other layers declare their roles too.
    assert all("x-roles" in operation for operations in document["paths"].values()
               for operation in operations.values())


def test_the_two_person_rule_compares_identities_not_keys(live: Live) -> None:
    # An admin's second key (named "Admin" or anything else) is issued to the admin's own identity:
    # it does not make a second person, so the admin cannot approve its own version alone.
    admin = live.client("admin")
    assert admin.post("/v1/keys", json={"name": "Admin", "role": "admin"}).status_code == 422  # whose?
    second = admin.post("/v1/keys", json={"name": "Admin", "role": "admin", "identity": "admin-person"})
    assert second.status_code == 201, second.text
    assert second.json()["identity"] == "admin-person"
    again = live.client(secret=second.json()["secret"])
    assert again.get("/v1/whoami").json() | {"key_id": ""} == {
        "key_id": "", "name": "admin-person", "role": "admin", "key_name": "Admin",
        "identity_id": second.json()["identity_id"]}
    upload = live.upload("shipping", SHIPPING_YAML, "shipping.yaml", role="admin")
    assert upload.status_code == 201
    base = "/v1/models/shipping/versions/1"
    assert admin.post(f"{base}/submit").status_code == 200
    refused = again.post(f"{base}/approve", json={"comment": "me again"})
    assert refused.status_code == 403 and "maker-checker" in refused.json()["detail"]
    # A new identity is an admin action, recorded with who created it.
    made = admin.post("/v1/identities", json={"name": "Rita Reviewer"})
    assert made.status_code == 201 and made.json()["created_by"] == "admin-person"
    assert admin.post("/v1/identities", json={"name": "rita  reviewer"}).status_code == 409
    listed = admin.get("/v1/identities").json()
    assert {i["name"]: i["created_by"] for i in listed}["Rita Reviewer"] == "admin-person"
    rita = admin.post("/v1/keys", json={"name": "rita", "role": "approver", "identity": made.json()["id"]}).json()
    assert live.client(secret=rita["secret"]).post(f"{base}/approve", json={"comment": "ok"}).status_code == 200
