"""Our streaming XLSX reader (imports/xlsx.py) gives the rows openpyxl's read-only
`iter_rows(values_only=True)` gives, for workbooks openpyxl writes and for hand-written ones as
other programs write them; damaged, hostile and oversized workbooks are refused as a whole."""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime, time, timedelta

import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.cell.rich_text import CellRichText, TextBlock
from openpyxl.cell.text import InlineFont
from openpyxl.utils.datetime import CALENDAR_MAC_1904
from openpyxl.worksheet.formula import ArrayFormula

from imports import xlsx
from imports.parsing import FileRefused, raw_rows, read_rows
from imports.xlsx import FirstSheet
from tests.test_imports import header, row

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
WORKSHEET = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"


def naive(*parts: int) -> datetime:
    # Excel's dates have no time zone: openpyxl gives them naive, and so do we.
    return datetime(*parts)  # noqa: DTZ001


def typed(rows: list[list]) -> list[list]:
    """Values with their types: == alone lets 5 == 5.0 == True and a date == a datetime pass."""
    return [[(type(value), value) for value in values] for values in rows]


def ours(data: bytes) -> list[list]:
    with FirstSheet(data) as sheet:
        return list(sheet.rows())


def openpyxls(data: bytes) -> list[list]:
    workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    try:
        return [list(values) for values in workbook.worksheets[0].iter_rows(values_only=True)]
    finally:
        workbook.close()


# --- workbooks openpyxl writes ------------------------------------------------------------------

VALUES = [
    "text", "  spaced  ", "", None, "ünïcødé € 😀", "=SUM(1,2)", "'=quoted", "+31 6 1234 5678",
    5, -3, 0, 2.5, 1e20, 10**15, True, False, naive(2024, 2, 29, 13, 45), date(1990, 5, 17),
    time(8, 30), timedelta(hours=30), "#N/A", "x" * 2000, "line\nbreak", "tab\t_x000D_ & <tag>",
]  # fmt: skip


