"""Compiled bindings: which outcome starts which workflow, and what each workflow's steps do.

Made by `execution.bindings.parse_bindings` from the YAML attached to a model version; every
FEEL expression and template is compiled once there. Nothing here touches the network or the
database.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from decisions.feel import Budget, CompiledExpression, CompiledUnaryTests, Env, time_limit
from decisions.feel.values import from_python
from decisions.limits import MAX_CALL_SECONDS
from decisions.tables.index import names_used
from execution.templates import Text

STEP_KINDS = ("approve", "reject", "notify", "review", "call", "decide", "wait", "set", "branch")
HTTP_KINDS = ("approve", "reject", "call")
NOTIFY_CHANNELS = ("webhook", "email", "chat")
# Errors a retry policy can name besides HTTP statuses (e.g. 429, 503, "5xx").
RETRY_ERRORS = ("timeout", "connection", "limited")

DEFAULT_TIMEOUT = 10.0
MAX_TIMEOUT = 600.0


@dataclass(frozen=True)
class RetryPolicy:
    """Attempts (the first included), exponential backoff with full jitter, and what retries."""

    attempts: int = 5
    backoff: float = 1.0  # the first retry waits up to this long
    max_backoff: float = 300.0
    on_errors: frozenset[str] = frozenset({"timeout", "connection"})
    on_statuses: frozenset[int] = frozenset({408, 425, 429})
    on_5xx: bool = True

    def retries_status(self, status: int) -> bool:
        return status in self.on_statuses or (self.on_5xx and 500 <= status <= 599)

    def delay(self, attempt: int, rand: float, at_least: float = 0.0) -> float:
        """Seconds before retry number `attempt` (1 = the first retry); `rand` is uniform in [0, 1)."""
        ceiling = min(self.max_backoff, self.backoff * 2.0 ** max(0, attempt - 1))
        return float(max(min(at_least, self.max_backoff), rand * ceiling))


@dataclass(frozen=True)
class Target:
    """A named receiver: its URL, fixed headers; its secret and limits come from the configuration."""

    name: str
    url: str
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class HttpSpec:
    """approve / reject / call / notify webhook / notify chat: one HTTP request."""

    target: str | None  # the named target, if any (its url, headers and secret)
    url: Text | None  # templated url; None: the target's url or (approve/reject) the callback URL
    method: str = "POST"
    headers: Mapping[str, Text] = field(default_factory=dict)
    body: Any = None  # compiled JSON body (templates.compile_value), or None for the default body
    chat_text: Text | None = None  # chat: {"text": ...}
    expect: frozenset[int] | None = None  # statuses that count as success; None: any 2xx


@dataclass(frozen=True)
class EmailSpec:
    to: tuple[Text, ...]
    cc: tuple[Text, ...]
    subject: Text
    body: Text
    sender: str | None = None


@dataclass(frozen=True)
class ReviewSpec:
    queue: str
    assignee: Text | None
    reason: Text | None
    due: float | None  # seconds after the task opens
    escalate: str | None  # workflow started when the due time passes unanswered


@dataclass(frozen=True)
class DecideSpec:
    model_ref: str  # key, key@alias or key@number
    inputs: Mapping[str, CompiledExpression] | None  # None: pass inputs and outputs by name
    decisions: tuple[str, ...] | None


@dataclass(frozen=True)
class WaitSpec:
    seconds: float | None
    until: CompiledExpression | None


@dataclass(frozen=True)
class SetSpec:
    values: Mapping[str, CompiledExpression]


@dataclass(frozen=True)
class BranchSpec:
    arms: tuple[tuple[CompiledExpression | None, int], ...]  # (condition, step index to go to)


Spec = HttpSpec | EmailSpec | ReviewSpec | DecideSpec | WaitSpec | SetSpec | BranchSpec


@dataclass(frozen=True)
class Step:
    index: int
    name: str
    kind: str  # one of STEP_KINDS
    channel: str | None  # notify: webhook, email or chat
    spec: Spec
    when: CompiledExpression | None = None
    timeout: float = DEFAULT_TIMEOUT
    retry: RetryPolicy = RetryPolicy()
    goto: int | None = None  # index of the next step (len(steps) = end); None: the one after
    line: int | None = None

    @property
    def label(self) -> str:
        return f"{self.kind}:{self.channel}" if self.channel else self.kind

    @property
    def external(self) -> bool:
        """Does this step act outside the run (and so needs an attempt, a lease, an idempotency key)?"""
        return self.kind not in ("set", "branch", "wait")


@dataclass(frozen=True)
class Workflow:
    name: str
    steps: tuple[Step, ...]


@dataclass(frozen=True)
class Rule:
    """`on:` entry: when the outcome matches, start these workflows."""

    text: str
    expression: CompiledExpression | None
    tests: tuple[tuple[CompiledExpression, CompiledUnaryTests], ...]  # (subject, unary tests)
    workflows: tuple[str, ...]

    @property
    def names_read(self) -> set[str]:
        """The names this rule might read (an over-count is harmless)."""
        trees: list[Any] = [] if self.expression is None else [self.expression.ast]
        for subject, tests in self.tests:
            trees += [subject.ast, tests.ast]
        return names_used(trees)

    def matches(self, env: Env) -> bool:
        if self.expression is not None:
            return self.expression.fn(env) is True
        for subject, tests in self.tests:
            if tests.fn(env, subject.fn(env)) is not True:
                return False
        return True


@dataclass(frozen=True)
class Bindings:
    text: str
    hash: str
    targets: Mapping[str, Target]
    workflows: Mapping[str, Workflow]
    rules: tuple[Rule, ...]
    always: tuple[str, ...]
    # Workflows started by the audit layer's monitors rather than by an outcome: monitor kind
    # ("drift") -> workflow names (execution/monitors.py).
    monitors: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @cached_property
    def names_read(self) -> frozenset[str]:
        """The inputs and outputs the rules might read: only these are converted per decision."""
        return frozenset(name for rule in self.rules for name in rule.names_read)

    def workflows_for(self, outputs: Mapping[str, Any], inputs: Mapping[str, Any] | None = None) -> list[str]:
        """The workflows an outcome starts: matching rules in order, then `always`; each once.

        The rules draw on one evaluation budget of steps, memory and time (decisions/feel/
        budget.py; the time of an evaluate call, MAX_CALL_SECONDS): a rule that exceeds it does
        not match, nor do the rules after it."""
        read = self.names_read
        names = {k: from_python(v) for k, v in (inputs or {}).items() if k in read}
        names.update({k: from_python(v) for k, v in outputs.items() if k in read})
        with time_limit(MAX_CALL_SECONDS):
            budget = Budget()
        env = Env.over(names, [], budget)  # the rules only read it (a child scope copies what it binds)
        chosen: list[str] = []
        for rule in self.rules:
            if rule.matches(env) and budget.exceeded is None:
                chosen.extend(w for w in rule.workflows if w not in chosen)
        chosen.extend(w for w in self.always if w not in chosen)
        return chosen
