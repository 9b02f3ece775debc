"""The studio in a real browser: Debian's Chromium, headless, driven by Playwright, against the
service on 127.0.0.1 (tests/api/conftest.py's live server, on SQLite).

The flows: an analyst opens loan-approval, changes a threshold cell, sees a test fail and a
verification finding, fixes it, saves and submits; an approver sees the diff and the gates,
approves, publishes and points production at it; a caller's answer changes accordingly. A
model dmn-js cannot read, a conflicting save and a revoked key each get a clear message.
Screens are saved as PNGs in $DECISIONARY_SCREENSHOTS (default: the test's tmp directory).
Every wait is for a condition, never a fixed time; no flow may log a console error.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import Page, Response, Route, expect, sync_playwright

from api.studio import BUNDLE, studio_dist
from execution.receiver import Receiver
from registry import create_key, unit_of_work, upgrade
from tests.api.conftest import LOAN_DMN, Live, start_live, stop_live
from tests.audit.browser import CHROMIUM, CHROMIUM_ARGS
from tests.execution.conftest import REFER, SECRET, config_for, loan_bindings, publish_model, settled, work

PAGE_SIZE = 50  # studio/src/paging.js's PAGE_SIZE: the lists' page
CASES = LOAN_DMN.with_name("loan-approval.tests.yaml")
WAIT_MS = 60_000  # the longest any condition may take on a busy machine


@dataclass
class Browser:
    page: Page
    shots: Path
    console_errors: list[str] = field(default_factory=list)
    outside_requests: list[str] = field(default_factory=list)
    encodings: dict[str, str] = field(default_factory=dict)  # asset path -> Content-Encoding sent

    def local_only(self, route: Route) -> None:
        if route.request.url.startswith("http://127.0.0.1:"):
            route.continue_()
        else:
            self.outside_requests.append(route.request.url)
            route.abort()

    def note_encoding(self, response: Response) -> None:
        if "/studio/assets/" in response.url:
            self.encodings[response.url.split("/studio/assets/", 1)[1]] = response.headers.get("content-encoding", "")

    def shot(self, name: str) -> None:
        self.shots.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(self.shots / f"studio-{name}.png"))

    def sign_in(self, url: str, secret: str) -> None:
        self.page.goto(f"{url}/studio")
        expect(self.page.get_by_label("API key")).to_be_focused(timeout=WAIT_MS)  # focused on arrival
        self.shot("sign-in")
        self.page.keyboard.type(secret)
        self.page.keyboard.press("Tab")
        expect(self.page.get_by_role("button", name="Sign in")).to_be_focused()
        self.page.keyboard.press("Space")  # the keyboard signs in
        expect(self.page.locator("#who")).to_be_visible(timeout=WAIT_MS)

    def sign_out(self) -> None:
        self.page.locator("#sign-out").click()
        expect(self.page.get_by_label("API key")).to_be_visible(timeout=WAIT_MS)


@pytest.fixture
def live_sqlite(tmp_path: Path) -> Iterator[Live]:
    assert (studio_dist() / BUNDLE).is_file(), "the studio is not built: run `make studio`"
    url = f"sqlite:///{tmp_path / 'studio.db'}"
    upgrade(url)
    live, server = start_live(url)
    try:
        yield live
    finally:
        stop_live(live, server)


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Browser]:
    shots = Path(os.environ.get("DECISIONARY_SCREENSHOTS") or tmp_path / "screenshots")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=list(CHROMIUM_ARGS))
        page = chromium.new_page(viewport={"width": 1400, "height": 900})
        seen = Browser(page, shots)
        page.on("console", lambda m: seen.console_errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: seen.console_errors.append(str(e)))
        page.on("response", seen.note_encoding)
        page.route("**/*", seen.local_only)  # everything the studio needs comes from the service
        try:
            yield seen
        finally:
            chromium.close()
    assert seen.outside_requests == [], "the pages fetched something from outside the service"


def type_in_cell(page: Page, row: str, column: str, text: str) -> None:
    """Replace a decision table cell's text through its FEEL editor. dmn-js applies the edit a
    moment after the typing stops: wait for its effect before `leave_cell`."""
    cell = page.locator(f'td[data-row-id="{row}"][data-col-id="{column}"]')
    cell.click()
    editable = cell.locator("[contenteditable]").first
    editable.press("Control+a")
    editable.press_sequentially(text)


def leave_cell(page: Page, row: str, column: str, text: str) -> None:
    page.locator(".view-tabs").click(position={"x": 2, "y": 2})
    expect(page.locator(f'td[data-row-id="{row}"][data-col-id="{column}"]')).to_have_text(text, timeout=WAIT_MS)


def expected_refusal(message: str, *statuses: int) -> bool:
    """The browser's own log line for a response with one of `statuses` (not a script error)."""
    return any(message == f"Failed to load resource: the server responded with a status of {status} "
               f"({'Conflict' if status == 409 else 'Unauthorized'})" for status in statuses)


