"""Contract-year arithmetic and deadlines (pure functions, no database).

A contract year runs from the signature anniversary: year 1 = signature → anniversary − 1 day, and so on
for the five years of the contract. A 29 February signature has its anniversary on 28 February in
common years (the date stays inside the month, as ``relativedelta`` does). Only dates are involved:
daylight-saving changes cannot move a contract year.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from dateutil.relativedelta import relativedelta

CONTRACT_YEARS = 5


@dataclass(frozen=True)
class ContractYear:
    number: int
    start: date
    end: date  # inclusive

    def __contains__(self, day: date) -> bool:
        return self.start <= day <= self.end

    @property
    def label(self) -> str:
        return f"{self.number} ({self.start:%d/%m/%Y} – {self.end:%d/%m/%Y})"


def contract_year(signed_on: date, number: int) -> ContractYear:
    if not 1 <= number <= CONTRACT_YEARS:
        raise ValueError(f"A contract has years 1 to {CONTRACT_YEARS}, not {number}.")
    start = signed_on + relativedelta(years=number - 1)
    end = signed_on + relativedelta(years=number) - timedelta(days=1)
    return ContractYear(number, start, end)


def contract_years(signed_on: date) -> list[ContractYear]:
    return [contract_year(signed_on, n) for n in range(1, CONTRACT_YEARS + 1)]


def year_of(signed_on: date, day: date) -> ContractYear | None:
    """The contract year containing ``day``, or None before the signature or after year 5."""
    for year in contract_years(signed_on):
        if day in year:
            return year
    return None


def due_date(signed_on: date, months: int | None) -> date | None:
    """A deadline ``months`` after the signature (None when the catalogue leaves it to the contract)."""
    if months is None:
        return None
    return signed_on + relativedelta(months=months)


AT_RISK_DAYS = 60


def deadline_state(due: date | None, reached_on: date | None, today: date) -> str:
    """``met``, ``late`` (passed and not reached), ``at_risk`` (< 60 days), ``upcoming`` or ``none``."""
    if due is None:
        return "none"
    if reached_on is not None:
        return "met" if reached_on <= due else "met_late"
    if today > due:
        return "late"
    if (due - today).days < AT_RISK_DAYS:
        return "at_risk"
    return "upcoming"
