"""Request and response models: strict bodies, lenient query strings, unknown fields refused.

Two rules hold for every input, whatever its model says:
- No NUL character anywhere (Postgres cannot store one): 422 `nul_character` naming the field.
- Names and labels people type (`PlainText`) may not start like a spreadsheet formula (`= + - @`, a tab
  or a carriage return): 422 `spreadsheet_formula`. The database holds the same rule in CHECK constraints.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)
from pydantic_core import PydanticCustomError

from shared.platform.errors import BadRequestError, FieldError, ValidationFailedError

if TYPE_CHECKING:
    from shared.platform.unions import Root as Root
    from shared.platform.urls import WebUrl as WebUrl

M = TypeVar("M", bound=BaseModel)
NUL = "\x00"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
"""First characters that make a spreadsheet run a cell as a formula (OWASP's CSV injection list)."""
MAX_URL = 2048
_ISO_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}")


def starts_like_formula(value: str) -> bool:
    """Whether a spreadsheet would run `value` as a formula."""
    return value.startswith(FORMULA_START)


def safe_cell(value: str) -> str:
    """A cell a spreadsheet will not run as a formula: one starting with = + - @ (or tab/CR) gets a quote."""
    return "'" + value if starts_like_formula(value) else value


def _plain_text(value: str) -> str:
    if starts_like_formula(value):
        raise PydanticCustomError(
            "spreadsheet_formula",
            "may not start with =, +, -, @, a tab or a carriage return (a spreadsheet would run it)",
        )
    return value


def _iso_date_time(value: Any) -> Any:
    # Lenient query parsing would read "0.5" as a Unix timestamp; the contract says ISO 8601 date-time.
    if isinstance(value, str) and not _ISO_DATE_TIME.match(value):
        raise PydanticCustomError("datetime_format", "must be an ISO 8601 date-time with a time zone")
    return value


def _integral(value: Any) -> Any:
    # JSON has one number type: 5.0 is the integer 5 to a JSON schema, so it is to us.
    return int(value) if isinstance(value, float) and value.is_integer() else value


Integral = BeforeValidator(_integral)
"""Metadata for an integer body field, after its bounds: `Annotated[int, Field(ge=1), Integral]`.
Whole-valued numbers such as 5.0 are accepted, as JSON schema says they are integers."""
PlainText = Annotated[
    str,
    AfterValidator(_plain_text),
    Field(json_schema_extra={"pattern": r"^(?!\s*[=+\-@])"}),  # after trimming, no formula start
]
"""A name or label people type and others may export: refused when it starts like a formula."""
DateTimeParam = Annotated[AwareDatetime, BeforeValidator(_iso_date_time)]
"""A date-time query parameter: ISO 8601 with a time zone, never a bare number."""


class Body(BaseModel):
    """Base of every request body: strict types, unknown fields are an error."""

    model_config = ConfigDict(strict=True, extra="forbid", str_strip_whitespace=True, defer_build=True)


class Patch(Body):
    """Base of PATCH bodies: omitted fields stay as they are, and a body naming no field is refused.

    `{}` (and an empty body) is a 422 `empty_body`: a client that sends nothing to change has a bug
    it should hear about, and the contract says so (`minProperties: 1`).
    """

    model_config = ConfigDict(json_schema_extra={"minProperties": 1})

    @model_validator(mode="before")
    @classmethod
    def _names_a_field(cls, data: Any) -> Any:
        if isinstance(data, dict) and not data:
            raise PydanticCustomError("empty_body", "name at least one field to change")
        return data


def _not_null(value: Any) -> Any:
    if value is None:
        raise PydanticCustomError("not_null", "may be omitted, but not null")
    return value


def _without_null(schema: dict[str, Any]) -> None:
    branches = [branch for branch in schema.pop("anyOf", []) if branch != {"type": "null"}]
    if len(branches) == 1:
        schema.update(branches[0])
    elif branches:
        schema["anyOf"] = branches
    schema.pop("default", None)


NotNull = (AfterValidator(_not_null), Field(json_schema_extra=_without_null))
"""Metadata for a field that may be omitted (default None) but not sent as null:
`name: Annotated[Name | None, *NotNull] = None`. The contract shows it as not nullable."""


class Query(BaseModel):
    """Base of every query model: values arrive as strings and are converted; unknown keys are an error."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, defer_build=True)


class View(BaseModel):
    """Base of every response model."""

    model_config = ConfigDict(from_attributes=True, defer_build=True)


def field_errors(exc: ValidationError, prefix: str) -> list[FieldError]:
    """Pydantic errors as field errors; input values are never echoed (they may be secrets)."""
    errors = []
    for err in exc.errors(include_url=False, include_input=False, include_context=False):
        loc = ".".join(str(part) for part in (prefix, *err["loc"]))
        errors.append(FieldError(loc=loc, message=err["msg"], type=err["type"]))
    return errors


def _nul_paths(value: Any, path: tuple[str, ...]) -> Iterator[tuple[str, ...]]:
    if isinstance(value, str):
        if NUL in value:
            yield path
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _nul_paths(key, (*path, key)) if NUL in key else _nul_paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _nul_paths(item, (*path, str(index)))


def _nul_error(loc: str) -> FieldError:
    return FieldError(loc, "may not contain a NUL character", "nul_character")


def refuse_nul(values: Mapping[str, str], prefix: str) -> None:
    """422 `nul_character` naming every key or value of `values` (query, path, headers) holding a NUL."""
    errors = [_nul_error(f"{prefix}.{key}") for key, value in values.items() if NUL in key or NUL in value]
    if errors:
        raise ValidationFailedError(errors)


def _refuse_nul_in_json(raw: bytes) -> None:
    # A NUL can only arrive escaped (JSON forbids raw control characters), so most bodies skip the walk.
    if b"\\u0000" not in raw:
        return
    try:
        document = json.loads(raw)
    except ValueError:
        return  # not JSON: parsing says so
    errors = [_nul_error(".".join(("body", *path))) for path in _nul_paths(document, ())]
    if errors:
        raise ValidationFailedError(errors)


def parse_body(model: type[M], raw: bytes) -> M:
    """Parse a JSON body into `model`: 400 when it is not JSON, 422 naming every failing field."""
    if not raw.strip():
        raise ValidationFailedError([FieldError("body", "A JSON body is required.", "empty_body")])
    _refuse_nul_in_json(raw)
    try:
        return model.model_validate_json(raw)
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
    refuse_nul(params, "query")
    try:
        return model.model_validate(params)
    except ValidationError as exc:
        raise ValidationFailedError(field_errors(exc, "query")) from None


_ELSEWHERE = {"Root": "shared.platform.unions", "WebUrl": "shared.platform.urls"}
"""Names this module gives that live in modules of their own, loaded only when asked for (cold start)."""

if not TYPE_CHECKING:  # mypy reads the imports above; a module __getattr__ would make every typo Any

    def __getattr__(name: str) -> Any:
        """`Root` and `WebUrl`, loaded on first use: most functions declare neither."""
        if name not in _ELSEWHERE:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        from importlib import import_module

        return getattr(import_module(_ELSEWHERE[name]), name)
