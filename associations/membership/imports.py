"""Import of members from a spreadsheet (CSV or XLSX) as French offices export them.

Four steps, one ``ImportJob`` row: the file is **read** and checked when uploaded (nothing is stored
when it is refused), its columns are **mapped** to member fields (guessed from the headers, editable),
every row is **classified** (create / update / unchanged / error) for the preview, and after
confirmation the background task **applies** all rows in one transaction (``import_tasks``) — or none.

Reading: ``;``, ``,`` or tab separated, UTF-8 with or without BOM or Windows-1252, dates dd/mm/yyyy,
cells stripped, empty lines skipped; XLSX through openpyxl in read-only mode.
Matching an existing member of the association: RPPS (FINESS/SIRET for structures), then e-mail
(case-insensitive, when the name agrees), then last name + first name + postal code (normalised).
"""

from __future__ import annotations

import csv
import functools
import io
import logging
import re
import unicodedata
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.validators import validate_email
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.text import get_valid_filename

from associations import audit
from associations.models import (
    Association,
    Civility,
    College,
    ImportJob,
    Member,
    MemberKind,
    PracticeMode,
    Profession,
    StructureType,
    User,
)
from associations.services import ServiceError
from associations.validators import FINESS_RE, luhn_ok

logger = logging.getLogger(__name__)

MAX_BYTES = 10 * 1024 * 1024
MAX_ROWS = 20_000
# The preview page renders at most this many rows per kind (counts are always complete).
SHOWN_ROWS = {"error": 1000, "update": 500, "create": 500, "unchanged": 200}
# Rows written per INSERT/UPDATE statement when applying.
BATCH_SIZE = 500

CREATE, UPDATE, UNCHANGED, ERROR = "create", "update", "unchanged", "error"
ACTION_LABELS = {CREATE: "Création", UPDATE: "Mise à jour", UNCHANGED: "Inchangé", ERROR: "Erreur"}


class ImportFileError(Exception):
    """The file cannot be imported at all (French message for the person who uploaded it)."""


class ImportRowsError(Exception):
    """Some rows are in error when applying: nothing is written."""

    def __init__(self, results: list[RowResult]):
        self.results = results
        errors = [r for r in results if r.action == ERROR]
        lines = [r.text for r in errors[:50]]
        if len(errors) > 50:
            lines.append(f"… et {len(errors) - 50} autre(s) ligne(s) en erreur.")
        super().__init__(
            f"{len(errors)} ligne(s) en erreur : aucun adhérent n'a été créé ni modifié.\n" + "\n".join(lines)
        )


# --- Normalisation -------------------------------------------------------------------------------

_NON_ALNUM = re.compile(r"[^0-9a-z]+")
_SPACES = re.compile(r"\s+")


def normalize(text: str) -> str:
    """Lowercase, accents removed, punctuation as spaces, spaces collapsed: "  Infirmière " → "infirmiere"."""
    text = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode("ascii").lower()
    return _NON_ALNUM.sub(" ", text).strip()


def clean_cell(value: Any) -> str:
    """A cell as stripped text with inner runs of spaces collapsed (non-breaking spaces included)."""
    if value is None:
        return ""
    return _SPACES.sub(" ", str(value).replace("\u00a0", " ")).strip()


# --- Reading the file ------------------------------------------------------------------------------


@dataclass
class Table:
    headers: list[str]
    rows: list[tuple[int, list[str]]]  # (line as numbered in the spreadsheet, cells)

    def samples(self, index: int, count: int = 3) -> list[str]:
        """Up to ``count`` distinct non-empty values of a column (shown next to its <select>)."""
        found: list[str] = []
        for _, cells in self.rows:
            if index < len(cells) and cells[index] and cells[index] not in found:
                found.append(cells[index])
                if len(found) == count:
                    break
        return found


SIGNATURES = [
    (b"\x89PNG", "une image PNG"),
    (b"\xff\xd8\xff", "une image JPEG"),
    (b"GIF8", "une image GIF"),
    (b"%PDF", "un document PDF"),
    (b"\xd0\xcf\x11\xe0", "un ancien fichier Excel (.xls) ou Word (.doc)"),
    (b"{\\rtf", "un document RTF"),
]
NOT_A_SPREADSHEET = (
    "Ce fichier n'est pas un tableur{what} : déposez un fichier CSV (séparateur point-virgule ou virgule) "
    "ou Excel (.xlsx)."
)
HEADER_HELP = "Nom, Prénom, Profession, RPPS, E-mail, Code postal…"


def read_table(data: bytes, filename: str = "") -> Table:
    """Parse an uploaded file into headers and non-empty rows, or raise ``ImportFileError``."""
    if not data or not data.strip():
        raise ImportFileError("Le fichier est vide.")
    if len(data) > MAX_BYTES:
        raise ImportFileError(too_big_message(len(data)))
    for magic, what in SIGNATURES:
        if data.startswith(magic):
            raise ImportFileError(NOT_A_SPREADSHEET.format(what=f" ({what})"))
    records = _read_xlsx(data) if data.startswith(b"PK\x03\x04") else _read_csv(_decode(data))
    return _table(records)


