"""CSV exports of the dashboard views: streamed in chunks, every cell safe from spreadsheet formulas."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from pydantic import BaseModel
from starlette.responses import StreamingResponse

from shared.platform.validation import safe_cell

CHUNK_ROWS = 500


def cell(value: Any) -> str:
    """A value as a CSV cell: empty for null, text neutralised where a spreadsheet would run it."""
    if value is None:
        return ""
    return safe_cell(str(value))


def lines(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[str]:
    """The CSV text in chunks of CHUNK_ROWS rows, the header first, CRLF line ends."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for n, row in enumerate(rows, start=1):
        writer.writerow([cell(v) for v in row])
        if n % CHUNK_ROWS == 0:
            yield out.getvalue()
            out.seek(0)
            out.truncate()
    yield out.getvalue()


def csv_response(name: str, model: type[BaseModel], items: Sequence[BaseModel]) -> StreamingResponse:
    """The items (of `model`) as a CSV download named `name`.csv, one column per field, the header always."""
    header = list(model.model_fields)
    rows = ([getattr(item, f) for f in header] for item in items)
    return StreamingResponse(
        lines(header, rows),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{name}.csv"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )
