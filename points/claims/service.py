"""申领: a resident declares a deed for their own household with code and PIN, up to three
photos; a recorder in scope accepts it into an ordinary pending entry (review, notice, caps
and conflicts of interest as any other) or declines it with a reason the resident sees.

Lock order: the claim, then what recording an entry locks (entries, accounts).
"""

from sqlalchemy import func, select, update

from points.claims.models import Claim
from points.database import end_read, for_update, lock_key, utcnow, write
from points.entries import service as entries
from points.errors import PointsError, forbidden, invalid, invalid_state, not_found, reason
from points.evidence import service as evidence
from points.evidence.models import Evidence
from points.extensions import db
from points.org.models import Holder, Unit, in_scope
from points.org.service import holder_by_code, unit_by_code
from points.schemes.service import all_schemes, rules_of, scheme_by_code, wrong_kind
from points.users.service import refuse_conflict, resident

MAX_OPEN = 5  # open claims one household may have at once
MAX_PHOTOS = evidence.MAX_FILES
LISTED = 20  # a household's last claims on its public balance
REVIEWING_ROLES = ("recorder", "reviewer")


def claimable():
    """What the resident's form offers: each scheme with its current rules (items by heading)."""
    return [(scheme, rules_of(scheme.current_version_id)) for scheme in all_schemes()]


def read_photos(files):
    """The uploaded files' bytes, each read to one byte past the limit (evidence refuses it)."""
    return [f.read(evidence.MAX_BYTES + 1) for f in files if f.filename]


def declare(holder_code, pin, address, data, photos=()):
    """申领 by a resident with code and PIN (a claim body as NewClaimSchema loads it), from the
    API and the page alike: signed in as the resident (attempts counted by `address`), then
    `submit`."""
    holder = resident(holder_code, pin, address)
    values = {k: data[k] for k in ("points", "quantity", "grade") if data.get(k) is not None}
    return submit(
        holder, data["scheme"], data["item"], data["occurred_on"], data["note"], values, photos
    )


def submit(holder, scheme_code, item_code, occurred_on, note, values, photos=()):
    """A resident's claim: the entry rules' 422s now, caps when a recorder accepts it."""
    scheme = scheme_by_code(scheme_code, "scheme")
    if holder.kind != scheme.subject:
        raise invalid({"holder": [wrong_kind(scheme, holder)]})
    entries.compute(rules_of(scheme.current_version_id), item_code, occurred_on, values)
    if len(photos) > MAX_PHOTOS:
        raise invalid({"photo": [reason("too_many_photos", "at most {n} photos", n=MAX_PHOTOS)]})
    end_read()
    with evidence.stored(photos, None) as rows, write():
        lock_key(f"claims:{holder.id}")
        open_now = db.session.execute(
            select(func.count(Claim.id)).where(Claim.holder_id == holder.id, Claim.status == "open")
        ).scalar_one()
        if open_now >= MAX_OPEN:
            raise PointsError(
                "too_many_open_claims",
                f"最多同时有 {MAX_OPEN} 条待处理的申领",
                409,
                {"open": open_now},
            )
        claim = Claim(
            holder_id=holder.id,
            scheme_id=scheme.id,
            item=item_code,
            occurred_on=occurred_on,
            note=note or "",
            status="open",
            created_at=utcnow(),
            **values,
        )
        db.session.add(claim)
        db.session.flush()
        for row in rows:
            row.claim_id = claim.id
            db.session.add(row)
    return claim


def _visible(principal):
    return [g.path for g in principal.grants if g.role in REVIEWING_ROLES]


def open_claims(principal, limit):
    """待受理: the open claims in the caller's units, newest first, each with its photos and
    its item's name."""
    claims = db.session.execute(claims_query(principal, status="open").limit(limit)).scalars().all()
    photos = evidence.of_claims([c.id for c in claims])
    rows = []
    for claim in claims:
        item = rules_of(claim.scheme.current_version_id).item(claim.item)
        rows.append((claim, photos.get(claim.id, []), item.name if item else claim.item))
    return rows


def claims_query(principal, status=None, unit=None, holder=None):
    query = (
        select(Claim)
        .join(Holder, Claim.holder_id == Holder.id)
        .join(Unit, Holder.unit_id == Unit.id)
        .where(in_scope(Unit.path, _visible(principal)))
        .order_by(Claim.id.desc())
    )
    if status:
        query = query.where(Claim.status == status)
    if unit:
        query = query.where(Unit.path.startswith(unit_by_code(unit, "unit").path))
    if holder:
        query = query.where(Claim.holder_id == holder_by_code(holder, "holder").id)
    return query


def get_claim(principal, claim_id):
    claim = db.session.get(Claim, claim_id)
    if claim is None:
        raise not_found("claim")
    if not any(claim.holder.unit.path.startswith(p) for p in _visible(principal)):
        raise forbidden()
    return claim


def _locked_open(claim_id):
    claim = db.session.execute(
        for_update(select(Claim).where(Claim.id == claim_id), of=Claim).execution_options(
            populate_existing=True
        )
    ).scalar_one()
    if claim.status != "open":
        raise invalid_state(f"申领当前状态为 {claim.status}，不能再处理")
    return claim


def accept(principal, claim_id, values=None, note=None):
    """受理: the claim becomes a pending entry recorded by this recorder; its photos its
    evidence. Any refusal (a cap, a closed year, a conflict of interest) leaves it open."""
    claim = get_claim(principal, claim_id)
    scheme, holder = claim.scheme, claim.holder
    entries.check_holder(principal, scheme, holder)
    refuse_conflict(principal, {holder.code: holder.id})
    values = {
        **{
            k: getattr(claim, k)
            for k in ("points", "quantity", "grade")
            if getattr(claim, k) is not None
        },
        **(values or {}),
    }
    rules = rules_of(scheme.current_version_id)
    item, points = entries.compute(rules, claim.item, claim.occurred_on, values)
    end_read()
    with write():
        claim = _locked_open(claim_id)
        entry = entries.add_entry(
            principal,
            scheme,
            rules,
            item,
            holder,
            points,
            claim.occurred_on,
            note if note is not None else claim.note,
            values,
        )
        claim.status, claim.entry_id = "accepted", entry.id
        claim.decided_by_id, claim.decided_at = principal.user_id, utcnow()
        db.session.execute(
            update(Evidence).where(Evidence.claim_id == claim.id).values(entry_id=entry.id)
        )
    return entry.id


def decline(principal, claim_id, reason):
    claim = get_claim(principal, claim_id)
    if not principal.allows("recorder", claim.holder.unit.path):
        raise forbidden("你不是该户所在单位的记分员")
    refuse_conflict(principal, {claim.holder.code: claim.holder_id})
    end_read()
    with write():
        claim = _locked_open(claim_id)
        claim.status, claim.reason = "declined", reason
        claim.decided_by_id, claim.decided_at = principal.user_id, utcnow()
    return claim


def recent_of(holder, limit=LISTED):
    """A household's last claims, for its own public balance."""
    return (
        db.session.execute(
            select(Claim).where(Claim.holder_id == holder.id).order_by(Claim.id.desc()).limit(limit)
        )
        .scalars()
        .all()
    )


def entry_claims(entry_ids):
    """{entry id: claim id} for entries that came from a claim."""
    if not entry_ids:
        return {}
    return dict(
        db.session.execute(
            select(Claim.entry_id, Claim.id).where(Claim.entry_id.in_(entry_ids))
        ).all()
    )
