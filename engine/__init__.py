"""整改流程引擎 — the engine library. It knows nothing of Flask: the web UI and the CLI call it."""
from engine.config import Settings
from engine.core import Engine
from engine.errors import Conflict, EngineError, Forbidden, InvalidInput, NotFound

__all__ = ["Engine", "Settings", "EngineError", "InvalidInput", "Forbidden", "NotFound", "Conflict"]
