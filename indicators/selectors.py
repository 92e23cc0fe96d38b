"""Read models of the indicators: the grid (missions × indicators × contract years), one refreshed cell
with its mission's achievement, the evidence checklist, the grid export.

Query budget (does not grow with missions, indicators, years or actions):
  grid: contract, missions, indicators, values (with their evidence count), one aggregate over the
  actions feeding indicators (only when an indicator is fed by actions) → 4–5 queries.
  one mission-year (after a cell save): indicators of the mission, values of the year, actions → 2–3.
  checklist: the grid's queries plus the evidence of the actions and the list of evidence → 6–7.

Indicators fed by actions: the realised value of a year is the number of actions of
``feed_action_type`` dated in that contract year (or the sum of their participants), over every
mission of the contract; a year not started yet has no value (missing, not 0). It is computed, never
typed (``services.save_value`` refuses it).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db.models import Case, Count, IntegerField, Q, QuerySet, Sum, Value, When
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from associations.models import Association
from indicators.achievement import Achievement, MissionAchievement, achievement, weighted
from indicators.models import Evidence, Feed, Indicator, IndicatorValue
from missions.calendar import ContractYear
from missions.models import Action, Contract, ContractMission, Unit

UNIT_SUFFIX = {Unit.RATE: " %", Unit.AMOUNT: " €", Unit.DAYS: " j"}


def current_contract(association: Association) -> Contract | None:
    """The contract in force: the last one signed (one query)."""
    return Contract.objects.filter(association=association).order_by("-signed_on", "-pk").first()


def format_value(value: Decimal | None, unit: str) -> str:
    if value is None:
        return ""
    if unit == Unit.BOOLEAN:
        return _("oui") if value >= 1 else _("non")
    text = formats.number_format(value.normalize() if value == value.to_integral() else value,
                                 decimal_pos=0 if value == value.to_integral() else 2, use_l10n=True,
                                 force_grouping=True)
    return text + UNIT_SUFFIX.get(unit, "")


def input_value(value: Decimal | None, unit: str) -> str:
    """The value as the coordinator types it back (``12,5``; ``oui``/``non`` for a deliverable)."""
    if value is None:
        return ""
    if unit == Unit.BOOLEAN:
        return _("oui") if value >= 1 else _("non")
    text = f"{value.normalize():f}" if value == value.to_integral() else f"{value:f}".rstrip("0")
    return text.replace(".", ",")


def percent_text(percent: Decimal) -> str:
    """``75 %``, ``62,5 %`` (achievements are rounded to 0.1 by ``indicators.achievement``)."""
    whole = percent == percent.to_integral()
    return formats.number_format(percent, decimal_pos=0 if whole else 1, use_l10n=True) + " %"


@dataclass(frozen=True)
class Texts:
    """The cell's words, translated once per grid rather than once per cell (900 cells in a big grid)."""

    labels: dict[str, str]
    edit_aria: str
    evidence_aria: str
    empty: str
    computed: str
    computed_title: str
    undefined: str
    achievement: str

    @classmethod
    def build(cls) -> Texts:
        return cls(
            labels={"baseline": _("Initiale"), "target": _("Objectif"), "realised": _("Réalisé")},
            edit_aria=_("%(field)s, %(indicator)s, année %(year)s : %(value)s. Modifier"),
            evidence_aria=_("Détail et livrables (%(n)s), %(indicator)s, année %(year)s"),
            empty=_("vide"), computed=_("calculé"), computed_title=_("Calculé à partir du registre des actions"),
            undefined=_("non définie"), achievement=_("Atteinte"),
        )


@dataclass(frozen=True)
class Line:
    name: str
    label: str
    display: str
    editable: bool
    url: str
    aria: str


