"""Pages: /reports/ranking (积分排名 with stars, filters, exports, a chart, an A4 printout)
and /reports/stats (统计: a unit's year month by month), for administrators. What each page
shows is read by one function of points.reports.screens."""

from flask import Blueprint, render_template, request

from points.reports import screens
from points.reports.exports import ranking_csv, ranking_xlsx, title
from points.web import friendly, page_errors, principal, role_required

bp = page_errors(Blueprint("reports_pages", __name__))


def _show(template, read):
    """A report page: `read(principal, args)` gives its context and a refusal, worded on the
    same page with the refusal's status."""
    context, error = read(principal(), request.args)
    if error is not None:
        return render_template(template, **context, error=friendly(error)), error.status
    return render_template(template, **context, error=None)


@bp.get("/reports/ranking")
@role_required("admin")
def ranking():
    """积分排名: scheme, unit and year; stars; CSV and Excel; a chart of the top 10."""
    return _show("reports/ranking.html", screens.ranking)


@bp.get("/reports/grades")
@role_required("admin")
def grades():
    """评档定级: how many holders of the unit are in each grade of the year, as a chart, and who."""
    return _show("reports/grades.html", screens.grades)


@bp.get("/reports/ranking/export")
@role_required("admin")
def ranking_export():
    """导出 Excel / 导出 CSV: the same rows and files as the API's format=xlsx|csv."""
    report = screens.ranking_report(principal(), request.args)
    return ranking_xlsx(report) if request.args.get("format") == "xlsx" else ranking_csv(report)


@bp.get("/reports/ranking/print")
@role_required("admin")
def ranking_print():
    """The ranking for the village notice board: A4, the unit's name and the date in the heading,
    and the year's awards (年终评优) once the year is closed."""
    shown = screens.ranking_print(principal(), request.args)
    return render_template("reports/ranking_print.html", **shown, heading=title(shown["report"]))


@bp.get("/reports/stats")
@role_required("admin")
def stats():
    """统计: entries recorded, posted, rejected, revoked; points by heading; redemptions by
    shop; the top items; month by month with a chart."""
    return _show("reports/stats.html", screens.stats)


@bp.get("/reports/fairness")
@role_required("admin")
def fairness():
    """人情分: recorders and reviewers of a unit's year, the flagged ones first, with a chart of
    points by recorder; a recorder's row links to the holder who got the most from them."""
    return _show("reports/fairness.html", screens.fairness)


@bp.get("/reports/participation")
@role_required("admin")
def participation():
    """参与度: per village or community, the households with a posted entry that year, with a
    chart of their share, deductions and objections."""
    return _show("reports/participation.html", screens.participation)


@bp.get("/reports/liability")
@role_required("admin")
def liability():
    """积分兑付能力: outstanding points against the shops' goods and the fund, per village,
    those that cannot cover their points marked."""
    return _show("reports/liability.html", screens.liability)