def too_big_message(size: int) -> str:
    return (f"Le fichier est trop volumineux ({size / 1024 / 1024:.1f} Mo) : 10 Mo au maximum. "
            "Découpez-le en plusieurs fichiers.")


def _decode(data: bytes) -> str:
    head = data[:400]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or max(head[0::2].count(0), head[1::2].count(0)) > len(head) // 5:
        raise ImportFileError(
            "Le fichier est encodé en UTF-16 (« Texte Unicode ») : enregistrez-le au format "
            "« CSV UTF-8 » ou « CSV (séparateur : point-virgule) », ou déposez le fichier Excel (.xlsx)."
        )
    if b"\x00" in data:
        raise ImportFileError(NOT_A_SPREADSHEET.format(what=""))
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        break
    else:
        raise ImportFileError(
            "L'encodage du fichier n'est pas reconnu (UTF-8 ou Windows-1252 attendu) : enregistrez-le au "
            "format « CSV UTF-8 » depuis votre tableur."
        )
    head = text[:8192]
    controls = sum(1 for char in head if ord(char) < 32 and char not in "\t\r\n")
    if controls:
        raise ImportFileError(NOT_A_SPREADSHEET.format(what=""))
    return text


def _read_csv(text: str) -> list[list[str]]:
    first = next((line for line in text.splitlines() if line.strip()), "")
    delimiter = max(";,\t", key=first.count) if any(d in first for d in ";,\t") else ";"
    try:
        return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as error:
        raise ImportFileError(f"Le fichier CSV est mal formé ({error}).") from None


def _xlsx_cell(value: Any) -> str:
    if isinstance(value, datetime):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None else str(value)


def _read_xlsx(data: bytes) -> list[list[str]]:
    from openpyxl import load_workbook

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            if "xl/workbook.xml" not in names:
                if "mimetype" in names and b"opendocument.spreadsheet" in archive.read("mimetype"):
                    raise ImportFileError(
                        "Les fichiers OpenDocument (.ods) ne sont pas pris en charge : enregistrez-le au "
                        "format Excel (.xlsx) ou CSV."
                    )
                raise ImportFileError(NOT_A_SPREADSHEET.format(what=" (archive ZIP ou document Word)"))
    except zipfile.BadZipFile:
        raise ImportFileError("Ce fichier Excel est illisible (archive endommagée).") from None
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 - openpyxl raises many kinds of errors on broken files
        raise ImportFileError("Ce fichier Excel est illisible : enregistrez-le à nouveau au format .xlsx.") from None
    try:
        sheet = workbook.worksheets[0]
        records = []
        for row in sheet.iter_rows(values_only=True):
            records.append([_xlsx_cell(value) for value in row])
            if len(records) > MAX_ROWS + 50:
                break
        return records
    finally:
        workbook.close()


def _table(records: list[list[str]]) -> Table:
    rows: list[tuple[int, list[str]]] = []
    headers: list[str] | None = None
    for line, record in enumerate(records, start=1):
        cells = [clean_cell(cell) for cell in record]
        if not any(cells):
            continue
        if headers is None:
            headers = cells
            continue
        rows.append((line, cells))
    if headers is None:
        raise ImportFileError("Le fichier est vide.")
    while headers and not headers[-1]:
        headers.pop()
    width = len(headers)
    rows = [(line, (cells + [""] * width)[:width]) for line, cells in rows]
    rows = [(line, cells) for line, cells in rows if any(cells)]
    headers = [header or f"Colonne {index}" for index, header in enumerate(headers, start=1)]
    if not any(guess_field(header) for header in headers):
        if any(_looks_like_data(header) for header in headers):
            raise ImportFileError(
                "La ligne d'en-tête manque : la première ligne du fichier doit contenir les intitulés des "
                f"colonnes ({HEADER_HELP})."
            )
        raise ImportFileError(f"Aucune colonne n'est reconnue : la première ligne doit contenir les intitulés "
                              f"des colonnes ({HEADER_HELP}).")
    if not rows:
        raise ImportFileError("Le fichier ne contient que la ligne d'en-tête : aucune ligne à importer.")
    if len(rows) > MAX_ROWS:
        raise ImportFileError(f"Le fichier dépasse {MAX_ROWS:,} lignes : découpez-le en plusieurs fichiers."
                              .replace(",", " "))
    return Table(headers=headers, rows=rows)


def _looks_like_data(cell: str) -> bool:
    return bool("@" in cell or re.search(r"\d{4,}", cell) or re.fullmatch(r"\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}", cell))


# --- Columns -------------------------------------------------------------------------------------

# Member fields an import can fill, with their French label (order of the <select> options).
FIELDS: dict[str, str] = {
    "civility": "Civilité",
    "last_name": "Nom",
    "first_name": "Prénom",
    "kind": "Type (personne ou structure)",
    "profession": "Profession",
    "specialty": "Spécialité",
    "practice_mode": "Mode d'exercice",
    "rpps": "RPPS",
    "adeli": "ADELI",
    "structure_name": "Raison sociale (structure)",
    "structure_type": "Type de structure",
    "finess": "FINESS",
    "siret": "SIRET",
    "contact_person": "Personne à contacter",
    "email": "E-mail",
    "phone": "Téléphone",
    "address": "Adresse",
    "postal_code": "Code postal",
    "city": "Commune",
    "insee_code": "Code INSEE",
    "college": "Collège",
    "joined_on": "Date d'adhésion",
    "notes": "Notes",
}
IDENTITY_FIELDS = ("last_name", "structure_name")

