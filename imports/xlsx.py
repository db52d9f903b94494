"""A streaming reader of an XLSX workbook's first worksheet, for the employee import.

Why not openpyxl: its read-only mode builds an element tree and a dict per cell; on a
100,000-row sheet that was most of the import's time (the file is read twice, for the preview
and for the commit). This reads the worksheet XML with expat callbacks straight into the row
lists, a chunk of the zip member at a time, and gives the values openpyxl's
`iter_rows(values_only=True)` gives (same types: str, int, float, bool, datetime, None; a formula
as "=" + its text), so the import's checks see the same cells. Known differences, all on
damaged or unusual files: a <dimension> smaller than the cells does not cut cells off (Excel
shows them too), an array or data-table formula is "=" + its text (openpyxl gives an object),
and some damage openpyxl refuses is read past (a bad <dimension>, a broken later sheet).

Memory: the sheet is never held whole; the shared strings are (that is how XLSX stores text),
bounded by the sizes below. Every part's unpacked size is checked against its limit before it
is read (zipfile never returns more than the size the archive states), so a zip bomb is refused
(WorkbookTooLarge) instead of unpacked. An XML part with a DOCTYPE is refused: a workbook never
has one, and entity declarations are how XML bombs work (defusedxml's rule).

Any other damage raises some exception (zipfile, expat, ValueError, KeyError, ...): the caller
refuses the file as a whole for any of them.
"""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
from collections.abc import Callable, Iterator
from pyexpat import XML_PARAM_ENTITY_PARSING_NEVER, ParserCreate, XMLParserType
from typing import IO, Any

from openpyxl.formula.translate import Translator
from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format, is_timedelta_format
from openpyxl.utils.cell import column_index_from_string, get_column_letter, range_boundaries
from openpyxl.utils.datetime import CALENDAR_MAC_1904, WINDOWS_EPOCH, from_excel, from_ISO8601

MAX_SHEET_BYTES = 512 * 1024 * 1024  # unpacked worksheet XML (100,000 rows of 18 cells: 87 MB)
MAX_STRINGS_BYTES = 64 * 1024 * 1024  # unpacked shared strings, held in memory
MAX_STRINGS = 2_000_000  # shared strings (each a Python object of ~50 bytes and more)
MAX_PART_BYTES = 16 * 1024 * 1024  # the small parts: content types, workbook, its rels, styles
MAX_TEXT = 32_767  # characters in a cell: Excel's own limit (a longer one is no Excel file)
MAX_COLUMN = 16_384  # XFD, Excel's last column
MAX_ROW = 1_048_576  # Excel's last row
MAX_GAP = 64  # empty columns filled in at once while a row is read (a wider gap: at the end)
CHUNK = 64 * 1024

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELATIONSHIPS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PACKAGE_RELATIONSHIPS = "http://schemas.openxmlformats.org/package/2006/relationships"
CONTENT_TYPES = "http://schemas.openxmlformats.org/package/2006/content-types"
WORKBOOK_TYPES = [  # in openpyxl's order of preference
    "application/vnd.ms-excel.template.macroEnabled.main+xml",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.template.main+xml",
    "application/vnd.ms-excel.sheet.macroEnabled.main+xml",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
]
SHARED_STRINGS_TYPE = (
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
)
STYLES_PART = "xl/styles.xml"  # where openpyxl looks for it, whatever the relations say


def _name(namespace: str, local: str) -> str:
    return f"{namespace} {local}"  # as expat reports a name with namespace_separator=" "


