"""Task forms: one JSON Schema per form key (forms/KEY.json), validated server-side with messages
in Chinese that name the field."""
from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import SchemaError

from engine.errors import InvalidInput

_FORMAT_CHECKER = FormatChecker(formats=("date", "email"))


def load_form(forms_path: Path, key: str) -> dict:
    return json.loads((forms_path / f"{key}.json").read_text(encoding="utf-8"))


def schema_problems(schema: Any) -> list[str]:
    """Why a form file is not a usable JSON Schema (empty when it is)."""
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        return [f"不是有效的 JSON Schema：{exc.message}"]
    if not isinstance(schema, dict) or schema.get("type") != "object":
        return ["表单的顶层类型必须是 object"]
    return []


def _title(schema: dict, path: list) -> str:
    """The Chinese title of the field at `path`, e.g. 阶段目标第2项的完成日期."""
    words, node = [], schema
    for part in path:
        if isinstance(part, int):
            node = node.get("items", {}) if isinstance(node, dict) else {}
            words.append(f"第{part + 1}项")
        else:
            node = node.get("properties", {}).get(part, {}) if isinstance(node, dict) else {}
            words.append(node.get("title", part) if isinstance(node, dict) else part)
    return "的".join(words) if words else "表单"


def _message(schema: dict, error) -> tuple[str, str]:
    path = list(error.absolute_path)
    kind = error.validator
    if kind == "required":
        missing = error.message.split("'")[1] if "'" in error.message else ""
        path = path + [missing]
        return ".".join(map(str, path)), f"「{_title(schema, path)}」为必填项"
    key = ".".join(map(str, path)) or "_form"
    title = _title(schema, path)
    value = error.instance
    if kind == "minLength":
        text = f"「{title}」不能为空" if error.validator_value == 1 else f"「{title}」至少需要 {error.validator_value} 个字"
    elif kind == "maxLength":
        text = f"「{title}」最多 {error.validator_value} 个字"
    elif kind == "minItems":
        text = f"「{title}」至少需要 {error.validator_value} 项"
    elif kind == "maxItems":
        text = f"「{title}」最多 {error.validator_value} 项"
    elif kind == "enum":
        labels = error.schema.get("x-enum-labels") or error.validator_value
        text = f"「{title}」只能是：{'、'.join(map(str, labels))}"
    elif kind == "const":
        text = f"「{title}」取值不正确"
    elif kind == "format" and error.validator_value == "date":
        text = f"「{title}」不是有效日期（格式 YYYY-MM-DD）：{value}"
    elif kind == "format":
        text = f"「{title}」格式不正确：{value}"
    elif kind == "type":
        names = {"string": "文字", "integer": "整数", "number": "数字", "boolean": "是/否", "array": "列表",
                 "object": "对象"}
        expected = error.validator_value if isinstance(error.validator_value, str) else error.validator_value[0]
        text = f"「{title}」应为{names.get(expected, expected)}"
    elif kind in ("minimum", "exclusiveMinimum"):
        text = f"「{title}」不能小于 {error.validator_value}"
    elif kind in ("maximum", "exclusiveMaximum"):
        text = f"「{title}」不能大于 {error.validator_value}"
    elif kind == "pattern":
        text = f"「{title}」格式不正确"
    elif kind == "additionalProperties":
        extra = ", ".join(sorted(set(value) - set(error.schema.get("properties", {})))) if isinstance(value, dict) else ""
        text = f"表单中有未定义的字段：{extra}"
    else:
        text = f"「{title}」不符合要求：{error.message}"
    return key, text


# Item facts a form may compare its dates with: `"x-not-after": "deadline"` on a date field.
CONTEXT_LABELS = {"deadline": "整改时限"}


def _not_after(schema: dict, data: dict, context: dict, errors: dict[str, str]) -> None:
    for name, prop in (schema.get("properties") or {}).items():
        limit_name = prop.get("x-not-after") if isinstance(prop, dict) else None
        limit, value = context.get(limit_name), data.get(name)
        if limit is None or not isinstance(value, str) or name in errors:
            continue
        try:
            day = date.fromisoformat(value[:10])
        except ValueError:
            continue
        if day > limit:
            errors[name] = (f"「{prop.get('title', name)}」不得晚于{CONTEXT_LABELS.get(limit_name, limit_name)}"
                            f"（{limit.isoformat()}）；如需延后，请先申请延期")


def validate(schema: dict, data: Any, context: dict | None = None) -> dict:
    """Return `data` if it satisfies the form; otherwise raise InvalidInput with one message per field.
    `context` gives the item facts that `x-not-after` fields are compared with (e.g. its deadline)."""
    if not isinstance(data, dict):
        raise InvalidInput("表单数据必须是一个对象", {"_form": "表单数据必须是 JSON 对象"})
    validator = Draft202012Validator(schema, format_checker=_FORMAT_CHECKER)
    errors: dict[str, str] = {}
    for error in sorted(validator.iter_errors(data), key=lambda e: (list(map(str, e.absolute_path)), e.validator)):
        key, text = _message(schema, error)
        errors.setdefault(key, text)
    _not_after(schema, data, context or {}, errors)
    if errors:
        raise InvalidInput("表单填写有误", errors)
    return data

