"""The committed OpenAPI contract is generated from the code and valid OpenAPI 3.1."""

from __future__ import annotations

import json

from scripts.local.contract import CONTRACT_PATH, render


def test_committed_contract_matches_the_code() -> None:
    assert CONTRACT_PATH.read_text() == render(), (
        "run scripts/openapi and commit shared/contract/openapi.json"
    )


def test_contract_is_valid_openapi_31() -> None:
    from openapi_spec_validator import validate

    validate(json.loads(CONTRACT_PATH.read_text()))