# Ordered rules: the first whose words are all in the normalised header wins.
_HEADER_RULES: list[tuple[str, tuple[str, ...]]] = [
    ("rpps", ("rpps",)), ("adeli", ("adeli",)), ("finess", ("finess",)), ("siret", ("siret",)),
    ("insee_code", ("insee",)),
    ("email", ("courriel",)), ("email", ("mail",)), ("email", ("email",)), ("email", ("mel",)),
    ("phone", ("telephone",)), ("phone", ("tel",)), ("phone", ("portable",)), ("phone", ("mobile",)),
    ("civility", ("civilite",)),
    ("college", ("college",)),
    ("structure_type", ("type", "structure")), ("structure_type", ("type", "etablissement")),
    ("structure_name", ("raison", "sociale")), ("structure_name", ("structure",)),
    ("structure_name", ("etablissement",)), ("structure_name", ("denomination",)),
    ("postal_code", ("code", "postal")), ("postal_code", ("cp",)),
    ("city", ("ville",)), ("city", ("commune",)), ("city", ("localite",)),
    ("address", ("adresse",)), ("address", ("rue",)),
    ("specialty", ("specialite",)),
    ("profession", ("profession",)), ("profession", ("metier",)),
    ("practice_mode", ("exercice",)),
    ("joined_on", ("adhesion",)), ("joined_on", ("date", "entree")),
    ("contact_person", ("contact",)),
    ("notes", ("notes",)), ("notes", ("note",)), ("notes", ("commentaire",)), ("notes", ("commentaires",)),
    ("notes", ("remarques",)),
    ("kind", ("type",)), ("kind", ("categorie",)),
    ("first_name", ("prenom",)),
    ("last_name", ("nom",)),
]


def guess_field(header: str) -> str | None:
    words = set(normalize(header).split())
    if {"nom", "prenom"} <= words:
        return None  # "Nom Prénom" in one column: let the person choose
    for name, needed in _HEADER_RULES:
        if words.issuperset(needed):
            return name
    return None


def guess_mapping(headers: list[str]) -> dict[str, str]:
    """``{"<column index>": "<field>" or ""}``, each field guessed for one column at most."""
    mapping: dict[str, str] = {}
    taken: set[str] = set()
    for index, header in enumerate(headers):
        guessed = guess_field(header)
        if guessed and guessed not in taken:
            taken.add(guessed)
            mapping[str(index)] = guessed
        else:
            mapping[str(index)] = ""
    return mapping


def mapping_problem(mapping: dict[str, str]) -> str | None:
    fields = [value for value in mapping.values() if value]
    if not any(name in fields for name in IDENTITY_FIELDS):
        return ("Choisissez la colonne du nom (professionnels) ou de la raison sociale (structures) : "
                "l'une des deux est obligatoire.")
    return None


# --- Values ----------------------------------------------------------------------------------------

