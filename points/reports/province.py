"""A county's year for the province: a signed statistics file, and the province's merge of them.

One service and one database per county; the province receives figures, never rows. The file
is JSON: {"payload": {...}, "signature": {"algorithm": "Ed25519", "value": base64}}, the
signature over the payload's canonical JSON (keys sorted, no spaces, UTF-8, points as exact
decimals). The county keeps its private key; the province keeps a directory of the counties'
public keys, one `<county code>.pub` each (PEM), so a file is checked against the key of the
county it names and a county cannot sign for another.
"""

import base64
import csv
import io
import os
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

import marshmallow as ma
import simplejson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import func, select

from points.database import as_points, local_tz, reading
from points.errors import PointsError
from points.extensions import db
from points.org.models import Holder, Unit
from points.reports.exports import csv_cell, xlsx_row
from points.reports.models import EntryStat
from points.schemes.models import Scheme

FORMAT = "points-county-stats/1"
FIGURES = (
    "holders",
    "recorded",
    "posted",
    "rejected",
    "revoked",
    "granted",
    "deducted",
    "redemptions",
    "spent",
)
HEADERS = {
    "county": "县编码",
    "county_name": "县",
    "scheme": "方案",
    "scheme_name": "积分方案",
    "holders": "户数/人数",
    "recorded": "记录",
    "posted": "已入账",
    "rejected": "未通过",
    "revoked": "已撤销",
    "granted": "获得积分",
    "deducted": "扣减积分",
    "redemptions": "兑换次数",
    "spent": "兑换积分",
}


def refused(message):
    return PointsError("bad_stats_file", message, 400)


