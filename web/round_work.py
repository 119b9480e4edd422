"""A round's internal documents and its own work: the 整改情况报告 (.pdf/.docx; the PDF of a large round
made in the background, with a page that follows it), the 三张清单 (.xlsx), the 整改工作记录 page and
the 回头看 page. Who may do what is decided in engine/access/round_documents.py."""
from __future__ import annotations

from io import BytesIO

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user, login_required

from engine.access.round_documents import (
    UPWARD_FORMATS,
    activities_for,
    add_activity_for,
    document_file_for,
    document_job_for,
    lists_for,
    lookbacks_for,
    regenerate_upward_for,
    remove_activity_for,
    start_lookback_for,
    upward_pdf_for,
    upward_report_for,
)
from engine.errors import InvalidInput

from . import engine

bp = Blueprint("round_work", __name__)
MIMETYPES = {"pdf": "application/pdf",
             "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
             "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
ACTIVITY_FIELDS = ("kind", "held_on", "topic", "doc_number", "note")


def _download(name: str, data: bytes, kind: str):
    return send_file(BytesIO(data), as_attachment=True, download_name=name, mimetype=MIMETYPES[kind])


@bp.get("/rounds/<int:round_id>/upward.<kind>")
@login_required
def upward(round_id, kind):
    """The .docx at once; the PDF at once for a round of at most UPWARD_PDF_SYNC_LIMIT problems (set by
    RECTIFY_UPWARD_PDF_SYNC_LIMIT, web/__init__.py), else made in the background with a page that follows it."""
    if kind not in UPWARD_FORMATS:
        abort(404)
    if kind == "pdf":
        answer = upward_pdf_for(engine(), current_user.id, round_id,
                                current_app.config["UPWARD_PDF_SYNC_LIMIT"])
        if "job" in answer:
            return redirect(url_for("round_work.document_job", round_id=round_id, job_id=answer["job"]["id"]))
        name, document = answer["file"]
    else:
        name, document = upward_report_for(engine(), current_user.id, round_id, kind)
    return send_file(document, as_attachment=True, download_name=name, mimetype=MIMETYPES[kind])  # closed when sent


@bp.post("/rounds/<int:round_id>/upward/jobs")
@login_required
def upward_again(round_id):
    job = regenerate_upward_for(engine(), current_user.id, round_id)
    return redirect(url_for("round_work.document_job", round_id=round_id, job_id=job["id"]))


@bp.get("/rounds/<int:round_id>/upward/jobs/<int:job_id>")
@login_required
def document_job(round_id, job_id):
    job = document_job_for(engine(), current_user.id, round_id, job_id)
    return render_template("rounds/document_job.html", job=job, round=job["round"])


@bp.get("/rounds/<int:round_id>/upward/jobs/<int:job_id>/file")
@login_required
def document_job_file(round_id, job_id):
    return _download(*document_file_for(engine(), current_user.id, round_id, job_id), "pdf")


@bp.get("/rounds/<int:round_id>/lists.xlsx")
@login_required
def lists(round_id):
    return _download(*lists_for(engine(), current_user.id, round_id), "xlsx")


@bp.get("/rounds/<int:round_id>/activities")
@login_required
def activities(round_id):
    return render_template("rounds/activities.html", data=activities_for(engine(), current_user.id, round_id),
                           values={}, errors={})


@bp.post("/rounds/<int:round_id>/activities")
@login_required
def add_activity(round_id):
    values = {key: request.form.get(key, "") for key in ACTIVITY_FIELDS}
    try:
        added = add_activity_for(engine(), current_user.id, round_id, values)
    except InvalidInput as exc:
        return render_template("rounds/activities.html", data=activities_for(engine(), current_user.id, round_id),
                               values=values, errors=exc.field_errors, message=exc.message), 400
    flash(f"已记录：{added['held_on']} {added['kind']}「{added['topic']}」", "success")
    return redirect(url_for("round_work.activities", round_id=round_id))


@bp.post("/rounds/<int:round_id>/activities/<int:activity_id>/delete")
@login_required
def remove_activity(round_id, activity_id):
    removed = remove_activity_for(engine(), current_user.id, round_id, activity_id)
    flash(f"已删除：{removed['held_on']} {removed['kind']}「{removed['topic']}」", "success")
    return redirect(url_for("round_work.activities", round_id=round_id))


LOOKBACK_FIELDS = ("method", "sample", "numbers", "days", "note")


@bp.get("/rounds/<int:round_id>/lookbacks")
@login_required
def lookbacks(round_id):
    return render_template("rounds/lookbacks.html", data=lookbacks_for(engine(), current_user.id, round_id),
                           values={"method": "random", "days": "30"}, errors={})


@bp.post("/rounds/<int:round_id>/lookbacks")
@login_required
def start_lookback(round_id):
    values = {key: request.form.get(key, "") for key in LOOKBACK_FIELDS}
    try:
        started = start_lookback_for(engine(), current_user.id, round_id, values)
    except InvalidInput as exc:
        return render_template("rounds/lookbacks.html", data=lookbacks_for(engine(), current_user.id, round_id),
                               values=values, errors=exc.field_errors, message=exc.message), 400
    flash(f"已开展回头看：{len(started['items'])} 个问题，核查期限 {started['due']}", "success")
    return redirect(url_for("round_work.lookbacks", round_id=round_id))
