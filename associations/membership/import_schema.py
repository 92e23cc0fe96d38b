"""The members import kind (``"members"``): rows of a spreadsheet as French offices export them,
creating or updating the association's members (``associations.imports`` does the rest).

Matching an existing member of the association: RPPS (FINESS/SIRET for structures), then e-mail
(case-insensitive, when the name agrees), then last name + first name + postal code (normalised).
A member found twice in the file, or ambiguously in the database, is an error for the row. Empty
cells never erase what a member already has. ``register()`` is called from ``AssociationsConfig.ready()``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from associations.imports import values
from associations.imports.classification import CREATE, ERROR, UNCHANGED, UPDATE, RowResult, describe_change
from associations.imports.schema import Field, ImportKind, Wording, register_kind
from associations.imports.values import InvalidValue, normalize, strip_separators
from associations.models import (
    Association,
    Civility,
    College,
    Member,
    MemberKind,
    PracticeMode,
    Profession,
    StructureType,
)
from associations.validators import FINESS_RE, luhn_ok

# Rows written per INSERT/UPDATE statement when applying.
BATCH_SIZE = 500

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
# The codes and the (French) labels of the choices are accepted too.
with translation.override(None):
    for _choices, _accepted in ((StructureType, STRUCTURE_TYPE_VALUES), (PracticeMode, PRACTICE_MODE_VALUES),
                                (Civility, CIVILITY_VALUES)):
        for _value, _label in _choices.choices:
            _accepted.setdefault(normalize(_value), _value)
            _accepted.setdefault(normalize(str(_label)), _value)


# --- Parsers of the member-specific cells ------------------------------------------------------


_rpps_digits = values.digits("RPPS", 11)
_siret_digits = values.digits("SIRET", 14)


def _rpps(raw: str, row: RowResult) -> str:
    value = _rpps_digits(raw, row)
    if not luhn_ok(value):
        row.warn(_("RPPS « %(value)s » : la clé de contrôle ne correspond pas (vérifiez la saisie)") % {"value": raw})
    return value


def _finess(raw: str, row: RowResult) -> str:
    value = strip_separators(raw).upper()
    if not FINESS_RE.match(value):
        raise InvalidValue(_("FINESS « %(value)s » invalide (9 caractères : le département puis 7 chiffres)")
                           % {"value": raw})
    return value


def _siret(raw: str, row: RowResult) -> str:
    value = _siret_digits(raw, row)
    if not luhn_ok(value) and not value.startswith("356000000"):  # La Poste's establishments
        raise InvalidValue(_("SIRET « %(value)s » invalide (clé de contrôle incorrecte)") % {"value": raw})
    return value


def _profession(raw: str, row: RowResult) -> Profession:
    value = row.existing.professions.get(normalize(raw))
    if value is None:
        raise InvalidValue(_("profession « %(value)s » inconnue") % {"value": raw})
    return value


def _college(raw: str, row: RowResult) -> College:
    colleges = row.existing.colleges
    value = colleges.get(normalize(raw))
    if value is None:
        known = ", ".join(f"« {c.name} »" for c in colleges.values())
        if known:
            raise InvalidValue(_("collège « %(value)s » inconnu (collèges de l'association : %(known)s)")
                               % {"value": raw, "known": known})
        raise InvalidValue(_("collège « %(value)s » inconnu (aucun collège n'est défini pour l'association)")
                           % {"value": raw})
    return value


FIELDS = (
    Field("civility", gettext_lazy("Civilité"), ("civilite",),
          parser=values.lookup(CIVILITY_VALUES, gettext_lazy("civilité"), gettext_lazy("Mme, M., Dr ou Pr"))),
    Field("last_name", gettext_lazy("Nom"), ("nom",)),
    Field("first_name", gettext_lazy("Prénom"), ("prenom",)),
    Field("kind", gettext_lazy("Type (personne ou structure)"), ("type", "categorie"),
          parser=values.lookup(KIND_VALUES, gettext_lazy("type"), gettext_lazy("« Personne » ou « Structure »"))),
    Field("profession", gettext_lazy("Profession"), ("profession", "metier"), parser=_profession),
    Field("specialty", gettext_lazy("Spécialité"), ("specialite",)),
    Field("practice_mode", gettext_lazy("Mode d'exercice"), ("exercice",),
          parser=values.lookup(PRACTICE_MODE_VALUES, gettext_lazy("mode d'exercice"),
                               gettext_lazy("libéral, salarié ou mixte"))),
    Field("rpps", gettext_lazy("RPPS"), ("rpps",), parser=_rpps),
    Field("adeli", gettext_lazy("ADELI"), ("adeli",), parser=values.digits("ADELI", 9)),
    Field("structure_name", gettext_lazy("Raison sociale (structure)"),
          ("raison sociale", "structure", "etablissement", "denomination")),
    Field("structure_type", gettext_lazy("Type de structure"), ("type structure", "type etablissement"),
          parser=values.lookup(STRUCTURE_TYPE_VALUES, gettext_lazy("type de structure"),
                               gettext_lazy("MSP, centre de santé, EHPAD…"))),
    Field("finess", gettext_lazy("FINESS"), ("finess",), parser=_finess),
    Field("siret", gettext_lazy("SIRET"), ("siret",), parser=_siret),
    Field("contact_person", gettext_lazy("Personne à contacter"), ("contact",)),
    Field("email", gettext_lazy("E-mail"), ("courriel", "mail", "email", "mel"), parser=values.email),
    Field("phone", gettext_lazy("Téléphone"), ("telephone", "tel", "portable", "mobile")),
    Field("address", gettext_lazy("Adresse"), ("adresse", "rue")),
    Field("postal_code", gettext_lazy("Code postal"), ("code postal", "cp"), parser=values.postal_code),
    Field("city", gettext_lazy("Commune"), ("ville", "commune", "localite")),
    Field("insee_code", gettext_lazy("Code INSEE"), ("insee",), parser=values.insee_code),
    Field("college", gettext_lazy("Collège"), ("college",), parser=_college),
    Field("joined_on", gettext_lazy("Date d'adhésion"), ("adhesion", "date entree"), parser=values.french_date),
    Field("notes", gettext_lazy("Notes"), ("notes", "note", "commentaire", "commentaires", "remarques")),
)
FOREIGN_KEYS = ("profession", "college")
# What the preview shows about a member to create (one line).
CREATE_SUMMARY = ("profession", "structure_type", "rpps", "finess", "email", "postal_code", "city", "college")
FULL_CLEAN_EXCLUDE = ["association", "profession", "college", "practice_structure", "user"]


# --- Existing data -----------------------------------------------------------------------------


def name_key(kind: str, last_name: str, first_name: str, structure_name: str, postal_code: str) -> tuple:
    if kind == MemberKind.STRUCTURE:
        return ("structure", normalize(structure_name), postal_code or "")
    return ("person", normalize(last_name), normalize(first_name), postal_code or "")


@dataclass
class Existing:
    """What classification needs from the database, loaded once (a few queries whatever the size), and
    what it remembers across the rows of the file (to report duplicates)."""

    professions: dict[str, Profession]
    colleges: dict[str, College]
    by_id: dict[str, dict[int, Any]]
    by_rpps: dict[str, Member] = field(default_factory=dict)
    by_finess: dict[str, list[Member]] = field(default_factory=dict)
    by_siret: dict[str, list[Member]] = field(default_factory=dict)
    by_email: dict[str, list[Member]] = field(default_factory=dict)
    by_name: dict[tuple, list[Member]] = field(default_factory=dict)
    seen: dict[tuple, int] = field(default_factory=dict)  # identifying key of a row → its line
    matched: dict[int, int] = field(default_factory=dict)  # member pk → the first line matching it

    @classmethod
    def load(cls, association: Association) -> Existing:
        professions: dict[str, Profession] = {}
        by_code = {}
        for profession in Profession.objects.all():
            by_code[profession.code] = profession
            professions.setdefault(normalize(profession.code), profession)
            professions.setdefault(normalize(profession.label), profession)
            # "Infirmier·ère" → "infirmier ere": also accept the part before the inclusive ending.
            professions.setdefault(normalize(profession.label.split("·")[0]), profession)
        for synonym, code in PROFESSION_SYNONYMS.items():
            if code in by_code:
                professions.setdefault(synonym, by_code[code])
        colleges = {normalize(c.name): c for c in College.objects.filter(association=association)}
        existing = cls(professions, colleges, {"profession": {p.pk: p for p in by_code.values()},
                                               "college": {c.pk: c for c in colleges.values()}})
        for member in Member.objects.filter(association=association, anonymized_at=None).select_related(None):
            existing.index(member)
        return existing

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


# --- Display in the preview --------------------------------------------------------------------


@functools.cache
def _choice_labels(name: str) -> dict:
    return dict(Member._meta.get_field(name).flatchoices or ())


def _plain(name: str, value: Any) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    labels = _choice_labels(name)
    return str(labels.get(value, value)) if labels else str(value)


def _same(name: str, old: Any, new: Any) -> bool:
    if name == "email":
        return (old or "").lower() == (new or "").lower()
    return old == new


# --- Matching ----------------------------------------------------------------------------------


def _names(kind: str, values: dict[str, Any]) -> tuple[str, str, str]:
    if kind == MemberKind.STRUCTURE:
        return ("structure", normalize(values.get("structure_name", "")), "")
    return ("person", normalize(values.get("last_name", "")), normalize(values.get("first_name", "")))


def _member_names(member: Member) -> tuple[str, str, str]:
    if member.kind == MemberKind.STRUCTURE:
        return ("structure", normalize(member.structure_name), "")
    return ("person", normalize(member.last_name), normalize(member.first_name))


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


def _find_existing(existing: Existing, kind: str, values: dict[str, Any], row: RowResult) -> Member | None:
    """RPPS (FINESS, SIRET for structures), then e-mail, then names + postal code; an error when ambiguous."""
    rpps = values.get("rpps")
    if rpps and rpps in existing.by_rpps:
        return existing.by_rpps[rpps]
    if kind == MemberKind.STRUCTURE:
        for name, index in (("finess", existing.by_finess), ("siret", existing.by_siret)):
            found = index.get(values.get(name) or "", [])
            if len(found) == 1:
                return found[0]
            if len(found) > 1:
                row.errors.append(_("plusieurs adhérents existants ont ce %(number)s : corrigez-les d'abord")
                                  % {"number": name.upper()})
                return None
    names = _names(kind, values)
    by_name = existing.by_name.get(name_key(kind, values.get("last_name", ""), values.get("first_name", ""),
                                            values.get("structure_name", ""), values.get("postal_code", "")), [])
    email = (values.get("email") or "").lower()
    if email:
        # The same e-mail counts for a person when the names agree: both (best), or the first name (a
        # new married name). A practice address shared by relatives or colleagues is not a match.
        # A structure's e-mail is its own: it matches whatever the spelling of the name.
        candidates = [(m, _member_names(m)) for m in existing.by_email.get(email, [])]
        exact = [m for m, found in candidates if found == names]
        partial = exact or [m for m, found in candidates if found[0] == names[0] and (
            names[0] == "structure" or (names[2] and found[2] == names[2]))]
        if len(partial) == 1:
            return partial[0]
        if len(partial) > 1:
            narrowed = [m for m in partial if m in by_name]
            if len(narrowed) == 1:
                return narrowed[0]
            row.errors.append(_("plusieurs adhérents existants ont l'e-mail « %(email)s » et ce nom : ajoutez le "
                                "RPPS pour les distinguer") % {"email": values["email"]})
            return None
    if not names[1]:
        return None
    if len(by_name) > 1:
        row.errors.append(_("plusieurs adhérents existants ont ces nom, prénom et code postal : ajoutez le RPPS ou "
                            "l'e-mail pour les distinguer"))
        return None
    return by_name[0] if by_name else None


def _update(existing: Existing, member: Member, values: dict[str, Any], row: RowResult) -> None:
    """Set the row's values on the existing member, listing what changes (nothing for an empty cell)."""
    for name, value in values.items():
        if name in FOREIGN_KEYS:  # compare ids: no query per row for the related objects
            old_id = getattr(member, f"{name}_id")
            if old_id == value.pk:
                continue
            old = existing.by_id[name].get(old_id)
        else:
            old = getattr(member, name)
            if _same(name, old, value):
                continue
        row.changes.append(describe_change(FIELD_LABELS[name], _plain(name, old), _plain(name, value)))
        row.changed_fields.append(name)
        setattr(member, name, value)
    row.action = UPDATE if row.changed_fields else UNCHANGED


