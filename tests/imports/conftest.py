"""The Chromium fixtures of tests/browser, for the import's browser test (test_browser_import.py)."""

from tests.browser.conftest import (  # noqa: F401
    browser_context_args,
    browser_type_launch_args,
    new_context,
    page,
)
