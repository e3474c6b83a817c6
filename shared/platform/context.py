"""What a route receives besides its parsed inputs: the request, the caller and the transaction."""

from __future__ import annotations

from dataclasses import dataclass, field

from starlette.requests import Request

from shared.platform.auth import Principal, ServiceCaller
from shared.platform.config import Settings
from shared.platform.db import Row, Tx
from shared.platform.errors import UnauthenticatedError


@dataclass(slots=True)
class Context:
    """What a route receives besides its parsed inputs: the request, the caller and the transaction."""

    request: Request
    request_id: str
    settings: Settings
    principal: Principal | None = None
    service: ServiceCaller | None = None
    tx: Tx | None = None
    response_headers: dict[str, str] = field(default_factory=dict)
    replay_body: bytes | None = None
    """What an idempotent replay sends instead of this response's body (e.g. without a secret shown once)."""
    read_rows: list[Row] | None = None
    """The rows of the route's declared `read=` query (run with the opening, as the caller)."""
    prefetched: tuple[list[list[Row]], list[list[Row]]] | None = None
    """The rows of the route's `prefetch=` statements (run with the opening): the caller's, the platform's."""

    @property
    def user(self) -> Principal:
        """The signed-in caller (routes with auth="user" always have one)."""
        if self.principal is None:
            raise UnauthenticatedError()
        return self.principal

    @property
    def rows(self) -> list[Row]:
        """The rows of the route's `read=` query (routes that declare one always have them)."""
        if self.read_rows is None:
            raise RuntimeError("this route declares no read= query")
        return self.read_rows

    @property
    def reads(self) -> tuple[list[list[Row]], list[list[Row]]]:
        """The rows of the route's `prefetch=` statements (routes that declare them always have them)."""
        if self.prefetched is None:
            raise RuntimeError("this route declares no prefetch=")
        return self.prefetched

    @property
    def db(self) -> Tx:
        """The request's transaction (routes that declare one always have it)."""
        if self.tx is None:
            raise RuntimeError("this route has no database transaction")
        return self.tx


def client_ip(request: Request, trusted_proxy_hops: int = 0) -> str:
    """The caller's address: the socket peer, or the entry the last trusted proxy appended to XFF."""
    if trusted_proxy_hops > 0:
        hops = [
            part.strip() for part in request.headers.get("x-forwarded-for", "").split(",") if part.strip()
        ]
        if len(hops) >= trusted_proxy_hops:
            return hops[-trusted_proxy_hops]
    return request.client.host if request.client else "unknown"
