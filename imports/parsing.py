"""Reading an uploaded employee sheet: CSV (UTF-8 with or without BOM, or Windows-1252 as Excel
writes it; `;` or `,`) or XLSX (imports/xlsx.py, streaming), into rows of cells by column.

The columns are those of the employee export (employees/exports.py), under their English or
Dutch header, in any order after the first two (the unique key and the action). A file that
cannot be read as such a sheet is refused as a whole with a message that names no cell value.
"""

from __future__ import annotations

import csv
import functools
import io
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import translation
from django.utils.translation import gettext as _

from core.exports import FORMULA_STARTS
from employees.exports import columns
from imports.xlsx import FirstSheet, WorkbookTooLarge

# The export's columns, by the name the import gives each (same order as exports.columns).
FIELDS = [
    "key", "action", "personnel_number", "initials", "first_name", "surname_prefix", "surname",
    "birth_date", "gender", "postcode", "email", "phone", "employer", "department",
    "employment_start", "employment_end", "contract_hours", "full_time_hours", "bsn",
]  # fmt: skip
OPTIONAL = {"bsn"}
DATES = {"birth_date", "employment_start", "employment_end"}
DECIMALS = {"contract_hours", "full_time_hours"}
MAX_CELL = 1000  # characters; no field of an employee is longer (a 10 MB cell is refused)
MAX_ROWS = 200_000
SNIFF_BYTES = 64 * 1024
XLSX_MAGIC = b"PK\x03\x04"
# A number (or a phone number such as "+31 6 1234 5678") is harmless text even when it starts
# with + or -; anything else starting with a formula character is a formula.
PLAIN_NUMBER = re.compile(r"^[+-][\d\s().,]*$")
EXCEL_EPOCH = date(1899, 12, 30)
EXCEL_LAST_SERIAL = 200_000  # a serial number beyond the year 2400 is no date
# Our exports (core.exports.safe_cell) put an apostrophe before a text that a spreadsheet would
# run as a formula ("'+31612345678"): the import takes the text back without it, so export ->
# edit -> import is lossless. A cell that starts with the formula character itself is refused.
FORMULA_CHARACTERS = frozenset(FORMULA_STARTS)
# A cell starting with one of these needs a closer look (a formula, or our export's quoting).
SPECIAL_STARTS = FORMULA_CHARACTERS | {"'"}
TEXT, DATE, DECIMAL = "text", "date", "decimal"  # how a column's cells are read
XML_ROW = re.compile(rb"<(?:\w+:)?row[ >]")
DUTCH_DATE = re.compile(r"(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})")


class FileRefused(ValidationError):
    """The file as a whole cannot be imported; nothing of it is read further."""


@dataclass
class Row:
    number: int  # as the spreadsheet numbers it (the header is row 1)
    cells: dict[str, str]  # field name -> text as the form takes it
    formulas: set[str]  # fields whose cell was a formula (its text is not kept)
    too_long: set[str]


def _normal(header: Any) -> str:
    return " ".join(str(header or "").split()).casefold()


def header_names() -> dict[str, str]:
    """Every header the import understands (English and Dutch) -> field name."""
    names: dict[str, str] = {}
    for language in ("en", "nl"):
        with translation.override(language):
            names.update(zip(map(_normal, columns(with_bsn=True)), FIELDS, strict=True))
    return names


def detect_format(data: bytes, file_name: str) -> str:
    if data.startswith(XLSX_MAGIC):
        return "xlsx"
    if file_name.lower().endswith((".xlsx", ".xlsm")):
        raise FileRefused(_("This file is not a valid Excel workbook."), code="not_xlsx")
    return "csv"


def _decode(data: bytes) -> str:
    if b"\x00" in data[:SNIFF_BYTES]:
        raise FileRefused(_("This file is not a CSV or Excel file."), code="binary")
    try:
        return data.decode("utf-8-sig")  # with or without a byte-order mark (no copy of it)
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")  # as Excel saves "CSV (gescheiden door lijstscheidingsteken)"
    except UnicodeDecodeError:
        raise FileRefused(
            _("The file's text encoding cannot be read; save it as UTF-8 CSV."), code="encoding"
        ) from None


def _csv_rows(data: bytes, sizes: list[int] | None) -> Iterator[list[Any]]:
    text = _decode(data)
    if sizes is not None:
        sizes.append(text.count("\n"))  # lines, less the header, plus one without a break
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") >= first_line.count(",") else ","
    csv.field_size_limit(MAX_CELL * 20)  # a longer cell is refused below, not read whole
    # Line by line out of the text: a StringIO would hold a second copy of it, four bytes a
    # character. Only a file with nothing but old Mac line ends ("\r") needs one.
    lines = _lines(text) if "\n" in text else io.StringIO(text, newline="")
    try:
        yield from csv.reader(lines, delimiter=delimiter)
    except csv.Error:
        raise FileRefused(
            _("The file is not a valid CSV file (a cell is too long or unclosed)."), code="csv"
        ) from None


