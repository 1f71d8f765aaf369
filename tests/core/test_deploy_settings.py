from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _manage(*args: str, **env: str | None) -> subprocess.CompletedProcess[str]:
    """Run manage.py under production settings; a variable given as None is left unset."""
    production = {
        "SITE_URL": "https://ensemble.example.com",
        "CACHE_URL": "redis://127.0.0.1:6379/2",
        "EMAIL_URL": "smtp+tls://mailer:secret@smtp.example.com:587",
        "DATABASE_URL": os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/ensemble"),
        "CELERY_BROKER_URL": os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/15"),
    }
    merged = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings_production", **production, **env}
    # make test allows async-unsafe calls for the browser tests; check --deploy rightly flags that.
    merged["DJANGO_ALLOW_ASYNC_UNSAFE"] = None
    environment = {name: value for name, value in merged.items() if value is not None}
    return subprocess.run(  # noqa: S603 - our own manage.py
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.xdist_group("subprocess")
def test_production_settings_pass_check_deploy_without_warnings() -> None:
    result = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        SECRET_KEY=secrets.token_urlsafe(64),
        ALLOWED_HOSTS="ensemble.example.com",
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


@pytest.mark.xdist_group("subprocess")
def test_production_settings_refuse_to_start_without_a_secret_key() -> None:
    result = _manage("check", SECRET_KEY="", ALLOWED_HOSTS="ensemble.example.com")

    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


@pytest.mark.xdist_group("subprocess")
def test_production_settings_refuse_the_embedded_defaults() -> None:
    result = _manage(
        "check",
        SECRET_KEY=secrets.token_urlsafe(64),
        ALLOWED_HOSTS="ensemble.example.com",
        CACHE_URL=None,
        SITE_URL=None,
    )

    assert result.returncode != 0
    assert "Production needs these environment variables: SITE_URL, CACHE_URL." in result.stderr