@dataclass
class Cell:
    """One indicator in one contract year. ``base`` is the grid's URL (``aci_grid``): the cell's links are
    built from it (see ``indicators/urls.py``) instead of reversing four URLs per cell."""

    indicator: Indicator
    year: ContractYear
    value: IndicatorValue | None
    realised: Decimal | None
    computed: bool
    achievement: Achievement
    evidence_count: int = 0
    current: bool = False
    base: str = ""
    texts: Texts | None = None

    @property
    def path(self) -> str:
        return f"{self.base}{self.indicator.pk}/annee/{self.year.number}/"

    @property
    def detail_url(self) -> str:
        return f"{self.path}valeur/"

    @property
    def lines(self) -> list[Line]:
        texts = self.texts or Texts.build()
        lines = []
        for name in ("baseline", "target", "realised"):
            display = self.display(name)
            label = texts.labels[name]
            lines.append(Line(name, label, display or "—", not (name == "realised" and self.computed),
                              f"{self.path}{name}/",
                              texts.edit_aria % {"field": label, "indicator": self.indicator.label,
                                                 "year": self.year.number, "value": display or texts.empty}))
        return lines

    @property
    def evidence_aria(self) -> str:
        texts = self.texts or Texts.build()
        return texts.evidence_aria % {"n": self.evidence_count, "indicator": self.indicator.label,
                                      "year": self.year.number}

    @property
    def baseline(self) -> Decimal | None:
        return self.value.baseline if self.value else None

    @property
    def target(self) -> Decimal | None:
        return self.value.target if self.value else None

    @property
    def baseline_display(self) -> str:
        return format_value(self.baseline, self.indicator.unit)

    @property
    def target_display(self) -> str:
        return format_value(self.target, self.indicator.unit)

    @property
    def realised_display(self) -> str:
        return format_value(self.realised, self.indicator.unit)

    @property
    def percent_display(self) -> str:
        if self.achievement.percent is None:
            return ""
        return percent_text(self.achievement.percent)

    @property
    def dom_id(self) -> str:
        return f"cell-{self.indicator.pk}-{self.year.number}"

    @property
    def undefined(self) -> bool:
        """The values are there but the achievement cannot be computed (target equal to the baseline…)."""
        return self.achievement.percent is None and self.realised is not None

    def display(self, name: str) -> str:
        return {"baseline": self.baseline_display, "target": self.target_display,
                "realised": self.realised_display}[name]


@dataclass
class IndicatorRow:
    indicator: Indicator
    cells: list[Cell]


@dataclass
class MissionYear:
    """The weighted achievement of a mission in one contract year."""

    mission: ContractMission
    year: ContractYear
    result: MissionAchievement
    current: bool = False

    @property
    def dom_id(self) -> str:
        return f"mission-{self.mission.pk}-year-{self.year.number}"

    @property
    def percent_display(self) -> str:
        if self.result.percent is None:
            return ""
        return percent_text(self.result.percent)


@dataclass
class MissionBlock:
    mission: ContractMission
    rows: list[IndicatorRow]
    years: list[MissionYear]

    @property
    def current(self) -> MissionYear | None:
        return next((y for y in self.years if y.current), None)


@dataclass
class Grid:
    contract: Contract | None
    years: list[ContractYear] = field(default_factory=list)
    current_year: int | None = None
    missions: list[MissionBlock] = field(default_factory=list)

    @property
    def indicator_count(self) -> int:
        return sum(len(block.rows) for block in self.missions)


# --- Building blocks -------------------------------------------------------------------------------


def year_case(years: list[ContractYear], field_name: str = "date") -> Case:
    """The contract year (1–5) of ``field_name`` as an SQL expression, NULL outside the contract."""
    return Case(*[When(**{f"{field_name}__range": (year.start, year.end)}, then=Value(year.number))
                  for year in years], default=None, output_field=IntegerField())


def action_feeds(contract: Contract, indicators: Iterable[Indicator]) -> dict[tuple[int, int], tuple[int, int]]:
    """``{(action_type_id, year): (number of actions, participants)}`` for the action types feeding
    ``indicators``: one aggregate query over the contract's actions (none when no indicator is fed)."""
    types = {i.feed_action_type_id for i in indicators if i.feed != Feed.MANUAL and i.feed_action_type_id}
    if not types:
        return {}
    years = contract.years
    rows = (Action.objects.filter(association=contract.association_id, mission__contract=contract,
                                  action_type_id__in=types, date__range=(years[0].start, years[-1].end))
            .annotate(contract_year=year_case(years)).order_by()
            .values("action_type_id", "contract_year")
            .annotate(actions=Count("id", distinct=True), participants=Sum("participations__count")))
    return {(row["action_type_id"], row["contract_year"]): (row["actions"], row["participants"] or 0)
            for row in rows}


