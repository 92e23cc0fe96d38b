"""Validators for French identifiers (DOMAIN.md §4)."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

FINESS_RE = re.compile(r"^(?:\d{2}|2A|2B)\d{7}$")


def luhn_ok(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def validate_siret(value: str) -> None:
    if not (value.isdigit() and len(value) == 14):
        raise ValidationError(_("Le SIRET doit comporter exactement 14 chiffres."), code="siret_format")
    # La Poste (SIREN 356 000 000) is the documented exception to the Luhn rule.
    if not luhn_ok(value) and not value.startswith("356000000"):
        raise ValidationError(_("Ce SIRET n'est pas valide (clé de contrôle incorrecte)."), code="siret_luhn")


def validate_finess(value: str) -> None:
    if not FINESS_RE.match(value.upper()):
        raise ValidationError(
            _("Le numéro FINESS comporte 9 caractères : le département (2 chiffres, 2A ou 2B) puis 7 chiffres."),
            code="finess_format",
        )


def validate_rpps_format(value: str) -> None:
    if not (value.isdigit() and len(value) == 11):
        raise ValidationError(_("Le numéro RPPS comporte exactement 11 chiffres."), code="rpps_format")


def rpps_warning(value: str) -> str | None:
    """A failed Luhn check is only a warning (no official text says RPPS must pass it)."""
    if value and value.isdigit() and len(value) == 11 and not luhn_ok(value):
        return "La clé de contrôle de ce RPPS ne correspond pas (vérifiez la saisie)."
    return None


def validate_adeli(value: str) -> None:
    if not (value.isdigit() and len(value) == 9):
        raise ValidationError(_("Le numéro ADELI comporte exactement 9 chiffres."), code="adeli_format")


def validate_postal_code(value: str) -> None:
    if not re.fullmatch(r"\d{5}", value):
        raise ValidationError(_("Le code postal comporte 5 chiffres."), code="postal_code")


def validate_insee(value: str) -> None:
    if not re.fullmatch(r"(?:\d{2}|2A|2B)\d{3}", value.upper()):
        raise ValidationError(_("Le code INSEE comporte 5 caractères (ex. 37261, 2A004)."), code="insee")
