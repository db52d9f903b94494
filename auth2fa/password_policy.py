"""The tenant's password policy as a Django password validator: length and reuse."""

from __future__ import annotations

from django.contrib.auth.hashers import check_password
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

DEFAULT_MIN_LENGTH = 12


class TenantPasswordPolicyValidator:
    def validate(self, password: str, user=None) -> None:
        tenant = (
            getattr(user, "tenant", None)
            if user is not None and getattr(user, "tenant_id", None)
            else None
        )
        min_length = tenant.password_min_length if tenant else DEFAULT_MIN_LENGTH
        if len(password) < min_length:
            raise ValidationError(
                ngettext(
                    "This password is too short. "
                    "It must contain at least %(min_length)d character.",
                    "This password is too short. "
                    "It must contain at least %(min_length)d characters.",
                    min_length,
                )
                % {"min_length": min_length},
                code="password_too_short",
            )
        if tenant and user.pk and tenant.password_history:
            recent = user.password_history.values_list("password_hash", flat=True)[
                : tenant.password_history
            ]
            if any(check_password(password, encoded) for encoded in recent):
                raise ValidationError(
                    _(
                        "You used this password recently. "
                        "Choose one you have not used in your last %(count)d."
                    )
                    % {"count": tenant.password_history},
                    code="password_reused",
                )

    def get_help_text(self) -> str:
        return _("At least %(min_length)d characters, not one of your recent passwords.") % {
            "min_length": DEFAULT_MIN_LENGTH
        }
