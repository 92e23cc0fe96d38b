"""Contract-year arithmetic, deadlines and achievement: pure functions, tested over tables of cases."""

from datetime import date
from decimal import Decimal as D

import pytest

from indicators.achievement import Achievement, achievement, weighted
from missions import calendar


@pytest.mark.parametrize("signed, number, start, end", [
    (date(2022, 9, 15), 1, date(2022, 9, 15), date(2023, 9, 14)),
    (date(2022, 9, 15), 5, date(2026, 9, 15), date(2027, 9, 14)),
    # A 29 February signature: anniversaries on 28 February in common years, back to 29 in leap years.
    (date(2024, 2, 29), 1, date(2024, 2, 29), date(2025, 2, 27)),
    (date(2024, 2, 29), 2, date(2025, 2, 28), date(2026, 2, 27)),
    (date(2024, 2, 29), 5, date(2028, 2, 29), date(2029, 2, 27)),
    # Across the DST change at the end of March: dates only, nothing moves.
    (date(2023, 3, 26), 2, date(2024, 3, 26), date(2025, 3, 25)),
    (date(2021, 1, 1), 3, date(2023, 1, 1), date(2023, 12, 31)),
])
def test_contract_years(signed, number, start, end):
    year = calendar.contract_year(signed, number)
    assert (year.start, year.end) == (start, end)


def test_years_follow_each_other_without_gap_or_overlap():
    for signed in (date(2024, 2, 29), date(2022, 12, 31), date(2023, 3, 26)):
        years = calendar.contract_years(signed)
        assert len(years) == 5
        for previous, following in zip(years, years[1:], strict=False):
            assert (following.start - previous.end).days == 1


def test_year_of_a_day():
    signed = date(2022, 9, 15)
    assert calendar.year_of(signed, date(2022, 9, 14)) is None
    assert calendar.year_of(signed, date(2022, 9, 15)).number == 1
    assert calendar.year_of(signed, date(2023, 9, 14)).number == 1
    assert calendar.year_of(signed, date(2023, 9, 15)).number == 2
    assert calendar.year_of(signed, date(2027, 9, 15)) is None
    with pytest.raises(ValueError):
        calendar.contract_year(signed, 6)


@pytest.mark.parametrize("months, due", [(6, date(2022, 3, 30)), (18, date(2023, 3, 30)), (None, None)])
def test_due_dates_from_signature(months, due):
    assert calendar.due_date(date(2021, 9, 30), months) == due


@pytest.mark.parametrize("due, reached, state", [
    (date(2026, 6, 1), None, "upcoming"),
    (date(2026, 1, 30), None, "upcoming"),      # 60 days ahead
    (date(2026, 1, 29), None, "at_risk"),       # 59 days ahead
    (date(2025, 12, 1), None, "today_is_due"),
    (date(2025, 11, 30), None, "late"),
    (date(2025, 11, 30), date(2025, 11, 1), "met"),
    (date(2025, 11, 30), date(2025, 12, 1), "met_late"),
    (None, None, "none"),
])
def test_deadline_states(due, reached, state):
    today = date(2025, 12, 1)
    expected = "at_risk" if state == "today_is_due" else state
    assert calendar.deadline_state(due, reached, today) == expected


@pytest.mark.parametrize("unit, direction, baseline, target, realised, expected", [
    ("count", "down", D(1200), D(800), D(900), D("75.0")),     # the example of the issue
    ("count", "down", D(1200), D(800), D(700), D("100.0")),    # beyond the target: capped
    ("count", "down", D(1200), D(800), D(1300), D("0.0")),     # worse than the baseline: floored
    ("rate", "up", D("62.89"), D(69), D("65.94"), D("49.9")),
    ("count", "up", D(10), D(20), D(20), D("100.0")),
    ("count", "reach", None, D(500), D(400), D("80.0")),
    ("boolean", "reach", None, D(1), D(1), D("100.0")),
    ("boolean", "reach", None, D(1), D(0), D("0.0")),
])
def test_achievement(unit, direction, baseline, target, realised, expected):
    result = achievement(unit=unit, direction=direction, baseline=baseline, target=target, realised=realised)
    assert result == Achievement(expected)


def test_cap_from_the_contract():
    result = achievement(unit="count", direction="up", baseline=D(0), target=D(10), realised=D(15), cap=D(120))
    assert result.percent == D("120.0")


@pytest.mark.parametrize("kwargs, problem", [
    ({"baseline": D(10), "target": D(20), "realised": None}, "valeur réalisée manquante"),
    ({"baseline": D(10), "target": None, "realised": D(12)}, "objectif manquant"),
    ({"baseline": None, "target": D(20), "realised": D(12)}, "valeur initiale manquante"),
    ({"baseline": D(10), "target": D(10), "realised": D(12)}, "objectif égal à la valeur initiale"),
    ({"baseline": D(10), "target": D(5), "realised": D(12)}, "mauvais côté"),
])
def test_undefined_achievement_says_why(kwargs, problem):
    result = achievement(unit="count", direction="up", **kwargs)
    assert result.percent is None and not result.known
    assert problem in result.problem


def test_mission_achievement_is_the_weighted_mean_and_missing_is_not_zero():
    mission = weighted([(D(2), Achievement(D(100))), (D(1), Achievement(D(40))), (D(1), Achievement(None, "x"))])
    assert mission.percent == D("80.0") and mission.known == 2 and mission.missing == 1 and not mission.complete
    empty = weighted([(D(1), Achievement(None, "x"))])
    assert empty.percent is None and empty.missing == 1
    assert weighted([]).percent is None
