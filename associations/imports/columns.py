"""Columns of a file: which field of the import kind each column holds.

A mapping is ``{"<column index>": "<field key>" or ""}`` (JSON-friendly, stored on the job). It is
guessed from the headers — a header matches a field when its words (``normalize``d) contain all the
words of one of the field's aliases, fields tried in the kind's ``guess_order`` — then edited by the
person importing, then checked: known fields, each chosen once, the required ones present.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils.translation import gettext as _

from associations.imports.values import normalize

if TYPE_CHECKING:
    from associations.imports.schema import ImportKind


def header_words(text: str) -> frozenset[str]:
    return frozenset(normalize(text).split())


def header_rules(kind: ImportKind) -> list[tuple[str, frozenset[str]]]:
    """``(field key, words)`` in the order they are tried: ``guess_order`` first, then the other fields."""
    order = [*kind.guess_order, *(f.key for f in kind.fields if f.key not in kind.guess_order)]
    return [(key, header_words(alias)) for key in order for alias in kind.fields_by_key[key].aliases]


def guess_field(kind: ImportKind, header: str) -> str | None:
    words = header_words(header)
    if any(ambiguous <= words for ambiguous in kind.ambiguous_words):
        return None  # e.g. "Nom Prénom" in one column: let the person choose
    for key, needed in kind.header_rules:
        if needed <= words:
            return key
    return None


def guess_mapping(kind: ImportKind, headers: list[str]) -> dict[str, str]:
    """``{"<column index>": "<field key>" or ""}``, each field guessed for one column at most."""
    mapping: dict[str, str] = {}
    taken: set[str] = set()
    for index, header in enumerate(headers):
        guessed = guess_field(kind, header)
        if guessed and guessed not in taken:
            taken.add(guessed)
            mapping[str(index)] = guessed
        else:
            mapping[str(index)] = ""
    return mapping


def mapping_problem(kind: ImportKind, mapping: dict[str, str]) -> str | None:
    """Why the mapping cannot be used (French), or ``None``: the required fields must be chosen."""
    chosen = {key for key in mapping.values() if key}
    for field in kind.fields:
        if field.required and field.key not in chosen:
            return _("Choisissez la colonne « %(field)s » : elle est obligatoire.") % {"field": field.label}
    for keys, message in kind.required_any:
        if not chosen & set(keys):
            return str(message)
    return None


def mapping_errors(kind: ImportKind, mapping: dict[str, str]) -> list[str]:
    """Every reason to refuse a mapping given to a service (the form shows them next to each column)."""
    errors = []
    seen: set[str] = set()
    for index, key in mapping.items():
        if not str(index).isdigit():
            errors.append(_("Colonne « %(column)s » inconnue.") % {"column": index})
        elif key and key not in kind.fields_by_key:
            errors.append(_("Information « %(field)s » inconnue.") % {"field": key})
        elif key in seen:
            errors.append(_("« %(field)s » est choisi pour deux colonnes.") % {"field": kind.fields_by_key[key].label})
        elif key:
            seen.add(key)
    problem = mapping_problem(kind, mapping)
    return errors + ([problem] if problem else [])