def answer(live: Live, score: int) -> str:
    inputs = {"Applicant Age": 30, "Monthly Income": 5000, "Monthly Debt": 500, "Credit Score": score,
              "Employment Status": "Employed", "Requested Amount": 10000}
    response = live.client("caller").post("/v1/decisions/loan-approval/evaluate", json={"inputs": inputs})
    assert response.status_code == 200, response.text
    return str(response.json()["outputs"]["Decision"])


def test_analyst_edits_approver_publishes_and_the_callers_answer_changes(live_sqlite: Live, browser: Browser) -> None:
    live = live_sqlite
    live.publish("loan-approval", LOAN_DMN.read_bytes(), LOAN_DMN.name, test_cases=CASES.read_text())
    assert answer(live, 585) == "Refer"  # rule 4 ([580..670): High)
    page = browser.page

    # The analyst: models, the model's versions, then version 1 in dmn-js with the side panel.
    browser.sign_in(live.url, live.keys["author"])
    expect(page.locator("#who")).to_contain_text("author")
    expect(page.get_by_role("navigation", name="Studio")).not_to_contain_text("Reviews")  # not the author's
    expect(page.get_by_role("link", name="loan-approval")).to_be_visible(timeout=WAIT_MS)
    browser.shot("models")
    page.get_by_role("link", name="loan-approval").click()
    expect(page.locator('tr[data-version="1"]')).to_contain_text("published", timeout=WAIT_MS)
    browser.shot("versions")
    page.get_by_label("Open version 1").click()
    expect(page.locator("#h-tests")).to_contain_text("0 failed", timeout=WAIT_MS)
    page.get_by_role("tab", name="loan-approval (DRD)").click()  # laid out by the service: every element drawn
    for element in ("risk_category", "eligibility", "decision", "credit_limit", "debt_to_income"):
        expect(page.locator(f'.djs-element[data-element-id="{element}"]')).to_be_visible(timeout=WAIT_MS)
    browser.shot("analyst-drd")
    page.get_by_role("tab", name="Risk Category (table)").click()
    cell = page.locator('td[data-row-id="risk_r1"][data-col-id="risk_in_score"]')
    expect(cell).to_contain_text("< 580", timeout=WAIT_MS)

    # A cell that is not FEEL: the problem is listed with its place, and the cell is outlined.
    type_in_cell(page, "risk_r1", "risk_in_score", "< > 5")
    problems = page.locator("section[aria-labelledby=h-problems]")
    expect(problems).to_contain_text("Risk Category, rule 1, column Credit Score", timeout=WAIT_MS)
    leave_cell(page, "risk_r1", "risk_in_score", "< > 5")
    assert cell.evaluate("td => getComputedStyle(td).outlineColor") == "rgb(204, 0, 0)"
    browser.shot("analyst-problem")

    # A threshold too low: a case fails and verification finds the gap it leaves.
    type_in_cell(page, "risk_r1", "risk_in_score", "< 500")
    expect(page.locator("#h-tests")).to_contain_text("1 failed", timeout=WAIT_MS)
    leave_cell(page, "risk_r1", "risk_in_score", "< 500")
    expect(page.locator("#tests .test-fail")).to_contain_text("subprime score is rejected")
    expect(page.locator("#findings")).to_contain_text("Credit Score in [500..580)")
    browser.shot("analyst-test-fails")

    # The fix: every case passes again, and the gap is gone.
    type_in_cell(page, "risk_r1", "risk_in_score", "< 590")
    expect(page.locator("#h-tests")).to_contain_text("0 failed", timeout=WAIT_MS)
    leave_cell(page, "risk_r1", "risk_in_score", "< 590")
    expect(page.locator("#findings")).not_to_contain_text("[500..580)")

    # Try it: the form is built from the input types; the fired rule is highlighted; why not rule 4.
    form = page.get_by_label("Try the model")
    for name, value in (("Applicant Age", "30"), ("Monthly Income", "5000"), ("Monthly Debt", "500"),
                        ("Credit Score", "585"), ("Requested Amount", "10000")):
        form.get_by_label(name, exact=True).fill(value)
    form.get_by_label("Employment Status").select_option("Employed")
    form.get_by_role("button", name="Evaluate").click()
    expect(page.locator('td[data-output="Decision"]')).to_have_text("Reject", timeout=WAIT_MS)
    row_color = cell.evaluate("td => getComputedStyle(td).backgroundColor")
    assert row_color == "rgb(217, 242, 217)", row_color  # rule 1 fired: its row is marked
    page.locator('.why-not[data-decision="Risk Category"][data-rule="4"]').click()
    expect(page.locator(".why")).to_contain_text("matched", timeout=WAIT_MS)
    browser.shot("analyst-try-it")

    page.get_by_label("Comment").fill("Scores below 590 are subprime")
    page.locator("#save").focus()
    page.keyboard.press("Enter")  # buttons work from the keyboard
    expect(page.locator(".status")).to_contain_text("Saved as draft version 2", timeout=WAIT_MS)
    page.keyboard.press("Tab")  # Save -> Submit, now enabled
    expect(page.locator("#submit")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator(".status")).to_contain_text("Version 2 submitted", timeout=WAIT_MS)
    browser.sign_out()

    # The author may not approve its own version; an approver sees the diff and the gates.
    browser.sign_in(live.url, live.keys["approver"])
    expect(page.get_by_label("Review loan-approval version 2")).to_be_visible(timeout=WAIT_MS)
    browser.shot("approval-queue")
    page.get_by_label("Review loan-approval version 2").click()
    diff = page.get_by_label("Changes to Risk Category")
    expect(diff).to_contain_text("< 580", timeout=WAIT_MS)
    expect(diff).to_contain_text("< 590")
    expect(page.locator("#h-gates")).to_contain_text("all pass")
    expect(page.locator("#publish")).to_be_disabled()
    expect(page.locator("#publish")).to_have_attribute("title", "version 2 is submitted, not approved")
    browser.shot("approval-diff")
    # The tab order runs comment -> Approve -> Reject, skipping the disabled Publish; Enter approves.
    page.get_by_label("Comment").fill("Four-eyes checked")
    page.keyboard.press("Tab")
    expect(page.locator("#approve")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.locator("#reject")).to_be_focused()
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Enter")
    expect(page.locator(".status")).to_contain_text("now approved", timeout=WAIT_MS)
    page.locator("#publish").click()
    expect(page.locator(".status")).to_contain_text("now published", timeout=WAIT_MS)
    page.locator("#to-production").click()
    expect(page.locator(".status")).to_contain_text("production now answers with version 2", timeout=WAIT_MS)

    assert answer(live, 585) == "Reject"  # the caller's answer follows the change
    assert browser.console_errors == []