def _lines(text: str) -> Iterator[str]:
    """The lines of a text, each with its line end (the csv module joins the lines of a
    quoted cell itself)."""
    start, end = 0, len(text)
    while start < end:
        stop = text.find("\n", start)
        if stop == -1:
            yield text[start:]
            return
        yield text[start : stop + 1]
        start = stop + 1


def _xlsx_rows(data: bytes, sizes: list[int] | None) -> Iterator[list[Any]]:
    # A damaged workbook fails anywhere in zipfile, zlib, expat or our reader, and with any of
    # their exceptions: each is the same answer to the person, a file we cannot read.
    refused = FileRefused(_("This file is not a valid Excel workbook."), code="not_xlsx")
    too_large = FileRefused(
        _("This workbook is too large when unpacked; split it into smaller files."),
        code="xlsx_too_large",
    )
    try:
        sheet = FirstSheet(data)
    except WorkbookTooLarge:
        raise too_large from None
    except Exception:  # noqa: BLE001 - see above
        raise refused from None
    try:
        with sheet:
            if sizes is not None:
                sizes.append(sheet.max_row or _count_xml_rows(data, sheet.path))
            yield from sheet.rows()
    except FileRefused:
        raise
    except WorkbookTooLarge:
        raise too_large from None
    except Exception:  # noqa: BLE001 - see above
        raise refused from None


def _count_xml_rows(data: bytes, path: str) -> int:
    """The rows of a worksheet that states no dimension (as openpyxl's write-only mode saves
    it), counted in its XML without parsing it: an estimate for the progress bar."""
    count, tail = 0, b""
    with zipfile.ZipFile(io.BytesIO(data)) as archive, archive.open(path) as sheet:
        while chunk := sheet.read(1 << 20):
            buffer = tail + chunk
            # A tag inside the overlap was counted with the previous chunk; one cut by the
            # chunk's end is counted now.
            count += sum(1 for m in XML_ROW.finditer(buffer) if m.end() > len(tail))
            tail = buffer[-16:]
    return count


def _text(value: Any) -> str:
    if isinstance(value, str):  # every CSV cell, most workbook cells
        return value.strip()
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _date(value: Any) -> str:
    """Dutch dates (dd-mm-jjjj, also with / or .), Excel dates and serial numbers -> ISO."""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and 0 < value < EXCEL_LAST_SERIAL
    ):
        return (EXCEL_EPOCH + timedelta(days=int(value))).isoformat()
    return _date_text(_text(value))


@functools.lru_cache(maxsize=16384)  # a sheet repeats its dates (start dates, birth dates)
def _date_text(text: str) -> str:
    match = DUTCH_DATE.fullmatch(text)
    if match:
        day, month, year = (int(part) for part in match.groups())
        try:
            return date(year, month, day).isoformat()
        except ValueError:
            return text  # the form says the date is invalid
    return text


def _decimal(value: Any) -> str:
    """Dutch decimal comma ("32,5", "1.234,5") or an Excel number -> "32.5"."""
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        try:
            return f"{Decimal(str(value)).normalize():f}"
        except InvalidOperation:
            return str(value)
    text = _text(value).replace(" ", "")
    if "," in text:
        text = text.replace(".", "").replace(",", ".")
    return text


def raw_rows(data: bytes, file_name: str, sizes: list[int] | None = None) -> Iterator[list[Any]]:
    """Every row of the file's (first) sheet as its cells, the header included, unchecked.
    `sizes` hears the sheet's estimated number of rows before the first is read; without it no
    estimate is made (for a workbook that states no dimension it is a second pass over the
    sheet's XML)."""
    if detect_format(data, file_name) == "xlsx":
        return _xlsx_rows(data, sizes)
    return _csv_rows(data, sizes)


