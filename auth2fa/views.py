"""Login, the 2FA enrolment wizard, second-factor verification and recovery."""

from __future__ import annotations

from dataclasses import dataclass

import segno
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.functional import Promise
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST
from django_otp import login as otp_login

from audit.events import record_event
from audit.models import Action, Outcome
from auth2fa import services, throttle
from auth2fa.forms import LoginForm, RecoveryCodeForm, RenameFactorForm, TokenForm
from auth2fa.middleware import second_factor_exempt
from auth2fa.stepup import (
    fresh_second_factor_required,
    mark_second_factor_verified,
    second_factor_is_fresh,
)
from verzuim.net import client_ip

SESSION_NEXT = "auth2fa_next"
SESSION_TOTP_DEVICE = "auth2fa_totp_device"
SESSION_RECOVERY_CODE = "auth2fa_recovery_code_to_show"


@dataclass(frozen=True)
class EnrolmentMethod:
    """A kind of second factor the wizard offers. Never e-mail: it is the password-reset channel."""

    slug: str
    title: Promise
    description: Promise
    url_name: str


ENROLMENT_METHODS = [
    EnrolmentMethod(
        slug="totp",
        title=gettext_lazy("Authenticator app"),
        description=gettext_lazy(
            "An app on your phone (such as Google Authenticator, Microsoft Authenticator or "
            "FreeOTP) shows a new six-digit code every 30 seconds."
        ),
        url_name="auth2fa:enrol_totp",
    ),
]


def _safe_next(request: HttpRequest, candidate: str | None) -> str:
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return reverse("dashboard")


def _remember_next(request: HttpRequest) -> None:
    if "next" in request.GET:
        request.session[SESSION_NEXT] = _safe_next(request, request.GET["next"])


def _may_enrol(request: HttpRequest) -> bool:
    """A new factor may be added by a verified session, or by a user who has none yet."""
    return request.user.is_verified() or not services.has_confirmed_factor(request.user)


login_view = second_factor_exempt(
    auth_views.LoginView.as_view(
        template_name="auth2fa/login.html",
        authentication_form=LoginForm,
        redirect_authenticated_user=False,
    )
)
logout_view = second_factor_exempt(auth_views.LogoutView.as_view())

password_reset = second_factor_exempt(
    auth_views.PasswordResetView.as_view(
        template_name="auth2fa/password_reset_form.html",
        email_template_name="auth2fa/password_reset_email.txt",
        subject_template_name="auth2fa/password_reset_subject.txt",
        success_url=reverse_lazy("auth2fa:password_reset_done"),
    )
)
password_reset_done = second_factor_exempt(
    auth_views.PasswordResetDoneView.as_view(template_name="auth2fa/password_reset_done.html")
)
password_reset_confirm = second_factor_exempt(
    auth_views.PasswordResetConfirmView.as_view(
        template_name="auth2fa/password_reset_confirm.html",
        success_url=reverse_lazy("auth2fa:password_reset_complete"),
    )
)
password_reset_complete = second_factor_exempt(
    auth_views.PasswordResetCompleteView.as_view(
        template_name="auth2fa/password_reset_complete.html"
    )
)


class PasswordChangeView(auth_views.PasswordChangeView):
    """Change the password: the tenant's policy applies; needs a fresh second factor."""

    template_name = "auth2fa/password_change.html"
    success_url = reverse_lazy("dashboard")

    def form_valid(self, form):
        response = super().form_valid(form)
        messages.success(self.request, _("Your password has been changed."))
        return response


password_change = fresh_second_factor_required(PasswordChangeView.as_view())
password_change.changes_password = True


@second_factor_exempt
def enrol(request: HttpRequest) -> HttpResponse:
    """Step 1 of the wizard: choose a kind of second factor."""
    if not _may_enrol(request):
        return redirect("auth2fa:verify")
    _remember_next(request)
    return render(request, "auth2fa/enrol.html", {"methods": ENROLMENT_METHODS})


@second_factor_exempt
@sensitive_post_parameters("token")
def enrol_totp(request: HttpRequest) -> HttpResponse:
    """Step 2 (app): scan the QR code or type the secret, then confirm with a code."""
    if not _may_enrol(request):
        return redirect("auth2fa:verify")
    _remember_next(request)
    adding_another = services.has_confirmed_factor(request.user)
    if adding_another and not second_factor_is_fresh(
        request, request.user.tenant.medical_step_up_minutes
    ):
        # Adding a factor to an account that has one is a change of factors: fresh proof first.
        return redirect_to_login(request.get_full_path(), reverse("auth2fa:step_up"))
    device = services.start_totp_enrolment(
        user=request.user, device_id=request.session.get(SESSION_TOTP_DEVICE)
    )
    request.session[SESSION_TOTP_DEVICE] = device.pk
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if services.confirm_totp(device=device, token=form.cleaned_data["token"]):
            del request.session[SESSION_TOTP_DEVICE]
            otp_login(request, device)
            request.session.cycle_key()
            mark_second_factor_verified(request)
            record_event("2fa.enrol", Action.EXECUTE, actor=request.user)
            if not services.has_recovery_code(request.user):
                request.session[SESSION_RECOVERY_CODE] = services.issue_recovery_code(
                    user=request.user
                )
                return redirect("auth2fa:recovery_code")
            messages.success(request, _("The authenticator app has been added."))
            return redirect(request.session.pop(SESSION_NEXT, reverse("dashboard")))
        form.add_error("token", _("This code is not correct, or has expired. Try the newest code."))
        record_event("2fa.enrol", Action.EXECUTE, outcome=Outcome.FAILURE, actor=request.user)
    qr_svg = segno.make(device.config_url, error="m").svg_inline(scale=5, border=2, dark="#14213d")
    return render(
        request,
        "auth2fa/enrol_totp.html",
        {"form": form, "qr_svg": qr_svg, "secret": services.totp_secret_base32(device)},
    )


