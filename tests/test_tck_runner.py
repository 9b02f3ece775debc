"""The DMN TCK runner: reading test files, comparing values, reporting, and the TCK floor."""

from __future__ import annotations

import csv
import datetime as dt
import shutil
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from decisions.errors import DecisionsError
from decisions.feel.values import DayTimeDuration, YearMonthDuration, nanos, with_nanos
from decisions.tck import (
    CaseResult,
    InputNode,
    ResultNode,
    TckCase,
    TckReport,
    default_tck_root,
    discover,
    folder_label,
    parse_test_file,
    run_case,
    run_tck,
)
from decisions.tck_values import (
    TckValueError,
    first_difference,
    parse_duration,
    parse_typed_text,
    render,
    values_match,
)

TCK_ROOT = default_tck_root()

# Cases passing when last measured; raise them as the engine improves, never lower them.
LEVEL2_FLOOR = 116
LEVEL3_FLOOR = 2787
LEVEL2_TOTAL = 116

HEADER = (
    '<testCases xmlns="http://www.omg.org/spec/DMN/20160719/testcase" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
    'xmlns:xsd="http://www.w3.org/2001/XMLSchema">'
)


def make_test_file(body: str, model: str = "model.dmn") -> str:
    return f"{HEADER}<modelName>{model}</modelName>{body}</testCases>"


def one_input(value_xml: str) -> Any:
    """The parsed value of a single input node holding `value_xml`."""
    parsed = parse_test_file(make_test_file(f'<testCase id="1"><inputNode name="x">{value_xml}</inputNode></testCase>'))
    case = parsed.cases[0]
    assert case.value_error is None, case.value_error
    return case.inputs[0].value


# --- reading values ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("xsd_type", "text", "expected"),
    [
        ("xsd:decimal", "18", Decimal(18)),
        ("xsd:decimal", "-0.125", Decimal("-0.125")),
        ("xsd:double", "0.08", Decimal("0.08")),
        ("xsd:double", "1E3", Decimal(1000)),
        ("xsd:integer", " 42 ", Decimal(42)),
        ("xsd:int", "7", Decimal(7)),
        ("xsd:long", "9007199254740993", Decimal(9007199254740993)),
        ("xsd:string", "  two words ", "  two words "),
        ("xsd:boolean", "true", True),
        ("xsd:boolean", "0", False),
        ("xsd:date", "2017-08-30", dt.date(2017, 8, 30)),
        ("xsd:time", "10:20:00", dt.time(10, 20)),
        ("xsd:time", "00:00:01-01:00", dt.time(0, 0, 1, tzinfo=dt.timezone(dt.timedelta(hours=-1)))),
        ("xsd:time", "11:00:00Z", dt.time(11, tzinfo=dt.UTC)),
        ("xsd:time", "11:22:33.123456789", with_nanos(dt.time(11, 22, 33, 123456), 789)),
        ("xsd:dateTime", "2018-12-08T10:30:11", dt.datetime(2018, 12, 8, 10, 30, 11)),
        (
            "xsd:dateTime",
            "2016-12-24T23:59:00-08:00",
            dt.datetime(2016, 12, 24, 23, 59, tzinfo=dt.timezone(dt.timedelta(hours=-8))),
        ),
        ("xsd:duration", "P1Y2M", YearMonthDuration(14)),
        ("xsd:duration", "-P10Y", YearMonthDuration(-120)),
        ("xsd:duration", "P0M", YearMonthDuration(0)),
        ("xsd:duration", "P1DT2H", DayTimeDuration(Decimal(93600))),
        ("xsd:duration", "-PT1H", DayTimeDuration(Decimal(-3600))),
        ("xsd:duration", "PT0.5S", DayTimeDuration(Decimal("0.5"))),
        ("xsd:duration", "P0D", DayTimeDuration(Decimal(0))),
    ],
)
def test_typed_values(xsd_type: str, text: str, expected: Any) -> None:
    value = one_input(f'<value xsi:type="{xsd_type}">{text}</value>')
    assert type(value) is type(expected)
    assert value == expected
    if isinstance(value, (dt.time, dt.datetime)):
        assert value.utcoffset() == expected.utcoffset()
        assert nanos(value) == nanos(expected)


