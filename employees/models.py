"""Employees (werknemers), keyed by our own unique key, never by the BSN."""

from __future__ import annotations

import re
import uuid
from decimal import Decimal
from typing import Any

from django.contrib.postgres.indexes import OpClass
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Case, Func, Value, When
from django.db.models.functions import Lower, Upper
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from core.encryption import SealedText, blind_index
from core.models import TENANT_MODEL, TenantOwned
from domains.models import Department, Employer

BSN_INDEX = "employee.bsn"

# Names are searched by their beginning, ignoring case, diacritics, spaces and punctuation:
# "van der" finds "van der Vries" (prefix and surname together), "vries" and "Vriës" find every
# Vries whatever the prefix, "thart" and "'t hart" find "'t Hart". The database keeps the
# normalised forms in generated columns with prefix indexes (no extension needed), and
# search_key() normalises the term the same way. Letters with diacritics outside these lists,
# and any other character, are left out on both sides.
ACCENTED = "ÀÁÂÃÄÅàáâãäåÇçÈÉÊËèéêëÌÍÎÏìíîïÑñÒÓÔÕÖòóôõöÙÚÛÜùúûüÝýÿ"
PLAIN = "AAAAAAaaaaaaCcEEEEeeeeIIIIiiiiNnOOOOOoooooUUUUuuuuYyy"
NOT_SEARCHED = "[^A-Za-z0-9]"
_PLAIN_LETTERS = str.maketrans(ACCENTED, PLAIN)
_NOT_SEARCHED = re.compile(NOT_SEARCHED)


def search_key(text: str) -> str:
    """A name as the search columns keep it ("Van der Vriës" -> "vandervries")."""
    return _NOT_SEARCHED.sub("", text.translate(_PLAIN_LETTERS)).lower()


def _search_key_sql(expression: Any) -> Func:
    """search_key() in SQL, immutable (TRANSLATE, REGEXP_REPLACE, and LOWER on ASCII only).

    TRANSLATE only for a name with a character outside printable ASCII (most names have none):
    it walks its list of accented letters for every character of the name, which cost an import
    of 100,000 employees over a second per column (bench/imports.py); on plain ASCII it changes
    nothing, so the result is the same."""
    plain = Case(
        When(
            NotPlainAscii(expression),
            then=Func(expression, Value(ACCENTED), Value(PLAIN), function="TRANSLATE"),
        ),
        default=expression,
    )
    return Lower(Func(plain, Value(NOT_SEARCHED), Value(""), Value("g"), function="REGEXP_REPLACE"))


class NotPlainAscii(Func):
    """Whether a text has a character outside printable ASCII (space to tilde)."""

    arg_joiner = " ~ "
    template = "(%(expressions)s)"
    output_field = models.BooleanField()

    def __init__(self, expression: Any) -> None:
        super().__init__(expression, Value("[^ -~]"))


class Joined(Func):
    """`a || b` (CONCAT() is not immutable, so a generated column cannot use it)."""

    arg_joiner = " || "
    template = "(%(expressions)s)"


class Gender(models.TextChoices):
    """As SIVI's Verzuimstandaard and the pregnancy rules need it."""

    FEMALE = "female", _("Female")
    MALE = "male", _("Male")
    OTHER = "other", _("Other or not stated")


