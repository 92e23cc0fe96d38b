"""Tables downloaded as CSV or Excel: ``?_export=csv`` or ``?_export=xlsx`` on a list page.

    if response := export_response(request, table, filename=f"journal-{slug}"):
        return response
    return render(...)

Only these two formats are offered; any other ``_export`` value (``yaml``, ``json``, a typo) is ignored
and the page renders as usual. The export holds every filtered row, not just the current page."""

from __future__ import annotations

from collections.abc import Iterable

from django.http import HttpRequest, HttpResponse
from django_tables2 import Table
from django_tables2.export import TableExport

EXPORT_FORMATS = ("csv", "xlsx")
EXPORT_PARAMETER = "_export"


def export_format(request: HttpRequest) -> str | None:
    """The format asked for in the query string, when it is one we offer."""
    wanted = request.GET.get(EXPORT_PARAMETER)
    return wanted if wanted in EXPORT_FORMATS else None


def export_response(request: HttpRequest, table: Table, *, filename: str, exclude_columns: Iterable[str] = (),
                    title: str | None = None) -> HttpResponse | None:
    """The table as a download named ``<filename>.<format>`` (``title`` names the sheet), or None when the
    request asks for no export (or for a format we do not offer)."""
    chosen = export_format(request)
    if chosen is None:
        return None
    exporter = TableExport(chosen, table, exclude_columns=tuple(exclude_columns),
                           dataset_kwargs={"title": title} if title else None)
    return exporter.response(f"{filename}.{chosen}")