def test_value_without_type_is_a_string() -> None:
    assert one_input("<value>plain text</value>") == "plain text"


def test_nil_values() -> None:
    assert one_input('<value xsi:nil="true"/>') is None
    assert one_input("") is None  # an empty inputNode gives nothing: null


def test_list_of_items_with_nil_and_nested_list() -> None:
    value = one_input(
        "<list>"
        '<item><value xsi:type="xsd:decimal">1</value></item>'
        '<item><value xsi:nil="true"/></item>'
        '<item><list><item><value xsi:type="xsd:string">a</value></item></list></item>'
        "</list>"
    )
    assert value == [Decimal(1), None, ["a"]]


def test_empty_list() -> None:
    assert one_input("<list/>") == []


def test_components_make_nested_contexts() -> None:
    value = one_input(
        '<component name="name"><value xsi:type="xsd:string">Ann</value></component>'
        '<component name="age"><value xsi:type="xsd:decimal">30</value></component>'
        '<component name="address">'
        '<component name="city"><value xsi:type="xsd:string">Paris</value></component>'
        '<component name="zip"><value xsi:nil="true"/></component>'
        "</component>"
        '<component name="tags"><list><item><value xsi:type="xsd:string">x</value></item></list></component>'
    )
    assert value == {
        "name": "Ann",
        "age": Decimal(30),
        "address": {"city": "Paris", "zip": None},
        "tags": ["x"],
    }
    assert list(value) == ["name", "age", "address", "tags"]  # document order kept


def test_prefixed_testcase_namespace_is_read() -> None:
    text = (
        '<tc:testCases xmlns:tc="http://www.omg.org/spec/DMN/20160719/testcase" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        "<tc:modelName>m.dmn</tc:modelName>"
        '<tc:testCase id="a"><tc:inputNode name="n"><tc:value xsi:type="xsd:double">5</tc:value>'
        '</tc:inputNode><tc:resultNode name="r"><tc:expected><tc:value xsi:type="xsd:string">ok</tc:value>'
        "</tc:expected></tc:resultNode></tc:testCase></tc:testCases>"
    )
    parsed = parse_test_file(text)
    assert parsed.model_name == "m.dmn"
    assert parsed.cases[0].inputs == (InputNode("n", Decimal(5)),)
    assert parsed.cases[0].results == (ResultNode("r", "ok"),)


@pytest.mark.parametrize(
    ("xsd_type", "text", "fragment"),
    [
        ("xsd:double", "NaN", "not representable"),
        ("xsd:double", "INF", "not representable"),
        ("xsd:decimal", "1e999999999", "not a number"),
        ("xsd:decimal", "12abc", "not a number"),
        ("xsd:duration", "P1Y2D", "mixes years/months"),
        ("xsd:duration", "P", "not an xsd:duration"),
        ("xsd:boolean", "yes", "not a boolean"),
        ("xsd:date", "2017-02-30", "not a valid date"),
        ("xsd:time", "25:00:00", "not a valid time"),
        ("xsd:hexBinary", "00", "unsupported xsi:type"),
    ],
)
def test_unreadable_values_make_the_case_an_error(xsd_type: str, text: str, fragment: str) -> None:
    with pytest.raises(TckValueError, match=fragment):
        parse_typed_text(xsd_type.split(":")[1], text)
    body = f'<testCase id="7"><inputNode name="x"><value xsi:type="{xsd_type}">{text}</value></inputNode></testCase>'
    case = parse_test_file(make_test_file(body)).cases[0]
    assert case.value_error is not None and fragment in case.value_error
    status, message = run_case(object(), case)  # type: ignore[arg-type]  # never reaches the model
    assert status == "ERROR"
    assert fragment in message


