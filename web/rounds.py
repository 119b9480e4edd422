"""巡察轮次: the round list and page, editing a round and its report text, the ledger import (upload →
preview → confirm) and export, the dashboard (统计) and the public progress report. Who may do what
is decided in engine/access/rounds.py."""
from __future__ import annotations

import re
from io import BytesIO

from flask import Blueprint, Response, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user, login_required
from markupsafe import Markup

from engine.access.rounds import (
    MAX_LEDGER_BYTES,
    ROUND_FORM_FIELDS,
    aspects_to_manage_for,
    create_round_for,
    dashboard_for,
    edit_aspects_for,
    export_for,
    import_job_for,
    import_preview_again_for,
    import_preview_for,
    queue_import_for,
    report_for,
    report_pdf_for,
    round_for,
    round_to_manage_for,
    rounds_for,
    update_round_for,
)
from engine.errors import InvalidInput
from engine.ledger.aspects import AspectEdit
from engine.ledger.lights import LIGHT_TEXT
from engine.ledger.rounds import ROUND_FIELDS
from engine.ledger.xlsx.importing import LedgerRefused, RoleChangesUnconfirmed

from . import engine
from .charts import dashboard_charts

bp = Blueprint("rounds", __name__)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_BODY = re.compile(r"<body[^>]*>(.*)</body>", re.S)


def _form(keys) -> dict[str, str]:
    return {key: request.form.get(key, "") for key in keys}


@bp.get("/rounds")
@login_required
def index():
    return render_template("rounds/index.html", data=rounds_for(engine(), current_user.id), values={}, errors={})


@bp.post("/rounds")
@login_required
def create():
    values = _form(ROUND_FORM_FIELDS)
    try:
        created = create_round_for(engine(), current_user.id, values)
    except InvalidInput as exc:
        return render_template("rounds/index.html", data=rounds_for(engine(), current_user.id), values=values,
                               errors=exc.field_errors, message=exc.message), 400
    flash(f"已新建巡察轮次「{created['name']}」，下一步可导入问题台账", "success")
    return redirect(url_for("rounds.show", round_id=created["id"]))


@bp.get("/rounds/<int:round_id>")
@login_required
def show(round_id):
    return render_template("rounds/show.html", round=round_for(engine(), current_user.id, round_id))


@bp.get("/rounds/<int:round_id>/edit")
@login_required
def edit(round_id):
    round_ = round_to_manage_for(engine(), current_user.id, round_id)
    return render_template("rounds/edit.html", round=round_, values=round_, errors={})


@bp.post("/rounds/<int:round_id>/edit")
@login_required
def update(round_id):
    # Fields the form did not send stay as they are (an older page, a script posting a few fields).
    values = {key: request.form[key] for key in ROUND_FIELDS if key in request.form}
    try:
        update_round_for(engine(), current_user.id, round_id, values)
    except InvalidInput as exc:
        round_ = round_to_manage_for(engine(), current_user.id, round_id)
        return render_template("rounds/edit.html", round=round_, values=round_ | values, errors=exc.field_errors,
                               message=exc.message), 400
    flash("轮次信息已保存", "success")
    return redirect(url_for("rounds.show", round_id=round_id))


def _aspect_edits(form) -> tuple[list[AspectEdit], dict[str, str]]:
    """The aspect rows of the form (ids listed in `aspect`, plus the blank `new` row); a 顺序 that is
    not a whole number is named by its row."""
    edits, errors = [], {}
    for key, aspect_id in [(f"aspect-{i}", int(i)) for i in form.getlist("aspect") if i.isdigit()] + [("new", None)]:
        suffix = aspect_id if aspect_id is not None else "new"
        text = form.get(f"position-{suffix}", "").strip()
        if text and not text.isdigit():
            errors[key] = f"顺序「{text}」不是正整数"
        edits.append(AspectEdit(aspect_id, form.get(f"title-{suffix}", ""), int(text) if text.isdigit() else None,
                                form.get(f"delete-{suffix}") == "1"))
    return edits, errors


@bp.get("/rounds/<int:round_id>/aspects")
@login_required
def aspects(round_id):
    round_, rows = aspects_to_manage_for(engine(), current_user.id, round_id)
    return render_template("rounds/aspects.html", round=round_, aspects=rows, values=request.form, errors={})


@bp.post("/rounds/<int:round_id>/aspects")
@login_required
def update_aspects(round_id):
    edits, errors = _aspect_edits(request.form)
    try:
        if errors:
            raise InvalidInput("方面未保存，请按提示修改", errors)
        edit_aspects_for(engine(), current_user.id, round_id, edits)
    except InvalidInput as exc:
        round_, rows = aspects_to_manage_for(engine(), current_user.id, round_id)
        return render_template("rounds/aspects.html", round=round_, aspects=rows, values=request.form,
                               errors=exc.field_errors, message=exc.message), 400
    flash("问题方面已保存", "success")
    return redirect(url_for("rounds.show", round_id=round_id))


