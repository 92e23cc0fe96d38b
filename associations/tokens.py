"""Signed, expiring tokens carried by links (invitations, renewal links, unsubscribe, tracking).

One way to sign and one way to read them back: ``sign`` and ``unsign``, or a :class:`TokenKind` that
names a salt, a maximum age and the payload's expected fields. Reading never raises; it returns an
:class:`Unsigned` that says why a token is refused:

* ``expired``: authentic but older than the maximum age;
* ``tampered``: the signature does not match (altered or truncated token, another kind's salt, garbage);
* ``malformed``: authentic, but the payload is not a dict with the expected fields and types;
* ``mismatch``: authentic and well formed, but for something else (e.g. another association).

Public pages only tell "expired" from "invalid" (:attr:`Unsigned.problem_code`).
The wire format is Django's ``signing.dumps(..., compress=True)``: tokens already sent keep working.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from typing import Any

from django.core import signing


class Problem(StrEnum):
    EXPIRED = "expired"
    TAMPERED = "tampered"
    MALFORMED = "malformed"
    MISMATCH = "mismatch"


@dataclass(frozen=True)
class Unsigned:
    """The outcome of reading a token: the payload, or the reason it was refused."""

    payload: dict[str, Any] | None
    problem: Problem | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None

    @property
    def problem_code(self) -> str | None:
        """What a page tells the visitor: None, "expired" or "invalid"."""
        if self.problem is None:
            return None
        return "expired" if self.problem == Problem.EXPIRED else "invalid"


Fields = Mapping[str, type | tuple[type, ...]]
MaxAge = timedelta | int


def sign(payload: dict[str, Any], *, salt: str) -> str:
    return signing.dumps(payload, salt=salt, compress=True)


def unsign(token: str, *, salt: str, max_age: MaxAge, fields: Fields | None = None,
           optional: Fields | None = None, expect: Mapping[str, Any] | None = None) -> Unsigned:
    """Check signature and age, then the payload: a dict whose ``fields`` are present with these types,
    whose ``optional`` fields, when present, have these types, and whose ``expect`` keys equal these values."""
    try:
        payload = signing.loads(token, salt=salt, max_age=max_age)
    except signing.SignatureExpired:
        return Unsigned(None, Problem.EXPIRED)
    except signing.BadSignature:
        return Unsigned(None, Problem.TAMPERED)
    if not isinstance(payload, dict) or not _typed(payload, fields or {}, required=True) \
            or not _typed(payload, optional or {}, required=False):
        return Unsigned(None, Problem.MALFORMED)
    if any(payload.get(key) != value for key, value in (expect or {}).items()):
        return Unsigned(None, Problem.MISMATCH)
    return Unsigned(payload)


def _typed(payload: dict[str, Any], fields: Fields, *, required: bool) -> bool:
    for key, kind in fields.items():
        if key not in payload:
            if required:
                return False
            continue
        value = payload[key]
        if isinstance(value, bool) and bool not in (kind if isinstance(kind, tuple) else (kind,)):
            return False  # True is an int to isinstance(), never an id
        if not isinstance(value, kind):
            return False
    return True


@dataclass(frozen=True)
class TokenKind:
    """One use of signed tokens: its salt, how long a token lives and the payload's fields.

    ``max_age`` may be a callable when it comes from settings (read at each check)."""

    salt: str
    max_age: MaxAge | Callable[[], MaxAge]
    fields: Fields = field(default_factory=dict)
    optional: Fields = field(default_factory=dict)

    @property
    def max_age_seconds(self) -> int:
        age = self.max_age() if callable(self.max_age) else self.max_age
        return int(age.total_seconds()) if isinstance(age, timedelta) else int(age)

    def sign(self, payload: dict[str, Any]) -> str:
        return sign(payload, salt=self.salt)

    def unsign(self, token: str, *, expect: Mapping[str, Any] | None = None) -> Unsigned:
        return unsign(token, salt=self.salt, max_age=self.max_age_seconds, fields=self.fields,
                      optional=self.optional, expect=expect)
