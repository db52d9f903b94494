"""Login, the 2FA enrolment wizard, second-factor verification and recovery."""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import urlencode

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
from auth2fa import services, sms, throttle, webauthn
from auth2fa.forms import (
    LoginForm,
    PhoneNumberForm,
    RecoveryCodeForm,
    RenameFactorForm,
    SecurityKeyAnswerForm,
    SecurityKeyForm,
    TokenForm,
)
from auth2fa.http import AuthenticatedRequest
from auth2fa.models import SMSDevice, SMSMessage
from auth2fa.stepup import (
    fresh_second_factor_required,
    mark_second_factor_verified,
    second_factor_is_fresh,
)
from core.gate import public
from core.net import client_ip

SESSION_NEXT = "auth2fa_next"
SESSION_TOTP_DEVICE = "auth2fa_totp_device"
SESSION_RECOVERY_CODE = "auth2fa_recovery_code_to_show"
SESSION_SMS_DEVICE = "auth2fa_sms_device"
SESSION_WEBAUTHN_STATE = "auth2fa_webauthn_state"


@dataclass(frozen=True)
class EnrolmentMethod:
    """A kind of second factor the wizard offers. Never e-mail: it is the password-reset channel."""

    slug: str
    title: Promise
    description: Promise
    url_name: str


ENROLMENT_METHODS = [
    EnrolmentMethod(
        slug="app",
        title=gettext_lazy("Authenticator app"),
        description=gettext_lazy(
            "An app on your phone (such as Google Authenticator, Microsoft Authenticator or "
            "FreeOTP) shows a new six-digit code every 30 seconds. Free, and works offline."
        ),
        url_name="auth2fa:enrol_totp",
    ),
    EnrolmentMethod(
        slug="sms",
        title=gettext_lazy("Text message (SMS)"),
        description=gettext_lazy(
            "At each login a six-digit code is sent to your mobile phone. Your organisation may "
            "be charged per message."
        ),
        url_name="auth2fa:enrol_sms",
    ),
    EnrolmentMethod(
        slug="key",
        title=gettext_lazy("Security key"),
        description=gettext_lazy(
            "A USB or NFC key (FIDO U2F or FIDO2, such as a YubiKey) that you touch to log in. "
            "The safest choice: it cannot be phished."
        ),
        url_name="auth2fa:enrol_key",
    ),
]
KIND_TITLES = {method.slug: method.title for method in ENROLMENT_METHODS}


def _offered_methods() -> list[EnrolmentMethod]:
    """SMS only where messages can go out (an installation may run without an SMS gateway)."""
    return [m for m in ENROLMENT_METHODS if m.slug != "sms" or sms.sending_configured()]


def _safe_next(request: HttpRequest, candidate: str | None) -> str:
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return reverse("dashboard")


def _remember_next(request: HttpRequest) -> None:
    if "next" in request.GET:
        request.session[SESSION_NEXT] = _safe_next(request, request.GET["next"])


def _may_enrol(request: AuthenticatedRequest) -> bool:
    """A new factor may be added by a verified session, or by a user who has none yet."""
    return request.user.is_verified() or not services.has_confirmed_factor(request.user)


login_view = public(
    auth_views.LoginView.as_view(
        template_name="auth2fa/login.html",
        authentication_form=LoginForm,
        redirect_authenticated_user=False,
    )
)
logout_view = public(auth_views.LogoutView.as_view(), signing_in=True)

