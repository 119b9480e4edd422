"""The thin Flask UI: each view turns the request into plain values, calls one engine function,
maps engine errors to 400/403/404/409 and renders or redirects. Transactions live in the engine."""
from __future__ import annotations

import gc
import os
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from flask import Flask, flash, redirect, render_template, request, send_from_directory, url_for
from flask_login import LoginManager, current_user
from flask_wtf.csrf import CSRFError, CSRFProtect

from engine import Engine, EngineError, Settings
from engine.closure.pdf import human_size
from engine.config import REPO_ROOT
from engine.reports.document_jobs import SYNC_LIMIT
from engine.store.keys import secret_file
from engine.work.thumbnails import is_picture_name

csrf = CSRFProtect()
login_manager = LoginManager()
# Front-end packages installed from npm (package.json), served read-only from these folders.
VENDOR = {
    "bootstrap": REPO_ROOT / "node_modules" / "bootstrap" / "dist",
    "bpmn-js": REPO_ROOT / "node_modules" / "bpmn-js" / "dist",
}


def _secret_key(instance: Path) -> str:
    """RECTIFY_SECRET_KEY, else a key generated once into the instance folder (never in git)."""
    return os.environ.get("RECTIFY_SECRET_KEY") or secret_file(instance / "secret_key")


def settle_heap() -> None:
    """Once a serving process has built the app: collect, then move every object it holds (modules, the
    parsed processes, caches — ~165,000) out of the collector's sight for good. Otherwise each full
    collection, every few requests, walks them all: ~100 ms added to one request in four on /items at
    20,000 items (docs/performance.md). Only for a process that lives to serve: frozen garbage is never freed."""
    gc.collect()
    gc.freeze()


def _sync_limit() -> int:
    """RECTIFY_UPWARD_PDF_SYNC_LIMIT: the most problems a round may have for its 整改情况报告 PDF to be made
    while the request waits; above it a background job makes it (engine/reports/document_jobs.py)."""
    value = os.environ.get("RECTIFY_UPWARD_PDF_SYNC_LIMIT", "").strip()
    if not value:
        return SYNC_LIMIT
    if not value.isdigit():
        raise ValueError(f"RECTIFY_UPWARD_PDF_SYNC_LIMIT 应为不小于 0 的整数（问题数），现为「{value}」")
    return int(value)


def create_app(test_config: dict | None = None) -> Flask:
    settings: Settings = (test_config or {}).get("RECTIFY_SETTINGS") or Settings.from_env()
    if "RECTIFY_SETTINGS" not in (test_config or {}) and not os.environ.get("RECTIFY_OUTBOX_DISPATCH"):
        # A request that closes an item answers at once; its 销号单 is made on a background thread.
        settings = replace(settings, outbox_dispatch="thread")
    app = Flask(__name__, instance_path=str(settings.instance_path))
    app.config.from_mapping(
        SECRET_KEY=_secret_key(settings.instance_path),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=os.environ.get("RECTIFY_SECURE_COOKIES") == "1",
        REMEMBER_COOKIE_SECURE=os.environ.get("RECTIFY_SECURE_COOKIES") == "1",
        MAX_CONTENT_LENGTH=settings.max_evidence_bytes * 5 + 1024 * 1024,
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session
        # The cookie ends with the browser; the server ends the session itself (engine/people/sessions.py).
        PERMANENT_SESSION_LIFETIME=timedelta(hours=12),
        REMEMBER_COOKIE_DURATION=timedelta(0),
        UPWARD_PDF_SYNC_LIMIT=_sync_limit(),
    )
    if test_config:
        app.config.update(test_config)
    app.extensions["rectify"] = Engine(settings)
    app.json.ensure_ascii = False

    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "请先登录"

    from . import (
        admin,
        auth,
        changes,
        designer,
        inbox,
        item_forms,
        items,
        notices,
        people,
        preferences,
        round_work,
        rounds,
        talks,
        tasks,
        verify,
    )

    for module in (auth, inbox, tasks, item_forms, items, changes, rounds, round_work, verify, admin, people, notices,
                   talks, preferences, designer):
        app.register_blueprint(module.bp)

    @app.before_request
    def _password_first():
        """After an administrator's reset, nothing but choosing a new password (or leaving)."""
        if (current_user.is_authenticated and getattr(current_user, "must_change_password", False)
                and request.endpoint not in ("auth.password", "auth.logout", "static", "vendor")):
            flash("管理员已重置您的密码，请先设置新密码", "warning")
            return redirect(url_for("auth.password"))

    @app.get("/vendor/<package>/<path:filename>")
    def vendor(package, filename):
        if package not in VENDOR:
            return ("", 404)
        return send_from_directory(VENDOR[package], filename, max_age=86400)

    @app.template_filter("localtime")
    def localtime(iso: str | None) -> str:
        if not iso:
            return ""
        from datetime import datetime
        from zoneinfo import ZoneInfo

        return datetime.fromisoformat(iso).astimezone(ZoneInfo(settings.timezone)).strftime("%Y-%m-%d %H:%M")

    app.add_template_filter(lambda a, b: list(zip(a, b)), "zip")
    app.add_template_filter(lambda args, **more: {**args, **more}, "combine")  # query args with a new page
    app.add_template_filter(human_size, "filesize")  # the closure record's wording: 512 字节, 1.5 MB
    app.add_template_test(is_picture_name, "picture")  # evidence with a thumbnail (engine/work/thumbnails.py)

    @app.context_processor
    def upload_rules():
        return {"accept": ",".join(f".{e}" for e in sorted(settings.evidence_extensions)),
                "max_mb": settings.max_evidence_bytes // (1024 * 1024)}

    @app.context_processor
    def navigation():
        # Loaded with the signed-in person (engine/people/sessions.py load_session): no query of its own.
        return ({"inbox_count": current_user.inbox_count, "unread_count": current_user.unread_count}
                if current_user.is_authenticated else {})

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        # bpmn-js injects inline styles into the diagram; scripts only ever come from this site.
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
            "frame-ancestors 'none'; form-action 'self'",
        )
        return response

    @app.errorhandler(EngineError)
    def engine_error(error: EngineError):
        return render_template("error.html", message=error.message, status=error.status), error.status

    @app.errorhandler(CSRFError)
    def csrf_error(error):
        return render_template("error.html", message="页面已过期或请求来源不明（CSRF 校验失败），请刷新页面后重试", status=400), 400

    @app.errorhandler(413)
    def too_large(error):
        limit = app.config["MAX_CONTENT_LENGTH"] // (1024 * 1024)
        return render_template("error.html", message=f"上传的文件过大：一次提交的文件合计不能超过约 {limit} MB，单个佐证材料不超过 "
                               f"{settings.max_evidence_bytes // (1024 * 1024)} MB", status=413), 413

    @app.errorhandler(404)
    def not_found(error):
        return render_template("error.html", message="页面不存在", status=404), 404

    return app


def engine() -> Engine:
    from flask import current_app

    return current_app.extensions["rectify"]


def client_address() -> str:
    """The client's address: X-Real-IP (or the last X-Forwarded-For hop) only when the request came
    from a proxy named in RECTIFY_TRUSTED_PROXIES — anyone else could write those headers."""
    peer = request.remote_addr or ""
    trusted = {a.strip() for a in os.environ.get("RECTIFY_TRUSTED_PROXIES", "").split(",") if a.strip()}
    if peer in trusted:
        forwarded = request.headers.get("X-Real-IP") or request.headers.get("X-Forwarded-For", "").split(",")[-1]
        return forwarded.strip() or peer
    return peer