def test_case_attributes() -> None:
    body = (
        '<testCase invocableName="Service A" type="decisionService">'
        "<description>calls a service</description>"
        '<inputNode name="p" namespace="urn:other"><value xsi:type="xsd:string">v</value></inputNode>'
        '<resultNode name="out" errorResult="true"><expected><value xsi:nil="true"/></expected></resultNode>'
        "</testCase>"
        '<testCase id="second"><inputNode name="q"><value xsi:type="xsd:boolean">true</value></inputNode>'
        '<resultNode name="d" type="decision"/></testCase>'
    )
    first, second = parse_test_file(make_test_file(body)).cases
    assert first.id == "1"  # no id: the 1-based index
    assert first.kind == "decisionService"
    assert first.invocable_name == "Service A"
    assert first.description == "calls a service"
    assert first.inputs == (InputNode("p", "v", "urn:other"),)
    assert first.results == (ResultNode("out", None, error_result=True),)
    assert second.id == "second" and second.kind == "decision"
    assert second.results == (ResultNode("d", None),)  # no <expected>: null expected


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("<testCases", "not well-formed"),
        ('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><testCases/>', "refused"),
        ("<definitions/>", "not <testCases>"),
    ],
)
def test_unreadable_test_files_raise_a_typed_error(text: str, fragment: str) -> None:
    with pytest.raises(DecisionsError, match=fragment):
        parse_test_file(text, Path("bad-test-01.xml"))


# --- comparing values ------------------------------------------------------------------------------


def dtd(seconds: int | str) -> DayTimeDuration:
    return DayTimeDuration(Decimal(seconds))


PLUS_ONE = dt.timezone(dt.timedelta(hours=1))


@pytest.mark.parametrize(
    ("expected", "actual"),
    [
        (None, None),
        (Decimal("1.0"), Decimal(1)),
        (Decimal(1), 1),
        (Decimal("0.08"), 0.08),
        (Decimal("2.0816659994661"), Decimal("2.081665999466132735282297706979931")),
        (Decimal("7.66666666666667"), Decimal("7.666666666666666666666666666666667")),
        (Decimal("2878.6935494327668"), Decimal("2878.693549432766776")),
        (Decimal("1E+20"), Decimal("100000000000000000001")),
        ("Approved", "Approved"),
        (True, True),
        ([Decimal(1), "a", None], [Decimal("1.00"), "a", None]),
        ([], []),
        ({"a": Decimal(1), "b": [True]}, {"b": [True], "a": Decimal(1)}),
        (dt.date(2017, 1, 1), dt.date(2017, 1, 1)),
        (dt.time(10, 20, tzinfo=PLUS_ONE), dt.time(9, 20, tzinfo=dt.UTC)),
        (dt.time(10, 20), dt.time(10, 20)),
        (dt.datetime(2018, 7, 29, 15, 13, tzinfo=dt.UTC), dt.datetime(2018, 7, 29, 15, 13, tzinfo=dt.UTC)),
        (
            dt.datetime(2020, 1, 1, 10, tzinfo=PLUS_ONE),
            dt.datetime(2020, 1, 1, 10, tzinfo=ZoneInfo("Europe/Paris")),
        ),
        (dtd(86400), dtd("86400.000")),
        (YearMonthDuration(14), YearMonthDuration(14)),
    ],
)
def test_values_that_match(expected: Any, actual: Any) -> None:
    assert values_match(expected, actual)
    assert first_difference(expected, actual) is None


@pytest.mark.parametrize(
    ("expected", "actual", "where"),
    [
        (None, Decimal(0), ""),
        (Decimal(0), None, ""),
        (Decimal(1), Decimal(2), ""),
        (Decimal(1), Decimal("1.0000001"), ""),
        (Decimal("0.000000001"), Decimal("0.00000003"), ""),
        (Decimal("1E+20"), Decimal("1.0001E+20"), ""),
        (Decimal(1), True, ""),
        (True, Decimal(1), ""),
        (False, None, ""),
        ("a", "A", ""),
        ("1", Decimal(1), ""),
        ([Decimal(1), Decimal(2)], [Decimal(2), Decimal(1)], "[1]"),
        ([Decimal(1)], [Decimal(1), Decimal(1)], ""),
        ([Decimal(1)], Decimal(1), ""),  # no singleton-list coercion when comparing results
        ({"a": Decimal(1)}, {"a": Decimal(1), "b": None}, ""),
        ({"a": {"b": [Decimal(1), "x"]}}, {"a": {"b": [Decimal(1), "y"]}}, "a.b[2]"),
        (dt.date(2017, 1, 1), dt.datetime(2017, 1, 1), ""),
        (dt.datetime(2017, 1, 1), dt.date(2017, 1, 1), ""),
        (dt.time(10, 20), dt.time(10, 20, tzinfo=dt.UTC), ""),
        (dt.time(10, 20, tzinfo=PLUS_ONE), dt.time(10, 20, tzinfo=dt.UTC), ""),
        (dt.datetime(2020, 1, 1, 10), dt.datetime(2020, 1, 1, 10, tzinfo=dt.UTC), ""),
        (dtd(1), dtd(2), ""),
        (YearMonthDuration(0), dtd(0), ""),
        (YearMonthDuration(12), YearMonthDuration(13), ""),
    ],
)
def test_values_that_differ(expected: Any, actual: Any, where: str) -> None:
    assert not values_match(expected, actual)
    assert first_difference(expected, actual) == where


