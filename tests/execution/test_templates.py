"""Binding templates are bounded while they render (execution/templates.py): what would make a
huge string or loop without end is refused before it is done, with a message naming why."""

from __future__ import annotations

import pytest

from decisions.limits import MAX_RENDERED_CHARS, MAX_TEMPLATE_STEPS
from execution.templates import TemplateFailed, compile_text, compile_value, render_value

REFUSED = {
    "string repetition": ("{{ 'a' * 10**9 }}", "repetition would make 1,000,000,000 items"),
    "list repetition": ("{{ ([1, 2] * 10**8) | length }}", "repetition would make 200,000,000 items"),
    "huge range": ("{% for i in range(10**9) %}x{% endfor %}", "beyond 1,000,000"),
    "nested loops": ("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
                     f"more than {MAX_TEMPLATE_STEPS:,} steps"),
    "three nested loops": ("{% for i in range(1000) %}{% for j in range(1000) %}{% for k in range(1000) %}"
                           "{% endfor %}{% endfor %}{% endfor %}", f"more than {MAX_TEMPLATE_STEPS:,} steps"),
    "output of a loop": ("{% for i in range(500000) %}xxxxxxxxxx{% endfor %}",
                         f"rendered more than {MAX_RENDERED_CHARS:,} characters"),
    "padding filter": ("{{ 'x' | center(10**9) }}", "argument 1,000,000,000 is beyond"),
    "padding method": ("{{ 'x'.ljust(10**9) }}", "argument 1,000,000,000 is beyond"),
    "percent format width": ("{{ '%1000000000d' % 1 }}", "format width 1,000,000,000"),
    "str.format width": ("{{ '{:>1000000000}'.format(1) }}", "format width 1,000,000,000"),
    "format filter width": ("{{ '%1000000000d' | format(1) }}", "format width 1,000,000,000"),
    "huge power": ("{{ 7 ** 100000000 }}", "power would make"),
}


@pytest.mark.parametrize(("source", "why"), REFUSED.values(), ids=REFUSED.keys())
def test_rendering_is_bounded_before_it_happens(source: str, why: str) -> None:
    with pytest.raises(TemplateFailed) as raised:
        compile_text(source).render({})
    assert why in str(raised.value)
    assert source[:20] in str(raised.value)  # names the template


def test_a_typed_expression_is_bounded_too() -> None:
    body = compile_value({"amount": "{{ 'a' * 10**9 }}"})
    with pytest.raises(TemplateFailed, match="repetition would make"):
        render_value(body, {})


def test_ordinary_templates_render_as_before() -> None:
    context = {"outputs": {"Limit": 2500, "Items": [1, 2, 3]}, "decision": "Loan"}
    text = ("{{ decision }}: {{ outputs['Limit'] * 2 }} {{ 'ab' * 3 }} {{ '%05.1f' % 3.14159 }} "
            "{{ '{:>4}'.format(7) }} {{ outputs.Items | join(',') }} "
            "{% for i in range(3) %}{% for j in range(2) %}{{ i }}{{ j }} {% endfor %}{% endfor %}")
    assert compile_text(text).render(context) == "Loan: 5000 ababab 003.1    7 1,2,3 00 01 10 11 20 21 "
    assert render_value(compile_value({"n": "{{ outputs.Limit + 1 }}"}), context) == {"n": 2501}
    # a render's budget is its own: the next render starts afresh
    loop = compile_text("{% for i in range(600000) %}{% endfor %}done")
    assert loop.render({}) == "done" and loop.render({}) == "done"