password_reset = public(
    auth_views.PasswordResetView.as_view(
        template_name="auth2fa/password_reset_form.html",
        email_template_name="auth2fa/password_reset_email.txt",
        subject_template_name="auth2fa/password_reset_subject.txt",
        success_url=reverse_lazy("auth2fa:password_reset_done"),
    )
)
password_reset_done = public(
    auth_views.PasswordResetDoneView.as_view(template_name="auth2fa/password_reset_done.html")
)
password_reset_confirm = public(
    auth_views.PasswordResetConfirmView.as_view(
        template_name="auth2fa/password_reset_confirm.html",
        success_url=reverse_lazy("auth2fa:password_reset_complete"),
    )
)
password_reset_complete = public(
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


@public(signing_in=True)
def enrol(request: AuthenticatedRequest) -> HttpResponse:
    """Step 1 of the wizard: choose a kind of second factor."""
    if not _may_enrol(request):
        return redirect("auth2fa:verify")
    _remember_next(request)
    return render(request, "auth2fa/enrol.html", {"methods": _offered_methods()})


def _enrolment_refused(request: AuthenticatedRequest) -> HttpResponse | None:
    """Who may add a factor now: a verified session, or a user who has none yet. Adding one to
    an account that has one is a change of factors, which needs fresh proof first."""
    if not _may_enrol(request):
        return redirect("auth2fa:verify")
    _remember_next(request)
    if services.has_confirmed_factor(request.user) and not second_factor_is_fresh(request):
        return redirect_to_login(request.get_full_path(), reverse("auth2fa:step_up"))
    return None


def _finish_enrolment(request: AuthenticatedRequest, device, message: str) -> HttpResponse:
    """A new factor is confirmed: the session counts as verified by it, and a user without a
    recovery code gets one, shown once."""
    services.confirm_device(user=request.user, device=device)
    otp_login(request, device)
    request.session.cycle_key()
    mark_second_factor_verified(request)
    record_event("2fa.enrol", Action.EXECUTE, actor=request.user, obj=device)
    if not services.has_recovery_code(request.user):
        request.session[SESSION_RECOVERY_CODE] = services.issue_recovery_code(user=request.user)
        return redirect("auth2fa:recovery_code")
    messages.success(request, message)
    return redirect(request.session.pop(SESSION_NEXT, reverse("dashboard")))


def _enrolment_failed(request: AuthenticatedRequest) -> None:
    record_event("2fa.enrol", Action.EXECUTE, outcome=Outcome.FAILURE, actor=request.user)


@public(signing_in=True)
@sensitive_post_parameters("token")
def enrol_totp(request: AuthenticatedRequest) -> HttpResponse:
    """Step 2 (app): scan the QR code or type the secret, then confirm with a code."""
    if refused := _enrolment_refused(request):
        return refused
    device = services.start_totp_enrolment(
        user=request.user, device_id=request.session.get(SESSION_TOTP_DEVICE)
    )
    request.session[SESSION_TOTP_DEVICE] = device.pk
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["token"]):
            del request.session[SESSION_TOTP_DEVICE]
            return _finish_enrolment(request, device, _("The authenticator app has been added."))
        form.add_error("token", _("This code is not correct, or has expired. Try the newest code."))
        _enrolment_failed(request)
    qr_svg = segno.make(device.config_url, error="m").svg_inline(scale=5, border=2, dark="#14213d")
    return render(
        request,
        "auth2fa/enrol_totp.html",
        {"form": form, "qr_svg": qr_svg, "secret": services.totp_secret_base32(device)},
    )


def _send_sms(request: AuthenticatedRequest, device: SMSDevice, purpose: str) -> str | None:
    """Send a code; None when sent, else the reason to show."""
    try:
        sms.send_code(device, purpose)
    except sms.SmsRateLimited as limited:
        record_event("2fa.sms_send", Action.EXECUTE, outcome=Outcome.DENIED, actor=request.user)
        return limited.message
    except sms.SmsGatewayError:
        record_event("2fa.sms_send", Action.EXECUTE, outcome=Outcome.FAILURE, actor=request.user)
        return _(
            "The text message could not be sent. Try again in a moment, or use another method."
        )
    record_event("2fa.sms_send", Action.EXECUTE, actor=request.user, obj=device)
    return None


@public(signing_in=True)
@sensitive_post_parameters("token")
def enrol_sms(request: AuthenticatedRequest) -> HttpResponse:
    """Step 2 (SMS): type the mobile number, receive a code, type it back."""
    if refused := _enrolment_refused(request):
        return refused
    pending = SMSDevice.objects.filter(
        user=request.user, confirmed=False, pk=request.session.get(SESSION_SMS_DEVICE) or 0
    ).first()
    action = request.POST.get("action")
    number_form = PhoneNumberForm(request.POST if action == "number" else None)
    token_form = TokenForm(request.POST if action == "confirm" else None)
    if action == "number" and number_form.is_valid():
        device = services.start_sms_enrolment(
            user=request.user, number=number_form.cleaned_data["number"]
        )
        request.session[SESSION_SMS_DEVICE] = device.pk
        problem = _send_sms(request, device, SMSMessage.Purpose.ENROL)
        if problem is None:
            messages.info(
                request, _("A code has been sent to %(number)s.") % {"number": device.masked_number}
            )
            return redirect("auth2fa:enrol_sms")
        number_form.add_error(None, problem)
        pending = device
    elif action == "confirm" and pending is not None and token_form.is_valid():
        if pending.verify_token(token_form.cleaned_data["token"]):
            del request.session[SESSION_SMS_DEVICE]
            return _finish_enrolment(request, pending, _("SMS has been set up."))
        token_form.add_error("token", _("This code is not correct, or has expired."))
        _enrolment_failed(request)
    return render(
        request,
        "auth2fa/enrol_sms.html",
        {"number_form": number_form, "token_form": token_form, "pending": pending},
    )


