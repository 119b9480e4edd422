"""Turning a submitted HTML form back into the JSON its schema describes (and the uploaded files).
Values are converted, not judged: the engine validates against the schema and names what is wrong."""
from __future__ import annotations

import json
import re

from werkzeug.datastructures import FileStorage, ImmutableMultiDict

from engine.work.evidence import Upload


def _convert(prop: dict, raw: str):
    kind = prop.get("type")
    raw = raw.strip() if isinstance(raw, str) else raw
    if raw == "":
        return None
    if kind == "integer":
        return int(raw) if re.fullmatch(r"-?\d+", raw) else raw
    if kind == "number":
        try:
            return float(raw)
        except ValueError:
            return raw
    if kind == "boolean":
        return {"true": True, "false": False}.get(raw, raw)
    return raw


def _rows(name: str, item_schema: dict, form: ImmutableMultiDict) -> list[dict]:
    pattern = re.compile(rf"^{re.escape(name)}-(\d+)-(\w+)$")
    rows: dict[int, dict] = {}
    for key in form.keys():
        match = pattern.match(key)
        if match:
            rows.setdefault(int(match.group(1)), {})[match.group(2)] = form.get(key, "")
    result = []
    for index in sorted(rows):
        row = {}
        for sub, raw in rows[index].items():
            value = _convert(item_schema.get("properties", {}).get(sub, {}), raw)
            if value is not None:
                row[sub] = value
        if row:  # a row left completely empty is no row
            result.append(row)
    return result


def parse(schema: dict, form: ImmutableMultiDict, files: ImmutableMultiDict) -> tuple[dict, list[Upload]]:
    data: dict = {}
    uploads: list[Upload] = []
    for name, prop in (schema.get("properties") or {}).items():
        if prop.get("x-widget") == "files":
            kept = []
            for raw in form.getlist(f"{name}__keep"):
                try:
                    kept.append(json.loads(raw))
                except json.JSONDecodeError:
                    continue
            data[name] = kept
            for storage in files.getlist(name):
                if isinstance(storage, FileStorage) and storage.filename:
                    uploads.append(Upload(storage.filename, storage.read()))
        elif prop.get("type") == "array" and prop.get("items", {}).get("type") == "object":
            data[name] = _rows(name, prop["items"], form)
        elif name in form:
            value = _convert(prop, form.get(name, ""))
            if value is not None:
                data[name] = value
    return data, uploads
