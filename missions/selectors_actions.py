"""Read models of the actions registry: the list, the month calendar, the ``.ics`` feed and the totals per
mission, action type and contract year (what indicators "fed by actions" count).

Every function runs a fixed number of queries, whatever the number of actions (see
tests/aci/test_actions.py: 10 vs 2 000 actions).
"""

from __future__ import annotations

import calendar as month_calendar
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db.models import Case, Count, IntegerField, QuerySet, Sum, Value, When
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from associations.models import Association, Profession
from missions.calendar import ContractYear
from missions.models import Action, ActionParticipation, ActionType, Contract, ContractMission


def current_contract(association: Association) -> Contract | None:
    """The association's contract in force: the last one signed (one query)."""
    return (Contract.objects.filter(association=association).select_related("version")
            .order_by("-signed_on", "-pk").first())


def contract_missions(contract: Contract | None) -> QuerySet[ContractMission]:
    if contract is None:
        return ContractMission.objects.none()
    return (ContractMission.objects.filter(association=contract.association_id, contract=contract)
            .select_related("mission_type").order_by("mission_type__order", "pk"))


def action_queryset(association: Association) -> QuerySet[Action]:
    """Actions of the association with mission, type and total participants, in one query per page."""
    return (
        Action.objects.filter(association=association)
        .select_related("mission__mission_type", "action_type")
        .annotate(participants=Coalesce(Sum("participations__count"), 0))
    )


def year_case(years: list[ContractYear], field_name: str = "date") -> Case:
    """SQL expression giving the contract year (1–5) of ``field_name``, NULL outside the contract."""
    return Case(*[When(**{f"{field_name}__range": (year.start, year.end)}, then=Value(year.number))
                  for year in years], default=None, output_field=IntegerField())


def participations_of(actions: list[Action]) -> dict[int, list[ActionParticipation]]:
    """Participations of these actions, by action id, in one query (profession joined)."""
    by_action: dict[int, list[ActionParticipation]] = defaultdict(list)
    if actions:
        rows = (ActionParticipation.objects.filter(association=actions[0].association_id,
                                                   action__in=[a.pk for a in actions])
                .select_related("profession").order_by("profession__order", "profession__label", "pk"))
        for row in rows:
            by_action[row.action_id].append(row)
    return by_action


# --- Totals per mission, type and contract year ---------------------------------------------------------


@dataclass
class ActionTotals:
    """Counts of one contract's actions: ``count[(mission_id, action_type_id, year)]`` actions and
    ``participants[(mission_id, profession_id or None, year)]`` participants (year 1–5)."""

    contract: Contract
    count: dict[tuple[int, int, int], int] = field(default_factory=dict)
    participants: dict[tuple[int, int | None, int], int] = field(default_factory=dict)

    def actions_of_type(self, action_type_id: int, year: int, mission_id: int | None = None) -> int:
        """Actions of a type in a contract year (of one mission, or of the whole contract)."""
        return sum(n for (m, t, y), n in self.count.items()
                   if t == action_type_id and y == year and (mission_id is None or m == mission_id))

    def participants_in(self, year: int, mission_id: int | None = None) -> int:
        return sum(n for (m, _p, y), n in self.participants.items()
                   if y == year and (mission_id is None or m == mission_id))


def action_totals(contract: Contract) -> ActionTotals:
    """Two grouped queries, whatever the number of actions."""
    years = contract.years
    totals = ActionTotals(contract)
    actions = (Action.objects.filter(association=contract.association_id, mission__contract=contract)
               .annotate(year=year_case(years)).exclude(year=None)
               .values("mission_id", "action_type_id", "year").annotate(n=Count("id")).order_by())
    for row in actions:
        totals.count[(row["mission_id"], row["action_type_id"], row["year"])] = row["n"]
    participations = (ActionParticipation.objects.filter(association=contract.association_id,
                                                         action__mission__contract=contract)
                      .annotate(year=year_case(years, "action__date")).exclude(year=None)
                      .values("action__mission_id", "profession_id", "year").annotate(n=Sum("count")).order_by())
    for row in participations:
        totals.participants[(row["action__mission_id"], row["profession_id"], row["year"])] = row["n"] or 0
    return totals


@dataclass
class SummaryRow:
    label: str
    cells: list[int]  # one per contract year
    total: int


@dataclass
class Summary:
    """What the actions page shows under the table, per contract year."""

    years: list[ContractYear]
    by_type: list[SummaryRow]
    by_mission: list[SummaryRow]  # participants per mission
    by_profession: list[SummaryRow]  # participants per profession (all missions)


def _row(label: str, values: dict[int, int], years: list[ContractYear]) -> SummaryRow:
    cells = [values.get(year.number, 0) for year in years]
    return SummaryRow(str(label), cells, sum(cells))


def action_summary(contract: Contract, missions: list[ContractMission]) -> Summary:
    """Counts by type and participants by mission and profession per contract year (4 queries)."""
    totals = action_totals(contract)
    years = contract.years
    by_type: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for (_m, type_id, year), n in totals.count.items():
        by_type[type_id][year] += n
    by_mission: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    by_profession: dict[int | None, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for (mission_id, profession_id, year), n in totals.participants.items():
        by_mission[mission_id][year] += n
        by_profession[profession_id][year] += n
    types = ActionType.objects.filter(pk__in=list(by_type)) if by_type else []
    professions = Profession.objects.filter(pk__in=[p for p in by_profession if p is not None]) \
        if any(p is not None for p in by_profession) else []
    rows_profession = [_row(p.label, by_profession[p.pk], years) for p in professions]
    if None in by_profession:
        rows_profession.append(_row(_("Autres participants"), by_profession[None], years))
    return Summary(
        years=years,
        by_type=[_row(t.label, by_type[t.pk], years) for t in types],
        by_mission=[_row(str(m.mission_type), by_mission.get(m.pk, {}), years) for m in missions],
        by_profession=rows_profession,
    )


# --- Month calendar -------------------------------------------------------------------------------------


@dataclass
class Day:
    day: date
    in_month: bool
    actions: list[Action]


@dataclass
class Month:
    first: date
    weeks: list[list[Day]]  # Monday → Sunday
    previous: date
    next: date
    count: int

    @property
    def days_with_actions(self) -> list[Day]:
        return [d for week in self.weeks for d in week if d.in_month and d.actions]


def month_of(association: Association, first: date) -> Month:
    """The month grid starting on ``first`` (day 1) with the actions of each day: one query."""
    weeks_days = month_calendar.Calendar(firstweekday=0).monthdatescalendar(first.year, first.month)
    start, end = weeks_days[0][0], weeks_days[-1][-1]
    by_day: dict[date, list[Action]] = defaultdict(list)
    rows = (Action.objects.filter(association=association, date__range=(start, end))
            .select_related("action_type", "mission__mission_type").order_by("date", "title", "pk"))
    count = 0
    for action in rows:
        by_day[action.date].append(action)
        if action.date.month == first.month:
            count += 1
    weeks = [[Day(d, d.month == first.month, by_day.get(d, [])) for d in week] for week in weeks_days]
    previous = (first - timedelta(days=1)).replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return Month(first, weeks, previous, following, count)


def feed_actions(association: Association) -> list[Action]:
    """Every action of the association for the ``.ics`` feed (one query: mission, type, participants)."""
    return list(action_queryset(association).order_by("date", "pk"))
