"""`scripts/webhook`: every sample delivery is signed the way the local stack's functions accept."""

from __future__ import annotations

import os

import httpx
import pytest

from scripts.local.webhooks import SAMPLES, delivery
from tests.helpers import Sql


@pytest.mark.parametrize(("provider", "event"), sorted(SAMPLES))
async def test_sample_delivery_is_accepted_by_the_local_stack(
    client: httpx.AsyncClient, sql: Sql, provider: str, event: str
) -> None:
    path, body, headers = delivery(provider, event, os.environ)
    response = await client.post(path.removeprefix("/functions/v1"), content=body, headers=headers)
    assert response.status_code in (200, 202), response.text  # the video provider is answered 202
    assert response.json() != {"status": "duplicate"}


async def test_each_delivery_is_a_new_event_not_a_duplicate(client: httpx.AsyncClient, sql: Sql) -> None:
    for _ in range(2):
        path, body, headers = delivery("stripe", "subscription.updated", os.environ)
        response = await client.post(path.removeprefix("/functions/v1"), content=body, headers=headers)
        assert response.json() == {"status": "accepted"}
    assert sql("select count(*) as n from app.webhook_events where provider = 'stripe'") == [{"n": 2}]


def test_unknown_sample_names_the_ones_there_are() -> None:
    with pytest.raises(KeyError, match=r"subscription\.updated"):
        delivery("stripe", "charge.refunded", os.environ)
