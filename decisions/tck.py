"""The DMN TCK runner: reads TCK test folders, evaluates every case, reports as the TCK does.

A TCK folder holds one or more models (*.dmn) and test files (*-test-*.xml). Each test file
names its model; each test case gives input values and the expected value of one or more
decisions (or of a decision service's output decisions). A case is SUCCESS when every
expected value matches (see `decisions.tck_values` for how values are compared), FAILURE
when one does not, ERROR when the model cannot be loaded, a value cannot be read, or the
evaluation raised. One case failing never stops the run.

Expected results marked `errorResult="true"` are checked by their value (null) only: the
TCK leaves checking that an error was reported optional, as engines differ in where they
report it.
"""

from __future__ import annotations

import csv
import os
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from defusedxml import ElementTree as SafeET

import decisions
from decisions.errors import DecisionsError
from decisions.tck_values import (
    TckValueError,
    first_difference,
    local_name,
    parse_value_type,
    render,
)

Status = Literal["SUCCESS", "FAILURE", "ERROR"]

TESTCASE_NS = "http://www.omg.org/spec/DMN/20160719/testcase"
TEST_FILE_GLOB = "*-test-*.xml"
LEVEL_PREFIX = "compliance-level-"
OTHER_LEVEL = "other"


# --- parsed test files ------------------------------------------------------------------


@dataclass(frozen=True)
class InputNode:
    name: str
    value: Any
    namespace: str | None = None  # set when the input belongs to an imported model


@dataclass(frozen=True)
class ResultNode:
    name: str
    expected: Any
    error_result: bool = False


@dataclass(frozen=True)
class TckCase:
    id: str
    inputs: tuple[InputNode, ...]
    results: tuple[ResultNode, ...]
    kind: str = "decision"  # or "decisionService"
    invocable_name: str | None = None
    description: str | None = None
    value_error: str | None = None  # a value of this case could not be read


@dataclass(frozen=True)
class TckFile:
    path: Path
    model_name: str | None
    cases: tuple[TckCase, ...]
    labels: tuple[str, ...] = ()


def _child(element: Any, name: str) -> Any:
    for child in element:
        if local_name(child.tag) == name:
            return child
    return None


def _children(element: Any, name: str) -> Iterator[Any]:
    return (child for child in element if local_name(child.tag) == name)


def _text(element: Any) -> str | None:
    if element is None or element.text is None:
        return None
    return str(element.text).strip()


def parse_test_file(data: bytes | str, path: Path | None = None) -> TckFile:
    """Reads a TCK test file. Raises `DecisionsError` when it is not a readable test file."""
    try:
        root = SafeET.fromstring(data)
    except SafeET.ParseError as exc:
        raise DecisionsError(f"{path or 'test file'}: not well-formed XML: {exc}") from exc
    except Exception as exc:  # defusedxml refusals (DTDs, entities) are distinct exception types
        raise DecisionsError(f"{path or 'test file'}: refused: {exc}") from exc
    if local_name(root.tag) != "testCases":
        raise DecisionsError(f"{path or 'test file'}: root element is <{local_name(root.tag)}>, not <testCases>")
    labels_element = _child(root, "labels")
    labels = tuple(
        text for text in (_text(label) for label in _children(labels_element, "label")) if text
    ) if labels_element is not None else ()
    cases = tuple(
        _parse_case(element, index) for index, element in enumerate(_children(root, "testCase"), start=1)
    )
    return TckFile(path or Path("test.xml"), _text(_child(root, "modelName")) or None, cases, labels)


def _parse_case(element: Any, index: int) -> TckCase:
    case_id = element.get("id") or str(index)
    kind = element.get("type") or "decision"
    invocable = element.get("invocableName")
    description = _text(_child(element, "description"))
    inputs: list[InputNode] = []
    results: list[ResultNode] = []
    try:
        for node in _children(element, "inputNode"):
            inputs.append(InputNode(node.get("name", ""), parse_value_type(node), node.get("namespace")))
        for node in _children(element, "resultNode"):
            expected_element = _child(node, "expected")
            expected = parse_value_type(expected_element) if expected_element is not None else None
            error_result = node.get("errorResult", "").strip().lower() == "true"
            results.append(ResultNode(node.get("name", ""), expected, error_result))
    except TckValueError as exc:
        return TckCase(case_id, (), (), kind, invocable, description, value_error=str(exc))
    return TckCase(case_id, tuple(inputs), tuple(results), kind, invocable, description)


