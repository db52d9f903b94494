"""The accounts layer: users, their second factors, signing in and Mijn Account."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class Auth2faConfig(AppConfig):
    name = "auth2fa"
    verbose_name = _("Accounts and two-step verification")

    def ready(self) -> None:
        from audit.capture import track
        from auth2fa.models import AuthenticatorApp, RecoveryCode, SecurityKey, SMSDevice, User

        track(User)
        track(RecoveryCode)
        track(AuthenticatorApp)
        # A one-time code and its expiry change at every SMS (the sending is an event of its
        # own); a key's counter at every use.
        track(SMSDevice, exclude=("token", "valid_until"))
        track(SecurityKey, exclude=("sign_count", "credential_data"))
