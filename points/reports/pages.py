"""Pages: /reports/ranking (积分排名 with stars, filters, exports, a chart, an A4 printout)
and /reports/stats (统计: a unit's year month by month), for administrators."""

from decimal import Decimal

from flask import Blueprint, render_template, request

from points.database import today
from points.errors import PointsError
from points.org.service import units_within
from points.reports import oversight, service
from points.reports.fairness import fairness as fairness_report
from points.reports.exports import ranking_csv, ranking_xlsx, title
from points.schemes.models import FIRST_YEAR, LAST_YEAR
from points.schemes.service import all_schemes, rules_of
from points.web import friendly, page_errors, principal, role_required

bp = page_errors(Blueprint("reports_pages", __name__))

PER_PAGE = 100  # ranking rows on one screen
PRINTED = 2000  # ranking rows on a printed notice board
TOP = 10  # bars in the ranking's chart


def _year(value):
    try:
        year = int(value)
    except (TypeError, ValueError):
        return today().year
    return year if FIRST_YEAR <= year <= LAST_YEAR else today().year


def _filters(args, me):
    """The chosen scheme, unit and year, defaulting to the first scheme, the admin's own unit
    and this year."""
    schemes = all_schemes()
    units = units_within(me, "admin")
    scheme = next(
        (s for s in schemes if s.code == args.get("scheme")), schemes[0] if schemes else None
    )
    unit_code = args.get("unit") or (units[0].code if units else "")
    return dict(
        schemes=schemes,
        units=units,
        scheme=scheme,
        unit_code=unit_code,
        year=_year(args.get("year")),
        years=list(range(today().year, today().year - 6, -1)),
    )


# The parts of a year a ranking can cover (月考, 季考, 半年考): "" is the whole year.
SPANS = ("", "H1", "H2", "Q1", "Q2", "Q3", "Q4") + tuple(f"{m:02d}" for m in range(1, 13))


def _ranked_period(args, filters):
    """The ranking's period: `period` as the API takes it (checked the same way, by the service),
    else the chosen year and part of it ("2026-Q3"); None for the year."""
    if args.get("period"):
        return args["period"]
    span = args.get("span", "")
    return f"{filters['year']}-{span}" if span in SPANS and span else None


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
            bars.append(
                {
                    "key": key,
                    "value": value,
                    "x": 40 + index * 50 + offset * 18,
                    "height": size,
                    "y": 10 + height - size,
                }
            )
        columns.append(
            {"month": month["month"], "x": 40 + index * 50 + 9 * len(keys), "bars": bars}
        )
    return {"columns": columns, "height": height, "top": top}


