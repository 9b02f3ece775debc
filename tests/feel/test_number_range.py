"""Numbers are held to Decimal128, FEEL's number type, wherever they come in, and formatting
never spells out more digits than such a number has."""

from __future__ import annotations

from decimal import Decimal

import pytest

from decisions.feel import Scope, compile_unary_tests, values
from decisions.feel.errors import FeelSyntaxError
from tests.feel.helpers import ev, run

HUGE = "1" + "0" * 7000


@pytest.mark.parametrize("text", [HUGE, "-" + HUGE, f"{HUGE} > 5", f"[1, 2, {HUGE}]"])
def test_a_literal_beyond_decimal128_is_a_located_syntax_error(text: str) -> None:
    with pytest.raises(FeelSyntaxError) as caught:
        run(text)
    message = str(caught.value)
    assert "larger than the largest FEEL number" in message and len(message) < 600
    assert caught.value.position == text.index(HUGE)


def test_a_unary_test_cell_beyond_decimal128_is_refused() -> None:
    with pytest.raises(FeelSyntaxError, match="larger than the largest FEEL number"):
        compile_unary_tests(f"< {HUGE}", Scope())


def test_the_largest_and_smallest_numbers_are_numbers() -> None:
    largest = Decimal("9" * 34 + "E+6111")
    assert values.number_beyond_range(largest) is None
    assert values.number_beyond_range(Decimal("1E+6145")) is not None
    assert values.number_beyond_range(Decimal("1E-6176")) is None
    assert values.number_beyond_range(Decimal("1E-6177")) is not None
    assert values.number_beyond_range(Decimal(0)) is None


def test_python_data_beyond_decimal128_becomes_null() -> None:
    assert values.from_python(Decimal("1E+999999999")) is None
    assert values.from_python(10 ** 7000) is None
    assert values.from_python(10 ** 6000) == Decimal(10) ** 6000


def test_formatting_is_bounded_by_the_exponent() -> None:
    assert values.format_number(Decimal("1E+999999999")) == "1E+999999999"
    assert values.to_json(Decimal("1E+999999999")) == "1E+999999999"
    assert len(values.format_number(Decimal("1E+6144"))) == 6145
    assert values.format_number(Decimal("1" * 31)) == "1" * 31
    assert ev("string(x)", x=Decimal("1" * 31)) == "1" * 31
