"""Read models of the ACI contract: deadlines of every mission with their state, the contract summary,
the dashboard block. The number of queries does not depend on the number of missions or deadline moves.

Current due date of a deadline = the latest ``DeadlineChange`` of that kind, else signature + months (the
mission's override, else the catalogue's delay).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.db.models import Prefetch
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from associations.models import Association
from missions import calendar
from missions.models import Avenant, Contract, ContractMission, DeadlineChange, DeadlineKind

STATE_LABELS = {
    "met": _("tenue"),
    "met_late": _("tenue en retard"),
    "late": _("en retard"),
    "at_risk": _("à moins de 60 jours"),
    "upcoming": _("à venir"),
    "none": _("fixée par le contrat"),
}
# Bootstrap classes of each state; the label always says it in words too.
STATE_CLASSES = {
    "met": "text-bg-success",
    "met_late": "text-bg-secondary",
    "late": "text-bg-danger",
    "at_risk": "text-bg-danger",
    "upcoming": "text-bg-light border",
    "none": "text-bg-light border",
}
ALERT_STATES = ("late", "at_risk")


@dataclass
class Deadline:
    kind: str
    label: str
    original_due: date | None
    due: date | None
    reached_on: date | None
    state: str
    history: list[DeadlineChange] = field(default_factory=list)

    @property
    def state_label(self) -> str:
        return str(STATE_LABELS[self.state])

    @property
    def state_class(self) -> str:
        return STATE_CLASSES[self.state]

    @property
    def is_alert(self) -> bool:
        return self.state in ALERT_STATES

    @property
    def moved(self) -> bool:
        return bool(self.history)


@dataclass
class MissionRow:
    mission: ContractMission
    start: Deadline
    deployment: Deadline

    @property
    def deadlines(self) -> tuple[Deadline, Deadline]:
        return (self.start, self.deployment)

    @property
    def has_alert(self) -> bool:
        return self.start.is_alert or self.deployment.is_alert


def _months(mission: ContractMission, kind: str) -> int | None:
    if kind == DeadlineKind.START:
        own, catalogue = mission.start_months, mission.mission_type.start_months
    else:
        own, catalogue = mission.deployment_months, mission.mission_type.deployment_months
    return own if own is not None else catalogue


def _deadline(mission: ContractMission, kind: str, changes: list[DeadlineChange], signed_on: date,
              today: date) -> Deadline:
    history = [c for c in changes if c.kind == kind]  # ordered by created_at, id (model ordering)
    original = calendar.due_date(signed_on, _months(mission, kind))
    due = history[-1].due_on if history else original
    reached = mission.started_on if kind == DeadlineKind.START else mission.deployed_on
    if kind == DeadlineKind.START and reached is None and mission.deployed_on is not None:
        reached = mission.deployed_on
    return Deadline(kind=kind, label=str(DeadlineKind(kind).label), original_due=original, due=due,
                    reached_on=reached, state=calendar.deadline_state(due, reached, today), history=history)


def mission_row(mission: ContractMission, signed_on: date, today: date | None = None) -> MissionRow:
    """Deadlines of one mission whose ``deadline_changes`` are prefetched (or fetched: one query)."""
    today = today or timezone.localdate()
    changes = list(mission.deadline_changes.all())
    return MissionRow(mission, _deadline(mission, DeadlineKind.START, changes, signed_on, today),
                      _deadline(mission, DeadlineKind.DEPLOYMENT, changes, signed_on, today))


def current_due_dates(mission: ContractMission) -> dict[str, date | None]:
    row = mission_row(mission, mission.contract.signed_on)
    return {DeadlineKind.START: row.start.due, DeadlineKind.DEPLOYMENT: row.deployment.due}


def missions_queryset(contract: Contract):
    return (
        ContractMission.objects.filter(association=contract.association_id, contract=contract)
        .select_related("mission_type", "referent", "owner")
        .prefetch_related(Prefetch(
            "deadline_changes",
            queryset=DeadlineChange.objects.filter(association=contract.association_id)
            .select_related("avenant", "created_by"),
        ))
        .order_by("mission_type__order", "pk")
    )


def mission_rows(contract: Contract, today: date | None = None) -> list[MissionRow]:
    """Every mission of the contract with both deadlines (2 queries)."""
    today = today or timezone.localdate()
    return [mission_row(m, contract.signed_on, today) for m in missions_queryset(contract)]


def current_contract(association: Association) -> Contract | None:
    """The association's latest contract with its version (1 query)."""
    return (Contract.objects.filter(association=association).select_related("version", "association")
            .order_by("-signed_on").first())


