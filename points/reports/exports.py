"""The ranking as files: CSV (UTF-8 with a byte-order mark, so Excel shows the Chinese) and
XLSX (a title row naming the unit and the year, then Chinese headers). Shared by the JSON
API (`format=csv|xlsx`) and the ranking page's export buttons."""
import csv
import io

from flask import Response

HEADERS = {"rank": "排名", "holder": "编号", "name": "姓名", "points": "积分", "stars": "星级"}


def title(report):
    """"汤头沟村 2026 年度积分排名": the unit and the year, as files and printouts head them."""
    return f"{report['unit'].name} {report['year']} 年度积分排名"


def ranking_csv(report):
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADERS.values())
    for row in report["items"]:
        writer.writerow([row[key] for key in HEADERS])
    name = f"ranking-{report['unit'].code}-{report['year']}.csv"
    return Response("\ufeff" + out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f"attachment; filename={name}"})


def ranking_xlsx(report):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "积分排名"
    sheet.append([title(report)])
    sheet.append(list(HEADERS.values()))
    for row in report["items"]:
        sheet.append([row["rank"], row["holder"], row["name"], float(row["points"]), row["stars"]])
    out = io.BytesIO()
    book.save(out)
    name = f"ranking-{report['unit'].code}-{report['year']}.xlsx"
    return Response(out.getvalue(), headers={"Content-Disposition": f"attachment; filename={name}"},
                    mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