def fed_realised(indicator: Indicator, year: ContractYear, feeds: dict, today: date) -> Decimal | None:
    if year.start > today:
        return None  # not started yet: missing, not 0
    actions, participants = feeds.get((indicator.feed_action_type_id, year.number), (0, 0))
    return Decimal(actions if indicator.feed == Feed.ACTION_COUNT else participants)


def make_cell(indicator: Indicator, year: ContractYear, value: IndicatorValue | None, *, cap: Decimal,
              feeds: dict, today: date, current: bool = False, base: str = "", texts: Texts | None = None) -> Cell:
    computed = indicator.feed != Feed.MANUAL
    realised = fed_realised(indicator, year, feeds, today) if computed else (value.realised if value else None)
    result = achievement(unit=indicator.unit, direction=indicator.direction,
                         baseline=value.baseline if value else None, target=value.target if value else None,
                         realised=realised, cap=cap)
    return Cell(indicator, year, value, realised, computed, result,
                evidence_count=getattr(value, "evidence_count", 0) if value else 0, current=current, base=base,
                texts=texts)


def grid_url(association: Association) -> str:
    return reverse("aci_grid", kwargs={"association_slug": association.slug})


def _indicators(contract: Contract) -> QuerySet[Indicator]:
    return (Indicator.objects.filter(association=contract.association_id, mission__contract=contract)
            .order_by("mission_id", "order", "id"))


def _values(contract: Contract, **filters) -> QuerySet[IndicatorValue]:
    return (IndicatorValue.objects.filter(association=contract.association_id, indicator__mission__contract=contract,
                                          **filters)
            .annotate(evidence_count=Count("evidence")).order_by())


def contract_missions(contract: Contract) -> QuerySet[ContractMission]:
    return (ContractMission.objects.filter(association=contract.association_id, contract=contract)
            .select_related("mission_type").order_by("mission_type__order", "pk"))


# --- The grid --------------------------------------------------------------------------------------


def grid(association: Association, *, today: date | None = None, contract: Contract | None = None) -> Grid:
    """Every mission of the contract in force with its indicators, their cells for the five contract
    years and the mission's weighted achievement per year (4–5 queries, whatever the size)."""
    today = today or timezone.localdate()
    contract = contract or current_contract(association)
    if contract is None:
        return Grid(None)
    contract.association = association
    years = contract.years
    current = next((y.number for y in years if today in y), None)
    missions = list(contract_missions(contract))
    indicators = list(_indicators(contract))
    values = {(v.indicator_id, v.year): v for v in _values(contract)}
    feeds = action_feeds(contract, indicators)
    base, texts = grid_url(association), Texts.build()
    by_mission: dict[int, list[Indicator]] = defaultdict(list)
    for indicator in indicators:
        by_mission[indicator.mission_id].append(indicator)
    blocks = []
    for mission in missions:
        rows = []
        for indicator in by_mission[mission.pk]:
            indicator.mission = mission
            indicator.association = association
            cells = [make_cell(indicator, year, values.get((indicator.pk, year.number)), cap=contract.achievement_cap,
                               feeds=feeds, today=today, current=year.number == current, base=base, texts=texts)
                     for year in years]
            rows.append(IndicatorRow(indicator, cells))
        mission_years = [
            MissionYear(mission, year, weighted((row.indicator.weight, row.cells[index].achievement) for row in rows),
                        current=year.number == current)
            for index, year in enumerate(years)
        ]
        blocks.append(MissionBlock(mission, rows, mission_years))
    return Grid(contract, years, current, blocks)


@dataclass
class CellRefresh:
    cell: Cell
    mission_year: MissionYear


def refresh_cell(indicator: Indicator, year_number: int, *, today: date | None = None) -> CellRefresh:
    """One cell after a save, with its mission's achievement for that year (2–3 queries: the mission's
    indicators, their values of that year, the actions feeding them)."""
    today = today or timezone.localdate()
    mission = indicator.mission
    contract = mission.contract
    years = contract.years
    year = years[year_number - 1]
    current = today in year
    indicators = list(Indicator.objects.filter(association=indicator.association_id, mission=mission)
                      .order_by("order", "id"))
    values = {v.indicator_id: v for v in IndicatorValue.objects.filter(
        association=indicator.association_id, indicator__mission=mission, year=year_number)
        .annotate(evidence_count=Count("evidence")).order_by()}
    feeds = action_feeds(contract, indicators)
    base, texts = grid_url(indicator.association), Texts.build()
    cells = {}
    for other in indicators:
        other.mission = mission
        cells[other.pk] = make_cell(other, year, values.get(other.pk), cap=contract.achievement_cap, feeds=feeds,
                                    today=today, current=current, base=base, texts=texts)
    result = weighted((other.weight, cells[other.pk].achievement) for other in indicators)
    cell = cells.get(indicator.pk) or make_cell(indicator, year, values.get(indicator.pk),
                                                cap=contract.achievement_cap, feeds=feeds, today=today,
                                                current=current, base=base, texts=texts)
    return CellRefresh(cell, MissionYear(mission, year, result, current=current))


