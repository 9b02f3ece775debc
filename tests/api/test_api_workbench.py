"""The studio's workbench routes and pages over HTTP (a real uvicorn): analysing an edited model
without storing it, saving an edit as a draft (409 with the diff on a newer draft by someone
else), a version's test cases, and /studio, /docs and /redoc served from local files."""

from __future__ import annotations

import gzip
from pathlib import Path

import httpx
import pytest

from api.studio import STUDIO_DIR_ENV, accepts_gzip, studio_dist
from tests.api.conftest import LOAN_DMN, Live, start_live, stop_live

CASES = LOAN_DMN.with_name("loan-approval.tests.yaml")
LOAN_TEXT = LOAN_DMN.read_text()


def test_analyse_reports_check_verification_tests_and_a_try(loan: Live) -> None:
    author = loan.client("author")
    lowered = LOAN_TEXT.replace("<text>&lt; 580</text>", "<text>&lt; 500</text>", 1)
    inputs = {"Applicant Age": 30, "Monthly Income": 5000, "Monthly Debt": 500, "Credit Score": 550,
              "Employment Status": "Employed", "Requested Amount": 10000}
    response = author.post("/v1/workbench/analyse", json={"content": lowered, "test_cases": CASES.read_text(),
                                                           "inputs": inputs, "decision": "Risk Category", "rule": 1})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["loaded"] and body["problems"] == []
    assert [r["name"] for r in body["tests"]["results"] if not r["ok"]] == ["case 1 (subprime score is rejected)"]
    gaps = [f for f in body["findings"] if f["kind"] == "gap" and f["severity"] == "warning"]
    assert any("Credit Score in [500..580)" in f["message"] for f in gaps)
    coverage = {c["decision"]: c for c in body["tests"]["coverage"]}
    assert coverage["Risk Category"]["total"] == 9 and 1 not in coverage["Risk Category"]["fired"]
    assert body["evaluation"]["outputs"]["Risk Category"] is None
    assert body["explanation"][0]["failed"] == [{"column": "Credit Score", "cell": "< 500", "value": 550,
                                                 "satisfied": False}]
    assert body["input_schema"]["properties"]["Credit Score"]
    assert loan.client("author").get("/v1/models/loan-approval").json()["latest_number"] == 1  # nothing stored


def test_analyse_locates_what_does_not_load_and_needs_a_reader(loan: Live) -> None:
    broken = LOAN_TEXT.replace("<text>&lt; 580</text>", "<text>&lt; </text>", 1)
    body = loan.client("viewer").post("/v1/workbench/analyse", json={"content": broken}).json()
    located = [p for p in body["problems"] if p["location"].get("element") == "Risk Category"]
    assert located and located[0]["location"]["rule"] == 1 and located[0]["location"]["column"] == "Credit Score"
    unreadable = loan.client("viewer").post("/v1/workbench/analyse", json={"content": "<definitions"}).json()
    assert unreadable["loaded"] is False and unreadable["problems"]
    assert loan.client("caller").post("/v1/workbench/analyse", json={"content": LOAN_TEXT}).status_code == 403
    assert loan.client().post("/v1/workbench/analyse", json={"content": LOAN_TEXT}).status_code == 401


def test_a_save_after_someone_elses_newer_draft_is_a_409_with_the_diff(loan: Live) -> None:
    path = "/v1/workbench/loan-approval/drafts"
    other = LOAN_TEXT.replace("<text>&lt; 580</text>", "<text>&lt; 570</text>", 1)
    first = loan.client("admin").post(path, json={"content": other, "based_on": 1, "comment": "elsewhere"})
    assert first.status_code == 201 and first.json()["number"] == 2
    mine = LOAN_TEXT.replace("<text>&lt; 580</text>", "<text>&lt; 590</text>", 1)
    refused = loan.client("author").post(path, json={"content": mine, "based_on": 1})
    assert refused.status_code == 409, refused.text
    problem = refused.json()
    assert problem["conflicting_version"] == 2 and problem["based_on"] == 1
    [change] = problem["diff"]["changed"]
    [cell] = change["table"]["rules_changed"][0]["cells"]
    assert (cell["column"], cell["old"], cell["new"]) == ("Credit Score", "< 580", "< 570")
    # Started from the newer draft, the same edit saves, keeping the test cases of the version it came from.
    saved = loan.client("author").post(path, json={"content": mine, "based_on": 2, "comment": "mine"})
    assert saved.status_code == 201 and saved.json()["number"] == 3
    # The author's own newer draft is no conflict.
    again = loan.client("author").post(path, json={"content": mine, "based_on": 2})
    assert again.status_code == 201 and again.json()["number"] == 4
    assert loan.client("viewer").post(path, json={"content": mine, "based_on": 1}).status_code == 403
    bad = loan.client("author").post(path, json={"content": "<definitions", "based_on": 1})
    assert bad.status_code == 422


def test_a_versions_test_cases_are_read_back(live: Live) -> None:
    number = live.publish("loan-approval", LOAN_DMN.read_bytes(), LOAN_DMN.name, test_cases=CASES.read_text())
    cases = live.client("viewer").get(f"/v1/models/loan-approval/versions/{number}/test-cases")
    assert cases.status_code == 200 and cases.text == CASES.read_text()
    assert live.client("viewer").get("/v1/models/loan-approval/versions/9/test-cases").status_code == 404


def test_docs_and_studio_are_served_from_local_files(live: Live) -> None:
    client = live.client()
    for page, asset in (("/docs", "/studio/assets/docs/swagger-ui-bundle.js"),
                        ("/redoc", "/studio/assets/docs/redoc.standalone.js")):
        html = client.get(page)
        assert html.status_code == 200 and asset in html.text
        assert "cdn" not in html.text.lower() and "googleapis" not in html.text
        assert client.get(asset).status_code == 200
    studio = client.get("/studio")
    assert studio.status_code == 200 and '<script type="module" src="/studio/assets/studio.js">' in studio.text
    assert client.get("/studio/assets/studio.js").status_code == 200


def test_studio_assets_go_gzipped_to_a_client_that_takes_gzip(live: Live) -> None:
    dist = studio_dist()
    client = live.client()
    for asset, media_type in (("studio.js", "text/javascript; charset=utf-8"), ("studio-style.css", "text/css; charset=utf-8"),
                              ("docs/swagger-ui-bundle.js", "text/javascript; charset=utf-8"),
                              ("docs/redoc.standalone.js", "text/javascript; charset=utf-8")):
        raw = (dist / asset).read_bytes()
        gzipped = client.get(f"/studio/assets/{asset}", headers={"Accept-Encoding": "gzip, deflate, br"})
        assert gzipped.status_code == 200 and gzipped.headers["content-encoding"] == "gzip", asset
        assert gzipped.headers["content-type"] == media_type and gzipped.headers["vary"] == "Accept-Encoding"
        assert int(gzipped.headers["content-length"]) < len(raw) / 2  # what crosses the wire
        assert gzip.decompress(_wire_bytes(live, asset)) == raw
        assert gzipped.content == raw  # decoded by the client: the same file
        for refuses in ("identity", "gzip;q=0, identity", ""):
            plain = client.get(f"/studio/assets/{asset}", headers={"Accept-Encoding": refuses})
            assert plain.status_code == 200 and "content-encoding" not in plain.headers, (asset, refuses)
            assert plain.headers["content-type"] == media_type and plain.content == raw
    # A file the build did not compress (a PNG, compressed already) goes as it is to everyone.
    png = dist / "docs" / "favicon-32x32.png"
    assert not png.with_name(png.name + ".gz").exists()
    answer = client.get("/studio/assets/docs/favicon-32x32.png", headers={"Accept-Encoding": "gzip"})
    assert answer.status_code == 200 and "content-encoding" not in answer.headers
    assert answer.headers["content-type"] == "image/png" and answer.content == png.read_bytes()
    # A revalidation of the gzipped copy is a 304 that keeps the encoding's Vary.
    first = client.get("/studio/assets/studio.js", headers={"Accept-Encoding": "gzip"})
    again = client.get("/studio/assets/studio.js", headers={"Accept-Encoding": "gzip", "If-None-Match": first.headers["etag"]})
    assert again.status_code == 304 and again.headers["vary"] == "Accept-Encoding"


def _wire_bytes(live: Live, asset: str) -> bytes:
    """The body as sent (not decoded by the client)."""
    with httpx.stream("GET", f"{live.url}/studio/assets/{asset}", headers={"Accept-Encoding": "gzip"}) as response:
        return b"".join(response.iter_raw())


@pytest.mark.parametrize(("header", "takes"), [
    ("gzip", True), ("GZIP;q=0.5", True), ("br, gzip;q=1.0", True), ("*", True), ("deflate, *;q=0.1", True),
    ("", False), ("identity", False), ("gzip;q=0", False), ("gzip;q=0.0, br", False), ("gzip;q=x", False),
    ("xgzip", False),
])
def test_accept_encoding_is_read_with_its_weights(header: str, takes: bool) -> None:
    assert accepts_gzip(header) is takes


def test_an_unbuilt_studio_says_how_to_build_it(database_url: str, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(STUDIO_DIR_ENV, str(tmp_path / "nothing-here"))
    live, server = start_live(database_url)
    try:
        client = live.client()
        for page in ("/studio", "/docs", "/redoc"):
            answer = client.get(page)
            assert answer.status_code == 503 and "make studio" in answer.text
        assert client.get("/studio/assets/studio.js").status_code == 404
    finally:
        stop_live(live, server)


def test_a_model_without_a_drawing_gets_one_and_keeps_its_meaning(live: Live) -> None:
    import decisions
    from decisions.diff import diff_definitions

    answer = live.client("viewer").post("/v1/workbench/layout", json={"content": LOAN_TEXT})
    assert answer.status_code == 200, answer.text
    drawn = answer.json()["content"]
    assert drawn.count("DMNShape") >= 12 and "https://www.omg.org/spec/DMN/20230324/MODEL/" in drawn
    before = decisions.read_definitions(LOAN_TEXT.encode(), format="dmn")
    after = decisions.read_definitions(drawn.encode(), format="dmn")
    assert diff_definitions(before, after).identical
    assert live.client("viewer").post("/v1/workbench/layout", json={"content": "<definitions"}).status_code == 422
