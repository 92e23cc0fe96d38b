"""Amounts of money as French readers write them: ``1 234,50 €``.

One format everywhere (pages, e-mails, PDFs, flash messages, payment instructions):

* thousands grouped with a NARROW NO-BREAK SPACE (U+202F), as in Django's ``fr`` formats and CLDR;
* a comma before the cents, always two decimals (``30,00 €``), rounded half-up (0,005 → 0,01);
* a NO-BREAK SPACE (U+00A0) before the sign ``€``, so that an amount never breaks across lines;
* a leading hyphen-minus for a negative amount (``-12,00 €``); ``None`` gives an empty string.

Money is ``Decimal`` (or a whole ``int``), never ``float``.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

THOUSANDS_SEPARATOR = "\u202f"
SIGN_SEPARATOR = "\u00a0"
CENT = Decimal("0.01")


def format_euros(amount: Decimal | int | None) -> str:
    if amount is None:
        return ""
    if isinstance(amount, bool) or not isinstance(amount, Decimal | int):
        raise TypeError(f"format_euros() takes a Decimal or an int, not {type(amount).__name__}.")
    if isinstance(amount, Decimal) and not amount.is_finite():
        raise ValueError(f"Not an amount: {amount}.")
    value = Decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP)
    digits = f"{abs(value):,.2f}".replace(",", THOUSANDS_SEPARATOR).replace(".", ",")
    sign = "-" if value < 0 else ""  # -0,001 rounds to zero: no sign
    return f"{sign}{digits}{SIGN_SEPARATOR}€"