@public(signing_in=True)
def enrol_key(request: AuthenticatedRequest) -> HttpResponse:
    """Step 2 (security key): name it, touch it; the browser registers it with our RP id."""
    if refused := _enrolment_refused(request):
        return refused
    form = SecurityKeyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        state = request.session.pop(SESSION_WEBAUTHN_STATE, None)
        try:
            key = webauthn.complete_registration(
                user=request.user,
                state=state,
                response=_browser_answer(form.cleaned_data["credential"]),
                name=form.cleaned_data["name"],
            )
        except webauthn.WebAuthnError:
            form.add_error(None, _("The security key was not registered. Try again."))
            _enrolment_failed(request)
        else:
            return _finish_enrolment(request, key, _("The security key has been added."))
    options, request.session[SESSION_WEBAUTHN_STATE] = webauthn.begin_registration(request.user)
    return render(request, "auth2fa/enrol_key.html", {"form": form, "webauthn_options": options})


def recovery_code(request: HttpRequest) -> HttpResponse:
    """Step 3: the recovery code, shown exactly once (it is stored only as a hash)."""
    code = request.session.pop(SESSION_RECOVERY_CODE, None)
    return render(
        request,
        "auth2fa/recovery_code.html",
        {"code": code, "next": request.session.pop(SESSION_NEXT, reverse("dashboard"))},
    )


def _check_code(devices: list, form: TokenForm):
    """The device (app or SMS) that accepts the typed code, or None with the reason on the form."""
    for device in devices:
        allowed, _info = device.verify_is_allowed()
        if not allowed:
            form.add_error(None, _("Too many wrong codes. Wait a moment and try again."))
            return None
        if device.verify_token(form.cleaned_data["token"]):
            return device
    form.add_error("token", _("This code is not correct, has expired or has already been used."))
    return None


def _browser_answer(text: str) -> dict:
    """The credential the browser posted (PublicKeyCredential.toJSON()), as a dict."""
    try:
        answer = json.loads(text or "null")
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        raise webauthn.WebAuthnError("The browser's answer could not be read.")
    return answer


def _check_key(request: AuthenticatedRequest, form: SecurityKeyAnswerForm):
    try:
        return webauthn.complete_authentication(
            user=request.user,
            state=request.session.pop(SESSION_WEBAUTHN_STATE, None),
            response=_browser_answer(form.cleaned_data["credential"]),
        )
    except webauthn.WebAuthnError as error:
        if error.clone:
            record_event("2fa.key_clone_warning", Action.EXECUTE, outcome=Outcome.DENIED)
            form.add_error(
                None,
                _(
                    "This security key reported an older state than before, so it may have been "
                    "copied. It can no longer be used: log in with another factor, remove the key "
                    "under My account and tell your functional admin."
                ),
            )
        else:
            form.add_error(None, _("The security key was not accepted. Try again."))
    return None


