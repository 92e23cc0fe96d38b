"""Matrix rows of the automatic reminders screens (``/a/<slug>/relances/``)."""

from __future__ import annotations

from associations.models import ReminderSchedule
from tests.tenancy.matrix_base import ALL, EDITORS, Case, audited, exists

CASES: dict = {
    "reminder_settings": Case(ALL),
    "reminder_toggle": Case(EDITORS, "post", (302,), {"action": "pause"},
                            effect=(exists(ReminderSchedule, enabled=False), audited("reminders.settings"))),
}
