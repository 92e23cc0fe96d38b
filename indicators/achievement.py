"""How far an indicator's objective is reached (pure functions, Decimal only, no database).

- ``up`` / ``down``: progress from the baseline towards the target, ``(realised − baseline) / (target −
  baseline)``. The same formula serves both directions: a "patients without médecin traitant" indicator
  going down from 1 200 to 900 against a target of 800 is (900 − 1 200) / (800 − 1 200) = 75 %. A target
  equal to the baseline leaves the achievement undefined, and a target on the wrong side of the baseline
  (a "down" indicator whose target is above its baseline) too: both are said, not guessed.
- ``reach``: the share of the target reached, ``realised / target`` (no baseline needed).
- yes/no deliverables: 0 or 100 %.
Results are floored at 0 % and capped (100 % unless the contract says otherwise). A missing value is
never 0 %: the result says which value is missing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.utils.translation import gettext_lazy as _

HUNDRED = Decimal(100)


@dataclass(frozen=True)
class Achievement:
    percent: Decimal | None  # None when it cannot be computed; ``problem`` says why
    problem: str = ""

    @property
    def known(self) -> bool:
        return self.percent is not None


MISSING_REALISED = _("valeur réalisée manquante")
MISSING_TARGET = _("objectif manquant")
MISSING_BASELINE = _("valeur initiale manquante")
TARGET_IS_BASELINE = _("objectif égal à la valeur initiale : atteinte non définie")
WRONG_SIDE = _("objectif du mauvais côté de la valeur initiale pour le sens de l'indicateur")
ZERO_TARGET = _("objectif nul : atteinte non définie")


def _round(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def achievement(*, unit: str, direction: str, baseline: Decimal | None, target: Decimal | None,
                realised: Decimal | None, cap: Decimal = HUNDRED) -> Achievement:
    if realised is None:
        return Achievement(None, str(MISSING_REALISED))
    if unit == "boolean":
        return Achievement(min(HUNDRED if realised >= 1 else Decimal(0), cap))
    if target is None:
        return Achievement(None, str(MISSING_TARGET))
    if direction == "reach":
        if target == 0:
            return Achievement(None, str(ZERO_TARGET))
        share = realised / target * HUNDRED
    else:
        if baseline is None:
            return Achievement(None, str(MISSING_BASELINE))
        if target == baseline:
            return Achievement(None, str(TARGET_IS_BASELINE))
        if (direction == "up" and target < baseline) or (direction == "down" and target > baseline):
            return Achievement(None, str(WRONG_SIDE))
        share = (realised - baseline) / (target - baseline) * HUNDRED
    return Achievement(_round(max(Decimal(0), min(share, cap))))


@dataclass(frozen=True)
class MissionAchievement:
    percent: Decimal | None  # weighted mean of the indicators whose achievement is known
    known: int
    missing: int  # indicators whose achievement could not be computed (said, not counted as 0 %)

    @property
    def complete(self) -> bool:
        return self.missing == 0 and self.known > 0


def weighted(items: Iterable[tuple[Decimal, Achievement]]) -> MissionAchievement:
    """Weighted mean over (weight, achievement) pairs; unknown achievements are counted apart."""
    total_weight = Decimal(0)
    total = Decimal(0)
    known = missing = 0
    for weight, result in items:
        if result.percent is None:
            missing += 1
            continue
        known += 1
        total_weight += weight
        total += weight * result.percent
    if not total_weight:
        return MissionAchievement(None, known, missing)
    return MissionAchievement(_round(total / total_weight), known, missing)