def test_a_conflicting_save_a_revoked_key_and_what_a_viewer_may_do(live_sqlite: Live, browser: Browser) -> None:
    live = live_sqlite
    live.publish("loan-approval", LOAN_DMN.read_bytes(), LOAN_DMN.name, test_cases=CASES.read_text())
    page = browser.page
    # Someone else saves a draft after version 1 first: this save is refused with the diff.
    other = LOAN_DMN.read_text().replace("<text>&lt; 580</text>", "<text>&lt; 570</text>", 1)
    response = live.client("admin").post("/v1/workbench/loan-approval/drafts",
                                         json={"content": other, "based_on": 1, "comment": "elsewhere"})
    assert response.status_code == 201, response.text
    browser.sign_in(live.url, live.keys["author"])
    page.goto(f"{live.url}/studio#/models/loan-approval/versions/1")
    expect(page.locator("#h-tests")).to_contain_text("0 failed", timeout=WAIT_MS)
    page.locator("#save").click()
    status = page.locator(".status")
    expect(status).to_contain_text("saved draft 2 of loan-approval after version 1", timeout=WAIT_MS)
    expect(status).to_contain_text("< 570")
    browser.shot("save-conflict")

    # A revoked key: the next call signs out with a message saying why.
    key_id = live.client("author").get("/v1/whoami").json()["key_id"]
    assert live.client("admin").delete(f"/v1/keys/{key_id}").status_code == 200
    page.goto(f"{live.url}/studio#/models")  # a new screen, whose first call is refused
    expect(page.get_by_role("alert")).to_contain_text("expired or been revoked", timeout=WAIT_MS)
    expect(page.get_by_label("API key")).to_be_visible()
    browser.shot("signed-out")

    # A viewer is shown what its role may do, and why it may not save.
    browser.sign_in(live.url, live.keys["viewer"])
    expect(page.locator("#who")).to_contain_text("viewer-person (viewer): may read models, versions, aliases and diffs")
    page.goto(f"{live.url}/studio#/models/loan-approval/versions/1")
    expect(page.locator("#save")).to_be_disabled(timeout=WAIT_MS)
    expect(page.locator("#save")).to_have_attribute("title", "your role (viewer) may not save drafts")
    assert [e for e in browser.console_errors if not expected_refusal(e, 409, 401)] == []