ROW, C, V, F, IS, T, R, RPH, SI = (
    _name(MAIN, local) for local in ("row", "c", "v", "f", "is", "t", "r", "rPh", "si")
)
SHEET_DATA, DIMENSION = _name(MAIN, "sheetData"), _name(MAIN, "dimension")
SHEET, WORKBOOK_PR = _name(MAIN, "sheet"), _name(MAIN, "workbookPr")
NUM_FMT, CELL_XFS, XF = _name(MAIN, "numFmt"), _name(MAIN, "cellXfs"), _name(MAIN, "xf")
SHEET_RELATION = _name(RELATIONSHIPS, "id")
RELATIONSHIP = _name(PACKAGE_RELATIONSHIPS, "Relationship")
OVERRIDE, DEFAULT = _name(CONTENT_TYPES, "Override"), _name(CONTENT_TYPES, "Default")
# expat hands back these very objects for the names (its intern table), so the handlers'
# comparisons are mostly identity checks.
NAMES = (ROW, C, V, F, IS, T, R, RPH, SI, SHEET_DATA, DIMENSION)
# Where a cell's inline string <is> is being read: its own text, a rich text run, a phonetic run.
IN_STRING, IN_RUN, IN_PHONETIC = 1, 2, 3
NUMBER, DATE, DURATION = 0, 1, 2  # how a style shows a number
COLUMN_LETTERS = re.compile(r"\$?([A-Za-z]{1,3})\$?")
DIGITS = "0123456789"


class WorkbookTooLarge(ValueError):
    """A part of the workbook unpacks beyond its limit (a zip bomb, or far beyond a sheet we
    would import)."""


class _Stop(Exception):  # noqa: N818 - not an error: ends a parse that has read enough
    pass


def _refuse_doctype(*_args: Any) -> None:
    raise ValueError("an XML part of the workbook declares a DOCTYPE")


def _parser() -> XMLParserType:
    parser = ParserCreate(namespace_separator=" ", intern={name: name for name in NAMES})
    parser.buffer_text = True
    parser.buffer_size = CHUNK
    parser.SetParamEntityParsing(XML_PARAM_ENTITY_PARSING_NEVER)
    parser.StartDoctypeDeclHandler = _refuse_doctype
    parser.EntityDeclHandler = _refuse_doctype
    return parser


def _open(archive: zipfile.ZipFile, name: str, limit: int) -> IO[bytes]:
    info = archive.getinfo(name)  # KeyError: the part is missing
    if info.file_size > limit:
        raise WorkbookTooLarge(name)
    return archive.open(info)


def _parse(
    archive: zipfile.ZipFile,
    name: str,
    limit: int,
    start: Callable[[str, dict[str, str]], None],
    end: Callable[[str], None] | None = None,
    text: Callable[[str], None] | None = None,
) -> None:
    """Feed a whole part through expat with these handlers; a handler raising _Stop ends it."""
    parser = _parser()
    parser.StartElementHandler = start
    if end is not None:
        parser.EndElementHandler = end
    if text is not None:
        parser.CharacterDataHandler = text
    with _open(archive, name, limit) as stream:
        try:
            while chunk := stream.read(CHUNK):
                parser.Parse(chunk, False)
            parser.Parse(b"", True)
        except _Stop:
            pass