PROFESSION_SYNONYMS = {
    "medecin": "medecin-generaliste", "medecin generaliste": "medecin-generaliste",
    "generaliste": "medecin-generaliste", "mg": "medecin-generaliste", "medecin traitant": "medecin-generaliste",
    "specialiste": "medecin-specialiste", "medecin specialiste": "medecin-specialiste",
    "ide": "infirmier", "idel": "infirmier", "infirmier": "infirmier", "infirmiere": "infirmier",
    "infirmier liberal": "infirmier", "infirmiere liberale": "infirmier", "ipa": "infirmier",
    "infirmier diplome d etat": "infirmier", "infirmiere diplomee d etat": "infirmier",
    "pharmacienne": "pharmacien", "pharmacien d officine": "pharmacien",
    "kine": "masseur-kinesitherapeute", "kinesitherapeute": "masseur-kinesitherapeute",
    "mk": "masseur-kinesitherapeute", "masseur kine": "masseur-kinesitherapeute",
    "dentiste": "chirurgien-dentiste", "chirurgien dentiste": "chirurgien-dentiste",
    "sage femme": "sage-femme", "maieuticien": "sage-femme",
    "podologue": "pedicure-podologue", "pedicure": "pedicure-podologue",
    "psychomotricienne": "psychomotricien", "dieteticienne": "dieteticien",
    "opticien": "opticien", "opticienne": "opticien", "audioprothesiste": "audioprothesiste",
    "manipulateur radio": "manipulateur-erm", "manipulatrice radio": "manipulateur-erm",
    "manipulateur erm": "manipulateur-erm", "manipulatrice erm": "manipulateur-erm",
    "technicien de laboratoire": "technicien-laboratoire", "technicienne de laboratoire": "technicien-laboratoire",
    "psychologue clinicien": "psychologue", "psychologue clinicienne": "psychologue",
}
KIND_VALUES = {
    "personne": MemberKind.PERSON, "personne physique": MemberKind.PERSON, "ps": MemberKind.PERSON,
    "professionnel": MemberKind.PERSON, "professionnelle": MemberKind.PERSON, "person": MemberKind.PERSON,
    "professionnel de sante": MemberKind.PERSON, "individuel": MemberKind.PERSON, "p": MemberKind.PERSON,
    "structure": MemberKind.STRUCTURE, "personne morale": MemberKind.STRUCTURE, "s": MemberKind.STRUCTURE,
    "etablissement": MemberKind.STRUCTURE, "organisme": MemberKind.STRUCTURE,
}
CIVILITY_VALUES = {
    "mme": Civility.MME, "madame": Civility.MME, "mlle": Civility.MME, "mademoiselle": Civility.MME,
    "m": Civility.M, "mr": Civility.M, "monsieur": Civility.M,
    "dr": Civility.DR, "docteur": Civility.DR, "docteure": Civility.DR,
    "pr": Civility.PR, "professeur": Civility.PR, "professeure": Civility.PR,
}
PRACTICE_MODE_VALUES = {
    "liberal": PracticeMode.LIBERAL, "liberale": PracticeMode.LIBERAL, "salarie": PracticeMode.SALARIED,
    "salariee": PracticeMode.SALARIED, "mixte": PracticeMode.MIXED, "liberal et salarie": PracticeMode.MIXED,
}
STRUCTURE_TYPE_VALUES = {
    "msp": StructureType.MSP, "maison de sante": StructureType.MSP,
    "maison de sante pluriprofessionnelle": StructureType.MSP,
    "cds": StructureType.CDS, "centre de sante": StructureType.CDS, "ehpad": StructureType.EHPAD,
    "hopital": StructureType.HOSPITAL, "ch": StructureType.HOSPITAL, "chu": StructureType.HOSPITAL,
    "clinique": StructureType.HOSPITAL, "etablissement de sante": StructureType.HOSPITAL,
    "ssiad": StructureType.SSIAD, "association d usagers": StructureType.USERS, "usagers": StructureType.USERS,
    "collectivite": StructureType.COLLECTIVITY, "mairie": StructureType.COLLECTIVITY,
    "commune": StructureType.COLLECTIVITY, "autre": StructureType.OTHER,
}
for _choices, _table_of_values in ((StructureType, STRUCTURE_TYPE_VALUES), (PracticeMode, PRACTICE_MODE_VALUES),
                                   (Civility, CIVILITY_VALUES)):
    for _value, _label in _choices.choices:
        _table_of_values.setdefault(normalize(_value), _value)
        _table_of_values.setdefault(normalize(str(_label)), _value)

_DATE_DMY = re.compile(r"(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{2}|\d{4})")
_DATE_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T].*)?")


def parse_date(text: str) -> date | None:
    match = _DATE_DMY.fullmatch(text)
    if match:
        day, month, year = (int(part) for part in match.groups())
        if len(match.group(3)) == 2:
            year += 2000 if year < 50 else 1900
    else:
        match = _DATE_ISO.fullmatch(text)
        if not match:
            return None
        year, month, day = (int(part) for part in match.groups())
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _digits(text: str) -> str:
    return re.sub(r"[\s.\-]", "", text)


@dataclass
class Context:
    """What classification needs from the database, loaded once (a few queries whatever the size)."""

    professions: dict[str, Profession]
    colleges: dict[str, College]
    by_rpps: dict[str, Member]
    by_finess: dict[str, list[Member]]
    by_siret: dict[str, list[Member]]
    by_email: dict[str, list[Member]]
    by_name: dict[tuple, list[Member]]
    by_id: dict[str, dict[int, Any]] = field(default_factory=dict)

    @classmethod
    def load(cls, association: Association) -> Context:
        professions: dict[str, Profession] = {}
        by_code = {}
        for profession in Profession.objects.all():
            by_code[profession.code] = profession
            professions.setdefault(normalize(profession.code), profession)
            label = normalize(profession.label)
            professions.setdefault(label, profession)
            # "Infirmier·ère" → "infirmier ere": also accept the part before the inclusive ending.
            professions.setdefault(normalize(profession.label.split("·")[0]), profession)
        for synonym, code in PROFESSION_SYNONYMS.items():
            if code in by_code:
                professions.setdefault(synonym, by_code[code])
        colleges = {normalize(c.name): c for c in College.objects.filter(association=association)}
        context = cls(professions, colleges, {}, {}, {}, {}, {})
        context.by_id = {"profession": {p.pk: p for p in by_code.values()},
                         "college": {c.pk: c for c in colleges.values()}}
        members = Member.objects.filter(association=association, anonymized_at=None).select_related(None)
        for member in members:
            context.index(member)
        return context

    def index(self, member: Member) -> None:
        if member.rpps:
            self.by_rpps[member.rpps] = member
        if member.finess:
            self.by_finess.setdefault(member.finess.upper(), []).append(member)
        if member.siret:
            self.by_siret.setdefault(member.siret, []).append(member)
        if member.email:
            self.by_email.setdefault(member.email.lower(), []).append(member)
        self.by_name.setdefault(name_key(member.kind, member.last_name, member.first_name, member.structure_name,
                                         member.postal_code), []).append(member)


def name_key(kind: str, last_name: str, first_name: str, structure_name: str, postal_code: str) -> tuple:
    if kind == MemberKind.STRUCTURE:
        return ("structure", normalize(structure_name), postal_code or "")
    return ("person", normalize(last_name), normalize(first_name), postal_code or "")


