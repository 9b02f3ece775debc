"""The YAML form of a decision model: the same `Definitions` as DMN XML, written for people.

    model: loan-approval
    namespace: https://decisionary.dev/examples/loan-approval
    inputs:
      Applicant Age: number
    decisions:
      Risk Category:
        type: string
        requires: [Applicant Age]
        table:
          hit policy: FIRST
          inputs: [Applicant Age]
          rules:
            - [">= 60", '"High"']
            - ["-", '"Low"']

Every expression is either a text (a FEEL literal expression) or a mapping with one kind key
(`expression`, `table`, `context`, `list`, `relation`, `function`, `invoke`, `if`, `filter`,
`for`, `some`, `every`), its companion keys, and optional `type`/`id`. Decisions, knowledge
models and context entries hold their expression's keys in their own mapping, where their
own `type`/`id` come first and the expression's are spelt `expression type`/`expression id`.
FEEL texts are read exactly as written (`5`, `true`, `-` stay FEEL text, not YAML numbers or
booleans).

Reading uses PyYAML's safe composer only (no object construction from tags) and keeps the
line of every node, so errors point at the line and at a path such as
`decisions.Risk Category.table.rules[3]` (rules and list items are numbered from 1).
"""

from decisions.yaml_format.reader import read_yaml
from decisions.yaml_format.tree import parse_yaml_tree
from decisions.yaml_format.writer import canonical_yaml, write_yaml

__all__ = ["canonical_yaml", "parse_yaml_tree", "read_yaml", "write_yaml"]
