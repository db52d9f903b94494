from __future__ import annotations

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from auth2fa import throttle
from verzuim.net import address_allowed, client_ip


class LoginForm(AuthenticationForm):
    """E-mail and password, with failures throttled per account and per client address."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _("The e-mail address or password is not correct."),
        "throttled": _("Too many failed attempts. Wait %(minutes)s minutes and try again."),
    }

    def __init__(self, request=None, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        self.fields["username"].label = _("E-mail address")
        self.fields["username"].widget.attrs.update({"autocomplete": "username", "autofocus": True})

    def clean(self):
        email = (self.cleaned_data.get("username") or "").lower()
        self.cleaned_data["username"] = email
        ip = client_ip(self.request)
        if email and throttle.is_blocked(account=email, ip=ip):
            from audit.events import record_event
            from audit.models import Action, Outcome
            from auth2fa.models import User

            attempted = User.objects.filter(email=email).first()
            record_event(
                "login.blocked", Action.EXECUTE, outcome=Outcome.DENIED,
                actor=attempted, tenant=attempted.tenant if attempted else None,
            )  # fmt: skip
            raise forms.ValidationError(
                self.error_messages["throttled"],
                code="throttled",
                params={"minutes": throttle.window_minutes()},
            )
        try:
            cleaned = super().clean()
        except forms.ValidationError:
            if email:
                throttle.record_failure(account=email, ip=ip)
            raise
        throttle.clear_account(email)
        return cleaned

    def confirm_login_allowed(self, user) -> None:
        super().confirm_login_allowed(user)
        if not address_allowed(client_ip(self.request), user.tenant.allowed_ip_ranges):
            raise forms.ValidationError(
                _(
                    "Your organisation allows logins only from its own network; "
                    "you are connecting from %(ip)s."
                ),
                code="ip_refused",
                params={"ip": client_ip(self.request)},
            )


class TokenForm(forms.Form):
    token = forms.CharField(
        label=_("Code"),
        min_length=6,
        max_length=8,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "pattern": "[0-9 ]*",
                "autofocus": True,
            }
        ),
    )

    def clean_token(self) -> str:
        token = self.cleaned_data["token"].replace(" ", "")
        if not token.isdigit():
            raise forms.ValidationError(_("Enter the digits of the code."))
        return token


class RecoveryCodeForm(forms.Form):
    code = forms.CharField(
        label=_("Recovery code"),
        max_length=40,
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "autofocus": True, "spellcheck": "false"}
        ),
    )
