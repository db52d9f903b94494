"""Benchmark: importing employees, ours against django-import-export and a raw COPY.

On the same generated files (100,000 and 10,000 new employees, Dutch CSV as the template
makes them), side by side in one run, each in a process of its own (for its peak RSS):
  ours     - imports/services.py: preview (every row through the employee form's rules), then
             commit (checked again under lock, bulk writes, dated terms, change capture into
             the outbox); the outbox drain into the audit store is timed apart;
  ours xlsx- the same rows as an XLSX workbook (our streaming reader of the sheet XML);
  ours update - the monthly refresh: the same rows imported as new (not timed), exported with
             the employee export, every surname and a tenth of the hours changed, and that file
             imported as updates (timed: preview + commit);
  peer     - django-import-export's ModelResource (use_bulk, batch_size 1000, skip_diff,
             force_init_instance: its documented fast path), installed for this run only
             into a temporary directory, never into requirements; it checks and writes less
             (no terms, no form rules, no scope, no audit);
  copy     - PostgreSQL COPY of the same CSV into a scratch table: the physical floor.

Before each variant the database is settled (VACUUM ANALYZE, CHECKPOINT; untimed), so none is
measured while autovacuum works off the writes of the one before.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test REDIS_URL=redis://127.0.0.1:6379/1 \\
        .venv/bin/python bench/imports.py [--rows 100000,10000]

Targets (issue 13): ours >= 5x faster than the peer, within 10x of COPY, peak RSS <= 250 MB
for the 100,000-row XLSX.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "verzuim.settings")
os.environ.setdefault("VERZUIM_ENV", "test")
os.environ["CELERY_TASK_ALWAYS_EAGER"] = "true"  # the import's tasks run in this process
DEPS = Path(tempfile.gettempdir()) / "verzuim-bench-deps"
PEER_PACKAGES = ["django-import-export==4.4.3", "tablib==3.10.0", "diff-match-patch==20241021"]
sys.path.append(str(DEPS))

import django  # noqa: E402

django.setup()

from django.db import DatabaseError, connections  # noqa: E402

BENCH_EMAIL = "bench-import@bench.test"


def ensure_peer() -> None:
    """django-import-export for this run only (a temporary directory, not the environment)."""
    if not (DEPS / "import_export").exists():
        subprocess.run(  # noqa: S603
            [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target",
             str(DEPS), *PEER_PACKAGES],
            check=True,
        )  # fmt: skip


def generate(path: Path, rows: int, employer: str, kind: str) -> None:
    from django.utils import translation

    from employees.exports import columns

    with translation.override("nl"):
        header = columns(with_bsn=False)

    def row(number: int) -> list[str]:
        born = date(1960, 1, 1) + timedelta(days=number % 12000)
        return [
            "", "nieuw", f"B{number:07d}", "A.", "Anna", "de", f"Bench{number}",
            born.strftime("%d-%m-%Y"), "Vrouw", f"{1000 + number % 8999} AB", "", "", employer,
            "", "01-01-2020", "", "32,5", "40",
        ]  # fmt: skip

    if kind == "csv":
        with path.open("w", encoding="utf-8-sig", newline="") as file:
            writer = csv.writer(file, delimiter=";")
            writer.writerow(header)
            writer.writerows(row(n) for n in range(rows))
        return
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Werknemers")
    sheet.append(header)
    for number in range(rows):
        sheet.append(row(number))
    workbook.save(path)


def child(variant: str, path: str, employer_name: str) -> None:
    """One measurement in this process; prints a JSON line."""
    from core.tenancy import all_tenants, tenant_scope

    with all_tenants():
        from auth2fa.models import User

        user = User.objects.select_related("tenant").get(email=BENCH_EMAIL)
    data = Path(path).read_bytes()
    result: dict[str, float | int] = {}
    with tenant_scope(user.tenant_id):
        started = time.perf_counter()
        if variant == "ours update":
            run_ours(user, data, Path(path).name)
            result.update(run_ours(user, update_file(user, employer_name), "update.csv"))
        elif variant.startswith("ours"):
            result.update(run_ours(user, data, Path(path).name))
        elif variant == "peer":
            result.update(run_peer(user, data, employer_name))
        else:
            result.update(run_copy(data))
        result.setdefault("seconds", time.perf_counter() - started)
    result["rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


def run_ours(user, data: bytes, name: str) -> dict[str, float | int]:
    import audit.events
    from audit.models import OutboxEvent
    from audit.tasks import drain_outbox
    from imports import services
    from imports.models import EmployeeImport

    audit.events.wake_drainer = lambda: None  # the drain is timed on its own below
    started = time.perf_counter()
    employee_import = services.start_import(by=user, file_name=name, data=data)  # + preview
    preview = time.perf_counter() - started
    employee_import = EmployeeImport.objects.get(pk=employee_import.pk)
    assert employee_import.status == "previewed", employee_import.message  # noqa: S101
    assert employee_import.refused_count == 0, employee_import.refusals[:3]  # noqa: S101
    services.request_commit(
        employee_import=employee_import, by=user, file_hash_seen=employee_import.file_hash,
        skip_refused=False,
    )  # fmt: skip
    total = time.perf_counter() - started
    employee_import = EmployeeImport.objects.get(pk=employee_import.pk)
    assert employee_import.status == "committed", employee_import.message  # noqa: S101
    events = OutboxEvent.objects.count()
    drain_started = time.perf_counter()
    drain_outbox()
    drain = time.perf_counter() - drain_started
    return {"seconds": total, "preview": preview, "commit": total - preview,
            "events": events, "drain": drain}  # fmt: skip


def update_file(user, employer_name: str) -> bytes:
    """The employer's employees as the employee export gives them (the import's template),
    every surname changed and the contract hours of every tenth employee."""
    from django.utils import translation

    from employees import exports
    from employees.models import Employee

    employees = Employee.objects.filter(employer__name=employer_name).order_by("pk")
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";")
    with translation.override("nl"):
        writer.writerow(exports.columns(with_bsn=False))
        for number, row in enumerate(
            exports.rows(employees, tenant_id=user.tenant_id, with_bsn=False, dates_as_text=True)
        ):
            row[6] = f"{row[6]}-b"  # surname
            if number % 10 == 0:
                row[16] = "24"  # contract hours
            writer.writerow(row)
    return buffer.getvalue().encode("utf-8-sig")


def run_peer(user, data: bytes, employer_name: str) -> dict[str, float | int]:
    import tablib
    from import_export import fields, resources, widgets

    from domains.models import Employer
    from employees.models import Employee

    employer = Employer.objects.get(tenant_id=user.tenant_id, name=employer_name)
    day = widgets.DateWidget(format="%d-%m-%Y")

    class EmployeeResource(resources.ModelResource):
        personnel_number = fields.Field("personnel_number", "Personeelsnummer")
        initials = fields.Field("initials", "Voorletters")
        first_name = fields.Field("first_name", "Voornaam")
        surname_prefix = fields.Field("surname_prefix", "Tussenvoegsel")
        surname = fields.Field("surname", "Achternaam")
        birth_date = fields.Field("birth_date", "Geboortedatum", widget=day)
        postcode = fields.Field("postcode", "Postcode")
        employment_start = fields.Field("employment_start", "Datum in dienst", widget=day)
        employer = fields.Field(
            "employer", "Werkgever", widget=widgets.ForeignKeyWidget(Employer, "name")
        )

        class Meta:
            model = Employee
            fields = ("personnel_number", "initials", "first_name", "surname_prefix", "surname",
                      "birth_date", "postcode", "employment_start", "employer")  # fmt: skip
            import_id_fields = ("personnel_number",)
            use_bulk = True
            batch_size = 1000
            skip_diff = True
            force_init_instance = True
            skip_unchanged = False

        def init_instance(self, row=None):
            return Employee(tenant_id=employer.tenant_id)

    text = data.decode("utf-8-sig")
    dataset = tablib.Dataset().load(text, format="csv", delimiter=";")
    started = time.perf_counter()
    result = EmployeeResource().import_data(dataset, dry_run=False, use_transactions=True)
    seconds = time.perf_counter() - started
    assert not result.has_errors() and not result.has_validation_errors()  # noqa: S101
    return {"seconds": seconds, "rows": Employee.objects.filter(employer=employer).count()}


def run_copy(data: bytes) -> dict[str, float | int]:
    from django.db import connection

    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE scratch_import (" + ", ".join(f"c{n} text" for n in range(18)) + ")"
        )
        with cursor.cursor.copy(
            "COPY scratch_import FROM STDIN (FORMAT csv, DELIMITER ';', HEADER true)"
        ) as copy:
            copy.write(data.removeprefix(b"\xef\xbb\xbf"))
        cursor.execute("SELECT count(*) FROM scratch_import")
        rows = cursor.fetchone()[0]
    return {"seconds": time.perf_counter() - started, "rows": rows}


def main(sizes: list[int]) -> None:
    from core.tenancy import all_tenants
    from domains.models import Employer, Tenant
    from domains.services import ensure_reference_roles
    from tests.conftest import grant, make_user

    ensure_peer()
    names = {
        alias: connections[alias].creation.create_test_db(
            verbosity=0, autoclobber=True, keepdb=False
        )
        for alias in ("default", "audit")
    }
    env = {**os.environ, "DATABASE_URL": _url("default"), "AUDIT_DATABASE_URL": _url("audit")}
    results: dict[tuple[int, str], dict] = {}
    work = Path(tempfile.mkdtemp(prefix="bench-imports-"))
    variants = ["ours", "ours xlsx", "ours update", "peer", "copy"]
    try:
        with all_tenants():
            tenant = Tenant.objects.create(name="Bench imports")
            roles = {role.reference_key: role for role in ensure_reference_roles(tenant)}
            employers = {
                (size, variant): Employer.objects.create(
                    tenant=tenant, name=f"Bench {variant} {size}"
                )
                for size in sizes
                for variant in variants
            }
            hr = make_user(tenant, BENCH_EMAIL)
            grant(hr, roles["hr"], employers=list(employers.values()))
        for size in sizes:
            for variant in variants:
                employer = employers[(size, variant)]
                kind = "xlsx" if variant.endswith("xlsx") else "csv"
                path = work / f"{size}-{variant.replace(' ', '-')}.{kind}"
                generate(path, size, employer.name, kind)
                settle()
                output = subprocess.run(  # noqa: S603
                    [sys.executable, __file__, "--child", variant, str(path), employer.name],
                    env=env, capture_output=True, text=True, check=False,
                )  # fmt: skip
                if output.returncode:
                    sys.exit(f"{variant} {size} failed:\n{output.stderr[-3000:]}")
                results[(size, variant)] = json.loads(output.stdout.strip().splitlines()[-1])
                results[(size, variant)]["bytes"] = path.stat().st_size
                path.unlink()
    finally:
        for alias, name in names.items():
            connections[alias].creation.destroy_test_db(name, verbosity=0)

    print(f"{'rows':>8} {'approach':<42} {'seconds':>8} {'rows/s':>9} {'RSS MB':>7} {'vs ours':>8}")
    for size in sizes:
        ours = results[(size, "ours")]["seconds"]
        labels = {
            "ours": "ours: preview + commit (CSV)",
            "ours xlsx": "ours: preview + commit (XLSX)",
            "ours update": "ours: monthly update, all rows (CSV)",
            "peer": "django-import-export ModelResource (bulk)",
            "copy": "COPY into a scratch table (floor)",
        }
        for variant in variants:
            r = results[(size, variant)]
            print(
                f"{size:>8,} {labels[variant]:<42} {r['seconds']:>8.2f} "
                f"{size / r['seconds']:>9,.0f} {r['rss_mb']:>7.0f} {r['seconds'] / ours:>8.2f}"
            )
        detail = results[(size, "ours")]
        print(
            f"{'':>8} ours in detail: preview {detail['preview']:.2f} s, commit "
            f"{detail['commit']:.2f} s; {detail['events']:,} change events drained into the "
            f"audit store in {detail['drain']:.2f} s"
        )
        update = results[(size, "ours update")]
        print(
            f"{'':>8} monthly update in detail: preview {update['preview']:.2f} s, commit "
            f"{update['commit']:.2f} s ({update['events']:,} change events)"
        )


def settle() -> None:
    """Each variant starts on a settled database, not untimed while autovacuum and the
    checkpointer still work off the variant before it (100,000 rows written, 200,000 change
    events drained and deleted): VACUUM ANALYZE, then a checkpoint where the role may ask one.
    The same for every variant, ours and the peer's."""
    connection = connections["default"]
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE)")
        # Not a superuser nor pg_checkpoint: the checkpoint is left to its schedule.
        with contextlib.suppress(DatabaseError):
            cursor.execute("CHECKPOINT")


def _url(alias: str) -> str:
    config = connections[alias].settings_dict
    host = config["HOST"] or config.get("OPTIONS", {}).get("host", "")
    if host.startswith("/"):
        return f"postgresql://{config['USER']}@/{config['NAME']}?host={host}"
    return f"postgresql://{config['USER']}@{host}:{config['PORT'] or 5432}/{config['NAME']}"


if __name__ == "__main__":
    if "--child" in sys.argv:
        index = sys.argv.index("--child")
        child(*sys.argv[index + 1 : index + 4])
    else:
        sizes = [100_000, 10_000]
        if "--rows" in sys.argv:
            sizes = [int(n) for n in sys.argv[sys.argv.index("--rows") + 1].split(",")]
        main(sizes)
