"""Reading an uploaded spreadsheet into a ``Table``, or refusing it with a French message.

CSV separated by ``;``, ``,`` or tab (sniffed from the first line), UTF-8 with or without BOM or
Windows-1252; XLSX through openpyxl in read-only mode (dates written dd/mm/yyyy, whole numbers without
``.0``). Cells are stripped, empty lines skipped, lines numbered as the spreadsheet numbers them.
Anything else (images, PDF, old .xls, .ods, UTF-16 text, empty files, missing header line, too many
rows) raises ``ImportFileError``: nothing is stored for a refused file.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from associations.imports.values import clean_cell

MAX_BYTES = 10 * 1024 * 1024
MAX_ROWS = 20_000


class ImportFileError(Exception):
    """The file cannot be imported at all (French message for the person who uploaded it)."""


@dataclass
class Table:
    headers: list[str]
    rows: list[tuple[int, list[str]]]  # (line as numbered in the spreadsheet, cells)

    def samples(self, index: int, count: int = 3) -> list[str]:
        """Up to ``count`` distinct non-empty values of a column (shown next to its <select>)."""
        found: list[str] = []
        for _line, cells in self.rows:
            if index < len(cells) and cells[index] and cells[index] not in found:
                found.append(cells[index])
                if len(found) == count:
                    break
        return found


SIGNATURES = [
    (b"\x89PNG", gettext_lazy("une image PNG")),
    (b"\xff\xd8\xff", gettext_lazy("une image JPEG")),
    (b"GIF8", gettext_lazy("une image GIF")),
    (b"%PDF", gettext_lazy("un document PDF")),
    (b"\xd0\xcf\x11\xe0", gettext_lazy("un ancien fichier Excel (.xls) ou Word (.doc)")),
    (b"{\\rtf", gettext_lazy("un document RTF")),
]


def _not_a_spreadsheet(what: Any = "") -> ImportFileError:
    what = f" ({what})" if what else ""
    return ImportFileError(_("Ce fichier n'est pas un tableur%(what)s : déposez un fichier CSV (séparateur "
                             "point-virgule ou virgule) ou Excel (.xlsx).") % {"what": what})


def too_big_message(size: int) -> str:
    return _("Le fichier est trop volumineux (%(size)s Mo) : 10 Mo au maximum. Découpez-le en plusieurs "
             "fichiers.") % {"size": f"{size / 1024 / 1024:.1f}"}


def read_table(data: bytes, filename: str = "", *, recognizes: Callable[[str], bool] | None = None,
               header_help: str = "") -> Table:
    """Parse an uploaded file into headers and non-empty rows, or raise ``ImportFileError``.

    ``recognizes(header)`` tells whether the import kind knows a column header: a file where it
    knows none is refused (a missing header line, or a file of something else). ``header_help``
    lists a few expected headers for that message.
    """
    if not data or not data.strip():
        raise ImportFileError(_("Le fichier est vide."))
    if len(data) > MAX_BYTES:
        raise ImportFileError(too_big_message(len(data)))
    for magic, what in SIGNATURES:
        if data.startswith(magic):
            raise _not_a_spreadsheet(what)
    records = _read_xlsx(data) if data.startswith(b"PK\x03\x04") else _read_csv(_decode(data))
    return _table(records, recognizes, header_help)


def _decode(data: bytes) -> str:
    head = data[:400]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or max(head[0::2].count(0), head[1::2].count(0)) > len(head) // 5:
        raise ImportFileError(_(
            "Le fichier est encodé en UTF-16 (« Texte Unicode ») : enregistrez-le au format « CSV UTF-8 » ou "
            "« CSV (séparateur : point-virgule) », ou déposez le fichier Excel (.xlsx)."))
    if b"\x00" in data:
        raise _not_a_spreadsheet()
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        break
    else:
        raise ImportFileError(_(
            "L'encodage du fichier n'est pas reconnu (UTF-8 ou Windows-1252 attendu) : enregistrez-le au format "
            "« CSV UTF-8 » depuis votre tableur."))
    if any(ord(char) < 32 and char not in "\t\r\n" for char in text[:8192]):
        raise _not_a_spreadsheet()
    return text


def _read_csv(text: str) -> list[list[str]]:
    first = next((line for line in text.splitlines() if line.strip()), "")
    delimiter = max(";,\t", key=first.count) if any(d in first for d in ";,\t") else ";"
    try:
        return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as error:
        raise ImportFileError(_("Le fichier CSV est mal formé (%(error)s).") % {"error": error}) from None


def _xlsx_cell(value: Any) -> str:
    if isinstance(value, (datetime, date)):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, bool):
        return "oui" if value else "non"  # data, not interface text: the same in every language
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
                    raise ImportFileError(_(
                        "Les fichiers OpenDocument (.ods) ne sont pas pris en charge : enregistrez-le au format "
                        "Excel (.xlsx) ou CSV."))
                raise _not_a_spreadsheet(_("archive ZIP ou document Word"))
    except zipfile.BadZipFile:
        raise ImportFileError(_("Ce fichier Excel est illisible (archive endommagée).")) from None
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 - openpyxl raises many kinds of errors on broken files
        raise ImportFileError(_("Ce fichier Excel est illisible : enregistrez-le à nouveau au format .xlsx.")) from None
    try:
        records = []
        for row in workbook.worksheets[0].iter_rows(values_only=True):
            records.append([_xlsx_cell(value) for value in row])
            if len(records) > MAX_ROWS + 50:
                break
        return records
    finally:
        workbook.close()


def _table(records: list[list[str]], recognizes: Callable[[str], bool] | None, header_help: str) -> Table:
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
        raise ImportFileError(_("Le fichier est vide."))
    while headers and not headers[-1]:
        headers.pop()
    width = len(headers)
    rows = [(line, (cells + [""] * width)[:width]) for line, cells in rows]
    rows = [(line, cells) for line, cells in rows if any(cells)]
    headers = [header or _("Colonne %(number)s") % {"number": index} for index, header in enumerate(headers, start=1)]
    if recognizes is not None and not any(recognizes(header) for header in headers):
        if any(_looks_like_data(header) for header in headers):
            raise ImportFileError(_(
                "La ligne d'en-tête manque : la première ligne du fichier doit contenir les intitulés des colonnes "
                "(%(headers)s).") % {"headers": header_help})
        raise ImportFileError(_("Aucune colonne n'est reconnue : la première ligne doit contenir les intitulés des "
                                "colonnes (%(headers)s).") % {"headers": header_help})
    if not rows:
        raise ImportFileError(_("Le fichier ne contient que la ligne d'en-tête : aucune ligne à importer."))
    if len(rows) > MAX_ROWS:
        raise ImportFileError(_("Le fichier dépasse %(count)s lignes : découpez-le en plusieurs fichiers.") % {
            "count": f"{MAX_ROWS:,}".replace(",", " ")})
    return Table(headers=headers, rows=rows)


def _looks_like_data(cell: str) -> bool:
    return bool("@" in cell or re.search(r"\d{4,}", cell) or re.fullmatch(r"\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}", cell))
