"""Benchmark: reading a 100,000-row employee workbook, openpyxl read-only against our reader.

Each reading runs in a process of its own (for its peak RSS), three times; the medians are
printed. Two workbooks of the same rows (bench/imports.py's recipe, 18 columns):
  write-only    - as openpyxl's write-only mode saves it (bench/imports.py): inline strings,
                  no <dimension>;
  shared        - as Excel saves it: shared strings and a <dimension>.
Readers:
  openpyxl      - load_workbook(read_only=True), iter_rows(values_only=True) (the old import);
  ours          - imports.xlsx.FirstSheet(...).rows();
  ours+estimate - imports.parsing.raw_rows: ours plus the row count for the progress bar
                  (a second pass over the XML when there is no <dimension>).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test .venv/bin/python bench/xlsx_read.py \\
        [--rows 100000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import importlib.util
import io
import json
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
READERS = ["openpyxl", "ours", "ours+estimate"]
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def _bench_imports():  # bench/imports.py (its name is the app's): its generate() and rows
    spec = importlib.util.spec_from_file_location("bench_imports", ROOT / "bench" / "imports.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def shared_strings_copy(source: Path, target: Path) -> None:
    """The same cells as Excel would save them: shared strings, a <dimension>."""
    from openpyxl.utils import get_column_letter

    from imports.xlsx import FirstSheet

    sheet = FirstSheet(source.read_bytes())
    strings: dict[str, int] = {}
    rows: list[str] = []
    width = 0
    for number, values in enumerate(sheet.rows(), 1):
        cells = []
        for column, value in enumerate(values, 1):
            if value is None:
                continue
            index = strings.setdefault(str(value), len(strings))
            cells.append(f'<c r="{get_column_letter(column)}{number}" t="s"><v>{index}</v></c>')
            width = max(width, column)
        rows.append(f'<row r="{number}">{"".join(cells)}</row>')
    sheet.close()
    dimension = f"A1:{get_column_letter(width)}{len(rows)}"
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(target, "w", 8) as copy:
        for info in original.infolist():
            if info.filename == "xl/worksheets/sheet1.xml":
                copy.writestr(
                    info.filename,
                    f'<worksheet xmlns="{MAIN}"><dimension ref="{dimension}"/><sheetData>'
                    + "".join(rows)
                    + "</sheetData></worksheet>",
                )
            elif info.filename == "[Content_Types].xml":
                copy.writestr(
                    info.filename,
                    original.read(info).replace(
                        b"</Types>",
                        b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
                        b'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
                        b"</Types>",
                    ),
                )
            else:
                copy.writestr(info, original.read(info))
        copy.writestr(
            "xl/sharedStrings.xml",
            f'<sst xmlns="{MAIN}" count="{len(strings)}" uniqueCount="{len(strings)}">'
            + "".join(f"<si><t>{escape(text)}</t></si>" for text in strings)
            + "</sst>",
        )


def child(reader: str, path: str) -> None:
    data = Path(path).read_bytes()
    started = time.perf_counter()
    count = 0
    if reader == "openpyxl":
        from openpyxl import load_workbook

        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
        for _values in workbook.worksheets[0].iter_rows(values_only=True):
            count += 1
        workbook.close()
    elif reader == "ours":
        from imports.xlsx import FirstSheet

        with FirstSheet(data) as sheet:
            for _values in sheet.rows():
                count += 1
    else:
        import os

        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "verzuim.settings")
        os.environ.setdefault("VERZUIM_ENV", "test")
        import django

        django.setup()
        from imports.parsing import raw_rows

        for _values in raw_rows(data, "w.xlsx", sizes=[]):  # with the estimate
            count += 1
    seconds = time.perf_counter() - started
    # VmHWM, not ru_maxrss: that one survives exec, so a child would report the parent's peak.
    status = Path("/proc/self/status").read_text().splitlines()
    rss = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:")) / 1024
    print(json.dumps({"rows": count, "seconds": seconds, "rss_mb": rss}))


def main() -> None:
    arguments = argparse.ArgumentParser()
    arguments.add_argument("--rows", type=int, default=100_000)
    arguments.add_argument("--repeat", type=int, default=3)
    arguments.add_argument("--child", nargs=2, metavar=("READER", "PATH"))
    options = arguments.parse_args()
    if options.child:
        child(*options.child)
        return
    bench = _bench_imports()
    with tempfile.TemporaryDirectory() as folder:
        written = Path(folder) / "write-only.xlsx"
        bench.generate(written, options.rows, "Bench BV", "xlsx")
        shared = Path(folder) / "shared.xlsx"
        shared_strings_copy(written, shared)
        print(f"{options.rows:,} rows; load before: {Path('/proc/loadavg').read_text().strip()}")
        print(f"{'workbook':12} {'reader':14} {'seconds':>8} {'peak RSS MB':>12}  (medians)")
        for path in (written, shared):
            for reader in READERS:
                runs = []
                for _ in range(options.repeat):
                    output = subprocess.run(  # noqa: S603
                        [sys.executable, __file__, "--child", reader, str(path)],
                        check=True,
                        capture_output=True,
                        text=True,
                    )
                    runs.append(json.loads(output.stdout.strip().splitlines()[-1]))
                assert len({run["rows"] for run in runs}) == 1
                seconds = statistics.median(run["seconds"] for run in runs)
                rss = statistics.median(run["rss_mb"] for run in runs)
                print(f"{path.stem:12} {reader:14} {seconds:8.2f} {rss:12.0f}", flush=True)
        print(f"load after: {Path('/proc/loadavg').read_text().strip()}")


if __name__ == "__main__":
    main()
