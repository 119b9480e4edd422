"""The thin Flask UI: turns requests into plain values, calls one engine function, renders."""
from __future__ import annotations

import os
from pathlib import Path

from flask import Flask

from engine import Engine, Settings


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(__name__, instance_path=os.environ.get("RECTIFY_INSTANCE_PATH") or str(Path.cwd() / "instance"))
    app.config.from_mapping(SECRET_KEY=os.environ.get("RECTIFY_SECRET_KEY") or os.urandom(32))
    if test_config:
        app.config.update(test_config)
    settings = app.config.get("RECTIFY_SETTINGS") or Settings.from_env()
    app.extensions["rectify"] = Engine(settings)

    from . import home

    app.register_blueprint(home.bp)
    return app


def engine_of(app: Flask) -> Engine:
    return app.extensions["rectify"]
