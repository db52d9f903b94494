"""Employees (werknemers), keyed by our own unique key, never by the BSN."""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from core.encryption import SealedText
from core.models import TenantOwned
from domains.models import Department, Employer


class Employee(TenantOwned):
    """A person employed by an employer. `key` is the "Unieke sleutel" shown to users."""

    employer = models.ForeignKey(Employer, on_delete=models.PROTECT, related_name="employees")
    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, null=True, blank=True, related_name="employees"
    )
    personnel_number = models.CharField(_("personnel number"), max_length=30)
    initials = models.CharField(_("initials"), max_length=20, blank=True)
    first_name = models.CharField(_("first name"), max_length=100, blank=True)
    surname_prefix = models.CharField(_("surname prefix"), max_length=20, blank=True)
    surname = models.CharField(_("surname"), max_length=150)
    birth_date = models.DateField(_("birth date"))
    postcode = models.CharField(_("postcode"), max_length=7, blank=True)
    employment_start = models.DateField(_("employment start"))
    employment_end = models.DateField(_("employment end"), null=True, blank=True)
    part_time_factor = models.DecimalField(
        _("part-time factor"),
        max_digits=4,
        decimal_places=3,
        default=Decimal("1.000"),
        validators=[MinValueValidator(Decimal("0.001")), MaxValueValidator(Decimal("1.000"))],
    )
    # Kept by the database (a trigger of the cases app): whether any absence case exists for
    # this employee. Negative registration reads it, so the access rule needs no cases import.
    has_absence_case = models.BooleanField(default=False, editable=False)
    # The BSN is optional, sealed at rest and deliberately not searchable.
    bsn_sealed = models.BinaryField(null=True, editable=False)
    bsn = SealedText("bsn_sealed")

    class Meta(TenantOwned.Meta):
        verbose_name = _("employee")
        verbose_name_plural = _("employees")
        ordering = ["surname", "first_name"]
        constraints = [
            models.UniqueConstraint(
                fields=["employer", "personnel_number"], name="personnel_number_unique_per_employer"
            ),
            models.CheckConstraint(
                condition=models.Q(employment_end__isnull=True)
                | models.Q(employment_end__gte=models.F("employment_start")),
                name="employment_ends_after_start",
            ),
        ]
        indexes = [
            models.Index(Lower("surname"), "tenant", name="employee_surname_lower"),
            models.Index(fields=["tenant", "personnel_number"], name="employee_personnel_number"),
            models.Index(fields=["tenant", "birth_date"], name="employee_birth_date"),
            models.Index(fields=["tenant", "postcode"], name="employee_postcode"),
        ]

    def __str__(self) -> str:
        # Only the pseudonymous key: __str__ may end up in logs or audit renderings.
        return f"Employee {self.key}"

    def audit_subject_key(self) -> uuid.UUID:
        return self.key

    @property
    def full_name(self) -> str:
        given = self.first_name or self.initials
        return " ".join(part for part in (given, self.surname_prefix, self.surname) if part)

    @property
    def sort_name(self) -> str:
        """Dutch style for lists: "Vries, Anna de"."""
        given = " ".join(
            part for part in (self.first_name or self.initials, self.surname_prefix) if part
        )
        return f"{self.surname}, {given}" if given else self.surname

    @property
    def masked_bsn(self) -> str:
        bsn = self.bsn
        return f"•••••{bsn[-4:]}" if bsn else ""


class EmployeeUserObjectPermission(UserObjectPermissionBase):
    """Per-employee grants to users (a case manager's assigned employees), in a table with a real
    foreign key, so visibility filters join on it instead of guardian's generic object_pk text
    column (django-guardian's performance guide: "direct foreign keys")."""

    content_object = models.ForeignKey(Employee, on_delete=models.CASCADE)

    class Meta(UserObjectPermissionBase.Meta):
        indexes = [
            models.Index(
                fields=["user", "permission", "content_object"], name="employee_grant_lookup"
            )
        ]

    def audit_subject_key(self) -> uuid.UUID | None:
        return (
            Employee.unscoped.filter(pk=self.content_object_id)
            .values_list("key", flat=True)
            .first()
        )


class EmployeeGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Employee, on_delete=models.CASCADE)