# --- Classification --------------------------------------------------------------------------------


@dataclass
class RowResult:
    line: int
    action: str = CREATE
    label: str = ""
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    changes: list[str] = field(default_factory=list)
    member: Member | None = None
    changed_fields: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return f"Ligne {self.line} : " + " ; ".join(self.errors)

    def as_json(self) -> dict[str, Any]:
        return {"line": self.line, "action": self.action, "label": self.label, "errors": self.errors,
                "warnings": self.warnings, "changes": self.changes}


def _coerce(name: str, raw: str, context: Context, result: RowResult) -> Any:
    """The cell's value for member field ``name``, or ``None`` after adding an error to ``result``."""
    if name == "rpps":
        value = _digits(raw)
        if not (value.isdigit() and len(value) == 11):
            result.errors.append(f"RPPS « {raw} » invalide (11 chiffres attendus)")
            return None
        if not luhn_ok(value):
            result.warnings.append(f"RPPS « {raw} » : la clé de contrôle ne correspond pas (vérifiez la saisie)")
        return value
    if name == "adeli":
        value = _digits(raw)
        if not (value.isdigit() and len(value) == 9):
            result.errors.append(f"ADELI « {raw} » invalide (9 chiffres attendus)")
            return None
        return value
    if name == "finess":
        value = _digits(raw).upper()
        if not FINESS_RE.match(value):
            result.errors.append(f"FINESS « {raw} » invalide (9 caractères : le département puis 7 chiffres)")
            return None
        return value
    if name == "siret":
        value = _digits(raw)
        if not (value.isdigit() and len(value) == 14):
            result.errors.append(f"SIRET « {raw} » invalide (14 chiffres attendus)")
            return None
        if not luhn_ok(value) and not value.startswith("356000000"):
            result.errors.append(f"SIRET « {raw} » invalide (clé de contrôle incorrecte)")
            return None
        return value
    if name == "postal_code":
        value = _digits(raw)
        if value.isdigit() and len(value) == 4:
            result.warnings.append(f"code postal « {raw} » complété en « 0{value} » (zéro initial perdu par le "
                                   "tableur)")
            value = "0" + value
        if not (value.isdigit() and len(value) == 5):
            result.errors.append(f"code postal « {raw} » invalide (5 chiffres attendus)")
            return None
        return value
    if name == "insee_code":
        value = _digits(raw).upper()
        if not re.fullmatch(r"(?:\d{2}|2A|2B)\d{3}", value):
            result.errors.append(f"code INSEE « {raw} » invalide (5 caractères, ex. 37261 ou 2A004)")
            return None
        return value
    if name == "email":
        value = raw.replace(" ", "")
        try:
            validate_email(value)
        except ValidationError:
            result.errors.append(f"e-mail « {raw} » invalide")
            return None
        return value
    if name == "joined_on":
        value = parse_date(raw)
        if value is None:
            result.errors.append(f"date « {raw} » invalide (jj/mm/aaaa attendu)")
        return value
    if name == "profession":
        value = context.professions.get(normalize(raw))
        if value is None:
            result.errors.append(f"profession « {raw} » inconnue")
        return value
    if name == "college":
        value = context.colleges.get(normalize(raw))
        if value is None:
            known = ", ".join(f"« {c.name} »" for c in context.colleges.values())
            result.errors.append(f"collège « {raw} » inconnu (collèges de l'association : {known})" if known else
                                 f"collège « {raw} » inconnu (aucun collège n'est défini pour l'association)")
        return value
    lookups = {"kind": (KIND_VALUES, "type", "« Personne » ou « Structure »"),
               "civility": (CIVILITY_VALUES, "civilité", "Mme, M., Dr ou Pr"),
               "practice_mode": (PRACTICE_MODE_VALUES, "mode d'exercice", "libéral, salarié ou mixte"),
               "structure_type": (STRUCTURE_TYPE_VALUES, "type de structure", "MSP, centre de santé, EHPAD…")}
    if name in lookups:
        table, label, expected = lookups[name]
        value = table.get(normalize(raw))
        if value is None:
            result.errors.append(f"{label} « {raw} » inconnu ({expected} attendu)")
        return value
    return raw


def _display(name: str, value: Any) -> str:
    """A value for the preview, between French quotes; "(vide)" when empty."""
    if value is None or value == "":
        return "(vide)"
    return f"« {_plain(name, value)} »"


def _plain(name: str, value: Any) -> str:
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    labels = _choice_labels(name)
    return str(labels.get(value, value)) if labels else str(value)


@functools.cache
def _choice_labels(name: str) -> dict:
    return dict(Member._meta.get_field(name).flatchoices or ())


def _same(name: str, old: Any, new: Any) -> bool:
    if name == "email":
        return (old or "").lower() == (new or "").lower()
    return old == new


FOREIGN_KEYS = ("profession", "college")
# What the preview shows about a member to create (one line).
CREATE_SUMMARY = ("profession", "structure_type", "rpps", "finess", "email", "postal_code", "city", "college")


FULL_CLEAN_EXCLUDE = ["association", "profession", "college", "practice_structure", "user"]


