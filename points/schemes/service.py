"""Schemes as the service runs them: synced from YAML into versions, read back as rules."""

import hashlib
import json

from flask import current_app
from sqlalchemy import select

from points.database import end_read, write
from points.errors import invalid, not_found, reason
from points.extensions import db
from points.rules import load_scheme_dir, scheme_from_dict
from points.schemes.models import Scheme, SchemeVersion


UNKNOWN_SCHEME = reason("unknown_scheme", "unknown scheme")


def wrong_kind(scheme, holder):
    """The detail for a holder of the other kind (a household under a party-member scheme)."""
    return reason(
        "wrong_kind",
        "this scheme is for {subject} holders, not {kind}",
        subject=scheme.subject,
        kind=holder.kind,
    )


def _canonical(definition):
    # In file order (grades 优, 良, 中 stay so); the same scheme always gives the same text.
    return json.dumps(definition, ensure_ascii=False, default=str)


def sync(rules_dir):
    """Load every YAML scheme; a changed scheme gets a new version, past entries keep theirs.

    Returns [(code, version, "new" | "changed" | "unchanged")].
    """
    report = []
    end_read()
    with write():
        for rules in load_scheme_dir(rules_dir):
            text = _canonical(rules.to_dict())
            digest = hashlib.sha256(text.encode()).hexdigest()
            scheme = db.session.execute(
                select(Scheme).where(Scheme.code == rules.code)
            ).scalar_one_or_none()
            if scheme is None:
                scheme = Scheme(code=rules.code, name=rules.name, subject=rules.subject, version=0)
                db.session.add(scheme)
                db.session.flush()
                outcome = "new"
            else:
                current = db.session.get(SchemeVersion, scheme.current_version_id)
                if current.digest == digest:
                    report.append((rules.code, scheme.version, "unchanged"))
                    continue
                outcome = "changed"
            version = SchemeVersion(
                scheme_id=scheme.id, version=scheme.version + 1, digest=digest, definition=text
            )
            db.session.add(version)
            db.session.flush()
            scheme.version, scheme.current_version_id = version.version, version.id
            scheme.name, scheme.subject = rules.name, rules.subject
            report.append((rules.code, version.version, outcome))
    return report


def rules_of(version_id):
    """The rules (points.rules.Scheme) of one stored version, parsed once per app: a
    version never changes once written."""
    cache = current_app.extensions.setdefault("points_rules", {})
    rules = cache.get(version_id)
    if rules is None:
        version = db.session.get(SchemeVersion, version_id)
        rules = cache[version_id] = scheme_from_dict(json.loads(version.definition))
    return rules


def scheme_by_code(code, field=None):
    scheme = db.session.execute(select(Scheme).where(Scheme.code == code)).scalar_one_or_none()
    if scheme is None:
        raise invalid({field: [UNKNOWN_SCHEME]}) if field else not_found("scheme")
    return scheme


def all_schemes():
    return list(db.session.execute(select(Scheme).order_by(Scheme.code)).scalars())


def describe(scheme):
    """The scheme for the API: its stored YAML content plus the fields the contract names."""
    rules = rules_of(scheme.current_version_id)
    definition = rules.to_dict()
    definition.update(version=scheme.version, items_count=len(rules.items))
    return definition


# --- versions and what changed between them (民主程序) ----------------------------------------


def versions(scheme):
    """Every synced version of a scheme, newest first, each with its rules (and `adopted`)."""
    rows = (
        db.session.execute(
            select(SchemeVersion)
            .where(SchemeVersion.scheme_id == scheme.id)
            .order_by(SchemeVersion.version.desc())
        )
        .scalars()
        .all()
    )
    return [(row, rules_of(row.id)) for row in rows]


def comparison(code, version=None):
    """A version (default the current one) beside the one before it, item by item."""
    from points.rules.compare import compare

    scheme = scheme_by_code(code)
    number = scheme.version if version is None else version
    by_number = {
        row.version: row
        for row in db.session.execute(
            select(SchemeVersion).where(
                SchemeVersion.scheme_id == scheme.id,
                SchemeVersion.version.in_((number, number - 1)),
            )
        ).scalars()
    }
    if number not in by_number:
        raise not_found("scheme version")
    after = rules_of(by_number[number].id)
    before = rules_of(by_number[number - 1].id) if number - 1 in by_number else None
    return {
        "scheme": scheme,
        "version": by_number[number],
        "rules": after,
        "previous": by_number.get(number - 1),
        "changes": compare(before, after),
    }
