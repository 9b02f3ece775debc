"""Bindings YAML: what validates, and every fault reported with its file, path and line."""

from __future__ import annotations

from decimal import Decimal

import pytest

import decisions
from execution.bindings import bindings_hash, parse_bindings
from execution.config import ExecutionConfig
from execution.errors import BindingsInvalid
from execution.workflow import BranchSpec, EmailSpec, HttpSpec, ReviewSpec
from tests.execution.conftest import APPROVE, LARGE, LOAN_BINDINGS, LOAN_DMN, REFER, REJECT

MODEL = decisions.load(LOAN_DMN)
ALLOW_LOCAL = ExecutionConfig(allowed_hosts=("127.0.0.1",))


def parse(text: str, config: ExecutionConfig | None = ALLOW_LOCAL):  # type: ignore[no-untyped-def]
    return parse_bindings(text, input_names=MODEL.input_names, decision_names=MODEL.decision_names,
                          config=config, file="b.yaml")


def problems(text: str, config: ExecutionConfig | None = ALLOW_LOCAL) -> list[str]:
    with pytest.raises(BindingsInvalid) as caught:
        parse(text, config)
    return [str(p) for p in caught.value.problems]


def test_the_loan_example_validates_and_routes_each_outcome() -> None:
    bindings = parse(LOAN_BINDINGS.read_text())
    assert set(bindings.workflows) == {"approved", "rejected", "referred", "review-overdue", "large-loan-alert",
                                      "drift-alert"}
    assert bindings.monitors == {"drift": ("drift-alert",)}
    routed = {}
    for name, inputs in (("approve", APPROVE), ("reject", REJECT), ("refer", REFER), ("large", LARGE)):
        outputs = MODEL.evaluate(inputs).outputs
        routed[name] = bindings.workflows_for(outputs)
    assert routed == {"approve": ["approved"], "reject": ["rejected"], "refer": ["referred"],
                      "large": ["approved", "large-loan-alert"]}
    referred = bindings.workflows["referred"].steps
    assert isinstance(referred[0].spec, ReviewSpec) and referred[0].spec.escalate == "review-overdue"
    assert isinstance(referred[1].spec, BranchSpec)
    assert referred[1].spec.arms[0][1] == 3  # goto tell-rejected
    assert referred[2].goto == len(referred)  # goto end


def test_unary_tests_and_always() -> None:
    text = """
workflows:
  w1: {steps: [{call: {url: "http://127.0.0.1:9/x"}}]}
  w2: {steps: [{call: {url: "http://127.0.0.1:9/y"}}]}
  audit: {steps: [{call: {url: "http://127.0.0.1:9/z"}}]}
on:
  - when: {Decision: '"Approve", "Refer"', Credit Limit: "> 20000"}
    run: w1
  - when: {Eligibility.Status: '"Ineligible"'}
    run: [w2, w1]
always: audit
"""
    bindings = parse(text)
    assert bindings.workflows_for({"Decision": "Approve", "Credit Limit": Decimal(25000)}) == ["w1", "audit"]
    assert bindings.workflows_for({"Decision": "Approve", "Credit Limit": Decimal(100)}) == ["audit"]
    assert bindings.workflows_for({"Decision": "Reject", "Eligibility": {"Status": "Ineligible"}}) == \
        ["w2", "w1", "audit"]


def test_rules_read_inputs_outputs_and_paths_into_them() -> None:
    text = """
workflows:
  big: {steps: [{call: {url: "http://127.0.0.1:9/x"}}]}
  young: {steps: [{call: {url: "http://127.0.0.1:9/y"}}]}
  why: {steps: [{call: {url: "http://127.0.0.1:9/z"}}]}
on:
  - when: Requested Amount > 50000 and Decision != "Reject"
    run: big
  - when: {Applicant Age: "< 25"}
    run: young
  - when: Eligibility.Reason = "too much debt" or count(Eligibility.Flags) > 1
    run: why
"""
    bindings = parse(text)
    assert {"Requested Amount", "Decision", "Applicant Age", "Eligibility"} <= bindings.names_read
    assert "Credit Score" not in bindings.names_read  # no rule reads it: never converted
    inputs = {"Requested Amount": 60000, "Applicant Age": 22, "Credit Score": object()}  # not FEEL-able
    assert bindings.workflows_for({"Decision": "Approve"}, inputs) == ["big", "young"]
    assert bindings.workflows_for({"Decision": "Reject", "Eligibility": {"Reason": "too much debt"}},
                                  inputs) == ["young", "why"]
    assert bindings.workflows_for({"Decision": "Approve", "Eligibility": {"Flags": [1, 2]}},
                                  {"Requested Amount": 50000, "Applicant Age": 25.5}) == ["why"]


