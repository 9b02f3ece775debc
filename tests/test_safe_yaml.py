"""One safe YAML loader for every YAML Decisionary reads: aliases cannot expand a document
beyond a bound set by its length, whichever reader (models, test cases, bindings,
configuration, the content hash) it goes through."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from decisions.errors import ModelError
from decisions.safe_yaml import YamlTooLarge, compose_yaml, load_yaml, max_nodes
from decisions.testing import CaseFileError, parse_cases
from decisions.yaml_format.tree import parse_yaml_tree
from execution.config import ExecutionConfig
from execution.located_yaml import LocatedYamlError, load_located
from registry.content import normalised_text


def alias_bomb(levels: int = 9, *, indent: str = "") -> str:
    """A few hundred bytes standing for 9**levels values: each level lists the previous one 9 times."""
    lines = [f'{indent}l0: &l0 ["x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    for level in range(1, levels):
        lines.append(f"{indent}l{level}: &l{level} [" + ", ".join([f"*l{level - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def test_honest_documents_load_as_the_safe_loader_reads_them() -> None:
    text = ("name: loan\nlimits: [1, 2.5, true, null, 2024-01-31]\nshared: &s {a: 1}\nagain: *s\n"
            "merged: {<<: *s, b: 2}\n")
    assert load_yaml(text) == yaml.safe_load(text)
    assert load_yaml("") is None and compose_yaml("# nothing\n") is None
    many = "\n".join(f"- {n}" for n in range(50_000))  # more values than the allowance, no alias
    assert load_yaml(many) == list(range(50_000))


def test_an_alias_bomb_is_refused_by_the_shared_loader() -> None:
    bomb = alias_bomb()
    assert len(bomb) < 600
    with pytest.raises(YamlTooLarge) as refused:
        load_yaml(bomb)
    assert "alias" in str(refused.value) and f"{max_nodes(bomb):,}" in str(refused.value)
    with pytest.raises(YamlTooLarge):
        load_yaml("a: &a [x, *a]\n")  # a recursive alias never ends


def test_every_reader_refuses_the_bomb() -> None:
    bomb = alias_bomb(7)  # 4.8 million values: beyond the bound, and small enough for a reader without one
    with pytest.raises(CaseFileError, match="alias"):
        parse_cases("- name: bomb\n  inputs:\n" + alias_bomb(7, indent="    ") + "  expect: {x: 1}\n")
    with pytest.raises(ModelError, match="alias"):
        parse_yaml_tree(bomb, file="model.yaml")
    with pytest.raises(LocatedYamlError, match="alias"):
        load_located(bomb)
    # The content hash's fallback for a YAML model that does not load hashes the text instead.
    assert normalised_text(bomb.encode(), "yaml") == bomb.strip().encode()


def test_the_execution_configuration_is_read_through_the_shared_loader(tmp_path: Path) -> None:
    path = tmp_path / "execution.yaml"
    path.write_text(alias_bomb(7))
    with pytest.raises(ValueError, match="alias"):
        ExecutionConfig.from_env({"DECISIONARY_EXECUTION_CONFIG": str(path)})
