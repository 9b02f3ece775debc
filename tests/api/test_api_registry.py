"""Models, versions, lifecycle, aliases and diffs over HTTP."""

from __future__ import annotations

from tests.api.conftest import LOAN_DMN, SHIPPING_YAML, Live


def test_lifecycle_with_maker_checker_and_history(live: Live) -> None:
    created = live.upload("shipping", SHIPPING_YAML, "shipping.yaml")
    assert created.status_code == 201
    version = created.json()
    assert (version["number"], version["state"], version["format"], version["author"]) == \
        (1, "draft", "yaml", "author-person")
    base = "/v1/models/shipping/versions/1"
    author, approver, admin = live.client("author"), live.client("approver"), live.client("admin")

    assert author.post(f"{base}/submit", json={"comment": "ready"}).json()["state"] == "submitted"
    # Immutable from submit on: the author cannot replace it any more.
    replaced = author.put(base, files={"file": ("shipping.yaml", SHIPPING_YAML.replace("* 4", "* 5").encode())})
    assert replaced.status_code == 409
    assert approver.post(f"{base}/publish").status_code == 409  # not approved yet
    assert approver.post(f"{base}/approve").json()["state"] == "approved"
    assert approver.post(f"{base}/publish").json()["state"] == "published"
    assert admin.post(f"{base}/retire").status_code == 200  # no alias points at it

    history = live.client("viewer").get(f"{base}/history").json()
    assert [(h["from_state"], h["to_state"], h["by"]) for h in history] == [
        (None, "draft", "author-person"), ("draft", "submitted", "author-person"),
        ("submitted", "approved", "approver-person"), ("approved", "published", "approver-person"),
        ("published", "retired", "admin-person")]
    assert history[1]["comment"] == "ready"


def test_the_author_cannot_approve_their_own_version(live: Live) -> None:
    admin = live.client("admin")  # admin may do everything, but is still one person
    response = admin.post("/v1/models/shipping/versions", files={"file": ("s.yaml", SHIPPING_YAML.encode())})
    assert response.status_code == 201
    assert admin.post("/v1/models/shipping/versions/1/submit").status_code == 200
    refused = admin.post("/v1/models/shipping/versions/1/approve")
    assert refused.status_code == 403
    assert "maker-checker" in refused.json()["detail"]


def test_drafts_can_be_replaced_by_their_author_and_read_back(live: Live) -> None:
    live.upload("shipping", SHIPPING_YAML, "shipping.yaml")
    changed = SHIPPING_YAML.replace("Weight * 4", "Weight * 5")
    author = live.client("author")
    before = author.get("/v1/models/shipping/versions/1").json()["content_hash"]
    after = author.put("/v1/models/shipping/versions/1", files={"file": ("s.yaml", changed.encode())},
                       data={"comment": "fee up"})
    assert after.status_code == 200
    assert after.json()["content_hash"] != before and after.json()["comment"] == "fee up"
    content = live.client("viewer").get("/v1/models/shipping/versions/1/content")
    assert content.text == changed
    assert content.headers["content-type"].startswith("application/yaml")
    assert live.client("admin").put("/v1/models/shipping/versions/1", data={"comment": "x"}).status_code == 403


def test_gates_stop_a_version_whose_test_cases_fail(live: Live) -> None:
    cases = "- inputs: {Weight: 3, Speed: standard}\n  expect: {Fee: 99}\n"
    number = live.upload("shipping", SHIPPING_YAML, "shipping.yaml", test_cases=cases).json()["number"]
    base = f"/v1/models/shipping/versions/{number}"
    report = live.client("viewer").get(f"{base}/gates").json()
    assert report["ok"] is False and report["failures"][0]["gate"] == "tests"
    assert live.client("author").post(f"{base}/submit").status_code == 200
    assert live.client("approver").post(f"{base}/approve").status_code == 200
    refused = live.client("approver").post(f"{base}/publish")
    assert refused.status_code == 422
    problem = refused.json()
    assert problem["type"].endswith("/gate-failed")
    assert problem["errors"][0]["gate"] == "tests" and "99" in problem["errors"][0]["message"]


def test_aliases_move_roll_back_and_keep_their_history(live: Live) -> None:
    first = live.publish("shipping", SHIPPING_YAML, "shipping.yaml")
    second = live.publish("shipping", SHIPPING_YAML.replace("* 4", "* 6"), "shipping.yaml")
    viewer, approver = live.client("viewer"), live.client("approver")
    assert viewer.get("/v1/models/shipping/aliases/production").json()["number"] == second
    back = approver.post("/v1/models/shipping/aliases/production/rollback", json={"why": "fees too high"})
    assert back.status_code == 200 and back.json()["number"] == first
    fee = live.client("caller").post("/v1/decisions/shipping/evaluate",
                                      json={"inputs": {"Weight": 2, "Speed": "standard"}}).json()
    assert (fee["version"], fee["outputs"]["Fee"]) == (first, 8)
    moves = viewer.get("/v1/models/shipping/alias-history?alias=production").json()
    assert [(m["kind"], m["from_number"], m["to_number"]) for m in moves] == [
        ("set", None, first), ("set", first, second), ("rollback", second, first)]
    assert moves[-1]["why"] == "fees too high" and moves[-1]["by"] == "approver-person"
    detail = viewer.get("/v1/models/shipping").json()
    assert [v["number"] for v in detail["versions"]] == [first, second]
    assert [(a["alias"], a["number"]) for a in detail["aliases"]] == [("production", first)]
    assert [m["key"] for m in viewer.get("/v1/models").json()["models"]] == ["shipping"]


def test_diff_between_versions(live: Live) -> None:
    live.upload("loan-approval", LOAN_DMN.read_bytes(), LOAN_DMN.name)
    text = LOAN_DMN.read_text().replace("&lt; 580<", "&lt; 590<", 1)
    assert text != LOAN_DMN.read_text()
    live.upload("loan-approval", text, LOAN_DMN.name)
    same = live.client("viewer").get("/v1/models/loan-approval/diff?from=1&to=1").json()
    assert same["identical"] is True
    diff = live.client("viewer").get("/v1/models/loan-approval/diff?from=1&to=2").json()
    assert diff["identical"] is False
    assert any("590" in line for line in diff["summary"]), diff["summary"]


def test_test_cases_are_read_through_the_capped_yaml_loader(live: Live) -> None:
    # 500 bytes standing for 387 million values: refused at upload, before any gate walks them.
    lines = ['    l0: &l0 ["x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    lines += [f"    l{n}: &l{n} [" + ", ".join([f"*l{n - 1}"] * 9) + "]" for n in range(1, 9)]
    bomb = "- name: bomb\n  inputs:\n" + "\n".join(lines) + "\n  expect: {Decision: Approve}\n"
    response = live.upload("loan-approval", LOAN_DMN.read_bytes(), LOAN_DMN.name, test_cases=bomb)
    assert response.status_code == 400, response.text[:500]
    assert "alias" in response.json()["detail"] and len(response.content) < 5_000