def test_a_model_dmn_js_cannot_read_gets_a_located_message(live_sqlite: Live, browser: Browser) -> None:
    live = live_sqlite
    # A YAML model: the service reads it, dmn-js (an XML editor) cannot.
    yaml_model = LOAN_DMN.with_suffix(".yaml")
    assert live.upload("loan-approval", yaml_model.read_bytes(), yaml_model.name).status_code == 201
    browser.sign_in(live.url, live.keys["author"])
    browser.page.goto(f"{live.url}/studio#/models/loan-approval/versions/1")
    message = browser.page.locator(".unreadable")
    expect(message).to_contain_text("dmn-js cannot read this model", timeout=WAIT_MS)
    expect(message).to_contain_text(re.compile(r"line \d+, column \d+"))  # where the reading stopped
    expect(browser.page.locator("#h-problems")).to_contain_text("0 problem(s)", timeout=WAIT_MS)
    browser.shot("unreadable")
    assert browser.console_errors == []


@dataclass
class ReferTask:
    live: Live
    lender: Receiver
    decision_id: str


@contextmanager
def refer_task(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, browser: Browser) -> Iterator[ReferTask]:
    """A live service whose loan-approval run waits at review after a Refer decision, a lender
    that receives the callbacks, and the reviewer signed in to the studio."""
    monkeypatch.setenv("DECISIONARY_ALLOWED_HOSTS", "127.0.0.1")
    monkeypatch.setenv("DECISIONARY_WEBHOOK_SECRET", SECRET)
    url = f"sqlite:///{tmp_path / 'reviews.db'}"
    upgrade(url)
    live, server = start_live(url)
    try:
        with Receiver(secret=SECRET) as lender:
            publish_model(live.engine, "loan-approval", LOAN_DMN.read_bytes(), loan_bindings(lender),
                          config=config_for())
            response = live.client("caller").post("/v1/decisions/loan-approval/evaluate", json={"inputs": REFER})
            assert response.status_code == 200 and response.json()["outputs"]["Decision"] == "Refer", response.text
            work(live.engine, config_for(), settled(live.engine))  # the run stops at the review step
            browser.sign_in(live.url, live.keys["reviewer"])
            yield ReferTask(live, lender, response.json()["decision_id"])
    finally:
        stop_live(live, server)


