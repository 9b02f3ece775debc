"""Hostile and malformed DMN input: every case is a ModelError with a located, readable message."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tck_files import tck_model

from decisions.dmn import read_dmn
from decisions.dmn.namespaces import DMN_NAMESPACES
from decisions.errors import ModelError, Problem
from decisions.model import reader_problems

DMN15 = DMN_NAMESPACES["1.5"]


def problems_of(data: str | bytes, file: str = "model.dmn") -> list[Problem]:
    with pytest.raises(ModelError) as caught:
        read_dmn(data, file=file)
    assert caught.value.problems
    return caught.value.problems


def logic_problems(data: str | bytes, file: str = "model.dmn") -> list[Problem]:
    """A problem inside one element's logic belongs to that element: the model is read, and
    the element's logic holds the problem (tests/decisions/test_element_errors_reader.py)."""
    problems = reader_problems(read_dmn(data, file=file))
    assert problems
    return problems


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
  <!ENTITY lol "lol">
  <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<definitions xmlns="https://www.omg.org/spec/DMN/20230324/MODEL/" name="&lol3;" namespace="urn:x"/>
"""

EXTERNAL_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE definitions [ <!ENTITY secret SYSTEM "file:///etc/passwd"> ]>
<definitions xmlns="https://www.omg.org/spec/DMN/20230324/MODEL/" name="x" namespace="urn:x">
  <description>&secret;</description>
</definitions>
"""

PLAIN_DTD = """<?xml version="1.0"?>
<!DOCTYPE definitions SYSTEM "dmn.dtd">
<definitions xmlns="https://www.omg.org/spec/DMN/20230324/MODEL/" name="x" namespace="urn:x"/>
"""


def test_billion_laughs_is_refused() -> None:
    [problem] = problems_of(BILLION_LAUGHS)
    assert "refused" in problem.message and "XML bomb" in problem.message
    assert problem.location.file == "model.dmn" and problem.location.line == 2


def test_external_entity_is_refused_without_reading_the_file() -> None:
    [problem] = problems_of(EXTERNAL_ENTITY)
    assert "external entity" in problem.message and "refused" in problem.message
    assert "root:" not in str(problem)  # nothing of /etc/passwd leaks into the message
    assert problem.location.line == 2


def test_any_dtd_is_refused() -> None:
    [problem] = problems_of(PLAIN_DTD)
    assert "DTD" in problem.message and problem.code == "xml-dtd"


def test_not_xml() -> None:
    [problem] = problems_of('{"model": "json, not xml"}')
    assert problem.message == "this is not XML: the content does not start with '<'"
    assert problem.location.file == "model.dmn" and problem.location.line == 1


def test_empty_document() -> None:
    [problem] = problems_of(b"")
    assert "empty or truncated" in problem.message


