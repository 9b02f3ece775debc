"""Model tests: test cases kept beside a model, run against it, with the rules they covered.

The one place for the test-case format and its runner: `decisionary test` (api/cli_test.py)
and the registry's publish gate (registry/gates.py) both use it.

A test file is a YAML list of cases:

```yaml
- name: adult with good credit        # optional; default "case N"
  inputs: {Applicant Age: 35, Credit Score: 780}
  expect: {Risk Category: Low, Limit: 50000}
  fired: {Risk Category: [9], Eligibility: [r-eligible]}   # optional
```

`expect` maps decision names to expected values (plain YAML values: numbers, strings,
booleans, null, dates, lists, mappings); each is compared with FEEL equality. `fired` maps
decision table decisions to the rules expected to fire, by 1-based rule position (a number) or
by stable rule id (text, see `decisions.tables.rule_ids`): exactly those rules must fire
(`[]`: none). A points scorecard's characteristics are tables named `<decision>.<characteristic>`
whose rules are their bins (decisions/scorecard.py): `fired` and the coverage count them. A case needs `expect`, `fired` or both. `inputs` may name the model's inputs, and
decisions (a given value stands in for the decision).

A DMN TCK test file (`<testCases>` XML, read by `decisions.tck`) works too: each `testCase` is
a case whose result nodes are its `expect`, compared as the TCK compares values.

Beside a model `loan-approval.dmn` (or `.yaml`, `.yml`, `.xlsx`) its tests are
`loan-approval.tests.yaml` (or `.tests.yml`, `.tests.xml`).

Running cases gives, per case, its failures (decision, expected, actual) and the rules that
fired; `coverage` turns the fired rules of every case into, per decision table, the rules no
case made fire. `junit_xml` writes results for CI. Two kinds of error are told apart: a file
that cannot be read, or that names a decision, input or rule the model does not have, is a
`CaseFileError` (its message names the file, the case and the field); a case that runs and
gets another answer is a failure.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from xml.etree import ElementTree as ET

import yaml

from decisions.compiled import Model
from decisions.errors import DecisionsError
from decisions.feel.values import feel_equal, from_python, to_json
from decisions.safe_yaml import load_yaml
from decisions.tck import parse_test_file
from decisions.tck_values import first_difference, render

TEST_SUFFIXES = (".tests.yaml", ".tests.yml", ".tests.xml")
MODEL_SUFFIXES = (".dmn", ".yaml", ".yml", ".xlsx")
_KEYS = {"name", "description", "inputs", "expect", "fired"}

Compare = Literal["feel", "tck"]


class CaseFileError(DecisionsError):
    """A test file that cannot be used: unreadable, malformed, or naming what the model lacks."""


# --- cases ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    number: int  # 1-based position in the file
    name: str
    inputs: dict[str, Any]
    expect: dict[str, Any]
    fired: dict[str, list[int | str]] = field(default_factory=dict)  # positions or rule ids
    compare: Compare = "feel"  # "tck": TCK values, compared as the TCK does

    @property
    def title(self) -> str:
        return f"case {self.number} ({self.name})" if self.name != f"case {self.number}" else self.name

    @property
    def targets(self) -> list[str]:
        """The decisions this case evaluates: those it expects a value or fired rules of."""
        return list(dict.fromkeys([*self.expect, *self.fired]))


def _prefix(source: str | None) -> str:
    return f"{source}: " if source else ""


def parse_cases(text: str, *, source: str | None = None) -> list[Case]:
    """The cases of a YAML test file, or CaseFileError naming the file, the case and the field."""
    try:
        data = load_yaml(text)  # aliases bounded: a test file cannot be an expansion bomb
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(err, "problem", None) or str(err)
        raise CaseFileError(f"{_prefix(source)}test cases are not valid YAML{where}: {problem}") from None
    if data is None:
        return []
    if not isinstance(data, list):
        raise CaseFileError(f"{_prefix(source)}test cases must be a YAML list of {{inputs, expect}} entries, "
                            f"not {type(data).__name__}")
    return [_case(i, entry, source) for i, entry in enumerate(data, start=1)]


def _case(number: int, entry: Any, source: str | None) -> Case:
    name = entry.get("name") if isinstance(entry, dict) else None
    label = f"test case {number}" + (f" ({name})" if isinstance(name, str) and name else "")
    where = _prefix(source) + label
    if not isinstance(entry, dict):
        raise CaseFileError(f"{where}: expected a mapping with 'inputs' and 'expect', got {type(entry).__name__}")
    unknown = sorted(str(k) for k in entry if k not in _KEYS)
    if unknown:
        raise CaseFileError(f"{where}: unknown key(s) {', '.join(unknown)} (allowed: {', '.join(sorted(_KEYS))})")
    if name is not None and not isinstance(name, str):
        raise CaseFileError(f"{where}: 'name' must be text")
    inputs = entry.get("inputs") or {}
    if not isinstance(inputs, dict) or not all(isinstance(k, str) for k in inputs):
        raise CaseFileError(f"{where}: 'inputs' must be a mapping of input names to values")
    fired = _fired(entry.get("fired"), where)
    expect = entry.get("expect")
    if expect is None and fired:
        expect = {}
    if not isinstance(expect, dict) or not all(isinstance(k, str) for k in expect) or not (expect or fired):
        raise CaseFileError(f"{where}: 'expect' must be a non-empty mapping of decision names to values "
                            "(or give 'fired')")
    return Case(number, name or f"case {number}", dict(inputs), dict(expect), fired)


def _fired(value: Any, where: str) -> dict[str, list[int | str]]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
        raise CaseFileError(f"{where}: 'fired' must be a mapping of decision names to rule numbers or ids")
    fired: dict[str, list[int | str]] = {}
    for decision, rules in value.items():
        listed = rules if isinstance(rules, list) else [rules]
        for rule in listed:
            if type(rule) is not int and not isinstance(rule, str):
                raise CaseFileError(f"{where}: 'fired.{decision}': {rule!r} is neither a rule number nor a rule id")
        fired[decision] = list(listed)
    return fired


def parse_tck_cases(data: bytes | str, *, source: str | None = None) -> list[Case]:
    """The cases of a DMN TCK test file (decision cases; decision services are refused)."""
    try:
        parsed = parse_test_file(data, Path(source) if source else None)
    except DecisionsError as err:
        raise CaseFileError(str(err)) from None
    cases: list[Case] = []
    for number, case in enumerate(parsed.cases, start=1):
        where = f"{_prefix(source)}test case {number} (id {case.id})"
        if case.value_error is not None:
            raise CaseFileError(f"{where}: a value cannot be read: {case.value_error}")
        if case.kind != "decision":
            raise CaseFileError(f"{where}: type {case.kind!r} is not supported here (only decision test cases); "
                                "run it with `decisionary tck`")
        if not case.results:
            raise CaseFileError(f"{where}: the test case has no resultNode")
        cases.append(Case(number, f"id {case.id}", {node.name: node.value for node in case.inputs},
                          {node.name: node.expected for node in case.results}, compare="tck"))
    return cases


def read_cases(path: str | Path) -> list[Case]:
    """The cases of a test file: TCK XML when its name ends in .xml, YAML otherwise."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as err:
        raise CaseFileError(f"{path}: cannot read the test file: {err.strerror or err}") from None
    if path.suffix.lower() == ".xml":
        return parse_tck_cases(data, source=str(path))
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise CaseFileError(f"{path}: the test file is not UTF-8 text") from None
    return parse_cases(text, source=str(path))