def _second_factor_challenge(request: AuthenticatedRequest, event: str):
    """Ask for any of the user's factors, the default one first: a code from the app, a code sent
    by SMS, or a security key. Returns (the device that answered, or None; the page context)."""
    devices = services.confirmed_devices(request.user)
    by_kind: dict[str, list] = {}
    for device in devices:
        by_kind.setdefault(services.factor_kind(device), []).append(device)
    method = request.GET.get("method") or request.POST.get("method")
    if method not in by_kind:
        default = services.default_factor(request.user, devices)
        method = services.factor_kind(default) if default else "app"
    answered = None
    form = None
    if method == "sms" and request.POST.get("action") == "send":
        chosen = next(
            (d for d in by_kind["sms"] if d.persistent_id == request.POST.get("device")), None
        )
        purpose = SMSMessage.Purpose.LOGIN if event == "2fa.verify" else SMSMessage.Purpose.STEP_UP
        problem = (
            _send_sms(request, chosen, purpose) if chosen else _("Choose one of your numbers.")
        )
        if problem:
            messages.error(request, problem)
        else:
            messages.info(
                request, _("A code has been sent to %(number)s.") % {"number": chosen.masked_number}
            )
    elif method == "key":
        form = SecurityKeyAnswerForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            answered = _check_key(request, form)
    else:
        form = TokenForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            answered = _check_code(by_kind.get(method, []), form)
    if form is not None and form.is_bound:
        record_event(
            event, Action.EXECUTE, actor=request.user, obj=answered,
            outcome=Outcome.SUCCESS if answered is not None else Outcome.FAILURE,
        )  # fmt: skip

    def url_for(kind: str) -> str:
        query = {"method": kind}
        if request.GET.get("next"):
            query["next"] = request.GET["next"]
        return f"{request.path}?{urlencode(query)}"

    context = {
        "method": method,
        "form": form or TokenForm(),
        "action_url": url_for(method),
        "others": [(KIND_TITLES[kind], url_for(kind)) for kind in by_kind if kind != method],
        "sms_devices": by_kind.get("sms", []),
    }
    if method == "key" and answered is None:
        begun = webauthn.begin_authentication(request.user)
        if begun is None:
            context["no_usable_key"] = True
        else:
            context["webauthn_options"], request.session[SESSION_WEBAUTHN_STATE] = begun
    return answered, context


@public(signing_in=True)
@sensitive_post_parameters("token")
def verify(request: AuthenticatedRequest) -> HttpResponse:
    """Ask a user who has a second factor for it (step 2 of the login)."""
    if request.user.is_verified():
        return redirect(_safe_next(request, request.GET.get("next")))
    if not services.has_confirmed_factor(request.user):
        return redirect("auth2fa:enrol")
    device, context = _second_factor_challenge(request, "2fa.verify")
    if device is not None:
        otp_login(request, device)
        request.session.cycle_key()
        mark_second_factor_verified(request)
        return redirect(_safe_next(request, request.GET.get("next")))
    if request.POST.get("action") == "send":
        return redirect(context["action_url"])  # after sending: back to the code form (PRG)
    return render(request, "auth2fa/verify.html", context)


@sensitive_post_parameters("token")
def step_up(request: AuthenticatedRequest) -> HttpResponse:
    """Confirm a fresh second factor inside a verified session: before the medical file, and
    before changes to one's factors or password."""
    device, context = _second_factor_challenge(request, "2fa.step_up")
    if device is not None:
        mark_second_factor_verified(request)
        return redirect(_safe_next(request, request.GET.get("next")))
    if request.POST.get("action") == "send":
        return redirect(context["action_url"])
    context["minutes"] = request.user.tenant.medical_step_up_minutes
    return render(request, "auth2fa/step_up.html", context)


@public(signing_in=True)
@sensitive_post_parameters("code")
def recover(request: AuthenticatedRequest) -> HttpResponse:
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


def account(request: AuthenticatedRequest) -> HttpResponse:
    """ "Mijn Account": the user's own factors, recovery code, password and language. Every
    change here needs a second factor fresher than the tenant's window."""
    devices = services.confirmed_devices(request.user)
    default = services.default_factor(request.user, devices)
    return render(
        request,
        "auth2fa/account.html",
        {
            "factors": [
                {
                    "device": device,
                    "kind": services.factor_kind(device),
                    "kind_title": KIND_TITLES[services.factor_kind(device)],
                    "is_default": device == default,
                }
                for device in devices
            ],
            "methods": _offered_methods(),
            "has_recovery_code": services.has_recovery_code(request.user),
            "fresh": second_factor_is_fresh(request),
        },
    )


@fresh_second_factor_required
@require_POST
def account_change(request: AuthenticatedRequest) -> HttpResponse:
    action = request.POST.get("action")
    factor = request.POST.get("device", "")
    try:
        if action == "remove":
            services.remove_factor(user=request.user, persistent_id=factor)
            messages.success(request, _("The second factor has been removed."))
        elif action == "default":
            services.set_default_factor(user=request.user, persistent_id=factor)
            messages.success(request, _("This second factor is now asked for first."))
        elif action == "rename":
            form = RenameFactorForm(request.POST)
            if form.is_valid():
                services.rename_factor(
                    user=request.user,
                    persistent_id=form.cleaned_data["device"],
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