@bp.get("/reports/ranking")
@role_required("admin")
def ranking():
    """积分排名: scheme, unit and year; stars; CSV and Excel; a chart of the top 10."""
    me = principal()
    filters = _filters(request.args, me)
    page = max(
        int(request.args.get("page", "1")) if request.args.get("page", "1").isdigit() else 1, 1
    )
    ranked = _ranked_period(request.args, filters)
    context = dict(
        filters,
        report=None,
        bars=[],
        page=page,
        pages=1,
        error=None,
        period=None,
        spans=SPANS,
        span=(ranked or "-").split("-")[1] if ranked else "",
    )
    if filters["scheme"] is not None and filters["unit_code"]:
        try:
            report = service.ranking(
                me,
                filters["scheme"].code,
                filters["unit_code"],
                filters["year"],
                page,
                PER_PAGE,
                period=ranked,
            )
            top = service.ranking(
                me,
                filters["scheme"].code,
                filters["unit_code"],
                filters["year"],
                1,
                TOP,
                period=ranked,
            )
        except PointsError as error:
            return render_template(
                "reports/ranking.html", **dict(context, error=friendly(error))
            ), error.status
        context.update(
            report=report,
            bars=hbars(top["items"]),
            pages=max(1, -(-report["total"] // PER_PAGE)),
            graded=_graded(report),
        )
    return render_template("reports/ranking.html", **context)


def _graded(report):
    """Whether the ranking's scheme grades its holders (评档定级): its rows carry a grade."""
    return bool(report and report["items"] and "grade" in report["items"][0])


@bp.get("/reports/grades")
@role_required("admin")
def grades():
    """评档定级: how many holders of the unit are in each grade of the year, as a chart, and who."""
    me = principal()
    filters = _filters(request.args, me)
    graded = [s for s in filters["schemes"] if rules_of(s.current_version_id).grades]
    scheme = next(
        (s for s in graded if s.code == request.args.get("scheme")), graded[0] if graded else None
    )
    ranked = _ranked_period(request.args, filters)
    context = dict(
        filters,
        schemes=graded,
        scheme=scheme,
        report=None,
        bars=[],
        error=None,
        spans=SPANS,
        span=ranked.split("-")[1] if ranked and "-" in ranked else "",
    )
    if scheme is not None and filters["unit_code"]:
        try:
            report = service.grades(
                me,
                scheme.code,
                filters["unit_code"],
                _ranked_period(request.args, filters) or str(filters["year"]),
            )
        except PointsError as error:
            return render_template(
                "reports/grades.html", **dict(context, error=friendly(error))
            ), error.status
        rows = [{"name": grade, "points": count} for grade, count in report["counts"].items()]
        context.update(report=report, bars=hbars(rows))
    return render_template("reports/grades.html", **context)


@bp.get("/reports/ranking/export")
@role_required("admin")
def ranking_export():
    """导出 Excel / 导出 CSV: the same rows and files as the API's format=xlsx|csv."""
    filters = _filters(request.args, principal())
    if filters["scheme"] is None:
        raise PointsError("not_found", "no scheme", 404)
    report = service.ranking(
        principal(),
        filters["scheme"].code,
        filters["unit_code"],
        filters["year"],
        period=_ranked_period(request.args, filters),
    )
    return ranking_xlsx(report) if request.args.get("format") == "xlsx" else ranking_csv(report)


@bp.get("/reports/ranking/print")
@role_required("admin")
def ranking_print():
    """The ranking for the village notice board: A4, the unit's name and the date in the heading,
    and the year's awards (年终评优) once the year is closed."""
    me = principal()
    filters = _filters(request.args, me)
    if filters["scheme"] is None:
        raise PointsError("not_found", "no scheme", 404)
    report = service.ranking(
        me,
        filters["scheme"].code,
        filters["unit_code"],
        filters["year"],
        1,
        PRINTED,
        period=_ranked_period(request.args, filters),
    )
    awards = []
    try:
        period = service.get_period(me, filters["scheme"].code, filters["year"])
    except PointsError:
        period = None
    if period is not None:
        codes = {row["holder"] for row in report["items"]}
        awards = [a for a in period["award_details"] if a["holder"] in codes]
    return render_template(
        "reports/ranking_print.html",
        report=report,
        heading=title(report),
        awards=awards,
        printed_on=today(),
        closed=period is not None,
        graded=_graded(report),
    )


@bp.get("/reports/stats")
@role_required("admin")
def stats():
    """统计: entries recorded, posted, rejected, revoked; points by heading; redemptions by
    shop; the top items; month by month with a chart."""
    me = principal()
    filters = _filters(request.args, me)
    scheme_code = request.args.get("scheme") or None
    context = dict(filters, scheme_code=scheme_code, figures=None, chart=None, error=None)
    if filters["unit_code"]:
        try:
            figures = service.statistics(me, filters["unit_code"], filters["year"], scheme_code)
        except PointsError as error:
            return render_template(
                "reports/stats.html", **dict(context, error=friendly(error))
            ), error.status
        totals = {
            key: sum((m[key] for m in figures["months"]), 0)
            for key in (
                "recorded",
                "posted",
                "rejected",
                "revoked",
                "granted",
                "deducted",
                "redemptions",
                "spent",
            )
        }
        context.update(
            figures=figures, totals=totals, chart=vbars(figures["months"], ("granted", "spent"))
        )
    return render_template("reports/stats.html", **context)


@bp.get("/reports/fairness")
@role_required("admin")
def fairness():
    """人情分: recorders and reviewers of a unit's year, the flagged ones first, with a chart of
    points by recorder; a recorder's row links to the holder who got the most from them."""
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


def share_bars(rows, width=200):
    """Bars of a share (0 to 1) for the inline SVG: full width is 100%, not the largest row."""
    return [
        {
            "name": r["name"],
            "y": index * 30 + 4,
            "length": int(r["share"] * width),
            "shown": f"{r['share'] * 100:.1f}%",
        }
        for index, r in enumerate(rows)
    ]


@bp.get("/reports/participation")
@role_required("admin")
def participation():
    """参与度: per village or community, the households with a posted entry that year, with a
    chart of their share, deductions and objections."""
    me = principal()
    filters = _filters(request.args, me)
    context = dict(filters, report=None, bars=[], error=None)
    if filters["unit_code"]:
        try:
            report = oversight.participation(me, filters["unit_code"], filters["year"])
        except PointsError as error:
            page = render_template(
                "reports/participation.html", **dict(context, error=friendly(error))
            )
            return page, error.status
        context.update(report=report, bars=share_bars(report["items"][:PER_PAGE]))
    return render_template("reports/participation.html", **context)


@bp.get("/reports/liability")
@role_required("admin")
def liability():
    """积分兑付能力: outstanding points against the shops' goods and the fund, per village,
    those that cannot cover their points marked."""
    me = principal()
    filters = _filters(request.args, me)
    scheme_code = request.args.get("scheme") or None
    context = dict(filters, scheme_code=scheme_code, report=None, error=None)
    if filters["unit_code"]:
        try:
            context["report"] = oversight.liability(me, filters["unit_code"], scheme_code)
        except PointsError as error:
            page = render_template("reports/liability.html", **dict(context, error=friendly(error)))
            return page, error.status
    return render_template("reports/liability.html", **context)