class SchemeFigures(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    scheme = ma.fields.String(required=True, validate=ma.validate.Length(1, 64))
    name = ma.fields.String(required=True)
    holders = ma.fields.Integer(required=True, strict=True, validate=ma.validate.Range(min=0))
    recorded = ma.fields.Integer(required=True, strict=True, validate=ma.validate.Range(min=0))
    posted = ma.fields.Integer(required=True, strict=True, validate=ma.validate.Range(min=0))
    rejected = ma.fields.Integer(required=True, strict=True, validate=ma.validate.Range(min=0))
    revoked = ma.fields.Integer(required=True, strict=True, validate=ma.validate.Range(min=0))
    granted = ma.fields.Decimal(required=True, places=1, validate=ma.validate.Range(min=0))
    deducted = ma.fields.Decimal(required=True, places=1, validate=ma.validate.Range(min=0))
    redemptions = ma.fields.Integer(required=True, strict=True, validate=ma.validate.Range(min=0))
    spent = ma.fields.Decimal(required=True, places=1, validate=ma.validate.Range(min=0))


class County(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    code = ma.fields.String(required=True, validate=ma.validate.Regexp(r"^[A-Za-z0-9_.-]{1,64}$"))
    name = ma.fields.String(required=True)


class Payload(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    format = ma.fields.String(required=True, validate=ma.validate.Equal(FORMAT))
    county = ma.fields.Nested(County, required=True)
    year = ma.fields.Integer(required=True, strict=True, validate=ma.validate.Range(2000, 2200))
    exported_at = ma.fields.String(required=True)
    schemes = ma.fields.List(ma.fields.Nested(SchemeFigures), required=True)


def canonical(payload):
    """The bytes that are signed: the same for any spacing or key order of the same payload."""
    return simplejson.dumps(
        payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, use_decimal=True
    ).encode("utf-8")


# --- keys ----------------------------------------------------------------------------------


def make_key(path):
    """A new Ed25519 key: the private one at `path` (0600, never overwritten), the public one
    beside it as `<path>.pub` for the province."""
    path = Path(path)
    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise refused(
            f"{path} already exists: a county keeps one key (delete it only to replace it)"
        ) from None
    except OSError as error:
        raise refused(f"cannot write {path}: {error.strerror}") from None
    with os.fdopen(fd, "wb") as out:
        out.write(private)
    public_path = path.with_name(path.name + ".pub")
    public_path.write_bytes(public)
    return public_path


def _private_key(path):
    try:
        key = serialization.load_pem_private_key(Path(path).read_bytes(), password=None)
    except OSError as error:
        raise refused(f"cannot read the key {path}: {error.strerror}") from None
    except (ValueError, TypeError):
        raise refused(f"{path} is not a PEM private key without a password") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise refused(f"{path} is not an Ed25519 key (make one with `points stats keygen`)")
    return key


def _public_key(directory, county):
    path = Path(directory) / f"{county}.pub"
    try:
        key = serialization.load_pem_public_key(path.read_bytes())
    except OSError:
        raise refused(f"no public key for county {county} ({path})") from None
    except ValueError:
        raise refused(f"{path} is not a PEM public key") from None
    if not isinstance(key, Ed25519PublicKey):
        raise refused(f"{path} is not an Ed25519 key")
    return key


# --- export (the county) -------------------------------------------------------------------


def _county(code):
    if code:
        unit = db.session.execute(select(Unit).where(Unit.code == code)).scalar_one_or_none()
        if unit is None:
            raise refused(f"no unit {code}")
        return unit
    roots = (
        db.session.execute(select(Unit).where(Unit.parent_id.is_(None)).order_by(Unit.code))
        .scalars()
        .all()
    )
    if len(roots) != 1:
        raise refused(
            "name the county with --unit: this database has "
            + (", ".join(u.code for u in roots) if roots else "no unit")
        )
    return roots[0]


@reading()
def county_year(unit_code, year):
    """The payload: the county's figures of the year, per scheme, from the running counts."""
    from points.shop.models import Redemption, Shop

    unit = _county(unit_code)
    schemes = db.session.execute(select(Scheme).order_by(Scheme.code)).scalars().all()
    counts = {
        row.scheme_id: row
        for row in db.session.execute(
            select(
                EntryStat.scheme_id,
                *(
                    func.sum(getattr(EntryStat, f)).label(f)
                    for f in ("recorded", "posted", "rejected", "revoked", "granted", "deducted")
                ),
            )
            .where(EntryStat.unit_id == unit.id, EntryStat.year == year)
            .group_by(EntryStat.scheme_id)
        )
    }
    start, end = (
        datetime(year, 1, 1, tzinfo=local_tz()),
        datetime(year + 1, 1, 1, tzinfo=local_tz()),
    )
    spent = {
        row.scheme_id: row
        for row in db.session.execute(
            select(
                Redemption.scheme_id,
                func.count(Redemption.id).label("redemptions"),
                func.sum(Redemption.total).label("spent"),
            )
            .join(Shop, Redemption.shop_id == Shop.id)
            .join(Unit, Shop.unit_id == Unit.id)
            .where(
                Redemption.status == "completed",
                Redemption.at >= start,
                Redemption.at < end,
                Unit.path.startswith(unit.path),
            )
            .group_by(Redemption.scheme_id)
        )
    }
    holders = dict(
        db.session.execute(
            select(Holder.kind, func.count(Holder.id))
            .join(Unit, Holder.unit_id == Unit.id)
            .where(Unit.path.startswith(unit.path))
            .group_by(Holder.kind)
        ).all()
    )
    rows = []
    for scheme in schemes:
        count, sold = counts.get(scheme.id), spent.get(scheme.id)
        if count is None and sold is None:
            continue  # a scheme this county does not use
        rows.append(
            {
                "scheme": scheme.code,
                "name": scheme.name,
                "holders": holders.get(scheme.subject, 0),
                **{
                    f: int(getattr(count, f) or 0) if count else 0
                    for f in ("recorded", "posted", "rejected", "revoked")
                },
                "granted": as_points(count.granted if count else 0),
                "deducted": as_points(count.deducted if count else 0),
                "redemptions": int(sold.redemptions) if sold else 0,
                "spent": as_points(sold.spent if sold else 0),
            }
        )
    return {
        "format": FORMAT,
        "county": {"code": unit.code, "name": unit.name},
        "year": year,
        "exported_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "schemes": rows,
    }


def signed(payload, key_path):
    signature = _private_key(key_path).sign(canonical(payload))
    return {
        "payload": payload,
        "signature": {"algorithm": "Ed25519", "value": base64.b64encode(signature).decode("ascii")},
    }


def export(unit_code, year, key_path, out_path=None):
    """Write the signed file; returns its path."""
    document = signed(county_year(unit_code, year), key_path)
    county = document["payload"]["county"]["code"]
    path = Path(out_path or f"{county}-{year}.json")
    draft = path.with_name(f".{path.name}.part")
    try:
        draft.write_text(
            simplejson.dumps(document, ensure_ascii=False, use_decimal=True, indent=1),
            encoding="utf-8",
        )
        os.replace(draft, path)
    except OSError as error:
        raise refused(f"cannot write {path}: {error.strerror}") from None
    return path


# --- merge (the province) ------------------------------------------------------------------


def read_checked(path, keys_dir):
    """The payload of one county's file, once its signature and schema hold; else a refusal
    naming the file."""
    try:
        document = simplejson.loads(Path(path).read_text(encoding="utf-8"), use_decimal=True)
    except OSError as error:
        raise refused(f"{path}: cannot read it ({error.strerror})") from None
    except ValueError:
        raise refused(f"{path}: not a JSON file") from None
    if not isinstance(document, dict) or set(document) != {"payload", "signature"}:
        raise refused(f"{path}: not a signed statistics file (no payload and signature)")
    payload, signature = document["payload"], document["signature"]
    if (
        not isinstance(signature, dict)
        or signature.get("algorithm") != "Ed25519"
        or not isinstance(signature.get("value"), str)
    ):
        raise refused(f"{path}: unsigned, or not signed with Ed25519")
    county = payload.get("county") if isinstance(payload, dict) else None
    code = county.get("code") if isinstance(county, dict) else None
    if not isinstance(code, str) or not County().validate({"code": code, "name": ""}) == {}:
        raise refused(f"{path}: does not name its county")
    try:
        _public_key(keys_dir, code).verify(
            base64.b64decode(signature["value"], validate=True), canonical(payload)
        )
    except (InvalidSignature, ValueError):
        raise refused(
            f"{path}: the signature does not hold for county {code}'s key: "
            "the file was edited or not signed by that county"
        ) from None
    except PointsError as error:
        raise refused(f"{path}: {error.message}") from None
    problems = Payload().validate(payload)
    if problems:
        raise refused(f"{path}: signed, but not a statistics file this version reads: {problems}")
    return payload


def merge(paths, keys_dir):
    """Every file checked first; then the rows of one province table, a total per scheme last.
    One county twice or two years refuse the whole merge."""
    payloads, seen = [], {}
    for path in paths:
        payload = read_checked(path, keys_dir)
        code = payload["county"]["code"]
        if code in seen:
            raise refused(f"county {code} twice: {seen[code]} and {path}; give one file per county")
        seen[code] = path
        payloads.append(payload)
    if not payloads:
        raise refused("no file to merge")
    years = sorted({p["year"] for p in payloads})
    if len(years) > 1:
        raise refused(
            f"files of several years ({', '.join(map(str, years))}): merge one year at a time"
        )
    rows, totals = [], {}
    for payload in sorted(payloads, key=lambda p: p["county"]["code"]):
        for figures in payload["schemes"]:
            rows.append(
                {
                    "county": payload["county"]["code"],
                    "county_name": payload["county"]["name"],
                    "scheme": figures["scheme"],
                    "scheme_name": figures["name"],
                    **{f: figures[f] for f in FIGURES},
                }
            )
            total = totals.setdefault(
                figures["scheme"],
                {
                    "county": "合计",
                    "county_name": "",
                    "scheme": figures["scheme"],
                    "scheme_name": figures["name"],
                    **dict.fromkeys(FIGURES, 0),
                },
            )
            for f in FIGURES:
                total[f] += figures[f]
    return years[0], rows + [totals[s] for s in sorted(totals)]


def write_table(year, rows, out_path):
    path = Path(out_path)
    values = [list(HEADERS.values())] + [[row[k] for k in HEADERS] for row in rows]
    try:
        if path.suffix.lower() == ".xlsx":
            from openpyxl import Workbook

            book = Workbook(write_only=True)
            sheet = book.create_sheet(f"{year} 各县积分统计")
            for line in values:
                xlsx_row(sheet, line)
            book.save(path)
        else:
            out = io.StringIO()
            writer = csv.writer(out)
            for line in values:
                writer.writerow([csv_cell(v) if not isinstance(v, Decimal) else v for v in line])
            path.write_text("\ufeff" + out.getvalue(), encoding="utf-8")
    except OSError as error:
        raise refused(f"cannot write {path}: {error.strerror}") from None
    return path