def test_render_is_feel_like_and_short() -> None:
    assert render(None) == "null"
    assert render(Decimal("1.50")) == "1.5"
    assert render(Decimal("1E+2")) == "100"
    assert render('say "hi"') == '"say \\"hi\\""'
    assert render([True, {"a": dt.date(2017, 1, 2)}]) == '[true, {a: date("2017-01-02")}]'
    assert render(dt.time(9, 5, tzinfo=dt.UTC)) == 'time("09:05:00Z")'
    assert render(with_nanos(dt.time(9, 5), 1)) == 'time("09:05:00.000000001")'
    assert render(dt.datetime(2020, 1, 1, 10, tzinfo=ZoneInfo("Europe/Paris"))) \
        == 'date and time("2020-01-01T10:00:00@Europe/Paris")'
    assert render(dtd(90)) == 'duration("PT1M30S")'
    assert len(render(["x" * 50] * 20)) == 200


def test_duration_parser_matches_feel_durations() -> None:
    assert parse_duration("P1DT49M50S") == DayTimeDuration.of(days=1, minutes=49, seconds=50)
    assert parse_duration("-P13DT2H14.25S") == DayTimeDuration(-DayTimeDuration.of(13, 2, 0, Decimal("14.25")).seconds)
    assert parse_duration("P2Y4M") == YearMonthDuration(28)


# --- running cases against a stand-in model -------------------------------------------------------


class StubModel:
    """Answers evaluations from a fixed mapping, recording what it was asked."""

    def __init__(self, outputs: dict[str, Any], problems: list[str] | None = None, fail: bool = False) -> None:
        self.outputs = outputs
        self.problems = problems or []
        self.fail = fail
        self.calls: list[tuple[str, Any, Any]] = []
        self.all_input_names = ["Own input", "B.modelA.Person name", "B2.modelA.Person name"]
        self.definitions = SimpleNamespace(namespace="urn:main")

    def evaluate(self, inputs: dict[str, Any], *, decisions: list[str] | None = None) -> Any:
        self.calls.append(("evaluate", inputs, decisions))
        if self.fail:
            raise ValueError("boom\nsecond line")
        return SimpleNamespace(outputs=self.outputs, problems=self.problems)

    def invoke_service(self, name: str, inputs: dict[str, Any]) -> Any:
        self.calls.append(("service", inputs, name))
        return SimpleNamespace(outputs=self.outputs, problems=self.problems)


def case(*results: ResultNode, inputs: tuple[InputNode, ...] = (), kind: str = "decision") -> TckCase:
    return TckCase("001", inputs, results, kind, "Svc" if kind == "decisionService" else None)


def test_run_case_success_passes_inputs_and_result_names() -> None:
    model = StubModel({"D": Decimal("1.0"), "E": "x"})
    inputs = (InputNode("Own input", Decimal(3)),)
    status, message = run_case(model, case(ResultNode("D", Decimal(1)), ResultNode("E", "x"), inputs=inputs))  # type: ignore[arg-type]
    assert (status, message) == ("SUCCESS", "")
    assert model.calls == [("evaluate", {"Own input": Decimal(3)}, ["D", "E"])]


def test_run_case_failure_message_names_decision_and_values() -> None:
    model = StubModel({"Decision X": Decimal(2), "Other": None}, problems=["error: division by zero"])
    status, message = run_case(  # type: ignore[arg-type]
        model, case(ResultNode("Decision X", Decimal(1)), ResultNode("Other", "a"), ResultNode("Gone", None))
    )
    assert status == "FAILURE"
    assert message == (
        "'Decision X': expected 1, got 2; "
        "'Other': expected \"a\", got null [error: division by zero]; "
        "'Gone': expected null, got no result"
    )


