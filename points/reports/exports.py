"""The ranking as files: CSV (UTF-8 with a byte-order mark, so Excel shows the Chinese) and
XLSX (a title row naming the unit and the year, then Chinese headers). Shared by the JSON
API (`format=csv|xlsx`) and the ranking page's export buttons. The CSV is streamed row by row
as it is written; the XLSX is written by openpyxl's write-only mode (rows go straight to the
file, no cell objects kept), a township's 7,000 rows in a fraction of a second.

Names come from villagers and admins: a name such as `=HYPERLINK(...)` must never become a
live formula in the county office's spreadsheet (api.md, Reports)."""

import csv
import io
import tempfile
from decimal import Decimal

from flask import Response, stream_with_context

HEADERS = {"rank": "排名", "holder": "编号", "name": "姓名", "points": "积分", "stars": "星级"}
GRADE_HEADER = {"grade": "档次"}  # 评档定级, for a scheme with grades


def headers(report):
    """The columns of a ranking file: the grade too when the scheme grades its holders."""
    graded = any("grade" in row for row in report["items"])
    return {**HEADERS, **GRADE_HEADER} if graded else HEADERS


def title(report):
    """ "汤头沟村 2026 年度积分排名": the unit and the year, as files and printouts head them."""
    if report.get("period", str(report["year"])) != str(report["year"]):
        return f"{report['unit'].name} {period_words(report['period'])}积分排名"
    return f"{report['unit'].name} {report['year']} 年度积分排名"


def period_words(period):
    """2026-H1 → 2026年上半年, 2026-Q3 → 2026年第3季度, 2026-07 → 2026年7月, 2026 → 2026年度."""
    year, _, part = period.partition("-")
    if not part:
        return f"{year}年度"
    if part.startswith("H"):
        return f"{year}年{'上' if part == 'H1' else '下'}半年"
    if part.startswith("Q"):
        return f"{year}年第{part[1]}季度"
    return f"{year}年{int(part)}月"


def _file_period(report):
    return report.get("period") or str(report["year"])


# What a spreadsheet takes for the start of a formula (OWASP's list for CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value):
    """Text that a spreadsheet would run gets a leading ', which it shows as plain text."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def xlsx_row(sheet, values):
    """A row whose text is never read as a formula, numbers as numbers.

    openpyxl takes text starting with "=" for a formula: only such text is written as an
    explicit text cell; every other value goes in as it is (a cell object for each of 7,000
    rows × 10 columns took a third of the export's time)."""
    sheet.append([_xlsx_value(sheet, value) for value in values])


def _xlsx_value(sheet, value):
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, str) and value.startswith("="):
        from openpyxl.cell import WriteOnlyCell

        cell = WriteOnlyCell(sheet, value=value)
        cell.data_type = "s"
        return cell
    return value


def ranking_csv(report):
    """Streamed: each row is sent as it is written, after the byte-order mark and the headers."""
    columns = headers(report)

    def lines():
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(columns.values())
        yield "\ufeff" + out.getvalue()
        for row in report["items"]:
            out.seek(0)
            out.truncate()
            writer.writerow([csv_cell(row[key]) for key in columns])
            yield out.getvalue()

    name = f"ranking-{report['unit'].code}-{_file_period(report)}.csv"
    return Response(
        stream_with_context(lines()),
        mimetype="text/csv",
        headers={"Content-Disposition": f"attachment; filename={name}"},
    )


def ranking_xlsx(report, chunk=64 * 1024):
    """Written in openpyxl's write-only mode to a temporary file, then streamed from it."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("积分排名")
    xlsx_row(sheet, [title(report)])
    columns = headers(report)
    xlsx_row(sheet, list(columns.values()))
    for item in report["items"]:
        xlsx_row(sheet, [item[key] for key in columns])
    out = tempfile.TemporaryFile()
    book.save(out)
    size = out.tell()
    out.seek(0)

    def chunks():
        with out:
            while data := out.read(chunk):
                yield data

    name = f"ranking-{report['unit'].code}-{_file_period(report)}.xlsx"
    return Response(
        chunks(),
        headers={
            "Content-Disposition": f"attachment; filename={name}",
            "Content-Length": str(size),
        },
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
