"""The `decisionary` command line: thin commands over the decision core.

Each command parses its arguments, calls `decisions.*`, and formats the answer. Shared
helpers below give every command the same behaviour on bad input: a readable message on
stderr (with the location when the core reports one) and exit code 2, never a traceback.
To add a command, write one function decorated with `@app.command()` and
`@reports_errors`; keep its logic in the library it calls.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, NoReturn, ParamSpec, TypeVar

import typer

EXIT_OK = 0
EXIT_PROBLEMS = 1  # the command ran and found problems (e.g. `check` on a broken model)
EXIT_USAGE = 2  # bad input: missing file, bad JSON, unusable model
EXIT_INTERNAL = 3  # a bug: reported in one line instead of a traceback

app = typer.Typer(
    name="decisionary",
    help="Decisionary: DMN decision models compiled once, evaluated fast.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

P = ParamSpec("P")
R = TypeVar("R")


# --- shared helpers -------------------------------------------------------------------------


class CliError(Exception):
    """A user-facing failure: printed as `error: <message>` and exits with `code`."""

    def __init__(self, message: str, code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.code = code


def fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    raise CliError(message, code)


def echo_error(message: str) -> None:
    typer.echo(message, err=True)


def reports_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Turns the core's typed errors into a message on stderr and an exit code."""
    from decisions.errors import DecisionsError, ModelError

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except typer.Exit:
            raise
        except CliError as exc:
            echo_error(f"error: {exc}")
            raise typer.Exit(exc.code) from None
        except ModelError as exc:
            echo_error("error: the model cannot be used:")
            for problem in exc.problems:
                echo_error(f"  {problem}")
            raise typer.Exit(EXIT_USAGE) from None
        except DecisionsError as exc:
            echo_error(f"error: {exc}")
            raise typer.Exit(EXIT_USAGE) from None
        except Exception as exc:  # a bug in the core: one line, not a traceback
            echo_error(f"internal error: {type(exc).__name__}: {exc}")
            raise typer.Exit(EXIT_INTERNAL) from None

    return wrapper


def existing_file(path: Path, what: str = "file") -> Path:
    if not path.exists():
        fail(f"{what} not found: {path}")
    if not path.is_file():
        fail(f"{what} is not a file: {path}")
    return path


def load_model(path: Path) -> Any:
    """Loads a model file; a ModelError propagates (each command decides how to report it)."""
    import decisions

    return decisions.load(existing_file(path, "model file"))


def read_json_argument(argument: str, what: str = "input") -> Any:
    """Parses JSON given inline or as `@path/to/file.json`. Numbers keep their decimal digits."""
    source = "command line"
    text = argument
    if argument.startswith("@"):
        path = existing_file(Path(argument[1:]), f"{what} file")
        source = str(path)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            fail(f"cannot read {what} file {path}: {exc}")
    try:
        return json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as exc:
        fail(f"{what} is not valid JSON ({source}, line {exc.lineno}, column {exc.colno}): {exc.msg}")


def to_json_text(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False, default=str)


def format_value(value: Any) -> str:
    """One FEEL value on one line: strings quoted, numbers plain, temporals in ISO 8601."""
    from decisions.feel import values

    return json.dumps(values.to_json(value), ensure_ascii=False, default=str)


