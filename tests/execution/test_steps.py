"""Each kind of step against real endpoints: email over SMTP (aiosmtpd), chat and webhooks, a
call whose answer later steps read, decide (another published model), wait, set, branch, when."""

from __future__ import annotations

import time

from sqlalchemy.engine import Engine

from execution.config import SmtpConfig
from execution.receiver import Receiver
from tests.execution.conftest import (
    SCORE_YAML,
    SmtpSink,
    config_for,
    count,
    decide,
    from_db,
    publish_model,
    rows,
    settled,
    work,
)

FAST = "{attempts: 3, backoff: 50ms, max_backoff: 100ms}"


def bindings(receiver: Receiver, steps: str) -> str:
    return f"""
defaults: {{timeout: 2s, retry: {FAST}}}
targets:
  hook: {{url: "{receiver.url}/hook", headers: {{X-Team: risk}}}}
  chat: {{url: "{receiver.url}/chat"}}
workflows:
  main:
    steps:
{steps}
always: main
"""


def test_email_goes_out_over_smtp_with_a_stable_message_id(engine: Engine, receiver: Receiver,
                                                          smtp_sink: SmtpSink) -> None:
    config = config_for(smtp=SmtpConfig(smtp_sink.host, smtp_sink.port, sender="decisions@bank.test"))
    steps = """\
      - notify:
          email:
            to: "{{ inputs.Email }}"
            cc: [audit@bank.test]
            subject: "Decision {{ outputs.Outcome }}"
            body: "Amount {{ inputs.Amount }} was decided {{ outputs.Outcome }} ({{ decision.id }})."
"""
    publish_model(engine, "score", SCORE_YAML, bindings(receiver, steps), config=config)
    decision, runs = decide(engine, "score", {"Amount": 500, "Email": "ana@bank.test"})
    work(engine, config, settled(engine))
    assert len(smtp_sink.messages) == 1
    message = smtp_sink.messages[0]
    assert message["Subject"] == "Decision big" and message["To"] == "ana@bank.test"
    assert message["Message-ID"] == f"<{runs[0]}.0@decisionary>"
    assert message["Idempotency-Key"] == f"{runs[0]}:0"
    assert f"Amount 500 was decided big ({decision})." in message.get_payload()
    assert smtp_sink.envelopes == [("decisions@bank.test", ["ana@bank.test", "audit@bank.test"])]
    result = from_db(rows(engine, "SELECT context FROM workflow_runs")[0].context)["steps"]["notify-1"]
    assert result["to"] == ["ana@bank.test"]


def test_email_without_a_server_or_with_a_bad_address_dead_letters(engine: Engine, receiver: Receiver,
                                                                   smtp_sink: SmtpSink) -> None:
    steps = "      - notify: {email: {to: \"{{ inputs.Email }}\", subject: s, body: b}}\n"
    publish_model(engine, "score", SCORE_YAML, bindings(receiver, steps), config=config_for())
    decide(engine, "score", {"Amount": 1, "Email": "ana@bank.test"})
    work(engine, config_for(), settled(engine))
    assert "no SMTP server" in rows(engine, "SELECT last_error FROM workflow_runs")[0].last_error
    config = config_for(smtp=SmtpConfig(smtp_sink.host, smtp_sink.port))
    decide(engine, "score", {"Amount": 1, "Email": "not-an-address"})
    work(engine, config, settled(engine))
    errors = [r.last_error for r in rows(engine, "SELECT last_error FROM workflow_runs ORDER BY id")]
    assert "not an email address: not-an-address" in errors[1] and smtp_sink.messages == []


def test_a_call_answer_feeds_later_steps_and_branches(engine: Engine, receiver: Receiver) -> None:
    receiver.responses = {"/hook": (200, {"fraud": {"score": 0.93}})}
    steps = """\
      - name: check
        call:
          target: hook
          headers: {X-Amount: "{{ inputs.Amount }}"}
          body: {amount: "{{ inputs.Amount }}", outcome: "{{ outputs.Outcome }}", note: "n={{ inputs.Amount }}"}
      - set: {Risky: steps.check.body.fraud.score > 0.9, Double: Amount * 2}
      - branch:
          - when: Risky
            goto: alert
      - name: calm
        notify: {chat: {target: chat, text: "calm"}}
        goto: end
      - name: alert
        notify: {chat: {target: chat, text: "risky {{ vars.Double }} {{ steps.check.body.fraud.score }}"}}
      - name: never
        when: Outcome = "small"
        notify: {chat: {target: chat, text: "not sent"}}
"""
    publish_model(engine, "score", SCORE_YAML, bindings(receiver, steps), config=config_for())
    decide(engine, "score", {"Amount": 250, "Email": "a@b.c"})
    work(engine, config_for(), settled(engine))
    check = receiver.processed_bodies("/hook")
    assert check == [{"amount": 250, "outcome": "big", "note": "n=250"}]
    hook = next(d for d in receiver.deliveries if d.path == "/hook")
    assert hook.headers["X-Team"] == "risk" and hook.headers["X-Amount"] == "250"
    assert receiver.processed_bodies("/chat") == [{"text": "risky 500 0.93"}]
    context = from_db(rows(engine, "SELECT context, state FROM workflow_runs")[0].context)
    assert context["vars"] == {"Risky": True, "Double": 500}
    assert context["steps"]["never"] == {"skipped": True} and "calm" not in context["steps"]


