"""Matrix rows of the imports screens (filled in with the feature)."""

from tests.tenancy.matrix_base import Case  # noqa: F401

CASES: dict = {}