class FirstSheet:
    """The first worksheet of a workbook (in the workbook's order, as openpyxl's
    `worksheets[0]`), with what its cells need: shared strings, date styles, date system."""

    def __init__(self, data: bytes) -> None:
        self.archive = zipfile.ZipFile(io.BytesIO(data))
        try:
            workbook = self._workbook_part()
            self.epoch = WINDOWS_EPOCH
            self.path = self._sheet_path(workbook)
            self.strings = self._shared_strings()
            self.date_styles, self.timedelta_styles = self._date_styles()
            self.max_column, self.max_row = self._dimension()
        except BaseException:
            self.archive.close()
            raise

    def close(self) -> None:
        self.archive.close()

    def __enter__(self) -> FirstSheet:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # --- the parts around the sheet ----------------------------------------------------------

    def _content_types(self) -> tuple[dict[str, str], set[str]]:
        """Content type -> its (first) override's part name; the default content types."""
        overrides: dict[str, str] = {}
        defaults: set[str] = set()

        def start(name: str, attrs: dict[str, str]) -> None:
            if name == OVERRIDE:
                overrides.setdefault(attrs["ContentType"], attrs["PartName"])
            elif name == DEFAULT:
                defaults.add(attrs["ContentType"])

        _parse(self.archive, "[Content_Types].xml", MAX_PART_BYTES, start)
        return overrides, defaults

    def _workbook_part(self) -> str:
        overrides, defaults = self._content_types()
        self.strings_part = overrides.get(SHARED_STRINGS_TYPE, "")[1:]
        for content_type in WORKBOOK_TYPES:
            if content_type in overrides:
                return overrides[content_type][1:]
        if defaults.intersection(WORKBOOK_TYPES):
            return "xl/workbook.xml"
        raise KeyError("no workbook part")

    def _sheet_path(self, workbook: str) -> str:
        sheets: list[str] = []

        def start(name: str, attrs: dict[str, str]) -> None:
            if name == SHEET:
                if attrs.get(SHEET_RELATION):  # openpyxl skips a sheet without one
                    sheets.append(attrs[SHEET_RELATION])
            elif name == WORKBOOK_PR:
                date1904 = attrs.get("date1904", "")
                if date1904 not in ("false", "f", "0") and date1904:  # as openpyxl's Bool
                    self.epoch = CALENDAR_MAC_1904

        _parse(self.archive, workbook, MAX_PART_BYTES, start)
        relations = self._relations(workbook)
        present = set(self.archive.namelist())
        for relation in sheets:
            kind, target = relations[relation]
            if target in present and "chartsheet" not in kind:
                return target
        raise KeyError("no worksheet")

    def _relations(self, part: str) -> dict[str, tuple[str, str]]:
        """Relation id -> (type, target part), targets resolved as openpyxl resolves them."""
        folder, file_name = posixpath.split(part)
        relations: dict[str, tuple[str, str]] = {}

        def start(name: str, attrs: dict[str, str]) -> None:
            if name == RELATIONSHIP and attrs.get("TargetMode") != "External":
                target = attrs["Target"]
                if target.startswith("/"):
                    target = target[1:]
                else:
                    target = posixpath.normpath(posixpath.join(folder, target))
                relations[attrs["Id"]] = (attrs.get("Type", ""), target)

        rels = posixpath.join(folder, "_rels", f"{file_name}.rels")
        _parse(self.archive, rels, MAX_PART_BYTES, start)
        return relations

    def _shared_strings(self) -> list[str]:
        """The shared strings as openpyxl reads them: the <t> of an <si> and those of its rich
        text runs <r>, phonetic runs <rPh> left out."""
        strings: list[str] = []
        if not self.strings_part:
            return strings
        plain: str | None = None
        runs: list[str] = []
        run: str | None = None
        parts: list[str] | None = None  # the text of the <t> being read
        stack: list[str] = []

        def start(name: str, attrs: dict[str, str]) -> None:
            nonlocal plain, run, parts
            stack.append(name)
            if name == SI:
                plain, runs[:], run = None, [], None
            elif name == T and _in_string(stack):
                parts = []

        def end(name: str) -> None:
            nonlocal plain, run, parts
            if name == T and parts is not None:
                text = "".join(parts) or None  # <t/> is no text, as in ElementTree
                parts = None
                if stack[-2] == SI:
                    plain = text  # the last <t> of an <si> counts, as in openpyxl
                else:
                    run = text
            elif name == R and len(stack) > 1 and stack[-2] == SI:
                if run is not None:
                    runs.append(run)
                run = None
            elif name == SI:
                value = "".join(runs) if plain is None else plain + "".join(runs)
                strings.append(value.replace("x005F_", ""))  # as openpyxl's reader
                if len(strings) > MAX_STRINGS:
                    raise WorkbookTooLarge("shared strings")
            stack.pop()

        def text(data: str) -> None:
            if parts is not None:
                parts.append(data)
                if len(data) > MAX_TEXT or (len(parts) > 1 and sum(map(len, parts)) > MAX_TEXT):
                    raise ValueError("a shared string is longer than Excel allows")

        _parse(self.archive, self.strings_part, MAX_STRINGS_BYTES, start, end, text)
        return strings

    def _date_styles(self) -> tuple[set[int], set[int]]:
        """Cell style indexes whose number format is a date (and of those, a duration), as
        openpyxl's stylesheet sets them apart."""
        if STYLES_PART not in self.archive.namelist():
            return set(), set()
        custom: dict[int, str] = {}
        formats: list[int] = []
        where: list[str] = []

        def start(name: str, attrs: dict[str, str]) -> None:
            where.append(name)
            if name == NUM_FMT:
                custom[int(attrs["numFmtId"])] = attrs["formatCode"]
            elif name == XF and len(where) > 1 and where[-2] == CELL_XFS:
                formats.append(int(attrs.get("numFmtId", 0)))

        def end(_name: str) -> None:
            where.pop()

        _parse(self.archive, STYLES_PART, MAX_PART_BYTES, start, end)
        dates: set[int] = set()
        durations: set[int] = set()
        for index, format_id in enumerate(formats):
            code = custom[format_id] if format_id in custom else BUILTIN_FORMATS.get(format_id)
            if is_date_format(code):
                dates.add(index)
            if is_timedelta_format(code):
                durations.add(index)
        return dates, durations

    def _dimension(self) -> tuple[int, int | None]:
        """The sheet's stated last column and row (<dimension ref="A1:R100001">), read from
        its start; (0, None) when it states none or one that cannot be read."""
        found: list[str] = []

        def start(name: str, attrs: dict[str, str]) -> None:
            if name == DIMENSION:
                found.append(attrs.get("ref", ""))
                raise _Stop
            if name == SHEET_DATA:
                raise _Stop

        _parse(self.archive, self.path, MAX_SHEET_BYTES, start)
        try:
            _min_column, _min_row, max_column, max_row = range_boundaries(found[0])
        except (IndexError, ValueError, TypeError):
            return 0, None
        return min(max_column or 0, MAX_COLUMN), max_row

    # --- the rows -----------------------------------------------------------------------------

    def rows(self) -> Iterator[list[Any]]:  # noqa: PLR0915 - one loop's state, see below
        """The rows as openpyxl's read-only `iter_rows(values_only=True)` gives them: from row
        1, a missing row as an empty one (so row numbers stay the spreadsheet's), each as wide
        as the <dimension> says (or up to its last cell when there is none)."""
        # The handlers run for every element of the sheet (five to seven calls a cell): they are
        # closures over plain local state, with the common case first, because that is where
        # the time goes.
        strings, epoch = self.strings, self.epoch
        date_styles, timedelta_styles = self.date_styles, self.timedelta_styles
        width = self.max_column
        style_kinds: dict[str | None, int] = {None: _style_kind(None, date_styles, set())}
        shared_formulas: dict[str, Translator] = {}
        columns = _COLUMNS
        # The rows of the last chunk: (empty rows before it, its cells, its far cells). A row is
        # made full width only as it is handed out: a chunk of 64 KB can hold thousands of
        # rows, and a row of one cell in column XFD is 16,384 wide.
        done: list[tuple[int, list[Any], dict[int, Any] | None]] = []
        next_row = 1  # the spreadsheet's number of the next row to yield
        number = 0  # this row's number: its r, else one more than the last
        values: list[Any] = []  # the row's cells from column A, without gaps wider than MAX_GAP
        far: dict[int, Any] | None = None  # column -> value of the cells after a wider gap
        in_row = in_cell = False
        column = 0
        kind = "n"
        style: str | None = None
        reference: str | None = None
        value_text: str | None = None
        formula: dict[str, str] | None = None
        formula_text: str | None = None
        reading: str | None = None  # the element whose text is being read: <v>, <f> or <t>
        pending = ""  # its text so far
        inline = False  # the cell has an inline string <is>
        inline_depth = 0  # 1 in <is>, 2 in its <r>, 3 in a <rPh> (ignored)
        plain: str | None = None  # the inline string's own <t>
        runs: list[str] = []  # the texts of its rich text runs
        run: str | None = None

        def start(name: str, attrs: dict[str, str]) -> None:
            nonlocal in_row, in_cell, column, kind, style, reference, value_text, formula
            nonlocal formula_text, reading, pending, inline, inline_depth, plain, runs, run
            nonlocal number, values, far
            if name is C:
                if not in_row:
                    return
                in_cell = True
                reference = attrs.get("r")
                if reference:
                    letters = reference.rstrip(DIGITS)  # _column checks there was a number
                    column = (
                        columns.get(letters) if len(letters) < len(reference) else None
                    ) or _column(reference)
                else:
                    column += 1
                    if column > MAX_COLUMN:
                        raise ValueError("a row has more cells than Excel allows")
                kind = attrs.get("t", "n")
                style = attrs.get("s")
                value_text = formula = formula_text = plain = None
                inline = False
                inline_depth = 0
            elif not in_cell:
                if name is ROW:
                    in_row = True
                    given = attrs.get("r")
                    number = _row_number(given) if given else number + 1
                    column = 0
                    values, far = [], None
            elif name is V:
                if value_text is None and reading is None:
                    reading, pending = V, ""
            elif name is T:
                if inline_depth in (IN_STRING, IN_RUN) and reading is None:
                    reading, pending = T, ""
            elif name is IS:
                if not inline and inline_depth == 0:
                    inline, inline_depth, runs = True, IN_STRING, []
            elif name is R:
                if inline_depth == IN_STRING:
                    inline_depth, run = IN_RUN, None
            elif name is RPH:
                if inline_depth == IN_STRING:
                    inline_depth = IN_PHONETIC
            elif name is F and formula is None and reading is None:
                formula, reading, pending = attrs, F, ""

        def end(name: str) -> None:  # noqa: PLR0915 - the common case first, one call a tag
            nonlocal in_row, in_cell, value_text, formula_text, reading, inline_depth, plain
            nonlocal run, next_row, far
            if name is reading:
                if name is V:
                    value_text = pending
                elif name is T:
                    if inline_depth == IN_STRING:
                        plain = pending or None  # the last <t> of <is> counts, as in openpyxl
                    else:
                        run = pending or None
                else:
                    formula_text = pending or None
                reading = None
            elif name is C:
                if not in_cell:
                    return
                in_cell = False
                # The value as openpyxl's WorkSheetParser.parse_cell gives it.
                value: Any
                if formula is not None:
                    value = formula_value()
                elif kind == "inlineStr":
                    if not inline:
                        value = None
                    elif runs:
                        value = (plain or "") + "".join(runs)
                    else:
                        value = plain or ""
                elif not value_text:
                    value = None
                elif kind == "n":
                    if "." in value_text or "E" in value_text or "e" in value_text:
                        value = float(value_text)
                    else:
                        value = int(value_text)
                    style_kind = style_kinds.get(style)
                    if style_kind is None:
                        style_kind = style_kinds[style] = _style_kind(
                            style, date_styles, timedelta_styles
                        )
                    if style_kind:
                        try:
                            value = from_excel(value, epoch, timedelta=style_kind == DURATION)
                        except (OverflowError, ValueError):
                            value = "#VALUE!"  # as openpyxl: a date serial out of range
                elif kind == "s":
                    value = strings[int(value_text)]
                elif kind == "b":
                    value = bool(int(value_text))
                elif kind == "d":
                    value = from_ISO8601(value_text)
                else:  # "str" (a formula's text result), "e" (an error such as #N/A)
                    value = value_text
                if style not in style_kinds:  # openpyxl reads every cell's style (or fails)
                    style_kinds[style] = _style_kind(style, date_styles, timedelta_styles)
                if column == len(values) + 1 and far is None:  # the usual case: the next one
                    values.append(value)
                elif column <= len(values):  # a cell given twice, or out of order: the last
                    values[column - 1] = value  # one counts, as in openpyxl
                elif column - len(values) <= MAX_GAP and far is None:
                    values.extend([None] * (column - len(values) - 1))
                    values.append(value)
                else:
                    if far is None:
                        far = {}
                    far[column] = value
            elif name is ROW:
                if not in_row or in_cell:
                    return
                in_row = False
                if number < next_row:
                    return  # a row given again or out of order: openpyxl skips it too
                done.append((number - next_row, values, far))
                next_row = number + 1
            elif inline_depth:
                if name is IS and inline_depth == IN_STRING:
                    inline_depth = 0
                elif name is R and inline_depth == IN_RUN:
                    if run is not None:
                        runs.append(run)
                    inline_depth = IN_STRING
                elif name is RPH and inline_depth == IN_PHONETIC:
                    inline_depth = IN_STRING

        def text(data: str) -> None:
            nonlocal pending
            if reading is not None:
                pending = pending + data if pending else data
                if len(pending) > MAX_TEXT:
                    raise ValueError("a cell is longer than Excel allows")

        def formula_value() -> str:
            assert formula is not None  # noqa: S101 - for mypy: only called with a formula
            text = "=" + (formula_text or "")
            if formula.get("t") == "shared":
                # Shared formulas: the first cell holds the text, the others the group (si);
                # openpyxl moves the first's formula to each of them, and so does this.
                group = formula.get("si", "")
                here = reference or f"{get_column_letter(column)}{number}"
                if group in shared_formulas:
                    return str(shared_formulas[group].translate_formula(here))
                if text != "=":
                    shared_formulas[group] = Translator(text, here)
            return text

        parser = _parser()
        parser.StartElementHandler = start
        parser.EndElementHandler = end
        parser.CharacterDataHandler = text
        with _open(self.archive, self.path, MAX_SHEET_BYTES) as stream:
            last = False
            while not last:
                chunk = stream.read(CHUNK)
                last = not chunk
                parser.Parse(chunk, last)
                done.reverse()
                while done:  # popped: a row handed out is not kept here
                    gap, row, far_cells = done.pop()
                    for _ in range(gap):
                        yield [None] * width
                    if far_cells:
                        row.extend([None] * (max(far_cells) - len(row)))
                        for far_column, value in far_cells.items():
                            row[far_column - 1] = value
                    if len(row) < width:
                        row.extend([None] * (width - len(row)))
                    yield row