def cases_file_for(model_path: str | Path) -> Path | None:
    """The test file beside a model (`<stem>.tests.yaml`, `.tests.yml` or `.tests.xml`), if any."""
    model_path = Path(model_path)
    for suffix in TEST_SUFFIXES:
        candidate = model_path.with_name(model_path.stem + suffix)
        if candidate.is_file():
            return candidate
    return None


def is_tests_file(path: str | Path) -> bool:
    return Path(path).name.lower().endswith(TEST_SUFFIXES)


def models_in(folder: str | Path) -> list[tuple[Path, Path]]:
    """(model, test file) for every model file of `folder` that has a test file beside it."""
    pairs: list[tuple[Path, Path]] = []
    for path in sorted(Path(folder).iterdir()):
        if not path.is_file() or is_tests_file(path) or path.suffix.lower() not in MODEL_SUFFIXES:
            continue
        tests = cases_file_for(path)
        if tests is not None:
            pairs.append((path, tests))
    return pairs


# --- checking cases against a model -----------------------------------------------------


@dataclass(frozen=True)
class CaseIssue:
    """A case naming what the model does not have: a decision, an input or a rule."""

    case: Case
    field: str  # e.g. "expect.Interest Rate", "inputs.Age", "fired.Risk Category"
    message: str

    def __str__(self) -> str:
        return f"{self.case.title}: {self.message}"

    def located(self, source: str | None) -> str:
        return f"{_prefix(source)}{self.case.title}: field '{self.field}': {self.message}"


