"""Render the OpenAPI contract of every function in `functions/`."""

from __future__ import annotations

import json
from pathlib import Path

import shared
from scripts.local.functions import discover, load
from shared.platform.openapi import build_document

CONTRACT_PATH = Path(shared.__file__).resolve().parent / "contract" / "openapi.json"


def render() -> str:
    """The contract as the JSON text committed in shared/contract/openapi.json."""
    functions = [load(name).fn for name in discover()]
    return json.dumps(build_document(functions, version=shared.__version__), indent=2, sort_keys=False) + "\n"
