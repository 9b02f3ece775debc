"""Content hashes: same model -> same hash; a changed model -> another hash."""

from __future__ import annotations

import hashlib
import re

import pytest
from registry_samples import AUTHOR, KEY, loan_dmn
from sqlalchemy.engine import Engine

from decisions import load
from decisions.yaml_format import canonical_yaml
from registry import create_draft, unit_of_work
from registry.content import content_hash, detect_format, normalised_text


def _yaml_of(dmn: str) -> str:
    """The model's canonical YAML form (itself a YAML model)."""
    return canonical_yaml(load(dmn.encode(), format="dmn").definitions)


def _reformatted(dmn: str) -> str:
    """The same DMN with other indentation, blank lines and attribute layout."""
    declaration, *lines = dmn.splitlines()
    body = "\n\n".join("\t" + line.strip() for line in lines if line.strip())
    return declaration + "\n" + body.replace(' id="loan" name="Loan Approval"', '\n  name="Loan Approval"   id="loan"')


def test_the_hash_is_the_sha256_of_the_model_in_canonical_yaml() -> None:
    digest, method = content_hash(loan_dmn().encode(), "dmn")
    assert method == "model-yaml"
    assert digest == hashlib.sha256(_yaml_of(loan_dmn()).encode()).hexdigest()


def test_same_content_same_hash_and_any_change_another() -> None:
    first = content_hash(loan_dmn().encode(), "dmn")
    assert content_hash(loan_dmn().encode(), "dmn") == first
    assert content_hash(loan_dmn(limit="1000").encode(), "dmn")[0] != first[0]
    rules = [("< 25", "-", '"High"'), ("-", "< 650", '"High"')]
    assert content_hash(loan_dmn(rules).encode(), "dmn")[0] != first[0]


def test_whitespace_only_edits_keep_the_hash() -> None:
    dmn = loan_dmn()
    assert _reformatted(dmn) != dmn
    assert content_hash(_reformatted(dmn).encode(), "dmn") == content_hash(dmn.encode(), "dmn")
    text = _yaml_of(dmn)
    spaced = "# reviewed by bob\n" + re.sub(r"\n", "\n\n", text) + "\n\n"
    assert content_hash(spaced.encode(), "yaml") == content_hash(text.encode(), "yaml")


def test_the_same_model_as_dmn_or_as_yaml_has_one_hash() -> None:
    dmn = loan_dmn()
    assert content_hash(_yaml_of(dmn).encode(), "yaml") == content_hash(dmn.encode(), "dmn")


def test_a_model_that_does_not_load_is_hashed_by_its_normalised_text(engine: Engine) -> None:
    # a requirement cycle: the model as a whole does not load
    broken = "model: broken\ndecisions: {X: {requires: [Y], expression: Y}, Y: {requires: [X], expression: X}}  # c\n"
    with unit_of_work(engine) as session:
        version = create_draft(session, KEY, broken, author=AUTHOR, format="yaml")
    assert version.hash_method == "text"
    assert version.content_hash == hashlib.sha256(normalised_text(broken.encode(), "yaml")).hexdigest()
    again = "model:   broken\n\ndecisions:\n  X: {requires: [Y], expression: Y}\n  Y: {requires: [X], expression: X}\n"
    assert content_hash(again.encode(), "yaml") == (version.content_hash, "text")


def test_a_model_with_an_element_that_does_not_compile_is_hashed_by_its_model_form() -> None:
    # it loads (the element gives null), so layout and comments do not change its hash
    broken = "model: broken\ndecisions: {X: {expression: '1 +'}}  # comment\n"
    again = "model:   broken\n\ndecisions:\n  X: {expression: '1 +'}\n"
    assert content_hash(broken.encode(), "yaml")[1] == "model-yaml"
    assert content_hash(broken.encode(), "yaml") == content_hash(again.encode(), "yaml")
    assert content_hash(broken.encode(), "yaml") != content_hash(again.replace("1 +", "1 -").encode(), "yaml")


@pytest.mark.parametrize(("fmt", "text"), [
    ("yaml", "model: broken\ndecisions: {X: {table: {inputs: [a], rules: [['1']]}}}  # comment\n"),
    ("dmn", '<definitions xmlns="https://www.omg.org/spec/DMN/20230324/MODEL/" name="broken" namespace="urn:b">'
            '<decision id="x" name="X"><decisionTable hitPolicy="SOMETIMES"><output name="o"/></decisionTable>'
            '</decision></definitions>'),
])
def test_a_model_with_logic_the_reader_could_not_read_is_hashed_by_its_normalised_text(fmt: str, text: str) -> None:
    # It loads (the element gives null), but its canonical form would change when the reader learns
    # to read that logic: a stored version's hash must verify for good.
    [error] = load(text.encode(), format=fmt).errors
    assert error.location.element == "X"
    assert content_hash(text.encode(), fmt) == (
        hashlib.sha256(normalised_text(text.encode(), fmt)).hexdigest(), "text")


def test_text_normalisation_of_yaml_ignores_layout_and_comments() -> None:
    a = b"b: [1, 2]\na: {x: 'y'}\n"
    b = b"# note\na:\n  x: y\nb:\n  - 1\n  - 2\n"
    assert normalised_text(a, "yaml") == normalised_text(b, "yaml")
    assert normalised_text(b"a: 1", "yaml") != normalised_text(b"a: 2", "yaml")


def test_text_normalisation_of_xml_ignores_layout_prefixes_and_attribute_order() -> None:
    a = b'<d:root xmlns:d="urn:x" b="2" a="1">\n  <d:t>  x </d:t>\n</d:root>'
    b = b'<root xmlns="urn:x" a="1" b="2"><t>x</t></root>'
    assert normalised_text(a, "dmn") == normalised_text(b, "dmn")
    assert normalised_text(a, "dmn") != normalised_text(b.replace(b">x<", b">y<"), "dmn")


@pytest.mark.parametrize(
    "hostile",
    [
        b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        b"<l>&b;</l>",
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>',
        b"<not closed",
    ],
)
def test_hostile_or_broken_xml_is_hashed_as_text_without_expanding_anything(hostile: bytes) -> None:
    digest, method = content_hash(hostile, "dmn")
    assert method == "text"
    assert digest == hashlib.sha256(hostile.decode().strip().encode()).hexdigest()


def test_xlsx_is_hashed_by_its_bytes_when_it_cannot_be_loaded() -> None:
    workbook = b"PK\x03\x04 not really a workbook"
    assert detect_format(workbook) == "xlsx"
    assert content_hash(workbook, "xlsx") == (hashlib.sha256(workbook).hexdigest(), "text")


@pytest.mark.parametrize(
    ("content", "filename", "expected"),
    [("<definitions/>", None, "dmn"), ("\ufeff  <x/>", None, "dmn"), ("model: x", None, "yaml"),
     ("model: x", "loan.DMN", "dmn"), ("<x/>", "loan.yml", "yaml"), (b"PK\x03\x04", None, "xlsx")],
)
def test_format_detection(content: str | bytes, filename: str | None, expected: str) -> None:
    assert detect_format(content, filename) == expected
