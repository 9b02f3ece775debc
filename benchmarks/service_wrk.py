"""The load generator of the service benchmark: wrk on loopback, driven by a generated Lua script.

The script POSTs applicant JSON bodies to one path with fixed headers. Bodies are varied: each
wrk thread builds a pool of applicants in `init` (its own seed, a few fields drawn per body)
and cycles through it, so building a request costs a table lookup and wrk stays light on the
shared cores. A `response` function counts every status, 2xx and the rest apart, and `done`
prints one JSON line (prefixed `WRK_RESULT `) with wrk's latency percentiles and the counts of
all threads, including how many requests were written but never answered when wrk stopped.

With `budget` > 0 each thread has one connection and stops after that many answers, so no
request is in flight at the end and every request sent is counted (used by the tests, where
the record count must equal the 2xx count exactly).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

RESULT_PREFIX = "WRK_RESULT "
INSTALL_HINT = ("wrk (the HTTP load generator) is not installed: install it with "
                "`apt-get install -y wrk` (Debian/Ubuntu package `wrk`; as root, or with sudo)")


class WrkMissing(RuntimeError):
    """wrk is not on PATH; the message says how to install it."""


class WrkFailed(RuntimeError):
    """wrk ran but gave no result line; the message holds its output."""


@dataclass(frozen=True)
class LoadResult:
    """What wrk saw in one run (latencies in milliseconds)."""

    duration_s: float
    requests: int  # answers read (any status)
    ok: int  # 2xx answers
    non_2xx: int
    sent: int  # requests written; sent - requests were in flight when wrk stopped
    socket_errors: dict[str, int]
    statuses: dict[str, int]
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    mean_ms: float

    @property
    def requests_per_s(self) -> float:
        return self.requests / self.duration_s if self.duration_s else 0.0

    @property
    def ok_per_s(self) -> float:
        return self.ok / self.duration_s if self.duration_s else 0.0

    @property
    def in_flight(self) -> int:
        return max(0, self.sent - self.requests)

    def to_dict(self) -> dict[str, Any]:
        return {
            "duration_s": round(self.duration_s, 3), "requests": self.requests, "ok_2xx": self.ok,
            "non_2xx": self.non_2xx, "sent": self.sent, "in_flight_at_end": self.in_flight,
            "requests_per_s": round(self.requests_per_s, 1), "ok_per_s": round(self.ok_per_s, 1),
            "p50_ms": round(self.p50_ms, 2), "p90_ms": round(self.p90_ms, 2), "p99_ms": round(self.p99_ms, 2),
            "max_ms": round(self.max_ms, 2), "mean_ms": round(self.mean_ms, 2),
            "socket_errors": self.socket_errors, "statuses": self.statuses,
        }


@dataclass(frozen=True)
class BodyField:
    """One JSON field of the body: a constant, or drawn per body from `choices` / [low, high]."""

    name: str
    constant: Any = None
    choices: tuple[str, ...] = ()
    low: int | None = None
    high: int | None = None
    step: int = 1


@dataclass(frozen=True)
class BodyShape:
    """A JSON body `{"<wrapper>": {fields...}}` (or the bare fields when wrapper is empty)."""

    fields: tuple[BodyField, ...]
    wrapper: str = ""
    pool: int = 2000  # bodies built per wrk thread


@dataclass
class LoadPlan:
    base_url: str  # http://127.0.0.1:PORT
    path: str
    body: BodyShape
    headers: dict[str, str] = field(default_factory=dict)
    duration_s: float = 30.0
    connections: int = 32
    threads: int = 1
    timeout_s: float = 10.0
    budget: int = 0  # answers per connection, then stop (0: run for the duration)


def wrk_path() -> str:
    path = shutil.which("wrk")
    if path is None:
        raise WrkMissing(INSTALL_HINT)
    return path


def _lua_string(text: str) -> str:
    return json.dumps(text)  # a JSON string literal is a valid Lua string literal for this text


def _lua_field(item: BodyField) -> str:
    """A Lua expression producing the field's JSON text ("name":value)."""
    key = _lua_string(json.dumps(item.name) + ":")
    if item.choices:
        options = ", ".join(_lua_string(json.dumps(choice)) for choice in item.choices)
        return f"{key} .. pick({{{options}}})"
    if item.low is not None and item.high is not None:
        return f"{key} .. tostring(math.random({item.low // item.step}, {item.high // item.step}) * {item.step})"
    return f"{key} .. {_lua_string(json.dumps(item.constant))}"