def test_run_case_error_is_the_exceptions_first_line() -> None:
    status, message = run_case(StubModel({}, fail=True), case(ResultNode("D", None)))  # type: ignore[arg-type]
    assert status == "ERROR"
    assert message == "ValueError: boom"


def test_error_result_compares_the_value_only() -> None:
    model = StubModel({"D": None})
    status, _ = run_case(model, case(ResultNode("D", None, error_result=True)))  # type: ignore[arg-type]
    assert status == "SUCCESS"
    model = StubModel({"D": Decimal(0)})
    status, _ = run_case(model, case(ResultNode("D", None, error_result=True)))  # type: ignore[arg-type]
    assert status == "FAILURE"


def test_decision_service_case_invokes_the_service() -> None:
    model = StubModel({"out": "v"})
    status, _ = run_case(model, case(ResultNode("out", "v"), kind="decisionService"))  # type: ignore[arg-type]
    assert status == "SUCCESS"
    assert model.calls == [("service", {}, "Svc")]


@pytest.mark.parametrize(
    ("answer", "results", "status"),
    [
        ({"Svc": "v"}, (ResultNode("Out", "v"),), "SUCCESS"),  # single output: the value itself
        ({"Svc": {"a": "v"}}, (ResultNode("Out", {"a": "v"}),), "SUCCESS"),  # a context-valued output
        ({"Svc": {"A": "1", "B": "2"}}, (ResultNode("A", "1"), ResultNode("B", "2")), "SUCCESS"),
        ({"Svc": {"A": "1", "B": "2"}}, (ResultNode("A", "1"), ResultNode("B", "3")), "FAILURE"),
        ({"A": "1"}, (ResultNode("A", "1"),), "SUCCESS"),  # answered by decision name
        ({"Svc": "v"}, (ResultNode("Out", "w"),), "FAILURE"),
    ],
)
def test_decision_service_answers_are_read_by_output_decision(
    answer: dict[str, Any], results: tuple[ResultNode, ...], status: str
) -> None:
    model = StubModel(answer)
    assert run_case(model, case(*results, kind="decisionService"))[0] == status  # type: ignore[arg-type]


def test_inputs_of_imported_models_go_to_their_qualified_names() -> None:
    model = StubModel({"D": None})
    inputs = (InputNode("Person name", "John", "urn:imported"), InputNode("Own input", "x", "urn:main"))
    run_case(model, case(ResultNode("D", None), inputs=inputs))  # type: ignore[arg-type]
    assert model.calls[0][1] == {
        "B.modelA.Person name": "John",
        "B2.modelA.Person name": "John",
        "Own input": "x",
    }


# --- reports ------------------------------------------------------------------------------------------


def sample_report() -> TckReport:
    return TckReport(
        [
            CaseResult("compliance-level-2/0001-a", "0001-a-test-01", "001", "SUCCESS"),
            CaseResult("compliance-level-2/0001-a", "0001-a-test-01", "002", "FAILURE", 'expected "x",\ngot 1'),
            CaseResult("compliance-level-3/0050-b", "0050-b-test-01", "1", "ERROR", "boom"),
            CaseResult("mine/0001-c", "0001-c-test-01", "a", "SUCCESS"),
        ]
    )


def test_report_counts_and_levels() -> None:
    report = sample_report()
    assert (report.passed, report.failed, report.errors) == (2, 2, 1)
    assert report.summary_line() == "2 passed, 2 failed"
    levels = report.levels
    assert list(levels) == ["compliance-level-2", "compliance-level-3", "other"]
    assert (levels["compliance-level-2"].passed, levels["compliance-level-2"].failed) == (1, 1)
    assert levels["compliance-level-3"].total == 1 and levels["other"].passed == 1
    assert [r.case_id for r in report.failures] == ["002", "1"]


