"""Does a Bot API call fit the published API? Method names, required and known parameters, types.

The facts come from the project's extract of the Bot API (tests/bot_api_facts.json, written by
scripts/extract_api_facts.py). Types are checked against the JSON shapes Telegram accepts, one
level deep: deep enough to catch a dropped parameter, a string where a number belongs, or a
keyboard built the wrong way, without re-implementing Telegram.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SIMPLE_TYPES = frozenset({"Integer", "Float", "String", "Boolean"})
_INTEGER = re.compile(r"-?\d+")
_FLOAT = re.compile(r"-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")
_ARRAY = "Array of "


@dataclass(frozen=True)
class Param:
    """A method parameter or an object field."""

    name: str
    types: tuple[str, ...]
    required: bool


@dataclass(frozen=True)
class MethodFacts:
    name: str
    params: Mapping[str, Param]
    returns: tuple[str, ...]


@dataclass(frozen=True)
class TypeFacts:
    name: str
    fields: Mapping[str, Param]
    subtypes: tuple[str, ...] = ()


@dataclass(frozen=True)
class ApiFacts:
    version: str
    methods: Mapping[str, MethodFacts]
    types: Mapping[str, TypeFacts] = field(default_factory=dict)
    _lower: Mapping[str, MethodFacts] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        lower = {name.lower(): method for name, method in self.methods.items()}
        object.__setattr__(self, "_lower", lower)  # frozen dataclass: set once, here

    def method(self, name: str) -> MethodFacts | None:
        """The method by its name, matched case-insensitively as Telegram does."""
        return self._lower.get(name.lower())


def _params(raw: Mapping[str, Any]) -> dict[str, Param]:
    return {
        name: Param(name, tuple(entry["types"]), bool(entry["required"]))
        for name, entry in raw.items()
    }


def facts_from_json(data: Mapping[str, Any]) -> ApiFacts:
    methods = {
        name: MethodFacts(name, _params(entry["params"]), tuple(entry.get("returns", ())))
        for name, entry in data["methods"].items()
    }
    types = {
        name: TypeFacts(name, _params(entry.get("fields", {})), tuple(entry.get("subtypes", ())))
        for name, entry in data.get("types", {}).items()
    }
    return ApiFacts(str(data["version"]), methods, types)


def load_facts(path: str | Path) -> ApiFacts:
    return facts_from_json(json.loads(Path(path).read_text(encoding="utf-8")))


def is_upload(value: object) -> bool:
    """A file sent in a multipart request, as the local server records it."""
    return isinstance(value, dict) and "uploaded" in value


# Checking ----------------------------------------------------------------------------------------


def check_call(
    facts: ApiFacts, method: str, params: Mapping[str, Any], *, form: bool = False
) -> list[str]:
    """Every way this call would not fit the Bot API; empty when it fits.

    `form` says the request was form-encoded or multipart: every value then arrived as a string,
    so numeric strings pass for numbers and "true"/"false" for booleans.
    """
    spec = facts.method(method)
    if spec is None:
        return [f"unknown method {method}"]
    problems = [
        f"parameter {name} is required"
        for name, param in spec.params.items()
        if param.required and params.get(name) is None
    ]
    for name, value in params.items():
        param = spec.params.get(name)
        if param is None:
            problems.append(f"unknown parameter {name}")
        elif value is not None and not any(_fits(facts, value, t, form) for t in param.types):
            problems.append(
                f"parameter {name} must be {' or '.join(param.types)}, got {_describe(value)}"
            )
    return problems


def _describe(value: object) -> str:
    text = json.dumps(value, default=lambda v: f"<{type(v).__name__}>", ensure_ascii=False)
    return f"{type(value).__name__} {text[:60]}"


def _fits(facts: ApiFacts, value: object, type_name: str, form: bool) -> bool:
    structured = type_name not in SIMPLE_TYPES and type_name != "InputFile"
    if form and structured and isinstance(value, str):  # JSON-serialized in a form post
        decoded = decode_value((type_name,), value)
        return decoded is not value and _fits(facts, decoded, type_name, form)
    if type_name.startswith(_ARRAY):
        if not isinstance(value, list):
            return False
        inner = type_name[len(_ARRAY) :]
        if inner.startswith(_ARRAY):  # rows of a keyboard and the like: one level is enough
            return all(isinstance(row, list) for row in value)
        return all(_fits(facts, item, inner, form) for item in value)
    if type_name in SIMPLE_TYPES:
        return _fits_simple(value, type_name, form)
    if type_name == "InputFile":
        return is_upload(value) or isinstance(value, str)
    return _fits_object(facts, value, type_name)


def _fits_simple(value: object, type_name: str, form: bool) -> bool:
    if type_name == "String":
        return isinstance(value, str)
    if isinstance(value, str):
        if not form:
            return False
        if type_name == "Integer":
            return _INTEGER.fullmatch(value) is not None
        if type_name == "Float":
            return _FLOAT.fullmatch(value) is not None
        return value in ("true", "false")
    if type_name == "Boolean":
        return isinstance(value, bool)
    if isinstance(value, bool):  # bool is an int subclass in Python, not in JSON
        return False
    if type_name == "Integer":
        return isinstance(value, int)
    return isinstance(value, int | float)


def _fits_object(facts: ApiFacts, value: object, type_name: str) -> bool:
    if not isinstance(value, dict):
        return False
    if type_name == "InlineKeyboardMarkup":
        return _keyboard_ok(value.get("inline_keyboard"))
    if type_name == "ReplyKeyboardMarkup":
        return _keyboard_ok(value.get("keyboard"))
    type_facts = facts.types.get(type_name)
    if type_facts is None:
        return True
    if type_facts.subtypes:  # e.g. BotCommandScope: any one of its concrete shapes
        return any(_fits_object(facts, value, sub) for sub in type_facts.subtypes)
    return all(name in value for name, f in type_facts.fields.items() if f.required)


def _keyboard_ok(rows: object) -> bool:
    return isinstance(rows, list) and all(
        isinstance(row, list)
        and all(isinstance(button, dict) and isinstance(button.get("text"), str) for button in row)
        for row in rows
    )


# Decoding ----------------------------------------------------------------------------------------


def decode_value(types: tuple[str, ...], value: object, form: bool = True) -> object:
    """A posted string turned into the JSON value its declared types call for.

    Objects and arrays may arrive JSON-serialized in any request. Numbers and booleans are
    decoded only from form posts, where every value is a string: a chat id "123" becomes 123,
    while a text "123" (declared String) stays "123".
    """
    if not isinstance(value, str):
        return value
    if form and "Integer" in types and _INTEGER.fullmatch(value):
        return int(value)
    if form and "Float" in types and _FLOAT.fullmatch(value):
        return float(value)
    if form and "Boolean" in types and value in ("true", "false"):
        return value == "true"
    structured = any(t not in SIMPLE_TYPES and t != "InputFile" for t in types)
    if structured and value[:1] in ("[", "{"):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def decode_params(
    spec: MethodFacts | None, params: Mapping[str, Any], form: bool = True
) -> dict[str, Any]:
    """Decode every parameter by its declared types; unknown ones only when they look like JSON."""
    return {
        name: decode_value(
            spec.params[name].types if spec and name in spec.params else ("Object",), value, form
        )
        for name, value in params.items()
    }
