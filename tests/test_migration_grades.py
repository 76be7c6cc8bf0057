"""The migration that adds approvals.grade (hours_graded) upgrades a database made by the head
before it, keeping the approvals already there (graded by nobody)."""

from datetime import date, datetime, timezone

from flask_migrate import upgrade
from sqlalchemy import text

from conftest import make_app
from points.extensions import db
from test_migration_chain import old_database  # noqa: F401  (fixture)

BEFORE_GRADES = "f13b00000002"


def test_approvals_made_before_grades_keep_their_rows_with_no_grade(old_database):  # noqa: F811
    app = make_app(old_database)
    with app.app_context():
        upgrade(revision=BEFORE_GRADES)
        at = datetime(2026, 6, 1, tzinfo=timezone.utc)
        with db.engine.begin() as connection:
            for sql, params in [
                (
                    "INSERT INTO units (id, code, name, kind, parent_id, path) VALUES (1, 'v', "
                    "'村', 'village', NULL, '/1/')",
                    {},
                ),
                (
                    "INSERT INTO schemes (id, code, name, subject, version) VALUES (1, 's', "
                    "'方案', 'member', 1)",
                    {},
                ),
                (
                    "INSERT INTO scheme_versions (id, scheme_id, version, digest, definition, "
                    "created_at) "
                    "VALUES (1, 1, 1, 'd', '{}', :at)",
                    {"at": at},
                ),
                (
                    "INSERT INTO users (id, username, display_name, password_hash, disabled, "
                    "created_at) "
                    "VALUES (1, 'rev', '', 'x', :f, :at)",
                    {"f": False, "at": at},
                ),
                (
                    "INSERT INTO holders (id, code, name, kind, unit_id) VALUES (1, 'M1', '党员', "
                    "'member', 1)",
                    {},
                ),
                (
                    "INSERT INTO entries (id, scheme_id, scheme_version_id, holder_id, item, "
                    "category, veto, points, occurred_on, note, status, recorded_by_id, "
                    "created_at) VALUES (1, 1, 1, 1, 'ST10', 'service', "
                    ":f, 40, :day, '', 'pending', 1, :at)",
                    {"f": False, "day": date(2026, 6, 1), "at": at},
                ),
                (
                    "INSERT INTO approvals (id, entry_id, user_id, at) VALUES (1, 1, 1, :at)",
                    {"at": at},
                ),
            ]:
                connection.execute(text(sql), params)
        upgrade()
        rows = db.session.execute(text("SELECT id, grade FROM approvals")).all()
        assert [tuple(row) for row in rows] == [(1, None)]
        db.session.remove()
        db.engine.dispose()