def test_csv_format(tmp_path: Path) -> None:
    path = tmp_path / "results.csv"
    sample_report().write_csv(path)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0] == '"compliance-level-2/0001-a","0001-a-test-01","001","SUCCESS",""'
    assert lines[1] == '"compliance-level-2/0001-a","0001-a-test-01","002","FAILURE","expected ""x"", got 1"'
    assert len(lines) == 4
    with open(path, newline="", encoding="utf-8") as stream:
        rows = list(csv.reader(stream))
    assert rows[2] == ["compliance-level-3/0050-b", "0050-b-test-01", "1", "ERROR", "boom"]


def test_folder_labels() -> None:
    root = Path("/x/dmn-tck")
    assert folder_label(root / "compliance-level-2" / "0004-t", root) == "compliance-level-2/0004-t"
    level = root / "compliance-level-3"
    assert folder_label(level / "0050-t", level) == "compliance-level-3/0050-t"
    assert folder_label(Path("/tmp/run/0004-t"), Path("/tmp/run")) == "0004-t"
    assert folder_label(Path("/tmp/run/0004-t"), Path("/tmp/run/0004-t")) == "0004-t"


def test_discover_and_missing_root(tmp_path: Path) -> None:
    folder = tmp_path / "suite" / "0001-x"
    folder.mkdir(parents=True)
    (folder / "0001-x-test-01.xml").write_text(make_test_file(""), encoding="utf-8")
    (folder / "0001-x.dmn").write_text("<definitions/>", encoding="utf-8")
    found = discover([tmp_path / "suite"])
    assert [(f.label, [p.name for p in f.test_files]) for f in found] == [("0001-x", ["0001-x-test-01.xml"])]
    assert discover([tmp_path / "suite"], only="nothing-like-this") == []
    with pytest.raises(DecisionsError, match="not found"):
        discover([tmp_path / "absent"])


def test_unloadable_model_marks_all_its_cases_error(tmp_path: Path) -> None:
    folder = tmp_path / "0001-broken"
    folder.mkdir()
    (folder / "0001-broken.dmn").write_text("<definitions", encoding="utf-8")
    body = '<testCase id="1"><resultNode name="d"/></testCase><testCase id="2"><resultNode name="d"/></testCase>'
    (folder / "0001-broken-test-01.xml").write_text(make_test_file(body, "0001-broken.dmn"), encoding="utf-8")
    (folder / "0001-broken-test-02.xml").write_text("<testCases", encoding="utf-8")
    report = run_tck([tmp_path])
    assert [(r.test_file, r.case_id, r.status) for r in report.results] == [
        ("0001-broken-test-01", "1", "ERROR"),
        ("0001-broken-test-01", "2", "ERROR"),
        ("0001-broken-test-02", "-", "ERROR"),
    ]
    assert all(r.message for r in report.results)
    assert "0001-broken.dmn" in report.results[0].message


def test_a_copied_tck_folder_runs(tmp_path: Path) -> None:
    shutil.copytree(TCK_ROOT / "compliance-level-2" / "0004-simpletable-U", tmp_path / "0004-simpletable-U")
    report = run_tck([tmp_path])
    assert [(r.folder, r.case_id, r.status) for r in report.results] == [
        ("0004-simpletable-U", "001", "SUCCESS"),
        ("0004-simpletable-U", "002", "SUCCESS"),
        ("0004-simpletable-U", "003", "SUCCESS"),
    ]


# --- the TCK floor ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tck_report() -> TckReport:
    return run_tck([TCK_ROOT])


def test_tck_level2_floor(tck_report: TckReport) -> None:
    level = tck_report.levels["compliance-level-2"]
    assert level.total == LEVEL2_TOTAL
    assert level.passed >= LEVEL2_FLOOR, [str(r) for r in tck_report.failures if r.level == "compliance-level-2"][:20]
    assert level.passed == LEVEL2_TOTAL


def test_tck_level3_floor(tck_report: TckReport) -> None:
    level = tck_report.levels["compliance-level-3"]
    assert level.total == 2787
    assert level.passed >= LEVEL3_FLOOR


def test_tck_runs_fast(tck_report: TckReport) -> None:
    assert tck_report.elapsed < 60


def test_dates_before_year_1_are_read_as_feel_dates() -> None:
    value = parse_typed_text("date", "-2017-01-01")
    assert value.year == -2017 and (value.month, value.day) == (1, 1)