def classify(association: Association, table: Table, mapping: dict[str, str],
             context: Context | None = None) -> list[RowResult]:
    """Every row of the file as create / update / unchanged / error; nothing is written."""
    context = context or Context.load(association)
    columns = [(int(index), name) for index, name in mapping.items() if name in FIELDS]
    seen: dict[tuple, int] = {}
    matched: dict[int, int] = {}  # member pk → first line
    results = []
    for line, cells in table.rows:
        result = RowResult(line=line)
        values: dict[str, Any] = {}
        for index, name in columns:
            raw = cells[index] if index < len(cells) else ""
            if raw:
                value = _coerce(name, raw, context, result)
                if value is not None:
                    values[name] = value
        kind = values.pop("kind", None) or (
            MemberKind.STRUCTURE if values.get("structure_name") and not values.get("last_name")
            else MemberKind.PERSON)
        if kind == MemberKind.STRUCTURE:
            result.label = values.get("structure_name", "")
            if not values.get("structure_name"):
                result.errors.append("raison sociale manquante (obligatoire pour une structure)")
        else:
            result.label = " ".join(p for p in (values.get("first_name", ""), values.get("last_name", "").upper())
                                    if p)
            if not values.get("last_name"):
                result.errors.append("nom manquant")
        result.label = result.label or "—"
        _match_and_build(association, context, result, kind, values, seen, matched)
        results.append(result)
    return results


def _row_keys(kind: str, values: dict[str, Any]) -> list[tuple]:
    """What identifies the row's member, to find the same member twice in the file."""
    keys: list[tuple] = []
    if values.get("rpps"):
        keys.append(("rpps", values["rpps"]))
    if kind == MemberKind.STRUCTURE:
        for name in ("finess", "siret"):
            if values.get(name):
                keys.append((name, values[name]))
    names = _names(kind, values)
    if names[1]:  # a row without its name is already in error: no "doublon" on top of it
        keys.append(("name", *names, values.get("postal_code", "")))
        if values.get("email"):
            keys.append(("email", values["email"].lower(), *names))
    return keys


def _names(kind: str, values: dict[str, Any]) -> tuple[str, str, str]:
    if kind == MemberKind.STRUCTURE:
        return ("structure", normalize(values.get("structure_name", "")), "")
    return ("person", normalize(values.get("last_name", "")), normalize(values.get("first_name", "")))


def _member_names(member: Member) -> tuple[str, str, str]:
    if member.kind == MemberKind.STRUCTURE:
        return ("structure", normalize(member.structure_name), "")
    return ("person", normalize(member.last_name), normalize(member.first_name))


def _find_existing(context: Context, kind: str, values: dict[str, Any], result: RowResult) -> Member | None:
    """RPPS (FINESS, SIRET for structures), then e-mail, then names + postal code; an error when ambiguous."""
    rpps = values.get("rpps")
    if rpps and rpps in context.by_rpps:
        return context.by_rpps[rpps]
    if kind == MemberKind.STRUCTURE:
        for name, index in (("finess", context.by_finess), ("siret", context.by_siret)):
            found = index.get(values.get(name) or "", [])
            if len(found) == 1:
                return found[0]
            if len(found) > 1:
                result.errors.append(f"plusieurs adhérents existants ont ce {name.upper()} : corrigez-les d'abord")
                return None
    names = _names(kind, values)
    by_name = context.by_name.get(name_key(kind, values.get("last_name", ""), values.get("first_name", ""),
                                           values.get("structure_name", ""), values.get("postal_code", "")), [])
    email = (values.get("email") or "").lower()
    if email:
        # The same e-mail counts for a person when the names agree: both (best), or the first name (a
        # new married name). A practice address shared by relatives or colleagues is not a match.
        # A structure's e-mail is its own: it matches whatever the spelling of the name.
        candidates = [(m, _member_names(m)) for m in context.by_email.get(email, [])]
        exact = [m for m, found in candidates if found == names]
        partial = exact or [m for m, found in candidates if found[0] == names[0] and (
            names[0] == "structure" or (names[2] and found[2] == names[2]))]
        if len(partial) == 1:
            return partial[0]
        if len(partial) > 1:
            narrowed = [m for m in partial if m in by_name]
            if len(narrowed) == 1:
                return narrowed[0]
            result.errors.append(f"plusieurs adhérents existants ont l'e-mail « {values['email']} » et ce nom : "
                                 "ajoutez le RPPS pour les distinguer")
            return None
    if not names[1]:
        return None
    if len(by_name) > 1:
        result.errors.append("plusieurs adhérents existants ont ces nom, prénom et code postal : "
                             "ajoutez le RPPS ou l'e-mail pour les distinguer")
        return None
    return by_name[0] if by_name else None