def contract_summary(association: Association, today: date | None = None) -> dict | None:
    """Everything the contract page shows (4 queries: contract, avenants, missions, deadline changes)."""
    today = today or timezone.localdate()
    contract = current_contract(association)
    if contract is None:
        return None
    avenants = list(Avenant.objects.filter(association=association, contract=contract).order_by("number"))
    rows = mission_rows(contract, today)
    years = contract.years
    current_year = calendar.year_of(contract.signed_on, today)
    alerts = [(row, d) for row in rows for d in row.deadlines if d.is_alert]
    return {
        "contract": contract,
        "avenants": avenants,
        "rows": rows,
        "years": years,
        "current_year": current_year,
        "ended": today > years[-1].end,
        "alerts": alerts,
        "today": today,
        "socle_count": sum(1 for r in rows if r.mission.is_socle),
        "complementary_count": sum(1 for r in rows if not r.mission.is_socle),
    }


def alert_deadlines(association: Association, today: date | None = None) -> tuple[Contract | None, list]:
    """Late and at-risk deadlines of the current contract, soonest first (3 queries)."""
    today = today or timezone.localdate()
    contract = current_contract(association)
    if contract is None:
        return None, []
    alerts = [(row, d) for row in mission_rows(contract, today) for d in row.deadlines if d.is_alert]
    alerts.sort(key=lambda pair: (pair[1].due, pair[0].mission.mission_type.order))
    return contract, alerts


def deadlines_block(request: HttpRequest) -> dict:
    """Dashboard block "Échéances ACI" (3 queries, whatever the number of missions or moves)."""
    contract, alerts = alert_deadlines(request.association)
    return {"contract": contract, "alerts": alerts, "today": timezone.localdate()}


# --- Deadline timeline (server-side SVG, same chart for the page and a PDF) ---------------------------


def _short(label: str, size: int = 34) -> str:
    return label if len(label) <= size else label[: size - 1].rstrip() + "…"


def deadline_timeline_svg(summary: dict) -> str:
    """The contract's five years with each mission's start and full-deployment deadlines and today, as an
    inline SVG drawn by pygal (no JavaScript). The page shows the same figures in a table next to it."""
    import pygal
    from pygal.style import Style

    rows, years, today = summary["rows"], summary["years"], summary["today"]
    count = len(rows)
    style = Style(
        background="transparent", plot_background="#ffffff", foreground="#212529", foreground_strong="#212529",
        foreground_subtle="#6c757d", font_family="system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif",
        label_font_size=12, major_label_font_size=12, legend_font_size=13, value_font_size=12,
        colors=("#0d6efd", "#198754", "#b02a37", "#6c757d"),
    )
    chart = pygal.DateLine(
        js=[], disable_xml_declaration=True, explicit_size=False, width=960, height=90 + 42 * max(count, 1),
        style=style, stroke=False, dots_size=7, show_legend=True, legend_at_bottom=True,
        legend_at_bottom_columns=2, truncate_legend=-1,
        range=(0, count + 1), include_x_axis=False, show_y_guides=True, show_x_guides=True, truncate_label=-1,
        x_value_formatter=lambda d: f"{d:%m/%Y}", x_label_rotation=0, print_values=False,
        y_labels=[{"label": f"{i}. {_short(row.mission.mission_type.label)}", "value": count - i + 1}
                  for i, row in enumerate(rows, start=1)],
        tooltip_border_radius=4,
    )
    chart.x_labels = [year.start for year in years] + [years[-1].end]

    def points(kind: str) -> list:
        out = []
        for i, row in enumerate(rows, start=1):
            deadline = row.start if kind == "start" else row.deployment
            if deadline.due:
                out.append({"value": (deadline.due, count - i + 1),
                            "label": f"{row.mission.mission_type.label} — {deadline.label} : "
                                     f"{deadline.due:%d/%m/%Y} ({deadline.state_label})"})
        return out

    chart.add(str(_("Démarrage")), points("start"))
    chart.add(str(_("Déploiement complet")), points("deployment"), dots_size=9)
    alerts = [{"value": (d.due, count - rows.index(row)), "label": f"{row.mission.mission_type.label} — {d.label}"}
              for row, d in summary["alerts"]]
    chart.add(str(_("En retard ou à moins de 60 jours")), alerts, dots_size=4)
    if years[0].start <= today <= years[-1].end:
        chart.add(str(_("Aujourd'hui")), [(today, 0), (today, count + 1)], stroke=True, show_dots=False,
                  stroke_style={"width": 2, "dasharray": "6, 4"})
    return chart.render(is_unicode=True)
