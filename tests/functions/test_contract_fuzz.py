"""The contract fuzzed against the running handlers (schemathesis): no 5xx, no answer the contract lacks.

Every operation of shared/contract/openapi.json is called in-process through the same ASGI gateway
`serve` mounts, against a real seeded database, as the seeded super admin (every guard admits them, so
requests reach the services). Valid and invalid inputs are generated from the contract; each response
must be documented (status, media type, body schema), invalid ones must be refused and valid ones not
refused as malformed. Deterministic (derandomized) and bounded: a few examples per operation.

Excluded, because they cannot run in-process or are not the contract's to fuzz:
- webhooks and auth-hook: every request must carry a provider signature over its exact body, which a
  generator cannot produce; their refusals are tested in test_webhooks.py / test_auth_hook.py.
- worker and maintenance (service key): they drain the queue and purge tables, work with side effects on
  the whole database rather than a request's input; tested in test_worker.py / test_maintenance.py.
- openapi: serves this very document.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, Phase, settings

from scripts.local.contract import CONTRACT_PATH
from tests.factories import ACME, SUPER, auth

schemathesis = pytest.importorskip("schemathesis")
from schemathesis.specs.openapi import checks as openapi_checks  # noqa: E402

EXCLUDED_FUNCTIONS = ("webhooks", "auth-hook", "worker", "maintenance", "openapi")
MAX_EXAMPLES = 10


def _schema() -> Any:
    import json

    from schemathesis.config import SchemathesisConfig

    config = SchemathesisConfig.from_dict(
        {
            "generation": {"allow-x00": False, "mode": "all"},
            "checks": {
                "positive_data_acceptance": {"expected-statuses": ["2xx", "401", "403", "404", "409", "410"]},
                # schemathesis's refusals plus 413: a generated body may outgrow the route's body limit
                # (a CI run sent /blocks an 11 MB array of pages), and 413 is that refusal, documented.
                "negative_data_rejection": {
                    "expected-statuses": [
                        "400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428", "429", "5xx"
                    ]
                },
            },
        }
    )
    schema = schemathesis.openapi.from_dict(json.loads(CONTRACT_PATH.read_text()), config=config)
    pattern = "^/functions/v1/(" + "|".join(EXCLUDED_FUNCTIONS) + ")(/|$)"
    return schema.exclude(path_regex=pattern)


SCHEMA = _schema()
CHECKS = [
    schemathesis.checks.not_a_server_error,
    openapi_checks.status_code_conformance,
    openapi_checks.content_type_conformance,
    openapi_checks.response_headers_conformance,
    openapi_checks.response_schema_conformance,
    openapi_checks.negative_data_rejection,
]
"""No 5xx; every answer documented; invalid input refused. Left out: checks that re-send requests over
the network (ignored_auth, use_after_free, …) and positive_data_acceptance, because input valid in form
may still be refused on meaning (an opaque cursor, a time zone name, another community's tag id), which
a JSON schema cannot state."""


@pytest.fixture(scope="module")
def runner() -> Iterator[asyncio.Runner]:
    """One event loop for the handlers and their pool across every generated case."""
    with asyncio.Runner() as loop:
        yield loop


@pytest.fixture
def gateway_client(runner: asyncio.Runner, gateway: Any, db: str) -> Iterator[httpx.AsyncClient]:
    from shared.platform.db import close_pool

    transport = httpx.ASGITransport(app=gateway, client=("203.0.113.9", 4000))
    client = httpx.AsyncClient(transport=transport, base_url="http://testserver")
    yield client
    runner.run(client.aclose())
    runner.run(close_pool())


async def _send(client: httpx.AsyncClient, case: Any) -> httpx.Response:
    kwargs = case.as_transport_kwargs(base_url="http://testserver", headers=auth(SUPER))
    request = {k: kwargs[k] for k in ("method", "url", "headers", "params", "cookies") if kwargs.get(k)}
    if "json" in kwargs:
        request["json"] = kwargs["json"]
    elif kwargs.get("data") is not None:
        request["content"] = kwargs["data"]
    return await client.request(**request)


@SCHEMA.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
    phases=[Phase.explicit, Phase.generate],
)
def test_contract_holds_for_generated_requests(
    case: Any, runner: asyncio.Runner, gateway_client: httpx.AsyncClient
) -> None:
    if case.meta.generation.mode.is_positive:
        _in_acme(case)
    response = runner.run(_send(gateway_client, case))
    case.validate_response(response, checks=CHECKS, headers=auth(SUPER))
    _valid_form_is_not_refused_for_its_form(case, response)


def _in_acme(case: Any) -> None:
    """Name a real community wherever the case names one (path, query or body): reach data, not only 404s."""
    for part in (case.path_parameters, case.query, case.body):
        if isinstance(part, dict) and "community_id" in part:
            part["community_id"] = ACME


FORM_ERRORS = {
    "missing",
    "extra_forbidden",
    "not_null",
    "empty_body",
    "string_type",
    "int_type",
    "int_parsing",
    "bool_type",
    "bool_parsing",
    "dict_type",
    "list_type",
    "model_type",
    "uuid_type",
    "uuid_parsing",
    "datetime_type",
    "datetime_parsing",
    "datetime_format",
    "timezone_aware",
    "string_too_short",
    "string_too_long",
    "too_short",
    "too_long",
    "string_pattern_mismatch",
    "spreadsheet_formula",
    "literal_error",
    "enum",
    "greater_than_equal",
    "less_than_equal",
}
"""Field error types that a JSON schema states: input the contract calls valid must never get one.

Not `nul_character`: the contract documents that refusal for every route (a 422 for a NUL anywhere),
and schemathesis's `allow-x00: false` does not keep NULs out of every nested position (an item deep in
an array of strings got one in a CI run)."""


def _valid_form_is_not_refused_for_its_form(case: Any, response: httpx.Response) -> None:
    """Contract nullability, lengths, patterns and required fields agree with the server's models."""
    if response.status_code != 422 or not case.meta.generation.mode.is_positive:
        return
    refused = [e for e in response.json().get("errors", []) if e["type"] in FORM_ERRORS]
    assert not refused, f"{case.method} {case.formatted_path}: valid by the contract, refused: {refused}"