# --- results ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseResult:
    folder: str  # relative to the TCK root, e.g. "compliance-level-2/0004-simpletable-U"
    test_file: str  # file name without ".xml"
    case_id: str
    status: Status
    message: str = ""

    @property
    def level(self) -> str:
        first = self.folder.split("/", 1)[0]
        return first if first.startswith(LEVEL_PREFIX) else OTHER_LEVEL

    def csv_row(self) -> list[str]:
        message = " ".join(self.message.split())  # one line per case in the CSV
        return [self.folder, self.test_file, self.case_id, self.status, message]


@dataclass(frozen=True)
class LevelSummary:
    passed: int
    failed: int

    @property
    def total(self) -> int:
        return self.passed + self.failed


@dataclass
class TckReport:
    results: list[CaseResult] = field(default_factory=list)
    elapsed: float = 0.0  # seconds

    @property
    def passed(self) -> int:
        return sum(1 for result in self.results if result.status == "SUCCESS")

    @property
    def failed(self) -> int:
        """FAILURE and ERROR cases."""
        return len(self.results) - self.passed

    @property
    def errors(self) -> int:
        return sum(1 for result in self.results if result.status == "ERROR")

    @property
    def failures(self) -> list[CaseResult]:
        return [result for result in self.results if result.status != "SUCCESS"]

    @property
    def levels(self) -> dict[str, LevelSummary]:
        """Passed/failed counts per compliance level (folders outside a level count as "other")."""
        counts: dict[str, list[int]] = {}
        for result in self.results:
            bucket = counts.setdefault(result.level, [0, 0])
            bucket[0 if result.status == "SUCCESS" else 1] += 1
        return {level: LevelSummary(p, f) for level, (p, f) in sorted(counts.items())}

    def summary_line(self) -> str:
        return f"{self.passed} passed, {self.failed} failed"

    def write_csv(self, path: str | Path) -> None:
        with open(path, "w", newline="", encoding="utf-8") as stream:
            writer = csv.writer(stream, quoting=csv.QUOTE_ALL, lineterminator="\n")
            writer.writerows(result.csv_row() for result in self.results)


# --- discovery -----------------------------------------------------------------------------


def project_root() -> Path:
    """The folder holding pyproject.toml above this package, else the current directory."""
    for folder in Path(__file__).resolve().parents:
        if (folder / "pyproject.toml").is_file():
            return folder
    return Path.cwd()


def default_tck_root() -> Path:
    return (project_root() / ".." / "shared" / "dmn-tck").resolve()


@dataclass(frozen=True)
class TckFolder:
    path: Path
    label: str  # relative to the TCK root, '/'-separated
    test_files: tuple[Path, ...]


def folder_label(folder: Path, root: Path) -> str:
    """Names a test folder as the TCK results do: from its compliance-level folder down.

    Outside a compliance-level folder the name is relative to the root the run started
    from (the folder's own name when it is that root).
    """
    for ancestor in [folder, *folder.parents]:
        if ancestor.name.startswith(LEVEL_PREFIX):
            return folder.relative_to(ancestor.parent).as_posix()
    if folder == root:
        return folder.name
    return folder.relative_to(root).as_posix()


def discover(roots: Sequence[Path] | None = None, *, only: str | None = None) -> list[TckFolder]:
    """Test folders under the roots (each root may itself be a test folder), sorted by label."""
    found: dict[Path, TckFolder] = {}
    for root in roots or [default_tck_root()]:
        root = Path(root).resolve()
        if not root.is_dir():
            raise DecisionsError(f"TCK folder not found: {root}")
        by_folder: dict[Path, list[Path]] = {}
        for test_file in sorted(root.rglob(TEST_FILE_GLOB)):
            if test_file.is_file():
                by_folder.setdefault(test_file.parent, []).append(test_file)
        for folder, files in by_folder.items():
            label = folder_label(folder, root)
            if only is not None:
                files = [f for f in files if only in f"{label}/{f.stem}"]
            if files and folder not in found:
                found[folder] = TckFolder(folder, label, tuple(files))
    return sorted(found.values(), key=lambda folder: folder.label)