# --- Evidence checklist ---------------------------------------------------------------------------


@dataclass
class ChecklistItem:
    cell: Cell
    action_evidence: int = 0  # evidence attached to the actions that feed the indicator that year


@dataclass
class MissionEvidence:
    mission: ContractMission
    missing: list[ChecklistItem]
    evidence: list[Evidence]


def evidence_checklist(association: Association, *, today: date | None = None) -> tuple[Grid, list[MissionEvidence]]:
    """Per mission: the indicator-years that have a realised value but no evidence, and the evidence
    already attached (to the mission's indicator values or its actions). 6–7 queries."""
    data = grid(association, today=today)
    if data.contract is None:
        return data, []
    contract = data.contract
    fed_types = {row.indicator.feed_action_type_id for block in data.missions for row in block.rows
                 if row.cells[0].computed}
    action_evidence: dict[tuple[int, int], int] = {}
    if fed_types:
        rows = (Evidence.objects.filter(association=association, action__mission__contract=contract,
                                        action__action_type_id__in=fed_types)
                .annotate(contract_year=year_case(data.years, "action__date")).order_by()
                .values("action__action_type_id", "contract_year").annotate(n=Count("id")))
        action_evidence = {(r["action__action_type_id"], r["contract_year"]): r["n"] for r in rows}
    files = (Evidence.objects.filter(association=association)
             .filter(Q(value__indicator__mission__contract=contract) | Q(action__mission__contract=contract))
             .select_related("value__indicator", "action", "uploaded_by").order_by("-date", "-id"))
    by_mission: dict[int, list[Evidence]] = defaultdict(list)
    for evidence in files:
        mission_id = evidence.value.indicator.mission_id if evidence.value_id else evidence.action.mission_id
        by_mission[mission_id].append(evidence)
    result = []
    for block in data.missions:
        missing = []
        for row in block.rows:
            for cell in row.cells:
                if cell.realised is None or cell.evidence_count:
                    continue
                if cell.computed:
                    if not cell.realised:
                        continue  # no action that year: nothing to prove
                    attached = action_evidence.get((row.indicator.feed_action_type_id, cell.year.number), 0)
                    if attached:
                        continue
                missing.append(ChecklistItem(cell))
        result.append(MissionEvidence(block.mission, missing, by_mission.get(block.mission.pk, [])))
    return data, result


# --- Export ----------------------------------------------------------------------------------------


def grid_rows(data: Grid) -> tuple[list[str], list[list]]:
    """The grid as flat rows (one per indicator and contract year) for the CSV / Excel export."""
    headers = [_("Mission"), _("Code"), _("Indicateur"), _("Unité"), _("Sens"), _("Poids"), _("Source"),
               _("Année du contrat"), _("Début"), _("Fin"), _("Valeur initiale"), _("Objectif"), _("Réalisé"),
               _("Réalisé calculé (actions)"), _("Mesuré le"), _("Atteinte (%)"), _("Remarque"), _("Livrables")]
    rows = []
    for block in data.missions:
        for row in block.rows:
            indicator = row.indicator
            for cell in row.cells:
                rows.append([
                    str(block.mission), indicator.code, indicator.label, indicator.get_unit_display(),
                    indicator.get_direction_display(), indicator.weight, indicator.get_source_display(),
                    cell.year.number, cell.year.start, cell.year.end, cell.baseline, cell.target, cell.realised,
                    _("oui") if cell.computed else _("non"),
                    cell.value.measured_on if cell.value and cell.value.measured_on else None,
                    cell.achievement.percent, cell.achievement.problem, cell.evidence_count,
                ])
    return headers, rows
