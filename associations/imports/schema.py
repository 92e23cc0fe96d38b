"""Import kinds: what the rows of a file mean, and the registry every app fills in its ``ready()``.

An import kind (``ImportKind`` subclass, one instance registered under its ``key``) declares:

- its **fields** (``Field``): key, French label, header aliases used to guess the mapping, required
  or not, and the parser turning a cell into a value (``associations.imports.values``);
- the **existing data** it needs to classify rows (``load``: a fixed number of queries, whatever the
  number of rows) and how one parsed row is **classified** (``classify_row``: create / update /
  unchanged, or errors with their French reasons);
- how the classified rows are **written** (``write``, called inside the job's transaction: every row
  or none);
- the capability the screens require, the audit action codes (registered by the kind's app with
  ``register_audit_actions``) and the **wording** of the screens (``Wording``).

The members kind lives in ``associations.membership.import_schema``; a CPAM indicator values kind
(indicator code, contract year, value, measured date) would be another subclass registered from the
indicators app.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from associations.imports import classification, columns, reader, values
from associations.registries import Registry, audit_actions, capabilities

if TYPE_CHECKING:
    from associations.imports.classification import RowResult
    from associations.imports.reader import Table
    from associations.models import Association, ImportJob


@dataclass(frozen=True)
class Field:
    key: str
    label: Any  # lazy translation
    aliases: tuple[str, ...] = ()  # header words that designate this field: ("code postal", "cp")
    required: bool = False  # the column must be mapped and every row must have a value
    parser: values.Parser = values.text


@dataclass(frozen=True)
class Wording:
    """What the import screens say about this kind (lazy translations; generic by default)."""

    title: Any = _("Imports")
    upload_title: Any = _("Importer un fichier")
    file_label: Any = _("Fichier à importer (CSV ou Excel .xlsx)")
    file_help: Any = _("10 Mo au maximum. La première ligne contient les intitulés des colonnes. CSV : séparateur "
                       "point-virgule ou virgule, UTF-8 ou Windows-1252.")
    upload_help: tuple[Any, ...] = (
        _("Rien n'est enregistré avant votre confirmation : vous vérifiez d'abord les colonnes, puis un aperçu "
          "ligne par ligne."),
    )
    empty_list: Any = _("Aucun import pour l'instant.")
    mapping_help: Any = _("Pour chaque colonne du fichier, choisissez l'information qu'elle contient (les colonnes "
                          "ont été devinées d'après leur intitulé).")
    row_header: Any = _("Élément")
    create_section: Any = _("Lignes à créer")
    update_section: Any = _("Lignes à mettre à jour")
    confirm: Any = _("%(c)s ligne(s) seront créées et %(u)s mises à jour, en une seule fois. Les lignes sans "
                     "changement ne modifient rien.")
    created: Any = _("ligne(s) créée(s)")
    updated: Any = _("ligne(s) mise(s) à jour")
    queued: Any = _("Import lancé : les lignes sont enregistrées en arrière-plan.")
    failed: Any = _("L'import a échoué : aucune ligne n'a été enregistrée.")
    nothing_written: Any = _("aucune ligne n'a été enregistrée")  # ends the sentences of failures
    nothing_imported: Any = _("Aucune ligne n'a été importée.")
    # The list of what the kind writes (a URL name taking the association's slug), for a link.
    objects_url: str = ""
    objects_label: Any = ""
    objects_link: Any = ""


class ImportKind:
    """Base class of an import kind; subclasses set the class attributes and the three hooks."""

    key: str = ""
    capability: str = ""  # needed by every screen of this kind
    fields: tuple[Field, ...] = ()
    guess_order: tuple[str, ...] = ()  # field keys tried first when guessing a header (default: field order)
    ambiguous_headers: tuple[str, ...] = ()  # headers left unmapped when they contain these words: ("nom prenom",)
    required_any: tuple[tuple[tuple[str, ...], Any], ...] = ()  # ((keys, message),): one of the keys must be mapped
    header_help: Any = ""  # a few expected headers, for the refusal of a file without them
    audit_upload: str = ""  # audit action code of an uploaded file
    audit_apply: str = ""  # audit action code of an applied import
    wording: Wording = Wording()

    def __init__(self) -> None:
        if not self.key or not self.capability or not self.fields or not self.audit_upload or not self.audit_apply:
            raise ImproperlyConfigured(f"{type(self).__name__}: key, capability, fields and audit codes are needed.")
        self.fields_by_key = {f.key: f for f in self.fields}
        if len(self.fields_by_key) != len(self.fields) or not set(self.guess_order) <= set(self.fields_by_key):
            raise ImproperlyConfigured(f"{type(self).__name__}: field keys must be unique and known to guess_order.")
        self.header_rules = columns.header_rules(self)
        self.ambiguous_words = [columns.header_words(words) for words in self.ambiguous_headers]

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.key!r}>"

    # --- Hooks of the kind -----------------------------------------------------------------------

    def load(self, association: Association) -> Any:
        """The existing data ``classify_row`` and the parsers need (``row.existing``), in a fixed number of
        queries. Called once per classification; it may also hold state across rows (duplicates)."""
        return None

    def classify_row(self, association: Association, row: RowResult, existing: Any) -> None:
        """Decide ``row.action`` (create / update / unchanged) from ``row.values``, set ``row.label``,
        ``row.changes`` and ``row.instance``, or append to ``row.errors`` (the row is then in error).
        ``row.errors`` may already hold the reasons of unreadable cells."""
        raise NotImplementedError

    def write(self, association: Association, rows: list[RowResult], existing: Any) -> None:
        """Write the rows to create or update (never an error row), inside the caller's transaction: an
        exception rolls everything back."""
        raise NotImplementedError

    def write_job(self, association: Association, rows: list[RowResult], existing: Any, job: ImportJob) -> None:
        """Write the rows of the confirmed ``job`` (``write`` by default); a kind that records who entered the
        data (``job.created_by``) overrides this one."""
        self.write(association, rows, existing)

    # --- Generic behaviour -----------------------------------------------------------------------

    def choices(self) -> list[tuple[str, Any]]:
        return [(f.key, f.label) for f in self.fields]

    def guess_field(self, header: str) -> str | None:
        return columns.guess_field(self, header)

    def guess_mapping(self, headers: list[str]) -> dict[str, str]:
        return columns.guess_mapping(self, headers)

    def mapping_problem(self, mapping: dict[str, str]) -> str | None:
        return columns.mapping_problem(self, mapping)

    def read(self, data: bytes, filename: str = "") -> Table:
        """The file as a table, refused (``ImportFileError``) when none of its headers is one of ours."""
        help_text = str(self.header_help) or ", ".join(str(f.label) for f in self.fields[:6]) + "…"
        return reader.read_table(data, filename, header_help=help_text,
                                 recognizes=lambda header: self.guess_field(header) is not None)

    def classify(self, association: Association, table: Table, mapping: dict[str, str],
                 existing: Any = None) -> list[RowResult]:
        """Every row as create / update / unchanged / error (``existing``: from ``load``, loaded when omitted)."""
        return classification.classify(self, association, table, mapping, existing)


import_kinds: Registry[ImportKind] = Registry("import kinds")


def register_kind(kind: ImportKind) -> ImportKind:
    """Register an import kind (from the owning app's ``ready()``, after its capabilities and audit actions)."""
    unknown = [code for code in (kind.audit_upload, kind.audit_apply) if code not in audit_actions]
    if kind.capability not in capabilities or unknown:
        raise ImproperlyConfigured(f"Import kind {kind.key!r}: register its capability {kind.capability!r} and audit "
                                   f"actions {unknown} first.")
    # The task applying confirmed jobs must be known to Celery in every process that has a kind to
    # import (web and worker both run ready()), whatever the project's task autodiscovery lists.
    from associations.imports import tasks  # noqa: F401

    return import_kinds.register(kind.key, kind)


def get_kind(key: str) -> ImportKind:
    kind = import_kinds.get(key)
    if kind is None:
        raise LookupError(f"Unknown import kind {key!r}")
    return kind