def _saved(workbook: Workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def normal_workbook() -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(header("nl"))
    sheet.append(VALUES)
    sheet.append([])  # an empty row in the middle
    sheet.append(row(surname="Vries", birth_date=date(1980, 1, 31), contract_hours=32.5))
    sheet.cell(row=9, column=30, value="far away")  # row and column gaps
    sheet["B10"] = CellRichText("rich ", TextBlock(InlineFont(b=True), "text"))
    sheet["C10"] = "=A1&B1"
    sheet["D10"].value, sheet["D10"].number_format = 45000, "dd-mm-yyyy"
    sheet["E10"].value, sheet["E10"].number_format = 1.25, "[h]:mm:ss"
    sheet["F10"].value, sheet["F10"].number_format = 45000.5, "0.00"  # a number, not a date
    workbook.create_sheet("Second").append(["not read"])
    return _saved(workbook)


def write_only_workbook(*, epoch: datetime | None = None) -> bytes:
    workbook = Workbook(write_only=True)
    if epoch is not None:
        workbook.epoch = epoch
    sheet = workbook.create_sheet("Werknemers")
    sheet.append(header("en"))
    sheet.append(VALUES)
    sheet.append([])
    for number in range(50):
        sheet.append(
            row(personnel_number=f"B{number:07d}", birth_date=date(1960, 1, 1 + number % 28))
        )
    return _saved(workbook)


def normal_1904_workbook() -> bytes:
    workbook = Workbook()
    workbook.epoch = CALENDAR_MAC_1904
    workbook.active.append([date(2000, 1, 1), naive(1904, 1, 2, 12), 3])
    return _saved(workbook)


OPENPYXL_WRITTEN = {
    "normal": normal_workbook,
    "write-only": write_only_workbook,
    "write-only, 1904 dates": lambda: write_only_workbook(epoch=CALENDAR_MAC_1904),
    "normal, 1904 dates": normal_1904_workbook,
}


@pytest.mark.parametrize("name", sorted(OPENPYXL_WRITTEN))
def test_a_workbook_openpyxl_writes_reads_as_openpyxl_reads_it(name):
    data = OPENPYXL_WRITTEN[name]()
    expected = openpyxls(data)
    assert typed(ours(data)) == typed(expected)
    assert list(raw_rows(data, "w.xlsx")) == expected  # the import's entry point


def test_the_values_are_those_the_import_expects():
    """Not only equal to openpyxl: the values themselves, in the types the import reads."""
    rows = ours(normal_workbook())
    assert rows[1][:16] == [
        "text", "  spaced  ", None, None, "ünïcødé € 😀", "=SUM(1,2)", "'=quoted",
        "+31 6 1234 5678", 5, -3, 0, 2.5, 1e20, 10**15, True, False,
    ]  # fmt: skip  # openpyxl writes no cell for ""
    assert rows[1][16:20] == [naive(2024, 2, 29, 13, 45), naive(1990, 5, 17), time(8, 30),
                              timedelta(hours=30)]  # fmt: skip
    assert rows[2] == [None] * 30  # the <dimension> says 30 columns wide
    assert rows[8][29] == "far away"
    assert rows[9][1:6] == ["rich text", "=A1&B1", naive(2023, 3, 15), timedelta(hours=30),
                            45000.5]  # fmt: skip
    assert ours(normal_1904_workbook()) == [[naive(2000, 1, 1), naive(1904, 1, 2, 12), 3]]


# --- workbooks written by hand, as other programs write them ------------------------------------


def workbook_zip(
    sheet_data: str,
    *,
    head: str = "",
    strings: str | None = None,
    styles: str | None = None,
    workbook_pr: str = "",
    sheets: list[tuple[str, str]] | None = None,
    parts: dict[str, str] | None = None,
    prefix: str = "",
    first: list[str] | None = None,
) -> bytes:
    """A minimal workbook: `sheets` are (relation target, part name) in workbook order; the
    first sheet's XML is `<worksheet>` + head + `<sheetData>` + sheet_data; `first` names parts
    to write first into the zip."""
    sheets = sheets or [("worksheets/sheet1.xml", "xl/worksheets/sheet1.xml")]
    p = f"{prefix}:" if prefix else ""
    namespace = f"xmlns:{prefix}" if prefix else "xmlns"
    contents = {
        "[Content_Types].xml": (
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" '
            'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            + (
                '<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
                'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
                if strings is not None
                else ""
            )
            + "</Types>"
        ),
        "_rels/.rels": (
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
            'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'
        ),
        "xl/workbook.xml": (
            f'<workbook xmlns="{MAIN}" xmlns:r="http://schemas.openxmlformats.org/'
            f'officeDocument/2006/relationships">{workbook_pr}<sheets>'
            + "".join(
                f'<sheet name="S{n}" sheetId="{n}" r:id="rId{n}"/>'
                for n in range(1, len(sheets) + 1)
            )
            + "</sheets></workbook>"
        ),
        "xl/_rels/workbook.xml.rels": (
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            + "".join(
                f'<Relationship Id="rId{n}" Type="{WORKSHEET}" Target="{target}"/>'
                for n, (target, _part) in enumerate(sheets, start=1)
            )
            + "</Relationships>"
        ),
        sheets[0][1]: (
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<{p}worksheet {namespace}="{MAIN}">{head}<{p}sheetData>{sheet_data}'
            f"</{p}sheetData></{p}worksheet>"
        ),
    }
    if strings is not None:
        contents["xl/sharedStrings.xml"] = f'<sst xmlns="{MAIN}">{strings}</sst>'
    if styles is not None:
        contents["xl/styles.xml"] = f'<styleSheet xmlns="{MAIN}">{styles}</styleSheet>'
    contents.update(parts or {})
    order = [*(first or []), *(name for name in contents if name not in (first or []))]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in order:
            archive.writestr(name, contents[name])
    return buffer.getvalue()


def _sheet(rows: str) -> str:
    return f'<worksheet xmlns="{MAIN}"><sheetData>{rows}</sheetData></worksheet>'


