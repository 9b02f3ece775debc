"""Excel workbooks through the service and the command line: upload and publish an .xlsx model
(hashed like its YAML form), and `check`, `eval`, `convert` and `publish` on .xlsx files."""

from __future__ import annotations

import io
import json

import openpyxl

from decisions import read_definitions
from decisions.xlsx_format import write_xlsx
from tests.api.conftest import EXAMPLES, LOAN_DMN, LOAN_INPUT, Live
from tests.api.test_api_cli import cli

LOAN_XLSX = EXAMPLES / "loan-approval.xlsx"
LOAN_YAML = EXAMPLES / "loan-approval.yaml"


def test_an_xlsx_upload_is_stored_as_bytes_hashed_like_its_yaml_and_answers_like_the_dmn(live: Live) -> None:
    workbook = LOAN_XLSX.read_bytes()
    uploaded = live.upload("loan-sheet", workbook, "loan-approval.xlsx")
    assert uploaded.status_code == 201, uploaded.text
    version = uploaded.json()
    assert version["format"] == "xlsx" and version["hash_method"] == "model-yaml"
    as_yaml = live.upload("loan-yaml", LOAN_YAML.read_bytes(), "loan-approval.yaml")
    assert as_yaml.status_code == 201, as_yaml.text
    assert version["content_hash"] == as_yaml.json()["content_hash"]

    content = live.client("viewer").get("/v1/models/loan-sheet/versions/1/content")
    assert content.status_code == 200 and content.content == workbook
    assert content.headers["content-type"].startswith("application/vnd.openxmlformats-officedocument")

    live.publish("loan-sheet", workbook, "loan.xlsx")  # version 2: the same workbook, published
    live.publish("loan-approval", LOAN_DMN.read_bytes(), LOAN_DMN.name)
    inputs = json.loads(LOAN_INPUT.read_text())
    caller = live.client("caller")
    from_sheet = caller.post("/v1/decisions/loan-sheet/evaluate", json={"inputs": inputs})
    from_dmn = caller.post("/v1/decisions/loan-approval/evaluate", json={"inputs": inputs})
    assert from_sheet.status_code == 200, from_sheet.text
    assert from_sheet.json()["outputs"] == from_dmn.json()["outputs"]
    assert from_sheet.json()["outputs"]["Decision"] == "Approve"


def test_a_broken_workbook_cell_is_named_by_the_load_gate(live: Live) -> None:
    """A cell that does not parse breaks its decision only (as a FEEL error in a DMN or YAML
    upload does): the draft is stored, and the load gate, which keeps it from being published,
    names the cell."""
    book = openpyxl.load_workbook(io.BytesIO(LOAN_XLSX.read_bytes()))
    book["Decision"]["B15"] = "not ( valid"
    buffer = io.BytesIO()
    book.save(buffer)
    response = live.upload("broken-sheet", buffer.getvalue(), "broken.xlsx")
    assert response.status_code == 201, response.text
    gates = live.client("author").get("/v1/models/broken-sheet/versions/1/gates")
    assert gates.status_code == 200, gates.text
    report = gates.json()
    assert not report["ok"] and [f["gate"] for f in report["failures"]] == ["load"]
    reasons = report["failures"][0]["reasons"]
    assert any("Decision!B15" in reason for reason in reasons), reasons
    random = live.upload("random-sheet", bytes(range(256)) * 8, "random.xlsx")
    assert random.status_code == 422 and "not an xlsx workbook" in random.json()["errors"][0]["message"]


def test_check_eval_and_convert_read_and_write_xlsx(tmp_path) -> None:  # type: ignore[no-untyped-def]
    sheet = tmp_path / "loan.xlsx"
    made = cli("convert", str(LOAN_DMN), "--to", "xlsx", "-o", str(sheet))
    assert made.returncode == 0, made.stderr
    assert read_definitions(sheet).decisions[1].name == "Risk Category"
    checked = cli("check", str(sheet))
    assert checked.returncode == 0 and checked.stdout.strip() == "ok: 5 decisions, 6 inputs", checked.stdout
    from_sheet = cli("eval", str(sheet), "--input", f"@{LOAN_INPUT}", "--json")
    from_dmn = cli("eval", str(LOAN_DMN), "--input", f"@{LOAN_INPUT}", "--json")
    assert from_sheet.returncode == 0, from_sheet.stderr
    assert json.loads(from_sheet.stdout)["outputs"] == json.loads(from_dmn.stdout)["outputs"]
    back = cli("convert", str(sheet), "--to", "yaml")
    assert back.returncode == 0 and back.stdout == cli("convert", str(LOAN_DMN), "--to", "yaml").stdout
    to_dmn = tmp_path / "back.dmn"
    assert cli("convert", str(sheet), "--to", "dmn", "--out", str(to_dmn)).returncode == 0
    assert write_xlsx(read_definitions(to_dmn)) == write_xlsx(read_definitions(LOAN_DMN))

    no_out = cli("convert", str(LOAN_DMN), "--to", "xlsx")
    assert no_out.returncode == 2 and "--out" in no_out.stderr


def test_check_names_the_cell_and_never_shows_a_traceback(tmp_path) -> None:  # type: ignore[no-untyped-def]
    book = openpyxl.load_workbook(io.BytesIO(LOAN_XLSX.read_bytes()))
    book["Risk Category"]["B6"] = None  # the hit policy
    book["Eligibility"]["C14"] = "=B14*2"
    broken = tmp_path / "broken.xlsx"
    book.save(broken)
    checked = cli("check", str(broken))
    assert checked.returncode == 1, checked.stdout
    assert "'Risk Category'!B6: the hit policy is empty" in checked.stdout
    assert "Eligibility!C14: a formula (=B14*2)" in checked.stdout
    assert "2 error(s) in" in checked.stdout
    junk = tmp_path / "junk.xlsx"
    junk.write_bytes(b"\x00" * 1000)
    for command in (["check", str(junk)], ["eval", str(junk)], ["convert", str(junk), "--to", "yaml"]):
        done = cli(*command)
        assert done.returncode in (1, 2) and "not an xlsx workbook" in done.stdout + done.stderr, done
        assert "Traceback" not in done.stderr


def test_publish_uploads_an_xlsx_model(live: Live) -> None:
    author = ["--url", live.url, "--api-key", live.keys["author"]]
    published = cli("publish", str(LOAN_XLSX), "--key", "loan-sheet", *author, "-m", "from Excel")
    assert published.returncode == 0, published.stderr
    assert "loan-sheet version 1: submitted" in published.stdout
    version = live.client("viewer").get("/v1/models/loan-sheet/versions/1").json()
    assert version["format"] == "xlsx" and version["state"] == "submitted"
