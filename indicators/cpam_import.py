"""The CPAM indicator values import kind (``"cpam_indicators"``): the spreadsheets the CPAM sends with the
realised values of the contract's indicators, through the generic import (``associations.imports``:
upload → column mapping → preview → confirmation, every row or none, an audit row per file and per import).

One row per indicator and contract year:

- **indicator**: its code (``Indicator.code``, e.g. "ACC-01", compared without case, spaces or dashes) and/or
  its label (compared without case or accents); the code is tried first. Only the indicators of the
  association's contract (the latest signed) are known; an indicator whose realised value is computed from
  the actions is refused (its value comes from the actions registry).
- **contract year**: the year's number, 1 to 5 ("2", "année 2", "A2"), *or a date inside the contract year*
  (the CPAM often writes the start of the period, "01/10/2023"): that date designates the contract year
  containing it. A civil year ("2023") is refused with an explanation: contract years run from the signature
  anniversary and straddle two civil years, so "2023" does not designate one of them.
- **value**: a number ("1 234,5", "62,89 %") for counts, rates (0 to 100 %), amounts and durations; oui / non /
  1 / 0 for a yes/no deliverable. Negative values are refused.
- **measured on** (optional): the date of the measure (jj/mm/aaaa); an empty cell keeps the stored one.

Applying writes ``IndicatorValue.realised`` (+ ``measured_on``, ``entered_by`` = the person who uploaded the
file, ``entered_at``) for every row, in the job's transaction; baselines and targets are never touched.

**Patient-level files are refused at upload** (DOMAIN.md §2: no health data is stored): a header naming
patient data (patient, nom du patient, prénom, date de naissance, NIR, n° de sécurité sociale, INS, adresse du
patient…) or a cell that looks like a NIR (13 digits starting with 1 or 2, with or without its 2-digit key)
makes ``read`` raise ``ImportFileError`` with the reason: the upload form shows it and nothing is stored (no
``ImportJob``, no file).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from associations.imports import reader, values
from associations.imports.classification import CREATE, UNCHANGED, UPDATE, RowResult, describe_change
from associations.imports.reader import ImportFileError, Table
from associations.imports.schema import Field, ImportKind, Wording, register_kind
from associations.imports.values import InvalidValue, normalize
from associations.models import Association
from associations.registries import register_audit_actions
from indicators.models import Feed, Indicator, IndicatorValue
from missions.calendar import CONTRACT_YEARS
from missions.models import Contract, Unit

if TYPE_CHECKING:
    from associations.models import ImportJob, User

KEY = "cpam_indicators"
URL_PREFIX = "aci_import"
AUDIT_UPLOAD = "indicator_value.import_upload"
AUDIT_APPLY = "indicator_value.import"
MAX_VALUE = Decimal("1e12")  # IndicatorValue: 14 digits, 2 decimals
HUNDRED = Decimal(100)
CENT = Decimal("0.01")

# --- Patient-level data: refused ---------------------------------------------------------------

# Headers naming patient data: every word of one of these groups is in the (normalised) header.
PATIENT_HEADER_WORDS = [
    frozenset(words.split()) for words in (
        "prenom", "naissance", "nir", "securite sociale", "secu", "ins", "ipp", "matricule", "adresse patient",
        "adresse assure", "nom patient", "nom assure", "nom beneficiaire", "nom usage", "nom naissance",
        "identite", "telephone patient", "mail patient",
    )
]
PERSON_WORDS = {"patient", "patients", "patiente", "patientes", "assure", "assures", "assuree", "beneficiaire",
                "beneficiaires"}
# A header about patients that counts or measures them is aggregated data: "Nombre de patients".
AGGREGATE_WORDS = {"nombre", "nb", "nbre", "taux", "part", "pourcentage", "proportion", "effectif", "effectifs",
                   "total", "moyenne", "indicateur", "valeur"}
# A NIR: sex (1 or 2), year, month, département (2A/2B for Corsica), commune, order number, then the key.
NIR_RE = re.compile(r"[12]\d{4}(?:\d{2}|2[AB])\d{6}(?:\d{2})?", re.IGNORECASE)
_NIR_SEPARATORS = re.compile(r"[\s.\-/]")


def patient_header(header: str) -> bool:
    words = set(normalize(header).split())
    if any(group <= words for group in PATIENT_HEADER_WORDS):
        return True
    return bool(words & PERSON_WORDS) and not words & AGGREGATE_WORDS


def looks_like_nir(cell: str) -> bool:
    return bool(NIR_RE.fullmatch(_NIR_SEPARATORS.sub("", cell)))


def patient_data_reason(table: Table) -> str | None:
    """Why the table holds patient-level data (French), or ``None``."""
    for header in table.headers:
        if patient_header(header):
            return _("la colonne « %(column)s » désigne des données de patients") % {"column": header}
    for index, header in enumerate(table.headers):
        for line, cells in table.rows:
            if index < len(cells) and cells[index] and looks_like_nir(cells[index]):
                return _("la colonne « %(column)s » contient un numéro de sécurité sociale (NIR) ligne %(line)s") % {
                    "column": header, "line": line}
    return None


def refusal_message(reason: str) -> str:
    return _("Fichier refusé : %(reason)s. La plateforme n'enregistre aucune donnée individuelle de patient (nom, "
             "date de naissance, NIR…) : ce sont des données de santé, qui exigeraient un hébergement agréé HDS. "
             "Seules les valeurs agrégées des indicateurs (nombres, taux, oui/non) sont importées. Rien n'a été "
             "enregistré : retirez ces colonnes, ou demandez à la CPAM le fichier des valeurs agrégées par "
             "indicateur.") % {"reason": reason}


# --- Cells ---------------------------------------------------------------------------------------

_YEAR_WORDS = re.compile(r"^(?:annee|an|a|contrat|annee du contrat|annee contrat)?\s*(\d+)\s*(?:e|eme|ere|er)?"
                         r"(?:\s*annee)?$")


def _contract_year(raw: str, row: RowResult) -> int:
    """The contract year's number, from "1"…"5", "année 2", "A3", "2e année", or a date inside that year."""
    existing: Existing = row.existing
    day = values.parse_date(raw)
    if day is not None:
        if existing.contract is None:
            raise InvalidValue(_("date « %(value)s » : aucun contrat ACI n'est enregistré") % {"value": raw})
        year = existing.contract.year_of(day)
        if year is None:
            first, last = existing.contract.years[0], existing.contract.years[-1]
            raise InvalidValue(_("date « %(value)s » en dehors du contrat (du %(start)s au %(end)s)") % {
                "value": raw, "start": f"{first.start:%d/%m/%Y}", "end": f"{last.end:%d/%m/%Y}"})
        return year.number
    match = _YEAR_WORDS.fullmatch(normalize(raw))
    if not match:
        raise InvalidValue(_("année du contrat « %(value)s » invalide (1 à %(max)s, ou une date de la période, "
                             "attendu)") % {"value": raw, "max": CONTRACT_YEARS})
    number = int(match.group(1))
    if 1900 <= number <= 2100:
        raise InvalidValue(_("année « %(value)s » : une année civile ne désigne pas une année du contrat (elles vont "
                             "d'un anniversaire de la signature au suivant) ; indiquez l'année du contrat (1 à "
                             "%(max)s) ou une date de la période") % {"value": raw, "max": CONTRACT_YEARS})
    if not 1 <= number <= CONTRACT_YEARS:
        raise InvalidValue(_("année du contrat « %(value)s » hors limites (entre 1 et %(max)s)") % {
            "value": raw, "max": CONTRACT_YEARS})
    return number