DATE_STYLES = (
    '<numFmts count="2"><numFmt numFmtId="164" formatCode="dd\\-mm\\-yyyy"/>'
    '<numFmt numFmtId="165" formatCode="[h]:mm"/></numFmts>'
    '<cellXfs count="5"><xf numFmtId="0"/><xf numFmtId="14"/><xf numFmtId="164"/>'
    '<xf numFmtId="165"/><xf numFmtId="4"/></cellXfs>'
)

HAND_WRITTEN = {
    "every cell type": (
        workbook_zip(
            '<row r="1"><c r="A1" t="inlineStr"><is><t>Anna</t></is></c>'
            '<c r="B1" t="inlineStr"><is><r><t xml:space="preserve">de </t></r>'
            "<r><rPr><b/></rPr><t>Vries</t></r></is></c>"
            '<c r="C1"><v>5</v></c><c r="D1"><v>32.5</v></c><c r="E1"><v>1E3</v></c>'
            '<c r="F1" t="b"><v>1</v></c><c r="G1" t="b"><v>0</v></c>'
            '<c r="H1" t="e"><v>#N/A</v></c><c r="I1" t="str"><f>A1</f><v>Anna</v></c>'
            '<c r="J1" t="str"><v>text result</v></c><c r="K1"><v></v></c>'
            '<c r="L1" t="inlineStr"/><c r="M1" t="inlineStr"><is><t/></is></c>'
            '<c r="N1" t="d"><v>2024-02-29T10:00:00</v></c><c r="O1"><v>-7</v></c></row>'
        ),
        [
            [
                "Anna",
                "de Vries",
                5,
                32.5,
                1000.0,
                True,
                False,
                "#N/A",
                "=A1",
                "text result",
                None,
                None,
                "",
                naive(2024, 2, 29, 10),
                -7,
            ]
        ],
    ),
    "namespace prefixes": (
        workbook_zip(
            '<x:row r="1"><x:c r="A1" t="inlineStr"><x:is><x:t>a</x:t></x:is></x:c>'
            '<x:c r="B1"><x:v>2</x:v></x:c></x:row>',
            prefix="x",
        ),
        [["a", 2]],
    ),
    "no r attributes": (
        workbook_zip(
            '<row><c t="inlineStr"><is><t>a</t></is></c><c><v>1</v></c></row>'
            "<row><c><v>2</v></c></row><row/><row><c/><c><v>3</v></c></row>"
        ),
        [["a", 1], [2], [], [None, 3]],
    ),
    "gaps between rows and columns": (
        workbook_zip(
            '<row r="2"><c r="B2"><v>1</v></c><c r="D2"><v>2</v></c></row>'
            '<row r="5"><c r="A5"><v>3</v></c><c><v>4</v></c></row>'
        ),
        [[], [None, 1, None, 2], [], [], [3, 4]],
    ),
    "gaps with a dimension": (
        workbook_zip(
            '<row r="2"><c r="B2"><v>1</v></c><c r="D2"><v>2</v></c></row>'
            '<row r="4"><c r="A4"><v>3</v></c></row>',
            head='<dimension ref="A1:D4"/>',
        ),
        [[None] * 4, [None, 1, None, 2], [None] * 4, [3, None, None, None]],
    ),
    "date styles": (
        workbook_zip(
            '<row r="1"><c r="A1" s="1"><v>45000</v></c><c r="B1" s="2"><v>45000.5</v></c>'
            '<c r="C1" s="3"><v>1.5</v></c><c r="D1" s="4"><v>45000</v></c>'
            '<c r="E1" s="1"><v>1E10</v></c><c r="F1" s="1" t="s"><v>0</v></c></row>',
            styles=DATE_STYLES,
            strings="<si><t>not a date</t></si>",
        ),
        [
            [
                naive(2023, 3, 15),
                naive(2023, 3, 15, 12),
                timedelta(days=1.5),
                45000,
                "#VALUE!",
                "not a date",
            ]
        ],
    ),
    "the 1904 date system": (
        workbook_zip(
            '<row r="1"><c r="A1" s="1"><v>1</v></c><c r="B1" s="1"><v>45000</v></c></row>',
            styles=DATE_STYLES,
            workbook_pr='<workbookPr date1904="1"/>',
        ),
        [[naive(1904, 1, 2), naive(2027, 3, 16)]],
    ),
    "shared formulas": (
        workbook_zip(
            '<row r="1"><c r="A1"><f t="shared" ref="A1:A3" si="0">B1*2</f><v>2</v></c></row>'
            '<row r="2"><c r="A2"><f t="shared" si="0"/><v>4</v></c></row>'
            '<row r="3"><c r="A3"><f t="shared" si="0"/><v>6</v></c>'
            '<c r="B3"><f t="shared" si="7"/><v>1</v></c></row>'
        ),
        [["=B1*2"], ["=B2*2"], ["=B3*2", "="]],
    ),
    "shared strings, rich text and phonetic runs": (
        workbook_zip(
            '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c>'
            '<c r="C1" t="s"><v>2</v></c><c r="D1" t="s"><v>3</v></c></row>',
            strings=(
                "<si><t>plain</t></si>"
                '<si><r><t>ri</t></r><r><rPr><i/></rPr><t>ch</t></r><rPh sb="0" eb="1">'
                "<t>フリ</t></rPh><phoneticPr fontId='1'/></si>"
                "<si><t/></si><si><t>a_x005F_x000D_b &amp; &#233;</t></si>"
            ),
        ),
        [["plain", "rich", "", "a_x000D_b & é"]],
    ),
    "the first sheet in workbook order, not in the zip": (
        workbook_zip(
            '<row r="1"><c r="A1" t="inlineStr"><is><t>first</t></is></c></row>',
            sheets=[
                ("/xl/worksheets/data.xml", "xl/worksheets/data.xml"),
                ("worksheets/sheet1.xml", "xl/worksheets/sheet1.xml"),
            ],
            parts={
                "xl/worksheets/sheet1.xml": _sheet(
                    '<row r="1"><c r="A1" t="inlineStr"><is><t>second</t></is></c></row>'
                )
            },
            first=["xl/worksheets/sheet1.xml"],
        ),
        [["first"]],
    ),
    "a relative target with ..": (
        workbook_zip(
            '<row r="1"><c r="A1"><v>1</v></c></row>',
            sheets=[("../xl/worksheets/sheet1.xml", "xl/worksheets/sheet1.xml")],
        ),
        [[1]],
    ),
    "near and far columns": (
        workbook_zip(
            '<row r="1"><c r="A1"><v>1</v></c><c r="Z1"><v>26</v></c><c r="XFD1"><v>9</v></c>'
            '</row><row r="2"><c r="B2"><v>2</v></c><c r="CZ2"><v>104</v></c>'
            '<c r="DA2"><v>105</v></c></row>'
        ),
        [
            [1, *[None] * 24, 26, *[None] * (16384 - 27), 9],
            [None, 2, *[None] * 101, 104, 105],
        ],
    ),
    "a row given twice": (
        workbook_zip(
            '<row r="1"><c r="A1"><v>1</v></c></row><row r="1"><c r="A1"><v>2</v></c></row>'
        ),
        [[1]],
    ),
    "an empty sheet": (workbook_zip(""), []),
}


