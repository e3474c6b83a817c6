"""OpenAPI 3.1 from the functions' own route tables and pydantic models.

The document is generated at build time (`scripts/openapi`) into `shared/contract/openapi.json`, which
the `openapi` function serves as a file; a test fails when the committed file and the code disagree.
So the contract is always generated from the code, and no function imports every other one at runtime.
"""

from __future__ import annotations

import inspect
import types
import typing
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel
from starlette.convertors import Convertor, FloatConvertor, IntegerConvertor, UUIDConvertor
from starlette.responses import Response

from shared.platform.http import Function
from shared.platform.responses import Reply
from shared.platform.routing import PREFIX, Route

PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "RFC 9457 problem details with a stable machine code.",
    "required": ["type", "title", "status", "detail", "code", "request_id"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "code": {"type": "string"},
        "request_id": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "loc": {"type": "string"},
                    "message": {"type": "string"},
                    "type": {"type": "string"},
                },
            },
        },
        "failures": {
            "type": "array",
            "description": "A refused bulk operation (bulk_refused): each item that stopped it, with its code",
            "items": {
                "type": "object",
                "properties": {"id": {"type": "string", "format": "uuid"}, "code": {"type": "string"}},
            },
        },
    },
}
_PARAM_SCHEMA: dict[type[Convertor[Any]], dict[str, str]] = {
    UUIDConvertor: {"type": "string", "format": "uuid"},
    IntegerConvertor: {"type": "integer"},
    FloatConvertor: {"type": "number"},
}
"""A path parameter's schema by its Starlette convertor; any other is a string."""


def _ref(model: type[BaseModel], components: dict[str, Any]) -> dict[str, Any]:
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}", mode="serialization")
    for name, definition in schema.pop("$defs", {}).items():
        components[name] = definition
    components[model.__name__] = schema
    return {"$ref": f"#/components/schemas/{model.__name__}"}


PROBLEM_STATUSES = {
    400: "The body is not valid JSON, or a header is malformed",
    401: "Missing or invalid credentials",
    403: "Not allowed for this caller, or the account is deactivated",
    404: "No such resource, or none the caller may see",
    409: "Conflicts with the current state: a rule, a duplicate, or the same Idempotency-Key in flight",
    413: "The body is larger than this function accepts",
    415: "The body is not of a media type this route accepts",
    422: "Invalid input; `errors` lists every failing field",
    429: "Rate limited; see Retry-After",
    503: "The database or a provider is unavailable; retry after Retry-After",
}


def _returns(route: Route) -> Any:
    return typing.get_type_hints(route.endpoint).get("return")


def _response_model(route: Route) -> type[BaseModel] | None:
    result = _returns(route)
    if isinstance(result, types.UnionType) or typing.get_origin(result) is typing.Union:
        # `Reply[View] | Response`: the Response is a bodiless answer (a 304) the route documents itself.
        bodies = [arg for arg in typing.get_args(result) if arg is not Response]
        result = bodies[0] if len(bodies) == 1 else None
    if typing.get_origin(result) is Reply:
        result = typing.get_args(result)[0]
    return result if isinstance(result, type) and issubclass(result, BaseModel) else None


def _problem_statuses(route: Route) -> set[int]:
    """What the platform itself may answer on this route, from how the route is declared."""
    statuses = {422}  # unknown query parameters, NUL characters: any route
    if route.body or route.raw_types or route.webhook or route.idempotent:
        statuses |= {400, 413}
    if route.body or route.raw_types:
        statuses.add(415)
    if route.auth != "public":
        statuses.add(401)
    if route.auth == "user":
        statuses.add(403)
    if route.convertors:
        statuses.add(404)
    if route.method != "GET" and route.tx is not None:
        statuses.add(409)
    if route.rate_limit:
        statuses.add(429)
    if route.tx is not None or route.auth != "public":
        statuses.add(503)
    return statuses


def _problem(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }


def _operation(fn: Function, route: Route, components: dict[str, Any]) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "operationId": f"{fn.name}.{route.endpoint.__name__}",
        # Summaries are plain text in every viewer; the docstring, in markdown, is the description.
        "summary": route.summary.replace("`", ""),
        "description": inspect.cleandoc(route.endpoint.__doc__ or ""),
        "tags": [fn.name],
        "parameters": [
            {
                "name": name,
                "in": "path",
                "required": True,
                "schema": _PARAM_SCHEMA.get(type(convertor), {"type": "string"}),
            }
            for name, convertor in route.convertors.items()
        ],
        "responses": {},
    }
    if route.auth == "user":
        operation["security"] = [{"bearerAuth": []}]
    elif route.auth == "service":
        operation["security"] = [{"serviceKey": []}]
    elif route.auth == "webhook":
        operation["security"] = [{"webhookSignature": []}]
    else:
        operation["security"] = []
    if route.query is not None:
        properties = route.query.model_json_schema(ref_template="#/components/schemas/{model}")["properties"]
        for name, field in route.query.model_fields.items():
            key = field.alias or name  # a keyword such as `from` is declared as `from_` with an alias
            schema = {k: v for k, v in properties.get(key, {}).items() if k != "title"}
            operation["parameters"].append(
                {
                    "name": key,
                    "in": "query",
                    "required": field.is_required(),
                    "description": field.description or "",
                    "schema": schema,
                }
            )
    content: dict[str, Any] = {}
    if route.body is not None:
        content["application/json"] = {"schema": _ref(route.body, components)}
    for media_type in route.raw_types:
        content[media_type] = {"schema": {"type": "string"}}
    if content:
        operation["requestBody"] = {"required": True, "content": content}
    operation["responses"] = _responses(route, components)
    return operation


def _responses(route: Route, components: dict[str, Any]) -> dict[str, Any]:
    """Every status the route answers: its successes (204 without a body), then its problems."""
    model = _response_model(route)
    is_empty = _returns(route) is type(None)
    success = 204 if is_empty and route.status == 200 else route.status
    declared = {success: "Success", **route.responses}
    responses: dict[str, Any] = {}
    for status in sorted(declared):
        description = declared[status]
        if status == 304:
            responses[str(status)] = {"description": f"{description}; no body"}
        elif status >= 300:
            responses[str(status)] = _problem(description)
        elif status == 204 or is_empty:
            responses[str(status)] = {"description": f"{description}; no body"}
        elif model is not None:
            schema = {"schema": _ref(model, components)}
            responses[str(status)] = {"description": description, "content": {"application/json": schema}}
        else:
            responses[str(status)] = {"description": description}
    for status in sorted(_problem_statuses(route) - set(declared)):
        responses[str(status)] = _problem(PROBLEM_STATUSES[status])
    responses = dict(sorted(responses.items()))
    responses["default"] = _problem("Problem details (500: an unexpected error, named by its request id)")
    return responses


def build_document(functions: Iterable[Function], *, version: str) -> dict[str, Any]:
    """The OpenAPI 3.1 document for these functions."""
    components: dict[str, Any] = {"Problem": PROBLEM_SCHEMA}
    paths: dict[str, Any] = {}
    for fn in sorted(functions, key=lambda f: f.name):
        for route in fn.routes:
            template = route.path_format
            path = f"{PREFIX}/{fn.name}" + ("" if template == "/" else template)
            paths.setdefault(path, {})[route.method.lower()] = _operation(fn, route, components)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "AI GYM backend",
            "version": version,
            "description": "Serverless functions of the AI GYM learning platform. Errors are RFC 9457 problems.",
        },
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": dict(sorted(components.items())),
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT (Supabase access token)",
                },
                "serviceKey": {"type": "http", "scheme": "bearer", "description": "The project's secret key"},
                "webhookSignature": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "webhook-signature",
                    "description": "The provider's signature over the raw body (Standard Webhooks, or Stripe-Signature)",
                },
            },
        },
    }