def _in_string(stack: list[str]) -> bool:
    """A <t> that is the text of an <si> or of one of its rich text runs (not a phonetic run)."""
    parent = stack[-2] if len(stack) > 1 else ""
    return parent == SI or (parent == R and stack[-3:-2] == [SI])


def _number(text: str) -> int | float:
    """As openpyxl: an int unless the text has a decimal point or an exponent."""
    if "." in text or "E" in text or "e" in text:
        return float(text)
    return int(text)


def _style_kind(style: str | None, dates: set[int], durations: set[int]) -> int:
    """NUMBER, DATE or DURATION (the style index read as openpyxl reads it)."""
    index = int(style) if style else 0
    if index not in dates:
        return NUMBER
    return DURATION if index in durations else DATE


_COLUMNS: dict[str, int] = {}


def _column(reference: str) -> int:
    """The column number of a cell reference such as "B7" (or "$B$7")."""
    letters = reference.rstrip(DIGITS)
    if len(letters) == len(reference):
        raise ValueError("not a cell reference: no row number")
    column = _COLUMNS.get(letters)
    if column is None:
        match = COLUMN_LETTERS.fullmatch(letters)
        if match is None:
            raise ValueError("not a cell reference")
        column = column_index_from_string(match.group(1).upper())
        if column > MAX_COLUMN:
            raise ValueError("a column beyond Excel's last")
        if len(_COLUMNS) < 4 * MAX_COLUMN:  # bounded: "$A", "a" and "A" are all kept
            _COLUMNS[letters] = column
    return column


def _row_number(given: str) -> int:
    try:
        number = int(given)
    except ValueError:
        as_float = float(given)  # openpyxl takes "5.0"
        if not as_float.is_integer():
            raise
        number = int(as_float)
    if not 0 < number <= MAX_ROW:
        raise ValueError("a row number beyond Excel's rows")
    return number
