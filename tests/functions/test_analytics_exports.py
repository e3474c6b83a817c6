"""`analytics` exports through the real handler: CSV of each view, formula-safe, and the SVG chart."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import httpx
import pytest

from scripts.local.stack import LOCAL_SECRET_KEY
from shared.analytics.schemas import today
from tests.analytics_rows import completion
from tests.content_helpers import make_item
from tests.factories import ACME, ACME_ADMIN, ACME_LENA, GLOBEX, GLOBEX_ADMIN, GLOBEX_GINA, auth
from tests.helpers import Sql, assert_problem

DAY = today() - timedelta(days=2)
SPAN = {"from": (DAY - timedelta(days=1)).isoformat(), "to": DAY.isoformat()}


@pytest.fixture
async def rolled(client: httpx.AsyncClient, sql: Sql) -> str:
    """Lena (e-mail starting with `=`) completes an item titled like a formula; Globex's Gina another."""
    sql("update public.profiles set email = '=HYPERLINK(\"http://x\")@acme.example.com' where id = %s", (ACME_LENA,))
    item = make_item(sql, ACME, title="@SUM(A1)", status="published")
    completion(sql, ACME_LENA, ACME, item, f"{DAY} 10:00+00", seconds=300)
    completion(sql, GLOBEX_GINA, GLOBEX, make_item(sql, GLOBEX, status="published"), f"{DAY} 10:00+00")
    response = await client.post(
        "/analytics/run", json=SPAN, headers={"Authorization": f"Bearer {LOCAL_SECRET_KEY}"}
    )
    assert response.status_code == 200, response.text
    return item


def table(response: httpx.Response) -> list[list[str]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"].startswith("attachment; filename=")
    assert response.headers["x-content-type-options"] == "nosniff"
    return list(csv.reader(io.StringIO(response.text)))


async def test_the_series_exports_one_row_per_day(client: httpx.AsyncClient, rolled: str) -> None:
    rows = table(await client.get("/analytics/series.csv", params={"community_id": ACME, **SPAN},
                                  headers=auth(ACME_ADMIN)))
    assert rows[0][:3] == ["completions", "minutes", "quiz_attempts"]
    assert [r[rows[0].index("day")] for r in rows[1:]] == [SPAN["from"], SPAN["to"]]
    assert rows[2][rows[0].index("completions")] == "1"


async def test_exported_cells_never_start_like_a_formula(client: httpx.AsyncClient, rolled: str) -> None:
    learners = table(await client.get("/analytics/learners.csv", params={"community_id": ACME, **SPAN},
                                      headers=auth(ACME_ADMIN)))
    assert learners[1][learners[0].index("email")] == "'=HYPERLINK(\"http://x\")@acme.example.com"
    content = table(await client.get("/analytics/content.csv", params={"community_id": ACME, **SPAN},
                                     headers=auth(ACME_ADMIN)))
    assert content[1][content[0].index("title")] == "'@SUM(A1)"
    assert all(not cell.startswith(("=", "+", "-", "@", "\t", "\r")) for row in learners + content for cell in row)


async def test_an_export_keeps_to_the_admins_community(client: httpx.AsyncClient, rolled: str) -> None:
    rows = table(await client.get("/analytics/learners.csv", params={"community_id": GLOBEX, **SPAN},
                                  headers=auth(GLOBEX_ADMIN)))
    assert [r[0] for r in rows[1:]] == [GLOBEX_GINA]
    other = await client.get("/analytics/learners.csv", params={"community_id": ACME, **SPAN},
                             headers=auth(GLOBEX_ADMIN))
    assert other.status_code in (403, 404)
    assert "acme.example.com" not in other.text


async def test_an_empty_export_still_has_its_header(client: httpx.AsyncClient, rolled: str) -> None:
    rows = table(await client.get("/analytics/at-risk.csv", params={"community_id": ACME, **SPAN},
                                  headers=auth(ACME_ADMIN)))
    assert rows == [["community_id", "user_id", "first_name", "last_name", "email", "reason", "detail",
                     "last_active_day", "completions", "previous_completions"]]


async def test_a_series_is_drawn_as_svg(client: httpx.AsyncClient, rolled: str) -> None:
    response = await client.get("/analytics/chart.svg", params={"community_id": ACME, "metric": "minutes", **SPAN},
                                headers=auth(ACME_ADMIN))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/svg+xml"
    svg = response.text
    assert svg.startswith('<svg xmlns="http://www.w3.org/2000/svg"')
    assert "minutes per day (UTC)" in svg
    points = svg.split('points="')[1].split('"')[0].split()
    assert len(points) == 2
    assert points[1].endswith(",28.0")  # the second day is the top of the plot: 5 minutes of 5


async def test_an_unknown_metric_is_refused(client: httpx.AsyncClient, rolled: str) -> None:
    response = await client.get("/analytics/chart.svg", params={"community_id": ACME, "metric": "salary"},
                                headers=auth(ACME_ADMIN))
    body = assert_problem(response, 422, "validation_failed")
    assert body["errors"][0]["loc"] == "query.metric"
