"""Demo data: two tenants with employers, departments, employees and one account per persona.

Runs once: when the demo tenant exists it only prints the accounts. The data is random but
reproducible (fixed seed) and fictitious; the BSNs pass the 11-proef but belong to nobody known.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import Min
from django.utils import timezone
from guardian.shortcuts import assign_perm

from auth2fa.models import AccountType, SMSMessage, User
from cases import poortwachter
from cases import services as case_services
from cases.models import AbsenceCase, AbsencePeriod, CaseType, IncapacityChange, Milestone
from cases.selectors import cases_visible_to
from core.statistics import analyze
from core.tenancy import tenant_scope
from domains.models import (
    AssignmentStatus,
    BigCheckStatus,
    BigRegistration,
    Department,
    Employer,
    ProviderKind,
    Role,
    RoleAssignment,
    ServiceContract,
    ServiceProvider,
    Tenant,
)
from domains.permissions import REFERENCE_ROLES_BY_KEY, Perm
from domains.services import ensure_reference_roles
from domains.visibility import CASE_MANAGER_GRANT
from employees.models import Employee, EmploymentTerms, Gender
from retention.models import HoldReason, LegalHold
from retention.scan import scan_tenant

DEMO_PASSWORD = "Verzuim-demo-2026"  # noqa: S105 - printed at start, demo only

FEMALE = """Anna Emma Julia Sophie Lotte Sanne Lisa Fleur Eva Iris Anouk Femke Noor Lieke Maud
Esther Ingrid Marieke Petra Monique Wilma Annelies Karin Ilse Mirjam Yvonne Bianca Sandra
Nicole Linda
Fatima Samira Naima Priya Mei Joyce Chantal Daphne Inge Roos""".split()
MALE = """Jan Pieter Daan Sem Lucas Thijs Bram Tim Ruben Jeroen Bas Martijn Sander Erik Kees Henk
Gerrit Wouter Joost Maarten Niels Stefan Dennis Mark Rob Hans Johan Willem Mohamed Youssef Ahmed
Kevin Mike Ricardo Dirk Frank Arjen Koen Rik Stijn""".split()
SURNAMES = [
    ("de", "Jong"),
    ("", "Jansen"),
    ("de", "Vries"),
    ("van den", "Berg"),
    ("van", "Dijk"),
    ("", "Bakker"),
    ("", "Janssen"),
    ("", "Visser"),
    ("", "Smit"),
    ("", "Meijer"),
    ("de", "Boer"),
    ("", "Mulder"),
    ("de", "Groot"),
    ("", "Bos"),
    ("", "Vos"),
    ("", "Peters"),
    ("", "Hendriks"),
    ("van", "Leeuwen"),
    ("", "Dekker"),
    ("", "Brouwer"),
    ("de", "Wit"),
    ("", "Dijkstra"),
    ("", "Smits"),
    ("de", "Graaf"),
    ("van der", "Meer"),
    ("van der", "Linden"),
    ("", "Kok"),
    ("", "Jacobs"),
    ("de", "Haan"),
    ("", "Vermeulen"),
    ("van den", "Heuvel"),
    ("van der", "Veen"),
    ("van den", "Broek"),
    ("de", "Bruijn"),
    ("de", "Bruin"),
    ("van der", "Heijden"),
    ("", "Schouten"),
    ("van", "Beek"),
    ("", "Willems"),
    ("van", "Vliet"),
    ("van de", "Ven"),
    ("", "Hoekstra"),
    ("", "Maas"),
    ("", "Verhoeven"),
    ("", "Koster"),
    ("van", "Dam"),
    ("van der", "Wal"),
    ("", "Prins"),
    ("", "Blom"),
    ("", "Huisman"),
    ("", "Peeters"),
    ("de", "Koning"),
    ("", "Bosch"),
    ("", "Kuipers"),
    ("van", "Wijk"),
    ("", "Postma"),
    ("", "Kramer"),
    ("", "Schipper"),
    ("ter", "Horst"),
    ("", "El Amrani"),
    ("", "Yilmaz"),
    ("", "Bouzid"),
    ("", "Nguyen"),
    ("", "Kaya"),
    ("", "Sahin"),
    ("", "Ramdin"),
    ("", "Doğan"),
]

ORGANISATIONS = {
    "Demo Arbo": {
        "Bakkerij De Gouden Korenaar B.V.": (
            220,
            {
                "Productie": ["Broodbakkerij", "Banketbakkerij"],
                "Logistiek": ["Expeditie", "Wagenpark"],
                "Winkels": ["Winkel Utrecht", "Winkel Amersfoort", "Winkel Zeist"],
                "Kantoor": [],
            },
        ),
        "Zorggroep Rivierenland": (
            300,
            {
                "Verpleging": ["Afdeling Noord", "Afdeling Zuid", "Nachtdienst"],
                "Thuiszorg": ["Team Tiel", "Team Culemborg"],
                "Facilitair": [],
                "Staf": ["Personeelszaken", "Financiën"],
            },
        ),
    },
    "Andere Arbo": {
        "Transportbedrijf Van der Linden": (60, {"Planning": [], "Chauffeurs": ["Nacht", "Dag"]}),
    },
}

# Fictitious registration numbers, valid by format (KvK: 8 digits; loonheffingen: 9 digits, L, 2).
EMPLOYER_DETAILS = {
    "Bakkerij De Gouden Korenaar B.V.": {
        "registration_number": "30123456",
        "payroll_tax_number": "812345670L01",
        "own_risk_wga": True,  # carries the WGA risk itself: a WGA file is kept 10 years
        "full_time_hours": Decimal("38"),
    },
    "Zorggroep Rivierenland": {
        "registration_number": "11654321",
        "payroll_tax_number": "823456781L02",
        "own_risk_zw": True,  # carries its own Sickness Benefits Act risk: 5-year retention
        "full_time_hours": Decimal("36"),
    },
    "Transportbedrijf Van der Linden": {
        "registration_number": "24987654",
        "payroll_tax_number": "834567892L01",
        "full_time_hours": Decimal("40"),
    },
}

# The demo stores BSNs, so its environment records why it may (the payroll duties); the second
# environment keeps the default: no BSN.
TENANT_SETTINGS = {
    "Demo Arbo": {
        "bsn_allowed": True,
        "bsn_legal_ground": (
            "Wet op de loonbelasting 1964 en Wet financiering sociale verzekeringen: de werkgever "
            "verwerkt het BSN voor de loonadministratie en de ziekmelding bij UWV."
        ),
    },
    "Andere Arbo": {"bsn_allowed": False},
}

PROVIDERS = {
    "Demo Arbo": [
        (
            "Arbodienst Gezond Werk",
            ProviderKind.ARBODIENST,
            ["Bakkerij De Gouden Korenaar B.V.", "Zorggroep Rivierenland"],
        ),
        ("Zekerheid Verzuimverzekeringen", ProviderKind.VERZEKERAAR, ["Zorggroep Rivierenland"]),
    ],
    "Andere Arbo": [],
}

# email, first name, last name, account type, reference role, scope
# scope: ("employers", [names]) | ("departments", [(employer, department)]) | ("provider", name)
PERSONAS = {
    "Demo Arbo": [
        ("hr@demo.test", "Hanneke", "Rozendaal", AccountType.MEMBER, "hr",
         ("employers", ["Bakkerij De Gouden Korenaar B.V.", "Zorggroep Rivierenland"])),
        ("manager@demo.test", "Marco", "van Essen", AccountType.MEMBER, "leidinggevende",
         ("departments", [("Bakkerij De Gouden Korenaar B.V.", "Productie")])),
        ("casemanager@demo.test", "Carla", "Wessels", AccountType.MEMBER, "casemanager",
         ("provider", "Arbodienst Gezond Werk")),
        ("bedrijfsarts@demo.test", "Bart", "Oosterhuis", AccountType.MEMBER, "bedrijfsarts",
         ("provider", "Arbodienst Gezond Werk")),
        ("verzekeraar@demo.test", "Vera", "Zwart", AccountType.MEMBER, "schadebehandelaar",
         ("provider", "Zekerheid Verzuimverzekeringen")),
        ("beheer@demo.test", "Bernard", "Hofman", AccountType.FUNCTIONAL_ADMIN, None, None),
        ("beheer2@demo.test", "Bea", "Kuiper", AccountType.FUNCTIONAL_ADMIN, None, None),
        ("auditor@demo.test", "Aukje", "Terpstra", AccountType.AUDITOR, None, None),
    ],
    "Andere Arbo": [
        ("hr@andere.test", "Hilde", "Andringa", AccountType.MEMBER, "hr",
         ("employers", ["Transportbedrijf Van der Linden"])),
    ],
}  # fmt: skip
DEMO_BIG_NUMBER = "19012345601"  # fictitious
MEDICAL_NOTES = [
    "Spreekuur: lage rugklachten na tillen, verwezen naar fysiotherapie.",
    "Spreekuur: klachten passend bij overspanning; gesprekken bij psycholoog gestart.",
    "Status na knieoperatie, revalidatie verloopt volgens plan.",
    "Griepachtig beeld met koorts, verwacht herstel binnen een week.",
]
ADVICE_NOTES = [
    "Advies bedrijfsarts: niet tillen boven 10 kg, wel licht administratief werk, 4 uur per dag.",
    "Advies bedrijfsarts: geleidelijke opbouw van uren, start met twee dagdelen per week.",
    "Advies bedrijfsarts: voorlopig geen nachtdiensten; evaluatie over vier weken.",
]
CASE_MANAGER_NOTES = [
    "Telefonisch contact gehad; afspraak voor een gesprek over werkhervatting volgende week.",
    "Plan van aanpak besproken met werknemer en leidinggevende, beide akkoord.",
    "Werkplekonderzoek aangevraagd bij de leidinggevende.",
]


def valid_bsn(rng: random.Random) -> str:
    """A random nine-digit number that passes the 11-proef."""
    while True:
        digits = [rng.randint(0, 9) for _ in range(8)]
        if digits[0] == 0 and digits[1] == 0:
            continue
        total = sum(d * w for d, w in zip(digits, range(9, 1, -1), strict=True))
        last = total % 11
        if last <= 9:
            return "".join(map(str, digits)) + str(last)


def random_postcode(rng: random.Random) -> str:
    letters = "ABCDEFGHJKLMNPRTVWXZ"
    while True:
        pair = rng.choice(letters) + rng.choice(letters)
        if pair not in {"SA", "SD", "SS"}:
            return f"{rng.randint(1000, 9999)}{pair}"


class Command(BaseCommand):
    help = "Create the demo tenants, employees and persona accounts (once) and print the accounts."

    def handle(self, *args, **options):
        # Demo accounts share one published password: never in a real environment.
        if settings.PRODUCTION:
            raise CommandError("seed_demo refuses to run in production (VERZUIM_ENV=production).")
        if not Tenant.objects.filter(name="Demo Arbo").exists():
            self.seed()
        self.print_accounts()

    @transaction.atomic
    def seed(self) -> None:
        rng = random.Random(2018)  # the year the AVG updates of seed 002 began
        for tenant_name, employers in ORGANISATIONS.items():
            tenant = Tenant(name=tenant_name, **TENANT_SETTINGS[tenant_name])
            tenant.full_clean()
            tenant.save()
            with tenant_scope(tenant):
                self.seed_tenant(rng, tenant, employers)
        self.stdout.write(self.style.SUCCESS("Demo data created."))

    def seed_tenant(self, rng: random.Random, tenant: Tenant, employers: dict) -> None:
        roles = {role.reference_key: role for role in ensure_reference_roles(tenant)}
        by_name, departments = {}, {}
        for employer_name, (count, tree) in employers.items():
            employer = by_name[employer_name] = Employer.objects.create(
                tenant=tenant, name=employer_name, **EMPLOYER_DETAILS[employer_name]
            )
            leaves = self.build_departments(tenant, employer, tree, departments)
            staff = Employee.objects.bulk_create(
                self.make_employee(rng, tenant, employer, leaves, number)
                for number in range(1, count + 1)
            )
            # The hours behind each part-time factor, from the start of employment.
            EmploymentTerms.objects.bulk_create(
                EmploymentTerms(
                    tenant=tenant,
                    employee=employee,
                    valid_from=employee.employment_start,
                    contract_hours=(employee.part_time_factor * employer.full_time_hours).quantize(
                        Decimal("0.01")
                    ),
                    full_time_hours=employer.full_time_hours,
                )
                for employee in staff
            )
        providers = {}
        for name, kind, served in PROVIDERS[tenant.name]:
            provider = providers[name] = ServiceProvider.objects.create(
                tenant=tenant, name=name, kind=kind
            )
            for employer_name in served:
                ServiceContract.objects.create(
                    tenant=tenant,
                    provider=provider,
                    employer=by_name[employer_name],
                    starts_on=date(2019, 1, 1),
                )
        users = {}
        for email, first, last, account_type, role_key, scope in PERSONAS[tenant.name]:
            user = users[email] = User.objects.create_user(
                email,
                DEMO_PASSWORD,
                tenant=tenant,
                first_name=first,
                last_name=last,
                account_type=account_type,
            )
            if role_key:
                self.assign(tenant, user, roles[role_key], scope, by_name, departments, providers)
        hr = next(user for email, user in users.items() if email.startswith("hr@"))
        # Hundreds of employees were just written in this transaction: plan the case reports'
        # queries for them (core/statistics.py), not for the empty tables the statistics know.
        analyze(Employee, EmploymentTerms, RoleAssignment, ServiceContract)
        self.seed_cases(rng, tenant, hr)
        self.seed_history(rng, tenant, hr)
        analyze(AbsenceCase, AbsencePeriod, IncapacityChange, Milestone)
        self.seed_sms_history(rng, tenant, list(by_name.values()), hr)
        if tenant.name == "Demo Arbo":
            self.seed_demo_arbo_extras(rng, tenant, users)
            self.seed_retention(rng, tenant, users, by_name)
        scan_tenant(tenant)  # what the nightly scan would have found: the retention overview

    def seed_sms_history(self, rng: random.Random, tenant: Tenant, employers, user) -> None:
        """Half a year of SMS codes per employer, so the SMS cost report has something to show."""
        now = timezone.now()
        messages = []
        for days_ago in range(1, 183):
            for employer in [*employers, None]:
                for _ in range(rng.choice((0, 0, 0, 1, 1, 2))):
                    messages.append(
                        SMSMessage(
                            tenant=tenant, employer=employer, user=user,
                            sent_at=now - timedelta(days=days_ago, minutes=rng.randrange(1440)),
                            purpose=SMSMessage.Purpose.LOGIN,
                            status=SMSMessage.Status.FAILED
                            if rng.random() < 0.02
                            else SMSMessage.Status.SENT,
                        )
                    )  # fmt: skip
        SMSMessage.objects.bulk_create(messages)

    def assign(self, tenant, user, role, scope, by_name, departments, providers) -> None:
        kind, value = scope
        assignment = RoleAssignment.objects.create(
            tenant=tenant,
            user=user,
            role=role,
            provider=providers[value] if kind == "provider" else None,
        )
        if kind == "employers":
            assignment.employers.set([by_name[name] for name in value])
        if kind == "departments":
            assignment.departments.set([departments[pair] for pair in value])

    def seed_cases(self, rng: random.Random, tenant: Tenant, reporter: User) -> None:
        """About one in eight employees has been sick: open and closed cases, long-term ones past
        weeks 42 and 52, partial recoveries, one absence that continued an earlier case, and one
        pregnancy-related case. Made through the services, as a user would."""
        today = timezone.localdate()
        employees = list(
            Employee.objects.filter(tenant=tenant, employment_end__isnull=True).order_by("pk")
        )
        for employee in employees:
            if rng.random() >= 0.125:
                continue
            days_ago = rng.choice([3, 9, 20, 45, 80, 150, 300, 320, 400, 500, 700])
            first = max(
                today - timedelta(days=days_ago + rng.randint(0, 5)), employee.employment_start
            )
            case = case_services.report_sick(
                employee=employee, by=reporter, first_sick_day=first,
                expected_duration=rng.choice(["unknown", "days", "weeks", "months", "long"]),
                work_accident=rng.random() < 0.05,
                contact_phone=f"06{rng.randint(10000000, 99999999)}",
            )  # fmt: skip
            sick_days = (today - first).days
            if sick_days > 60 and rng.random() < 0.4:
                case_services.report_recovery(
                    case=case, by=reporter, on=first + timedelta(days=sick_days // 2), incapacity=50
                )
            if sick_days > 2 and rng.random() < 0.4 and sick_days < 400:
                case_services.report_recovery(
                    case=case, by=reporter, on=first + timedelta(days=rng.randint(2, sick_days))
                )
            for milestone in case.milestones.filter(due_on__lt=today - timedelta(days=7)):
                if rng.random() < 0.8:
                    case_services.complete_milestone(
                        milestone=milestone, by=reporter, done_on=milestone.due_on
                    )
        if tenant.name != "Demo Arbo":
            return
        # An absence that continues an earlier one (fewer than 28 healthy days in between).
        candidate = next(
            e for e in employees if not AbsenceCase.objects.filter(employee=e).exists()
        )
        case = case_services.report_sick(
            employee=candidate, by=reporter, first_sick_day=today - timedelta(days=60)
        )
        case_services.report_recovery(case=case, by=reporter, on=today - timedelta(days=40))
        case_services.report_sick(
            employee=candidate, by=reporter, first_sick_day=today - timedelta(days=25)
        )
        # Pregnancy-related absence: its own kind of case, kept out of the absence figures.
        expecting = next(
            e for e in employees if not AbsenceCase.objects.filter(employee=e).exists()
        )
        case_services.report_sick(
            employee=expecting,
            by=reporter,
            first_sick_day=today - timedelta(days=12),
            case_type=CaseType.PREGNANCY,
        )

    def seed_history(self, rng: random.Random, tenant: Tenant, reporter: User) -> None:
        """Two years of past, closed absences and some changed hours, so the absence figures
        (reports/) have a trend to show: short spells mostly, a few of weeks or months, each
        inside the employment and at least five weeks before the employee's next absence (no
        merging). Bulk rows as the services make them (case, spell, incapacity, timeline), since
        through the services this would take most of the seeding time."""
        today = timezone.localdate()
        window_start = today - timedelta(days=760)
        first_case_day = dict(
            AbsenceCase.objects.filter(tenant=tenant)
            .values("employee_id")
            .annotate(first=Min("first_sick_day"))
            .values_list("employee_id", "first")
        )
        new_terms = []
        history = []  # (employee, first sick day, recovery date, partial recovery or None)
        for employee in Employee.objects.filter(tenant=tenant).select_related("employer"):
            limit = first_case_day.get(employee.pk, today) - timedelta(days=35)
            if employee.employment_end:
                limit = min(limit, employee.employment_end)
            day = max(window_start, employee.employment_start) + timedelta(days=rng.randint(0, 400))
            while True:
                length = 1 + int(rng.expovariate(1 / 6))
                if rng.random() < 0.08:
                    length += rng.randint(14, 120)
                if day + timedelta(days=length) >= limit:
                    break
                partial = None
                if length > 20 and rng.random() < 0.4:
                    partial = day + timedelta(days=length // 2)
                history.append((employee, day, day + timedelta(days=length), partial))
                day += timedelta(days=length + 35 + rng.randint(0, 500))
            # About one in ten changed their hours at the start of this year.
            change_on = date(today.year, 1, 1)
            if rng.random() < 0.1 and employee.employment_start < change_on:
                factor = rng.choice([Decimal("0.5"), Decimal("0.6"), Decimal("0.8"), Decimal(1)])
                hours = employee.employer.full_time_hours
                new_terms.append(
                    EmploymentTerms(
                        tenant=tenant, employee=employee, valid_from=change_on,
                        contract_hours=(factor * hours).quantize(Decimal("0.01")),
                        full_time_hours=hours,
                    )
                )  # fmt: skip
                employee.part_time_factor = factor
                employee.save(update_fields=["part_time_factor"])
        EmploymentTerms.objects.bulk_create(new_terms)
        # A few longer absences of women were pregnancy-related: the figures page shows them as
        # their own percentage, outside the absence percentage. A generator of its own, so the
        # rest of the demo stays as it was.
        pregnancy = random.Random(2018)  # noqa: S311 - demo data, not a secret
        kinds = [
            CaseType.PREGNANCY
            if employee.gender == Gender.FEMALE
            and (back - first).days >= 14
            and pregnancy.random() < 0.15
            else CaseType.SICKNESS
            for employee, first, back, _partial in history
        ]
        cases = AbsenceCase.objects.bulk_create(
            AbsenceCase(
                tenant=tenant, employee=employee, first_sick_day=first, recovered_on=back,
                reported_by=reporter, case_type=kind,
            )
            for (employee, first, back, _partial), kind in zip(history, kinds, strict=True)
        )  # fmt: skip
        AbsencePeriod.objects.bulk_create(
            AbsencePeriod(
                tenant=tenant, case=case, starts_on=first, ends_on=back - timedelta(days=1)
            )
            for case, (_employee, first, back, _partial) in zip(cases, history, strict=True)
        )
        IncapacityChange.objects.bulk_create(
            change
            for case, (_employee, first, _back, partial) in zip(cases, history, strict=True)
            for change in [
                IncapacityChange(tenant=tenant, case=case, starts_on=first, percentage=100),
                *(
                    [IncapacityChange(tenant=tenant, case=case, starts_on=partial, percentage=50)]
                    if partial
                    else []
                ),
            ]
        )
        Milestone.objects.bulk_create(
            Milestone(tenant=tenant, case=case, kind=kind, due_on=due_on, done_on=due_on)
            for case, (_employee, first, back, _partial) in zip(cases, history, strict=True)
            for kind, due_on in poortwachter.due_dates([(first, back - timedelta(days=1))]).items()
        )

    def seed_demo_arbo_extras(self, rng: random.Random, tenant: Tenant, users: dict) -> None:
        # The case manager handles about half of the arbodienst's open cases.
        case_manager = users["casemanager@demo.test"]
        open_cases = AbsenceCase.objects.filter(
            tenant=tenant, recovered_on__isnull=True
        ).select_related("employee")
        for case in open_cases:
            if rng.random() < 0.5:
                assign_perm(f"employees.{CASE_MANAGER_GRANT}", case_manager, case.employee)
        # The company doctor's medical access went through the four-eyes rule and the BIG check.
        doctor = users["bedrijfsarts@demo.test"]
        RoleAssignment.objects.filter(user=doctor).update(
            requested_by=users["beheer@demo.test"], decided_by=users["beheer2@demo.test"],
            decided_at=timezone.now(), status=AssignmentStatus.ACTIVE,
        )  # fmt: skip
        BigRegistration.objects.create(
            tenant=tenant, user=doctor, big_number=DEMO_BIG_NUMBER, status=BigCheckStatus.VERIFIED,
            checked_at=timezone.now(),
        )  # fmt: skip
        # The company doctor's notes: medical ones (sealed) and advice in general terms.
        for case in AbsenceCase.objects.filter(tenant=tenant, recovered_on__isnull=True).order_by(
            "first_sick_day"
        )[:12]:
            case_services.add_medical_note(
                case=case, by=doctor,
                text=rng.choice(MEDICAL_NOTES) + " Controle over vier weken.",
            )  # fmt: skip
            case_services.add_note(case=case, by=doctor, text=rng.choice(ADVICE_NOTES))
        for case in cases_visible_to(case_manager, Perm.NOTE_WRITE).filter(
            recovered_on__isnull=True
        )[:20]:
            case_services.add_note(case=case, by=case_manager, text=rng.choice(CASE_MANAGER_NOTES))
        # A role carried over from an old set-up, still to be placed in a domain.
        Role.objects.create(
            tenant=tenant, name="Salarisadministratie (oud)", domain="",
            permissions=[Perm.EMPLOYEE_VIEW, Perm.CASE_VIEW, Perm.EMPLOYEE_EXPORT],
        )  # fmt: skip

    def seed_retention(self, rng: random.Random, tenant: Tenant, users: dict, by_name) -> None:
        """Former employees whose data is past its retention term, so the retention overview has
        something to show: leavers of more than two years ago (absence data, master data), at
        the ERD-ZW employer (five years after recovery), a WGA case (at an employer bearing the
        WGA risk, ten years), a legal hold, and a medical file last changed over 20 years ago."""
        today = timezone.localdate()
        hr, doctor = users["hr@demo.test"], users["bedrijfsarts@demo.test"]
        bakery = by_name["Bakkerij De Gouden Korenaar B.V."]
        care = by_name["Zorggroep Rivierenland"]
        years = lambda n: timedelta(days=round(n * 365.25))  # noqa: E731
        # (employer, years since leaving, years since the case began, days sick)
        leavers = [
            (bakery, 3, 4, 30), (bakery, 4, 6, 12), (bakery, 2.5, 3, 90), (bakery, 5, 7, 20),
            (care, 3, 7, 45), (care, 6, 8, 15), (care, 2.2, 2.8, 60),
            (bakery, 13, 15, 800),  # WGA: longer than 104 weeks at an own-risk bearer
            (bakery, 12, 23, 40),  # its medical file was last changed 21 years ago
        ]  # fmt: skip
        number = 90000
        made = []
        for employer, left, sick, days in leavers:
            number += 1
            first_day = today - years(sick)
            employee = self.make_employee(rng, tenant, employer, [None], number)
            employee.department = None
            employee.employment_start = first_day - years(3)
            employee.employment_end = None
            employee.save()
            case = case_services.report_sick(
                employee=employee, by=hr, first_sick_day=first_day,
                contact_phone=f"06{rng.randint(10000000, 99999999)}",
            )  # fmt: skip
            case_services.report_recovery(case=case, by=hr, on=first_day + timedelta(days=days))
            Employee.objects.filter(pk=employee.pk).update(employment_end=today - years(left))
            made.append((employee, case))
        old_employee, old_case = made[-1]
        note = case_services.add_medical_note(
            case=old_case, by=doctor, text=rng.choice(MEDICAL_NOTES)
        )
        type(note).objects.filter(pk=note.pk).update(created_at=timezone.now() - years(21))
        held, _case = made[0]
        LegalHold.objects.create(
            tenant=tenant, employee=held, reason=HoldReason.LABOUR_CONFLICT,
            ends_on=today + timedelta(days=180), placed_by=hr,
        )  # fmt: skip

    def build_departments(
        self, tenant: Tenant, employer: Employer, tree: dict, index: dict
    ) -> list[Department]:
        """Create an employer's department tree; returns the leaves, indexes all by name."""
        leaves = []
        for name, children in tree.items():
            parent = Department.objects.create(tenant=tenant, employer=employer, name=name)
            index[(employer.name, name)] = parent
            if not children:
                leaves.append(parent)
            for child in children:
                department = Department.objects.create(
                    tenant=tenant, employer=employer, parent=parent, name=child
                )
                index[(employer.name, child)] = department
                leaves.append(department)
        return leaves

    def make_employee(self, rng, tenant, employer, departments, number: int) -> Employee:
        female = rng.random() < 0.55
        first = rng.choice(FEMALE if female else MALE)
        prefix, surname = rng.choice(SURNAMES)
        birth = date(1960, 1, 1) + timedelta(days=rng.randint(0, 44 * 365))
        start = max(birth + timedelta(days=18 * 365), date(1995, 1, 1)) + timedelta(
            days=rng.randint(0, 3650)
        )
        start = min(start, date(2026, 6, 1))
        end = None
        if rng.random() < 0.06:
            end = start + timedelta(days=rng.randint(200, 2500))
            end = end if end < date(2026, 10, 31) else None
        employee = Employee(
            tenant=tenant,
            employer=employer,
            department=rng.choice(departments),
            personnel_number=f"{number:05d}",
            initials=f"{first[0]}.",
            first_name=first,
            surname_prefix=prefix,
            surname=surname,
            birth_date=birth,
            postcode=random_postcode(rng),
            employment_start=start,
            employment_end=end,
            part_time_factor=rng.choice(
                [
                    Decimal("1.000"),
                    Decimal("0.800"),
                    Decimal("0.889"),
                    Decimal("0.600"),
                    Decimal("0.500"),
                ]
            ),
            gender=Gender.FEMALE if female else Gender.MALE,
        )
        # A BSN only where the environment has a legal ground for one (M24).
        if tenant.bsn_allowed and rng.random() < 0.7:
            employee.set_bsn(valid_bsn(rng))
        return employee

    def print_accounts(self) -> None:
        self.stdout.write(f"\nDemo accounts (password for all: {DEMO_PASSWORD})")
        for tenant_name, personas in PERSONAS.items():
            for email, _first, _last, account_type, role_key, _scope in personas:
                label = (
                    REFERENCE_ROLES_BY_KEY[role_key].name
                    if role_key
                    else AccountType(account_type).label
                )
                self.stdout.write(f"  {email:<26} {tenant_name:<12} {label}")
        self.stdout.write(
            "Every account starts without two-step verification: "
            "the first login walks through the set-up.\n"
        )
        if settings.SMS_BACKEND.endswith("FileBackend"):
            self.stdout.write(f"SMS codes are not sent here: they go to {settings.SMS_FILE_PATH}\n")
