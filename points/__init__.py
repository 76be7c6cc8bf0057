"""The village points service: moral credit (道德积分) and party-member points (党员积分)."""

from inspect import iscoroutinefunction
from pathlib import Path

import click
import simplejson
import swagger_ui_bundle
from flask import Flask, request, send_from_directory
from flask.json.provider import DefaultJSONProvider
from sqlalchemy import text
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from points import errors
from points.config import config_for, secret_key_from_file
from points.database import ping_when_idle, release_direct
from points.extensions import db, migrate

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


class JSONProvider(DefaultJSONProvider):
    """Points are exact decimals written as JSON numbers (2.5, never "2.5"); Chinese as is."""

    ensure_ascii = False
    sort_keys = False

    def dumps(self, obj, **kwargs):
        kwargs.setdefault("default", self.default)
        kwargs.setdefault("ensure_ascii", self.ensure_ascii)
        kwargs.setdefault("sort_keys", self.sort_keys)
        return simplejson.dumps(obj, use_decimal=True, **kwargs)


class RowId(IntegerConverter):
    """<int:...> in a path: a number beyond any 64-bit row id names nothing (404, no overflow)."""

    def __init__(self, url_map, *args, **kwargs):
        kwargs.setdefault("max", 2**63 - 1)
        super().__init__(url_map, *args, **kwargs)


