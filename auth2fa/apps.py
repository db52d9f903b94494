from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class Auth2faConfig(AppConfig):
    name = "auth2fa"
    verbose_name = _("Accounts and two-step verification")
