"""The one way to write a spreadsheet export: CSV or XLSX, every cell formula-safe.

Spreadsheet programs run a cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return
as a formula (CSV injection, OWASP). Every export of this product goes through `safe_cell`, so a
name typed by a user can never become a formula in someone else's spreadsheet.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import IO, Any

from django.http import HttpResponse
from openpyxl import Workbook
from openpyxl.styles import Font

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

Row = Sequence[Any]


def safe_cell(value: Any) -> Any:
    """A text cell that a spreadsheet would run as a formula gets a leading apostrophe."""
    if isinstance(value, str) and value[:1] in FORMULA_STARTS:
        return f"'{value}"
    return value


class SafeCsvWriter:
    """csv.writer whose every cell goes through safe_cell; for exports written row by row."""

    def __init__(self, file: IO[str], *, delimiter: str = ";") -> None:
        self._writer = csv.writer(file, delimiter=delimiter)

    def writerow(self, row: Row) -> None:
        self._writer.writerow([safe_cell(cell) for cell in row])


def write_csv(file: IO[str], header: Row, rows: Iterable[Row], *, delimiter: str = ";") -> None:
    """Stream rows into an open text file (constant memory for large exports)."""
    writer = SafeCsvWriter(file, delimiter=delimiter)
    writer.writerow(header)
    for row in rows:
        writer.writerow(row)


def csv_response(filename: str, header: Row, rows: Iterable[Row]) -> HttpResponse:
    """A download as Dutch Excel opens it: `;`-separated, UTF-8 with a byte-order mark."""
    buffer = io.StringIO()
    write_csv(buffer, header, rows)
    response = HttpResponse("\ufeff" + buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def xlsx_response(
    filename: str, header: Row, rows: Iterable[Row], *, sheet_title: str = "Export"
) -> HttpResponse:
    """A one-sheet workbook with a bold, frozen header row."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = sheet_title[:31]  # Excel's limit
    sheet.append([safe_cell(cell) for cell in header])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append([safe_cell(cell) for cell in row])
    sheet.freeze_panes = "B2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = HttpResponse(buffer.getvalue(), content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def table_response(
    kind: str, name: str, header: Row, rows: Iterable[Row], *, sheet_title: str
) -> HttpResponse:
    """The same table as a download of either kind: `kind` "csv" (`name`.csv) or "xlsx"."""
    if kind == "csv":
        return csv_response(f"{name}.csv", header, rows)
    return xlsx_response(f"{name}.xlsx", header, rows, sheet_title=sheet_title)


def dutch_decimal(value: Any, places: int = 2) -> str:
    """12.5 -> "12,50": the decimal comma Dutch spreadsheets expect in a CSV."""
    return f"{value:.{places}f}".replace(".", ",")