def test_a_reviewer_claims_and_decides_a_refer_task_and_the_lender_is_called_back(
        tmp_path: Path, browser: Browser, monkeypatch: pytest.MonkeyPatch) -> None:
    with refer_task(tmp_path, monkeypatch, browser) as task:
        live, lender, decision_id = task.live, task.lender, task.decision_id
        page = browser.page
        expect(page.get_by_label("Review tasks")).to_contain_text("underwriting", timeout=WAIT_MS)
        browser.shot("review-queue")
        page.get_by_role("link", name="Open").first.click()
        expect(page.locator("#task-outputs")).to_contain_text('"Decision": "Refer"', timeout=WAIT_MS)
        page.locator("#claim").click()
        expect(page.locator("#claim")).to_be_disabled(timeout=WAIT_MS)
        page.get_by_label("Reason").fill("Income verified by phone")
        page.locator("#approve-task").focus()
        page.keyboard.press("Space")  # buttons work from the keyboard
        expect(page.locator(".status")).to_contain_text("Decided: approve", timeout=WAIT_MS)
        browser.shot("review-decided")

        work(live.engine, config_for(), settled(live.engine))  # the run goes on: the lender is told
        [told] = lender.processed_bodies("/lender/decisions")
        assert told["decision_id"] == decision_id and told["outcome"] == "approved"
        assert told["reviewed_by"] == "reviewer-person"
        page.reload()  # what happened next in the run, as the reviewer sees it
        expect(page.locator(".run")).to_contain_text("The run: done", timeout=WAIT_MS)

        # The model's decision log, searched by output.
        page.goto(f"{live.url}/studio#/log/loan-approval")
        page.get_by_label("Output equals (Decision:value)").fill("Decision:Refer")
        page.get_by_label("Output equals (Decision:value)").press("Enter")
        expect(page.get_by_label("Decision records")).to_contain_text("Refer", timeout=WAIT_MS)
        report = page.frame_locator("iframe.report")
        expect(report.locator("svg").first).to_be_visible(timeout=WAIT_MS)  # the report's charts
        browser.shot("decision-log")
        assert browser.console_errors == []


def test_docs_and_redoc_render_with_nothing_from_outside(live_sqlite: Live, browser: Browser) -> None:
    live = live_sqlite
    page = browser.page
    page.goto(f"{live.url}/docs")
    expect(page.locator(".opblock").first).to_be_visible(timeout=WAIT_MS)  # Swagger UI drew the operations
    expect(page.locator("body")).to_contain_text("/v1/workbench/analyse")
    browser.shot("docs")
    page.goto(f"{live.url}/redoc")
    expect(page.get_by_text("Check, verify, test and try a model being edited").first).to_be_attached(timeout=WAIT_MS)
    browser.shot("redoc")
    for asset in ("docs/swagger-ui-bundle.js", "docs/swagger-ui.css", "docs/redoc.standalone.js"):
        assert browser.encodings[asset] == "gzip", asset
    assert browser.outside_requests == []
    assert browser.console_errors == []


def test_the_decision_log_loads_more_pages_from_the_keyboard(live_sqlite: Live, browser: Browser) -> None:
    live = live_sqlite
    live.publish("loan-approval", LOAN_DMN.read_bytes(), LOAN_DMN.name, test_cases=CASES.read_text())
    decided = 2 * PAGE_SIZE + 3  # three pages
    for score in range(600, 600 + decided):
        answer(live, score)
    page = browser.page
    browser.sign_in(live.url, live.keys["reviewer"])
    page.goto(f"{live.url}/studio#/log/loan-approval")
    rows = page.get_by_label("Decision records").locator("tbody tr")
    expect(rows).to_have_count(PAGE_SIZE, timeout=WAIT_MS)  # the first page only
    assert browser.encodings["studio.js"] == browser.encodings["studio-style.css"] == "gzip"  # sent compressed
    more = page.get_by_role("button", name="Load more")
    page.get_by_role("button", name="Search").focus()
    page.keyboard.press("Tab")  # the keyboard reaches "Load more" and presses it
    expect(more).to_be_focused()
    page.keyboard.press("Enter")
    expect(rows).to_have_count(2 * PAGE_SIZE, timeout=WAIT_MS)
    expect(more).to_be_focused()  # still on the button, for the next page
    page.keyboard.press("Space")
    expect(rows).to_have_count(decided, timeout=WAIT_MS)
    expect(more).to_be_hidden()  # the last page: no cursor left
    expect(page.get_by_label("Decision records")).to_be_focused()  # the keyboard lands on the list
    assert len(set(rows.all_inner_texts())) == decided  # each record once: the pages do not overlap
    expect(page.get_by_role("status").filter(has_text="more)")).to_contain_text(f"{decided} shown (3 more)")
    assert browser.console_errors == []