def check_cases(model: Model, cases: Sequence[Case]) -> list[CaseIssue]:
    """Everything the cases name that the model does not have."""
    issues: list[CaseIssue] = []
    decisions = set(model.decision_names)
    inputs = {*model.inputs, *model.all_input_names, *model.imports, *decisions}
    table_ids = model.rule_ids
    for case in cases:
        for name in case.expect:
            if name not in decisions:
                issues.append(CaseIssue(case, f"expect.{name}", f"no decision named {name!r} in the model"))
        for name in case.inputs:
            if name not in inputs:
                issues.append(CaseIssue(case, f"inputs.{name}", f"no input named {name!r} in the model"))
        for name, rules in case.fired.items():
            ids = table_ids.get(name)
            if ids is None:
                what = "decision table decision" if name in decisions else "decision"
                issues.append(CaseIssue(case, f"fired.{name}", f"no {what} named {name!r} in the model"))
                continue
            for rule in rules:
                if isinstance(rule, int) and not 1 <= rule <= len(ids):
                    issues.append(CaseIssue(case, f"fired.{name}",
                                            f"rule {rule} does not exist; the table has rules 1 to {len(ids)}"))
                elif isinstance(rule, str) and rule not in ids:
                    issues.append(CaseIssue(case, f"fired.{name}", f"no rule with id {rule!r} in the table"))
    return issues


# --- running ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Failure:
    """One thing a case got wrong: a decision's value, its fired rules, or the evaluation itself."""

    case: Case
    decision: str | None  # None when the evaluation failed as a whole
    kind: Literal["value", "fired", "error", "problems"]
    expected: str = ""
    actual: str = ""
    detail: str = ""

    def __str__(self) -> str:
        title = self.case.title
        if self.kind == "value":
            return f"{title}: decision {self.decision!r} expected {self.expected}, got {self.actual}{self.detail}"
        if self.kind == "fired":
            return f"{title}: decision {self.decision!r} expected rules {self.expected} to fire, got {self.actual}"
        if self.kind == "problems":
            return f"{title}: problems during evaluation: {self.detail}"
        return f"{title}: evaluation failed: {self.detail}"


