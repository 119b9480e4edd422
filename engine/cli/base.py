"""The `rectify` command group and what every command shares: the engine, output, one-line errors.

`rectify`: the command line of the engine. Every command prints Chinese-friendly text, or JSON
with --json; on failure it exits non-zero with a one-line reason (never a traceback)."""
from __future__ import annotations

import json
import os
import sys
from functools import wraps

import click

from engine.config import Settings
from engine.core import Engine
from engine.errors import EngineError


class Context:
    def __init__(self):
        self._engine: Engine | None = None

    def engine(self, require_schema: bool = True) -> Engine:
        if self._engine is None:
            self._engine = Engine(Settings.from_env())
        if require_schema:
            from engine.store.schema import current_revision, head_revision

            if current_revision(self._engine) != head_revision():
                raise EngineError("数据库尚未初始化或版本过旧，请先运行 rectify init-db")
        return self._engine


def emit(value, as_json: bool, text=None) -> None:
    """Print `value` as JSON, or as text through `text(value)`."""
    if as_json:
        click.echo(json.dumps(value, ensure_ascii=False, indent=2, default=str))
    elif text is not None:
        click.echo(text(value))


def local_time(iso: str, tz: str = "Asia/Shanghai") -> str:
    """An ISO moment as the wall-clock time people read (北京时间 by default)."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    return datetime.fromisoformat(iso).astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M")


def parse_now(engine: Engine, text: str | None):
    """--now: an ISO 8601 moment; without a zone it is the body's local time. None when not given."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from engine.errors import InvalidInput

    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput("--now 不是有效的 ISO 8601 时刻", {"now": text}) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo(engine.settings.timezone))


def fail(message: str, code: int = 1):
    click.echo(f"错误：{message}", err=True)
    sys.exit(code)


def handled(func):
    """Turn engine errors into a one-line reason and exit 1; anything unexpected into exit 2."""

    @wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except EngineError as exc:
            fail(str(exc), 1)
        except (click.exceptions.Exit, click.ClickException, SystemExit):
            raise
        except Exception as exc:  # noqa: BLE001 — the CLI promises no tracebacks
            if os.environ.get("RECTIFY_DEBUG"):
                raise
            fail(f"{type(exc).__name__}: {exc}", 2)

    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.pass_context
def main(ctx):
    """整改流程引擎命令行。数据库取自 RECTIFY_DATABASE_URL，文件取自 RECTIFY_INSTANCE_PATH（默认 instance/）。"""
    ctx.obj = Context()