def lua_script(plan: LoadPlan) -> str:
    """The wrk script for `plan` (see the module docstring)."""
    headers = {"Content-Type": "application/json", **plan.headers}
    header_lines = "\n".join(f"  [{_lua_string(k)}] = {_lua_string(v)}," for k, v in headers.items())
    parts = " .. \",\" ..\n      ".join(_lua_field(item) for item in plan.body.fields)
    if plan.body.wrapper:
        open_text, close_text = _lua_string("{" + json.dumps(plan.body.wrapper) + ":{"), _lua_string("}}")
    else:
        open_text, close_text = _lua_string("{"), _lua_string("}")
    return f"""-- generated by benchmarks/service_wrk.py
local path = {_lua_string(plan.path)}
local headers = {{
{header_lines}
}}
local pool_size = {plan.body.pool}
local budget = {plan.budget}
local threads = {{}}

local function pick(options) return options[math.random(1, #options)] end

function setup(thread)
  table.insert(threads, thread)
  thread:set("thread_number", #threads)
end

function init(args)
  math.randomseed(7919 * thread_number)
  pool = {{}}
  for i = 1, pool_size do
    local body = {open_text} ..
      {parts} ..
      {close_text}
    pool[i] = wrk.format("POST", path, headers, body)
  end
  sent, answered, ok, non_2xx = 0, 0, 0, 0
  statuses = {{}}
end

function request()
  sent = sent + 1
  return pool[(sent - 1) % pool_size + 1]
end

function response(status, response_headers, body)
  answered = answered + 1
  if status >= 200 and status < 300 then
    ok = ok + 1
  else
    non_2xx = non_2xx + 1
  end
  local name = tostring(status)
  statuses[name] = (statuses[name] or 0) + 1
  if budget > 0 and answered >= budget then wrk.thread:stop() end
end

local function json_object(t)
  local items = {{}}
  for k, v in pairs(t) do table.insert(items, string.format('"%s":%d', k, v)) end
  return "{{" .. table.concat(items, ",") .. "}}"
end

function done(summary, latency, requests)
  local total = {{sent = 0, answered = 0, ok = 0, non_2xx = 0}}
  local all_statuses = {{}}
  for _, thread in ipairs(threads) do
    for _, name in ipairs({{"sent", "answered", "ok", "non_2xx"}}) do
      total[name] = total[name] + (thread:get(name) or 0)
    end
    for status, count in pairs(thread:get("statuses") or {{}}) do
      all_statuses[status] = (all_statuses[status] or 0) + count
    end
  end
  -- wrk calls request() once on the first thread before the run, to check the request it
  -- makes: that call sent nothing.
  total.sent = total.sent - 1
  local e = summary.errors
  io.write(string.format(
    '{RESULT_PREFIX}{{"duration_us":%d,"requests":%d,"sent":%d,"answered":%d,"ok":%d,"non_2xx":%d,' ..
    '"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,"mean_us":%.1f,' ..
    '"errors":{{"connect":%d,"read":%d,"write":%d,"timeout":%d,"status":%d}},"statuses":%s}}\\n',
    summary.duration, summary.requests, total.sent, total.answered, total.ok, total.non_2xx,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean,
    e.connect, e.read, e.write, e.timeout, e.status, json_object(all_statuses)))
end
"""


def run_load(plan: LoadPlan, workdir: Path) -> LoadResult:
    """Run wrk once as planned; raises WrkMissing / WrkFailed."""
    wrk = wrk_path()
    script = workdir / "load.lua"
    script.write_text(lua_script(plan))
    threads = plan.connections if plan.budget else max(1, min(plan.threads, plan.connections))
    duration = max(1, round(plan.duration_s))
    command = [wrk, "-t", str(threads), "-c", str(plan.connections), "-d", f"{duration}s",
               "--timeout", f"{max(1, round(plan.timeout_s))}s", "-s", str(script), plan.base_url + plan.path]
    done = subprocess.run(command, capture_output=True, text=True, timeout=duration + 120, check=False)
    return parse_output(done.stdout, done.stderr, done.returncode)


def parse_output(stdout: str, stderr: str = "", returncode: int = 0) -> LoadResult:
    line = next((ln for ln in stdout.splitlines() if ln.startswith(RESULT_PREFIX)), None)
    if line is None:
        raise WrkFailed(f"wrk gave no result (exit {returncode}):\n{stdout[-2000:]}\n{stderr[-2000:]}")
    data = json.loads(line[len(RESULT_PREFIX):])
    return LoadResult(
        duration_s=data["duration_us"] / 1e6, requests=data["answered"], ok=data["ok"], non_2xx=data["non_2xx"],
        sent=data["sent"], socket_errors={k: v for k, v in data["errors"].items() if k != "status"},
        statuses=dict(sorted(data["statuses"].items())), p50_ms=data["p50_us"] / 1e3, p90_ms=data["p90_us"] / 1e3,
        p99_ms=data["p99_us"] / 1e3, max_ms=data["max_us"] / 1e3, mean_ms=data["mean_us"] / 1e3,
    )
