"""Pages: /reports/ranking (积分排名 with stars, filters, exports, a chart, an A4 printout)
and /reports/stats (统计: a unit's year month by month), for administrators."""
from decimal import Decimal

from flask import Blueprint, render_template, request
from flask_login import current_user, login_required

from points.database import today
from points.errors import PointsError, forbidden
from points.org.service import units_within
from points.reports import service
from points.reports.fairness import fairness as fairness_report
from points.reports.exports import ranking_csv, ranking_xlsx, title
from points.schemes.service import all_schemes, rules_of
from points.web import friendly, page_errors, principal

bp = page_errors(Blueprint("reports_pages", __name__))

PER_PAGE = 100  # ranking rows on one screen
PRINTED = 2000  # ranking rows on a printed notice board
TOP = 10  # bars in the ranking's chart


def _require_admin():
    if "admin" not in current_user.roles:
        raise forbidden()


def _year(value):
    try:
        year = int(value)
    except (TypeError, ValueError):
        return today().year
    return year if 2000 <= year <= 2100 else today().year


def _filters(args, me):
    """The chosen scheme, unit and year, defaulting to the first scheme, the admin's own unit
    and this year."""
    schemes = all_schemes()
    units = units_within(me, "admin")
    scheme = next((s for s in schemes if s.code == args.get("scheme")), schemes[0] if schemes else None)
    unit_code = args.get("unit") or (units[0].code if units else "")
    return dict(schemes=schemes, units=units, scheme=scheme, unit_code=unit_code, year=_year(args.get("year")),
                years=list(range(today().year, today().year - 6, -1)))


def hbars(rows, width=200):
    """Horizontal bars for an inline SVG: each row's bar length in proportion to the largest."""
    top = max((Decimal(r["points"]) for r in rows), default=Decimal(0))
    bars = []
    for index, row in enumerate(rows):
        value = Decimal(row["points"])
        length = int(value / top * width) if top > 0 and value > 0 else 0
        bars.append({**row, "y": index * 30 + 4, "length": max(length, 1 if value > 0 else 0)})
    return bars


def vbars(months, keys, height=140):
    """Vertical bars per month (one per key side by side), scaled to the largest value."""
    top = max((Decimal(m[k]) for m in months for k in keys), default=Decimal(0))
    columns = []
    for index, month in enumerate(months):
        bars = []
        for offset, key in enumerate(keys):
            value = Decimal(month[key])
            size = int(value / top * height) if top > 0 and value > 0 else 0
            bars.append({"key": key, "value": value, "x": 40 + index * 50 + offset * 18, "height": size,
                         "y": 10 + height - size})
        columns.append({"month": month["month"], "x": 40 + index * 50 + 9 * len(keys), "bars": bars})
    return {"columns": columns, "height": height, "top": top}


