"""The load generator used when wrk is not installed: keep-alive HTTP/1.1 over asyncio streams.

    python -m scripts.local.bench.loadgen URL [--duration 3] [--concurrency 32]

Run in a process of its own (method, headers, body or bodies come as JSON on stdin); prints one JSON
LoadResult. An httpx.AsyncClient tops out near 500 req/s on one core, so it would measure itself
rather than the server; this reaches roughly wrk's hello-world figure.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import re
import sys
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from urllib.parse import urlsplit

from scripts.local.bench.throughput import LoadResult

_CONTENT_LENGTH = re.compile(rb"^content-length:\s*(\d+)", re.M)
_ETAG = re.compile(rb"^etag:\s*([^\r\n]+)", re.M | re.I)


def etag_of(head: bytes) -> str | None:
    """The ETag of a response head, if it has one."""
    found = _ETAG.search(head)
    return None if found is None else found.group(1).decode().strip()


async def _read_response(reader: asyncio.StreamReader, requests: Requests) -> tuple[int, bool]:
    """Read one HTTP/1.1 response (Content-Length or chunked body); its status and whether it closes."""
    head = await reader.readuntil(b"\r\n\r\n")
    if requests.chain_etag:
        requests.if_match = etag_of(head) or requests.if_match
    status = int(head[9:12])
    lower = head.lower()
    length = _CONTENT_LENGTH.search(lower)
    if length is not None:
        await reader.readexactly(int(length.group(1)))
    elif b"transfer-encoding: chunked" in lower:
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    return status, b"connection: close" in lower


class Requests:
    """The bytes of each request: fixed for a request without a body, else `{n}` made unique each time;
    with `bodies`, the next of them (over every connection).

    With `chain_etag`, each request sends the ETag of the previous answer as If-Match (the first one the
    If-Match of `headers`); meant for one connection.
    """

    def __init__(
        self,
        url: str,
        method: str,
        headers: Mapping[str, str],
        body: str | None,
        *,
        chain_etag: bool = False,
        bodies: Sequence[str] = (),
    ) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        target = f"{parts.path or '/'}{'?' + parts.query if parts.query else ''}"
        lines = [f"{method} {target} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        self.chain_etag = chain_etag
        self.if_match = headers.get("If-Match") if chain_etag else None
        kept = {k: v for k, v in headers.items() if not (chain_etag and k == "If-Match")}
        self.head = "\r\n".join(lines + [f"{k}: {v}" for k, v in kept.items()])
        self.body = body
        self.bodies = [text.encode() for text in bodies]
        self.sent = 0
        self.prefix = uuid.uuid4().hex[:8]
        fixed = body is None and not bodies and not chain_etag
        self.fixed = (self.head + "\r\n\r\n").encode() if fixed else None

    def next(self, worker: int, count: int) -> bytes:
        """The next request of `worker`, its `count`-th."""
        if self.fixed is not None:
            return self.fixed
        head = self.head if self.if_match is None else f"{self.head}\r\nIf-Match: {self.if_match}"
        if self.bodies:
            body = self.bodies[self.sent % len(self.bodies)]
            self.sent += 1
            return (head + f"\r\nContent-Length: {len(body)}\r\n\r\n").encode() + body
        if self.body is None:
            return (head + "\r\n\r\n").encode()
        body = self.body.replace("{n}", f"{self.prefix}-{worker}-{count}").encode()
        return (head + f"\r\nContent-Length: {len(body)}\r\n\r\n").encode() + body


async def generate(requests: Requests, duration_s: float, concurrency: int) -> LoadResult:
    """Send requests over `concurrency` connections for `duration_s`; what they measured."""
    latencies: list[float] = []
    counts = {"non_2xx": 0, "errors": 0}
    deadline = time.perf_counter() + duration_s

    async def worker(number: int) -> None:
        writer: asyncio.StreamWriter | None = None
        sent = 0
        while time.perf_counter() < deadline:
            try:
                if writer is None:
                    reader, writer = await asyncio.open_connection(requests.host, requests.port)
                sent += 1
                started = time.perf_counter()
                writer.write(requests.next(number, sent))
                status, closes = await _read_response(reader, requests)
            except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
                counts["errors"] += 1
                writer = None
                continue
            latencies.append((time.perf_counter() - started) * 1000)
            if not 200 <= status < 400:
                counts["non_2xx"] += 1
            if closes:
                writer.close()
                writer = None
        if writer is not None:
            writer.close()

    began = time.perf_counter()
    await asyncio.gather(*(worker(n) for n in range(concurrency)))
    seconds = time.perf_counter() - began
    ordered = sorted(latencies) or [0.0]
    return LoadResult(
        tool="python-asyncio",
        requests=len(latencies),
        seconds=round(seconds, 3),
        rps=round(len(latencies) / seconds, 1),
        p50_ms=round(ordered[int(0.50 * (len(ordered) - 1))], 3),
        p99_ms=round(ordered[int(0.99 * (len(ordered) - 1))], 3),
        non_2xx=counts["non_2xx"],
        errors=counts["errors"],
    )


def main(argv: list[str] | None = None) -> int:
    """`loadgen URL`: drive URL and print the result as JSON."""
    parser = argparse.ArgumentParser(prog="loadgen")
    parser.add_argument("url")
    parser.add_argument("--duration", type=float, default=3.0)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args(argv)
    spec = json.loads(sys.stdin.read() or "{}")
    requests = Requests(
        args.url,
        spec.get("method", "GET"),
        spec.get("headers", {}),
        spec.get("body"),
        chain_etag=spec.get("chain_etag", False),
        bodies=spec.get("bodies", ()),
    )
    with contextlib.suppress(ImportError):
        import uvloop

        uvloop.install()
    result = asyncio.run(generate(requests, args.duration, args.concurrency))
    sys.stdout.write(json.dumps(asdict(result)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
