"""The kinds of account: every layer asks it (the audit trail too), so it lives in the core."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class AccountType(models.TextChoices):
    MEMBER = "member", _("Domain user")
    FUNCTIONAL_ADMIN = "functional_admin", _("Functional admin")
    AUDITOR = "auditor", _("Auditor")
