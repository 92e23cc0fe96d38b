"""Classification of the rows of a file: create / update / unchanged / error, nothing written.

The generic part reads every mapped cell through its field's parser (errors and warnings collected
per row, with the spreadsheet's line number), reports the missing required values, then hands the
row to the import kind (``ImportKind.classify_row``), which matches it against the existing data it
loaded beforehand with a fixed number of queries and says what would change.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext as _

from associations.imports.values import InvalidValue

if TYPE_CHECKING:
    from associations.imports.reader import Table
    from associations.imports.schema import ImportKind
    from associations.models import Association

CREATE, UPDATE, UNCHANGED, ERROR = "create", "update", "unchanged", "error"
ACTIONS = (CREATE, UPDATE, UNCHANGED, ERROR)
# The preview page renders at most this many rows per action (counts are always complete).
SHOWN_ROWS = {ERROR: 1000, UPDATE: 500, CREATE: 500, UNCHANGED: 200}


@dataclass
class RowResult:
    """One row of the file once classified; ``instance`` is what the kind will write (create/update)."""

    line: int
    action: str = CREATE
    label: str = ""
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    changes: list[str] = field(default_factory=list)
    values: dict[str, Any] = field(default_factory=dict)  # parsed cells by field key
    instance: Any = None
    changed_fields: list[str] = field(default_factory=list)
    existing: Any = field(default=None, repr=False, compare=False)  # what the kind loaded (for parsers)

    def warn(self, message: str) -> None:
        self.warnings.append(str(message))

    @property
    def text(self) -> str:
        return _("Ligne %(line)s : %(errors)s") % {"line": self.line, "errors": " ; ".join(self.errors)}

    def as_json(self) -> dict[str, Any]:
        return {"line": self.line, "action": self.action, "label": self.label, "errors": self.errors,
                "warnings": self.warnings, "changes": self.changes}


class ImportRowsError(Exception):
    """Some rows are in error when applying: nothing is written."""

    def __init__(self, results: list[RowResult], nothing_written: Any):
        self.results = results
        errors = [r for r in results if r.action == ERROR]
        lines = [r.text for r in errors[:50]]
        if len(errors) > 50:
            lines.append(_("… et %(count)s autre(s) ligne(s) en erreur.") % {"count": len(errors) - 50})
        heading = _("%(count)s ligne(s) en erreur : %(nothing)s.") % {"count": len(errors), "nothing": nothing_written}
        super().__init__("\n".join([heading, *lines]))


def shown(text: Any) -> str:
    """A value for the preview, between French quotes; "(vide)" when empty."""
    return _("(vide)") if text is None or text == "" else f"« {text} »"


def describe_change(label: Any, old: Any, new: Any) -> str:
    """"Téléphone : (vide) → « 06 12 34 56 78 »" (``old`` and ``new`` as plain text)."""
    return _("%(field)s : %(old)s → %(new)s") % {"field": label, "old": shown(old), "new": shown(new)}


def classify(kind: ImportKind, association: Association, table: Table, mapping: dict[str, str],
             existing: Any = None) -> list[RowResult]:
    """Every row of the file as create / update / unchanged / error; nothing is written.

    ``existing``: what ``kind.load`` returned, for a caller that also needs it to write (loaded here
    otherwise). It serves one classification: a kind may keep state across rows in it (duplicates).
    """
    if existing is None:
        existing = kind.load(association)
    columns = [(int(index), kind.fields_by_key[key]) for index, key in mapping.items() if key in kind.fields_by_key]
    required = [f for f in kind.fields if f.required]
    results = []
    for line, cells in table.rows:
        row = RowResult(line=line, existing=existing)
        unreadable = set()
        for index, column in columns:
            raw = cells[index] if index < len(cells) else ""
            if not raw:
                continue
            try:
                value = column.parser(raw, row)
            except InvalidValue as error:
                row.errors.append(str(error))
                unreadable.add(column.key)
                continue
            if value is not None:
                row.values[column.key] = value
        for missing in required:
            if missing.key not in row.values and missing.key not in unreadable:
                row.errors.append(_("%(field)s : valeur manquante") % {"field": missing.label})
        kind.classify_row(association, row, existing)
        if row.errors:
            row.action = ERROR
        results.append(row)
    return results


def summarize(results: list[RowResult]) -> dict[str, Any]:
    """What the job stores for the preview: counts per action, rows with a warning, the rows shown."""
    counts = {CREATE: 0, UPDATE: 0, UNCHANGED: 0, ERROR: 0}
    hidden = {CREATE: 0, UPDATE: 0, UNCHANGED: 0, ERROR: 0}
    shown_rows: list[dict] = []
    for result in results:
        counts[result.action] += 1
        if counts[result.action] <= SHOWN_ROWS[result.action]:
            shown_rows.append(result.as_json())
        else:
            hidden[result.action] += 1
    return {"counts": counts, "warnings": sum(1 for r in results if r.warnings), "rows": shown_rows,
            "hidden": hidden}