def test_an_approver_who_wrote_the_version_may_not_approve_it(live_sqlite: Live, browser: Browser) -> None:
    live = live_sqlite
    live.publish("loan-approval", LOAN_DMN.read_bytes(), LOAN_DMN.name, test_cases=CASES.read_text())
    changed = LOAN_DMN.read_text().replace("<text>&lt; 580</text>", "<text>&lt; 590</text>", 1)
    saved = live.client("author").post("/v1/workbench/loan-approval/drafts",
                                       json={"content": changed, "based_on": 1, "comment": "subprime below 590"})
    assert saved.status_code == 201, saved.text
    number = saved.json()["number"]
    assert live.client("author").post(f"/v1/models/loan-approval/versions/{number}/submit").status_code == 200
    # The author is given an approver's key too: the same person, so still not a second pair of eyes.
    with unit_of_work(live.engine) as session:
        _, approver_secret = create_key(session, "author-as-approver", "approver", identity="author-person")

    page = browser.page
    browser.sign_in(live.url, approver_secret)
    expect(page.locator("#who")).to_contain_text("author-person (approver)")
    page.get_by_label(f"Review loan-approval version {number}").click()
    approve = page.locator("#approve")
    expect(approve).to_be_disabled(timeout=WAIT_MS)
    reason = f"you wrote version {number}: someone else must approve it (maker-checker)"
    expect(approve).to_have_attribute("title", reason)
    described_by = approve.get_attribute("aria-describedby")
    assert described_by
    expect(page.locator(f"#{described_by}")).to_have_text(reason)  # the reason is on screen, not only a tooltip
    expect(page.locator("#reject")).to_be_enabled()  # rejecting one's own version is allowed
    browser.shot("approval-own-version")

    # Forced past the UI, the service refuses it as well, and the version stays submitted.
    forced = live.client(secret=approver_secret).post(f"/v1/models/loan-approval/versions/{number}/approve",
                                                      json={"comment": "forced"})
    assert forced.status_code == 403, forced.text
    assert "maker-checker" in forced.json()["detail"]
    state = live.client("viewer").get(f"/v1/models/loan-approval/versions/{number}").json()["state"]
    assert state == "submitted"
    assert browser.console_errors == []


def test_a_reviewer_overrides_a_refer_task_and_the_lender_gets_the_overridden_outcome(
        tmp_path: Path, browser: Browser, monkeypatch: pytest.MonkeyPatch) -> None:
    with refer_task(tmp_path, monkeypatch, browser) as task:
        live, lender, decision_id = task.live, task.lender, task.decision_id
        page = browser.page
        page.get_by_role("link", name="Open").first.click()
        expect(page.locator("#task-outputs")).to_contain_text('"Decision": "Refer"', timeout=WAIT_MS)
        page.locator("#claim").click()
        expect(page.locator("#claim")).to_be_disabled(timeout=WAIT_MS)
        page.get_by_label("Reason", exact=True).fill("Guarantor added; a smaller limit")
        page.get_by_label("Override outputs (JSON)").fill('{"Decision": "Approve", "Credit Limit": 12345}')
        page.locator("#override-task").click()
        expect(page.locator(".status")).to_contain_text("Decided: override", timeout=WAIT_MS)
        expect(page.locator("main")).to_contain_text("Guarantor added; a smaller limit")
        browser.shot("review-override")

        work(live.engine, config_for(), settled(live.engine))  # the run goes on with the overridden outputs
        [told] = lender.processed_bodies("/lender/decisions")
        assert told["decision_id"] == decision_id and told["outcome"] == "approved"
        assert float(told["credit_limit"]) == 12345  # the reviewer's value, not the model's
        assert told["reviewed_by"] == "reviewer-person"
        page.reload()  # the run as the reviewer sees it: the override and where it led
        run = page.locator(".run")
        expect(run).to_contain_text("The run: done", timeout=WAIT_MS)
        expect(run).to_contain_text("override")
        expect(run).to_contain_text("12345")
        assert browser.console_errors == []