@pytest.mark.parametrize("name", sorted(HAND_WRITTEN))
def test_a_hand_written_workbook_reads_as_openpyxl_reads_it(name):
    data, expected = HAND_WRITTEN[name]
    assert typed(ours(data)) == typed(expected)
    assert typed(openpyxls(data)) == typed(expected)


def test_where_we_part_from_openpyxl_on_purpose():
    """An array formula is its text (openpyxl gives an object, which the import would take as
    text); a <dimension> smaller than the cells does not cut them off, as Excel shows them;
    references in other spellings are read."""
    data = workbook_zip(
        '<row r="1"><c r="A1"><f t="array" ref="A1:A2">B1:B2*2</f><v>2</v></c></row>'
        '<row r="2"><c r="A2"><v>1</v></c><c r="B2"><v>2</v></c></row>',
        head='<dimension ref="A1"/>',
    )
    assert ours(data) == [["=B1:B2*2"], [1, 2]]
    theirs = openpyxls(data)
    assert isinstance(theirs[0][0], ArrayFormula) and theirs[0][0].text == "=B1:B2*2"
    assert theirs[1:] == []
    # References as "$B$1" or "c1" (valid in a formula, not expected in a cell's r): openpyxl
    # fails on them; the column is plain enough to read.
    data = workbook_zip('<row r="1"><c r="$B$1"><v>1</v></c><c r="c1"><v>2</v></c></row>')
    assert ours(data) == [[None, 1, 2]]
    with pytest.raises((KeyError, ValueError)):
        openpyxls(data)