def _match(association: Association, existing: Existing, row: RowResult, kind: str, values: dict[str, Any]) -> None:
    keys = _row_keys(kind, values)
    for key in keys:
        if key in existing.seen:
            row.errors.append(_("doublon de la ligne %(line)s dans le fichier") % {"line": existing.seen[key]})
            break
    for key in keys:
        existing.seen.setdefault(key, row.line)
    if row.errors:
        return
    member = _find_existing(existing, kind, values, row)
    if row.errors:
        return
    if member is None:
        member = Member(association=association, kind=kind, **values)
        row.action = CREATE
        row.changes = [" · ".join(_plain(name, values[name]) for name in CREATE_SUMMARY if values.get(name))]
    else:
        if member.pk in existing.matched:
            row.errors.append(_("doublon de la ligne %(line)s dans le fichier (même adhérent « %(member)s »)")
                              % {"line": existing.matched[member.pk], "member": member.display_name})
            return
        existing.matched[member.pk] = row.line
        if member.kind != kind:
            row.errors.append((_("l'adhérent existant « %(member)s » est une structure") if member.kind ==
                               MemberKind.STRUCTURE else _("l'adhérent existant « %(member)s » est une personne"))
                              % {"member": member.display_name})
            return
        if values.get("rpps") and member.rpps and member.rpps != values["rpps"]:
            row.errors.append(_("l'adhérent existant « %(member)s » (même e-mail ou même nom) a un autre RPPS "
                                "(%(rpps)s)") % {"member": member.display_name, "rpps": member.rpps})
            return
        _update(existing, member, values, row)
    if row.action != UNCHANGED:
        try:
            member.full_clean(exclude=FULL_CLEAN_EXCLUDE, validate_unique=False, validate_constraints=False)
        except ValidationError as error:
            for name, messages in error.message_dict.items():
                label = "" if name == "__all__" else FIELD_LABELS.get(name) or Member._meta.get_field(name).verbose_name
                row.errors.extend(f"{label} : {message}" if label else message for message in messages)
            return
    row.instance = member


