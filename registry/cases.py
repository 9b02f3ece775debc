"""A version's own test cases, as attached to it and checked by the publish gate.

The format and the runner live in `decisions.testing` (the same files `decisionary test`
runs): a YAML list of {name, inputs, expect, fired}. Here a malformed file is `Invalid`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from registry.errors import Invalid

if TYPE_CHECKING:
    from decisions.testing import Case


def parse_cases(text: str) -> list[Case]:
    """The cases in `text`, or Invalid naming the case and what is wrong with it."""
    from decisions.testing import CaseFileError
    from decisions.testing import parse_cases as parse

    try:
        return parse(text)
    except CaseFileError as err:
        raise Invalid(str(err)) from None