def test_rows_of_one_far_cell_are_widened_one_at_a_time():
    """A row of one cell in column XFD is 16,384 values: a chunk of the sheet holds thousands
    such rows, so they are widened as they are handed out, not as the chunk is read."""
    import tracemalloc

    rows = "".join(f'<row r="{n}"><c r="XFD{n}"><v>1</v></c></row>' for n in range(1, 3001))
    with FirstSheet(workbook_zip(rows)) as sheet:
        tracemalloc.start()
        try:
            count = sum(1 for values in sheet.rows() if values[-1] == 1 and len(values) == 16384)
            _size, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert count == 3000
    assert peak < 10 * 1024 * 1024  # a few rows of 128 kB, not a chunk's worth (~200 MB)


# --- the import's use of it: estimate, row numbers ----------------------------------------------


def _import_sheet(rows: str, head: str = "") -> bytes:
    cells = "".join(
        f'<c t="inlineStr"><is><t>{text}</t></is></c>' for text in header("en", with_bsn=False)
    )
    return workbook_zip(f'<row r="1">{cells}</row>{rows}', head=head)


def _data_row(number: int, surname: str) -> str:
    cells = "".join(
        f'<c t="inlineStr"><is><t>{value}</t></is></c>' for value in row(surname=surname)
    )
    return f'<row r="{number}">{cells}</row>'


@pytest.mark.parametrize(
    ("head", "estimate"), [('<dimension ref="A1:R40"/>', 39), ("", 2)], ids=["dimension", "counted"]
)
def test_row_numbers_stay_the_spreadsheets_and_the_estimate_comes_from_the_dimension(
    head, estimate
):
    data = _import_sheet(_data_row(3, "Drie") + _data_row(4, "Vier"), head)
    estimates: list[int] = []
    rows = list(read_rows(data, "w.xlsx", bsn_allowed=False, on_estimate=estimates.append))
    assert [(r.number, r.cells["surname"]) for r in rows] == [(3, "Drie"), (4, "Vier")]
    assert estimates == [estimate]


# --- refused as a whole -------------------------------------------------------------------------


def _with_part(name: str, text: str) -> bytes:
    return workbook_zip('<row r="1"><c r="A1"><v>1</v></c></row>', strings="", parts={name: text})