@bp.get("/rounds/<int:round_id>/import")
@login_required
def upload(round_id):
    return render_template("rounds/import.html", round=round_to_manage_for(engine(), current_user.id, round_id),
                           errors={}, max_mb=MAX_LEDGER_BYTES // (1024 * 1024))


@bp.post("/rounds/<int:round_id>/import")
@login_required
def preview(round_id):
    storage = request.files.get("file")
    data = storage.read() if storage else b""
    try:
        plan = import_preview_for(engine(), current_user.id, round_id, data)
    except InvalidInput as exc:
        return render_template("rounds/import.html", round=round_to_manage_for(engine(), current_user.id, round_id),
                               errors=exc.field_errors, message=exc.message,
                               max_mb=MAX_LEDGER_BYTES // (1024 * 1024)), 400
    return render_template("rounds/preview.html", plan=plan, file_name=storage.filename if storage else ""), \
        200 if plan["ok"] else 400


@bp.post("/rounds/<int:round_id>/import/confirm")
@login_required
def confirm(round_id):
    sha, file_name = request.form.get("sha256", ""), request.form.get("file_name", "")
    try:
        job = queue_import_for(engine(), current_user.id, round_id, sha, file_name,
                               allow_role_changes=request.form.get("allow_role_changes") == "1")
    except RoleChangesUnconfirmed:  # shown again, with the grants to confirm
        plan = import_preview_again_for(engine(), current_user.id, round_id, sha)
        return render_template("rounds/preview.html", plan=plan, file_name=file_name,
                               role_error="请勾选确认授予角色，或取消导入"), 400
    except LedgerRefused as exc:  # the database changed since the preview: show what is wrong now
        plan = {"ok": False, "round": round_for(engine(), current_user.id, round_id),
                "problems": [p.as_dict() for p in exc.problems]}
        return render_template("rounds/preview.html", plan=plan, file_name=file_name), 400
    return redirect(url_for("rounds.import_job", round_id=round_id, job_id=job["id"]))


@bp.get("/rounds/<int:round_id>/imports/<int:job_id>")
@login_required
def import_job(round_id, job_id):
    job = import_job_for(engine(), current_user.id, job_id)
    if job["round_id"] != round_id:
        return render_template("error.html", message="导入任务不存在", status=404), 404
    if job["status"] == "已完成":
        result = job["result"] or {}
        text = f"台账已导入：新建问题 {result.get('created', 0)} 个"
        if result.get("new_units"):
            text += f"，新建单位 {len(result['new_units'])} 个"
        if result.get("new_people"):
            text += f"，新建人员 {len(result['new_people'])} 人（需管理员设置密码后方可登录）"
        flash(text + "。各问题的整改流程已启动。", "success")
        return redirect(url_for("rounds.show", round_id=round_id))
    return render_template("rounds/import_job.html", job=job, round=round_for(engine(), current_user.id, round_id)), \
        400 if job["status"] == "未导入" else 200


@bp.get("/rounds/<int:round_id>/export.xlsx")
@login_required
def export(round_id):
    name, data = export_for(engine(), current_user.id, round_id)
    return send_file(BytesIO(data), as_attachment=True, download_name=name, mimetype=XLSX)


@bp.get("/dashboard", defaults={"round_id": None})
@bp.get("/rounds/<int:round_id>/dashboard")
@login_required
def dashboard(round_id):
    figures = dashboard_for(engine(), current_user.id, round_id)
    return render_template("rounds/dashboard.html", d=figures, charts=dashboard_charts(figures), light_text=LIGHT_TEXT)


@bp.get("/rounds/<int:round_id>/report")
@login_required
def report(round_id):
    result = report_for(engine(), current_user.id, round_id)
    body = _BODY.search(result["html"])
    return render_template("rounds/report.html", report=result["report"],
                           document=Markup(body.group(1) if body else result["html"]))


@bp.get("/rounds/<int:round_id>/report.html")
@login_required
def report_page(round_id):
    """The report as the standalone page the engine renders (e.g. to publish on a website)."""
    return Response(report_for(engine(), current_user.id, round_id)["html"], mimetype="text/html")


@bp.get("/rounds/<int:round_id>/report.pdf")
@login_required
def report_pdf(round_id):
    name, pdf = report_pdf_for(engine(), current_user.id, round_id)
    return send_file(pdf, as_attachment=True, download_name=name, mimetype="application/pdf")  # closed when sent