def format_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A small left-aligned text table."""
    widths = [len(header) for header in headers]
    for row in rows:
        widths = [max(width, len(cell)) for width, cell in zip(widths, row, strict=True)]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in [list(headers), ["-" * width for width in widths], *rows]
    ]
    return "\n".join(lines)


def format_result(outputs: Mapping[str, Any], fired: Mapping[str, Sequence[int]]) -> str:
    rows = [
        [name, format_value(value), ", ".join(str(rule) for rule in fired.get(name, [])) or "-"]
        for name, value in outputs.items()
    ]
    return format_table(["decision", "value", "rules fired"], rows)


# --- commands -----------------------------------------------------------------------------------


@app.command("eval")
@reports_errors
def eval_command(
    model: Annotated[Path, typer.Argument(help="Model file: .dmn, .xml, .yaml, .yml or .xlsx.")],
    input: Annotated[
        str, typer.Option("--input", "-i", help="Inputs as a JSON object, or @file.json.")
    ] = "{}",
    decision: Annotated[
        list[str] | None, typer.Option("--decision", "-d", help="Evaluate only this decision (repeatable).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    trace: Annotated[bool, typer.Option("--trace", help="Include the evaluation trace.")] = False,
) -> None:
    """Evaluate a model with the given inputs and print the decisions' values and fired rules.
    Exits 1 when the result holds an error (a problem of severity error: its value is null)."""
    inputs = read_json_argument(input)
    if not isinstance(inputs, dict):
        fail(f"input must be a JSON object of input names to values, not {type(inputs).__name__}")
    loaded = load_model(model)
    result = loaded.evaluate(inputs, decisions=decision or None, trace=trace)
    if as_json:
        typer.echo(to_json_text(result.to_json()))
    else:
        typer.echo(format_result(result.outputs, result.fired))
        if result.problems:
            typer.echo("\nproblems:")
            for problem in result.problems:
                typer.echo(f"  {problem}")
        if trace and result.trace is not None:
            typer.echo("\ntrace:")
            typer.echo(to_json_text([step.to_json() for step in result.trace]))
    if any(getattr(problem, "severity", "error") == "error" for problem in result.problems):
        raise typer.Exit(EXIT_PROBLEMS)


@app.command("check")
@reports_errors
def check_command(
    model: Annotated[Path, typer.Argument(help="Model file to check (.dmn, .yaml or .xlsx).")],
) -> None:
    """Load a model and report every problem found, with its location."""
    from decisions.errors import ModelError

    try:
        loaded = load_model(model)
    except ModelError as exc:
        for problem in exc.problems:
            typer.echo(str(problem))
        errors = sum(1 for problem in exc.problems if problem.severity == "error")
        typer.echo(f"{errors or len(exc.problems)} error(s) in {model}")
        raise typer.Exit(EXIT_PROBLEMS) from None
    found = list(getattr(loaded, "problems", None) or [])
    for problem in found:
        typer.echo(str(problem))
    errors = sum(1 for problem in found if getattr(problem, "severity", "error") == "error")
    if errors:  # elements that do not compile: they evaluate to null, and the model is not fit to publish
        typer.echo(f"{errors} error(s) in {model}")
        raise typer.Exit(EXIT_PROBLEMS)
    # Names read without being declared (Camunda style): what a caller must pass, listed once.
    implicit = [spec.name for spec in loaded.inputs.values() if spec.implicit]
    if implicit:
        typer.echo(f"implicit inputs: {', '.join(implicit)}")
    typer.echo(f"ok: {len(loaded.decision_names)} decisions, {len(loaded.input_names)} inputs")


@app.command("verify")
@reports_errors
def verify_command(
    model: Annotated[Path, typer.Argument(help="Model file to verify (.dmn, .yaml or .xlsx).")],
    as_json: Annotated[bool, typer.Option("--json", help="The findings as JSON, with rule ids.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Errors and warnings only.")] = False,
) -> None:
    """Overlapping rules, gaps, rules that never fire and subsumed rules, per decision table.
    Exits 1 when a finding is an error (an overlap under UNIQUE, or under ANY with other outputs)."""
    from decisions.errors import ModelError

    try:
        loaded = load_model(model)
    except ModelError as exc:
        for problem in exc.problems:
            typer.echo(str(problem))
        typer.echo(f"{model} does not load, so it cannot be verified")
        raise typer.Exit(EXIT_PROBLEMS) from None
    report = loaded.verify()
    if as_json:
        typer.echo(to_json_text(report.to_json()))
    else:
        shown = [f for f in report.findings if not quiet or f.severity != "info"]
        for finding in shown:
            typer.echo(str(finding))
        counts = {level: sum(1 for f in report.findings if f.severity == level) for level in ("error", "warning", "info")}
        typer.echo(f"{counts['error']} error(s), {counts['warning']} warning(s), {counts['info']} note(s) in {model}")
    if not report.ok:
        raise typer.Exit(EXIT_PROBLEMS)


@app.command("tck")
@reports_errors
def tck_command(
    folders: Annotated[
        list[Path] | None,
        typer.Argument(help="TCK folders to run (default: the DMN TCK next to the project)."),
    ] = None,
    results: Annotated[
        Path | None, typer.Option("--results", help="Write the TCK results CSV to this file.")
    ] = None,
    only: Annotated[
        str | None, typer.Option("--only", help="Run only test files whose folder/name contains this.")
    ] = None,
) -> None:
    """Run the DMN TCK test cases and report the failures."""
    from decisions.tck import run_tck

    for folder in folders or []:
        if not folder.is_dir():
            fail(f"TCK folder not found: {folder}")
    report = run_tck(folders or None, only=only)
    for case in report.failures:
        message = " ".join(case.message.split())
        if len(message) > 200:
            message = message[:197] + "..."
        typer.echo(f"{case.status} {case.folder}/{case.test_file} #{case.case_id}: {message}")
    if results is not None:
        try:
            report.write_csv(results)
        except OSError as exc:
            fail(f"cannot write results to {results}: {exc}")
    for level, summary in report.levels.items():
        typer.echo(f"{level}: {summary.passed}/{summary.total} passed")
    typer.echo(f"time: {report.elapsed:.1f} s")
    typer.echo(report.summary_line())


@app.command("convert")
@reports_errors
def convert_command(
    model: Annotated[Path, typer.Argument(help="Model file (DMN, YAML or xlsx).")],
    to: Annotated[str, typer.Option("--to", help="Target format: yaml, xlsx, or dmn (the model's DMN version; 1.3 if it states none), "
                                         "dmn1.3, ...")],
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write here instead of standard output.")] = None,
) -> None:
    """Convert a model between DMN XML, the YAML form and an Excel workbook (xlsx needs --out)."""
    from decisions import read_definitions
    from decisions.dmn.namespaces import SUPPORTED_VERSIONS
    from decisions.dmn.writer import write_dmn
    from decisions.model import reader_problems
    from decisions.xlsx_format import write_xlsx
    from decisions.yaml_format import write_yaml

    target = to.lower()
    if target == "xlsx" and out is None:
        fail("an xlsx workbook is binary: give the file to write with --out (-o)")
    defs = read_definitions(existing_file(model, "model"))
    content: str | bytes
    if target == "yaml":
        content = write_yaml(defs)  # ids kept where the DMN writer would not generate them again
    elif target == "xlsx":
        content = write_xlsx(defs)
    elif target.startswith("dmn"):
        version = target[3:] or None
        if version is not None and version not in SUPPORTED_VERSIONS:
            fail(f"unknown DMN version {version!r}; use dmn{SUPPORTED_VERSIONS[0]} to dmn{SUPPORTED_VERSIONS[-1]}")
        content = write_dmn(defs, version=version)
    else:
        fail(f"unknown target format {to!r}; use yaml, xlsx or dmn")
    for problem in reader_problems(defs):  # logic the reader could not read, written back as it was
        typer.echo(f"{problem} (written as it was read)", err=True)
    if out is None:
        typer.echo(content, nl=False)
        return
    try:
        if isinstance(content, bytes):
            out.write_bytes(content)
        else:
            out.write_text(content, encoding="utf-8")
    except OSError as exc:
        fail(f"cannot write {out}: {exc}")


from api.cli_service import register as register_service_commands  # noqa: E402

register_service_commands(app)
from api.cli_execution import register as register_execution_commands  # noqa: E402

register_execution_commands(app)
from api.cli_audit import register as register_audit_commands  # noqa: E402

register_audit_commands(app)
from api.cli_modeltests import register as register_model_tests  # noqa: E402

register_model_tests(app)


def main() -> None:
    """Console entry point (`decisionary`)."""
    app()


if __name__ == "__main__":
    main()
