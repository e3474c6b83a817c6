"""Request and response models: strict bodies, lenient query strings, unknown fields refused."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from shared.platform.errors import BadRequestError, FieldError, ValidationFailedError

M = TypeVar("M", bound=BaseModel)


class Body(BaseModel):
    """Base of every request body: strict types, unknown fields are an error."""

    model_config = ConfigDict(strict=True, extra="forbid", str_strip_whitespace=True)


class Query(BaseModel):
    """Base of every query model: values arrive as strings and are converted; unknown keys are an error."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class View(BaseModel):
    """Base of every response model."""

    model_config = ConfigDict(from_attributes=True)


def field_errors(exc: ValidationError, prefix: str) -> list[FieldError]:
    """Pydantic errors as field errors; input values are never echoed (they may be secrets)."""
    errors = []
    for err in exc.errors(include_url=False, include_input=False, include_context=False):
        loc = ".".join(str(part) for part in (prefix, *err["loc"]))
        errors.append(FieldError(loc=loc, message=err["msg"], type=err["type"]))
    return errors


def parse_body(model: type[M], raw: bytes) -> M:
    """Parse a JSON body into `model`: 400 when it is not JSON, 422 naming every failing field."""
    try:
        return model.model_validate_json(raw or b"{}")
    except ValidationError as exc:
        if any(err["type"] == "json_invalid" for err in exc.errors()):
            raise BadRequestError("The request body is not valid JSON.") from None
        if any(err["type"] == "model_type" and not err["loc"] for err in exc.errors()):
            raise ValidationFailedError(
                [FieldError("body", "The body must be a JSON object.", "model_type")]
            ) from None
        raise ValidationFailedError(field_errors(exc, "body")) from None


def parse_query(model: type[M], params: dict[str, Any]) -> M:
    """Parse query parameters into `model`, or 422 naming every failing parameter."""
    try:
        return model.model_validate(params)
    except ValidationError as exc:
        raise ValidationFailedError(field_errors(exc, "query")) from None