class Employee(TenantOwned):
    """A person employed by an employer. `key` is the "Unieke sleutel" shown to users."""

    # No index of their own for the tenant and the employer: every index below starts with the
    # tenant, and the unique personnel number with the employer, and serve those lookups. Two
    # indexes fewer to keep up on every write: 11 % of inserting 10,000 employees.
    tenant = models.ForeignKey(
        TENANT_MODEL, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    employer = models.ForeignKey(
        Employer,
        verbose_name=_("employer"),
        on_delete=models.PROTECT,
        related_name="employees",
        db_index=False,
    )
    department = models.ForeignKey(
        Department,
        verbose_name=_("department"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="employees",
    )
    personnel_number = models.CharField(_("personnel number"), max_length=30)
    initials = models.CharField(_("initials"), max_length=20, blank=True)
    first_name = models.CharField(_("first name"), max_length=100, blank=True)
    surname_prefix = models.CharField(_("surname prefix"), max_length=20, blank=True)
    surname = models.CharField(_("surname"), max_length=150)
    birth_date = models.DateField(_("birth date"))
    gender = models.CharField(_("gender"), max_length=10, choices=Gender.choices, blank=True)
    postcode = models.CharField(_("postcode"), max_length=7, blank=True)
    email = models.EmailField(_("e-mail address"), blank=True)
    phone = models.CharField(_("phone number"), max_length=16, blank=True)  # E.164
    employment_start = models.DateField(_("employment start"))
    employment_end = models.DateField(_("employment end"), null=True, blank=True)
    # The current part-time factor; its dated history is EmploymentTerms (management figures
    # weigh each day by the factor of that day).
    part_time_factor = models.DecimalField(
        _("part-time factor"),
        max_digits=4,
        decimal_places=3,
        default=Decimal("1.000"),
        validators=[MinValueValidator(Decimal("0.001")), MaxValueValidator(Decimal("1.000"))],
    )
    # Searched by their beginning (see search_key); kept by the database.
    surname_key = models.GeneratedField(
        expression=_search_key_sql("surname"),
        output_field=models.CharField(max_length=150),
        db_persist=True,
    )
    full_surname_key = models.GeneratedField(
        expression=_search_key_sql(Joined("surname_prefix", "surname")),
        output_field=models.CharField(max_length=170),
        db_persist=True,
    )
    # Kept by the database (a trigger of the cases app): whether any absence case exists for
    # this employee. Negative registration reads it, so the access rule needs no cases import.
    has_absence_case = models.BooleanField(default=False, editable=False)
    # The BSN is optional, sealed at rest and deliberately not searchable.
    bsn_sealed = models.BinaryField(null=True, editable=False)
    bsn = SealedText("bsn_sealed")
    # A keyed hash of the BSN (core.encryption.blind_index): the BSN as a search key where the
    # environment allows one, without a readable copy.
    bsn_index = models.CharField(max_length=64, blank=True, editable=False)
    # Optimistic locking: a form posts the version it showed; a stale one is refused.
    version = models.PositiveIntegerField(default=1, editable=False)

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
            models.Index(fields=["tenant", "personnel_number"], name="employee_personnel_number"),
            models.Index(fields=["tenant", "birth_date"], name="employee_birth_date"),
            # Prefix searches (postcode "3511", personnel number "100" as UPPER(...) LIKE 'x%'):
            # pattern operator classes, which LIKE can use whatever the collation.
            models.Index(
                "tenant", OpClass("postcode", name="varchar_pattern_ops"), name="employee_postcode"
            ),
            models.Index(
                "tenant",
                OpClass(Upper("personnel_number"), name="text_pattern_ops"),
                name="employee_personnel_number_up",
            ),
            # Surname searches: a prefix of the surname, or of prefix and surname together.
            models.Index(
                "tenant",
                OpClass("surname_key", name="varchar_pattern_ops"),
                name="employee_surname_key",
            ),
            models.Index(
                "tenant",
                OpClass("full_surname_key", name="varchar_pattern_ops"),
                name="employee_full_surname_key",
            ),
            # The BSN search by its blind index, which only the few employees with a BSN have:
            # a partial index (an equality search implies the condition), so an import of
            # employees without one writes no entry.
            models.Index(
                fields=["tenant", "bsn_index"],
                condition=models.Q(bsn_index__gt=""),
                name="employee_bsn_index",
            ),
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

    def set_bsn(self, bsn: str | None) -> None:
        """Seal the BSN and keep its search index with it (None or "" removes both)."""
        self.bsn = bsn or None
        self.bsn_index = (
            blind_index(bsn, tenant_id=self.tenant_id, purpose=BSN_INDEX) if bsn else ""
        )

    @property
    def is_employed(self) -> bool:
        """Still employed today (an end date in the future counts as employed)."""
        return self.employment_end is None or self.employment_end >= timezone.localdate()


class EmploymentTerms(TenantOwned):
    """Contract hours and the employer's full-time hours from a date on: the dated history of
    the part-time factor (contract hours / full-time hours, at most 1).

    The table also holds the days each set applies (`applies_from`, `applies_until`) for the
    absence figures: no model fields, the database keeps them with triggers (employees migration
    0009)."""

    # No index of its own: the unique (employee, valid_from) below serves it, in date order.
    employee = models.ForeignKey(
        Employee, on_delete=models.CASCADE, related_name="terms", db_index=False
    )
    valid_from = models.DateField(_("valid from"))
    contract_hours = models.DecimalField(
        _("contract hours per week"),
        max_digits=5,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.5")), MaxValueValidator(Decimal("80"))],
    )
    full_time_hours = models.DecimalField(
        _("full-time hours per week"),
        max_digits=5,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("1")), MaxValueValidator(Decimal("80"))],
    )

    class Meta(TenantOwned.Meta):
        verbose_name = _("employment terms")
        verbose_name_plural = _("employment terms")
        ordering = ["employee", "-valid_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["employee", "valid_from"], name="one_set_of_terms_per_day"
            )
        ]

    def __str__(self) -> str:
        return f"Employment terms {self.key}"

    @property
    def part_time_factor(self) -> Decimal:
        return self.factor(self.contract_hours, self.full_time_hours)

    @staticmethod
    def factor(contract_hours: Decimal, full_time_hours: Decimal) -> Decimal:
        """Contract hours / full-time hours, at most 1, to three decimals."""
        return min(Decimal("1.000"), contract_hours / full_time_hours).quantize(Decimal("0.001"))

    def audit_subject_key(self) -> uuid.UUID | None:
        return Employee.unscoped.filter(pk=self.employee_id).values_list("key", flat=True).first()


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
