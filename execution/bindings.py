"""Bindings: the YAML that binds a decision's outcomes to workflows, read and validated.

```yaml
targets:                                # named receivers (secrets come from the configuration)
  lender: {url: "https://lender.example.com/decisions"}
defaults:                               # for every step unless it says otherwise
  timeout: 10s
  retry: {attempts: 6, backoff: 1s, max_backoff: 5m, on: [timeout, connection, 429, 5xx]}
on:                                     # which outcome starts which workflow(s)
  - when: Decision = "Approve"          # a FEEL expression over the outputs (and inputs) ...
    run: approved
  - when: {Decision: '"Refer"'}         # ... or subject -> FEEL unary tests, all must match
    run: [referred]
always: [audit]                         # workflows that run for every outcome
monitors:                               # workflows the audit layer's monitors start
  drift: drift-alert                    # when an input's or output's PSI crosses its threshold
workflows:
  approved:
    steps:
      - approve: {target: lender}
      - name: big-loan-alert
        when: Credit Limit > 50000
        notify: {chat: {url: "https://hooks.example.com/T0/B0", text: "{{ outputs['Credit Limit'] }}"}}
```

`parse_bindings` checks everything it can before any decision is made, and reports every
fault at once, each with the file, the path in the document and the line: unknown keys and
step kinds, FEEL that does not compile (names are checked against the model's inputs and
decisions), templates that do not parse, URLs outside the allow-list, durations, retry policies,
workflow names that do not exist, jumps (`goto`) that go backwards or nowhere.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from jinja2 import TemplateSyntaxError

from decisions.errors import Location, Problem
from decisions.feel import (
    CompiledExpression,
    CompiledUnaryTests,
    Scope,
    compile_expression,
    compile_unary_tests,
)
from decisions.feel.errors import FeelSyntaxError
from execution.config import ExecutionConfig
from execution.durations import parse_duration
from execution.errors import BindingsInvalid
from execution.located_yaml import LocatedYamlError, Path, load_located, path_text
from execution.templates import Text, compile_text, compile_value
from execution.workflow import (
    DEFAULT_TIMEOUT,
    MAX_TIMEOUT,
    NOTIFY_CHANNELS,
    RETRY_ERRORS,
    STEP_KINDS,
    Bindings,
    BranchSpec,
    DecideSpec,
    EmailSpec,
    HttpSpec,
    RetryPolicy,
    ReviewSpec,
    Rule,
    SetSpec,
    Spec,
    Step,
    Target,
    WaitSpec,
    Workflow,
)

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")
REF = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}(@[A-Za-z0-9][A-Za-z0-9._-]{0,99})?")
END = "end"
# Names every step condition may use besides the model's inputs, decisions and `set` values.
RUN_NAMES = ("review", "steps")
TOP_KEYS = ("targets", "defaults", "on", "always", "monitors", "workflows")
MONITORS = ("drift",)
STEP_COMMON = ("name", "when", "timeout", "retry", "goto")
MAX_STEPS = 200


def bindings_hash(text: str) -> str:
    """SHA-256 of the bindings as canonical JSON: comments, whitespace and key order do not count.

    Falls back to the text itself when it is not YAML (such bindings never validate anyway).
    """
    try:
        data, _ = load_located(text)
        canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    except LocatedYamlError:
        canonical = text
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def parse_bindings(
    text: str,
    *,
    input_names: Iterable[str] = (),
    decision_names: Iterable[str] = (),
    config: ExecutionConfig | None = None,
    file: str | None = None,
    strict_names: bool = True,
) -> Bindings:
    """Read and check bindings; raises BindingsInvalid listing every located problem.

    `input_names` / `decision_names`: the model's, so FEEL names are checked (`strict_names`).
    `config`: when given, static URLs are checked against its allow-list.
    """
    return _Reader(text, list(input_names), list(decision_names), config, file, strict_names).read()


class _Reader:
    def __init__(self, text: str, inputs: list[str], decisions: list[str], config: ExecutionConfig | None,
                 file: str | None, strict: bool) -> None:
        self.text = text
        self.inputs = inputs
        self.decisions = decisions
        self.config = config
        self.file = file
        self.strict = strict
        self.problems: list[Problem] = []
        self.lines: dict[Path, int] = {}

    # --- problems ------------------------------------------------------------------------------

    def fail(self, path: Path, message: str, *, text: str | None = None, position: int | None = None,
             line: int | None = None) -> None:
        where = Location(file=self.file, path=path_text(path), text=text, position=position,
                         line=line if line is not None else self._line(path))
        self.problems.append(Problem(message, where, "error", "bindings"))

    def _line(self, path: Path) -> int | None:
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get(())

    # --- document ------------------------------------------------------------------------------

    def read(self) -> Bindings:
        if not isinstance(self.text, str) or not self.text.strip():
            self.fail((), "the bindings are empty")
            raise BindingsInvalid(self.problems)
        try:
            data, self.lines = load_located(self.text)
        except LocatedYamlError as exc:
            self.fail((), exc.message, line=exc.line)
            raise BindingsInvalid(self.problems) from None
        if not isinstance(data, dict):
            self.fail((), "the bindings must be a mapping with `workflows` and `on` and/or `always`")
            raise BindingsInvalid(self.problems)
        self.unknown_keys(data, (), TOP_KEYS)
        targets = self.targets(data.get("targets"))
        defaults = self.defaults(data.get("defaults"))
        raw_workflows = data.get("workflows")
        if not isinstance(raw_workflows, dict) or not raw_workflows:
            self.fail(("workflows",), "`workflows` must map workflow names to {steps: [...]}")
            raw_workflows = {}
        workflows: dict[str, Workflow] = {}
        for name, body in raw_workflows.items():
            if not NAME.fullmatch(name):
                self.fail(("workflows", name), f"workflow name {name!r}: use letters, digits, '_', '.', '-'")
            workflows[name] = self.workflow(name, body, targets, defaults, set(raw_workflows))
        rules = self.rules(data.get("on"), set(workflows))
        always = self.workflow_names(data.get("always"), ("always",), set(workflows))
        monitors = self.monitors(data.get("monitors"), set(workflows))
        if not rules and not always and not monitors and not {"on", "always", "monitors"} & set(data):
            self.fail((), "nothing starts a workflow: add `on:` rules, `always:` and/or `monitors:`")
        if self.problems:
            raise BindingsInvalid(self.problems)
        return Bindings(self.text, bindings_hash(self.text), targets, workflows, tuple(rules), tuple(always),
                        monitors)

    def monitors(self, raw: Any, workflows: set[str]) -> dict[str, tuple[str, ...]]:
        if raw is None:
            return {}
        if not isinstance(raw, dict):
            self.fail(("monitors",), f"`monitors` maps a monitor ({', '.join(MONITORS)}) to workflow(s)")
            return {}
        self.unknown_keys(raw, ("monitors",), MONITORS)
        return {kind: tuple(self.workflow_names(raw[kind], ("monitors", kind), workflows, required=True))
                for kind in raw if kind in MONITORS}

    def unknown_keys(self, data: Mapping[str, Any], path: Path, known: Sequence[str]) -> None:
        for key in data:
            if key not in known:
                self.fail((*path, key), f"unknown key {key!r}; expected one of: {', '.join(known)}")

    def targets(self, raw: Any) -> dict[str, Target]:
        if raw is None:
            return {}
        if not isinstance(raw, dict):
            self.fail(("targets",), "`targets` must map names to {url, headers}")
            return {}
        out: dict[str, Target] = {}
        for name, body in raw.items():
            path: Path = ("targets", name)
            if not NAME.fullmatch(name):
                self.fail(path, f"target name {name!r}: use letters, digits, '_', '.', '-'")
            if isinstance(body, str):
                body = {"url": body}
            if not isinstance(body, dict):
                self.fail(path, "a target is {url: ..., headers: {...}}")
                continue
            self.unknown_keys(body, path, ("url", "headers"))
            url = body.get("url")
            if not isinstance(url, str) or not url.strip():
                self.fail((*path, "url"), "a target needs a url")
                continue
            self.check_url(url, (*path, "url"))
            headers = self.string_map(body.get("headers"), (*path, "headers"))
            out[name] = Target(name, url.strip(), headers)
        return out

    def defaults(self, raw: Any) -> dict[str, Any]:
        if raw is None:
            return {"timeout": DEFAULT_TIMEOUT, "retry": RetryPolicy()}
        if not isinstance(raw, dict):
            self.fail(("defaults",), "`defaults` is {timeout, retry}")
            raw = {}
        self.unknown_keys(raw, ("defaults",), ("timeout", "retry"))
        timeout = self.timeout(raw.get("timeout", DEFAULT_TIMEOUT), ("defaults", "timeout"))
        retry = self.retry(raw.get("retry"), ("defaults", "retry"), RetryPolicy())
        return {"timeout": timeout, "retry": retry}

    def rules(self, raw: Any, workflows: set[str]) -> list[Rule]:
        if raw is None:
            return []
        if not isinstance(raw, list):
            self.fail(("on",), "`on` is a list of {when: ..., run: workflow(s)}")
            return []
        scope = Scope([*self.inputs, *self.decisions], strict=self.strict)
        rules: list[Rule] = []
        for i, item in enumerate(raw):
            path: Path = ("on", i)
            if not isinstance(item, dict):
                self.fail(path, "an `on` entry is {when: ..., run: workflow(s)}")
                continue
            self.unknown_keys(item, path, ("when", "run"))
            names = self.workflow_names(item.get("run"), (*path, "run"), workflows, required=True)
            when = item.get("when")
            if isinstance(when, dict) and when:
                tests = []
                for subject_text, tests_text in when.items():
                    subject = self.feel((*path, "when", subject_text), str(subject_text), scope)
                    unary = self.unary((*path, "when", subject_text), tests_text, scope)
                    if subject is not None and unary is not None:
                        tests.append((subject, unary))
                rules.append(Rule(json.dumps(when, ensure_ascii=False, default=str), None, tuple(tests),
                                  tuple(names)))
            elif isinstance(when, (str, bool)) and str(when).strip():
                expression = self.feel((*path, "when"), str(when).lower() if isinstance(when, bool) else when,
                                       scope)
                rules.append(Rule(str(when), expression, (), tuple(names)))
            else:
                self.fail((*path, "when"), "`when` is a FEEL expression (Decision = \"Reject\") or a mapping "
                                           "of decision to unary tests ({Decision: '\"Reject\"'})")
        return rules

    def workflow_names(self, raw: Any, path: Path, workflows: set[str], *, required: bool = False) -> list[str]:
        if raw is None:
            if required:
                self.fail(path, "name the workflow(s) to run")
            return []
        names = [raw] if isinstance(raw, str) else raw
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names) or (required and not names):
            self.fail(path, "a workflow name or a list of workflow names")
            return []
        for i, name in enumerate(names):
            if name not in workflows:
                known = ", ".join(sorted(workflows)) or "none"
                self.fail((*path, i) if not isinstance(raw, str) else path,
                          f"no workflow named {name!r} (workflows: {known})")
        return list(dict.fromkeys(names))

    # --- workflows -----------------------------------------------------------------------------

    def workflow(self, name: str, body: Any, targets: Mapping[str, Target], defaults: Mapping[str, Any],
                 workflows: set[str]) -> Workflow:
        path: Path = ("workflows", name)
        if isinstance(body, list):
            body = {"steps": body}
        if not isinstance(body, dict):
            self.fail(path, "a workflow is {steps: [...]}")
            return Workflow(name, ())
        self.unknown_keys(body, path, ("steps", "description"))
        raw_steps = body.get("steps")
        if not isinstance(raw_steps, list) or not raw_steps:
            self.fail((*path, "steps"), "a workflow needs a non-empty list of steps")
            return Workflow(name, ())
        if len(raw_steps) > MAX_STEPS:
            self.fail((*path, "steps"), f"at most {MAX_STEPS} steps per workflow")
            return Workflow(name, ())
        names = self.step_names(raw_steps, (*path, "steps"))
        set_names = [str(k) for s in raw_steps if isinstance(s, dict) and isinstance(s.get("set"), dict)
                     for k in s["set"]]
        scope = Scope([*self.inputs, *self.decisions, *set_names, *RUN_NAMES], strict=self.strict)
        steps = []
        for i, raw in enumerate(raw_steps):
            step = self.step(i, raw, names, (*path, "steps", i), scope, targets, defaults, workflows)
            if step is not None:
                steps.append(step)
        return Workflow(name, tuple(steps))

    def step_names(self, raw_steps: list[Any], path: Path) -> list[str]:
        names: list[str] = []
        for i, raw in enumerate(raw_steps):
            kind = next((k for k in STEP_KINDS if isinstance(raw, dict) and k in raw), "step")
            name = raw.get("name") if isinstance(raw, dict) else None
            if name is None:
                name = f"{kind}-{i + 1}"
            elif not isinstance(name, str) or not NAME.fullmatch(name) or name == END:
                self.fail((*path, i, "name"), f"step name {name!r}: use letters, digits, '_', '.', '-' "
                                              f"(and not {END!r})")
                name = f"{kind}-{i + 1}"
            if name in names:
                self.fail((*path, i, "name"), f"two steps are named {name!r}")
            names.append(name)
        return names

    def step(self, index: int, raw: Any, names: list[str], path: Path, scope: Scope,
             targets: Mapping[str, Target], defaults: Mapping[str, Any], workflows: set[str]) -> Step | None:
        if not isinstance(raw, dict):
            self.fail(path, f"a step is a mapping with one of: {', '.join(STEP_KINDS)}")
            return None
        kinds = [k for k in STEP_KINDS if k in raw]
        if len(kinds) != 1:
            found = ", ".join(kinds) or "none"
            self.fail(path, f"a step has exactly one kind among {', '.join(STEP_KINDS)} (found: {found})")
            return None
        kind = kinds[0]
        self.unknown_keys(raw, path, (*STEP_COMMON, kind))
        when = self.feel((*path, "when"), raw["when"], scope) if "when" in raw else None
        timeout = self.timeout(raw.get("timeout", defaults["timeout"]), (*path, "timeout"))
        retry = self.retry(raw.get("retry"), (*path, "retry"), defaults["retry"])
        goto = self.goto(raw.get("goto"), (*path, "goto"), index, names) if "goto" in raw else None
        body_path: Path = (*path, kind)
        body = raw[kind]
        channel: str | None = None
        spec: Spec | None
        if kind in ("approve", "reject", "call"):
            spec = self.http(kind, body, body_path, targets)
        elif kind == "notify":
            channel, spec = self.notify(body, body_path, targets)
        elif kind == "review":
            spec = self.review(body, body_path, workflows)
        elif kind == "decide":
            spec = self.decide(body, body_path, scope)
        elif kind == "wait":
            spec = self.wait(body, body_path, scope)
        elif kind == "set":
            spec = self.set_values(body, body_path, scope)
        else:
            spec = self.branch(body, body_path, scope, index, names)
        if spec is None:
            return None
        return Step(index, names[index], kind, channel, spec, when, timeout, retry, goto,
                    self.lines.get(path))

    def goto(self, raw: Any, path: Path, index: int, names: list[str]) -> int | None:
        if raw == END:
            return len(names)
        if not isinstance(raw, str) or raw not in names:
            self.fail(path, f"`goto` names a later step or {END!r}; {raw!r} is neither")
            return None
        target = names.index(raw)
        if target <= index:
            self.fail(path, f"`goto {raw}` jumps backwards: a workflow only moves forward (so it always ends)")
            return None
        return target

    # --- step kinds ----------------------------------------------------------------------------

    def http(self, kind: str, body: Any, path: Path, targets: Mapping[str, Target]) -> HttpSpec | None:
        if body is None:
            body = {}
        if not isinstance(body, dict):
            self.fail(path, f"`{kind}` is a mapping (url or target, body, headers...)")
            return None
        allowed = ("url", "target", "method", "headers", "body", "expect")
        self.unknown_keys(body, path, allowed)
        target, url = self.destination(body, path, targets, required=kind == "call")
        method = str(body.get("method", "POST")).upper()
        if method not in ("POST", "PUT", "PATCH", "GET", "DELETE"):
            self.fail((*path, "method"), f"method {method!r}: one of POST, PUT, PATCH, GET, DELETE")
        headers = {k: t for k, t in ((k, self.template((*path, "headers", k), v))
                                     for k, v in self.string_map(body.get("headers"), (*path, "headers")).items())
                   if t is not None}
        compiled_body = self.json_body(body["body"], (*path, "body")) if "body" in body else None
        expect = self.expect(body.get("expect"), (*path, "expect"))
        return HttpSpec(target, url, method, headers, compiled_body, None, expect)

    def destination(self, body: Mapping[str, Any], path: Path, targets: Mapping[str, Target], *,
                    required: bool) -> tuple[str | None, Text | None]:
        target = body.get("target")
        if target is not None and (not isinstance(target, str) or target not in targets):
            known = ", ".join(sorted(targets)) or "none declared"
            self.fail((*path, "target"), f"no target named {target!r} (targets: {known})")
            target = None
        url = body.get("url")
        compiled: Text | None = None
        if url is not None:
            if not isinstance(url, str) or not url.strip():
                self.fail((*path, "url"), "`url` is a URL (it may use templates)")
            else:
                compiled = self.template((*path, "url"), url)
                if "{{" not in url and "{%" not in url:
                    self.check_url(url, (*path, "url"))
        if required and target is None and url is None:
            self.fail(path, "say where to send: `url` or `target`")
        return target, compiled

    def check_url(self, url: str, path: Path) -> None:
        try:
            parts = urlsplit(url.strip())
            port = parts.port
        except ValueError as exc:
            self.fail(path, f"not a URL: {exc}", text=url)
            return
        if parts.scheme not in ("http", "https") or not parts.hostname:
            self.fail(path, "a URL must be http:// or https:// with a host", text=url)
            return
        if self.config is not None and not self.config.host_allowed(parts.hostname, port):
            where = f"{parts.hostname}:{port}" if port else parts.hostname
            allowed = ", ".join(self.config.allowed_hosts) or "none"
            self.fail(path, f"the host {where} is not in the allow-list (DECISIONARY_ALLOWED_HOSTS: {allowed})",
                      text=url)

    def notify(self, body: Any, path: Path, targets: Mapping[str, Target]) -> tuple[str | None, Spec | None]:
        if not isinstance(body, dict):
            self.fail(path, f"`notify` has one of: {', '.join(NOTIFY_CHANNELS)}")
            return None, None
        channels = [c for c in NOTIFY_CHANNELS if c in body]
        self.unknown_keys(body, path, NOTIFY_CHANNELS)
        if len(channels) != 1:
            self.fail(path, f"`notify` has exactly one of: {', '.join(NOTIFY_CHANNELS)}")
            return None, None
        channel = channels[0]
        inner = body[channel]
        inner_path: Path = (*path, channel)
        if not isinstance(inner, dict):
            self.fail(inner_path, f"`{channel}` is a mapping")
            return channel, None
        if channel == "email":
            return channel, self.email(inner, inner_path)
        if channel == "chat":
            self.unknown_keys(inner, inner_path, ("url", "target", "text", "headers"))
            target, url = self.destination(inner, inner_path, targets, required=True)
            text = self.template((*inner_path, "text"), inner.get("text"), required=True)
            headers = {k: t for k, t in ((k, self.template((*inner_path, "headers", k), v)) for k, v in
                                         self.string_map(inner.get("headers"), (*inner_path, "headers")).items())
                       if t is not None}
            return channel, HttpSpec(target, url, "POST", headers, None, text, None)
        self.unknown_keys(inner, inner_path, ("url", "target", "body", "headers", "expect"))
        target, url = self.destination(inner, inner_path, targets, required=True)
        headers = {k: t for k, t in ((k, self.template((*inner_path, "headers", k), v)) for k, v in
                                     self.string_map(inner.get("headers"), (*inner_path, "headers")).items())
                   if t is not None}
        compiled = self.json_body(inner["body"], (*inner_path, "body")) if "body" in inner else None
        return channel, HttpSpec(target, url, "POST", headers, compiled, None,
                                 self.expect(inner.get("expect"), (*inner_path, "expect")))

    def email(self, body: Mapping[str, Any], path: Path) -> EmailSpec | None:
        self.unknown_keys(body, path, ("to", "cc", "subject", "body", "from"))
        recipients = []
        for key in ("to", "cc"):
            raw = body.get(key)
            items = [raw] if isinstance(raw, str) else raw or []
            if key == "to" and not items:
                self.fail((*path, key), "an email needs at least one recipient (`to`)")
            if not isinstance(items, list):
                self.fail((*path, key), "a recipient or a list of recipients")
                items = []
            recipients.append(tuple(t for t in (self.template((*path, key), str(i)) for i in items) if t is not None))
        subject = self.template((*path, "subject"), body.get("subject"), required=True)
        text = self.template((*path, "body"), body.get("body"), required=True)
        sender = body.get("from")
        if subject is None or text is None:
            return None
        return EmailSpec(recipients[0], recipients[1], subject, text, str(sender) if sender else None)

    def review(self, body: Any, path: Path, workflows: set[str]) -> ReviewSpec | None:
        if body is None:
            body = {}
        if not isinstance(body, dict):
            self.fail(path, "`review` is {queue, assignee, reason, due, escalate}")
            return None
        self.unknown_keys(body, path, ("queue", "assignee", "reason", "due", "escalate"))
        queue = body.get("queue", "default")
        if not isinstance(queue, str) or not NAME.fullmatch(queue):
            self.fail((*path, "queue"), f"queue name {queue!r}: use letters, digits, '_', '.', '-'")
            queue = "default"
        assignee = self.template((*path, "assignee"), body.get("assignee")) if "assignee" in body else None
        reason = self.template((*path, "reason"), body.get("reason")) if "reason" in body else None
        due = self.duration(body.get("due"), (*path, "due")) if "due" in body else None
        escalate = body.get("escalate")
        if escalate is not None:
            if due is None:
                self.fail((*path, "escalate"), "escalation needs a `due` time")
            if not isinstance(escalate, str) or escalate not in workflows:
                self.fail((*path, "escalate"), f"no workflow named {escalate!r} to escalate to")
                escalate = None
        return ReviewSpec(queue, assignee, reason, due, escalate)

    def decide(self, body: Any, path: Path, scope: Scope) -> DecideSpec | None:
        if isinstance(body, str):
            body = {"model": body}
        if not isinstance(body, dict):
            self.fail(path, "`decide` is {model: key[@alias|@version], inputs: {name: FEEL}, decisions: [...]}")
            return None
        self.unknown_keys(body, path, ("model", "inputs", "decisions"))
        ref = body.get("model")
        if not isinstance(ref, str) or not REF.fullmatch(ref.strip()):
            self.fail((*path, "model"), "`model` is key, key@alias or key@version")
            return None
        inputs: dict[str, CompiledExpression] | None = None
        if body.get("inputs") is not None:
            if not isinstance(body["inputs"], dict):
                self.fail((*path, "inputs"), "`inputs` maps the other model's input names to FEEL expressions")
            else:
                inputs = {}
                for name, text in body["inputs"].items():
                    compiled = self.feel((*path, "inputs", name), text, scope)
                    if compiled is not None:
                        inputs[str(name)] = compiled
        decisions = body.get("decisions")
        if decisions is not None and (not isinstance(decisions, list) or not all(isinstance(d, str) for d in decisions)):
            self.fail((*path, "decisions"), "`decisions` is a list of decision names")
            decisions = None
        return DecideSpec(ref.strip(), inputs, tuple(decisions) if decisions else None)

    def wait(self, body: Any, path: Path, scope: Scope) -> WaitSpec | None:
        if isinstance(body, (str, int, float)) and not isinstance(body, bool):
            body = {"for": body}
        if not isinstance(body, dict) or len([k for k in ("for", "until") if k in body]) != 1:
            self.fail(path, "`wait` is {for: 10m} or {until: FEEL date-time expression}")
            return None
        self.unknown_keys(body, path, ("for", "until"))
        if "for" in body:
            seconds = self.duration(body["for"], (*path, "for"))
            return WaitSpec(seconds, None) if seconds is not None else None
        until = self.feel((*path, "until"), body["until"], scope)
        return WaitSpec(None, until) if until is not None else None

    def set_values(self, body: Any, path: Path, scope: Scope) -> SetSpec | None:
        if not isinstance(body, dict) or not body:
            self.fail(path, "`set` maps names to FEEL expressions")
            return None
        values: dict[str, CompiledExpression] = {}
        for name, text in body.items():
            if name in (*self.inputs, *self.decisions, *RUN_NAMES):
                self.fail((*path, name), f"`set` cannot replace {name!r}: it is a model input, decision "
                                         "or a reserved name")
                continue
            compiled = self.feel((*path, name), text, scope)
            if compiled is not None:
                values[str(name)] = compiled
        return SetSpec(values)

    def branch(self, body: Any, path: Path, scope: Scope, index: int, names: list[str]) -> BranchSpec | None:
        if not isinstance(body, list) or not body:
            self.fail(path, "`branch` is a list of {when: FEEL, goto: step}; the first that holds is taken")
            return None
        arms: list[tuple[CompiledExpression | None, int]] = []
        for i, arm in enumerate(body):
            arm_path: Path = (*path, i)
            if not isinstance(arm, dict) or "goto" not in arm:
                self.fail(arm_path, "a branch is {when: FEEL, goto: step} (no `when`: always)")
                continue
            self.unknown_keys(arm, arm_path, ("when", "goto"))
            condition = self.feel((*arm_path, "when"), arm["when"], scope) if "when" in arm else None
            target = self.goto(arm["goto"], (*arm_path, "goto"), index, names)
            if target is not None:
                arms.append((condition, target))
        return BranchSpec(tuple(arms))

    # --- values --------------------------------------------------------------------------------

    def feel(self, path: Path, text: Any, scope: Scope) -> CompiledExpression | None:
        if isinstance(text, bool):
            text = "true" if text else "false"
        if isinstance(text, (int, float)):
            text = str(text)
        if not isinstance(text, str) or not text.strip():
            self.fail(path, "expected a FEEL expression")
            return None
        try:
            return compile_expression(text, scope)
        except FeelSyntaxError as exc:
            self.fail(path, f"FEEL: {exc.message}", text=text, position=exc.position)
            return None

    def unary(self, path: Path, text: Any, scope: Scope) -> CompiledUnaryTests | None:
        if isinstance(text, (int, float)) and not isinstance(text, bool):
            text = str(text)
        if not isinstance(text, str) or not text.strip():
            self.fail(path, "expected FEEL unary tests, e.g. '\"Reject\", \"Refer\"' or '> 50000'")
            return None
        try:
            return compile_unary_tests(text, scope)
        except FeelSyntaxError as exc:
            self.fail(path, f"FEEL unary tests: {exc.message}", text=text, position=exc.position)
            return None

    def template(self, path: Path, text: Any, *, required: bool = False) -> Text | None:
        if text is None:
            if required:
                self.fail(path, "this text is required")
            return None
        if not isinstance(text, str):
            text = str(text)
        try:
            return compile_text(text)
        except TemplateSyntaxError as exc:
            self.fail(path, f"template: {exc.message}", text=text)
            return None

    def json_body(self, raw: Any, path: Path) -> Any:
        try:
            return compile_value(raw)
        except TemplateSyntaxError as exc:
            self.fail(path, f"template in the body: {exc.message}")
            return None

    def string_map(self, raw: Any, path: Path) -> dict[str, str]:
        if raw is None:
            return {}
        if not isinstance(raw, dict) or not all(isinstance(v, (str, int, float)) for v in raw.values()):
            self.fail(path, "a mapping of names to text")
            return {}
        return {str(k): str(v) for k, v in raw.items()}

    def expect(self, raw: Any, path: Path) -> frozenset[int] | None:
        if raw is None:
            return None
        items = [raw] if isinstance(raw, int) else raw
        if not isinstance(items, list) or not all(isinstance(i, int) and 100 <= i <= 599 for i in items):
            self.fail(path, "`expect` is an HTTP status or a list of them")
            return None
        return frozenset(items)

    def duration(self, raw: Any, path: Path) -> float | None:
        try:
            return parse_duration(raw)
        except ValueError as exc:
            self.fail(path, str(exc))
            return None

    def timeout(self, raw: Any, path: Path) -> float:
        seconds = self.duration(raw, path)
        if seconds is None:
            return DEFAULT_TIMEOUT
        if not 0 < seconds <= MAX_TIMEOUT:
            self.fail(path, f"a timeout is more than 0 and at most {MAX_TIMEOUT:g} seconds")
            return DEFAULT_TIMEOUT
        return seconds

    def retry(self, raw: Any, path: Path, base: RetryPolicy) -> RetryPolicy:
        if raw is None:
            return base
        if isinstance(raw, int) and not isinstance(raw, bool):
            raw = {"attempts": raw}
        if not isinstance(raw, dict):
            self.fail(path, "`retry` is {attempts, backoff, max_backoff, on: [timeout, connection, 429, 5xx]}")
            return base
        self.unknown_keys(raw, path, ("attempts", "backoff", "max_backoff", "on"))
        attempts = raw.get("attempts", base.attempts)
        if not isinstance(attempts, int) or isinstance(attempts, bool) or not 1 <= attempts <= 100:
            self.fail((*path, "attempts"), "`attempts` is a whole number from 1 to 100 (the first try included)")
            attempts = base.attempts
        backoff = self.duration(raw.get("backoff", base.backoff), (*path, "backoff"))
        max_backoff = self.duration(raw.get("max_backoff", base.max_backoff), (*path, "max_backoff"))
        on_errors, on_statuses, on_5xx = base.on_errors, base.on_statuses, base.on_5xx
        if "on" in raw:
            items = raw["on"] if isinstance(raw["on"], list) else [raw["on"]]
            errors: set[str] = set()
            statuses: set[int] = set()
            on_5xx = False
            for i, item in enumerate(items):
                if isinstance(item, int) and not isinstance(item, bool) and 400 <= item <= 599:
                    statuses.add(item)
                elif item == "5xx":
                    on_5xx = True
                elif item in RETRY_ERRORS:
                    errors.add(str(item))
                else:
                    self.fail((*path, "on", i), f"retry on {item!r}: use an HTTP status (4xx/5xx), '5xx', "
                                                f"or one of {', '.join(RETRY_ERRORS)}")
            on_errors, on_statuses = frozenset(errors), frozenset(statuses)
        return RetryPolicy(attempts, backoff if backoff is not None else base.backoff,
                           max_backoff if max_backoff is not None else base.max_backoff,
                           on_errors, on_statuses, on_5xx)