def test_truncated_tck_file_names_the_line() -> None:
    data = tck_model("0114-").read_bytes()
    cut = data[: len(data) // 2]
    [problem] = problems_of(cut, file="cut.dmn")
    assert "truncated" in problem.message and problem.message.startswith("not well-formed XML")
    assert problem.location.line == cut.count(b"\n") + 1


def test_xml_that_is_not_dmn_names_the_root() -> None:
    [problem] = problems_of('<project xmlns="http://maven.apache.org/POM/4.0.0"><name>x</name></project>')
    assert "not a DMN model" in problem.message
    assert "<project>" in problem.message and "http://maven.apache.org/POM/4.0.0" in problem.message


def test_unknown_dmn_namespace_names_the_namespace_seen() -> None:
    [problem] = problems_of('<definitions xmlns="http://www.omg.org/spec/DMN/20990101/MODEL/" name="x"/>')
    assert "unknown DMN namespace" in problem.message and "20990101" in problem.message
    assert problem.code == "dmn-namespace"


def test_definitions_without_namespace() -> None:
    [problem] = problems_of('<definitions name="x" namespace="urn:x"/>')
    assert "no namespace" in problem.message


def model(body: str) -> str:
    return f'<definitions xmlns="{DMN15}" name="m" namespace="urn:m">\n{body}\n</definitions>'


TABLE = """<decision id="d1" name="Risk">
  <decisionTable>
    <input><inputExpression><text>Age</text></inputExpression></input>
    <input><inputExpression><text>Score</text></inputExpression></input>
    <output name="risk"/>
    <rule><inputEntry><text>&gt; 60</text></inputEntry><inputEntry><text>-</text></inputEntry>
      <outputEntry><text>"High"</text></outputEntry></rule>
    <rule><inputEntry><text>-</text></inputEntry>
      <outputEntry><text>"Low"</text></outputEntry></rule>
  </decisionTable>
</decision>"""


def test_rule_cell_count_mismatch_is_located() -> None:
    [problem] = logic_problems(model(TABLE))
    assert problem.message == "rule 2 has 1 input entries but the table has 2 input columns"
    assert problem.location.element == "Risk" and problem.location.rule == 2
    assert problem.location.path == "decisionTable/rule[2]"
    assert problem.location.line == 9
    assert "model.dmn:9" in str(problem)


def test_unknown_expression_element_names_the_decision() -> None:
    [problem] = logic_problems(model('<decision id="d" name="Price"><spreadsheet/></decision>'))
    assert "<spreadsheet>" in problem.message and "decision 'Price'" in problem.message
    assert problem.location.element == "Price"


def test_unknown_element_inside_a_context_names_the_decision_and_path() -> None:
    body = ('<decision id="d" name="Price"><context><contextEntry><variable name="a"/>'
            '<magic/></contextEntry></context></decision>')
    [problem] = logic_problems(model(body))
    assert "<magic>" in problem.message
    assert problem.location.element == "Price" and problem.location.path == "context/contextEntry['a']"


def test_dangling_href() -> None:
    body = ('<decision id="d" name="Price"><informationRequirement><requiredInput href="#nowhere"/>'
            '</informationRequirement></decision>')
    [problem] = problems_of(model(body))
    assert "#nowhere" in problem.message and problem.location.element == "Price"


def test_bad_hit_policy_and_misplaced_aggregation() -> None:
    bad = TABLE.replace("<decisionTable>", '<decisionTable hitPolicy="SOMETIMES">')
    assert "unknown hit policy 'SOMETIMES'" in logic_problems(model(bad))[0].message
    misplaced = TABLE.replace("<decisionTable>", '<decisionTable hitPolicy="FIRST" aggregation="SUM">')
    assert "needs hit policy COLLECT" in logic_problems(model(misplaced))[0].message


def test_problems_of_several_elements_are_all_reported() -> None:
    body = ('<decision id="a" name="A"><informationRequirement><requiredInput href="#gone"/>'
            '</informationRequirement></decision>'
            '<decision id="b"><literalExpression><text>1</text></literalExpression></decision>'
            '<inputData id="c" name="C"/>')
    problems = problems_of(model(body))
    assert len(problems) == 2
    assert "#gone" in problems[0].message and problems[0].location.element == "A"
    assert problems[1].message == "decision with id 'b' has no name"


def test_vendor_extensions_and_diagram_elements_are_ignored() -> None:
    body = ('<extensionElements><x:anything xmlns:x="urn:vendor"/></extensionElements>'
            '<textAnnotation id="t"><text>note</text></textAnnotation>'
            '<knowledgeSource id="k" name="Policy"/>'
            '<decision id="d" name="D"><authorityRequirement><requiredAuthority href="#k"/></authorityRequirement>'
            '<literalExpression><text>1</text></literalExpression></decision>')
    defs = read_dmn(model(body))
    assert [d.name for d in defs.decisions] == ["D"]


def test_deeply_nested_expressions_are_refused_not_crashed() -> None:
    depth = 5000
    body = '<decision id="d" name="Deep">' + "<list>" * depth + "</list>" * depth + "</decision>"
    [problem] = problems_of(model(body))
    assert "nested too deeply" in problem.message and problem.location.file == "model.dmn"


DAMAGE = [b"<", b">", b'"', b"</decision>", b"<rule>", b"<text>", b"<context>", b"<inputEntry/>", b'name=""',
          b'href="#x"', b'hitPolicy="X"', b"\x00", b"&amp;", b"<list/>", b"<for/>", b"<invocation/>", b"\xff"]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 1), st.integers(0, 3), st.sampled_from(DAMAGE)), min_size=1, max_size=4))
def test_damaged_documents_give_model_errors_only(edits: list[tuple[float, int, bytes]]) -> None:
    data = bytearray(model(TABLE.replace("<rule><inputEntry><text>-</text></inputEntry>", "")).encode())
    for where, action, text in edits:
        position = int(where * (len(data) - 1))
        if action == 0:
            del data[position:position + 7]
        elif action == 1:
            data[position] = text[0]
        else:
            data[position:position] = text
    try:
        defs = read_dmn(bytes(data), file="damaged.dmn")
    except ModelError as error:
        assert all(problem.location.file == "damaged.dmn" for problem in error.problems)
    else:
        assert defs.name is not None
