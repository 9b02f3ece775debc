"""The reviewers' notebooks run from top to bottom on a synthetic history, in a kernel of this
virtualenv, as a reviewer would run them: no cell fails, every chart cell shows a figure, the
figures the markdown talks about come out of the data, and the report file is written.

Each notebook runs with notebooks/ as its working directory and the demo database passed through
DECISIONARY_NOTEBOOK_DB (built once per module, smaller than the default so the run stays fast,
still six months long with outcomes). Cells tagged "chart" must display a PNG figure; the cell
tagged "report" writes the HTML report into DECISIONARY_REPORT_DIR.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest
from ipykernel.kernelspec import install as install_kernelspec
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

from audit.synthetic import demo_database

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
KERNEL = "decisionary-test"
CELL_TIMEOUT_S = 180  # generous: a busy machine must not fail the test
HISTORY: dict[str, Any] = {"days": 180, "per_day": 40}  # about 7,000 decisions; the default is 300 a day


@pytest.fixture(scope="module")
def kernels(tmp_path_factory: pytest.TempPathFactory) -> KernelSpecManager:
    """A kernelspec that runs this interpreter (the virtualenv's), whatever else is installed."""
    prefix = tmp_path_factory.mktemp("jupyter")
    install_kernelspec(kernel_name=KERNEL, prefix=str(prefix))
    kernels_dir = prefix / "share" / "jupyter" / "kernels"
    spec = json.loads((kernels_dir / KERNEL / "kernel.json").read_text())
    assert spec["argv"][0] == sys.executable
    return KernelSpecManager(kernel_dirs=[str(kernels_dir)])


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo history as the notebooks' own default makes it: the challenger on a 20% arm for
    the last 60 days, so none of the split's loans has an outcome yet."""
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    demo_database(path, "loan-approval", **HISTORY)
    return path


@pytest.fixture(scope="module")
def mature_split(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A history whose split began 120 days before its end: both arms have known outcomes."""
    path = tmp_path_factory.mktemp("mature") / "demo.db"
    demo_database(path, "loan-approval", **HISTORY, challenger_from_day=60)
    return path


def run(name: str, kernels: KernelSpecManager, database: Path, out: Path) -> nbformat.NotebookNode:
    """Execute notebooks/<name> (a copy: the file itself stays clean) and return it with outputs,
    plus a last cell that printed the kernel's interpreter."""
    notebook: nbformat.NotebookNode = nbformat.read(NOTEBOOKS / name, as_version=4)  # type: ignore[no-untyped-call]
    notebook.cells.append(nbformat.v4.new_code_cell("import sys; print(sys.executable)"))  # type: ignore[no-untyped-call]
    env = {k: v for k, v in os.environ.items() if k not in ("DECISIONARY_DATABASE_URL", "MPLBACKEND")}
    env.update(DECISIONARY_NOTEBOOK_DB=str(database), DECISIONARY_REPORT_DIR=str(out))
    manager = KernelManager(kernel_name=KERNEL, kernel_spec_manager=kernels)
    client = NotebookClient(notebook, km=manager, timeout=CELL_TIMEOUT_S, allow_errors=False,
                            resources={"metadata": {"path": str(NOTEBOOKS)}})
    client.execute(env=env)
    errors = [output for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs
              if output.output_type == "error"]
    assert errors == []
    assert notebook.cells[-1].outputs[0]["text"].strip() == sys.executable
    return notebook


def tagged(notebook: nbformat.NotebookNode, tag: str) -> list[Any]:
    return [cell for cell in notebook.cells if tag in cell.get("metadata", {}).get("tags", [])]


def texts(cell: Any) -> str:
    """Everything a cell showed as text: printed, markdown, HTML tables and plain reprs."""
    parts = []
    for output in cell.outputs:
        if output.output_type == "stream":
            parts.append(output["text"])
        for kind in ("text/markdown", "text/html", "text/plain"):
            parts.append(output.get("data", {}).get(kind, ""))
    return "\n".join(parts)


def cell_with(notebook: nbformat.NotebookNode, source_start: str) -> Any:
    found = [c for c in notebook.cells if c.cell_type == "code" and c.source.startswith(source_start)]
    assert len(found) == 1, f"no single code cell starts with {source_start!r}"
    return found[0]


def assert_every_chart_shows_a_figure(notebook: nbformat.NotebookNode, expected: int) -> None:
    charts = tagged(notebook, "chart")
    assert len(charts) == expected
    for cell in charts:
        pngs = [o for o in cell.outputs if "image/png" in o.get("data", {})]
        assert pngs, f"chart cell shows no figure:\n{cell.source}"


@pytest.mark.parametrize("name", ["outcome-review.ipynb", "champion-challenger.ipynb"])
def test_notebooks_are_committed_clean_and_small(name: str) -> None:
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)  # type: ignore[no-untyped-call]
    nbformat.validate(notebook)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code and all(cell.outputs == [] and cell.execution_count is None for cell in code)
    assert (NOTEBOOKS / name).stat().st_size < 40_000
    assert "DECISIONARY_DATABASE_URL" in code[0].source and "DECISIONARY_NOTEBOOK_DB" in code[0].source


def test_outcome_review(kernels: KernelSpecManager, demo: Path, tmp_path: Path) -> None:
    notebook = run("outcome-review.ipynb", kernels, demo, tmp_path)
    assert_every_chart_shows_a_figure(notebook, 7)

    period = texts(cell_with(notebook, "metrics = data.metrics("))
    assert "decisions" in period and "From the week of" in period
    overrides = texts(cell_with(notebook, "reviews = metrics.reviews"))
    assert "the model said **Refer** and the underwriter chose **Approve**" in overrides
    assert "the model said **Refer** and the underwriter chose **Reject**" in overrides
    scores = texts(cell_with(notebook, "discrimination = performance.discrimination"))
    assert "KS" in scores and "AUC" in scores and "Gini" in scores
    calibration = texts(cell_with(notebook, "grades = data.performance("))
    assert "rises** with the risk grade" in calibration  # the synthetic defaults follow the risk
    # The history lowers credit scores in its last 30 days: the one input called out as drifted.
    drift = texts(cell_with(notebook, "moved = drift["))
    assert "**Credit Score** (input)" in drift and "**drift**" in drift
    assert not [line for line in drift.splitlines() if "(input)" in line and "Credit Score" not in line
                and "**drift**" in line]
    assert "**Credit Score**, from its lowest" in texts(cell_with(notebook, "inputs_moved = "))

    report = tmp_path / "outcome-review-report.html"
    assert tagged(notebook, "report") and str(report) in texts(tagged(notebook, "report")[0])
    html = report.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and "<svg" in html and "loan-approval" in html
    assert not (NOTEBOOKS / "outcome-review-report.html").exists()


def test_champion_challenger_before_the_split_has_outcomes(kernels: KernelSpecManager, demo: Path,
                                                           tmp_path: Path) -> None:
    notebook = run("champion-challenger.ipynb", kernels, demo, tmp_path)
    assert_every_chart_shows_a_figure(notebook, 2)
    split = texts(cell_with(notebook, "daily = data.metrics("))
    assert "challenger" in split and "champion" in split
    # The challenger approves Medium risk up to eight months of income instead of six: the replay's
    # swaps are referrals it would approve, and nothing else.
    swaps = texts(cell_with(notebook, "swaps = replay.swaps"))
    assert "Refer" in swaps and "Approve" in swaps and "Reject" not in swaps
    conclusion = texts(cell_with(notebook, "approve = mix.loc"))
    assert "No outcome of the split itself is known yet" in conclusion
    assert "mostly Refer → Approve" in conclusion and "Expected bad rate of approved loans" in conclusion


def test_champion_challenger_with_outcomes_on_both_arms(kernels: KernelSpecManager, mature_split: Path,
                                                        tmp_path: Path) -> None:
    notebook = run("champion-challenger.ipynb", kernels, mature_split, tmp_path)
    assert_every_chart_shows_a_figure(notebook, 2)
    conclusion = texts(cell_with(notebook, "approve = mix.loc"))
    assert "Observed bad rate since the split: challenger" in conclusion
    assert "No outcome of the split itself is known yet" not in conclusion


@pytest.fixture(autouse=True)
def no_report_left_in_the_repository() -> Iterator[None]:
    yield
    assert not (NOTEBOOKS / "outcome-review-report.html").exists()
