"""``associations.tokens``: one way to sign link tokens and one way to read them, with a clear reason
for a refused token (expired, tampered, malformed payload, for something else)."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.core import signing

from associations import tokens
from associations.tokens import Problem, TokenKind

KIND = TokenKind("tests.platform.tokens", timedelta(days=2), fields={"a": int, "m": int}, optional={"l": str})
OTHER = TokenKind("tests.platform.other", timedelta(days=2), fields={"a": int, "m": int})


def test_round_trip():
    result = KIND.unsign(KIND.sign({"a": 1, "m": 2, "l": "https://exemple.fr/"}), expect={"a": 1})
    assert result.ok and result.problem is None and result.problem_code is None
    assert result.payload == {"a": 1, "m": 2, "l": "https://exemple.fr/"}


def test_the_wire_format_is_djangos_compressed_signing():
    """Tokens already e-mailed keep working: same salt, same format as before this module."""
    old = signing.dumps({"a": 1, "m": 2}, salt=KIND.salt, compress=True)
    assert KIND.unsign(old).payload == {"a": 1, "m": 2}
    assert tokens.sign({"a": 1, "m": 2}, salt=KIND.salt) == old


def test_expired(monkeypatch):
    real_time = time.time
    monkeypatch.setattr(time, "time", lambda: real_time() - 3 * 24 * 3600)
    token = KIND.sign({"a": 1, "m": 2})
    monkeypatch.setattr(time, "time", real_time)
    result = KIND.unsign(token)
    assert result.problem == Problem.EXPIRED and result.payload is None and result.problem_code == "expired"


@pytest.mark.parametrize("token", [
    "garbage",
    "",
    KIND.sign({"a": 1, "m": 2})[:-2] + "xx",  # altered signature
    OTHER.sign({"a": 1, "m": 2}),              # another kind's salt
])
def test_tampered(token):
    result = KIND.unsign(token)
    assert result.problem == Problem.TAMPERED and result.payload is None and result.problem_code == "invalid"


@pytest.mark.parametrize("payload", [
    [1, 2],                      # not a dict
    {"a": 1},                    # a field missing
    {"a": 1, "m": "2"},          # a field of the wrong type
    {"a": 1, "m": True},         # a boolean is not an id
    {"a": 1, "m": 2, "l": 3},    # an optional field of the wrong type
])
def test_malformed(payload):
    result = KIND.unsign(tokens.sign(payload, salt=KIND.salt))
    assert result.problem == Problem.MALFORMED and result.payload is None and result.problem_code == "invalid"


def test_mismatch():
    result = KIND.unsign(KIND.sign({"a": 1, "m": 2}), expect={"a": 3})
    assert result.problem == Problem.MISMATCH and result.payload is None and result.problem_code == "invalid"


def test_max_age_read_from_settings_at_each_check(settings):
    kind = TokenKind("tests.platform.setting", lambda: timedelta(days=settings.INVITATION_MAX_AGE_DAYS))
    settings.INVITATION_MAX_AGE_DAYS = 3
    assert kind.max_age_seconds == 3 * 24 * 3600


def test_function_api():
    token = tokens.sign({"x": 1}, salt="tests.platform.fn")
    assert tokens.unsign(token, salt="tests.platform.fn", max_age=60, fields={"x": int}).payload == {"x": 1}
    assert tokens.unsign(token, salt="tests.platform.fn", max_age=60, fields={"x": str}).problem == Problem.MALFORMED
