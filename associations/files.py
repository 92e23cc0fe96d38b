"""Serving stored files (logos, attestations, documents, imports) through scoped views only.

Files live under ``associations/<id>/…`` in the default storage and never have a public URL: a view
first finds the owning row through the association's scoped queryset, then calls ``serve``.
"""

from __future__ import annotations

import mimetypes
from pathlib import PurePosixPath

from django.db.models.fields.files import FieldFile
from django.http import FileResponse, Http404


def serve(file: FieldFile, *, filename: str | None = None, attachment: bool = False,
          cache: str = "private, no-store", content_type: str | None = None) -> FileResponse:
    """A FileResponse for ``file``; 404 when the row has no file or the file is gone from storage."""
    if not file:
        raise Http404
    try:
        handle = file.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    filename = filename or PurePosixPath(file.name).name
    response = FileResponse(
        handle, as_attachment=attachment, filename=filename,
        content_type=content_type or mimetypes.guess_type(filename)[0] or "application/octet-stream",
    )
    response["Cache-Control"] = cache
    response["X-Content-Type-Options"] = "nosniff"
    return response