@dataclass
class CaseResult:
    case: Case
    failures: list[Failure] = field(default_factory=list)
    fired: dict[str, list[int]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.failures


def _rules_text(positions: Sequence[int], ids: Sequence[str]) -> str:
    if not positions:
        return "none"
    return ", ".join(f"{p} ({ids[p - 1]})" if p - 1 < len(ids) else str(p) for p in positions)


def run_case(model: Model, case: Case) -> CaseResult:
    """Evaluate one case (cases are expected to pass `check_cases`); never raises for a bad case."""
    result = CaseResult(case)
    try:
        targets = list(dict.fromkeys(model.decision_of(name) for name in case.targets))  # a scorecard's tables
        evaluation = model.evaluate(case.inputs, decisions=targets)
    except Exception as err:  # noqa: BLE001 - bad inputs are the case's failure, not a crash
        result.failures.append(Failure(case, None, "error", detail=f"{type(err).__name__}: {err}"))
        return result
    result.fired = {name: list(rules) for name, rules in evaluation.fired.items()}
    for name, expected in case.expect.items():
        actual = evaluation.outputs.get(name)
        if case.compare == "tck":
            where = first_difference(expected, actual)
            if where is not None:
                detail = f" (differs at {where})" if where else ""
                result.failures.append(Failure(case, name, "value", render(expected), render(actual), detail))
        elif feel_equal(from_python(expected), actual) is not True:
            result.failures.append(Failure(case, name, "value", repr(expected), repr(to_json(actual))))
    all_ids = model.rule_ids
    for name, rules in case.fired.items():
        ids = all_ids.get(name, [])
        wanted = sorted({rule if isinstance(rule, int) else ids.index(rule) + 1 for rule in rules})
        got = sorted(result.fired.get(name, []))
        if wanted != got:
            result.failures.append(Failure(case, name, "fired", _rules_text(wanted, ids), _rules_text(got, ids)))
    if result.failures:
        errors = [str(p) for p in evaluation.problems if p.severity == "error"]
        if errors:
            result.failures.append(Failure(case, None, "problems", detail="; ".join(errors)))
    return result


# --- coverage --------------------------------------------------------------------------


@dataclass(frozen=True)
class TableCoverage:
    decision: str
    rule_ids: list[str]
    fired: frozenset[int]  # 1-based positions some case made fire

    @property
    def total(self) -> int:
        return len(self.rule_ids)

    @property
    def covered(self) -> int:
        return len(self.fired)

    @property
    def missed(self) -> list[tuple[int, str]]:
        """(rule number, rule id) of each rule no case made fire."""
        return [(n, rule_id) for n, rule_id in enumerate(self.rule_ids, start=1) if n not in self.fired]

    @property
    def percent(self) -> float:
        return 100.0 * self.covered / self.total if self.total else 100.0


def coverage(model: Model, results: Sequence[CaseResult]) -> list[TableCoverage]:
    """Per decision table decision of the model, in evaluation order: the rules the cases fired."""
    tables: list[TableCoverage] = []
    for name, ids in model.rule_ids.items():
        fired = {p for result in results for p in result.fired.get(name, []) if 1 <= p <= len(ids)}
        tables.append(TableCoverage(name, ids, frozenset(fired)))
    return tables


def total_percent(tables: Sequence[TableCoverage]) -> float:
    """The share of all table rules that fired, in percent (100 when there are no tables)."""
    total = sum(t.total for t in tables)
    return 100.0 * sum(t.covered for t in tables) / total if total else 100.0


# --- a model's whole run ------------------------------------------------------------------


@dataclass
class ModelRun:
    """One model against one test file: a file error, or every case's result and the coverage."""

    model_path: str
    tests_path: str
    error: str | None = None  # the test file or the model could not be used
    results: list[CaseResult] = field(default_factory=list)
    tables: list[TableCoverage] = field(default_factory=list)

    @property
    def failed(self) -> list[CaseResult]:
        return [r for r in self.results if not r.ok]

    @property
    def ok(self) -> bool:
        return self.error is None and not self.failed


def run_model(model: Model, cases: Sequence[Case], *, model_path: str = "", tests_path: str = "") -> ModelRun:
    """Check the cases against the model, then run them all (none when any names what is missing)."""
    run = ModelRun(model_path, tests_path)
    issues = check_cases(model, cases)
    if issues:
        run.error = "\n".join(issue.located(tests_path or None) for issue in issues)
        return run
    run.results = [run_case(model, case) for case in cases]
    run.tables = coverage(model, run.results)
    return run


def run_model_file(model_path: str | Path, tests_path: str | Path | None = None) -> ModelRun:
    """Load a model and run its test file (default: the one beside it); never raises."""
    from decisions.loader import load

    model_path = Path(model_path)
    tests = Path(tests_path) if tests_path is not None else cases_file_for(model_path)
    if tests is None:
        names = ", ".join(model_path.stem + suffix for suffix in TEST_SUFFIXES)
        return ModelRun(str(model_path), "", error=f"{model_path}: no test file beside it (looked for {names})")
    try:
        cases = read_cases(tests)
    except CaseFileError as err:
        return ModelRun(str(model_path), str(tests), error=str(err))
    try:
        model = load(model_path)
    except DecisionsError as err:
        problems = getattr(err, "problems", None)
        reason = "; ".join(str(p) for p in problems) if problems else str(err)
        return ModelRun(str(model_path), str(tests), error=f"{model_path}: the model cannot be loaded: {reason}")
    return run_model(model, cases, model_path=str(model_path), tests_path=str(tests))



# --- JUnit XML -----------------------------------------------------------------------------


def junit_xml(runs: Sequence[ModelRun]) -> str:
    """JUnit XML for CI: a testsuite per model run, a testcase per case; a failing case has a
    <failure> listing each decision's expected and actual value, a test file that cannot be
    used one testcase with an <error>."""
    suites = ET.Element("testsuites", name="decisionary test")
    totals = [0, 0, 0]
    for run in runs:
        suite_name = f"{run.model_path} ({run.tests_path})" if run.tests_path else run.model_path
        suite = ET.SubElement(suites, "testsuite", name=suite_name)
        classname = Path(run.model_path).name
        if run.error is not None:
            testcase = ET.SubElement(suite, "testcase", classname=classname, name="test file")
            error = ET.SubElement(testcase, "error", message=run.error.splitlines()[0])
            error.text = run.error
            counts = (1, 0, 1)
        else:
            for result in run.results:
                testcase = ET.SubElement(suite, "testcase", classname=classname, name=result.case.title)
                if result.failures:
                    failure = ET.SubElement(testcase, "failure", message=str(result.failures[0]))
                    failure.text = "\n".join(_failure_lines(result.failures))
            counts = (len(run.results), len(run.failed), 0)
        suite.set("tests", str(counts[0]))
        suite.set("failures", str(counts[1]))
        suite.set("errors", str(counts[2]))
        totals = [a + b for a, b in zip(totals, counts, strict=True)]
    suites.set("tests", str(totals[0]))
    suites.set("failures", str(totals[1]))
    suites.set("errors", str(totals[2]))
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"


def _failure_lines(failures: Sequence[Failure]) -> list[str]:
    lines: list[str] = []
    for failure in failures:
        if failure.kind in ("value", "fired"):
            what = "value" if failure.kind == "value" else "fired rules"
            lines.append(f"decision {failure.decision!r} ({what}): expected {failure.expected}, "
                         f"actual {failure.actual}{failure.detail}")
        else:
            lines.append(str(failure))
    return lines


def describe_failure(failure: Failure) -> list[str]:
    """A failure as lines for a terminal: the case and decision, then expected and actual."""
    if failure.kind not in ("value", "fired"):
        return [str(failure)]
    what = "" if failure.kind == "value" else " fired rules"
    return [f"{failure.case.title}: decision {failure.decision!r}{what}{failure.detail}",
            f"    expected: {failure.expected}", f"    actual:   {failure.actual}"]

