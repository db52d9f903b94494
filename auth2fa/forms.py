"""Forms of signing in: the login, the second-factor codes, the recovery code and the enrolment of
factors."""

from __future__ import annotations

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from audit.events import record_event
from audit.models import Action, Outcome
from auth2fa import services, throttle
from auth2fa.models import User
from auth2fa.sms import normalise_mobile_number
from core.net import address_allowed, client_ip


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
        """Refuse while locked: an existing account by its tenant's lockout policy (kept on the
        user), an unknown address by a counter in the cache (the same message, so nobody learns
        which addresses have accounts), and every address by its own failure count.

        A refusal costs one password hash like any other attempt (Django's backend hashes once
        for an unknown address too): a locked account answers no faster than an open one, and
        a locked known address no differently from a locked unknown one."""
        email = (self.cleaned_data.get("username") or "").lower()
        self.cleaned_data["username"] = email
        ip = client_ip(self.request)
        account = (
            User.objects.filter(email=email).select_related("tenant").first() if email else None
        )
        account_locked = (
            account.is_locked if account else bool(email) and throttle.account_blocked(email)
        )
        if account_locked or throttle.ip_blocked(ip):
            User().set_password(self.cleaned_data.get("password") or "")  # the cost, discarded
            record_event(
                "login.blocked", Action.EXECUTE, outcome=Outcome.DENIED,
                actor=account, tenant=account.tenant if account else None,
            )  # fmt: skip
            # The wait of the lock that applies: the tenant's when its account is locked, else
            # the cache window (an address throttle never tells whether the account exists).
            minutes = (
                account.tenant.lockout_minutes
                if account is not None and account_locked
                else throttle.window_minutes()
            )
            raise forms.ValidationError(
                self.error_messages["throttled"], code="throttled", params={"minutes": minutes}
            )
        try:
            cleaned = super().clean()
        except forms.ValidationError:
            throttle.record_ip_failure(ip)
            if account is not None:
                services.register_failed_login(account)
            elif email:
                throttle.record_account_failure(email)
            raise
        services.clear_failed_logins(account)
        return cleaned

    def confirm_login_allowed(self, user) -> None:
        super().confirm_login_allowed(user)
        if user.is_blocked:
            raise forms.ValidationError(
                _("This account has been blocked. Contact your functional admin."), code="blocked"
            )
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


class RenameFactorForm(forms.Form):
    device = forms.CharField(max_length=100, widget=forms.HiddenInput)
    name = forms.CharField(label=_("Name"), max_length=64)


class PhoneNumberForm(forms.Form):
    number = forms.CharField(
        label=_("Mobile number"),
        max_length=30,
        help_text=_("A Dutch number such as 06 12345678, or a number with its country code."),
        widget=forms.TextInput(
            attrs={"autocomplete": "tel", "inputmode": "tel", "autofocus": True}
        ),
    )

    def clean_number(self) -> str:
        return normalise_mobile_number(self.cleaned_data["number"])


class SecurityKeyForm(forms.Form):
    """A name for the new key; `credential` is filled in by the browser (static/js/app.js)."""

    name = forms.CharField(
        label=_("Name of the key"),
        max_length=64,
        initial=_("Security key"),
        help_text=_("So you can tell your keys apart, for example “Blue YubiKey”."),
    )
    credential = forms.CharField(widget=forms.HiddenInput, required=False, max_length=20000)


class SecurityKeyAnswerForm(forms.Form):
    credential = forms.CharField(widget=forms.HiddenInput, max_length=20000)
