"""Demo data: two tenants with employers, departments, employees and one account per persona.

Runs once: when the demo tenant exists it only prints the accounts. The data is random but
reproducible (fixed seed) and fictitious; the BSNs pass the 11-proef but belong to nobody known.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal

from django.core.management.base import BaseCommand
from django.db import transaction

from auth2fa.models import AccountType, User
from domains.models import Department, Domain, Employer, Role, RoleAssignment, Tenant
from employees.models import Employee
from verzuim.tenancy import tenant_scope

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

ROLES = [
    ("HR-medewerker", Domain.WERKGEVER),
    ("Leidinggevende", Domain.WERKGEVER),
    ("Casemanager", Domain.ARBODIENST),
    ("Schadebehandelaar", Domain.VERZEKERAAR),
    ("Bedrijfsarts", Domain.BEDRIJFSARTS),
]

# email, first name, last name, account type, role (None for functional admin / auditor)
PERSONAS = {
    "Demo Arbo": [
        ("hr@demo.test", "Hanneke", "Rozendaal", AccountType.MEMBER, "HR-medewerker"),
        ("manager@demo.test", "Marco", "van Essen", AccountType.MEMBER, "Leidinggevende"),
        ("casemanager@demo.test", "Carla", "Wessels", AccountType.MEMBER, "Casemanager"),
        ("bedrijfsarts@demo.test", "Bart", "Oosterhuis", AccountType.MEMBER, "Bedrijfsarts"),
        ("verzekeraar@demo.test", "Vera", "Zwart", AccountType.MEMBER, "Schadebehandelaar"),
        ("beheer@demo.test", "Bernard", "Hofman", AccountType.FUNCTIONAL_ADMIN, None),
        ("auditor@demo.test", "Aukje", "Terpstra", AccountType.AUDITOR, None),
    ],
    "Andere Arbo": [
        ("hr@andere.test", "Hilde", "Andringa", AccountType.MEMBER, "HR-medewerker"),
    ],
}


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
        if not Tenant.objects.filter(name="Demo Arbo").exists():
            self.seed()
        self.print_accounts()

    @transaction.atomic
    def seed(self) -> None:
        rng = random.Random(2018)  # the year the AVG updates of seed 002 began
        for tenant_name, employers in ORGANISATIONS.items():
            tenant = Tenant.objects.create(name=tenant_name)
            with tenant_scope(tenant):
                roles = {
                    name: Role.objects.create(tenant=tenant, name=name, domain=domain)
                    for name, domain in ROLES
                }
                for employer_name, (count, tree) in employers.items():
                    employer = Employer.objects.create(tenant=tenant, name=employer_name)
                    leaves = self.build_departments(tenant, employer, tree)
                    Employee.objects.bulk_create(
                        self.make_employee(rng, tenant, employer, leaves, number)
                        for number in range(1, count + 1)
                    )
                for email, first, last, account_type, role_name in PERSONAS[tenant_name]:
                    user = User.objects.create_user(
                        email, DEMO_PASSWORD, tenant=tenant, first_name=first, last_name=last,
                        account_type=account_type,
                    )  # fmt: skip
                    if role_name:
                        RoleAssignment.objects.create(
                            tenant=tenant, user=user, role=roles[role_name]
                        )
        self.stdout.write(self.style.SUCCESS("Demo data created."))

    def build_departments(self, tenant: Tenant, employer: Employer, tree: dict) -> list[Department]:
        leaves = []
        for name, children in tree.items():
            parent = Department.objects.create(tenant=tenant, employer=employer, name=name)
            if not children:
                leaves.append(parent)
            for child in children:
                leaves.append(
                    Department.objects.create(
                        tenant=tenant, employer=employer, parent=parent, name=child
                    )
                )
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
        return Employee(
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
            bsn=valid_bsn(rng) if rng.random() < 0.7 else None,
        )

    def print_accounts(self) -> None:
        self.stdout.write(f"\nDemo accounts (password for all: {DEMO_PASSWORD})")
        for tenant_name, personas in PERSONAS.items():
            for email, _first, _last, account_type, role_name in personas:
                label = role_name or AccountType(account_type).label
                self.stdout.write(f"  {email:<26} {tenant_name:<12} {label}")
        self.stdout.write(
            "Every account starts without two-step verification: "
            "the first login walks through the set-up.\n"
        )
