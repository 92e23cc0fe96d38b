"""Matrix rows of the automatic reminders screens (``/a/<slug>/relances/``)."""

from __future__ import annotations

CASES: dict = {}
