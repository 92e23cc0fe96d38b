"""PDF rendering with WeasyPrint: HTML template → PDF bytes.

Only ``data:`` URLs are fetched (images are embedded by the caller), so a template can never make
WeasyPrint read a file or reach the network.
"""

from __future__ import annotations

import base64
import mimetypes

from django.template.loader import render_to_string

from associations.models import Association


def logo_data_uri(association: Association) -> str | None:
    if not association.logo:
        return None
    try:
        with association.logo.open("rb") as handle:
            content = handle.read()
    except FileNotFoundError:
        return None
    mime = mimetypes.guess_type(association.logo.name)[0] or "image/png"
    return f"data:{mime};base64,{base64.b64encode(content).decode()}"


def render_pdf(template: str, context: dict) -> bytes:
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    html = render_to_string(template, context)
    fetcher = URLFetcher(allowed_protocols=["data"], timeout=5)
    return HTML(string=html, url_fetcher=fetcher, base_url=None).write_pdf()
