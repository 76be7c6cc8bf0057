"""What the report pages show (/reports/…): each page's whole read as one function of the
caller's Principal and the query's plain values, and the charts' geometry. No Flask here: the
pages word a refusal and render."""

from decimal import Decimal

from points.database import today
from points.errors import PointsError
from points.org.service import units_within
from points.reports import oversight, service
from points.reports.fairness import fairness as fairness_report
from points.reports.province import FIGURES
from points.schemes.models import FIRST_YEAR, LAST_YEAR
from points.schemes.service import all_schemes, rules_of

PER_PAGE = 100  # ranking rows on one screen
PRINTED = 2000  # ranking rows on a printed notice board
TOP = 10  # bars in the ranking's chart

# The parts of a year a ranking can cover (月考, 季考, 半年考): "" is the whole year.
SPANS = ("", "H1", "H2", "Q1", "Q2", "Q3", "Q4") + tuple(f"{m:02d}" for m in range(1, 13))


def _year(value):
    try:
        year = int(value)
    except (TypeError, ValueError):
        return today().year
    return year if FIRST_YEAR <= year <= LAST_YEAR else today().year


def filters(principal, args):
    """The chosen scheme, unit and year, defaulting to the first scheme, the admin's own unit
    and this year."""
    schemes = all_schemes()
    units = units_within(principal, "admin")
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


def ranked_period(args, chosen):
    """The ranking's period: `period` as the API takes it (checked the same way, by the service),
    else the chosen year and part of it ("2026-Q3"); None for the year."""
    if args.get("period"):
        return args["period"]
    span = args.get("span", "")
    return f"{chosen['year']}-{span}" if span in SPANS and span else None


def _span(ranked):
    return ranked.split("-")[1] if ranked and "-" in ranked else ""


def _filled(context, read):
    """The page's context with what `read()` adds, and no refusal; or the context as it was
    and the refusal, for the page to word."""
    try:
        return dict(context, **read()), None
    except PointsError as error:
        return context, error


def graded(report):
    """Whether the ranking's scheme grades its holders (评档定级): its rows carry a grade."""
    return bool(report and report["items"] and "grade" in report["items"][0])


# --- the pages ------------------------------------------------------------------------------


def ranking(principal, args):
    """积分排名: a page of the ranking, the top rows as a chart; (context, refusal or None)."""
    chosen = filters(principal, args)
    given = args.get("page", "1")
    page = max(int(given) if given.isdigit() else 1, 1)
    ranked = ranked_period(args, chosen)
    context = dict(
        chosen,
        report=None,
        bars=[],
        page=page,
        pages=1,
        period=None,
        spans=SPANS,
        span=_span(ranked),
    )
    if chosen["scheme"] is None or not chosen["unit_code"]:
        return context, None

    def read():
        asked = (principal, chosen["scheme"].code, chosen["unit_code"], chosen["year"])
        report = service.ranking(*asked, page, PER_PAGE, period=ranked)
        top = service.ranking(*asked, 1, TOP, period=ranked)
        return dict(
            report=report,
            bars=hbars(top["items"]),
            pages=max(1, -(-report["total"] // PER_PAGE)),
            graded=graded(report),
        )

    return _filled(context, read)


def grades(principal, args):
    """评档定级: how many holders are in each grade, as a chart; (context, refusal or None)."""
    chosen = filters(principal, args)
    schemes = [s for s in chosen["schemes"] if rules_of(s.current_version_id).grades]
    scheme = next(
        (s for s in schemes if s.code == args.get("scheme")), schemes[0] if schemes else None
    )
    ranked = ranked_period(args, chosen)
    context = dict(
        chosen,
        schemes=schemes,
        scheme=scheme,
        report=None,
        bars=[],
        spans=SPANS,
        span=_span(ranked),
    )
    if scheme is None or not chosen["unit_code"]:
        return context, None

    def read():
        period = ranked or str(chosen["year"])
        report = service.grades(principal, scheme.code, chosen["unit_code"], period)
        rows = [{"name": grade, "points": count} for grade, count in report["counts"].items()]
        return dict(report=report, bars=hbars(rows))

    return _filled(context, read)


def ranking_report(principal, args):
    """The whole ranking, for an export (the same rows and files as the API's)."""
    return _report(principal, args, filters(principal, args))


def _report(principal, args, chosen, page=None, per_page=None):
    if chosen["scheme"] is None:
        raise PointsError("not_found", "no scheme", 404)
    return service.ranking(
        principal,
        chosen["scheme"].code,
        chosen["unit_code"],
        chosen["year"],
        page,
        per_page,
        period=ranked_period(args, chosen),
    )


def ranking_print(principal, args):
    """The ranking for the notice board, with the year's awards (年终评优) once it is closed."""
    chosen = filters(principal, args)
    report = _report(principal, args, chosen, 1, PRINTED)
    try:
        period = service.get_period(principal, chosen["scheme"].code, chosen["year"])
    except PointsError:
        period = None
    awards = []
    if period is not None:
        codes = {row["holder"] for row in report["items"]}
        awards = [a for a in period["award_details"] if a["holder"] in codes]
    return dict(
        report=report,
        awards=awards,
        printed_on=today(),
        closed=period is not None,
        graded=graded(report),
    )


STATS_TOTALS = tuple(f for f in FIGURES if f != "holders")  # summed over the months


def _unit_page(principal, args, read, **empty):
    """A page of one unit's year: the filters and `empty` (what it shows before a unit is
    chosen), with what `read(chosen)` adds once one is; (context, refusal or None)."""
    chosen = filters(principal, args)
    context = dict(chosen, **empty)
    if not chosen["unit_code"]:
        return context, None
    return _filled(context, lambda: read(chosen))


def stats(principal, args):
    """统计: a unit's year month by month, its totals and a chart; (context, refusal or None)."""
    scheme_code = args.get("scheme") or None

    def read(chosen):
        figures = service.statistics(principal, chosen["unit_code"], chosen["year"], scheme_code)
        months = figures["months"]
        return dict(
            figures=figures,
            totals={key: sum((m[key] for m in months), 0) for key in STATS_TOTALS},
            chart=vbars(months, ("granted", "spent")),
        )

    return _unit_page(principal, args, read, scheme_code=scheme_code, figures=None, chart=None)


def fairness(principal, args):
    """人情分: the unit's recorders and reviewers, a chart of points by recorder."""

    def read(chosen):
        report = fairness_report(principal, chosen["unit_code"], chosen["year"])
        chart = sorted(report["recorders"], key=lambda r: -r["points"])[:TOP]
        return dict(report=report, bars=hbars([dict(r, name=r["username"]) for r in chart]))

    return _unit_page(principal, args, read, report=None, bars=[])


def participation(principal, args):
    """参与度: per village, the households with a posted entry that year, as shares."""

    def read(chosen):
        report = oversight.participation(principal, chosen["unit_code"], chosen["year"])
        return dict(report=report, bars=share_bars(report["items"][:PER_PAGE]))

    return _unit_page(principal, args, read, report=None, bars=[])


def liability(principal, args):
    """积分兑付能力: outstanding points against the goods and the fund, per village."""
    scheme_code = args.get("scheme") or None

    def read(chosen):
        return dict(report=oversight.liability(principal, chosen["unit_code"], scheme_code))

    return _unit_page(principal, args, read, scheme_code=scheme_code, report=None)


# --- the charts: inline SVG geometry ---------------------------------------------------------


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