def _match_and_build(association: Association, context: Context, result: RowResult, kind: str,
                     values: dict[str, Any], seen: dict[tuple, int], matched: dict[int, int]) -> None:
    keys = _row_keys(kind, values)
    for key in keys:
        if key in seen:
            result.errors.append(f"doublon de la ligne {seen[key]} dans le fichier")
            break
    for key in keys:
        seen.setdefault(key, result.line)
    if result.errors:
        result.action = ERROR
        return
    existing = _find_existing(context, kind, values, result)
    if result.errors:
        result.action = ERROR
        return
    if existing is None:
        member = Member(association=association, kind=kind, **values)
        result.action = CREATE
        result.changes = [" · ".join(_plain(name, values[name]) for name in CREATE_SUMMARY if values.get(name))]
    else:
        if existing.pk in matched:
            result.errors.append(f"doublon de la ligne {matched[existing.pk]} dans le fichier "
                                 f"(même adhérent « {existing.display_name} »)")
            result.action = ERROR
            return
        matched[existing.pk] = result.line
        if existing.kind != kind:
            result.errors.append(f"l'adhérent existant « {existing.display_name} » est "
                                 f"{'une structure' if existing.kind == MemberKind.STRUCTURE else 'une personne'}")
            result.action = ERROR
            return
        if values.get("rpps") and existing.rpps and existing.rpps != values["rpps"]:
            result.errors.append(f"l'adhérent existant « {existing.display_name} » (même e-mail ou même nom) a un "
                                 f"autre RPPS ({existing.rpps})")
            result.action = ERROR
            return
        member = existing
        for name, value in values.items():
            if name in FOREIGN_KEYS:  # compare ids: no query per row for the related objects
                old_id = getattr(member, f"{name}_id")
                if old_id == value.pk:
                    continue
                old = context.by_id[name].get(old_id)
            else:
                old = getattr(member, name)
                if _same(name, old, value):
                    continue
            result.changes.append(f"{FIELDS[name]} : {_display(name, old)} → {_display(name, value)}")
            result.changed_fields.append(name)
            setattr(member, name, value)
        result.action = UPDATE if result.changed_fields else UNCHANGED
    if result.action != UNCHANGED:
        try:
            member.full_clean(exclude=FULL_CLEAN_EXCLUDE, validate_unique=False, validate_constraints=False)
        except ValidationError as error:
            for name, messages in error.message_dict.items():
                label = "" if name == "__all__" else FIELDS.get(name) or str(Member._meta.get_field(name).verbose_name)
                for message in messages:
                    result.errors.append(f"{label} : {message}" if label else message)
            result.action = ERROR
            return
    result.member = member


def summarize(results: list[RowResult]) -> dict[str, Any]:
    counts = {CREATE: 0, UPDATE: 0, UNCHANGED: 0, ERROR: 0}
    shown: list[dict] = []
    hidden = {CREATE: 0, UPDATE: 0, UNCHANGED: 0, ERROR: 0}
    for result in results:
        counts[result.action] += 1
        if counts[result.action] <= SHOWN_ROWS[result.action]:
            shown.append(result.as_json())
        else:
            hidden[result.action] += 1
    return {"counts": counts, "warnings": sum(1 for r in results if r.warnings), "rows": shown, "hidden": hidden}


# --- Services: one function per step, each with its audit row where data changes -----------------


def create_job(association: Association, actor: User, filename: str, data: bytes,
               request: HttpRequest | None = None, table: Table | None = None) -> ImportJob:
    """Store an uploaded file that ``read_table`` accepts (raises ``ImportFileError`` otherwise).

    ``table``: the file already read by the caller (the upload form), to avoid parsing it twice.
    """
    table = table or read_table(data, filename)
    name = get_valid_filename(filename.rsplit("/", 1)[-1].rsplit("\\", 1)[-1])[:100] or "import.csv"
    with transaction.atomic():
        job = ImportJob(association=association, created_by=actor, original_name=filename[:255],
                        mapping=guess_mapping(table.headers), total_rows=len(table.rows))
        job.file.save(name, ContentFile(data), save=False)
        job.save()
        audit.record(association, actor, "member.import_upload", job, request=request,
                     changes={"file": filename[:255], "rows": len(table.rows)})
    return job


def load_table(job: ImportJob) -> Table:
    with job.file.open("rb") as handle:
        data = handle.read(MAX_BYTES + 1)
    return read_table(data, job.original_name)


def save_mapping(job: ImportJob, mapping: dict[str, str], table: Table | None = None) -> ImportJob:
    """Record the column mapping and compute the preview (nothing is written to members)."""
    if job.status not in (ImportJob.Status.UPLOADED, ImportJob.Status.PREVIEWED):
        raise ServiceError("Cet import a déjà été lancé : la correspondance des colonnes ne peut plus changer.")
    problem = mapping_problem(mapping)
    if problem:
        raise ServiceError(problem)
    table = table or load_table(job)
    results = classify(job.association, table, mapping)  # outside the transaction: it reads only
    with transaction.atomic():
        # Confirmed meanwhile (another tab)? The queued job keeps the mapping it was confirmed with.
        locked = ImportJob.objects.select_for_update().get(pk=job.pk)
        if locked.status not in (ImportJob.Status.UPLOADED, ImportJob.Status.PREVIEWED):
            raise ServiceError("Cet import a déjà été lancé : la correspondance des colonnes ne peut plus changer.")
        job.mapping = mapping
        job.summary = summarize(results)
        job.total_rows = len(results)
        job.status = ImportJob.Status.PREVIEWED
        job.save(update_fields=["mapping", "summary", "total_rows", "status"])
    return job


