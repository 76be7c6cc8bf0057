"""What the recorder's form (/entries/new) shows and reads, for the page to render: the
schemes with the grids (or branches) whose holders this recorder may score, the chosen
scheme's items by heading and its grades, the holders of the chosen grid to tick; and which
one value field (points, quantity or grade) an item reads from a form."""

from points.org.service import holders_within, units_with_holders
from points.schemes.service import all_schemes, rules_of

GRID_HOLDERS = 300  # the most households one grid (or branch) lists for ticking


def _choose(options, wanted, key):
    return next((option for option in options if key(option) == wanted), None)


def recording_form(principal, scheme_code=None, unit_code=None):
    """The form for this recorder: the scheme asked for (else the first one they may score
    in, else the first), its units, the unit asked for and its holders (up to GRID_HOLDERS)."""
    schemes = [
        (scheme, units_with_holders(principal, scheme.subject, "recorder"))
        for scheme in all_schemes()
    ]
    chosen = (
        _choose(schemes, scheme_code, lambda s: s[0].code)
        or next((s for s in schemes if s[1]), None)
        or (schemes[0] if schemes else None)
    )
    scheme, units = chosen if chosen else (None, [])
    unit = _choose(units, unit_code, lambda u: u.code)
    holders = []
    if unit is not None:
        holders = holders_within(principal, GRID_HOLDERS, unit_code=unit.code, kind=scheme.subject)
    rules = rules_of(scheme.current_version_id) if scheme else None
    grades = list(
        dict.fromkeys(
            g for item in (rules.items if rules else []) if item.grades for g in item.grades
        )
    )
    return dict(
        schemes=[s for s, _units in schemes],
        scheme=scheme,
        units=units,
        unit=unit,
        holders=holders,
        rules=rules,
        grades=grades,
    )


def value_field(scheme_code, item_code):
    """The value field the scheme's current item reads (points, quantity or grade), or None:
    a form shows all three, and sends only this one, as a JSON client would. An unknown scheme
    or item is None too (the schema and the service name those)."""
    scheme = _choose(all_schemes(), scheme_code, lambda s: s.code)
    item = rules_of(scheme.current_version_id).item(item_code) if scheme and item_code else None
    return item.input_field if item is not None else None
