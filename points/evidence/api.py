"""Evidence: /api/v1/entries/<id>/evidence (upload) and /api/v1/evidence/<id> (the image)."""

import marshmallow as ma
from flask.views import MethodView
from flask_smorest.fields import Upload

from points.evidence import service
from points.http import Blueprint, Schema, principal, protected

blp = protected(
    Blueprint(
        "evidence",
        __name__,
        url_prefix="/api/v1",
        description="Evidence (照片佐证): photos of entries",
    )
)


class PhotoForm(Schema):
    photo = Upload(required=True)


class EvidenceSchema(Schema):
    id = ma.fields.Integer()
    sha256 = ma.fields.String()
    bytes = ma.fields.Integer()
    width = ma.fields.Integer()
    height = ma.fields.Integer()


@blp.route("/entries/<int:entry_id>/evidence")
class EntryEvidence(MethodView):
    @blp.arguments(PhotoForm, location="files")
    @blp.response(201, EvidenceSchema)
    def post(self, files, entry_id):
        """Attach a photo to a pending entry (its recorder): re-encoded, no EXIF or GPS."""
        return service.attach(principal(), entry_id, files["photo"].read(service.MAX_BYTES + 1))


@blp.route("/evidence/<int:evidence_id>")
class OnePhoto(MethodView):
    @blp.response(200, content_type="image/jpeg")
    def get(self, evidence_id):
        """The stored photo, for staff whose grants cover the entry's holder."""
        return service.photo_response(principal(), evidence_id)
