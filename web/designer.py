"""流程设计 in the browser: the processes and versions, the bpmn-js modeler (check and deploy as JSON
for its page), deploy approvals, migrating running items; and 整改办's 退回到任意环节. Roles are
decided in engine/access/designer.py."""
from __future__ import annotations

from flask import Blueprint, Response, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from engine.access import designer as access
from engine.errors import EngineError, InvalidInput

from . import engine

bp = Blueprint("designer", __name__)


@bp.get("/designer")
@login_required
def index():
    return render_template("designer/index.html", processes=access.designer_overview(engine(), current_user.id))


@bp.get("/designer/versions/<int:version_id>.bpmn")
@login_required
def download(version_id):
    found = access.version_download(engine(), current_user.id, version_id)
    return Response(found["xml"], mimetype="application/xml",
                    headers={"Content-Disposition": f"attachment; filename={found['download_name']}"})


@bp.get("/designer/versions/<int:version_id>/edit")
@login_required
def edit(version_id):
    return render_template("designer/modeler.html", **access.modeler_data(engine(), current_user.id, version_id))


def _json_error(exc: EngineError):
    body = {"error": exc.message, "fields": getattr(exc, "field_errors", {})}
    return jsonify(body), exc.status


@bp.post("/designer/check")
@login_required
def check():
    data = request.get_json(silent=True) or {}
    try:
        return jsonify(access.check_design(engine(), current_user.id, data.get("file_name", ""), data.get("xml", "")))
    except EngineError as exc:
        return _json_error(exc)


@bp.post("/designer/deploy")
@login_required
def deploy():
    data = request.get_json(silent=True) or {}
    try:
        result = access.deploy_design(engine(), current_user.id, data.get("file_name", ""), data.get("xml", ""),
                                      data.get("comment", ""))
    except EngineError as exc:
        return _json_error(exc)
    return jsonify(result)


@bp.post("/designer/requests/<int:request_id>/approve", defaults={"approve": True}, endpoint="approve")
@bp.post("/designer/requests/<int:request_id>/reject", defaults={"approve": False}, endpoint="reject")
@login_required
def decide(request_id, approve):
    done = access.decide_deploy(engine(), current_user.id, request_id, approve, request.form.get("opinion", ""))
    flash(f"部署申请 {done['id']}：{done['status']}" + (f"，版本 {done['version_id']} 已成为当前版本"
                                                    if done["version_id"] else ""), "success")
    return redirect(url_for("designer.index"))


@bp.get("/designer/processes/<process_id>/migrate")
@login_required
def migration(process_id):
    page = access.migration_page(engine(), current_user.id, process_id, request.args.get("to", type=int))
    return render_template("designer/migrate.html", **page, results=None)


@bp.post("/designer/processes/<process_id>/migrate")
@login_required
def migrate(process_id):
    to_version = request.form.get("to", type=int)
    item_ids = [int(i) for i in request.form.getlist("item") if i.isdigit()]
    try:
        page = access.migrate(engine(), current_user.id, process_id, to_version or 0, item_ids)
    except InvalidInput as exc:
        flash(f"未迁移：{exc.message}", "danger")
        return redirect(url_for("designer.migration", process_id=process_id, to=to_version))
    moved = sum(1 for r in page["results"] if r.get("migrated"))
    flash(f"已迁移 {moved} 项，{len(page['results']) - moved} 项未迁移", "success")
    return render_template("designer/migrate.html", **page)


@bp.post("/designer/items/<int:item_id>/revert")
@login_required
def revert(item_id):
    done = access.revert(engine(), current_user.id, item_id)
    flash(f"已撤销问题 {done['number']} 的迁移：回到版本 {done['version']}", "success")
    process_id = request.form.get("process_id", "")
    return redirect(url_for("designer.migration", process_id=process_id) if process_id else url_for("designer.index"))


@bp.get("/items/<int:item_id>/rewind")
@login_required
def rewind_form(item_id):
    return render_template("designer/rewind.html", **access.rewind_page(engine(), current_user.id, item_id),
                           errors={}, values={})


@bp.post("/items/<int:item_id>/rewind")
@login_required
def rewind(item_id):
    values = {"step_id": request.form.get("step_id", ""), "reason": request.form.get("reason", "")}
    try:
        access.ask_rewind(engine(), current_user.id, item_id, values["step_id"], values["reason"])
    except InvalidInput as exc:
        return render_template("designer/rewind.html", **access.rewind_page(engine(), current_user.id, item_id),
                               errors=exc.field_errors, values=values, message=exc.message), 400
    flash("已提交退回申请，待主要领导签字审批", "success")
    return redirect(url_for("items.show", item_id=item_id, _anchor="changes"))


@bp.get("/designer/forms")
@login_required
def forms():
    listed = access.forms_overview(engine(), current_user.id)
    if "new" in request.args:  # 新建表单: the name is checked by the editor's page
        return redirect(url_for("designer.form", key=request.args["new"].strip().removesuffix(".json"), new=1))
    return render_template("designer/forms.html", forms=listed)


@bp.get("/designer/forms/<key>")
@login_required
def form(key):
    return render_template("designer/form.html", form=access.form_page(engine(), current_user.id, key,
                                                                       new=bool(request.args.get("new"))),
                           values={}, errors={})


@bp.post("/designer/forms/<key>")
@login_required
def save_form(key):
    values = {"text": request.form.get("text", ""), "comment": request.form.get("comment", "")}
    try:
        done = access.save_form(engine(), current_user.id, key, values["text"], values["comment"])
    except InvalidInput as exc:
        return render_template("designer/form.html", form=access.form_page(engine(), current_user.id, key, new=True),
                               values=values, errors=exc.field_errors, message=exc.message), 400
    flash(f"表单 {key} 已保存为版本 {done['version']['id']}" if done["status"] == "saved"
          else f"表单 {key} 与最新版本相同，未保存新版本", "success")
    return redirect(url_for("designer.form", key=key))


@bp.post("/designer/forms/preview")
@login_required
def form_preview():
    data = request.get_json(silent=True) or {}
    try:
        result = access.form_preview(engine(), current_user.id, data.get("text", ""))
    except EngineError as exc:
        return _json_error(exc)
    html = render_template("designer/_form_preview.html", schema=result["schema"]) if result["valid"] else ""
    return jsonify({"valid": result["valid"], "problems": result["problems"], "html": html})


@bp.get("/designer/form-versions/<int:version_id>.json")
@login_required
def form_download(version_id):
    found = access.form_download(engine(), current_user.id, version_id)
    return Response(found["content"], mimetype="application/json",
                    headers={"Content-Disposition": f"attachment; filename={found['download_name']}"})
