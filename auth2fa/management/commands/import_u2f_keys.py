"""Take over FIDO U2F keys registered in a previous system (seed 002: "USB-sleutel", FIDO U2F).

Input: a CSV file (semicolon-separated, with a header) with per key the user's e-mail address,
the key handle and the raw public key (both base64url, as U2F registration data holds them), the
last signature counter and a name. The keys are scoped to the old system's AppID, which must be
the WEBAUTHN_U2F_APPID setting; they sign in through the browser's `appid` extension.

    python manage.py import_u2f_keys keys.csv

Each row is checked before anything is stored; one bad row stops the import with its line number.
"""

from __future__ import annotations

import csv
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from fido2.utils import websafe_decode

from audit.events import record_event
from auth2fa.models import SecurityKey, User
from auth2fa.webauthn import import_u2f_key

COLUMNS = ["email", "key_handle", "public_key", "counter", "name"]
# A U2F public key is an uncompressed P-256 point: 0x04, then 32 bytes of x and 32 of y.
P256_POINT_LENGTH = 65
UNCOMPRESSED = 0x04


class Command(BaseCommand):
    help = "Import FIDO U2F keys (key handle and public key) from a previous system."

    def add_arguments(self, parser):
        parser.add_argument("csv_file", type=Path)

    def handle(self, *args, csv_file: Path, **options):
        appid = settings.WEBAUTHN_U2F_APPID
        if not appid.startswith("https://"):
            raise CommandError("Set WEBAUTHN_U2F_APPID to the old system's https AppID first.")
        rows = self._read(csv_file)
        with transaction.atomic():
            for line, user, key_handle, public_key, counter, name in rows:
                if SecurityKey.objects.filter(user=user, name=name).exists():
                    raise CommandError(f"Line {line}: this user already has a key of that name.")
                key = import_u2f_key(
                    user=user, key_handle=key_handle, public_key=public_key,
                    appid=appid, name=name, counter=counter,
                )  # fmt: skip
                record_event("2fa.u2f_import", "E", obj=key, tenant=user.tenant)
        self.stdout.write(f"Imported {len(rows)} U2F key(s).")

    def _read(self, csv_file: Path) -> list[tuple]:
        try:
            text = csv_file.read_text(encoding="utf-8-sig")
        except OSError as error:
            raise CommandError(f"Cannot read {csv_file}: {error.strerror}") from error
        reader = csv.DictReader(text.splitlines(), delimiter=";")
        if reader.fieldnames != COLUMNS:
            raise CommandError(f"The header must be: {';'.join(COLUMNS)}")
        rows = []
        for line, row in enumerate(reader, start=2):
            user = User.objects.filter(email=(row["email"] or "").strip().lower()).first()
            if user is None:
                raise CommandError(f"Line {line}: no user with this e-mail address.")
            try:
                key_handle = websafe_decode(row["key_handle"].strip())
                public_key = websafe_decode(row["public_key"].strip())
                counter = int(row["counter"] or 0)
            except (ValueError, TypeError) as error:
                raise CommandError(f"Line {line}: {error}") from error
            if (
                len(public_key) != P256_POINT_LENGTH
                or public_key[0] != UNCOMPRESSED
                or not key_handle
            ):
                raise CommandError(f"Line {line}: not a U2F key handle and P-256 public key.")
            rows.append((line, user, key_handle, public_key, counter, row["name"].strip()[:64]))
        return rows
