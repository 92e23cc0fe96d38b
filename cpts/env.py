"""Small typed helpers to read settings from the environment.

Every helper names the variable in its error so that a missing or malformed value stops start-up
with a message an operator understands.
"""

from __future__ import annotations

import os

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on", "oui"}
_FALSE = {"0", "false", "no", "off", "non", ""}


def env_str(name: str, default: str | None = None, *, required: bool = False) -> str:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        if required:
            raise ImproperlyConfigured(f"La variable d'environnement {name} est obligatoire.")
        return default if default is not None else ""
    return value


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ImproperlyConfigured(
        f"La variable d'environnement {name} doit valoir 1/0, true/false, yes/no (reçu : {value!r})."
    )


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(
            f"La variable d'environnement {name} doit être un nombre entier (reçu : {value!r})."
        ) from None


def env_list(name: str, default: list[str] | None = None) -> list[str]:
    value = os.environ.get(name)
    if value is None:
        return list(default or [])
    return [item.strip() for item in value.split(",") if item.strip()]


def env_url(name: str, default: str = "", *, schemes: tuple[str, ...]) -> str:
    value = env_str(name, default)
    if value and value.split("://", 1)[0] not in schemes or (value and "://" not in value):
        raise ImproperlyConfigured(
            f"La variable d'environnement {name} doit être une URL {'/'.join(schemes)}:// (reçu : {value!r})."
        )
    return value