def queue_import(job: ImportJob, actor: User) -> ImportJob:
    """After the preview: hand the job to the background worker (after commit)."""
    from associations.membership.import_tasks import apply_import

    with transaction.atomic():
        locked = ImportJob.objects.select_for_update().get(pk=job.pk)
        if locked.status != ImportJob.Status.PREVIEWED:
            raise ServiceError("Cet import a déjà été lancé.")
        errors = (locked.summary.get("counts") or {}).get(ERROR, 0)
        if errors:
            raise ServiceError(f"Le fichier contient {errors} ligne(s) en erreur : corrigez-les puis déposez à "
                               "nouveau le fichier. Aucun adhérent n'a été importé.")
        locked.status = ImportJob.Status.QUEUED
        locked.error = ""
        locked.save(update_fields=["status", "error"])
        apply_import.delay_on_commit(locked.association_id, locked.pk)
    return locked


def _prepare_for_write(member: Member, college_ids: set[int]) -> Member:
    """What ``save()`` checks (``TenantModel.check_tenant_parents``) without a query per row: the collège
    belongs to the same association."""
    if member.college_id is not None and member.college_id not in college_ids:
        raise ValidationError("Member.college appartient à une autre association.")
    return member


def _write(association: Association, results: Iterable[RowResult]) -> dict[str, int]:
    now = timezone.now()
    college_ids = set(College.objects.filter(association=association).values_list("pk", flat=True))
    to_create: list[Member] = []
    to_update: list[Member] = []
    fields: set[str] = set()
    counts = {CREATE: 0, UPDATE: 0, UNCHANGED: 0}

    def flush() -> None:
        if to_create:
            Member.objects.bulk_create(to_create, batch_size=BATCH_SIZE)
            to_create.clear()
        if to_update:
            Member.objects.bulk_update(to_update, sorted(fields | {"updated_at"}), batch_size=BATCH_SIZE)
            to_update.clear()

    for result in results:
        counts[result.action] += 1
        if result.action == UNCHANGED:
            continue
        member = _prepare_for_write(result.member, college_ids)
        if result.action == CREATE:
            to_create.append(member)
        else:
            member.updated_at = now
            fields.update(result.changed_fields)
            to_update.append(member)
        if len(to_create) + len(to_update) >= BATCH_SIZE:
            flush()
    flush()
    return counts


def apply_job(association: Association, job: ImportJob) -> dict[str, int]:
    """Re-read the stored file with the stored mapping and write every row, or raise ``ImportRowsError``.

    Runs inside the caller's transaction with the job row locked.
    """
    table = load_table(job)
    results = classify(association, table, job.mapping)
    if any(r.action == ERROR for r in results):
        raise ImportRowsError(results)
    counts = _write(association, results)
    job.status = ImportJob.Status.DONE
    job.processed_rows = job.total_rows = len(results)
    job.summary = {**summarize(results), "applied": counts}
    job.finished_at = timezone.now()
    job.error = ""
    job.save(update_fields=["status", "processed_rows", "total_rows", "summary", "finished_at", "error"])
    audit.record(association, job.created_by, "member.import", job,
                 changes={"job": job.pk, "file": job.original_name, "created": counts[CREATE],
                          "updated": counts[UPDATE], "unchanged": counts[UNCHANGED]})
    return counts


def run_import(association: Association, job_id: int) -> str:
    """Body of the background task: lock, skip work already done, apply atomically, record the outcome."""
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().filter(association=association, pk=job_id).first()
        if job is None or job.status != ImportJob.Status.QUEUED:
            return "skipped"  # unknown, not confirmed, already running (a retry) or finished
        job.status = ImportJob.Status.RUNNING
        job.started_at = timezone.now()
        job.processed_rows = 0
        job.save(update_fields=["status", "started_at", "processed_rows"])
    try:
        with transaction.atomic():
            job = ImportJob.objects.select_for_update(of=("self",)).select_related("created_by").get(pk=job_id)
            apply_job(association, job)
    except ImportRowsError as error:
        _fail(job_id, str(error), summarize(error.results))
        return "failed"
    except ImportFileError as error:
        _fail(job_id, f"{error} Aucun adhérent n'a été créé ni modifié.")
        return "failed"
    except FileNotFoundError:
        _fail(job_id, "Le fichier déposé est introuvable : déposez-le à nouveau. Aucun adhérent n'a été modifié.")
        return "failed"
    except OSError:
        # Transient (storage, database connection): back in the queue for the automatic retry.
        ImportJob.objects.filter(pk=job_id, status=ImportJob.Status.RUNNING).update(status=ImportJob.Status.QUEUED)
        raise
    except Exception:
        logger.exception("Import %s of association %s failed", job_id, association.pk)
        _fail(job_id, "Erreur inattendue pendant l'import : aucun adhérent n'a été créé ni modifié. "
                      "Réessayez ou contactez l'assistance.")
        return "failed"
    return "done"


def _fail(job_id: int, message: str, summary: dict | None = None) -> None:
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().get(pk=job_id)
        job.status = ImportJob.Status.FAILED
        job.error = message
        job.finished_at = timezone.now()
        fields = ["status", "error", "finished_at"]
        if summary is not None:
            job.summary = summary
            fields.append("summary")
        job.save(update_fields=fields)