# --- Writing -----------------------------------------------------------------------------------


def _prepare_for_write(member: Member, college_ids: set[int]) -> Member:
    """What ``save()`` checks (``TenantModel.check_tenant_parents``) without a query per row: the collège
    belongs to the same association."""
    if member.college_id is not None and member.college_id not in college_ids:
        raise ValidationError(_("Member.college appartient à une autre association."))
    return member


# --- The kind ----------------------------------------------------------------------------------


FIELD_LABELS = {f.key: f.label for f in FIELDS}


class MembersImport(ImportKind):
    key = "members"
    capability = "import_members"
    fields = FIELDS
    # Headers are tried against these fields first: "Type de structure" before "Structure" and "Type",
    # "Nom de la structure" before "Nom", identifiers and contact details before the rest.
    guess_order = ("rpps", "adeli", "finess", "siret", "insee_code", "email", "phone", "civility", "college",
                   "structure_type", "structure_name", "postal_code", "city", "address", "specialty", "profession",
                   "practice_mode", "joined_on", "contact_person", "notes", "kind", "first_name", "last_name")
    ambiguous_headers = ("nom prenom",)  # "Nom Prénom" in one column: let the person choose
    required_any = ((("last_name", "structure_name"), gettext_lazy(
        "Choisissez la colonne du nom (professionnels) ou de la raison sociale (structures) : l'une des deux est "
        "obligatoire.")),)
    header_help = gettext_lazy("Nom, Prénom, Profession, RPPS, E-mail, Code postal…")
    audit_upload = "member.import_upload"
    audit_apply = "member.import"
    wording = Wording(
        title=gettext_lazy("Imports d'adhérents"),
        upload_title=gettext_lazy("Importer des adhérents"),
        file_label=gettext_lazy("Fichier des adhérents (CSV ou Excel .xlsx)"),
        file_help=gettext_lazy("10 Mo au maximum. La première ligne contient les intitulés des colonnes (Nom, Prénom, "
                               "Profession, RPPS, E-mail…). CSV : séparateur point-virgule ou virgule, UTF-8 ou "
                               "Windows-1252."),
        upload_help=(
            gettext_lazy("Rien n'est enregistré dans les adhérents avant votre confirmation : vous vérifiez d'abord "
                         "les colonnes, puis un aperçu ligne par ligne."),
            gettext_lazy("Colonnes reconnues : Civilité, Nom, Prénom, Profession, Spécialité, Mode d'exercice, RPPS, "
                         "ADELI, E-mail, Téléphone, Adresse, Code postal, Commune, INSEE, Collège, Type (personne ou "
                         "structure), Raison sociale, FINESS, SIRET, Date d'adhésion."),
            gettext_lazy("Un adhérent déjà enregistré est reconnu par son RPPS, puis son e-mail, puis ses nom, prénom "
                         "et code postal : il est mis à jour au lieu d'être créé en double."),
            gettext_lazy("Dates au format jj/mm/aaaa. Les cellules vides ne modifient pas les données existantes."),
        ),
        empty_list=gettext_lazy("Aucun import pour l'instant. Déposez un fichier CSV ou Excel exporté de votre "
                                "tableur pour créer ou mettre à jour les adhérents en une fois."),
        mapping_help=gettext_lazy("Pour chaque colonne du fichier, choisissez l'information de l'adhérent qu'elle "
                                  "contient (les colonnes ont été devinées d'après leur intitulé). La colonne du nom, "
                                  "ou de la raison sociale pour les structures, est obligatoire."),
        row_header=gettext_lazy("Adhérent"),
        create_section=gettext_lazy("Adhérents à créer"),
        update_section=gettext_lazy("Adhérents à mettre à jour"),
        confirm=gettext_lazy("%(c)s adhérent(s) seront créés et %(u)s mis à jour, en une seule fois. Les lignes sans "
                             "changement ne modifient rien."),
        created=gettext_lazy("adhérent(s) créé(s)"),
        updated=gettext_lazy("adhérent(s) mis à jour"),
        queued=gettext_lazy("Import lancé : les adhérents sont enregistrés en arrière-plan."),
        failed=gettext_lazy("L'import a échoué : aucun adhérent n'a été créé ni modifié."),
        nothing_written=gettext_lazy("aucun adhérent n'a été créé ni modifié"),
        nothing_imported=gettext_lazy("Aucun adhérent n'a été importé."),
        objects_url="member_list",
        objects_label=gettext_lazy("Adhérents"),
        objects_link=gettext_lazy("Voir les adhérents"),
    )

    def load(self, association: Association) -> Existing:
        return Existing.load(association)

    def classify_row(self, association: Association, row: RowResult, existing: Existing) -> None:
        values = row.values
        kind = values.pop("kind", None) or (
            MemberKind.STRUCTURE if values.get("structure_name") and not values.get("last_name")
            else MemberKind.PERSON)
        if kind == MemberKind.STRUCTURE:
            row.label = values.get("structure_name", "")
            if not values.get("structure_name"):
                row.errors.append(_("raison sociale manquante (obligatoire pour une structure)"))
        else:
            row.label = " ".join(p for p in (values.get("first_name", ""), values.get("last_name", "").upper()) if p)
            if not values.get("last_name"):
                row.errors.append(_("nom manquant"))
        row.label = row.label or "—"
        _match(association, existing, row, kind, values)
        if row.errors:
            row.action = ERROR

    def write(self, association: Association, rows: list[RowResult], existing: Existing) -> None:
        now = timezone.now()
        college_ids = set(College.objects.filter(association=association).values_list("pk", flat=True))
        to_create: list[Member] = []
        to_update: list[Member] = []
        fields: set[str] = set()

        def flush() -> None:
            if to_create:
                Member.objects.bulk_create(to_create, batch_size=BATCH_SIZE)
                to_create.clear()
            if to_update:
                Member.objects.bulk_update(to_update, sorted(fields | {"updated_at"}), batch_size=BATCH_SIZE)
                to_update.clear()

        for row in rows:
            member = _prepare_for_write(row.instance, college_ids)
            if row.action == CREATE:
                to_create.append(member)
            else:
                member.updated_at = now
                fields.update(row.changed_fields)
                to_update.append(member)
            if len(to_create) + len(to_update) >= BATCH_SIZE:
                flush()
        flush()


MEMBERS = MembersImport()


def register() -> None:
    """Called from ``AssociationsConfig.ready()``: the members import kind, under ``"members"``."""
    register_kind(MEMBERS)