FIELDS = (
    Field("code", gettext_lazy("Code de l'indicateur"), ("code",)),
    Field("label", gettext_lazy("Libellé de l'indicateur"), ("indicateur", "libelle", "intitule")),
    Field("year", gettext_lazy("Année du contrat (1 à 5) ou date de la période"), ("annee", "periode", "exercice"),
          required=True, parser=_contract_year),
    Field("value", gettext_lazy("Valeur réalisée"), ("valeur", "realise", "realisee", "resultat"), required=True),
    Field("measured_on", gettext_lazy("Date de la mesure"), ("date", "mesure", "extraction"),
          parser=values.french_date),
)
FIELD_LABELS = {f.key: f.label for f in FIELDS}

_BOOLEANS = {"oui": Decimal(1), "1": Decimal(1), "non": Decimal(0), "0": Decimal(0)}
_number = values.decimal(gettext_lazy("valeur"))


def parse_value(raw: str, indicator: Indicator, row: RowResult) -> Decimal:
    """The cell as the indicator's realised value, or ``InvalidValue`` (French reason)."""
    if indicator.unit == Unit.BOOLEAN:
        value = _BOOLEANS.get(normalize(raw).replace(" ", ""))
        if value is None:
            raise InvalidValue(_("valeur « %(value)s » invalide pour un livrable (oui, non, 1 ou 0 attendu)")
                               % {"value": raw})
        return value
    value = _number(raw, row)
    if value < 0:
        raise InvalidValue(_("valeur « %(value)s » négative") % {"value": raw})
    if indicator.unit == Unit.RATE and value > HUNDRED:
        raise InvalidValue(_("taux « %(value)s » supérieur à 100 %%") % {"value": raw})
    if value >= MAX_VALUE:
        raise InvalidValue(_("valeur « %(value)s » trop grande") % {"value": raw})
    rounded = value.quantize(CENT, rounding=ROUND_HALF_UP)
    if rounded != value:
        row.warn(_("valeur « %(value)s » arrondie à %(rounded)s (deux décimales)") % {
            "value": raw, "rounded": plain_number(rounded)})
    return rounded


