"""A version's own test cases: a YAML list of {inputs, expect}, checked by the publish gate.

```yaml
- name: adult with good credit        # optional; default "case N"
  inputs: {Applicant Age: 35, Credit Score: 780}
  expect: {Risk Category: Low, Limit: 50000}
```

`expect` maps decision names to expected values (plain YAML values: numbers, strings,
booleans, null, dates, lists, mappings); each is compared with FEEL equality.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

from registry.errors import Invalid

_KEYS = {"name", "description", "inputs", "expect"}


@dataclass(frozen=True)
class Case:
    number: int  # 1-based position in the list
    name: str
    inputs: dict[str, Any]
    expect: dict[str, Any]

    @property
    def title(self) -> str:
        return f"case {self.number} ({self.name})" if self.name != f"case {self.number}" else self.name


def parse_cases(text: str) -> list[Case]:
    """The cases in `text`, or Invalid naming the case and what is wrong with it."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(err, "problem", None) or str(err)
        raise Invalid(f"test cases are not valid YAML{where}: {problem}") from None
    if data is None:
        return []
    if not isinstance(data, list):
        raise Invalid(f"test cases must be a YAML list of {{inputs, expect}} entries, not {type(data).__name__}")
    return [_case(i, entry) for i, entry in enumerate(data, start=1)]


def _case(number: int, entry: Any) -> Case:
    where = f"test case {number}"
    if not isinstance(entry, dict):
        raise Invalid(f"{where}: expected a mapping with 'inputs' and 'expect', got {type(entry).__name__}")
    unknown = sorted(str(k) for k in entry if k not in _KEYS)
    if unknown:
        raise Invalid(f"{where}: unknown key(s) {', '.join(unknown)} (allowed: {', '.join(sorted(_KEYS))})")
    name = entry.get("name")
    if name is not None and not isinstance(name, str):
        raise Invalid(f"{where}: 'name' must be text")
    inputs = entry.get("inputs", {})
    if inputs is None:
        inputs = {}
    if not isinstance(inputs, dict) or not all(isinstance(k, str) for k in inputs):
        raise Invalid(f"{where}: 'inputs' must be a mapping of input names to values")
    expect = entry.get("expect")
    if not isinstance(expect, dict) or not expect or not all(isinstance(k, str) for k in expect):
        raise Invalid(f"{where}: 'expect' must be a non-empty mapping of decision names to values")
    return Case(number, name or f"case {number}", dict(inputs), dict(expect))
