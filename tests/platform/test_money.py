"""One money format everywhere: ``1 234,50 €`` with a narrow no-break space (U+202F) between thousands,
a no-break space (U+00A0) before €, always two decimals, rounded half-up."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.template import Context, Template

from associations.money import format_euros

NNBSP, NBSP = "\u202f", "\u00a0"


@pytest.mark.parametrize("amount,expected", [
    (Decimal("1234.5"), f"1{NNBSP}234,50{NBSP}€"),
    (Decimal("30"), f"30,00{NBSP}€"),
    (30, f"30,00{NBSP}€"),
    (Decimal("0"), f"0,00{NBSP}€"),
    (0, f"0,00{NBSP}€"),
    (Decimal("-12.3"), f"-12,30{NBSP}€"),
    (Decimal("-1234567.89"), f"-1{NNBSP}234{NNBSP}567,89{NBSP}€"),
    (Decimal("1234567.891"), f"1{NNBSP}234{NNBSP}567,89{NBSP}€"),
    (Decimal("999.999"), f"1{NNBSP}000,00{NBSP}€"),
    (Decimal("0.005"), f"0,01{NBSP}€"),        # half-up, not banker's rounding
    (Decimal("0.015"), f"0,02{NBSP}€"),
    (Decimal("2.675"), f"2,68{NBSP}€"),
    (Decimal("0.004"), f"0,00{NBSP}€"),
    (Decimal("-0.005"), f"-0,01{NBSP}€"),      # half away from zero
    (Decimal("-0.004"), f"0,00{NBSP}€"),       # rounds to zero: no sign
    (None, ""),
])
def test_format_euros(amount, expected):
    assert format_euros(amount) == expected


@pytest.mark.parametrize("amount", [1.5, "30", True])
def test_money_is_decimal_or_int_only(amount):
    with pytest.raises(TypeError):
        format_euros(amount)


def test_not_a_number_is_refused():
    with pytest.raises(ValueError):
        format_euros(Decimal("NaN"))


@pytest.mark.parametrize("value,expected", [
    (Decimal("1234.5"), f"1{NNBSP}234,50{NBSP}€"),
    (30, f"30,00{NBSP}€"),
    ("12.5", f"12,50{NBSP}€"),
    (None, ""),
    ("", ""),
    ("n/a", ""),
    (1.5, ""),  # money is never a float: shown as nothing rather than rounded wrongly
])
def test_template_filter(value, expected):
    rendered = Template("{% load money %}[{{ value|euros }}]").render(Context({"value": value}))
    assert rendered == f"[{expected}]"
