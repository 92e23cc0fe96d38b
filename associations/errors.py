"""The one exception services raise when a business rule refuses an operation."""

from __future__ import annotations

from typing import Any


class ServiceError(Exception):
    """A business rule refused the operation.

    ``message`` is shown to the user as it is (already translated with gettext by the service);
    ``field`` names the form field it belongs to, when there is one, so views put the message next to
    that field instead of guessing from its text; ``code`` is a stable identifier for callers and tests.
    """

    def __init__(self, message: Any, *, field: str | None = None, code: str | None = None) -> None:
        super().__init__(str(message))
        self.message = str(message)
        self.field = field
        self.code = code

    def __str__(self) -> str:
        return self.message

    def add_to_form(self, form: Any) -> None:
        """Attach the message to ``form``: to ``self.field`` when the form has it, else as a form error."""
        field = self.field if self.field in getattr(form, "fields", {}) else None
        form.add_error(field, self.message)
