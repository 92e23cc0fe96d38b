"""Settings come from the environment only: a missing or malformed variable stops start-up with a
message naming it, and a production environment passes ``manage.py check --deploy`` without any warning.

Each case runs ``manage.py`` in a subprocess with a controlled environment, because settings are
read once at import time.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings as django_settings

PROJECT_ROOT = Path(__file__).resolve().parents[2]

# Every variable read by cpts/settings.py; removed from the inherited environment so that the
# developer's shell (or CI) cannot influence the outcome.
SETTINGS_VARIABLES = {
    "DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "CSRF_TRUSTED_ORIGINS", "SITE_URL", "VAR_DIR", "DATABASE_URL",
    "REDIS_URL", "DEFAULT_FROM_EMAIL", "CELERY_EAGER", "LOG_LEVEL",
}
# DJANGO_*: e.g. DJANGO_ALLOW_ASYNC_UNSAFE (set by tests/browser/conftest.py) fails async.E001 under --deploy.
SETTINGS_PREFIXES = ("EMAIL_", "SECURE_", "DJANGO_")

PRODUCTION = {
    "DEBUG": "0",
    "ALLOWED_HOSTS": "cpts.example.org",
    "SITE_URL": "https://cpts.example.org",
}


def manage(tmp_path: Path, *args: str, **variables: str) -> subprocess.CompletedProcess:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in SETTINGS_VARIABLES and not key.startswith(SETTINGS_PREFIXES)
    }
    env["DJANGO_SETTINGS_MODULE"] = "cpts.settings"
    env["VAR_DIR"] = str(tmp_path / "var")
    env.update(variables)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=120, check=False,
    )


def production_env(tmp_path: Path) -> dict[str, str]:
    return {
        **PRODUCTION,
        "SECRET_KEY": secrets.token_urlsafe(50),  # ~67 random characters
        "DATABASE_URL": f"sqlite:///{tmp_path / 'prod.sqlite3'}",
    }


@pytest.mark.parametrize(
    ("variables", "named"),
    [
        pytest.param({"DEBUG": "0", "ALLOWED_HOSTS": "cpts.example.org"}, "SECRET_KEY", id="no-secret-key"),
        pytest.param({"DEBUG": "0", "SECRET_KEY": "x" * 60}, "ALLOWED_HOSTS", id="no-allowed-hosts"),
        pytest.param({"DEBUG": "1", "DATABASE_URL": "notaurl"}, "DATABASE_URL", id="database-url-not-a-url"),
        pytest.param({"DEBUG": "1", "DATABASE_URL": "postgres//x"}, "DATABASE_URL", id="database-url-no-colon"),
        pytest.param({"DEBUG": "1", "REDIS_URL": "localhost:6379"}, "REDIS_URL", id="redis-url-no-scheme"),
        pytest.param({"DEBUG": "1", "REDIS_URL": "http://localhost:6379"}, "REDIS_URL", id="redis-url-bad-scheme"),
        pytest.param({"DEBUG": "maybe"}, "DEBUG", id="debug-not-boolean"),
        pytest.param({"DEBUG": "1", "EMAIL_HOST": "smtp.example.org", "EMAIL_PORT": "abc"}, "EMAIL_PORT",
                     id="email-port-not-int"),
        pytest.param({"DEBUG": "1", "SITE_URL": "cpts.example.org"}, "SITE_URL", id="site-url-no-scheme"),
    ],
)
def test_missing_or_malformed_variable_stops_startup_naming_it(tmp_path, variables, named):
    result = manage(tmp_path, "check", **variables)
    assert result.returncode == 2, result.stdout
    # One clean line for the operator (no traceback), naming the variable.
    assert "Traceback" not in result.stderr
    [message] = result.stderr.strip().splitlines()
    assert message.startswith("Configuration invalide : ")
    assert named in message, result.stderr
    assert "La variable d'environnement" in message


def test_production_environment_passes_check_deploy_without_any_warning(tmp_path):
    result = manage(tmp_path, "check", "--deploy", **production_env(tmp_path))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "System check identified no issues (0 silenced).", result.stdout + result.stderr
    assert "WARNING" not in result.stderr
    assert "security.W" not in result.stdout + result.stderr


def test_production_check_deploy_fails_with_a_weak_secret_key(tmp_path):
    """Guard against the clean check above being vacuous: a bad key is reported by --deploy."""
    variables = {**production_env(tmp_path), "SECRET_KEY": "short"}
    result = manage(tmp_path, "check", "--deploy", "--fail-level", "WARNING", **variables)
    assert result.returncode != 0
    assert "security.W009" in result.stderr


def test_development_defaults_need_no_variable_and_keep_data_under_var_dir(tmp_path):
    """DEBUG=1 alone is enough to start (no SECRET_KEY, ALLOWED_HOSTS or DATABASE_URL); SQLite lives in VAR_DIR."""
    code = (
        "from django.conf import settings; "
        "print(settings.DATABASES['default']['ENGINE']); "
        "print(settings.DATABASES['default']['NAME']); "
        "print(settings.EMAIL_BACKEND); print(settings.CELERY_BROKER_URL); print(settings.ALLOWED_HOSTS)"
    )
    result = manage(tmp_path, "shell", "-c", code, DEBUG="1")
    assert result.returncode == 0, result.stderr
    engine, name, email_backend, broker, hosts = result.stdout.strip().splitlines()[-5:]
    assert engine == "django.db.backends.sqlite3"
    assert Path(name) == tmp_path / "var" / "db.sqlite3"
    assert email_backend == "django.core.mail.backends.filebased.EmailBackend"
    assert broker == "filesystem://"
    assert hosts == "['127.0.0.1', 'localhost']"


def test_language_and_time_zone_defaults():
    assert django_settings.LANGUAGE_CODE == "fr"
    assert django_settings.TIME_ZONE == "Europe/Paris"
    assert django_settings.USE_TZ is True
    assert django_settings.CELERY_TIMEZONE == "Europe/Paris"


# --- The typed helpers themselves (in-process, via monkeypatch) ---------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("1", True), ("true", True), ("Oui", True), (" yes ", True), ("on", True),
     ("0", False), ("false", False), ("non", False), ("off", False), ("", False)],
)
def test_env_bool_accepts_usual_spellings(monkeypatch, raw, expected):
    from cpts.env import env_bool

    monkeypatch.setenv("CPTS_TEST_FLAG", raw)
    assert env_bool("CPTS_TEST_FLAG", not expected) is expected


def test_env_helpers_defaults_and_errors(monkeypatch):
    from django.core.exceptions import ImproperlyConfigured

    from cpts.env import env_int, env_list, env_str, env_url

    monkeypatch.delenv("CPTS_TEST_VALUE", raising=False)
    assert env_str("CPTS_TEST_VALUE", "fallback") == "fallback"
    assert env_int("CPTS_TEST_VALUE", 587) == 587
    assert env_list("CPTS_TEST_VALUE", ["a"]) == ["a"]
    assert env_url("CPTS_TEST_VALUE", "", schemes=("redis",)) == ""
    with pytest.raises(ImproperlyConfigured, match="CPTS_TEST_VALUE"):
        env_str("CPTS_TEST_VALUE", required=True)

    monkeypatch.setenv("CPTS_TEST_VALUE", " a.example.org, ,b.example.org ")
    assert env_list("CPTS_TEST_VALUE") == ["a.example.org", "b.example.org"]

    monkeypatch.setenv("CPTS_TEST_VALUE", "25")
    assert env_int("CPTS_TEST_VALUE", 587) == 25

    monkeypatch.setenv("CPTS_TEST_VALUE", "rediss://cache:6380/1")
    assert env_url("CPTS_TEST_VALUE", schemes=("redis", "rediss")) == "rediss://cache:6380/1"
    monkeypatch.setenv("CPTS_TEST_VALUE", "redis:/cache")
    with pytest.raises(ImproperlyConfigured, match="CPTS_TEST_VALUE"):
        env_url("CPTS_TEST_VALUE", schemes=("redis", "rediss"))