# --- running -------------------------------------------------------------------------------


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    text = lines[0] if lines else ""
    if isinstance(exc, DecisionsError):
        return text or type(exc).__name__
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class _FolderModels:
    """Loads each model of one folder at most once per run."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._models: dict[str, decisions.Model | BaseException] = {}

    def get(self, model_name: str | None) -> decisions.Model:
        if model_name is None:
            candidates = sorted(self.folder.glob("*.dmn"))
            if len(candidates) != 1:
                raise DecisionsError("the test file names no <modelName> and the folder has several models")
            model_name = candidates[0].name
        if model_name not in self._models:
            path = self.folder / model_name
            try:
                if not path.is_file():
                    raise DecisionsError(f"model file not found: {model_name}")
                self._models[model_name] = decisions.load(path)
            except Exception as exc:
                self._models[model_name] = exc
        loaded = self._models[model_name]
        if isinstance(loaded, BaseException):
            raise loaded
        return loaded


def _input_values(model: decisions.Model, case: TckCase) -> dict[str, Any]:
    """The evaluation inputs of a case, keyed by the names the model knows them by.

    An input node with a namespace other than the model's belongs to an imported model; the
    model sees it qualified by import names (e.g. "Model B.modelA.Person name"), so it goes
    to every known input whose qualified name ends with the node's name.
    """
    inputs: dict[str, Any] = {}
    own_namespace = model.definitions.namespace
    for node in case.inputs:
        if node.namespace and node.namespace != own_namespace:
            suffix = "." + node.name
            qualified = [name for name in model.all_input_names if name.endswith(suffix)]
            for name in qualified or [node.name]:
                inputs[name] = node.value
        else:
            inputs[node.name] = node.value
    return inputs


_MISSING = object()


def _compare(case: TckCase, outputs: Mapping[str, Any], problems: Sequence[Any]) -> str | None:
    """A failure message for the case's result nodes, or None when all match."""
    messages: list[str] = []
    for node in case.results:
        actual = outputs.get(node.name, _MISSING)
        if actual is _MISSING:
            messages.append(f"'{node.name}': expected {render(node.expected)}, got no result")
            continue
        where = first_difference(node.expected, actual)
        if where is None:
            continue
        message = f"'{node.name}': expected {render(node.expected)}, got {render(actual)}"
        if where:
            message += f" (differs at {where})"
        if actual is None and problems:
            message += f" [{problems[0]}]"
        messages.append(message)
    return "; ".join(messages) if messages else None


def _service_outputs(case: TckCase, outputs: Mapping[str, Any]) -> Mapping[str, Any]:
    """The output decisions' values of a decision service call, by decision name.

    A service answers under its own name: with its single output decision's value, or with a
    context of its output decisions' values. The TCK's result nodes name output decisions.
    """
    names = [node.name for node in case.results]
    service = case.invocable_name or ""
    if service not in outputs or any(name in outputs for name in names):
        return outputs
    value = outputs[service]
    if isinstance(value, Mapping) and all(name in value for name in names):
        return value
    if len(names) == 1:
        return {names[0]: value}
    return outputs


def run_case(model: decisions.Model, case: TckCase) -> tuple[Status, str]:
    if case.value_error is not None:
        return "ERROR", f"cannot read a value of the test case: {case.value_error}"
    try:
        inputs = _input_values(model, case)
        if case.kind == "decisionService":
            result = model.invoke_service(case.invocable_name or "", inputs)
            outputs = _service_outputs(case, result.outputs)
        else:
            result = model.evaluate(inputs, decisions=[node.name for node in case.results])
            outputs = result.outputs
        message = _compare(case, outputs, result.problems)
    except Exception as exc:  # one case going wrong never stops the run
        return "ERROR", _first_line(exc)
    return ("FAILURE", message) if message is not None else ("SUCCESS", "")


def run_folder(folder: TckFolder) -> Iterable[CaseResult]:
    models = _FolderModels(folder.path)
    for test_path in folder.test_files:
        stem = test_path.stem
        try:
            test_file = parse_test_file(test_path.read_bytes(), test_path)
        except (OSError, DecisionsError) as exc:
            yield CaseResult(folder.label, stem, "-", "ERROR", f"cannot read test file: {_first_line(exc)}")
            continue
        try:
            model: decisions.Model | None = models.get(test_file.model_name)
            load_error = ""
        except Exception as exc:
            # Paths inside the folder are shown relative to it, so results read the same anywhere.
            reason = _first_line(exc).replace(f"{folder.path}{os.sep}", "")
            model, load_error = None, f"model {test_file.model_name} not loaded: {reason}"
        for case in test_file.cases:
            if model is None:
                yield CaseResult(folder.label, stem, case.id, "ERROR", load_error)
                continue
            status, message = run_case(model, case)
            yield CaseResult(folder.label, stem, case.id, status, message)


def run_tck(roots: Sequence[Path] | None = None, *, only: str | None = None) -> TckReport:
    """Runs every test case under the roots (default: the TCK next to the project)."""
    started = time.perf_counter()
    report = TckReport()
    for folder in discover(roots, only=only):
        report.results.extend(run_folder(folder))
    report.elapsed = time.perf_counter() - started
    return report
