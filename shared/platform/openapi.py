"""OpenAPI 3.1 from the functions' own route tables and pydantic models.

The document is generated at build time (`scripts/openapi`) into `shared/contract/openapi.json`, which
the `openapi` function serves as a file; a test fails when the committed file and the code disagree.
So the contract is always generated from the code, and no function imports every other one at runtime.
"""

from __future__ import annotations

import re
import typing
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel

from shared.platform.http import PREFIX, Function, Route

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
    },
}
_PARAM = re.compile(r"\{([a-z_][a-z0-9_]*)(?::(uuid|str|int))?\}")
_PARAM_SCHEMA = {
    "uuid": {"type": "string", "format": "uuid"},
    "int": {"type": "integer"},
    "str": {"type": "string"},
}


def _ref(model: type[BaseModel], components: dict[str, Any]) -> dict[str, Any]:
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}", mode="serialization")
    for name, definition in schema.pop("$defs", {}).items():
        components[name] = definition
    components[model.__name__] = schema
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _response_model(route: Route) -> type[BaseModel] | None:
    hints = typing.get_type_hints(route.endpoint)
    result = hints.get("return")
    return result if isinstance(result, type) and issubclass(result, BaseModel) else None


def _problem(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }


def _operation(fn: Function, route: Route, components: dict[str, Any]) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "operationId": f"{fn.name}.{route.endpoint.__name__}",
        "summary": route.summary,
        "tags": [fn.name],
        "parameters": [
            {"name": name, "in": "path", "required": True, "schema": _PARAM_SCHEMA[kind or "str"]}
            for name, kind in _PARAM.findall(route.template)
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
    model = _response_model(route)
    ok: dict[str, Any] = {"description": "Success"}
    if model is not None:
        ok["content"] = {"application/json": {"schema": _ref(model, components)}}
    operation["responses"][str(route.status if route.status != 200 or model else 200)] = ok
    if route.auth != "public":
        operation["responses"]["401"] = _problem("Missing or invalid credentials")
        operation["responses"]["403"] = _problem("Not allowed for this caller")
    if route.body is not None or route.query is not None:
        operation["responses"]["422"] = _problem("Invalid input; `errors` lists every failing field")
    if route.rate_limit:
        operation["responses"]["429"] = _problem("Rate limited; see Retry-After")
    operation["responses"]["default"] = _problem("Problem details")
    return operation


def build_document(functions: Iterable[Function], *, version: str) -> dict[str, Any]:
    """The OpenAPI 3.1 document for these functions."""
    components: dict[str, Any] = {"Problem": PROBLEM_SCHEMA}
    paths: dict[str, Any] = {}
    for fn in sorted(functions, key=lambda f: f.name):
        for route in fn.routes:
            template = _PARAM.sub(lambda m: "{" + m.group(1) + "}", route.template)
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
