"""A hostile admin (and reviewer, and whoever captured a webhook): a second admin key trying to
approve its own version, a signed webhook replayed to another path, and reviewer overrides
that do not fit the output. Each attack gets its deliberate answer while /healthz keeps
answering within a second (conftest.while_healthy)."""

from __future__ import annotations

import httpx

from execution.receiver import Receiver
from execution.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER
from tests.adversarial.conftest import problem_of, while_healthy
from tests.api.conftest import SHIPPING_YAML, Live
from tests.execution.conftest import REFER, config_for, publish_with_bindings, settled, work

REVIEW_BINDINGS = """
on:
  - when: Decision = "Refer"
    run: referred
workflows:
  referred:
    steps:
      - review: {queue: underwriting, reason: "{{ outputs.Decision }}"}
"""

HOOK_BINDINGS = """
on:
  - when: Decision = "Refer"
    run: referred
workflows:
  referred:
    steps:
      - call: {{url: "{url}/hooks/payments", body: {{decision: "{{{{ outputs.Decision }}}}", amount: 45000}}}}
"""


def test_a_second_admin_key_cannot_approve_its_own_version(live: Live) -> None:
    admin = live.client("admin")
    assert live.upload("shipping", SHIPPING_YAML, "shipping.yaml", role="admin").status_code == 201
    base = "/v1/models/shipping/versions/1"
    assert admin.post(f"{base}/submit").status_code == 200

    def attack() -> list[httpx.Response]:
        answers = [admin.post("/v1/keys", json={"name": "Admin", "role": "admin"})]  # whose? refused
        for name in ("Admin", "ADMIN-PERSON", "approver 2"):
            made = admin.post("/v1/keys", json={"name": name, "role": "admin", "identity": "admin-person"})
            assert made.status_code == 201, made.text
            second = live.client(secret=made.json()["secret"])
            answers.append(second.post(f"{base}/approve", json={"comment": "looks fine to me"}))
        # Another identity written like the admin's own is the same identity: refused as a duplicate.
        answers.append(admin.post("/v1/identities", json={"name": "  Admin-Person "}))
        return answers

    unnamed, *approvals, duplicate = while_healthy(live, attack)
    assert unnamed.status_code == 422
    for refused in approvals:
        body = problem_of(refused, 403, max_bytes=5000)
        assert "maker-checker" in str(body["detail"])
    assert duplicate.status_code == 409
    assert live.client("viewer").get(base).json()["state"] == "submitted"  # nothing moved


def test_a_captured_webhook_cannot_be_replayed_to_another_path(service: Live, receiver: Receiver) -> None:
    publish_with_bindings(service, HOOK_BINDINGS.format(url=receiver.url))
    answer = service.client("caller").post("/v1/decisions/loan-approval/evaluate", json={"inputs": REFER})
    assert answer.status_code == 200, answer.text
    work(service.engine, config_for(), settled(service.engine))
    [delivery] = [d for d in receiver.deliveries if d.path == "/hooks/payments"]
    assert delivery.signature_ok is True and delivery.processed
    captured = {name: delivery.headers[name] for name in (TIMESTAMP_HEADER, SIGNATURE_HEADER, "Content-Type")}

    def attack() -> list[httpx.Response]:
        with httpx.Client(base_url=receiver.url, timeout=10) as replayer:
            return [replayer.post(path, content=delivery.body, headers=captured)
                    for path in ("/hooks/refunds", "/hooks/payments?amount=1", "/HOOKS/payments")]
            # the method is signed too: the same bytes as a PUT are refused by any verifying receiver

    replays = while_healthy(service, attack)
    assert [r.status_code for r in replays] == [401, 401, 401]
    assert receiver.bad_signatures == 3
    assert receiver.processed_count("/hooks/refunds") == 0


def test_reviewer_overrides_must_fit_the_output(service: Live, receiver: Receiver) -> None:
    publish_with_bindings(service, REVIEW_BINDINGS)
    decision = service.client("caller").post("/v1/decisions/loan-approval/evaluate", json={"inputs": REFER}).json()
    work(service.engine, config_for(), settled(service.engine))
    reviewer = service.client("reviewer")
    [task] = reviewer.get("/v1/reviews", params={"queue": "underwriting"}).json()["tasks"]
    decide = f"/v1/reviews/{task['id']}/decide"

    def override(outputs: dict[str, object]) -> httpx.Response:
        return reviewer.post(decide, json={"outcome": "override", "reason": "exception", "outputs": outputs})

    bogus = while_healthy(service, lambda: override({"Decision": "Bogus"}))
    body = problem_of(bogus, 422, max_bytes=5000)
    assert [e["pointer"] for e in body["errors"]] == ["/outputs/Decision"]  # type: ignore[union-attr]
    assert reviewer.get(f"/v1/reviews/{task['id']}").json()["state"] == "open"
    decided = while_healthy(service, lambda: override({"Decision": "Approve", "Credit Limit": 25000.5}))
    assert decided.status_code == 200, decided.text  # was a 500
    [recorded] = reviewer.get(f"/v1/execution/decisions/{decision['decision_id']}/overrides").json()
    assert recorded["override"]["Decision"] == "Approve" and recorded["override"]["Credit Limit"] == 25000.5