@bp.get("/reports/ranking")
@login_required
def ranking():
    """积分排名: scheme, unit and year; stars; CSV and Excel; a chart of the top 10."""
    _require_admin()
    me = principal()
    filters = _filters(request.args, me)
    page = max(int(request.args.get("page", "1")) if request.args.get("page", "1").isdigit() else 1, 1)
    context = dict(filters, report=None, bars=[], page=page, pages=1, error=None, period=None)
    if filters["scheme"] is not None and filters["unit_code"]:
        try:
            report = service.ranking(me, filters["scheme"].code, filters["unit_code"], filters["year"], page, PER_PAGE)
            top = service.ranking(me, filters["scheme"].code, filters["unit_code"], filters["year"], 1, TOP)
        except PointsError as error:
            return render_template("reports/ranking.html", **dict(context, error=friendly(error))), error.status
        context.update(report=report, bars=hbars(top["items"]), pages=max(1, -(-report["total"] // PER_PAGE)),
                       graded=_graded(report))
    return render_template("reports/ranking.html", **context)


def _graded(report):
    """Whether the ranking's scheme grades its holders (评档定级): its rows carry a grade."""
    return bool(report and report["items"] and "grade" in report["items"][0])


@bp.get("/reports/grades")
@login_required
def grades():
    """评档定级: how many holders of the unit are in each grade of the year, as a chart, and who."""
    _require_admin()
    me = principal()
    filters = _filters(request.args, me)
    graded = [s for s in filters["schemes"] if rules_of(s.current_version_id).grades]
    scheme = next((s for s in graded if s.code == request.args.get("scheme")), graded[0] if graded else None)
    context = dict(filters, schemes=graded, scheme=scheme, report=None, bars=[], error=None)
    if scheme is not None and filters["unit_code"]:
        try:
            report = service.grades(me, scheme.code, filters["unit_code"], str(filters["year"]))
        except PointsError as error:
            return render_template("reports/grades.html", **dict(context, error=friendly(error))), error.status
        rows = [{"name": grade, "points": count} for grade, count in report["counts"].items()]
        context.update(report=report, bars=hbars(rows))
    return render_template("reports/grades.html", **context)


@bp.get("/reports/ranking/export")
@login_required
def ranking_export():
    """导出 Excel / 导出 CSV: the same rows and files as the API's format=xlsx|csv."""
    _require_admin()
    filters = _filters(request.args, principal())
    if filters["scheme"] is None:
        raise PointsError("not_found", "no scheme", 404)
    report = service.ranking(principal(), filters["scheme"].code, filters["unit_code"], filters["year"])
    return ranking_xlsx(report) if request.args.get("format") == "xlsx" else ranking_csv(report)


@bp.get("/reports/ranking/print")
@login_required
def ranking_print():
    """The ranking for the village notice board: A4, the unit's name and the date in the heading,
    and the year's awards (年终评优) once the year is closed."""
    _require_admin()
    me = principal()
    filters = _filters(request.args, me)
    if filters["scheme"] is None:
        raise PointsError("not_found", "no scheme", 404)
    report = service.ranking(me, filters["scheme"].code, filters["unit_code"], filters["year"], 1, PRINTED)
    awards = []
    try:
        period = service.get_period(me, filters["scheme"].code, filters["year"])
    except PointsError:
        period = None
    if period is not None:
        codes = {row["holder"] for row in report["items"]}
        awards = [a for a in period["award_details"] if a["holder"] in codes]
    return render_template("reports/ranking_print.html", report=report, heading=title(report), awards=awards,
                           printed_on=today(), closed=period is not None, graded=_graded(report))


@bp.get("/reports/stats")
@login_required
def stats():
    """统计: entries recorded, posted, rejected, revoked; points by heading; redemptions by
    shop; the top items; month by month with a chart."""
    _require_admin()
    me = principal()
    filters = _filters(request.args, me)
    scheme_code = request.args.get("scheme") or None
    context = dict(filters, scheme_code=scheme_code, figures=None, chart=None, error=None)
    if filters["unit_code"]:
        try:
            figures = service.statistics(me, filters["unit_code"], filters["year"], scheme_code)
        except PointsError as error:
            return render_template("reports/stats.html", **dict(context, error=friendly(error))), error.status
        totals = {key: sum((m[key] for m in figures["months"]), 0)
                  for key in ("recorded", "posted", "rejected", "revoked", "granted", "deducted", "redemptions",
                              "spent")}
        context.update(figures=figures, totals=totals, chart=vbars(figures["months"], ("granted", "spent")))
    return render_template("reports/stats.html", **context)


@bp.get("/reports/fairness")
@login_required
def fairness():
    """人情分: recorders and reviewers of a unit's year, the flagged ones first, with a chart of
    points by recorder; a recorder's row links to the holder who got the most from them."""
    _require_admin()
    me = principal()
    filters = _filters(request.args, me)
    context = dict(filters, report=None, bars=[], error=None)
    if filters["unit_code"]:
        try:
            report = fairness_report(me, filters["unit_code"], filters["year"])
        except PointsError as error:
            page = render_template("reports/fairness.html", **dict(context, error=friendly(error)))
            return page, error.status
        chart = sorted(report["recorders"], key=lambda r: -r["points"])[:TOP]
        context.update(report=report, bars=hbars([dict(r, name=r["username"]) for r in chart]))
    return render_template("reports/fairness.html", **context)
