"""Matrix rows of the campaign screens (``/a/<slug>/campagnes/``)."""

from __future__ import annotations

CASES: dict = {}