class App(Flask):
    """Flask asks of every hook and view, on every request, whether it is a coroutine
    (inspect, sixteen times a request here); the answer is a property of the function, so it
    is asked once per function. Async views would still be run as Flask runs them."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._is_coroutine = {}

    def ensure_sync(self, func):
        plain = getattr(func, "__func__", func)  # a MethodView's method, bound per request
        found = self._is_coroutine.get(plain)
        if found is None:
            found = self._is_coroutine[plain] = iscoroutinefunction(plain)
        return self.async_to_sync(func) if found else func


def create_app(config=None, **overrides):
    app = App(__name__, instance_relative_config=True)
    app.url_map.converters["int"] = RowId
    app.json_provider_class = JSONProvider
    app.json = JSONProvider(app)
    app.config.from_object(
        config if config is not None and not isinstance(config, str) else config_for(config)
    )
    app.config.update(overrides)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    _secret_key(app)
    if app.config["PROXIES"]:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=app.config["PROXIES"])

    _check_rules(app)
    ping_after = _engine_options(app)
    db.init_app(app)
    if ping_after is not None:
        with app.app_context():
            ping_when_idle(db.engine, ping_after)
    app.teardown_request(release_direct)
    app.teardown_appcontext(release_direct)
    _init_metrics_and_replica(app)
    migrate.init_app(app, db, directory=str(MIGRATIONS))
    _register_blueprints(errors.Api(app, spec_kwargs={"security": [{"bearerAuth": []}]}))
    errors.register(app)  # after the API, so that our envelope wins over flask-smorest's
    _register_health_and_docs(app)
    _register_settling(app)
    _register_upload_limits(app)
    _refuse_nul(app)  # after the upload limits: it reads a form's fields
    _init_pages(app)
    _register_pages(app)

    from points.cli import register as register_cli

    register_cli(app)
    return app


def _secret_key(app):
    """SECRET_KEY from the environment; outside production, else a random key kept in the
    instance folder (api.md, Auth). Production without one refuses to start."""
    if app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY_SOURCE"] = "the SECRET_KEY environment variable"
        return
    if app.config.get("ENV_NAME") == "production":
        raise RuntimeError("SECRET_KEY must be set outside development (POINTS_ENV=production)")
    path = app.config.get("SECRET_KEY_FILE") or Path(app.instance_path) / "secret_key"
    app.config["SECRET_KEY"] = secret_key_from_file(path)
    app.config["SECRET_KEY_SOURCE"] = str(path)


def _check_rules(app):
    """The service refuses to start on an invalid scheme file.

    The command line still starts, so that `rules check` can name every error; commands
    that load the rules fail on them as they would.
    """
    from points.rules import RuleError, load_scheme_dir

    try:
        load_scheme_dir(app.config["RULES_DIR"])
    except RuleError:
        if click.get_current_context(silent=True) is None:
            raise


def _engine_options(app):
    """Behind pgbouncer (transaction pooling) psycopg must not prepare statements on the server.
    A SQLite file is no connection that can drop: no ping before each checkout (one statement
    fewer on every request).

    The pool hands out the connection given back last (LIFO), not the one idle longest: a SQLite
    connection's page cache is dropped whenever another connection has committed since its last
    transaction, so taking turns between two connections of one process made every request read
    its pages again (0.87 against 0.52 ms of SQLite per redemption). On PostgreSQL the
    connections beyond those in use stay idle and may be closed by the server.

    Returns the seconds after which a waiting PostgreSQL connection is pinged
    (`database.ping_when_idle`, in place of a ping on every checkout), or None."""
    options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    uri = str(app.config.get("SQLALCHEMY_DATABASE_URI", ""))
    ping_after = app.config.get("POOL_PING_AFTER")
    if app.config.get("PGBOUNCER"):
        options["connect_args"] = {**options.get("connect_args", {}), "prepare_threshold": None}
    if uri.startswith("sqlite"):
        options.pop("pool_pre_ping", None)
    if not options.get("pool_pre_ping") or ping_after is None or ping_after < 0:
        ping_after = None  # no ping at all, or SQLAlchemy's on every checkout
    else:
        options.pop("pool_pre_ping")
    if uri not in ("sqlite://", "sqlite:///:memory:"):  # a memory database has one connection
        options.setdefault("pool_use_lifo", True)
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    return ping_after


def _init_metrics_and_replica(app):
    """/metrics and the request counts, first of the request hooks so that they time them all;
    the hot standby for reports (POINTS_REPLICA_URL)."""
    from points import metrics, replica

    metrics.init_app(app)
    replica.init_app(app)


def _refuse_nul(app):
    """%00 in a path or a value is refused for every request, before sign-in and any lookup
    (app hooks run before the blueprints' own: the API's sign-in)."""
    from points.http import refuse_nul

    app.before_request(refuse_nul)


def _register_blueprints(api):
    from points.appraisals.api import blp as appraisals, public as public_appraisals
    from points.claims.api import blp as claims, public as public_claims
    from points.entries.api import blp as entries
    from points.evidence.api import blp as evidence
    from points.funds.api import blp as funds
    from points.ledger.api import blp as accounts
    from points.org.api import blp as org
    from points.public.api import blp as public
    from points.reports.api import blp as reports
    from points.schemes.api import blp as schemes
    from points.shop.api import blp as shop
    from points.users.api import auth, blp as users

    api.spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer"})
    for blueprint in (
        auth,
        users,
        org,
        schemes,
        entries,
        evidence,
        claims,
        accounts,
        shop,
        reports,
        public,
        public_claims,
        appraisals,
        public_appraisals,
        funds,
    ):
        api.register_blueprint(blueprint)


def _init_pages(app):
    """Sessions, CSRF, languages and security headers for the server-rendered pages."""
    from points import web

    web.init_app(app)


def _register_pages(app):
    """The web pages (api.md, "Web pages"): plain blueprints, one per capability."""
    from points.admin.pages import bp as admin_pages
    from points.appraisals.pages import bp as appraisals_pages
    from points.cards.pages import bp as cards_pages
    from points.notices.pages import bp as notices_pages
    from points.claims.pages import bp as claims_pages
    from points.desk.pages import org_pages  # and home, on users_pages
    from points.entries.pages import bp as entries_pages
    from points.funds.pages import bp as funds_pages
    from points.public.pages import bp as public_pages
    from points.reports.pages import bp as reports_pages
    from points.shop.pages import bp as shop_pages
    from points.users.pages import bp as users_pages

    for blueprint in (
        users_pages,
        entries_pages,
        claims_pages,
        org_pages,
        public_pages,
        shop_pages,
        reports_pages,
        admin_pages,
        appraisals_pages,
        funds_pages,
    ):
        app.register_blueprint(blueprint)
    app.register_blueprint(cards_pages)
    app.register_blueprint(notices_pages)


def _register_health_and_docs(app):
    @app.get("/healthz")
    def healthz():
        try:
            db.session.execute(text("SELECT 1"))
        except Exception:  # any failure to reach the database means "not ready"
            return {"status": "unavailable"}, 503
        return {"status": "ok"}

    @app.get("/api/v1/docs/assets/<path:filename>")
    def docs_assets(filename):
        """Swagger UI's files, served by the service itself (villages are offline)."""
        return send_from_directory(swagger_ui_bundle.swagger_ui_path, filename, max_age=86400)


def _register_upload_limits(app):
    """Photos are the only large bodies: the paths that take them (api.md, Conventions: at
    most 3 files of 5 MiB) get room for three, every other body keeps MAX_CONTENT_LENGTH."""
    from points.evidence.service import MAX_BYTES, MAX_FILES

    uploads = {
        "evidence.EntryEvidence",
        "public_claims.PublicClaims",
        "claims_pages.submit_claim",
        "entries_pages.attach_photo",
    }

    @app.before_request
    def room_for_photos():
        if request.endpoint in uploads and request.mimetype == "multipart/form-data":
            request.max_content_length = MAX_FILES * MAX_BYTES + 1024 * 1024


def _register_settling(app):
    """Each server process settles on its own, outside requests (points/settling.py), and on
    SQLite writes the WAL back into the database file (points/checkpointing.py)."""
    from points import checkpointing, settling

    settling.init_app(app)
    checkpointing.init_app(app)