def plain_number(value: Decimal | None) -> str:
    """"1 234,5" for the preview (no trailing zeros)."""
    if value is None:
        return ""
    text = f"{value.normalize():f}" if value == value.to_integral() else f"{value:f}".rstrip("0")
    whole, _dot, decimals = text.partition(".")
    whole = f"{int(whole):,}".replace(",", "\u202f")
    return f"{whole},{decimals}" if decimals else whole


def shown_value(indicator: Indicator, value: Decimal | None) -> str:
    if value is None:
        return ""
    if indicator.unit == Unit.BOOLEAN:
        return _("oui") if value >= 1 else _("non")
    return plain_number(value) + (" %" if indicator.unit == Unit.RATE else "")


# --- Existing data -------------------------------------------------------------------------------


def code_key(text: str) -> str:
    return normalize(text).replace(" ", "")


@dataclass
class Existing:
    """The association's contract, its indicators by code and label and their values, loaded in three queries;
    the (indicator, year) pairs met in the file, to report duplicates."""

    contract: Contract | None
    by_code: dict[str, Indicator] = field(default_factory=dict)
    by_label: dict[str, list[Indicator]] = field(default_factory=dict)
    values: dict[tuple[int, int], IndicatorValue] = field(default_factory=dict)
    seen: dict[tuple[int, int], int] = field(default_factory=dict)

    @classmethod
    def load(cls, association: Association) -> Existing:
        contract = Contract.objects.filter(association=association).order_by("-signed_on").first()
        existing = cls(contract)
        if contract is None:
            return existing
        indicators = Indicator.objects.filter(association=association, mission__contract=contract).select_related(
            "mission__mission_type")
        by_pk = {}
        for indicator in indicators:
            by_pk[indicator.pk] = indicator
            if indicator.code:
                existing.by_code.setdefault(code_key(indicator.code), indicator)
            existing.by_label.setdefault(normalize(indicator.label), []).append(indicator)
        for value in IndicatorValue.objects.filter(association=association, indicator__in=list(by_pk)):
            value.indicator = by_pk[value.indicator_id]  # cached: save() checks the tenant without a query
            existing.values[(value.indicator_id, value.year)] = value
        return existing

    def find(self, text: str, row: RowResult) -> Indicator | None:
        """An indicator by code, then by label; ``None`` when unknown; an error when the label is ambiguous."""
        found = self.by_code.get(code_key(text))
        if found is not None:
            return found
        by_label = self.by_label.get(normalize(text), [])
        if len(by_label) > 1:
            missions = ", ".join(f"« {i.mission} »" for i in by_label)
            row.errors.append(_("plusieurs indicateurs du contrat s'intitulent « %(value)s » (missions %(missions)s) : "
                                "indiquez leur code") % {"value": text, "missions": missions})
            return None
        return by_label[0] if by_label else None


# --- The kind ------------------------------------------------------------------------------------


