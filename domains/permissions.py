"""What roles may do: the permission catalogue, the four domains' ceilings and the reference roles.

A role holds permissions from this catalogue. The domain it is placed in is a ceiling: a role can
never hold a permission outside its domain's set (seed 002: "rollen blijven flexibel binnen de
gestelde kaders van een domein"). Only the bedrijfsarts domain may hold medical permissions.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext_lazy as _


class Domain(models.TextChoices):
    """The four domains: each a ceiling on what any role placed in it may do."""

    WERKGEVER = "werkgever", _("Employer")
    ARBODIENST = "arbodienst", _("Occupational health service")
    VERZEKERAAR = "verzekeraar", _("Insurer")
    BEDRIJFSARTS = "bedrijfsarts", _("Company doctor")


class Perm(models.TextChoices):
    EMPLOYEE_VIEW = "employee.view", _("View employees")
    EMPLOYEE_EDIT = "employee.edit", _("Add and change employees")
    EMPLOYEE_EXPORT = "employee.export", _("Export employees")
    EMPLOYEE_IMPORT = "employee.import", _("Import employees from a spreadsheet")
    CASE_VIEW = "case.view", _("View absence cases")
    CASE_REPORT = "case.report", _("Report sick and recovered")
    CASE_MANAGE = "case.manage", _("Manage cases and the Poortwachter timeline")
    CASE_ASSIGN = "case.assign", _("Assign case managers")
    CLAIM_VIEW = "claim.view", _("View what claims handling needs")
    NOTE_VIEW = "note.view", _("Read general notes and documents")
    NOTE_WRITE = "note.write", _("Write general notes and documents")
    MEDICAL_VIEW = "medical.view", _("Read the medical file")
    MEDICAL_WRITE = "medical.write", _("Write in the medical file")
    REPORT_VIEW = "report.view", _("View management information")
    RETENTION_MANAGE = (
        "retention.manage",
        _("Review data past its retention term, place legal holds and delete it"),
    )
    RETENTION_MEDICAL = (
        "retention.medical",
        _("Review and delete medical files past their retention term"),
    )


# Grouped for screens (role form, matrix): (heading, permissions).
PERMISSION_GROUPS = [
    (
        _("Employees"),
        [Perm.EMPLOYEE_VIEW, Perm.EMPLOYEE_EDIT, Perm.EMPLOYEE_EXPORT, Perm.EMPLOYEE_IMPORT],
    ),
    (
        _("Absence cases"),
        [Perm.CASE_VIEW, Perm.CASE_REPORT, Perm.CASE_MANAGE, Perm.CASE_ASSIGN, Perm.CLAIM_VIEW],
    ),
    (_("Notes and documents"), [Perm.NOTE_VIEW, Perm.NOTE_WRITE]),
    (_("Medical file"), [Perm.MEDICAL_VIEW, Perm.MEDICAL_WRITE]),
    (_("Management information"), [Perm.REPORT_VIEW]),
    (_("Retention"), [Perm.RETENTION_MANAGE, Perm.RETENTION_MEDICAL]),
]
# Deleting the medical file is a medical right too: only the bedrijfsarts domain, after the
# double check of seed 003.
MEDICAL_PERMISSIONS = frozenset({Perm.MEDICAL_VIEW, Perm.MEDICAL_WRITE, Perm.RETENTION_MEDICAL})

DOMAIN_CEILINGS: dict[str, frozenset[str]] = {
    Domain.WERKGEVER: frozenset(
        {
            Perm.EMPLOYEE_VIEW, Perm.EMPLOYEE_EDIT, Perm.EMPLOYEE_EXPORT, Perm.EMPLOYEE_IMPORT,
            Perm.CASE_VIEW, Perm.CASE_REPORT, Perm.CASE_MANAGE, Perm.CASE_ASSIGN, Perm.NOTE_VIEW,
            Perm.NOTE_WRITE, Perm.REPORT_VIEW, Perm.RETENTION_MANAGE,
        }
    ),
    Domain.ARBODIENST: frozenset(
        {
            Perm.EMPLOYEE_VIEW, Perm.EMPLOYEE_EXPORT, Perm.CASE_VIEW, Perm.CASE_REPORT,
            Perm.CASE_MANAGE, Perm.CASE_ASSIGN, Perm.NOTE_VIEW, Perm.NOTE_WRITE, Perm.REPORT_VIEW,
        }
    ),
    Domain.VERZEKERAAR: frozenset(
        {Perm.EMPLOYEE_VIEW, Perm.CASE_VIEW, Perm.CLAIM_VIEW, Perm.REPORT_VIEW}
    ),
    Domain.BEDRIJFSARTS: frozenset(
        {
            Perm.EMPLOYEE_VIEW, Perm.CASE_VIEW, Perm.CASE_MANAGE, Perm.NOTE_VIEW, Perm.NOTE_WRITE,
            Perm.MEDICAL_VIEW, Perm.MEDICAL_WRITE, Perm.RETENTION_MEDICAL,
        }
    ),
}  # fmt: skip
# A role not yet placed in a domain (carried over from an old set-up) may hold nothing medical.
UNPLACED_CEILING = frozenset().union(*DOMAIN_CEILINGS.values()) - MEDICAL_PERMISSIONS

# Positive registration: the domain sees healthy employees too. The others see only employees
# with an absence case (negative registration).
POSITIVE_REGISTRATION = frozenset({Domain.WERKGEVER})
# Which kind of service provider a domain's users work for (their scope comes from its contracts).
PROVIDER_KIND_OF_DOMAIN = {
    Domain.ARBODIENST: "arbodienst",
    Domain.BEDRIJFSARTS: "arbodienst",
    Domain.VERZEKERAAR: "verzekeraar",
}


def ceiling_of(domain: str) -> frozenset[str]:
    return DOMAIN_CEILINGS.get(domain, UNPLACED_CEILING)


def permissions_beyond_ceiling(domain: str, permissions: Iterable[str]) -> list[str]:
    """The permissions a role in `domain` may not hold, in catalogue order."""
    allowed = ceiling_of(domain)
    return [perm for perm in Perm.values if perm in set(permissions) and perm not in allowed]


@dataclass(frozen=True)
class ReferenceRole:
    """A standard AVG role every tenant starts with, and the yardstick roles are checked against."""

    key: str
    name: str
    domain: str
    permissions: frozenset[str]
    only_assigned: bool = False


REFERENCE_ROLES = [
    ReferenceRole("hr", "HR-medewerker", Domain.WERKGEVER, DOMAIN_CEILINGS[Domain.WERKGEVER]),
    ReferenceRole(
        "leidinggevende",
        "Leidinggevende",
        Domain.WERKGEVER,
        # Managers see the absence figures of their own departments (issue 15).
        frozenset(
            {
                Perm.EMPLOYEE_VIEW,
                Perm.CASE_VIEW,
                Perm.CASE_REPORT,
                Perm.NOTE_VIEW,
                Perm.NOTE_WRITE,
                Perm.REPORT_VIEW,
            }
        ),
    ),
    ReferenceRole(
        "casemanager",
        "Casemanager",
        Domain.ARBODIENST,
        frozenset(
            {
                Perm.EMPLOYEE_VIEW,
                Perm.CASE_VIEW,
                Perm.CASE_REPORT,
                Perm.CASE_MANAGE,
                Perm.NOTE_VIEW,
                Perm.NOTE_WRITE,
            }
        ),
        only_assigned=True,
    ),
    ReferenceRole(
        "arbo-teamleider",
        "Teamleider arbodienst",
        Domain.ARBODIENST,
        DOMAIN_CEILINGS[Domain.ARBODIENST],
    ),
    ReferenceRole(
        "schadebehandelaar",
        "Schadebehandelaar",
        Domain.VERZEKERAAR,
        # The insurer prices and steers on its insured employers' figures (issue 15).
        frozenset({Perm.EMPLOYEE_VIEW, Perm.CASE_VIEW, Perm.CLAIM_VIEW, Perm.REPORT_VIEW}),
    ),
    ReferenceRole(
        "bedrijfsarts", "Bedrijfsarts", Domain.BEDRIJFSARTS, DOMAIN_CEILINGS[Domain.BEDRIJFSARTS]
    ),
]
REFERENCE_ROLES_BY_KEY = {role.key: role for role in REFERENCE_ROLES}

for _reference in REFERENCE_ROLES:  # the reference roles themselves must respect the ceilings
    assert _reference.permissions <= DOMAIN_CEILINGS[_reference.domain], _reference.key  # noqa: S101
