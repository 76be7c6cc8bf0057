"""Settings, all from the environment (api.md, "Configuration")."""

import os
import secrets
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def database_url(url):
    """Accept the plain URLs users write: postgresql:// and postgres:// mean psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


class Config:
    ENV_NAME = "production"
    SECRET_KEY = os.environ.get("SECRET_KEY")
    SQLALCHEMY_DATABASE_URI = database_url(
        os.environ.get("DATABASE_URL", f"sqlite:///{ROOT / 'instance' / 'points.db'}")
    )
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    # PostgreSQL: a connection that sat in the pool longer than this (seconds) is pinged before
    # it is handed out, and replaced if the server has gone; one given back a moment ago is not
    # (the ping was a round trip on every request). None or a negative value: ping every time.
    POOL_PING_AFTER = float(os.environ.get("POINTS_POOL_PING_AFTER", "1"))
    # A hot standby for reports (api.md, Configuration; points/replica.py).
    REPLICA_URL = os.environ.get("POINTS_REPLICA_URL")
    # Behind pgbouncer in transaction pooling: no server-side prepared statements (psycopg's
    # prepare_threshold=None), since the next transaction may run on another server connection.
    PGBOUNCER = os.environ.get("POINTS_PGBOUNCER", "") not in ("", "0", "false", "no")
    # /metrics from elsewhere than 127.0.0.1 with this bearer token (points/metrics.py).
    METRICS_TOKEN = os.environ.get("POINTS_METRICS_TOKEN")
    RULES_DIR = os.environ.get("POINTS_RULES_DIR", str(ROOT / "rules"))
    TIMEZONE = os.environ.get("POINTS_TIMEZONE", "Asia/Shanghai")
    # werkzeug's scrypt (N=2^15, r=8, p=1); tests lower the cost.
    PASSWORD_HASH_METHOD = os.environ.get("POINTS_PASSWORD_HASH", "scrypt:32768:8:1")
    # PINs of households and members (4 to 8 digits) cost less: no hash cost makes a 4-digit
    # PIN (10^4 tries) safe once the database is stolen, and even 8 digits at the password cost
    # would make a village's import of 5,000 take minutes. What protects a PIN is the online
    # lockout (5 tries per holder, PIN_ADDRESS_FAILURES per address); scrypt N=2^10 (1 MiB,
    # ~2.3 ms on one core) still costs an offline attacker ~2.7 core-days for one 8-digit PIN,
    # and lets a list of 5,000 be hashed in ~12 s on one core (N=2^11 took ~28 s, at the page's
    # 30 s worker timeout). Hashes made at an earlier cost keep verifying (the cost is stored).
    PIN_HASH_METHOD = os.environ.get("POINTS_PIN_HASH", "scrypt:1024:8:1")
    # Where photos of entries and claims are kept (default instance/evidence/).
    EVIDENCE_DIR = os.environ.get("POINTS_EVIDENCE_DIR")
    TOKEN_HOURS = int(os.environ.get("POINTS_TOKEN_HOURS", "12"))
    LOCKOUT_FAILURES = 5
    LOCKOUT_MINUTES = 15
    PIN_ADDRESS_FAILURES = 20  # failed PINs from one client address in the window, all holders
    # Proxies in front (nginx: 1): the client address is then the one they put in X-Forwarded-For.
    PROXIES = int(os.environ.get("POINTS_PROXIES", "0"))
    # How often a running service posts entries whose notice has ended (seconds).
    SETTLE_EVERY = int(os.environ.get("POINTS_SETTLE_EVERY", "3600"))
    # On SQLite, how often each server process writes the WAL back into the database file, so
    # that no commit waits for it (seconds; 0: the commits do, as SQLite does by default).
    SQLITE_CHECKPOINT_EVERY = float(os.environ.get("POINTS_SQLITE_CHECKPOINT_EVERY", "0.5"))
    # 人情分 flags (api.md, Oversight): a recorder whose one holder got over this share of their
    # positive points across at least this many positive entries; a reviewer with at least
    # this many reviews and no rejection.
    FAIRNESS_TOP_SHARE = float(os.environ.get("POINTS_FAIRNESS_TOP_SHARE", "0.3"))
    FAIRNESS_MIN_ENTRIES = int(os.environ.get("POINTS_FAIRNESS_MIN_ENTRIES", "10"))
    FAIRNESS_MIN_REVIEWS = int(os.environ.get("POINTS_FAIRNESS_MIN_REVIEWS", "50"))
    # Who tells households of their entries (points notices send): "module:Class", a Sender.
    NOTICE_SENDER = os.environ.get("POINTS_NOTICE_SENDER", "points.notices.service:SlipSender")
    # 积分兑付能力: what one point is worth in yuan when the fund (公益金) is set against the
    # points outstanding (1 point is commonly valued at 1 yuan in a love supermarket).
    YUAN_PER_POINT = os.environ.get("POINTS_YUAN_PER_POINT", "1")
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = True
    MAX_CONTENT_LENGTH = 1024 * 1024  # a JSON body over 1 MiB → 413 payload_too_large

    API_TITLE = "Village points service"
    API_VERSION = "v1"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/api/v1"
    OPENAPI_JSON_PATH = "openapi.json"
    OPENAPI_SWAGGER_UI_PATH = "docs"
    OPENAPI_SWAGGER_UI_URL = "/api/v1/docs/assets/"


class DevelopmentConfig(Config):
    """Without SECRET_KEY the key is made on first start and kept in SECRET_KEY_FILE."""

    ENV_NAME = "development"
    SECRET_KEY_FILE = os.environ.get("POINTS_SECRET_KEY_FILE")  # default: instance/secret_key
    SESSION_COOKIE_SECURE = False


class TestConfig(DevelopmentConfig):
    ENV_NAME = "test"
    TESTING = True
    SECRET_KEY = secrets.token_hex(32)  # a fresh key per test run, never one written here
    PASSWORD_HASH_METHOD = "scrypt:1024:8:1"
    PIN_HASH_METHOD = "scrypt:1024:8:1"
    SETTLE_EVERY = 0  # tests settle by hand
    SQLITE_CHECKPOINT_EVERY = 0  # and their commits checkpoint, as SQLite does by default


CONFIGS = {"production": Config, "development": DevelopmentConfig, "test": TestConfig}


def secret_key_from_file(path):
    """The key kept in `path` (readable by its owner only), made there on the first start.

    Several workers may start at once: each writes a key of its own to a private temporary
    file and links it into place, which only one of them manages (the link is exclusive and
    atomic); then every one of them reads the key that won, never a half-written file.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        draft = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w") as out:
                out.write(secrets.token_hex(32))
                out.flush()
                os.fsync(out.fileno())
            try:
                os.link(draft, path)
            except FileExistsError:
                pass  # another worker made it first: use theirs
        finally:
            draft.unlink(missing_ok=True)
    key = path.read_text().strip()
    if len(key) < 32:
        raise RuntimeError(f"the secret key in {path} is too short; delete it to make a new one")
    return key


def config_for(name=None):
    return CONFIGS[name or os.environ.get("POINTS_ENV", "development")]