def read_rows(
    data: bytes,
    file_name: str,
    *,
    bsn_allowed: bool,
    on_estimate: Callable[[int], None] | None = None,
) -> Iterator[Row]:
    """The data rows of the sheet, streamed; FileRefused before the first row if the header
    does not name the import's columns, or has a BSN column where the tenant records no BSN
    (the column is refused as a whole, so not one number of it is read). `on_estimate` hears
    about how many rows follow the header, before the first is read (for the progress bar)."""
    file_kind = detect_format(data, file_name)
    sizes: list[int] | None = [] if on_estimate is not None else None  # a commit knows its rows
    raw = raw_rows(data, file_name, sizes)
    header = next(raw, None)
    if header is None or not any(_text(cell) for cell in header):
        raise FileRefused(_("The file is empty."), code="empty")
    fields = map_header(header)
    if "bsn" in fields and not bsn_allowed:
        raise FileRefused(
            _("This environment records no BSN: remove the BSN column from the file."),
            code="bsn",
        )
    if on_estimate is not None and sizes:
        on_estimate(max(sizes[0] - 1, 0))
    plan = [
        (index, field, DATE if field in DATES else DECIMAL if field in DECIMALS else TEXT)
        for index, field in enumerate(fields)
        if field is not None
    ]
    texts = [(index, field) for index, field, kind in plan if kind is TEXT]
    dates = [(index, field) for index, field, kind in plan if kind is DATE]
    numbers = [(index, field) for index, field, kind in plan if kind is DECIMAL]
    for number, values in enumerate(raw, start=2):
        if number > MAX_ROWS + 1:
            raise FileRefused(
                _("The file has more than %(max)s rows; split it into smaller files.")
                % {"max": f"{MAX_ROWS:,}".replace(",", ".")},
                code="too_many_rows",
            )
        if file_kind == "csv":  # every cell is text: the common row is checked as a whole
            if not "".join(values).strip():
                continue  # blank lines
            if (
                len(values) >= len(fields)
                and sum(map(len, values)) <= MAX_CELL
                and SPECIAL_STARTS.isdisjoint({value[:1] for value in values})
            ):
                cells = {field: values[index].strip() for index, field in texts}
                for index, field in dates:
                    cells[field] = _date_text(values[index].strip())
                for index, field in numbers:
                    cells[field] = _decimal(values[index])
                yield Row(number, cells, set(), set())
                continue
        elif not any(
            value.strip() if value.__class__ is str else value is not None for value in values
        ):
            continue  # blank lines (Excel leaves them at the end)
        yield _row(number, values, plan)


def _row(number: int, values: list[Any], plan: list[tuple[int, str, str]]) -> Row:
    """A row cell by cell: formulas and overlong cells noted (their text not kept), our
    export's quoting taken off, dates and numbers read as the form takes them."""
    cells: dict[str, str] = {}
    formulas: set[str] = set()
    too_long: set[str] = set()
    width = len(values)
    for index, field, kind in plan:
        value = values[index] if index < width else None
        if value.__class__ is str and value:
            if len(value) > MAX_CELL:
                too_long.add(field)
                cells[field] = ""
                continue
            first = value[0]
            if first in FORMULA_CHARACTERS and not PLAIN_NUMBER.match(value.strip()):
                formulas.add(field)
                cells[field] = ""
                continue
            if first == "'" and value[1:2] in FORMULA_CHARACTERS:
                value = value[1:]  # our export's quoting of text (core.exports.safe_cell)
        if kind is TEXT:
            cells[field] = value.strip() if value.__class__ is str else _text(value)
        elif kind is DATE:
            cells[field] = _date(value)
        else:
            cells[field] = _decimal(value)
    return Row(number, cells, formulas, too_long)


def check_header(data: bytes, file_name: str, *, bsn_allowed: bool) -> None:
    """Refuse at once (FileRefused) a file whose format or header is wrong; the rows are read
    in the background."""
    for _row in read_rows(data, file_name, bsn_allowed=bsn_allowed):
        break


def map_header(header: list[Any]) -> list[str | None]:
    """Field name per column position; FileRefused when columns are missing, unknown, doubled,
    or the first two are not the unique key and the action."""
    names = header_names()
    fields: list[str | None] = []
    unknown: list[str] = []
    for cell in header:
        text = _normal(cell)
        if not text:
            fields.append(None)
            continue
        field = names.get(text)
        if field is None:
            unknown.append(_text(cell)[:50])
        fields.append(field)
    if unknown:
        raise FileRefused(
            _("Unknown columns: %(columns)s.") % {"columns": ", ".join(unknown)}, code="unknown"
        )
    present = [field for field in fields if field]
    if len(present) != len(set(present)):
        raise FileRefused(_("A column appears more than once."), code="double")
    if fields[:2] != ["key", "action"]:
        raise FileRefused(
            _("The first two columns must be the unique key and the action."), code="first_two"
        )
    missing = [field for field in FIELDS if field not in present and field not in OPTIONAL]
    if missing:
        with_bsn = dict(zip(FIELDS, columns(with_bsn=True), strict=True))
        raise FileRefused(
            _("Missing columns: %(columns)s.")
            % {"columns": ", ".join(with_bsn[field] for field in missing)},
            code="missing",
        )
    return fields
