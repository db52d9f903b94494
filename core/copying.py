"""Bulk writes through PostgreSQL's COPY ... FROM STDIN, with the rows written out in COPY's
text format here instead of by psycopg's `write_row`.

Why: `write_row` looks up a dumper for every value of every row; at 100,000 employees of 22
columns (plus their terms and 200,000 change events) that cost more than PostgreSQL spent
storing them (bench/imports.py). Formatting by the value's exact type and sending the batch as
one block does the same in a fraction of the time. Values are only what our bulk writers
produce: text, None, booleans, numbers, UUIDs, dates, datetimes and bytes.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import connection

# COPY's text format: a backslash and the separators (tab, line ends) are escaped, NULL is \N.
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _text(value: str) -> str:
    return value.translate(_ESCAPES)


def _null(_value: None) -> str:
    return "\\N"


def _boolean(value: bool) -> str:
    return "t" if value else "f"


def _bytes(value: bytes | memoryview) -> str:
    return "\\\\x" + bytes(value).hex()  # bytea's hex format, its backslash escaped for COPY


_FORMATS: dict[type, Callable[[Any], str]] = {
    str: _text,
    type(None): _null,
    bool: _boolean,
    int: str,
    Decimal: str,
    uuid.UUID: str,
    datetime: datetime.isoformat,  # before date, its base class, for _format's isinstance
    date: date.isoformat,
    bytes: _bytes,
    memoryview: _bytes,
}


def _format(value: Any) -> str:
    """A value of a subclass of the types above (a lazy string, a Django SafeString, an enum)."""
    for kind, format_value in _FORMATS.items():
        if kind is not type(None) and isinstance(value, kind):
            return format_value(value)
    raise TypeError(f"CopyData cannot write a {type(value).__name__}")


def copy_line(row: Sequence[Any]) -> str:
    formats = _FORMATS
    return "\t".join([formats.get(value.__class__, _format)(value) for value in row]) + "\n"


@dataclass(frozen=True)
class CopyData:
    """Rows written out in COPY's text format for one table, to be sent later: formatting
    needs no connection, so a bulk writer can format the next batch in a worker thread while
    the connection sends this one (imports/services.py)."""

    table: str
    columns: tuple[str, ...]
    text: str

    @classmethod
    def of(cls, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> CopyData:
        """The rows (values in the order of `columns`) formatted for `table`."""
        return cls(table, tuple(columns), "".join([copy_line(row) for row in rows]))

    def send(self) -> None:
        """COPY the rows into the table, in the current transaction of the default connection."""
        if not self.text:
            return
        statement = f"COPY {self.table} ({', '.join(self.columns)}) FROM STDIN"
        with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
            copy.write(self.text)


def new_keys(count: int) -> list[str]:
    """`count` random (version 4) UUIDs as text, as uuid.uuid4() would give them: for bulk
    writes, where building a UUID object per row cost more than the row's insert."""
    raw = bytearray(os.urandom(16 * count))
    raw[6::16] = bytes((byte & 0x0F) | 0x40 for byte in raw[6::16])  # version 4
    raw[8::16] = bytes((byte & 0x3F) | 0x80 for byte in raw[8::16])  # RFC 4122 variant
    digits = raw.hex()
    return [
        f"{digits[i : i + 8]}-{digits[i + 8 : i + 12]}-{digits[i + 12 : i + 16]}-"
        f"{digits[i + 16 : i + 20]}-{digits[i + 20 : i + 32]}"
        for i in range(0, 32 * count, 32)
    ]