class CPAMIndicatorsImport(ImportKind):
    key = KEY
    capability = "manage_contract"
    fields = FIELDS
    guess_order = ("code", "year", "measured_on", "label", "value")
    required_any = ((("code", "label"), gettext_lazy(
        "Choisissez la colonne du code ou celle du libellé de l'indicateur : l'une des deux est obligatoire.")),)
    header_help = gettext_lazy("Code de l'indicateur, Libellé, Année du contrat, Valeur, Date de la mesure")
    audit_upload = AUDIT_UPLOAD
    audit_apply = AUDIT_APPLY
    wording = Wording(
        title=gettext_lazy("Imports des données CPAM"),
        upload_title=gettext_lazy("Importer les valeurs des indicateurs (fichier CPAM)"),
        file_label=gettext_lazy("Fichier des valeurs des indicateurs (CSV ou Excel .xlsx)"),
        file_help=gettext_lazy("10 Mo au maximum. Une ligne par indicateur et par année du contrat ; la première "
                               "ligne contient les intitulés des colonnes (Code, Indicateur, Année, Valeur, Date de "
                               "mesure). CSV : séparateur point-virgule ou virgule, UTF-8 ou Windows-1252."),
        upload_help=(
            gettext_lazy("Rien n'est enregistré dans les indicateurs avant votre confirmation : vous vérifiez "
                         "d'abord les colonnes, puis un aperçu ligne par ligne."),
            gettext_lazy("L'indicateur est reconnu par son code (ex. ACC-01), puis par son libellé. L'année est "
                         "l'année du contrat (1 à 5) ou une date de la période, ex. 01/10/2023 ; une année civile "
                         "ne suffit pas, car les années du contrat courent d'un anniversaire de la signature au "
                         "suivant."),
            gettext_lazy("Valeurs : nombres (1 234,5), taux en % (entre 0 et 100), « oui » / « non » ou 1 / 0 pour "
                         "les livrables. Seule la valeur réalisée est importée : les valeurs initiales et les "
                         "objectifs ne changent pas."),
            gettext_lazy("Aucune donnée de patient n'est acceptée : un fichier avec des noms de patients, des dates "
                         "de naissance ou des numéros de sécurité sociale est refusé sans rien enregistrer."),
        ),
        empty_list=gettext_lazy("Aucun import pour l'instant. Déposez le fichier CSV ou Excel des valeurs envoyé par "
                                "la CPAM pour renseigner les valeurs réalisées des indicateurs en une fois."),
        mapping_help=gettext_lazy("Pour chaque colonne du fichier, choisissez l'information qu'elle contient (les "
                                  "colonnes ont été devinées d'après leur intitulé). Le code ou le libellé de "
                                  "l'indicateur, l'année et la valeur sont obligatoires."),
        row_header=gettext_lazy("Indicateur et année"),
        create_section=gettext_lazy("Valeurs à enregistrer"),
        update_section=gettext_lazy("Valeurs à modifier"),
        confirm=gettext_lazy("%(c)s valeur(s) seront enregistrées et %(u)s modifiées, en une seule fois. Les lignes "
                             "sans changement ne modifient rien."),
        created=gettext_lazy("valeur(s) enregistrée(s)"),
        updated=gettext_lazy("valeur(s) modifiée(s)"),
        queued=gettext_lazy("Import lancé : les valeurs des indicateurs sont enregistrées en arrière-plan."),
        failed=gettext_lazy("L'import a échoué : aucune valeur d'indicateur n'a été modifiée."),
        nothing_written=gettext_lazy("aucune valeur d'indicateur n'a été modifiée"),
        nothing_imported=gettext_lazy("Aucune valeur n'a été importée."),
        objects_url="aci_grid",
        objects_label=gettext_lazy("Indicateurs"),
        objects_link=gettext_lazy("Voir la grille des indicateurs"),
    )

    def read(self, data: bytes, filename: str = "") -> Table:
        """The file as a table; refused when it holds patient-level data (checked first: a file of patients
        is refused for that reason even when none of its headers is one of ours)."""
        try:
            table = super().read(data, filename)
        except ImportFileError:
            self._refuse_patient_data(reader.read_table(data, filename))
            raise
        self._refuse_patient_data(table)
        return table

    @staticmethod
    def _refuse_patient_data(table: Table) -> None:
        reason = patient_data_reason(table)
        if reason:
            raise ImportFileError(refusal_message(reason))

    def load(self, association: Association) -> Existing:
        return Existing.load(association)

    def classify_row(self, association: Association, row: RowResult, existing: Existing) -> None:
        cells = row.values
        texts = [cells[key] for key in ("code", "label") if cells.get(key)]
        row.label = " — ".join(texts) or "—"
        if existing.contract is None:
            row.errors.append(_("aucun contrat ACI n'est enregistré pour l'association : créez-le d'abord"))
            return
        indicator = self._indicator(existing, texts, row)
        if indicator is None:
            return
        year = cells.get("year")
        row.label = " — ".join(filter(None, [indicator.code, indicator.label])) + (
            " · " + _("année %(year)s") % {"year": year} if year else "")
        if indicator.feed != Feed.MANUAL:
            row.errors.append(_("« %(indicator)s » est calculé à partir des actions : sa valeur réalisée ne s'importe "
                                "pas") % {"indicator": indicator.label})
        raw = cells.get("value")
        value = None
        if raw:
            try:
                value = parse_value(raw, indicator, row)
            except InvalidValue as error:
                row.errors.append(str(error))
        if year is None or row.errors:
            return
        pair = (indicator.pk, year)
        if pair in existing.seen:
            row.errors.append(_("doublon de la ligne %(line)s (même indicateur, même année)")
                              % {"line": existing.seen[pair]})
            return
        existing.seen[pair] = row.line
        self._compare(association, row, existing.values.get(pair), indicator, year, value, cells.get("measured_on"))

    @staticmethod
    def _indicator(existing: Existing, texts: list[str], row: RowResult) -> Indicator | None:
        found = []
        for text in texts:
            indicator = existing.find(text, row)
            if row.errors:
                return None
            if indicator is not None and indicator not in found:
                found.append(indicator)
        if len(found) > 1:
            row.errors.append(_("le code et le libellé désignent deux indicateurs différents (« %(a)s » et "
                                "« %(b)s »)") % {"a": found[0].label, "b": found[1].label})
            return None
        if not found:
            row.errors.append(_("indicateur « %(value)s » introuvable dans le contrat (ni code, ni libellé connu)")
                              % {"value": " — ".join(texts)} if texts else
                              _("Code ou libellé de l'indicateur : valeur manquante"))
            return None
        return found[0]

    @staticmethod
    def _compare(association: Association, row: RowResult, stored: IndicatorValue | None, indicator: Indicator,
                 year: int, value: Decimal, measured_on: date | None) -> None:
        if stored is None:
            row.action = CREATE
            row.instance = IndicatorValue(association=association, indicator=indicator, year=year, realised=value,
                                          measured_on=measured_on)
            row.changes = [describe_change(_("Réalisé"), "", shown_value(indicator, value))]
            row.changed_fields = ["realised", "measured_on"]
            return
        if stored.realised != value:
            row.changes.append(describe_change(_("Réalisé"), shown_value(indicator, stored.realised),
                                               shown_value(indicator, value)))
            row.changed_fields.append("realised")
            stored.realised = value
        if measured_on is not None and stored.measured_on != measured_on:
            old = f"{stored.measured_on:%d/%m/%Y}" if stored.measured_on else ""
            row.changes.append(describe_change(FIELD_LABELS["measured_on"], old, f"{measured_on:%d/%m/%Y}"))
            row.changed_fields.append("measured_on")
            stored.measured_on = measured_on
        row.action = UPDATE if row.changed_fields else UNCHANGED
        row.instance = stored if row.changed_fields else None

    def write(self, association: Association, rows: list[RowResult], existing: Existing,
              actor: User | None = None) -> None:
        now = timezone.now()
        created, updated = [], []
        for row in rows:
            value = row.instance
            value.entered_by, value.entered_at = actor, now
            value.check_tenant_parents()  # the indicator is cached: no query
            (created if value.pk is None else updated).append(value)
        IndicatorValue.objects.bulk_create(created, batch_size=500)
        IndicatorValue.objects.bulk_update(updated, ["realised", "measured_on", "entered_by", "entered_at"],
                                           batch_size=500)

    def write_job(self, association: Association, rows: list[RowResult], existing: Existing,
                  job: ImportJob) -> None:
        self.write(association, rows, existing, actor=job.created_by)


AUDIT_ACTIONS = {
    AUDIT_UPLOAD: gettext_lazy("Fichier de valeurs d'indicateurs (CPAM) déposé"),
    AUDIT_APPLY: gettext_lazy("Import des valeurs d'indicateurs (CPAM)"),
}


def register_cpam_import() -> None:
    """Called from ``indicators.entries.register()`` (after the missions app registered ``manage_contract``)."""
    register_audit_actions(AUDIT_ACTIONS)
    register_kind(CPAMIndicatorsImport())