def test_every_fault_is_reported_with_its_line_and_path() -> None:
    text = """\
targets:
  lender: {url: "http://evil.example.com/hook"}
workflows:
  main:
    steps:
      - name: tell
        approve: {target: nowhere}
        when: Decison = "Approve"
      - notify: {email: {to: [], subject: hi, body: "{{ oops"}}
      - wait: {for: soon}
      - call: {url: "ftp://127.0.0.1/x"}
        retry: {attempts: 0, on: [teapot]}
        goto: tell
on:
  - when: Decision = = "Reject"
    run: missing
"""
    found = problems(text)
    expected = [
        ("b.yaml:2, targets.lender.url", "evil.example.com is not in the allow-list"),
        ("b.yaml:7, workflows.main.steps[0].approve.target", "no target named 'nowhere'"),
        ("b.yaml:8, workflows.main.steps[0].when", "unknown name 'Decison'"),
        ("b.yaml:9, workflows.main.steps[1].notify.email.to", "at least one recipient"),
        ("b.yaml:9, workflows.main.steps[1].notify.email.body", "template"),
        ("b.yaml:10, workflows.main.steps[2].wait.for", "'soon' is not a duration"),
        ("b.yaml:11, workflows.main.steps[3].call.url", "must be http:// or https://"),
        ("b.yaml:12, workflows.main.steps[3].retry.attempts", "from 1 to 100"),
        ("b.yaml:12, workflows.main.steps[3].retry.on[0]", "retry on 'teapot'"),
        ("b.yaml:13, workflows.main.steps[3].goto", "jumps backwards"),
        ("b.yaml:16, on[0].run", "no workflow named 'missing'"),
        ("b.yaml:15, on[0].when", "unexpected '='"),
    ]
    for where, what in expected:
        assert any(where in p and what in p for p in found), (where, what, found)
    assert len(found) == len(expected), found


@pytest.mark.parametrize(("text", "message"), [
    ("", "empty"),
    ("[1, 2", "not valid YAML"),
    ("- a\n- b\n", "must be a mapping"),
    ("workflows: {}\n", "`workflows` must map"),
    ("workflows:\n  w: {steps: [{set: {x: '1'}}]}\n", "nothing starts a workflow"),
    ("workflows:\n  w: {steps: [{set: {x: '1'}, wait: 1s}]}\nalways: w\n", "exactly one kind"),
    ("workflows:\n  w: {steps: [{sett: {x: '1'}}]}\nalways: w\n", "exactly one kind"),
    ("workflows:\n  w: {steps: [{set: {Decision: '1'}}]}\nalways: w\n", "cannot replace 'Decision'"),
    ("workflows:\n  w: {steps: [{review: {escalate: nope}}]}\nalways: w\n", "escalation needs a `due`"),
    ("workflows:\n  w: {steps: [{call: {url: 'http://127.0.0.1/'}, timeout: 2h}]}\nalways: w\n", "timeout"),
    ("a: &a [1]\nb: *a\nworkflows:\n  w: {steps: [{set: {x: '1'}}]}\nalways: w\n", "unknown key 'a'"),
    ("workflows:\n  w: {steps: [{set: {x: '1'}}]}\nalways: w\nalways: w\n", "appears twice"),
])
def test_malformed_documents_are_refused_with_a_reason(text: str, message: str) -> None:
    assert any(message in p for p in problems(text)), problems(text)


def test_allow_list_is_checked_when_there_is_a_configuration() -> None:
    text = "workflows:\n  w: {steps: [{call: {url: 'https://partner.example.com/api'}}]}\nalways: w\n"
    assert any("partner.example.com is not in the allow-list" in p for p in problems(text))
    assert "w" in parse(text, ExecutionConfig(allowed_hosts=("*.example.com",))).workflows
    assert "w" in parse(text, None).workflows  # no configuration at hand: checked again when sending
    templated = "workflows:\n  w: {steps: [{call: {url: '{{ callback_url }}'}}]}\nalways: w\n"
    assert "w" in parse(templated).workflows  # known only at run time: checked when sending


def test_steps_get_defaults_and_their_own_settings() -> None:
    text = """
defaults: {timeout: 3s, retry: {attempts: 7, backoff: 250ms, max_backoff: 1m, on: [timeout, 503]}}
workflows:
  w:
    steps:
      - call: {url: "http://127.0.0.1:1/a", method: put, expect: [202]}
      - call: {url: "http://127.0.0.1:1/b"}
        timeout: PT1M
        retry: 2
      - notify: {email: {to: "{{ inputs.Email }}", subject: "s", body: "b"}}
always: w
"""
    steps = parse(text).workflows["w"].steps
    first, second, third = steps
    assert first.timeout == 3 and first.retry.attempts == 7 and first.retry.backoff == 0.25
    assert first.retry.retries_status(503) and not first.retry.retries_status(500)
    assert "timeout" in first.retry.on_errors and "connection" not in first.retry.on_errors
    assert isinstance(first.spec, HttpSpec) and first.spec.method == "PUT" and first.spec.expect == {202}
    assert second.timeout == 60 and second.retry.attempts == 2 and second.retry.max_backoff == 60
    assert isinstance(third.spec, EmailSpec) and third.channel == "email"


def test_backoff_is_exponential_with_full_jitter_and_capped() -> None:
    retry = parse("workflows:\n  w: {steps: [{call: {url: 'http://127.0.0.1/'}, retry: "
                  "{backoff: 1s, max_backoff: 10s}}]}\nalways: w\n").workflows["w"].steps[0].retry
    assert [retry.delay(n, 0.999999) for n in (1, 2, 3, 4, 5)] == pytest.approx([1, 2, 4, 8, 10], rel=1e-5)
    assert retry.delay(3, 0.0) == 0.0  # full jitter: anywhere from 0
    assert retry.delay(1, 0.5, at_least=5) == 5  # a Retry-After is honoured...
    assert retry.delay(1, 0.5, at_least=500) == 10  # ...up to the cap


def test_hash_ignores_comments_and_formatting_but_not_content() -> None:
    text = LOAN_BINDINGS.read_text()
    reformatted = "# a comment\n" + text.replace("timeout: 10s", "timeout:   10s   # same")
    assert bindings_hash(text) == bindings_hash(reformatted)
    assert bindings_hash(text) != bindings_hash(text.replace("timeout: 10s", "timeout: 11s"))
    assert parse(text).hash == bindings_hash(text)
