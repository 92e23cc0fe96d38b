"""Generic value parsers for spreadsheet cells as French offices type them.

A parser receives the cell's text (already stripped, never empty) and the row being classified
(``RowContext``: what the import kind loaded from the database, and ``warn()``). It returns the value,
or raises ``InvalidValue`` with a French message that becomes one of the row's errors. Parsers taking
options are built by factories: ``digits(_("RPPS"), 11)``, ``lookup(VALUES, _("civilité"), …)``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _


class InvalidValue(ValueError):
    """The cell cannot be read: ``str(error)`` is the French reason shown for the row."""


class RowContext(Protocol):
    existing: Any  # what the import kind loaded before classifying (lookup tables, existing rows)

    def warn(self, message: str) -> None: ...


Parser = Callable[[str, RowContext], Any]

# --- Normalisation -----------------------------------------------------------------------------

_NON_ALNUM = re.compile(r"[^0-9a-z]+")
_SPACES = re.compile(r"\s+")
_DIGIT_SEPARATORS = re.compile(r"[\s.\-]")


def normalize(text: str) -> str:
    """Lowercase, accents removed, punctuation as spaces, spaces collapsed: "  Infirmière " → "infirmiere"."""
    text = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode("ascii").lower()
    return _NON_ALNUM.sub(" ", text).strip()


def clean_cell(value: Any) -> str:
    """A cell as stripped text with inner runs of spaces collapsed (non-breaking spaces included)."""
    if value is None:
        return ""
    return _SPACES.sub(" ", str(value).replace("\u00a0", " ")).strip()


def strip_separators(text: str) -> str:
    """Spaces, dots and dashes removed: "101 000.000-08" → "10100000008"."""
    return _DIGIT_SEPARATORS.sub("", text)


# --- Parsers -----------------------------------------------------------------------------------


def text(raw: str, row: RowContext) -> str:
    """The cell as it is (stripped); the model's validation checks its length."""
    return raw


def digits(label: Any, length: int) -> Parser:
    """Exactly ``length`` digits, spaces, dots and dashes ignored (RPPS, ADELI, SIRET…)."""

    def parse(raw: str, row: RowContext) -> str:
        value = strip_separators(raw)
        if not (value.isdigit() and len(value) == length):
            raise InvalidValue(_("%(label)s « %(value)s » invalide (%(length)s chiffres attendus)") % {
                "label": label, "value": raw, "length": length})
        return value

    return parse


_DATE_DMY = re.compile(r"(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{2}|\d{4})")
_DATE_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T].*)?")


def parse_date(raw: str) -> date | None:
    """dd/mm/yyyy (also dd.mm.yy, dd-mm-yyyy) or ISO yyyy-mm-dd; ``None`` when not a real date."""
    match = _DATE_DMY.fullmatch(raw)
    if match:
        day, month, year = (int(part) for part in match.groups())
        if len(match.group(3)) == 2:
            year += 2000 if year < 50 else 1900
    else:
        match = _DATE_ISO.fullmatch(raw)
        if not match:
            return None
        year, month, day = (int(part) for part in match.groups())
    try:
        return date(year, month, day)
    except ValueError:
        return None


def french_date(raw: str, row: RowContext) -> date:
    value = parse_date(raw)
    if value is None:
        raise InvalidValue(_("date « %(value)s » invalide (jj/mm/aaaa attendu)") % {"value": raw})
    return value


def email(raw: str, row: RowContext) -> str:
    value = raw.replace(" ", "")
    try:
        validate_email(value)
    except ValidationError:
        raise InvalidValue(_("e-mail « %(value)s » invalide") % {"value": raw}) from None
    return value


_TRUE = {"oui", "o", "vrai", "x", "1", "yes", "y", "true"}
_FALSE = {"non", "n", "faux", "0", "no", "false"}


def boolean(raw: str, row: RowContext) -> bool:
    value = normalize(raw)
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise InvalidValue(_("valeur « %(value)s » invalide (oui ou non attendu)") % {"value": raw})


def lookup(values: Mapping[str, Any], label: Any, expected: Any) -> Parser:
    """A value among ``values`` (keys normalised with ``normalize``): "Dr" → ``"dr"``."""

    def parse(raw: str, row: RowContext) -> Any:
        value = values.get(normalize(raw))
        if value is None:
            raise InvalidValue(_("%(label)s « %(value)s » inconnu (%(expected)s attendu)") % {
                "label": label, "value": raw, "expected": expected})
        return value

    return parse


def integer(label: Any, minimum: int | None = None, maximum: int | None = None) -> Parser:
    """A whole number (spaces as thousands separators allowed), optionally within bounds."""

    def parse(raw: str, row: RowContext) -> int:
        cleaned = raw.replace(" ", "")
        if not re.fullmatch(r"-?\d+", cleaned):
            raise InvalidValue(_("%(label)s « %(value)s » invalide (nombre entier attendu)") % {
                "label": label, "value": raw})
        value = int(cleaned)
        if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
            raise InvalidValue(_("%(label)s « %(value)s » hors limites (entre %(min)s et %(max)s)") % {
                "label": label, "value": raw, "min": minimum if minimum is not None else "…",
                "max": maximum if maximum is not None else "…"})
        return value

    return parse


def decimal(label: Any) -> Parser:
    """A French decimal number: "1 234,50", "12.5", "30 €", "85 %"."""

    def parse(raw: str, row: RowContext) -> Decimal:
        cleaned = re.sub(r"[\s€%]", "", raw).replace(",", ".")
        try:
            value = Decimal(cleaned)
        except InvalidOperation:
            value = None
        if value is None or not value.is_finite() or not re.fullmatch(r"-?\d+(\.\d+)?", cleaned):
            raise InvalidValue(_("%(label)s « %(value)s » invalide (nombre attendu, ex. 12,5)") % {
                "label": label, "value": raw})
        return value

    return parse


def postal_code(raw: str, row: RowContext) -> str:
    """Five digits; four digits get back the leading zero a spreadsheet dropped (with a warning)."""
    value = strip_separators(raw)
    if value.isdigit() and len(value) == 4:
        row.warn(_("code postal « %(value)s » complété en « 0%(digits)s » (zéro initial perdu par le tableur)")
                 % {"value": raw, "digits": value})
        value = "0" + value
    if not (value.isdigit() and len(value) == 5):
        raise InvalidValue(_("code postal « %(value)s » invalide (5 chiffres attendus)") % {"value": raw})
    return value


def insee_code(raw: str, row: RowContext) -> str:
    value = strip_separators(raw).upper()
    if not re.fullmatch(r"(?:\d{2}|2A|2B)\d{3}", value):
        raise InvalidValue(_("code INSEE « %(value)s » invalide (5 caractères, ex. 37261 ou 2A004)") % {"value": raw})
    return value
