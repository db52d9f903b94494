"""Security baseline: headers, production start-up rules and Django's deployment checks."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION_ENV = {
    "VERZUIM_ENV": "production",
    "SECRET_KEY": "x" * 20 + "-production-secret-for-the-deploy-check-0123456789",
    "VERZUIM_MASTER_KEYS": "1:" + "A" * 43 + "=",
    "ALLOWED_HOSTS": "verzuim.example.nl",
    "DATABASE_URL": "postgres://verzuim@db:5432/verzuim",
    "AUDIT_DATABASE_URL": "postgres://verzuim_audit_app@audit-db:5432/verzuim_audit",
    "AUDIT_CHECKPOINT_KEY": "y" * 20 + "-checkpoint-signing-key-for-the-check",
    "REDIS_URL": "redis://redis:6379/0",
    "EMAIL_HOST": "smtp.example.nl",
    "WEBAUTHN_RP_ID": "verzuim.example.nl",
}


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in PRODUCTION_ENV and k != "DEBUG"}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_check_deploy_is_clean_under_production_settings():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize("empty", [False, True], ids=["unset", "empty"])
@pytest.mark.parametrize(
    "missing",
    [
        "SECRET_KEY",
        "VERZUIM_MASTER_KEYS",
        "DATABASE_URL",
        "AUDIT_DATABASE_URL",
        "AUDIT_CHECKPOINT_KEY",
        "REDIS_URL",
        "ALLOWED_HOSTS",
        "WEBAUTHN_RP_ID",
    ],
)
def test_production_refuses_to_start_without_its_secrets(missing, empty):
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != missing}
    if empty:
        env[missing] = ""  # docker-compose passes an unset ${VAR:-} as an empty string
    result = manage("check", env=env)
    assert result.returncode != 0
    assert missing in result.stderr


def test_docker_compose_file_validates():
    if shutil.which("docker-compose") is None:
        if os.environ.get("CI"):
            pytest.fail(
                "docker-compose is missing: .ci/run installs Debian's docker-compose package"
            )
        pytest.skip("docker-compose is not installed (apt-get install docker-compose)")
    config = ["docker-compose", "config"]
    result = subprocess.run([*config, "-q"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    services = subprocess.run([*config, "--services"], cwd=ROOT, capture_output=True, text=True)
    assert set(services.stdout.split()) == {
        "postgres",
        "audit-postgres",
        "redis",
        "migrate",
        "web",
        "worker",
        "beat",
    }


def test_production_refuses_a_weak_secret_key():
    result = manage("check", env={**PRODUCTION_ENV, "SECRET_KEY": "short"})
    assert result.returncode != 0 and "SECRET_KEY" in result.stderr


@pytest.mark.parametrize(
    "key", ["short", PRODUCTION_ENV["SECRET_KEY"]], ids=["short", "secret-key"]
)
def test_production_refuses_a_weak_audit_checkpoint_key(key):
    result = manage("check", env={**PRODUCTION_ENV, "AUDIT_CHECKPOINT_KEY": key})
    assert result.returncode != 0 and "AUDIT_CHECKPOINT_KEY" in result.stderr


def test_production_migrates_the_audit_store_only_as_its_owner():
    """The application's audit role never runs migrations; the owner alias exists only where
    AUDIT_MIGRATE_DATABASE_URL is given (compose's one-shot migrate service)."""
    code = (
        "from django.conf import settings; from django.db import router;"
        "print(sorted(settings.DATABASES),"
        " router.allow_migrate('audit', 'audit', model_name='auditevent'),"
        " router.allow_migrate('audit_owner', 'audit', model_name='auditevent'))"
    )
    app = manage("shell", "-c", code, env=PRODUCTION_ENV)
    assert app.stdout.split()[-4:] == ["['audit',", "'default']", "False", "True"], app.stderr
    owner_url = "postgres://verzuim_audit_owner@audit-db:5432/verzuim_audit"
    migrating = manage(
        "shell", "-c", code, env={**PRODUCTION_ENV, "AUDIT_MIGRATE_DATABASE_URL": owner_url}
    )
    assert "'audit_owner'" in migrating.stdout and migrating.stdout.split()[-2:] == [
        "False",
        "True",
    ]


def test_production_refuses_debug():
    result = manage("check", env={**PRODUCTION_ENV, "DEBUG": "true"})
    assert result.returncode != 0 and "DEBUG" in result.stderr


def test_bad_setting_values_fail_loudly():
    result = manage("check", env={"SESSION_IDLE_MINUTES": "half an hour"})
    assert result.returncode != 0 and "SESSION_IDLE_MINUTES" in result.stderr


def test_development_uses_argon2():
    script = "from django.conf import settings; print(settings.PASSWORD_HASHERS[0])"
    result = manage("shell", "-c", script, env={"VERZUIM_ENV": "development"})
    assert (
        result.stdout.strip().splitlines()[-1] == "django.contrib.auth.hashers.Argon2PasswordHasher"
    ), result.stderr


@pytest.mark.parametrize("url_name", ["auth2fa:login", "dashboard"])
def test_security_headers_are_sent(hr_client, url_name):
    response = hr_client.get(reverse(url_name))
    csp = response["Content-Security-Policy"]
    assert (
        "script-src 'self'" in csp
        and "unsafe-inline" not in csp
        and "frame-ancestors 'none'" in csp
    )
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_templates_carry_no_inline_script():
    for template in ROOT.glob("**/templates/**/*.html"):
        if ".venv" in template.parts:
            continue
        text = template.read_text()
        assert "<script>" not in text and " onclick=" not in text and "style=" not in text, template


def test_forms_are_protected_against_csrf(client, world):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    response = strict.post(reverse("auth2fa:login"), {"username": "hr@a.test", "password": "x"})
    assert response.status_code == 403


def test_the_health_endpoint_checks_the_database_and_redis(client, db, settings):
    response = client.get(reverse("health"))
    assert response.status_code == 200
    body = response.json()
    assert body["database"] == "ok"
    assert body.get("redis", "ok") == "ok"
    assert ("redis" in body) == bool(settings.REDIS_URL)


def test_the_health_endpoint_reports_a_dead_redis(client, db, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    response = client.get(reverse("health"))
    assert response.status_code == 503
    assert response.json() == {"status": "error", "database": "ok", "redis": "error"}


@pytest.mark.parametrize("name", ["BIG_REGISTER_URL", "SMS_GATEWAY_URL"])
def test_production_refuses_plain_http_for_outside_services(name):
    result = manage("check", env={**PRODUCTION_ENV, name: "http://gateway.example.nl/api"})
    assert result.returncode != 0
    assert name in result.stderr and "https" in result.stderr


def test_production_accepts_https_for_outside_services():
    env = {
        **PRODUCTION_ENV,
        "BIG_REGISTER_URL": "https://api.bigregister.nl/zksrv/soap/4",
        "SMS_GATEWAY_URL": "https://sms.example.nl/api",
    }
    result = manage("check", env=env)
    assert result.returncode == 0, result.stderr


def test_the_demo_seed_refuses_to_run_in_production(settings):
    from django.core.management import CommandError, call_command

    settings.PRODUCTION = True
    with pytest.raises(CommandError, match="production"):
        call_command("seed_demo")


def no_store_and_private(response) -> bool:
    directives = {part.strip() for part in response.get("Cache-Control", "").split(",")}
    return {"no-store", "private"} <= directives and "public" not in directives


def test_signed_in_pages_are_never_cached(hr_client, world):
    for url in (
        reverse("employees:detail", kwargs={"key": world.employee.key}),
        reverse("employees:list"),
        reverse("auth2fa:recovery_code"),
        reverse("auth2fa:account"),
        reverse("dashboard"),
    ):
        response = hr_client.get(url)
        assert response.status_code == 200, url
        assert no_store_and_private(response), (url, response.get("Cache-Control"))


def test_the_steps_of_signing_in_are_never_cached(client, world):
    from tests.test_login import login

    signed_in = login(client, "hr@a.test")  # password given, no second factor yet
    assert signed_in.status_code == 302 and no_store_and_private(signed_in)
    enrolment = client.get(reverse("auth2fa:enrol_totp"))
    assert enrolment.status_code == 200 and "secret" in enrolment.context
    assert no_store_and_private(enrolment)
    assert no_store_and_private(client.get(reverse("dashboard")))  # the gate's redirect too


def test_a_stricter_cache_header_of_a_view_is_kept(hr_client, world):
    """The BSN page sets no-store itself; never-cached views keep their own directives."""
    url = reverse("employees:reveal_bsn", kwargs={"key": world.employee.key})
    assert no_store_and_private(hr_client.post(url))
    health = hr_client.get(reverse("health"))  # @never_cache, here for a signed-in user
    directives = {part.strip() for part in health["Cache-Control"].split(",")}
    assert {"no-cache", "must-revalidate", "max-age=0", "no-store", "private"} <= directives


def test_anonymous_pages_keep_their_own_cache_rules(client, db):
    # The login form carries a CSRF token for this browser: Django's login view never caches it.
    assert "no-store" in client.get(reverse("auth2fa:login"))["Cache-Control"]
    # Other anonymous pages hold nothing personal: nothing is added to them.
    assert "Cache-Control" not in client.get(reverse("auth2fa:password_reset"))
