"""The service load benchmark runs, and every request it gets answered has its decision record.

This is the CI guard of benchmarks/bench_service.py, at a tiny size: the real `decisionary
serve` with two workers on SQLite and on PostgreSQL, loaded by wrk. Each connection stops after
a fixed number of answers, so no request is in flight when wrk ends and the count of decision
records written must equal the count of 2xx answers exactly. wrk is required (never skipped):
`apt-get install -y wrk`.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from benchmarks import bench_service
from benchmarks.service_wrk import INSTALL_HINT, BodyField, BodyShape, LoadPlan, lua_script, parse_output

CONNECTIONS = 4
PER_CONNECTION = 15


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    if shutil.which("wrk") is None:
        pytest.fail(f"{INSTALL_HINT}; the Makefile's `bench-deps` target does it", pytrace=False)
    out = tmp_path_factory.mktemp("bench") / "service.json"
    code = bench_service.main([
        "--quick", "--db", "both", "--workers", "2", "--duration", "3", "--warmup", "1",
        "--connections", str(CONNECTIONS), "--requests-per-connection", str(PER_CONNECTION), "--out", str(out),
    ])
    assert code == 0, "the benchmark failed: see its output above"
    data: dict[str, Any] = json.loads(out.read_text())
    return data


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_every_answer_has_its_record(results: dict[str, Any], kind: str) -> None:
    (run,) = results["runs"][kind]
    assert run["all_requests_answered"], f"{kind}: fewer than {CONNECTIONS * PER_CONNECTION} answers within the run"
    assert run["in_flight_at_end"] == 0
    assert run["ok_2xx"] == CONNECTIONS * PER_CONNECTION
    assert run["non_2xx"] == 0, run["statuses"]
    assert run["records"] == run["ok_2xx"]
    assert run["records_check"] == "records = 2xx answers"
    assert 0 < run["p50_ms"] <= run["p99_ms"]


def test_the_ceiling_and_the_report(results: dict[str, Any]) -> None:
    (ceiling,) = results["runs"]["ceiling"]
    assert ceiling["ok_2xx"] > 0 and ceiling["non_2xx"] == 0
    for kind in ("sqlite", "postgresql"):
        median = results["medians"][kind]
        assert median["ratio_to_ceiling"] == pytest.approx(median["ok_per_s"] / ceiling["requests_per_s"], abs=1e-3)
    report = bench_service.markdown_report(results)
    assert "| sqlite | 2 | 4 |" in report and "| postgresql | 2 | 4 |" in report


def test_the_load_script_counts_statuses_and_varies_bodies(tmp_path: Path) -> None:
    plan = LoadPlan("http://127.0.0.1:1", "/v1/decisions/k/evaluate",
                    BodyShape(wrapper="inputs", fields=(BodyField("Credit Score", low=400, high=800),
                                                        BodyField("Employment Status", choices=("Employed", "Retired")))),
                    headers={"Authorization": "Bearer secret"})
    script = lua_script(plan)
    assert '["Authorization"] = "Bearer secret"' in script
    assert "math.random(400, 800)" in script and '"\\"Retired\\""' in script
    assert "non_2xx = non_2xx + 1" in script
    line = ('WRK_RESULT {"duration_us":2000000,"requests":10,"sent":13,"answered":10,"ok":8,"non_2xx":2,'
            '"p50_us":1500,"p90_us":2500,"p99_us":4000,"max_us":5000,"mean_us":1700.0,'
            '"errors":{"connect":0,"read":0,"write":0,"timeout":0,"status":2},"statuses":{"200":8,"503":2}}')
    result = parse_output("Running 2s test\n" + line + "\n")
    assert (result.ok, result.non_2xx, result.in_flight) == (8, 2, 3)
    assert result.requests_per_s == 5.0 and result.p99_ms == 4.0
    assert result.statuses == {"200": 8, "503": 2}
