"""照片佐证: photos of an entry. A photo is judged by its content (Pillow), never its name,
re-encoded as JPEG with no metadata (EXIF and GPS gone) and at most 1600 px on its longest
side, and stored under instance/evidence/ by the SHA-256 of the stored bytes."""

import hashlib
import io
import os
import tempfile
import warnings
from contextlib import contextmanager
from pathlib import Path

from flask import current_app, send_file
from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import select

from points.database import end_read, utcnow, write
from points.claims.models import Claim
from points.entries.models import Entry
from points.errors import PointsError, forbidden, invalid, invalid_state, not_found
from points.evidence.models import Evidence
from points.extensions import db

FORMATS = ("JPEG", "PNG", "WEBP")
LONGEST_SIDE = 1600
MAX_PIXELS = 40_000_000  # a phone photo is ~12 MP; beyond this a file is a decompression bomb
MAX_BYTES = 5 * 1024 * 1024  # one uploaded file (api.md, Conventions)
MAX_FILES = 3  # files in one upload


def _folder():
    return Path(
        current_app.config.get("EVIDENCE_DIR") or Path(current_app.instance_path) / "evidence"
    )


def path_of(sha256):
    return _folder() / sha256[:2] / f"{sha256}.jpg"


def reencode(data):
    """(JPEG bytes, width, height) of an uploaded photo, or 422 when it is not one."""
    if len(data) > MAX_BYTES:
        raise PointsError(
            "payload_too_large", "a photo is at most 5 MiB", 413, {"photo": ["at most 5 MiB"]}
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            if image.format not in FORMATS:
                raise invalid({"photo": ["a JPEG, PNG or WebP photo"]})
            if image.width * image.height > MAX_PIXELS:
                raise invalid({"photo": ["the picture is too large"]})
            image = ImageOps.exif_transpose(image)  # keep it upright, then drop every tag
            image.thumbnail((LONGEST_SIDE, LONGEST_SIDE))
            out = io.BytesIO()
            image.convert("RGB").save(out, "JPEG", quality=85, optimize=True)
    except (
        UnidentifiedImageError,
        OSError,
        SyntaxError,
        ValueError,
        Image.DecompressionBombWarning,
        Image.DecompressionBombError,
    ):
        raise invalid({"photo": ["a JPEG, PNG or WebP photo"]}) from None
    return out.getvalue(), image.width, image.height


def _store(jpeg):
    """Write the bytes under their hash (atomically; the same photo twice is one file).
    Returns (sha256, whether this call made the file)."""
    sha256 = hashlib.sha256(jpeg).hexdigest()
    target = path_of(sha256)
    if target.exists():
        return sha256, False
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, suffix=".part")
    with os.fdopen(handle, "wb") as file:
        file.write(jpeg)
    os.replace(temporary, target)
    return sha256, True


@contextmanager
def stored(uploads, user_id):
    """Photos checked and written before a write section, as unsaved Evidence rows; when the
    section fails, the files this call made are removed again, so nothing is left behind."""
    photos = [reencode(data) for data in uploads]  # every photo judged before any is kept
    made, rows = [], []
    try:
        for jpeg, width, height in photos:
            sha256, new = _store(jpeg)
            if new:
                made.append(path_of(sha256))
            rows.append(
                Evidence(
                    sha256=sha256,
                    bytes=len(jpeg),
                    width=width,
                    height=height,
                    uploaded_by_id=user_id,
                    at=utcnow(),
                )
            )
        yield rows
    except BaseException:
        for path in made:
            path.unlink(missing_ok=True)
        raise


def attach(principal, entry_id, data):
    """The entry's recorder adds a photo while it is pending (deductions above all)."""
    entry = db.session.get(Entry, entry_id)
    if entry is None:
        raise not_found("entry")
    if not principal.covers(entry.holder.unit.path):
        raise forbidden()
    if entry.recorded_by_id != principal.user_id:
        raise forbidden("只有记录这条积分的记分员可以上传照片")
    end_read()
    with stored([data], principal.user_id) as [evidence], write():  # the slow part before the lock
        status = db.session.execute(select(Entry.status).where(Entry.id == entry_id)).scalar_one()
        if status != "pending":
            raise invalid_state("只有待审核的积分记录可以补充照片")
        evidence.entry_id = entry_id
        db.session.add(evidence)
    return evidence


def of_entries(entry_ids):
    """{entry id: [evidence, oldest first]}."""
    return _grouped(Evidence.entry_id, entry_ids)


def of_claims(claim_ids):
    """{claim id: [evidence, oldest first]}."""
    return _grouped(Evidence.claim_id, claim_ids)


def _grouped(column, ids):
    found = {}
    if ids:
        for evidence in db.session.execute(
            select(Evidence).where(column.in_(ids)).order_by(Evidence.id)
        ).scalars():
            found.setdefault(getattr(evidence, column.key), []).append(evidence)
    return found


def photo_response(principal, evidence_id):
    """The stored photo as an answer, for staff in scope, never cached (the API and the pages)."""
    path, evidence = photo(principal, evidence_id)
    response = send_file(path, mimetype="image/jpeg", max_age=0, etag=evidence.sha256)
    response.headers["Cache-Control"] = "private, no-store"
    return response


def photo(principal, evidence_id):
    """(path, evidence) for staff whose grants cover the entry's holder; never public."""
    evidence = db.session.get(Evidence, evidence_id)
    if evidence is None:
        raise not_found("evidence")
    if evidence.entry_id is not None:
        holder = db.session.get(Entry, evidence.entry_id).holder
    else:
        holder = db.session.get(Claim, evidence.claim_id).holder
    if not principal.covers(holder.unit.path):
        raise forbidden()
    return path_of(evidence.sha256), evidence
