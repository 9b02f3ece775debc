"""`decisionary test`: run the test cases kept beside models, with rule coverage and JUnit XML.

Given a model file, its test file is the one beside it (`<stem>.tests.yaml`, `.tests.yml` or
`.tests.xml`), or `--cases FILE`; given a folder, every model in it that has a test file. The
format, the runner and the coverage are `decisions.testing`; this module parses and prints.

Exit codes: 0 when every case passes, 1 when a case fails, 2 when a test file or a model
cannot be used (a malformed file, or one naming a decision, input or rule the model lacks).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from decisions.testing import ModelRun


def _percent(value: float) -> str:
    return f"{value:.0f}%" if value == int(value) else f"{value:.1f}%"


def _print_run(run: ModelRun) -> None:
    from decisions.testing import describe_failure, total_percent

    passed = len(run.results) - len(run.failed)
    typer.echo(f"{run.model_path} ({run.tests_path}): {len(run.results)} cases, "
               f"{passed} passed, {len(run.failed)} failed")
    for result in run.failed:
        for failure in result.failures:
            lines = describe_failure(failure)
            typer.echo(f"  FAIL {lines[0]}")
            for line in lines[1:]:
                typer.echo(f"  {line}")
    if not run.tables:
        typer.echo("  coverage: the model has no decision tables")
        return
    covered = sum(t.covered for t in run.tables)
    total = sum(t.total for t in run.tables)
    typer.echo(f"  coverage: {covered}/{total} rules ({_percent(total_percent(run.tables))})")
    for table in run.tables:
        line = f"    {table.decision}: {table.covered}/{table.total} rules ({_percent(table.percent)})"
        if table.missed:
            line += "; never fired: " + ", ".join(f"rule {n} ({rule_id})" for n, rule_id in table.missed)
        typer.echo(line)


def model_tests_command(
    target: Annotated[Path, typer.Argument(metavar="MODEL_OR_DIR",
                                           help="A model file (DMN, YAML or xlsx), or a folder of models.")],
    cases: Annotated[Path | None, typer.Option(
        "--cases", help="The test file (YAML, or DMN TCK XML); default: <model>.tests.yaml beside the model.")] = None,
    junit: Annotated[Path | None, typer.Option("--junit", help="Also write the results as JUnit XML here.")] = None,
) -> None:
    """Run a model's test cases: failures with expected and actual values, and rule coverage."""
    from api.cli import EXIT_PROBLEMS, EXIT_USAGE, echo_error, fail
    from decisions.testing import junit_xml, models_in, run_model_file

    if target.is_dir():
        if cases is not None:
            fail("--cases goes with one model file, not a folder")
        pairs = models_in(target)
        if not pairs:
            fail(f"no model in {target} has a test file beside it (<model>.tests.yaml, .tests.yml or .tests.xml)")
        runs = [run_model_file(model, tests) for model, tests in pairs]
    elif target.is_file():
        if cases is not None and not cases.is_file():
            fail(f"test file not found: {cases}")
        runs = [run_model_file(target, cases)]
    else:
        fail(f"model file or folder not found: {target}")

    for run in runs:
        if run.error is None:
            _print_run(run)
    errors = [run for run in runs if run.error is not None]
    for run in errors:
        echo_error(f"error: {run.error}")
    failed = sum(len(run.failed) for run in runs)
    total = sum(len(run.results) for run in runs)
    summary = f"{len(runs)} model(s), {total} cases, {failed} failed"
    if errors:
        summary += f", {len(errors)} test file(s) could not be used"
    typer.echo(summary)
    if junit is not None:
        try:
            junit.write_text(junit_xml(runs), encoding="utf-8")
        except OSError as exc:
            fail(f"cannot write {junit}: {exc.strerror or exc}")
    if errors:
        raise typer.Exit(EXIT_USAGE)
    if failed:
        raise typer.Exit(EXIT_PROBLEMS)


def register(app: typer.Typer) -> None:
    """Add `decisionary test` to the CLI."""
    from api.cli import reports_errors

    app.command("test")(reports_errors(model_tests_command))
