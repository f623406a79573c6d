"""Validate request bodies with pydantic and report errors the way DRF does: {field: [msg]}."""

from __future__ import annotations

import json
import typing
from typing import Any, TypeVar

import pydantic
from pydantic import BaseModel, ConfigDict

from pulpwood.errors import ValidationError

M = TypeVar("M", bound=BaseModel)

_MESSAGES = {
    "missing": "This field is required.",
    "string_type": "Not a valid string.",
    "int_parsing": "A valid integer is required.",
    "int_type": "A valid integer is required.",
    "float_parsing": "A valid number is required.",
    "bool_parsing": "Must be a valid boolean.",
    "bool_type": "Must be a valid boolean.",
    "dict_type": "Expected a dictionary of items.",
    "list_type": "Expected a list of items.",
}


class Body(BaseModel):
    """Base for request bodies: unknown keys are ignored, as DRF serializers ignore them."""

    model_config = ConfigDict(extra="ignore", arbitrary_types_allowed=True)


def _wants_json(annotation: Any) -> bool:
    origin = typing.get_origin(annotation)
    if origin in (dict, list):
        return True
    if annotation in (dict, list):
        return True
    return any(_wants_json(arg) for arg in typing.get_args(annotation))


def _message(error: dict) -> str:
    if error["type"] == "value_error":
        return str(error.get("ctx", {}).get("error", error["msg"]))
    if error["type"] in ("none_required",):
        return error["msg"]
    if error["type"].endswith("_type") and error.get("input") is None:
        return "This field may not be null."
    return _MESSAGES.get(error["type"], error["msg"])


def to_field_errors(exc: pydantic.ValidationError) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for error in exc.errors():
        loc = [str(part) for part in error["loc"] if not isinstance(part, int)] or ["non_field_errors"]
        errors.setdefault(loc[0], []).append(_message(error))
    return errors


def validate(model: type[M], data: dict[str, Any], *, base: dict[str, Any] | None = None) -> M:
    """Build `model` from a decoded body; form values carrying JSON are decoded first.

    For a partial update pass the object's current values as `base`; the body's keys win.
    `model_fields_set` of the result is then exactly the keys the client sent.
    """
    prepared = dict(data)
    for name, field in model.model_fields.items():
        value = prepared.get(name)
        if isinstance(value, str) and _wants_json(field.annotation):
            try:
                prepared[name] = json.loads(value)
            except json.JSONDecodeError:
                pass
    sent = set(prepared) & set(model.model_fields)
    try:
        result = model.model_validate({**(base or {}), **prepared})
    except pydantic.ValidationError as exc:
        raise ValidationError(to_field_errors(exc)) from None
    if base is not None:
        object.__setattr__(result, "__pydantic_fields_set__", sent)
    return result
