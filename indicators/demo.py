"""Demo ACI contract of the T3 demo association (``val-de-loire-sud``) for ``manage.py seed_demo``.

A contract signed 4 years and 3 months before today (ACI avenant 2, CPAM d'Indre-et-Loire, ARS
Centre-Val de Loire, size T3 from the population), its six missions with statuses and dates consistent
with their deadlines (the socle ones deployed, the "accompagnement" complémentaire started late and
its deployment close to its deadline), one avenant moving the deployment deadline of the parcours mission
and revising a target, 27 indicators with the wordings of the template library (codes "ACC-01"…),
baselines, targets and realised values for the past contract years and a few for the current one,
indicators fed by actions (réunions pluriprofessionnelles, soirées de formation, journées de prévention
and their participants, exercices de crise), about 80 actions with participants by profession (counts
only) and evidence files (small PDFs written here, stored through ``Evidence.file``).

Everything is drawn from ``random.Random(SEED)``; the loader does nothing when the association already
has a contract, so a second run changes nothing. Figures are demo data, not reference data.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from dateutil.relativedelta import relativedelta
from django.core.files.base import ContentFile
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from associations.models import Association, Member, Profession, User
from associations.registries import DemoLoader, register_demo_loader
from indicators.models import Evidence, EvidenceKind, Feed, Indicator, IndicatorValue, TargetRevision
from missions.calendar import ContractYear
from missions.models import (
    ACIVersion,
    Action,
    ActionParticipation,
    ActionType,
    Avenant,
    Contract,
    ContractMission,
    DeadlineChange,
    DeadlineKind,
    IndicatorTemplate,
    MissionStatus,
    MissionType,
)

SEED = 3711
DEMO_SLUG = "val-de-loire-sud"
VERSION = "avenant-2"

# Mission code → (status, started after N months, deployed after N months, contract's own delays for a
# complémentaire: start months, deployment months).
MISSIONS = {
    "acces": (MissionStatus.DEPLOYED, 4, 16, None),
    "parcours": (MissionStatus.DEPLOYED, 9, 27, None),  # deployed after 24 months: the avenant moved it to 30
    "prevention": (MissionStatus.DEPLOYED, 10, 22, None),
    "crise": (MissionStatus.DEPLOYED, 5, 17, None),
    "qualite": (MissionStatus.DEPLOYED, 11, 29, (12, 30)),
    "accompagnement": (MissionStatus.STARTED, 21, None, (18, 52)),  # started late; deployment due soon
}
AVENANT_MONTHS = 20
PARCOURS_DEPLOYMENT_MONTHS = 30


@dataclass(frozen=True)
class Spec:
    """One demo indicator: template wording (or a free one with its unit/direction/source), baseline, final
    target (year 5), and how it is fed."""

    code: str
    mission: str
    label: str
    baseline: float | None
    target: float | None
    unit: str = ""  # free indicators only (templates carry theirs)
    direction: str = ""
    source: str = ""
    feed: str = Feed.MANUAL
    action_type: str = ""
    yearly: tuple[float, ...] = ()  # targets per year (counts fed by actions: not cumulative)
    weight: int = 1
    current: bool = False  # a realised value already known for the current year
    start_year: int = 1


SPECS = [
    Spec("ACC-01", "acces", "Patients en ALD sans médecin traitant", 1480, 980, weight=3, current=True),
    Spec("ACC-02", "acces", "Patients de 70 ans et plus sans médecin traitant", 2150, 1600, weight=2, current=True),
    Spec("ACC-03", "acces", "Patients C2S sans médecin traitant", 640, 450),
    Spec("ACC-04", "acces", "Demandes de soins non programmés traitées dans les 24 h", 71.5, 90),
    Spec("ACC-05", "acces", "Créneaux de soins non programmés (SNP/SAS) ouverts", 120, 600, current=True),
    Spec("ACC-06", "acces", "Médecins participant au guichet unique", 8, 35),
    Spec("PAR-01", "parcours", "Patients inclus dans le parcours", 0, 400, weight=2),
    Spec("PAR-02", "parcours", "Délai d'accès au parcours", 62, 30),
    Spec("PAR-03", "parcours", "Professionnels impliqués dans le parcours", 12, 60),
    Spec("PAR-04", "parcours", "Protocole pluriprofessionnel rédigé", None, 1, current=True),
    Spec("PRE-01", "prevention", "Taux de dépistage du cancer du sein", 62.89, 69, weight=2),
    Spec("PRE-02", "prevention", "Taux de dépistage du cancer du col de l'utérus", 58.4, 65),
    Spec("PRE-03", "prevention", "Taux de dépistage du cancer colorectal", 31.2, 40),
    Spec("PRE-04", "prevention", "Journées de sensibilisation organisées", 1, None, feed=Feed.ACTION_COUNT,
         action_type="prevention", yearly=(2, 3, 4, 4, 5)),
    Spec("PRE-05", "prevention", "Participants aux journées de sensibilisation", 40, None, feed=Feed.PARTICIPANTS,
         action_type="prevention", yearly=(80, 150, 220, 260, 300)),
    Spec("PRE-06", "prevention", "Taux de vaccination antigrippale des 65 ans et plus", 52.3, 60, unit="rate",
         direction="up", source="cpam"),
    Spec("CRI-01", "crise", "Plan de gestion de crise rédigé", None, 1, weight=2, current=True),
    Spec("CRI-02", "crise", "Plan de gestion de crise mis à jour dans l'année", None, 1, start_year=2),
    Spec("CRI-03", "crise", "Professionnels mobilisables en cas de crise", 25, 120),
    Spec("CRI-04", "crise", "Exercices de crise réalisés", None, None, unit="count", direction="reach",
         source="cpts", feed=Feed.ACTION_COUNT, action_type="exercice-crise", yearly=(1, 1, 1, 1, 1)),
    Spec("QUA-01", "qualite", "Réunions pluriprofessionnelles (ordre du jour, émargement, compte rendu)", 2, None,
         feed=Feed.ACTION_COUNT, action_type="rpc", yearly=(4, 6, 8, 10, 12), weight=2),
    Spec("QUA-02", "qualite", "Soirées de formation organisées", 1, None, feed=Feed.ACTION_COUNT,
         action_type="formation", yearly=(2, 3, 4, 4, 5)),
    Spec("QUA-03", "qualite", "Participants aux soirées de formation", 20, None, unit="count", direction="up",
         source="cpts", feed=Feed.PARTICIPANTS, action_type="formation", yearly=(40, 60, 80, 90, 100)),
    Spec("QUA-04", "qualite", "Protocoles pluriprofessionnels rédigés et diffusés", 0, 8, unit="count",
         direction="up", source="cpts"),
    Spec("ACP-01", "accompagnement", "Maîtres de stage du territoire", 14, 30, start_year=2),
    Spec("ACP-02", "accompagnement", "Étudiants accueillis en stage", 10, 40, start_year=2),
    Spec("ACP-03", "accompagnement", "Professionnels aidés à s'installer", 0, 12, start_year=2),
]

# Actions per contract year (year 5 has just begun): (mission, action type, [count per year]).
ACTION_PLAN = [
    ("qualite", "rpc", (3, 5, 7, 9, 3)),
    ("qualite", "formation", (2, 3, 4, 4, 1)),
    ("prevention", "prevention", (1, 3, 4, 4, 1)),
    ("crise", "exercice-crise", (0, 1, 1, 1, 0)),
    ("acces", "permanence", (1, 2, 2, 2, 1)),
    ("parcours", "protocole", (0, 2, 1, 1, 1)),
    ("parcours", "autre", (1, 1, 1, 0, 0)),
    ("accompagnement", "accueil-stagiaire", (0, 1, 2, 2, 1)),
    ("accompagnement", "autre", (0, 1, 0, 1, 0)),
]
TITLES = {
    "rpc": ["Réunion pluriprofessionnelle — insuffisance cardiaque", "Réunion pluriprofessionnelle — plaies "
            "chroniques", "Réunion pluriprofessionnelle — sortie d'hospitalisation", "Réunion pluriprofessionnelle "
            "— polymédication du sujet âgé", "Réunion pluriprofessionnelle — diabète de type 2",
            "Réunion pluriprofessionnelle — soins palliatifs à domicile"],
    "formation": ["Soirée de formation : antibiorésistance", "Soirée de formation : BPCO et spirométrie",
                  "Soirée de formation : repérage de la fragilité", "Soirée de formation : vaccination HPV",
                  "Soirée de formation : santé mentale des adolescents"],
    "prevention": ["Journée Octobre rose", "Journée Mars bleu (dépistage colorectal)", "Forum prévention seniors",
                   "Journée de sensibilisation au dépistage du col de l'utérus", "Village santé du marché"],
    "exercice-crise": ["Exercice de crise : canicule", "Exercice de crise : épidémie hivernale",
                       "Exercice de crise : inondation de la Loire"],
    "permanence": ["Permanence de soins non programmés du samedi", "Ouverture de créneaux SAS partagés",
                   "Permanence SNP pendant l'épidémie de grippe"],
    "protocole": ["Protocole pluriprofessionnel : insuffisance cardiaque", "Protocole : anticoagulants oraux",
                  "Protocole : retour à domicile après chirurgie ambulatoire"],
    "autre": ["Réunion de lancement du parcours", "Soirée d'accueil des nouveaux installés",
              "Comité de pilotage du parcours"],
    "accueil-stagiaire": ["Accueil des internes de médecine générale", "Journée d'accueil des étudiants en santé",
                          "Accueil des étudiants infirmiers"],
}
PLACES = ["Tours", "Joué-lès-Tours", "Chambray-lès-Tours", "Saint-Avertin", "Ballan-Miré", "Montbazon", "Veigné",
          "Saint-Cyr-sur-Loire"]
PARTNERS = {
    "prevention": ["CRCDC Centre-Val de Loire", "Ligue contre le cancer 37", "CPAM d'Indre-et-Loire",
                   "Mairie de Joué-lès-Tours"],
    "exercice-crise": ["ARS Centre-Val de Loire", "SDIS 37", "Préfecture d'Indre-et-Loire"],
    "formation": ["URPS Médecins Centre-Val de Loire", "Faculté de médecine de Tours"],
    "accueil-stagiaire": ["Faculté de médecine de Tours", "IFSI du CHRU de Tours"],
    "rpc": ["CHRU de Tours", "HAD 37"],
}
# Who takes part, per action type: (profession code or "" for other participants, min, max).
PARTICIPANTS = {
    "rpc": [("medecin-generaliste", 2, 7), ("infirmier", 2, 5), ("pharmacien", 1, 3),
            ("masseur-kinesitherapeute", 0, 2)],
    "formation": [("medecin-generaliste", 6, 18), ("infirmier", 3, 10), ("pharmacien", 2, 6), ("sage-femme", 0, 3)],
    "prevention": [("", 30, 90), ("medecin-generaliste", 1, 3), ("infirmier", 2, 4), ("sage-femme", 1, 2),
                   ("pharmacien", 1, 2)],
    "exercice-crise": [("medecin-generaliste", 4, 10), ("infirmier", 4, 9), ("pharmacien", 2, 5), ("", 2, 6)],
    "permanence": [("medecin-generaliste", 3, 8), ("infirmier", 0, 2)],
    "protocole": [("medecin-generaliste", 2, 4), ("infirmier", 1, 3), ("pharmacien", 1, 2)],
    "autre": [("medecin-generaliste", 3, 9), ("infirmier", 2, 6), ("pharmacien", 1, 3),
              ("masseur-kinesitherapeute", 1, 3)],
    "accueil-stagiaire": [("", 4, 12), ("medecin-generaliste", 2, 5)],
}
ACTION_EVIDENCE = {
    "rpc": [(EvidenceKind.SIGN_IN, "Feuille d'émargement"), (EvidenceKind.MINUTES, "Compte rendu")],
    "formation": [(EvidenceKind.SIGN_IN, "Feuille d'émargement")],
    "prevention": [(EvidenceKind.SIGN_IN, "Feuille de présence des bénévoles")],
    "exercice-crise": [(EvidenceKind.MINUTES, "Retour d'expérience")],
    "protocole": [(EvidenceKind.PROTOCOL, "Protocole validé")],
}


# --- Small PDFs --------------------------------------------------------------------------------


def _pdf_text(text: str) -> bytes:
    escaped = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    return escaped.encode("cp1252", "replace")


def minimal_pdf(title: str, lines: list[str]) -> bytes:
    """A valid one-page PDF (Helvetica, WinAnsi encoding) showing a title and a few lines of text."""
    content = [b"BT", b"/F1 16 Tf", b"56 780 Td", b"(" + _pdf_text(title) + b") Tj", b"/F1 11 Tf"]
    for line in lines:
        content += [b"0 -22 Td", b"(" + _pdf_text(line) + b") Tj"]
    content.append(b"ET")
    stream = b"\n".join(content)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> >> "
        b"/Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Title (" + _pdf_text(title) + b") /Producer (Plateforme CPTS - demonstration) >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info 6 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


# --- The loader ----------------------------------------------------------------------------------


def _decimal(value: float, unit: str) -> Decimal:
    places = Decimal("0.01") if unit == "rate" else Decimal(1)
    return Decimal(str(value)).quantize(places, rounding=ROUND_HALF_UP)


class _Seeder:
    def __init__(self, association: Association, coordinator: User | None, today: date):
        self.association = association
        self.coordinator = coordinator
        self.today = today
        self.rng = random.Random(SEED)
        self.files = 0

    def moment(self, day: date) -> datetime:
        moment = timezone.make_aware(datetime.combine(day, time(9 + self.rng.randrange(9), self.rng.randrange(60))))
        return min(moment, timezone.now())

    def evidence(self, *, kind: str, title: str, day: date, lines: list[str], value: IndicatorValue | None = None,
                 action: Action | None = None) -> None:
        name = f"{slugify(title)[:60]}-{day:%Y-%m-%d}.pdf"
        pdf = minimal_pdf(title, [self.association.name, *lines, _("Document de démonstration.")])
        evidence = Evidence(association=self.association, value=value, action=action, kind=kind, title=title[:200],
                            date=day, uploaded_by=self.coordinator)
        evidence.file.save(name, ContentFile(pdf), save=False)
        evidence.save()
        self.files += 1

    def contract(self) -> Contract:
        signed_on = self.today - relativedelta(years=4, months=3)
        contract = Contract(
            association=self.association, version=ACIVersion.objects.get(code=VERSION),
            number=f"ACI-37-{signed_on:%Y}-014", signed_on=signed_on,
            cpts_signatory="Dr Hélène Moreau, présidente", cpam_name="CPAM d'Indre-et-Loire",
            ars_name="ARS Centre-Val de Loire",
        )
        contract.document.save(f"contrat-aci-{signed_on:%Y-%m-%d}.pdf", ContentFile(minimal_pdf(
            _("Contrat tripartite ACI"),
            [self.association.name, "CPAM d'Indre-et-Loire — ARS Centre-Val de Loire",
             _("Signé le %(date)s") % {"date": f"{signed_on:%d/%m/%Y}"}])), save=False)
        contract.save()
        self.files += 1
        return contract

    def missions(self, contract: Contract) -> dict[str, ContractMission]:
        referents = list(Member.objects.filter(association=self.association, anonymized_at=None,
                                               profession__code="medecin-generaliste").order_by("pk")[:12])
        missions = {}
        types = {t.code: t for t in MissionType.objects.filter(version=contract.version)}
        for code, (status, started, deployed, own_delays) in MISSIONS.items():
            mission = ContractMission(
                association=self.association, contract=contract, mission_type=types[code], status=status,
                started_on=contract.signed_on + relativedelta(months=started),
                deployed_on=contract.signed_on + relativedelta(months=deployed) if deployed else None,
                referent=referents[len(missions) * 2] if len(referents) > len(missions) * 2 else None,
                owner=self.coordinator,
                start_months=own_delays[0] if own_delays else None,
                deployment_months=own_delays[1] if own_delays else None,
            )
            mission.save()
            missions[code] = mission
        return missions

    def avenant(self, contract: Contract, missions: dict[str, ContractMission]) -> Avenant:
        signed_on = contract.signed_on + relativedelta(months=AVENANT_MONTHS)
        avenant = Avenant(association=self.association, contract=contract, number=1, signed_on=signed_on, summary=_(
            "Report du déploiement complet de la mission « Parcours pluriprofessionnels » à 30 mois (recrutement "
            "de l'infirmière en pratique avancée du parcours insuffisance cardiaque) ; objectif de l'année 3 des "
            "patients inclus dans le parcours revu à la baisse."))
        avenant.document.save(f"avenant-1-{signed_on:%Y-%m-%d}.pdf", ContentFile(minimal_pdf(
            _("Avenant n° 1 au contrat ACI"), [_("Signé le %(date)s") % {"date": f"{signed_on:%d/%m/%Y}"}])),
            save=False)
        avenant.save()
        self.files += 1
        change = DeadlineChange(association=self.association, mission=missions["parcours"],
                                kind=DeadlineKind.DEPLOYMENT, avenant=avenant, created_by=self.coordinator,
                                due_on=contract.signed_on + relativedelta(months=PARCOURS_DEPLOYMENT_MONTHS),
                                reason=_("Recrutement de l'IPA du parcours insuffisance cardiaque"))
        change.save()
        return avenant

    def indicators(self, contract: Contract, missions: dict[str, ContractMission],
                   avenant: Avenant) -> list[Indicator]:
        templates = {(t.mission_type.code, t.label): t for t in IndicatorTemplate.objects.filter(
            mission_type__version=contract.version).select_related("mission_type")}
        action_types = {t.code: t for t in ActionType.objects.all()}
        years = contract.years
        current = contract.year_of(self.today)
        current_number = current.number if current else len(years) + 1
        indicators, values = [], []
        for order, spec in enumerate(SPECS, start=1):
            template = templates.get((spec.mission, spec.label))
            unit = spec.unit or template.unit
            indicator = Indicator(
                association=self.association, mission=missions[spec.mission], template=template, code=spec.code,
                label=spec.label, unit=unit, direction=spec.direction or template.direction,
                source=spec.source or template.source, weight=spec.weight, feed=spec.feed,
                feed_action_type=action_types[spec.action_type] if spec.action_type else None, order=order)
            indicators.append(indicator)
            for year in years:
                if year.number < spec.start_year or year.number > current_number:
                    continue
                values.append(self.value(indicator, spec, year, current_number))
        Indicator.objects.bulk_create(indicators)
        for value in values:
            value.indicator_id = value.indicator.pk
        IndicatorValue.objects.bulk_create(values)
        # The avenant revised the year-3 target of the patients included in the parcours (old value kept).
        revised = next(v for v in values if v.indicator.code == "PAR-01" and v.year == 3)
        old_target = revised.target
        revised.target = (old_target * Decimal("0.8")).quantize(Decimal(1))
        revised.save(update_fields=["target"])
        TargetRevision.objects.create(association=self.association, value=revised, old_target=old_target,
                                      new_target=revised.target, avenant=avenant, created_by=self.coordinator)
        self.value_evidence(values, current_number)
        return indicators

    def value(self, indicator: Indicator, spec: Spec, year: ContractYear, current_number: int) -> IndicatorValue:
        unit, n = indicator.unit, year.number
        baseline = None if spec.baseline is None else _decimal(spec.baseline, unit)
        if unit == "boolean":
            target, realised = Decimal(1), Decimal(1)
            if spec.code == "CRI-02" and n == 3:
                realised = Decimal(0)  # the yearly update was missed once
        elif spec.yearly:
            target, realised = _decimal(spec.yearly[n - 1], unit), None  # computed from the actions
        else:
            start, end = spec.baseline, spec.target
            target = _decimal(start + (end - start) * n / 5, unit)
            progress = (end - start) * n / 5 * self.rng.uniform(0.55, 1.08)
            realised = _decimal(start + progress, unit)
            if unit == "rate":
                realised = min(realised, Decimal(100))
        is_current = n == current_number
        if is_current and not spec.current:
            realised = None
        measured_on = None
        if realised is not None:
            measured_on = min(year.end + timedelta(days=self.rng.randint(20, 75)), self.today - timedelta(days=3))
            if is_current:
                measured_on = self.today - timedelta(days=self.rng.randint(5, 20))
        return IndicatorValue(
            association=self.association, indicator=indicator, year=n, baseline=baseline, target=target,
            realised=realised, measured_on=measured_on,
            entered_by=self.coordinator if realised is not None else None,
            entered_at=self.moment(measured_on + timedelta(days=2)) if measured_on else None,
        )

    def value_evidence(self, values: list[IndicatorValue], current_number: int) -> None:
        """Evidence for about half of the past realised values: the checklist shows the others as missing."""
        for value in values:
            indicator = value.indicator
            if value.realised is None or value.year == current_number or self.rng.random() > 0.45:
                continue
            if indicator.source == "cpam":
                kind, title = EvidenceKind.CPAM_DATA, _("Tableau de bord CPAM")
            elif indicator.source == "open_data":
                kind, title = EvidenceKind.SCREENSHOT, _("Extraction data.ameli.fr")
            elif indicator.unit == "boolean":
                kind, title = EvidenceKind.PROTOCOL, _("Document validé")
            else:
                kind, title = EvidenceKind.OTHER, _("Tableau de suivi de la CPTS")
            self.evidence(kind=kind, title=f"{title} — {indicator.code} — {_('année')} {value.year}",
                          day=value.measured_on, value=value,
                          lines=[indicator.label, _("Valeur réalisée : %(value)s") % {"value": value.realised}])

    def actions(self, contract: Contract, missions: dict[str, ContractMission]) -> list[Action]:
        action_types = {t.code: t for t in ActionType.objects.all()}
        professions = {p.code: p for p in Profession.objects.all()}
        actions, participations = [], []
        for mission_code, type_code, per_year in ACTION_PLAN:
            mission = missions[mission_code]
            for year, count in zip(contract.years, per_year, strict=True):
                start = max(year.start, mission.started_on)
                end = min(year.end, self.today - timedelta(days=3))
                if count == 0 or end <= start:
                    continue
                span = (end - start).days
                for index in range(count):
                    day = start + timedelta(days=int(span * (index + self.rng.uniform(0.15, 0.85)) / count))
                    actions.append(Action(
                        association=self.association, mission=mission, action_type=action_types[type_code],
                        title=self.rng.choice(TITLES[type_code]), date=day, place=self.rng.choice(PLACES),
                        partners=", ".join(self.rng.sample(PARTNERS[type_code], 2)) if type_code in PARTNERS else "",
                        created_by=self.coordinator))
        Action.objects.bulk_create(actions)
        for action in actions:
            for code, low, high in PARTICIPANTS[action.action_type.code]:
                count = self.rng.randint(low, high)
                if count:
                    participations.append(ActionParticipation(
                        association=self.association, action=action, profession=professions.get(code), count=count))
        ActionParticipation.objects.bulk_create(participations)
        for action in actions:
            for kind, title in ACTION_EVIDENCE.get(action.action_type.code, []):
                if self.rng.random() < 0.7:
                    self.evidence(kind=kind, title=f"{title} — {action.title}", day=action.date, action=action,
                                  lines=[f"{action.date:%d/%m/%Y} — {action.place}"])
        return actions

    def run(self) -> str:
        contract = self.contract()
        missions = self.missions(contract)
        avenant = self.avenant(contract, missions)
        indicators = self.indicators(contract, missions, avenant)
        actions = self.actions(contract, missions)
        return summary(contract, len(missions), len(indicators), len(actions), self.files)


def summary(contract: Contract, missions: int, indicators: int, actions: int, files: int) -> str:
    return _("contrat ACI signé le %(date)s : %(missions)s missions, %(indicators)s indicateurs, %(actions)s "
             "actions, %(files)s documents") % {"date": f"{contract.signed_on:%d/%m/%Y}", "missions": missions,
                                                "indicators": indicators, "actions": actions, "files": files}


def load(association: Association, coordinator: User | None = None, *, today: date | None = None) -> str:
    """The demo contract of the T3 demo association (runs inside its scope); nothing for the others, nothing
    when a contract already exists (idempotent)."""
    if association.slug != DEMO_SLUG:
        return ""
    existing = Contract.objects.filter(association=association).order_by("-signed_on").first()
    if existing is not None:
        evidence = Evidence.objects.filter(association=association).count()
        return summary(existing, existing.missions.count(),
                       Indicator.objects.filter(association=association, mission__contract=existing).count(),
                       Action.objects.filter(association=association, mission__contract=existing).count(),
                       evidence + 1 + Avenant.objects.filter(association=association).exclude(document="").count())
    return _Seeder(association, coordinator, today or timezone.localdate()).run()


def register_demo() -> None:
    """Called from ``indicators.entries.register()``."""
    register_demo_loader(DemoLoader(key="aci", load=load, order=50))
