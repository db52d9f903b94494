"""Logins, logouts and failed logins as audit events (Django's auth signals)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from audit.events import record_event
from audit.models import Action, Outcome


@receiver(user_logged_in, dispatch_uid="audit-login")
def _logged_in(sender, request, user, **kwargs) -> None:
    record_event("login.password", Action.EXECUTE, actor=user)


@receiver(user_logged_out, dispatch_uid="audit-logout")
def _logged_out(sender, request, user, **kwargs) -> None:
    if user is not None:
        record_event("logout", Action.EXECUTE, actor=user)


@receiver(user_login_failed, dispatch_uid="audit-login-failed")
def _login_failed(sender, credentials, request=None, **kwargs) -> None:
    # The account tried, by its key when it exists; the typed address itself is never recorded.
    email = (credentials or {}).get("username", "")
    user = get_user_model().objects.filter(email=email.lower()).first() if email else None
    record_event(
        "login.password",
        Action.EXECUTE,
        outcome=Outcome.FAILURE,
        actor=user,
        tenant=user.tenant if user else None,
    )