def recovery_code(request: HttpRequest) -> HttpResponse:
    """Step 3: the recovery code, shown exactly once (it is stored only as a hash)."""
    code = request.session.pop(SESSION_RECOVERY_CODE, None)
    return render(
        request,
        "auth2fa/recovery_code.html",
        {"code": code, "next": request.session.pop(SESSION_NEXT, reverse("dashboard"))},
    )


def _check_totp(request: HttpRequest, form: TokenForm):
    """The user's authenticator app that accepts the code, or None with the reason on the form."""
    for device in services.confirmed_devices(request.user):
        allowed, _info = device.verify_is_allowed()
        if not allowed:
            form.add_error(None, _("Too many wrong codes. Wait a moment and try again."))
            return None
        if device.verify_token(form.cleaned_data["token"]):
            return device
    form.add_error("token", _("This code is not correct, or has already been used."))
    return None


@second_factor_exempt
@sensitive_post_parameters("token")
def verify(request: HttpRequest) -> HttpResponse:
    """Ask a user who has a second factor for a code from it."""
    if request.user.is_verified():
        return redirect(_safe_next(request, request.GET.get("next")))
    if not services.has_confirmed_factor(request.user):
        return redirect("auth2fa:enrol")
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = _check_totp(request, form)
        record_event(
            "2fa.verify", Action.EXECUTE, actor=request.user,
            outcome=Outcome.SUCCESS if device is not None else Outcome.FAILURE,
        )  # fmt: skip
        if device is not None:
            otp_login(request, device)
            request.session.cycle_key()
            mark_second_factor_verified(request)
            return redirect(_safe_next(request, request.GET.get("next")))
    return render(request, "auth2fa/verify.html", {"form": form})


@sensitive_post_parameters("token")
def step_up(request: HttpRequest) -> HttpResponse:
    """Confirm a fresh code inside a verified session, before opening the medical file."""
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        confirmed = _check_totp(request, form) is not None
        record_event(
            "2fa.step_up", Action.EXECUTE, outcome=Outcome.SUCCESS if confirmed else Outcome.FAILURE
        )
        if confirmed:
            mark_second_factor_verified(request)
            return redirect(_safe_next(request, request.GET.get("next")))
    return render(
        request,
        "auth2fa/step_up.html",
        {"form": form, "minutes": request.user.tenant.medical_step_up_minutes},
    )


@second_factor_exempt
@sensitive_post_parameters("code")
def recover(request: HttpRequest) -> HttpResponse:
    """Log in once with the recovery code when the device is lost; then enrol a new factor."""
    if request.user.is_verified():
        return redirect("dashboard")
    form = RecoveryCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        email, ip = request.user.email, client_ip(request)
        if throttle.is_blocked(account=email, ip=ip):
            record_event("2fa.recovery_code", Action.EXECUTE, outcome=Outcome.DENIED)
            form.add_error(
                None,
                _("Too many failed attempts. Wait %(minutes)s minutes and try again.")
                % {"minutes": throttle.window_minutes()},
            )
        elif services.redeem_recovery_code(user=request.user, code=form.cleaned_data["code"]):
            record_event("2fa.recovery_code", Action.EXECUTE)
            throttle.clear_account(email)
            messages.warning(
                request,
                _(
                    "Your recovery code has been used and your old second factors removed. "
                    "Set up a new second factor now."
                ),
            )
            return redirect("auth2fa:enrol")
        else:
            throttle.record_failure(account=email, ip=ip)
            record_event("2fa.recovery_code", Action.EXECUTE, outcome=Outcome.FAILURE)
            form.add_error("code", _("This recovery code is not correct."))
    return render(request, "auth2fa/recover.html", {"form": form})


def account(request: HttpRequest) -> HttpResponse:
    """ "Mijn Account": the user's own factors, recovery code, password and language. Every
    change here needs a second factor fresher than the tenant's window."""
    return render(
        request,
        "auth2fa/account.html",
        {
            "devices": services.confirmed_devices(request.user),
            "has_recovery_code": services.has_recovery_code(request.user),
            "rename_form": RenameFactorForm(),
        },
    )


@fresh_second_factor_required
@require_POST
def account_change(request: HttpRequest) -> HttpResponse:
    action = request.POST.get("action")
    try:
        if action == "remove":
            services.remove_factor(user=request.user, device_id=int(request.POST.get("device", 0)))
            messages.success(request, _("The second factor has been removed."))
        elif action == "rename":
            form = RenameFactorForm(request.POST)
            if form.is_valid():
                services.rename_factor(
                    user=request.user,
                    device_id=form.cleaned_data["device"],
                    name=form.cleaned_data["name"],
                )
                messages.success(request, _("The second factor has been renamed."))
        elif action == "recovery_code":
            request.session[SESSION_RECOVERY_CODE] = services.issue_recovery_code(user=request.user)
            request.session[SESSION_NEXT] = reverse("auth2fa:account")
            return redirect("auth2fa:recovery_code")
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    return redirect("auth2fa:account")
