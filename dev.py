#!/usr/bin/env python3
"""Set-up and run Verzuim on a machine that has only Python >= 3.11.

    python3 dev.py demo      # install, start the app with demo data on http://localhost:8000
    python3 dev.py test      # install, run the whole test suite (extra arguments go to pytest)
    python3 dev.py manage X  # any manage.py command (create_environment, audit_verify, ...)
                             # against the demo's database: embedded, or DATABASE_URL
    python3 dev.py lint      # ruff check and format --check, lint-imports, mypy, as CI runs them
    python3 dev.py lock      # developers: regenerate requirements.lock from pyproject.toml

Everything is installed into .venv from the hashed lock file. Without DATABASE_URL an embedded
PostgreSQL (the pgserver package) runs under var/pgdata; with DATABASE_URL / REDIS_URL set, those
servers are used instead. This file uses the standard library only until it runs inside .venv.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
VENV_PYTHON = VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
LOCK = ROOT / "requirements.lock"
STAMP = VENV / ".lock-sha256"
VAR = ROOT / "var"


def log(message: str) -> None:
    print(f"[verzuim] {message}", flush=True)


def run(*args: str | Path, env: dict[str, str] | None = None) -> None:
    subprocess.run([str(a) for a in args], check=True, cwd=ROOT, env=env)  # noqa: S603


def ensure_venv() -> None:
    """Create .venv and install the locked dependencies when the lock file changed."""
    if sys.version_info < (3, 11):  # noqa: UP036 - this file must run on any python3 to say so
        sys.exit("Verzuim needs Python 3.11 or newer.")
    if not VENV_PYTHON.exists():
        log("creating .venv")
        venv.EnvBuilder(with_pip=True).create(VENV)
    wanted = hashlib.sha256(LOCK.read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text().strip() == wanted:
        return
    log("installing dependencies from requirements.lock (first run takes a minute)")
    run(VENV_PYTHON, "-m", "pip", "install", "--quiet", "--upgrade", "pip")
    run(VENV_PYTHON, "-m", "pip", "install", "--quiet", "--require-hashes", "-r", LOCK)
    STAMP.write_text(wanted)


def reexec_in_venv() -> None:
    if Path(sys.prefix).resolve() != VENV.resolve():
        os.execv(str(VENV_PYTHON), [str(VENV_PYTHON), __file__, *sys.argv[1:]])  # noqa: S606


def database_environment() -> dict[str, str]:
    """Environment for Django: DATABASE_URL from the caller, or an embedded PostgreSQL.

    The embedded server belongs to this launcher process and stops when it exits; child
    processes (runserver, pytest) reach it over its Unix socket through DATABASE_URL.
    """
    env = dict(os.environ)
    if env.get("DATABASE_URL"):
        log("using DATABASE_URL")
        return env
    import warnings

    # pgserver's lock lives in the user's runtime folder; without XDG_RUNTIME_DIR it says so loudly.
    warnings.filterwarnings("ignore", module="platformdirs")
    import pgserver  # only inside .venv

    VAR.mkdir(exist_ok=True)
    server = pgserver.get_server(VAR / "pgdata", cleanup_mode="stop")
    env["DATABASE_URL"] = server.get_uri("postgres")
    log(f"embedded PostgreSQL running in {VAR / 'pgdata'}")
    return env


def manage(*args: str, env: dict[str, str]) -> None:
    run(VENV_PYTHON, ROOT / "manage.py", *args, env=env)


def demo(extra: list[str]) -> None:
    env = database_environment()
    env.setdefault("VERZUIM_ENV", "development")
    if not env.get("REDIS_URL"):
        log("no REDIS_URL: background tasks run in-process (see README)")
    manage("compile_catalogues", env=env)
    manage("ensure_audit_database", env=env)
    manage("migrate", "--no-input", "-v", "0", env=env)
    manage("migrate", "--database", "audit", "--no-input", "-v", "0", env=env)
    manage("seed_demo", env=env)
    address = extra[0] if extra else "localhost:8000"
    log(f"serving on http://{address}/ (Ctrl+C stops)")
    with contextlib.suppress(KeyboardInterrupt):
        manage("runserver", address, env=env)


def manage_command(extra: list[str]) -> int:
    """Run one manage.py command against the same database the demo uses."""
    env = database_environment()
    env.setdefault("VERZUIM_ENV", "development")
    completed = subprocess.run(  # noqa: S603
        [str(VENV_PYTHON), str(ROOT / "manage.py"), *extra], cwd=ROOT, env=env, check=False
    )
    return completed.returncode


def test(extra: list[str]) -> int:
    env = database_environment()
    env["VERZUIM_ENV"] = "test"
    manage("compile_catalogues", env=env)
    if not any(arg.startswith(("-n", "--numprocesses")) for arg in extra):
        # One test process per core (pytest-xdist), each with its own test databases and Redis
        # database; `python3 dev.py test -n 0 ...` runs in one process, e.g. for a debugger.
        extra = ["--numprocesses", "auto", *extra]
    completed = subprocess.run(  # noqa: S603
        [str(VENV_PYTHON), "-m", "pytest", *extra], cwd=ROOT, env=env, check=False
    )
    return completed.returncode


def lint() -> int:
    """Every static check, all of them run even when one fails; non-zero when any failed."""
    # mypy's Django plugin imports the settings: the test profile needs no secrets and no server.
    env = {**os.environ, "VERZUIM_ENV": "test"}
    lint_imports = VENV_PYTHON.with_name("lint-imports.exe" if os.name == "nt" else "lint-imports")
    checks: list[list[str | Path]] = [
        [VENV_PYTHON, "-m", "ruff", "check", "."],
        [VENV_PYTHON, "-m", "ruff", "format", "--check", "."],
        [lint_imports],  # the layers in pyproject.toml
        [VENV_PYTHON, "-m", "mypy", "."],  # files and strictness in pyproject.toml
    ]
    failed = 0
    for command in checks:
        log(" ".join(str(part) for part in [Path(command[0]).name, *command[1:]]))
        completed = subprocess.run([str(part) for part in command], cwd=ROOT, env=env, check=False)  # noqa: S603
        failed = failed or completed.returncode
    return failed


def lock() -> None:
    run(VENV_PYTHON, "-m", "pip", "install", "--quiet", "uv")
    run(
        VENV_PYTHON, "-m", "uv", "pip", "compile", "pyproject.toml", "--extra", "dev",
        "--universal", "--generate-hashes", "--python-version", "3.11",
        "-o", "requirements.lock", "-q",
    )  # fmt: skip


def main() -> int:
    command, extra = (sys.argv[1] if len(sys.argv) > 1 else ""), sys.argv[2:]
    if command not in {"demo", "test", "lint", "lock", "manage"}:
        print(__doc__)
        return 2
    ensure_venv()
    reexec_in_venv()
    if command == "demo":
        demo(extra)
        return 0
    if command == "lock":
        lock()
        return 0
    if command == "lint":
        return lint()
    if command == "manage":
        return manage_command(extra)
    return test(extra)


if __name__ == "__main__":
    sys.exit(main())
