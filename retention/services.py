"""Writes of the retention app: the tenant's terms, legal holds."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from auth2fa.models import User
from cases.models import AbsenceCase
from employees.models import Employee
from retention.models import (
    ALLOWED_START_EVENTS,
    LEGAL_MAXIMUM_YEARS,
    LEGAL_MINIMUM_YEARS,
    Category,
    LegalHold,
    RetentionSettings,
    RetentionTerm,
    Term,
)
from retention.selectors import DEFAULT_SECOND_PERSON_ABOVE, terms_of


def check_term(term: Term) -> None:
    """Refuse a term the law does not allow for its category (ValidationError)."""
    label = Category(term.category).label
    minimum = LEGAL_MINIMUM_YEARS.get(term.category)
    if minimum is not None and term.years < minimum:
        raise ValidationError(
            _("%(category)s must be kept at least %(years)d years.")
            % {"category": label, "years": minimum}
        )
    maximum = LEGAL_MAXIMUM_YEARS.get(term.category)
    if maximum is not None and term.years > maximum:
        raise ValidationError(
            _("%(category)s may be kept at most %(years)d years; a legal hold keeps it longer.")
            % {"category": label, "years": maximum}
        )
    if term.start_event not in ALLOWED_START_EVENTS[term.category]:
        raise ValidationError(
            _("%(category)s cannot be counted from that event.") % {"category": label}
        )


@transaction.atomic
def save_terms(*, tenant: Any, terms: list[Term]) -> list[str]:
    """Store the tenant's terms; returns the categories that changed. Only changed terms are
    written, so change capture records exactly those (one audit event each)."""
    for term in terms:
        check_term(term)
    current = terms_of(tenant)
    changed = []
    for term in terms:
        if current[term.category] == term:
            continue
        RetentionTerm.objects.update_or_create(
            tenant=tenant,
            category=term.category,
            defaults={"years": term.years, "start_event": term.start_event},
        )
        changed.append(term.category)
    return changed


@transaction.atomic
def place_hold(
    *,
    employee: Employee,
    by: User,
    reason: str,
    ends_on: date,
    case: AbsenceCase | None = None,
) -> LegalHold:
    """Suspend deletion of the employee's data (or of one case) until `ends_on`."""
    if ends_on < timezone.localdate():
        raise ValidationError(_("A legal hold cannot end in the past."))
    if case is not None and case.employee_id != employee.pk:
        raise ValidationError(_("That case is not this employee's."))
    return LegalHold.objects.create(
        tenant_id=employee.tenant_id,
        employee=employee,
        case=case,
        reason=reason,
        ends_on=ends_on,
        placed_by=by,
    )


@transaction.atomic
def lift_hold(*, hold: LegalHold, by: User) -> None:
    """End a hold before its date (the dispute is settled). The row stays, for the record."""
    if hold.lifted_at is not None:
        raise ValidationError(_("This legal hold has been lifted already."))
    hold.lifted_at = timezone.now()
    hold.lifted_by = by
    hold.save(update_fields=["lifted_at", "lifted_by"])


@transaction.atomic
def save_settings(*, tenant: Any, second_person_above: int) -> list[str]:
    """Store above how many employees a deletion needs a second person; returns what changed."""
    current = RetentionSettings.objects.filter(tenant=tenant).first()
    if current is not None and current.second_person_above == second_person_above:
        return []
    if current is None and second_person_above == DEFAULT_SECOND_PERSON_ABOVE:
        return []
    RetentionSettings.objects.update_or_create(
        tenant=tenant, defaults={"second_person_above": second_person_above}
    )
    return ["second_person_above"]