def _without(data: bytes, name: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(buffer, "w") as target:
        for info in source.infolist():
            if info.filename != name:
                target.writestr(info, source.read(info))
    return buffer.getvalue()


LAUGHS = (
    '<!DOCTYPE sst [<!ENTITY lol0 "lol">'
    + "".join(f'<!ENTITY lol{n} "{f"&lol{n - 1};" * 10}">' for n in range(1, 9))
    + "]>"
)
GOOD = workbook_zip('<row r="1"><c r="A1"><v>1</v></c></row>')
REFUSED = {
    "junk after the zip magic": b"PK\x03\x04 not a zip at all",
    "a truncated zip": GOOD[: len(GOOD) // 2],
    "no content types": _without(GOOD, "[Content_Types].xml"),
    "no workbook relations": _without(GOOD, "xl/_rels/workbook.xml.rels"),
    "no sheet part": _without(GOOD, "xl/worksheets/sheet1.xml"),
    "broken XML": workbook_zip('<row r="1"><c r="A1"><v>1</v></row>'),
    "a shared string that is not there": workbook_zip('<row><c t="s"><v>3</v></c></row>'),
    "a number that is none": workbook_zip("<row><c><v>12abc</v></c></row>"),
    "a reference without a row": workbook_zip('<row><c r="A1"><v>1</v></c><c r="A"/></row>'),
    "a column beyond XFD": workbook_zip('<row><c r="XFE1"><v>1</v></c></row>'),
    "a row beyond Excel's": workbook_zip('<row r="1048577"><c><v>1</v></c></row>'),
    "a cell longer than Excel allows": workbook_zip(
        f'<row><c t="inlineStr"><is><t>{"x" * 40_000}</t></is></c></row>'
    ),
    "a DOCTYPE in the sheet": _with_part(
        "xl/worksheets/sheet1.xml",
        f'<?xml version="1.0"?><!DOCTYPE worksheet>{_sheet("<row><c><v>1</v></c></row>")}',
    ),
    "an external entity in the sheet": _with_part(
        "xl/worksheets/sheet1.xml",
        '<!DOCTYPE worksheet [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        + _sheet('<row><c t="str"><v>&x;</v></c></row>'),
    ),
    "entities in the shared strings (billion laughs)": _with_part(
        "xl/sharedStrings.xml", f'{LAUGHS}<sst xmlns="{MAIN}"><si><t>&lol8;</t></si></sst>'
    ),
    "a DOCTYPE in the workbook": _with_part(
        "xl/workbook.xml",
        f'<!DOCTYPE workbook><workbook xmlns="{MAIN}" xmlns:r="http://schemas.openxmlformats.org/'
        'officeDocument/2006/relationships"><sheets><sheet name="S" sheetId="1" r:id="rId1"/>'
        "</sheets></workbook>",
    ),
}


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_a_damaged_or_hostile_workbook_is_refused_as_a_whole(name):
    with pytest.raises(FileRefused) as refused:
        list(raw_rows(REFUSED[name], "w.xlsx"))
    assert refused.value.code == "not_xlsx"


def test_the_refusals_are_of_workbooks_that_were_readable_but_for_the_damage():
    """The table above tests the damage, not a broken helper: the same workbook undamaged
    reads, and so does the sheet without its DOCTYPE."""
    assert ours(GOOD) == [[1]]
    assert ours(_with_part("xl/worksheets/sheet1.xml", _sheet("<row><c><v>1</v></c></row>"))) == [
        [1]
    ]


def test_a_sheet_that_unpacks_beyond_the_limit_is_refused_before_it_is_read(monkeypatch):
    # The same check as for the real limit (512 MB), on a sheet of 2 MB so the test is quick;
    # the limit is on the size the zip states, which zipfile never reads past.
    padding = " " * (2 * 1024 * 1024)
    data = workbook_zip(f'<row r="1"><c r="A1"><v>1</v></c></row>{padding}')
    monkeypatch.setattr(xlsx, "MAX_SHEET_BYTES", 1024 * 1024)
    with pytest.raises(FileRefused) as refused:
        list(raw_rows(data, "w.xlsx"))
    assert refused.value.code == "xlsx_too_large"


def test_shared_strings_that_unpack_beyond_the_limit_are_refused():
    """A real zip bomb: 65 MB of shared strings in a few hundred kilobytes."""
    bomb = workbook_zip(
        '<row r="1"><c r="A1" t="s"><v>0</v></c></row>',
        strings="<si><t>" + " " * (xlsx.MAX_STRINGS_BYTES + 1) + "</t></si>",
    )
    assert len(bomb) < 1024 * 1024
    with pytest.raises(FileRefused) as refused:
        list(raw_rows(bomb, "w.xlsx"))
    assert refused.value.code == "xlsx_too_large"


def test_too_many_shared_strings_are_refused(monkeypatch):
    monkeypatch.setattr(xlsx, "MAX_STRINGS", 100)
    data = workbook_zip(
        '<row r="1"><c r="A1" t="s"><v>0</v></c></row>', strings="<si><t>x</t></si>" * 101
    )
    with pytest.raises(FileRefused) as refused:
        list(raw_rows(data, "w.xlsx"))
    assert refused.value.code == "xlsx_too_large"
