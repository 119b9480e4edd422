"""验证销号单: the public page where anyone, without logging in, uploads a closure record and sees
whether it is genuine, intact and matches the database. Nothing of the upload is kept."""
from __future__ import annotations

from flask import Blueprint, render_template, request
from werkzeug.exceptions import RequestEntityTooLarge

from engine.access.records import MAX_VERIFY_BYTES, oversize, verify_upload
from engine.errors import InvalidInput

from . import engine

bp = Blueprint("verify", __name__)


def _page(report=None, file_name="", refusal: InvalidInput | None = None, status=200):
    return render_template("verify/index.html", report=report, file_name=file_name,
                           message=refusal.message if refusal else None,
                           errors=refusal.field_errors if refusal else {},
                           limit_mb=MAX_VERIFY_BYTES // (1024 * 1024)), status


@bp.get("/verify")
def index():
    return _page()


@bp.post("/verify")
def check():
    storage = request.files.get("file")
    data = storage.read(MAX_VERIFY_BYTES + 1) if storage else b""  # enough to tell it is too large
    file_name = storage.filename if storage else ""
    try:
        report = verify_upload(engine(), data)
    except InvalidInput as exc:
        return _page(file_name=file_name, refusal=exc, status=400)
    return _page(report, file_name)


@bp.errorhandler(RequestEntityTooLarge)
def too_large(_error):
    """An upload larger than the server takes at all (refused before the view runs)."""
    return _page(refusal=oversize(), status=413)