def test_decide_evaluates_another_published_model_and_records_it(engine: Engine, receiver: Receiver) -> None:
    publish_model(engine, "second", SCORE_YAML.replace("model: score", "model: second"), None)
    steps = """\
      - name: second_opinion
        decide: {model: second@production, inputs: {Amount: Amount * 10, Email: '"x@y.z"'}}
      - notify: {chat: {target: chat, text: "{{ steps.second_opinion.outputs.Outcome }}"}}
"""
    publish_model(engine, "score", SCORE_YAML, bindings(receiver, steps), config=config_for())
    decide(engine, "score", {"Amount": 50, "Email": "a@b.c"})
    work(engine, config_for(), settled(engine))
    assert receiver.processed_bodies("/chat") == [{"text": "big"}]  # 500 > 100
    recorded = rows(engine, "SELECT id, model_key, caller, inputs FROM decision_records WHERE model_key = 'second'")
    assert len(recorded) == 1 and recorded[0].caller == "workflow:main"
    assert from_db(recorded[0].inputs) == {"Amount": 500, "Email": "x@y.z"}
    context = from_db(rows(engine, "SELECT context FROM workflow_runs")[0].context)
    assert context["steps"]["second_opinion"]["decision_id"] == recorded[0].id


def test_decide_with_an_unknown_model_dead_letters(engine: Engine, receiver: Receiver) -> None:
    steps = "      - decide: {model: nobody}\n"
    publish_model(engine, "score", SCORE_YAML, bindings(receiver, steps), config=config_for())
    decide(engine, "score", {"Amount": 50, "Email": "a@b.c"})
    work(engine, config_for(), settled(engine))
    assert "decide nobody" in rows(engine, "SELECT last_error FROM workflow_runs")[0].last_error


def test_wait_delays_the_next_step(engine: Engine, receiver: Receiver) -> None:
    steps = """\
      - notify: {chat: {target: chat, text: "first"}}
      - wait: {for: 1s}
      - notify: {chat: {target: chat, text: "second"}}
"""
    publish_model(engine, "score", SCORE_YAML, bindings(receiver, steps), config=config_for())
    decide(engine, "score", {"Amount": 50, "Email": "a@b.c"})
    work(engine, config_for(), lambda: receiver.processed_count("/chat") == 1)
    first_at = next(d.at for d in receiver.deliveries if d.json() == {"text": "first"})
    assert count(engine, "SELECT count(*) FROM workflow_runs WHERE state = 'ready' AND step_index = 2") == 1
    work(engine, config_for(), lambda: receiver.processed_count("/chat") == 2)
    second_at = next(d.at for d in receiver.deliveries if d.json() == {"text": "second"})
    assert second_at - first_at >= 0.95


def test_wait_until_a_time_computed_in_feel(engine: Engine, receiver: Receiver) -> None:
    steps = """\
      - wait: {until: 'now() + duration("PT1S")'}
      - notify: {chat: {target: chat, text: "later"}}
"""
    publish_model(engine, "score", SCORE_YAML, bindings(receiver, steps), config=config_for())
    decide(engine, "score", {"Amount": 50, "Email": "a@b.c"})
    started = time.time()
    work(engine, config_for(), lambda: receiver.processed_count("/chat") == 1)
    assert receiver.deliveries[0].at - started >= 0.9


def test_a_template_that_fails_dead_letters_with_the_reason(engine: Engine, receiver: Receiver) -> None:
    steps = "      - notify: {chat: {target: chat, text: \"{{ inputs.Missing.deeper }}\"}}\n"
    publish_model(engine, "score", SCORE_YAML, bindings(receiver, steps), config=config_for())
    decide(engine, "score", {"Amount": 50, "Email": "a@b.c"})
    work(engine, config_for(), settled(engine))
    error = rows(engine, "SELECT last_error FROM workflow_runs")[0].last_error
    assert "template" in error and "Missing" in error and receiver.deliveries == []
